"""The access matrix's model: one table per key, a `Permission` per row and action.

Rows are principals, columns KMS actions (some grouped). Each cell says whether the key policy
allows the action (and under which conditions, taken from the deciding statement), allows it
only via IAM (the policy delegates to the account), or denies it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ..actions import KEY_ADMIN_ACTIONS, KMS_ACTIONS
from ..evaluator import Outcome

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
