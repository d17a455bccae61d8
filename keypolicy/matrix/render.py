"""Render the access matrix: plain-text tables for a terminal, and JSON-ready data."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..evaluator import Outcome
from ..principals import ANYONE
from .model import AccessMatrix, Permission

_SYMBOL = {
    Outcome.ALLOW: "yes",
    Outcome.VIA_IAM: "IAM",
    Outcome.IMPLICIT_DENY: "-",
    Outcome.EXPLICIT_DENY: "DENY",
}

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
