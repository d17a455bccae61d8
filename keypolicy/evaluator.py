"""Decide one KMS request against a key policy, the way AWS documents it.

1. A Deny statement that applies (principal, action, resource, condition) wins: EXPLICIT_DENY.
2. Otherwise an Allow statement that names the caller itself (or `*`) allows: ALLOW.
3. Otherwise an Allow statement that names the caller's account delegates to IAM: VIA_IAM
   (allowed only if the caller's identity policies allow it too).
4. Otherwise nothing allows it: IMPLICIT_DENY.

The whole policy is parsed and checked before any decision, so an element, operator,
condition key or principal type the evaluator does not understand is a PolicyError even in
a statement that would not have applied.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from .actions import actions_matching, canonical_action, check_action_pattern
from .conditions import Clause, normalize_context, parse_condition
from .errors import PolicyError
from .principals import Caller, Match, PrincipalSpec, parse_caller, parse_principal
from .wildcard import compile_wildcard

SUPPORTED_VERSIONS = ("2012-10-17", "2008-10-17")
_POLICY_ELEMENTS = frozenset({"Version", "Id", "Statement"})
_STATEMENT_ELEMENTS = frozenset(
    {
        "Sid",
        "Effect",
        "Principal",
        "NotPrincipal",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Condition",
    }
)


class Outcome(enum.Enum):
    ALLOW = "allow"
    VIA_IAM = "via-iam"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    statement_id: str | None
    """The deciding statement's Sid, or `Statement[i]` when it has none; None for IMPLICIT_DENY."""
    condition: Mapping[str, Any] = field(default_factory=dict)
    """The deciding statement's Condition element as written (empty when it has none)."""


@dataclass(frozen=True, slots=True)
class CompiledStatement:
    """One statement, parsed and checked."""

    index: int
    sid: str | None
    allow: bool
    principal: PrincipalSpec
    not_principal: bool
    actions: frozenset[str]
    """Every KMS action (lower-cased) the Action/NotAction patterns name."""
    not_action: bool
    resources: tuple[str, ...]
    not_resource: bool
    clauses: tuple[Clause, ...]
    condition: Mapping[str, Any]

    @property
    def label(self) -> str:
        return self.sid if self.sid else f"Statement[{self.index}]"

    def principal_match(self, caller: Caller) -> Match | None:
        if self.not_principal:
            return None if self.principal.excludes(caller) else Match.DIRECT
        return self.principal.match(caller)

    def action_matches(self, action_lower: str) -> bool:
        return (action_lower in self.actions) != self.not_action

    def resource_matches(self, resource: str | None) -> bool:
        if resource is None:
            if all(r == "*" for r in self.resources):
                return not self.not_resource
            raise PolicyError(
                f"{self.label}: Resource {list(self.resources)!r} names specific keys; "
                "pass resource= (the key ARN) to decide"
            )
        matched = any(_resource_like(p, resource) for p in self.resources)
        return matched != self.not_resource

    def conditions_hold(self, context: Mapping[str, tuple[str, ...]]) -> bool:
        return all(clause.holds(context) for clause in self.clauses)


def _resource_like(pattern: str, resource: str) -> bool:
    if pattern == "*":
        return True
    pattern_parts = pattern.split(":", 5)
    resource_parts = resource.split(":", 5)
    if len(pattern_parts) != len(resource_parts):
        return False
    return all(
        compile_wildcard(p).fullmatch(r) is not None
        for p, r in zip(pattern_parts, resource_parts, strict=True)
    )


def _one_of(raw: Mapping[str, Any], names: tuple[str, str], where: str) -> tuple[str, bool]:
    present = [n for n in names if n in raw]
    if len(present) != 1:
        raise PolicyError(f"{where} needs exactly one of {names[0]} or {names[1]}")
    return present[0], present[0] == names[1]


def _string_list(value: object, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not items:
        raise PolicyError(f"{what} must be a string or a non-empty list of strings")
    for item in items:
        if not isinstance(item, str) or not item:
            raise PolicyError(f"{what} has a value that is not a non-empty string: {item!r}")
    return items


def _parse_statement(
    index: int, raw: object, version: str, service: str = "kms"
) -> CompiledStatement:
    where = f"Statement[{index}]"
    if not isinstance(raw, Mapping):
        raise PolicyError(f"{where} must be a map, got {type(raw).__name__}")
    unknown = set(raw) - _STATEMENT_ELEMENTS
    if unknown:
        raise PolicyError(f"{where}: unknown element(s) {sorted(unknown)}")
    sid = raw.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}: Sid must be a string, got {sid!r}")
    where = sid or where
    effect = raw.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f"{where}: Effect must be 'Allow' or 'Deny', got {effect!r}")
    principal_name, not_principal = _one_of(raw, ("Principal", "NotPrincipal"), where)
    principal = parse_principal(raw[principal_name], principal_name)
    if not_principal and effect == "Allow":
        raise PolicyError(
            f"{where}: NotPrincipal with Allow is not supported (it grants every other "
            "principal, anonymous ones included)"
        )
    action_name, not_action = _one_of(raw, ("Action", "NotAction"), where)
    actions = actions_matching(
        tuple(
            check_action_pattern(a, service)
            for a in _string_list(raw[action_name], f"{where}.{action_name}")
        ),
        service,
    )
    if service == "sts":
        # A trust policy is attached to its role: it has no Resource (IAM rejects one).
        if "Resource" in raw or "NotResource" in raw:
            raise PolicyError(f"{where}: a trust policy statement has no Resource element")
        resources: tuple[str, ...] = ("*",)
        not_resource = False
    else:
        resource_name, not_resource = _one_of(raw, ("Resource", "NotResource"), where)
        resources = tuple(_string_list(raw[resource_name], f"{where}.{resource_name}"))
    condition = raw.get("Condition", {})
    clauses = parse_condition(condition, version, service) if "Condition" in raw else ()
    return CompiledStatement(
        index=index,
        sid=sid or None,
        allow=effect == "Allow",
        principal=principal,
        not_principal=not_principal,
        actions=actions,
        not_action=not_action,
        resources=resources,
        not_resource=not_resource,
        clauses=clauses,
        condition=condition,
    )


@dataclass(frozen=True, slots=True)
class CompiledPolicy:
    """A key policy parsed and checked once, ready to decide many requests."""

    statements: tuple[CompiledStatement, ...]
    service: str = "kms"
    """`kms` for a key policy, `sts` for a role trust policy."""

    def applicable(
        self, caller: Caller, action: str, resource: str | None
    ) -> list[tuple[CompiledStatement, Match]]:
        """Statements whose principal, action and resource match, conditions not yet tested."""
        action_lower = action.lower()
        found = []
        for statement in self.statements:
            if not statement.action_matches(action_lower):
                continue
            match = statement.principal_match(caller)
            if match is None:
                continue
            if statement.resource_matches(resource):
                found.append((statement, match))
        return found

    def decide(
        self,
        principal: str,
        action: str,
        context: Mapping[str, object] | None = None,
        *,
        resource: str | None = None,
    ) -> Decision:
        caller = parse_caller(principal)
        canonical = canonical_action(action, self.service)
        request_context = request_context_for(caller, context)
        allow: CompiledStatement | None = None
        delegate: CompiledStatement | None = None
        for statement, match in self.applicable(caller, canonical, resource):
            if not statement.conditions_hold(request_context):
                continue
            if not statement.allow:
                return _decision(Outcome.EXPLICIT_DENY, statement)
            if match is Match.DIRECT:
                allow = allow or statement
            else:
                delegate = delegate or statement
        if allow is not None:
            return _decision(Outcome.ALLOW, allow)
        if delegate is not None:
            return _decision(Outcome.VIA_IAM, delegate)
        return Decision(Outcome.IMPLICIT_DENY, None)


def _decision(outcome: Outcome, statement: CompiledStatement) -> Decision:
    return Decision(outcome, statement.label, statement.condition)


def request_context_for(
    caller: Caller, context: Mapping[str, object] | None
) -> dict[str, tuple[str, ...]]:
    """The request context AWS would build: the given keys, plus the caller's own keys.

    AWS always sets `aws:PrincipalArn`, `aws:PrincipalAccount` and `kms:CallerAccount` from
    the caller; given values win (pass `aws:PrincipalArn` explicitly for a session of a role
    that has a path, since a session ARN does not carry the role's path).
    """
    request_context = normalize_context(context)
    derived = {
        "aws:principalarn": caller.principal_arn,
        "aws:principalaccount": caller.account,
        "kms:calleraccount": caller.account,
    }
    for key, value in derived.items():
        if value is not None and key not in request_context:
            request_context[key] = (value,)
    return request_context


def compile_policy(policy: Mapping[str, Any] | str, *, service: str = "kms") -> CompiledPolicy:
    """Parse and check a key policy (a parsed JSON document, or its JSON text).

    With `service="sts"` the document is a role's trust policy: actions are STS actions
    (sts:AssumeRole, sts:TagSession, sts:SetSourceIdentity), statements have no Resource, and
    condition keys are STS and global keys. Everything else is judged the same way.
    """
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError as error:
            raise PolicyError(f"the key policy is not JSON: {error.msg}") from None
    if not isinstance(policy, Mapping):
        raise PolicyError(f"a key policy must be a JSON object, got {type(policy).__name__}")
    unknown = set(policy) - _POLICY_ELEMENTS
    if unknown:
        raise PolicyError(f"unknown policy element(s) {sorted(unknown)}")
    version = policy.get("Version", "2008-10-17")
    if version not in SUPPORTED_VERSIONS:
        raise PolicyError(f"policy Version {version!r} is not one of {SUPPORTED_VERSIONS}")
    raw_statements = policy.get("Statement")
    if isinstance(raw_statements, Mapping):
        raw_statements = [raw_statements]
    if not isinstance(raw_statements, list) or not raw_statements:
        raise PolicyError("the policy has no Statement")
    return CompiledPolicy(
        tuple(_parse_statement(i, s, version, service) for i, s in enumerate(raw_statements)),
        service,
    )


@lru_cache(maxsize=256)
def _compile_cached(policy_json: str, service: str = "kms") -> CompiledPolicy:
    return compile_policy(policy_json, service=service)


def decide(
    policy: Mapping[str, Any] | str,
    principal: str,
    action: str,
    context: Mapping[str, object] | None = None,
    *,
    resource: str | None = None,
) -> Decision:
    """Decide whether `principal` may call `action` on a key whose key policy is `policy`.

    `policy` is the parsed key policy (or its JSON text); `principal` the caller's ARN (an
    assumed-role session ARN matches its role); `action` like `kms:Decrypt` (any case);
    `context` maps condition keys to a value or a list of values; `resource` is the key ARN,
    needed only when the policy's Resource is not `*`. Parsed policies are cached.
    """
    text = policy_text(policy, "key policy")
    return _compile_cached(text).decide(principal, action, context, resource=resource)


def policy_text(policy: str | Mapping[str, Any], kind: str) -> str:
    """A policy as text, the cache key of its compiled form (a parsed document is serialized
    with sorted keys); PolicyError if it is not a JSON document. `kind` names it in the error."""
    if isinstance(policy, str):
        return policy
    try:
        return json.dumps(policy, sort_keys=True)
    except (TypeError, ValueError) as error:
        raise PolicyError(f"the {kind} is not a JSON document: {error}") from None
