"""KMS action names: the ones the evaluator knows, and the groups the access matrix shows.

Action names are case-insensitive in policies; these constants carry AWS's own spelling.
"""

from __future__ import annotations

from .errors import PolicyError
from .wildcard import compile_wildcard, has_wildcard

SERVICE_PREFIX = "kms"

# Every KMS API operation that has a permission of the same name (AWS KMS permissions reference).
KMS_ACTIONS: tuple[str, ...] = tuple(
    f"kms:{name}"
    for name in (
        "CancelKeyDeletion",
        "ConnectCustomKeyStore",
        "CreateAlias",
        "CreateCustomKeyStore",
        "CreateGrant",
        "CreateKey",
        "Decrypt",
        "DeleteAlias",
        "DeleteCustomKeyStore",
        "DeleteImportedKeyMaterial",
        "DeriveSharedSecret",
        "DescribeCustomKeyStores",
        "DescribeKey",
        "DisableKey",
        "DisableKeyRotation",
        "DisconnectCustomKeyStore",
        "EnableKey",
        "EnableKeyRotation",
        "Encrypt",
        "GenerateDataKey",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateMac",
        "GenerateRandom",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "GetParametersForImport",
        "GetPublicKey",
        "ImportKeyMaterial",
        "ListAliases",
        "ListGrants",
        "ListKeyPolicies",
        "ListKeyRotations",
        "ListKeys",
        "ListResourceTags",
        "ListRetirableGrants",
        "PutKeyPolicy",
        "ReEncryptFrom",
        "ReEncryptTo",
        "ReplicateKey",
        "RetireGrant",
        "RevokeGrant",
        "RotateKeyOnDemand",
        "ScheduleKeyDeletion",
        "Sign",
        "SynchronizeMultiRegionKey",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateCustomKeyStore",
        "UpdateKeyDescription",
        "UpdatePrimaryRegion",
        "Verify",
        "VerifyMac",
    )
)
_CANONICAL = {action.lower(): action for action in KMS_ACTIONS}

# Actions on a key that do not use it for cryptography: they manage it (key-scoped only).
ADMIN_ACTIONS: tuple[str, ...] = tuple(
    f"kms:{name}"
    for name in (
        "PutKeyPolicy",
        "GetKeyPolicy",
        "ListKeyPolicies",
        "CreateGrant",
        "ListGrants",
        "RevokeGrant",
        "EnableKey",
        "DisableKey",
        "ScheduleKeyDeletion",
        "CancelKeyDeletion",
        "UpdateKeyDescription",
        "TagResource",
        "UntagResource",
        "ListResourceTags",
        "CreateAlias",
        "UpdateAlias",
        "DeleteAlias",
        "GetKeyRotationStatus",
        "EnableKeyRotation",
        "DisableKeyRotation",
    )
)


def canonical_action(action: str) -> str:
    """AWS's spelling of a KMS action named in a request (`kms:decrypt` -> `kms:Decrypt`)."""
    if not isinstance(action, str):
        raise PolicyError(f"an action must be a string like 'kms:Decrypt', got {action!r}")
    try:
        return _CANONICAL[action.lower()]
    except KeyError:
        raise PolicyError(f"unknown KMS action {action!r}") from None


def actions_matching(patterns: tuple[str, ...]) -> frozenset[str]:
    """The KMS actions (lower-cased) that any of the checked `patterns` names."""
    matched: set[str] = set()
    for pattern in patterns:
        if pattern == "*":
            return frozenset(_CANONICAL)
        regex = compile_wildcard(pattern)
        matched.update(a for a in _CANONICAL if regex.fullmatch(a))
    return frozenset(matched)


def check_action_pattern(pattern: str) -> str:
    """Validate one Action/NotAction entry; return it lower-cased for matching."""
    if not isinstance(pattern, str) or not pattern:
        raise PolicyError(f"an action must be a non-empty string, got {pattern!r}")
    if pattern == "*":
        return pattern
    service, sep, name = pattern.partition(":")
    if not sep or not name:
        raise PolicyError(f"action {pattern!r} is not of the form 'kms:Name'")
    if service.lower() != SERVICE_PREFIX:
        raise PolicyError(f"action {pattern!r} is not a KMS action; a key policy governs kms:*")
    lowered = pattern.lower()
    if has_wildcard(lowered):
        regex = compile_wildcard(lowered)
        if not any(regex.fullmatch(a) for a in _CANONICAL):
            raise PolicyError(f"action pattern {pattern!r} matches no KMS action")
    elif lowered not in _CANONICAL:
        raise PolicyError(f"unknown KMS action {pattern!r}")
    return lowered
