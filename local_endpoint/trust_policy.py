"""Evaluate a role's trust policy for sts:AssumeRole, as IAM does.

A trust policy is a resource-based policy on the role (IAM User Guide, "Role trust policies";
"Policy evaluation logic"). For a caller in the role's account:
- an explicit Deny that matches wins;
- an Allow that names the caller (its user, its role, `*`) lets it assume the role;
- an Allow that names the account (`arn:aws:iam::ACCOUNT:root` or `ACCOUNT`) delegates to IAM:
  the caller's identity policies must also allow sts:AssumeRole on the role;
- nothing matching is an implicit deny.

This is deliberately small: the elements and condition keys that role trust policies of this
project use. Anything else raises :class:`TrustPolicyError` (never a silent allow or deny).
"""

from __future__ import annotations

import enum
import fnmatch
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ASSUME_ROLE = "sts:AssumeRole"

_ROOT = re.compile(r"arn:aws:iam::(\d{12}):root")
_ACCOUNT = re.compile(r"\d{12}")
_SESSION = re.compile(r"arn:aws:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[\w+=,.@-]+")
# Condition keys an AssumeRole request has (IAM and STS condition keys).
KNOWN_KEYS = frozenset(
    {"sts:externalid", "sts:rolesessionname", "aws:principalarn", "aws:principalaccount"}
)


_OPERATORS = frozenset(
    {
        "StringEquals",
        "StringNotEquals",
        "StringEqualsIgnoreCase",
        "StringLike",
        "StringNotLike",
        "ArnEquals",
        "ArnLike",
    }
)


class TrustPolicyError(ValueError):
    """The trust policy uses something this evaluator does not model."""


class TrustOutcome(enum.Enum):
    ALLOW = "allow"
    VIA_IAM = "via-iam"
    EXPLICIT_DENY = "explicit-deny"
    IMPLICIT_DENY = "implicit-deny"


@dataclass(frozen=True)
class AssumeRoleRequest:
    caller_arn: str  # an IAM user ARN or an assumed-role session ARN
    caller_account: str
    external_id: str | None = None
    session_name: str | None = None

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: a session's role ARN, or the caller's own ARN."""
        session = _SESSION.fullmatch(self.caller_arn)
        if session:
            return f"arn:aws:iam::{session.group(1)}:role/{session.group(2)}"
        return self.caller_arn

    def context(self) -> dict[str, str]:
        values = {
            "aws:principalarn": self.principal_arn,
            "aws:principalaccount": self.caller_account,
            "sts:externalid": self.external_id,
            "sts:rolesessionname": self.session_name,
        }
        return {k: v for k, v in values.items() if v is not None}


def evaluate(policy: Mapping[str, Any] | str, request: AssumeRoleRequest) -> TrustOutcome:
    """The trust policy's answer to ``request`` (see the module docstring)."""
    document = json.loads(policy) if isinstance(policy, str) else policy
    statements = document.get("Statement", [])
    if isinstance(statements, Mapping):
        statements = [statements]
    outcome = TrustOutcome.IMPLICIT_DENY
    for statement in statements:
        match = _statement_match(statement, request)
        if match is None:
            continue
        if statement.get("Effect") == "Deny":
            return TrustOutcome.EXPLICIT_DENY
        if match is TrustOutcome.ALLOW or outcome is TrustOutcome.IMPLICIT_DENY:
            outcome = match
    return outcome


def _statement_match(statement: Mapping[str, Any], request: AssumeRoleRequest) -> Any:
    unsupported = set(statement) - {"Sid", "Effect", "Principal", "Action", "Condition"}
    if unsupported:
        raise TrustPolicyError(f"unsupported trust policy element(s) {sorted(unsupported)}")
    if statement.get("Effect") not in ("Allow", "Deny"):
        raise TrustPolicyError(f"unknown Effect {statement.get('Effect')!r}")
    if not any(_wildcard(a, ASSUME_ROLE) for a in _strings(statement.get("Action"))):
        return None
    principal = _principal_match(statement.get("Principal"), request)
    if principal is None or not _conditions_hold(statement.get("Condition", {}), request):
        return None
    return principal


def _principal_match(principal: Any, request: AssumeRoleRequest) -> TrustOutcome | None:
    if principal == "*":
        return TrustOutcome.ALLOW
    if not isinstance(principal, Mapping):
        raise TrustPolicyError(f"unsupported Principal {principal!r}")
    best = None
    for value in _strings(principal.get("AWS")):
        if value in ("*", request.caller_arn, request.principal_arn):
            return TrustOutcome.ALLOW
        root = _ROOT.fullmatch(value)
        account = root.group(1) if root else value if _ACCOUNT.fullmatch(value) else None
        if account == request.caller_account:
            best = TrustOutcome.VIA_IAM
    return best


def _conditions_hold(condition: Mapping[str, Any], request: AssumeRoleRequest) -> bool:
    context = request.context()
    for operator, clauses in condition.items():
        for key, expected in clauses.items():
            normalized = key.lower()
            if normalized not in KNOWN_KEYS:
                raise TrustPolicyError(f"unsupported condition key {key!r}")
            if not _operator(operator, context.get(normalized), _strings(expected)):
                return False
    return True


def _operator(operator: str, value: str | None, expected: list[str]) -> bool:
    if operator == "Null":
        return (value is None) == (expected[0].lower() == "true")
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    if base not in _OPERATORS:
        raise TrustPolicyError(f"unsupported condition operator {operator!r}")
    if value is None:
        return if_exists or base.startswith(("StringNot", "ArnNot"))
    tests = {
        "StringEquals": lambda e: value == e,
        "StringNotEquals": lambda e: value != e,
        "StringEqualsIgnoreCase": lambda e: value.lower() == e.lower(),
        "StringLike": lambda e: _wildcard(e, value, case=True),
        "StringNotLike": lambda e: not _wildcard(e, value, case=True),
        "ArnEquals": lambda e: value == e,
        "ArnLike": lambda e: _wildcard(e, value, case=True),
    }
    if base.startswith("StringNot"):
        return all(tests[base](e) for e in expected)
    return any(tests[base](e) for e in expected)


def _wildcard(pattern: str, value: str, *, case: bool = False) -> bool:
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def _strings(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise TrustPolicyError(f"expected a string or a list of strings, got {value!r}")
