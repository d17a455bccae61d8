"""Identity policies (a user's or role's own IAM policies), for the transitive access matrix.

Only what the matrix needs: does a principal's identity policy allow one action on one
resource, and under which conditions. Follows the IAM evaluation logic for one account:
an applicable Deny without conditions wins; otherwise an applicable Allow allows (its
conditions, if any, are reported rather than guessed); otherwise nothing allows it.
Actions and resources match with IAM wildcards (`*`, `?`), actions case-insensitively,
resources ARN part by part. Conditions are parsed by the same condition engine as key and
trust policies when their keys are ones it knows; otherwise they are reported as written,
never treated as true or false. Permission boundaries, SCPs and session policies are not
modelled (the matrix says so).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .conditions import parse_condition
from .errors import PolicyError
from .wildcard import compile_wildcard

ADMINISTRATOR_ACCESS: Mapping[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
"""The AWS managed policy AdministratorAccess, as a document."""


@dataclass(frozen=True, slots=True)
class IdentityAnswer:
    allowed: bool
    conditions: tuple[str, ...] = ()
    """Alternatives (OR) under which the allow holds; empty: unconditionally."""


def load_document(document: object) -> Mapping[str, Any]:
    """A policy document as IAM APIs return it: a dict, JSON text, or URL-encoded JSON text."""
    if isinstance(document, Mapping):
        return document
    if isinstance(document, str):
        text = document if document.lstrip().startswith("{") else urllib.parse.unquote(document)
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise PolicyError(f"an identity policy is not JSON: {error.msg}") from None
        if isinstance(parsed, Mapping):
            return parsed
    raise PolicyError(f"an identity policy must be a JSON object, got {type(document).__name__}")


def _strings(value: object, what: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
        raise PolicyError(f"{what} must be a string or a list of strings, got {value!r}")
    return items


def _action_matches(patterns: list[str], action: str) -> bool:
    lowered = action.lower()
    return any(compile_wildcard(p.lower()).fullmatch(lowered) for p in patterns)


def _resource_matches(patterns: list[str], resource: str) -> bool:
    for pattern in patterns:
        if pattern == "*":
            return True
        p_parts, r_parts = pattern.split(":", 5), resource.split(":", 5)
        if len(p_parts) == len(r_parts) and all(
            compile_wildcard(p).fullmatch(r) for p, r in zip(p_parts, r_parts, strict=True)
        ):
            return True
    return False


def _describe_condition(condition: object, action: str) -> str:
    service = "sts" if action.lower().startswith("sts:") else "kms"
    try:
        clauses = parse_condition(condition, "2012-10-17", service)
    except PolicyError:
        return f"identity-policy condition {json.dumps(condition, sort_keys=True)}"
    return " and ".join(clause.describe() for clause in clauses)


def identity_allows(
    policies: Iterable[Mapping[str, Any]], action: str, resource: str
) -> IdentityAnswer:
    """Whether the identity policies allow `action` on `resource` (see the module docstring)."""
    grants: list[str] = []
    unconditional = False
    for document in policies:
        statements = document.get("Statement", [])
        if isinstance(statements, Mapping):
            statements = [statements]
        if not isinstance(statements, list):
            raise PolicyError("an identity policy's Statement must be a list or a map")
        for statement in statements:
            if not isinstance(statement, Mapping):
                raise PolicyError("an identity policy statement must be a map")
            if "Principal" in statement or "NotPrincipal" in statement:
                raise PolicyError("an identity policy statement has no Principal element")
            if "Action" in statement:
                applies = _action_matches(_strings(statement["Action"], "Action"), action)
            else:
                applies = not _action_matches(_strings(statement["NotAction"], "NotAction"), action)
            if "Resource" in statement:
                applies = applies and _resource_matches(
                    _strings(statement["Resource"], "Resource"), resource
                )
            else:
                applies = applies and not _resource_matches(
                    _strings(statement["NotResource"], "NotResource"), resource
                )
            if not applies:
                continue
            condition = statement.get("Condition")
            effect = statement.get("Effect")
            if effect == "Deny":
                if not condition:
                    return IdentityAnswer(False)
                continue  # a conditional Deny can only take away; the matrix keeps the allow
            if effect != "Allow":
                raise PolicyError(f"Effect must be 'Allow' or 'Deny', got {effect!r}")
            if condition:
                grants.append(_describe_condition(condition, action))
            else:
                unconditional = True
    if unconditional:
        return IdentityAnswer(True)
    if grants:
        return IdentityAnswer(True, tuple(grants))
    return IdentityAnswer(False)
