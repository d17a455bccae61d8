"""Build the access matrix from key policies, with the evaluator's own matching.

The cells use the evaluator's matching (principal, action, resource); conditions on keys the
caller determines (`aws:PrincipalArn`, `aws:PrincipalAccount`, `kms:CallerAccount`) are
evaluated for the row's principal, the others are reported as the cell's conditions.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..conditions import Clause
from ..evaluator import (
    CompiledPolicy,
    CompiledStatement,
    Outcome,
    compile_policy,
    request_context_for,
)
from ..principals import Caller, Match, parse_caller, uncovered_callers
from .model import COLUMNS, AccessMatrix, KeyAccess, Permission

_CALLER_KEYS = frozenset({"aws:principalarn", "aws:principalaccount", "kms:calleraccount"})
_RANK = {Outcome.ALLOW: 2, Outcome.VIA_IAM: 1}


def build_matrix(
    keys: Mapping[str, tuple[str | None, Mapping[str, Any] | str]],
    principals: Mapping[str, str],
    *,
    columns: tuple[tuple[str, tuple[str, ...]], ...] = COLUMNS,
    add_named_principals: bool = True,
) -> AccessMatrix:
    """The access matrix of `keys` ({label: (key ARN or None, key policy)}) for `principals`.

    With `add_named_principals`, every principal a policy names that no row already stands
    for gets a row of its own, so nobody a policy grants to is left out of the matrix.
    """
    compiled = {label: (arn, compile_policy(policy)) for label, (arn, policy) in keys.items()}
    rows = dict(principals)
    callers = {label: parse_caller(arn) for label, arn in rows.items()}
    if add_named_principals:
        for _arn, policy in compiled.values():
            for statement in policy.statements:
                if statement.not_principal:
                    continue
                for label, arn in uncovered_callers(statement.principal, callers.values()):
                    rows[label] = arn
                    callers[label] = parse_caller(arn)
    actions = [a for _heading, group in columns for a in group]
    key_access = []
    for label, (arn, policy) in compiled.items():
        key_rows = {
            row: {action: permission(policy, caller, action, arn) for action in actions}
            for row, caller in callers.items()
        }
        key_access.append(KeyAccess(label, arn, key_rows))
    return AccessMatrix(rows, columns, tuple(key_access))


def permission(
    policy: CompiledPolicy,
    caller: Caller,
    action: str,
    key_arn: str | None = None,
    context: Mapping[str, object] | None = None,
) -> Permission:
    """Analyse one cell: which statements could decide `action` for `caller`, and when.

    `context` gives caller keys the ARN does not carry (a session's `aws:PrincipalArn` with its
    role's path); the policy may be a key policy or a trust policy (`action` sts:AssumeRole)."""
    known = request_context_for(caller, context)
    denies: list[tuple[CompiledStatement, tuple[Clause, ...]]] = []
    grants: list[tuple[Outcome, CompiledStatement, tuple[Clause, ...]]] = []
    for statement, match in policy.applicable(caller, action, key_arn):
        remaining = _remaining_clauses(statement, known)
        if remaining is None:
            continue
        if not statement.allow:
            if not remaining:
                return Permission(action, Outcome.EXPLICIT_DENY, statements=(statement.label,))
            denies.append((statement, remaining))
        else:
            outcome = Outcome.ALLOW if match is Match.DIRECT else Outcome.VIA_IAM
            grants.append((outcome, statement, remaining))
    denied_when = tuple(f"{_describe(c)} ({s.label})" for s, c in denies)
    if not grants:
        return Permission(action, Outcome.IMPLICIT_DENY, denied_when=denied_when)
    best = max(_RANK[o] for o, _s, _c in grants)
    top = [(s, c) for o, s, c in grants if _RANK[o] == best]
    outcome = Outcome.ALLOW if best == _RANK[Outcome.ALLOW] else Outcome.VIA_IAM
    statements = tuple(s.label for s, _c in top)
    if any(not c for _s, c in top):
        conditions: tuple[str, ...] = ()
        otherwise = None
        otherwise_conditions: tuple[str, ...] = ()
    else:
        conditions = tuple(_describe(c) for _s, c in top)
        lower = [c for o, _s, c in grants if _RANK[o] < best]
        otherwise = Outcome.VIA_IAM if lower else None
        otherwise_conditions = () if any(not c for c in lower) else tuple(map(_describe, lower))
    return Permission(
        action, outcome, conditions, statements, denied_when, otherwise, otherwise_conditions
    )


def _remaining_clauses(
    statement: CompiledStatement, known: Mapping[str, tuple[str, ...]]
) -> tuple[Clause, ...] | None:
    """The clauses left to state after evaluating those on the caller's own keys.

    None when a clause on the caller's keys is false (the statement never applies to it).
    """
    remaining = []
    for clause in statement.clauses:
        if clause.key in _CALLER_KEYS and clause.key in known:
            if not clause.holds(known):
                return None
        else:
            remaining.append(clause)
    return tuple(remaining)


def _describe(clauses: tuple[Clause, ...]) -> str:
    return " and ".join(c.describe() for c in clauses)
