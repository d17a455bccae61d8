"""The intended key administration, written out by hand from the design (docs/STACK.md).

Deliberately not imported from `stacks.key_policy`: the stack tests and the access-matrix tests
compare what the synthesized policies grant with this list, so it must not come from the code
under test. Both test suites read it from here, so the design is stated once.
"""

from __future__ import annotations

# What the key's administrators may do: manage the key, never use it, never grant its use.
INTENDED_ADMIN_ACTIONS: tuple[str, ...] = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:DeleteAlias",
    "kms:DescribeKey",
    "kms:DisableKey",
    "kms:EnableKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:ListGrants",
    "kms:ListKeyPolicies",
    "kms:ListResourceTags",
    "kms:PutKeyPolicy",
    "kms:RevokeGrant",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateAlias",
    "kms:UpdateKeyDescription",
)
