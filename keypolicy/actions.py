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

# (A tuple of action names, shaped like KMS_ACTIONS by nature: duplicates reports the pair.)
# Key administration: every action on a key that does not use it for cryptography (key-scoped
# only). The one list of them: the access matrix's "Admin" column, and the base of the stack's
# administration statement (stacks.key_policy.KEY_ADMIN_ACTIONS grants a subset).
KEY_ADMIN_ACTIONS: tuple[str, ...] = tuple(
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

GRANTING_ACTIONS: tuple[str, ...] = ("kms:PutKeyPolicy", "kms:CreateGrant")
"""Administration that hands out every use of the key: rewrite its policy, or grant by grant."""
ROTATION_ACTIONS: tuple[str, ...] = ("kms:DisableKeyRotation", "kms:EnableKeyRotation")
"""Automatic rotation; symmetric keys only (asymmetric keys cannot rotate)."""


# The actions a role trust policy governs for an IAM principal (STS API reference; IAM User
# Guide, "Role trust policies"). AssumeRoleWithSAML / WithWebIdentity need Federated
# principals, which the evaluator refuses, so they are not modelled.
STS_ACTIONS: tuple[str, ...] = ("sts:AssumeRole", "sts:SetSourceIdentity", "sts:TagSession")
ASSUME_ROLE = "sts:AssumeRole"
_STS_CANONICAL = {action.lower(): action for action in STS_ACTIONS}
_VOCABULARY = {"kms": ("KMS", _CANONICAL), "sts": ("STS", _STS_CANONICAL)}


def _vocabulary(service: str) -> tuple[str, dict[str, str]]:
    try:
        return _VOCABULARY[service]
    except KeyError:
        raise PolicyError(f"policies of service {service!r} are not modelled") from None


def canonical_action(action: str, service: str = SERVICE_PREFIX) -> str:
    """AWS's spelling of an action named in a request (`kms:decrypt` -> `kms:Decrypt`)."""
    noun, canonical = _vocabulary(service)
    if not isinstance(action, str):
        raise PolicyError(f"an action must be a string like '{service}:Name', got {action!r}")
    try:
        return canonical[action.lower()]
    except KeyError:
        raise PolicyError(f"unknown {noun} action {action!r}") from None


def actions_matching(patterns: tuple[str, ...], service: str = SERVICE_PREFIX) -> frozenset[str]:
    """The actions of `service` (lower-cased) that any of the checked `patterns` names."""
    _noun, canonical = _vocabulary(service)
    matched: set[str] = set()
    for pattern in patterns:
        if pattern == "*":
            return frozenset(canonical)
        regex = compile_wildcard(pattern)
        matched.update(a for a in canonical if regex.fullmatch(a))
    return frozenset(matched)


def check_action_pattern(pattern: str, service: str = SERVICE_PREFIX) -> str:
    """Validate one Action/NotAction entry; return it lower-cased for matching."""
    noun, canonical = _vocabulary(service)
    governed = "a key policy governs kms:*" if service == "kms" else "a trust policy governs sts:*"
    if not isinstance(pattern, str) or not pattern:
        raise PolicyError(f"an action must be a non-empty string, got {pattern!r}")
    if pattern == "*":
        return pattern
    prefix, sep, name = pattern.partition(":")
    if not sep or not name:
        raise PolicyError(f"action {pattern!r} is not of the form '{service}:Name'")
    if prefix.lower() != service:
        article = "an" if noun == "STS" else "a"
        raise PolicyError(f"action {pattern!r} is not {article} {noun} action; {governed}")
    lowered = pattern.lower()
    if has_wildcard(lowered):
        regex = compile_wildcard(lowered)
        if not any(regex.fullmatch(a) for a in canonical):
            raise PolicyError(f"action pattern {pattern!r} matches no {noun} action")
    elif lowered not in canonical:
        raise PolicyError(f"unknown {noun} action {pattern!r}")
    return lowered
