"""The access matrix: who can do what with each key, read from the key policies alone.

Rows are principals, columns KMS actions (some grouped), one table per key. Each cell says
whether the key policy allows the action (and under which conditions, taken from the deciding
statement), allows it only via IAM (the policy delegates to the account), or denies it.

The cells use the evaluator's own matching (principal, action, resource); conditions on keys
the caller determines (`aws:PrincipalArn`, `aws:PrincipalAccount`, `kms:CallerAccount`) are
evaluated for the row's principal, the others are reported as the cell's conditions.

API for callers (the demo CLI):
- `standard_principals(account, sender_role_arn=..., receiver_role_arn=..., admin_arns=())`
- `build_matrix({key label: (key ARN or None, policy)}, {row label: principal ARN})`
- `from_template(template, account=..., region=...)`
- `render_table(matrix) -> str` and `to_json(matrix) -> dict`
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .actions import KEY_ADMIN_ACTIONS, KMS_ACTIONS
from .conditions import Clause
from .errors import PolicyError
from .evaluator import (
    CompiledPolicy,
    CompiledStatement,
    Outcome,
    compile_policy,
    request_context_for,
)
from .principals import (
    ANYONE,
    Caller,
    Match,
    parse_caller,
    session_for,
    uncovered_callers,
)
from .template import extract_key_policies, resolve_output

OTHER_ACCOUNT = "444455556666"
"""The account of the matrix's "principal in another account" row (an example account)."""

# (heading, actions) in display order; "Other" holds every remaining KMS action, so no grant
# in a key policy can stay out of the matrix.
_NAMED_COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Encrypt", ("kms:Encrypt",)),
    ("Decrypt", ("kms:Decrypt",)),
    ("ReEncrypt*", ("kms:ReEncryptFrom", "kms:ReEncryptTo")),
    (
        "GenDataKey*",
        (
            "kms:GenerateDataKey",
            "kms:GenerateDataKeyWithoutPlaintext",
            "kms:GenerateDataKeyPair",
            "kms:GenerateDataKeyPairWithoutPlaintext",
        ),
    ),
    ("Sign", ("kms:Sign",)),
    ("Verify", ("kms:Verify",)),
    ("GetPublicKey", ("kms:GetPublicKey",)),
    ("DescribeKey", ("kms:DescribeKey",)),
    ("Admin", KEY_ADMIN_ACTIONS),
)
OTHER_ACTIONS: tuple[str, ...] = tuple(
    a for a in KMS_ACTIONS if not any(a in group for _h, group in _NAMED_COLUMNS)
)
COLUMNS: tuple[tuple[str, tuple[str, ...]], ...] = (*_NAMED_COLUMNS, ("Other", OTHER_ACTIONS))

_SYMBOL = {
    Outcome.ALLOW: "yes",
    Outcome.VIA_IAM: "IAM",
    Outcome.IMPLICIT_DENY: "-",
    Outcome.EXPLICIT_DENY: "DENY",
}
_CALLER_KEYS = frozenset({"aws:principalarn", "aws:principalaccount", "kms:calleraccount"})
_RANK = {Outcome.ALLOW: 2, Outcome.VIA_IAM: 1}


@dataclass(frozen=True, slots=True)
class Permission:
    """What the key policy says about one principal calling one action."""

    action: str
    outcome: Outcome
    conditions: tuple[str, ...] = ()
    """Alternatives (OR) under which the outcome holds; empty: unconditionally."""
    statements: tuple[str, ...] = ()
    """The statements that decide it (Sid, or Statement[i])."""
    denied_when: tuple[str, ...] = ()
    """Conditions under which a Deny statement overrides it."""
    otherwise: Outcome | None = None
    """The weaker outcome (VIA_IAM) when `conditions` do not hold; None: denied."""
    otherwise_conditions: tuple[str, ...] = ()
    """Alternatives under which `otherwise` holds; empty: unconditionally."""

    def same_access(self, other: Permission) -> bool:
        return (
            self.outcome,
            self.conditions,
            self.statements,
            self.denied_when,
            self.otherwise,
            self.otherwise_conditions,
        ) == (
            other.outcome,
            other.conditions,
            other.statements,
            other.denied_when,
            other.otherwise,
            other.otherwise_conditions,
        )


@dataclass(frozen=True, slots=True)
class KeyAccess:
    label: str
    key_arn: str | None
    rows: Mapping[str, Mapping[str, Permission]]
    """row label -> action -> permission"""


@dataclass(frozen=True, slots=True)
class AccessMatrix:
    principals: Mapping[str, str]
    """row label -> the caller ARN the row stands for (`*`: any principal at all)"""
    columns: tuple[tuple[str, tuple[str, ...]], ...]
    keys: tuple[KeyAccess, ...]

    def permission(self, key: str, row: str, action: str) -> Permission:
        for key_access in self.keys:
            if key_access.label == key:
                return key_access.rows[row][action]
        raise KeyError(key)


# --- building -----------------------------------------------------------------------------------


def standard_principals(
    account: str,
    *,
    sender_role_arn: str,
    receiver_role_arn: str,
    admin_arns: Sequence[str] = (),
    partition: str = "aws",
    other_account: str = OTHER_ACCOUNT,
) -> dict[str, str]:
    """The rows a security reviewer asks about, as {row label: caller ARN}.

    The roles are represented by one of their sessions (what a request comes from). With no
    configured admins, the account's admins are "a principal in this account whose IAM
    policies allow it", represented by an example role.
    """
    rows = {
        "SenderRole": session_for(sender_role_arn),
        "ReceiverRole": session_for(receiver_role_arn),
    }
    if admin_arns:
        for arn in admin_arns:
            caller = parse_caller(arn)
            short = arn.split(":", 5)[-1]
            rows[f"Admin {short}"] = session_for(arn) if caller.kind == "role" else arn
    else:
        rows["Account admins"] = f"arn:{partition}:iam::{account}:role/Admin"
    rows["Account root user"] = f"arn:{partition}:iam::{account}:root"
    rows["Other in account"] = f"arn:{partition}:iam::{account}:role/AnyOtherRole"
    rows["Another account"] = f"arn:{partition}:iam::{other_account}:role/AnyRole"
    rows["Anyone"] = ANYONE
    return rows


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


def from_template(
    template: Mapping[str, Any],
    *,
    account: str,
    region: str,
    partition: str = "aws",
    admin_arns: Sequence[str] = (),
) -> AccessMatrix:
    """The matrix of a synthesized stack template (keys labelled by alias, not yet deployed)."""
    keys = extract_key_policies(template, account=account, region=region, partition=partition)
    roles = {
        name: resolve_output(template, name, account=account, region=region, partition=partition)
        for name in ("SenderRoleArn", "ReceiverRoleArn")
    }
    principals = standard_principals(
        account,
        sender_role_arn=roles["SenderRoleArn"],
        receiver_role_arn=roles["ReceiverRoleArn"],
        admin_arns=admin_arns,
        partition=partition,
    )
    return build_matrix({k.label: (None, k.policy) for k in keys.values()}, principals)


# --- output ------------------------------------------------------------------------------------

LEGEND = (
    "yes  = the key policy allows it",
    "IAM  = allowed only if the caller's IAM policies allow it too (the policy trusts the account)",
    "-    = denied: no statement allows it",
    "DENY = explicitly denied",
    "[n]  = see note n under the table (conditions, or a group whose actions differ)",
)
_HEADINGS = {
    "ReEncrypt*": "ReEnc*",
    "GenDataKey*": "GenDK*",
    "GetPublicKey": "GetPubKey",
    "DescribeKey": "Describe",
}
_ROW_LABEL_WIDTH = 17  # "Account root user"; longer rows (events.amazonaws.com) are clipped
_WORDS = {
    Outcome.ALLOW: "allowed",
    Outcome.VIA_IAM: "via IAM",
    Outcome.IMPLICIT_DENY: "denied",
    Outcome.EXPLICIT_DENY: "explicitly denied",
}


def _cell_text(heading: str, permissions: Sequence[Permission], notes: list[str]) -> str:
    first = permissions[0]
    if all(p.same_access(first) for p in permissions):
        symbol = _SYMBOL[first.outcome]
        note = _permission_note(first)
        return symbol if note is None else f"{symbol}[{_note_number(notes, note)}]"
    # The group's actions differ: show the most permissive outcome and how many have it; the
    # note says what every other action gets.
    best = max(permissions, key=lambda p: _ORDER.index(p.outcome))
    count = sum(p.same_access(best) for p in permissions)
    groups: dict[str, list[str]] = {}
    for p in permissions:
        if p.same_access(best):
            continue
        text = _WORDS[p.outcome]
        note = _permission_note(p)
        groups.setdefault(f"{text} ({note})" if note else text, []).append(
            p.action.removeprefix("kms:")
        )
    best_note = _permission_note(best)
    head = f"{heading}: {_WORDS[best.outcome]}"
    head += f" ({best_note})" if best_note else ""
    head += f" for {count} of {len(permissions)}"
    rest = "; ".join(f"{text} for {', '.join(actions)}" for text, actions in groups.items())
    number = _note_number(notes, f"{head}; {rest}")
    return f"{_SYMBOL[best.outcome]} {count}/{len(permissions)}[{number}]"


_ORDER = (Outcome.EXPLICIT_DENY, Outcome.IMPLICIT_DENY, Outcome.VIA_IAM, Outcome.ALLOW)


def _permission_note(p: Permission) -> str | None:
    parts = []
    if p.conditions:
        parts.append("only if " + " or ".join(p.conditions))
        if p.otherwise is not None:
            when = f" if {' or '.join(p.otherwise_conditions)}" if p.otherwise_conditions else ""
            parts.append(f"otherwise {_WORDS[p.otherwise]}{when}")
    if p.denied_when:
        parts.append("denied when " + " or ".join(p.denied_when))
    if not parts:
        return None
    text = "; ".join(parts)
    return f"{text}, by {', '.join(p.statements)}" if p.statements and p.conditions else text


def _note_number(notes: list[str], note: str) -> int:
    if note not in notes:
        notes.append(note)
    return notes.index(note) + 1


def render_table(matrix: AccessMatrix, *, width: int = 100) -> str:
    """The matrix as plain-text tables, one per key, readable in a `width`-column terminal."""
    out: list[str] = ["Legend:"]
    out += [f"  {line}" for line in LEGEND]
    out.append("Rows (each stands for a caller):")
    label_width = max(len(label) for label in matrix.principals)
    for label, arn in matrix.principals.items():
        shown = "any principal at all, anonymous included" if arn == ANYONE else arn
        out.append(_clip(f"  {label.ljust(label_width)}  {shown}", width))
    out.append("Columns:")
    for heading, group in matrix.columns:
        short = _HEADINGS.get(heading, heading)
        if len(group) > 1 or short != group[0].removeprefix("kms:"):
            names = ", ".join(a.removeprefix("kms:") for a in group)
            out += _wrap(f"  {short} = {names}", width, indent="      ")
    headings = [_HEADINGS.get(h, h) for h, _ in matrix.columns]
    row_width = min(label_width, _ROW_LABEL_WIDTH)
    for key in matrix.keys:
        notes: list[str] = []
        cells = {
            row: [
                _cell_text(heading, [perms[a] for a in group], notes)
                for heading, group in matrix.columns
            ]
            for row, perms in key.rows.items()
        }
        widths = [
            max(len(h), *(len(cells[row][i]) for row in cells)) for i, h in enumerate(headings)
        ]
        out.append("")
        where = key.key_arn or "from the template, not deployed"
        out.append(_clip(f"{key.label}  ({where})", width))
        heading_line = [
            " " * row_width,
            *(h.ljust(w) for h, w in zip(headings, widths, strict=True)),
        ]
        out.append(" ".join(heading_line).rstrip())
        for row, texts in cells.items():
            line = [_clip(row, row_width).ljust(row_width)]
            line += [t.ljust(w) for t, w in zip(texts, widths, strict=True)]
            out.append(" ".join(line).rstrip())
        for number, note in enumerate(notes, start=1):
            out += _wrap(f"  [{number}] {note}", width, indent="      ")
    return "\n".join(out) + "\n"


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "~"


def _wrap(text: str, width: int, indent: str) -> list[str]:
    """Word-wrap `text` (keeping its leading spaces); later lines start with `indent`."""
    body = text.lstrip(" ")
    lines: list[str] = []
    current = text[: len(text) - len(body)]
    for word in body.split(" "):
        if current.strip() and len(current) + 1 + len(word) > width:
            lines.append(current)
            current = indent + word
        else:
            current = f"{current} {word}" if current.strip() else current + word
    lines.append(current)
    return lines


def to_json(matrix: AccessMatrix) -> dict[str, Any]:
    """The matrix as JSON-ready data: every cell, action by action."""
    return {
        "legend": {o.value: text for o, text in zip(_SYMBOL, _JSON_LEGEND, strict=True)},
        "principals": dict(matrix.principals),
        "columns": {heading: list(group) for heading, group in matrix.columns},
        "keys": [
            {
                "label": key.label,
                "keyArn": key.key_arn,
                "access": {
                    row: {action: _permission_json(p) for action, p in perms.items()}
                    for row, perms in key.rows.items()
                },
            }
            for key in matrix.keys
        ],
    }


_JSON_LEGEND = (
    "the key policy allows it (under `conditions`, if any)",
    "allowed only if the caller's IAM policies allow it too",
    "denied: no statement allows it",
    "explicitly denied",
)


def _permission_json(p: Permission) -> dict[str, Any]:
    data: dict[str, Any] = {"outcome": p.outcome.value}
    if p.conditions:
        data["conditions"] = list(p.conditions)
    if p.statements:
        data["statements"] = list(p.statements)
    if p.denied_when:
        data["deniedWhen"] = list(p.denied_when)
    if p.otherwise is not None:
        data["otherwise"] = p.otherwise.value
    if p.otherwise_conditions:
        data["otherwiseConditions"] = list(p.otherwise_conditions)
    return data


__all__ = [
    "COLUMNS",
    "OTHER_ACCOUNT",
    "AccessMatrix",
    "KeyAccess",
    "Permission",
    "PolicyError",
    "build_matrix",
    "from_template",
    "permission",
    "render_table",
    "standard_principals",
    "to_json",
]
