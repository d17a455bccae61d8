"""Several accounts (issue 13): each administrator in its own account, keys used across
accounts by ARN, and AWS's cross-account rules for KMS and AssumeRole."""

from __future__ import annotations

import json
from typing import Any, Final

from local_endpoint import authorization
from local_endpoint.patches.registry import IAM_MODELS, KMS_RESPONSES, REGISTRY, STS_RESPONSES
from local_endpoint.patching import Patcher

# KMS operations AWS lets a principal of another account call on a key, by key ARN or alias
# ARN (KMS developer guide, "Allowing users in other accounts to use a KMS key").
CROSS_ACCOUNT_OPERATIONS: Final = frozenset(
    {
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
        "Sign",
        "Verify",
        "GetPublicKey",
        "DescribeKey",
        "GenerateMac",
        "VerifyMac",
        "DeriveSharedSecret",
        "CreateGrant",
        "ListGrants",
        "RevokeGrant",
        "RetireGrant",
        "GetKeyRotationStatus",
    }
)


@REGISTRY.patch("accounts_by_administrator_key", module=IAM_MODELS)
def accounts_by_administrator_key(patcher: Patcher) -> None:
    """Each simulated account's administrator key signs requests in that account.

    AWS knows the account of every access key it issued (STS GetAccessKeyInfo). moto 5.2.5
    puts a key it did not issue in its default account 123456789012; here the administrator
    keys of local_endpoint.endpoint.ADMINISTRATOR_KEYS act in their own accounts, so each
    account (111122223333, 444455556666, 777788889999) has an administrator of its own.
    """
    from moto.iam import models

    from local_endpoint.endpoint import ACCOUNT_OF_ADMINISTRATOR_KEY

    original = models.get_account_id_from

    def get_account_id_from(access_key: str) -> str:
        return ACCOUNT_OF_ADMINISTRATOR_KEY.get(access_key) or original(access_key)

    patcher.replace(models, "get_account_id_from", get_account_id_from)


def _key_account(response: Any) -> str | None:
    """The other account whose key the request names by key ARN or alias ARN, if any."""
    cached = getattr(response, "_local_key_account", False)
    if cached is not False:
        return cached
    account = None
    if response._get_action() in CROSS_ACCOUNT_OPERATIONS:
        try:
            params = json.loads(response.body) if response.body else {}
        except ValueError:
            params = {}
        key_ref = params.get("KeyId") if isinstance(params, dict) else None
        if isinstance(key_ref, str) and key_ref.startswith("arn:"):
            parts = key_ref.split(":")
            if len(parts) > 5 and parts[3] == response.region:
                owner = parts[4]
                if owner != response.current_account:
                    account = owner
    response._local_key_account = account
    return account


@REGISTRY.patch("kms_cross_account_key_lookup", module=KMS_RESPONSES)
def kms_cross_account_key_lookup(patcher: Patcher) -> None:
    """A key ARN or alias ARN of another account names that account's key.

    KMS developer guide, "Using KMS keys in other accounts": "To specify a KMS key in a
    different AWS account, you must use its key ARN or alias ARN"; an alias name or key ID is
    looked up in the caller's own account (so an alias name of another account's key is
    NotFoundException). moto 5.2.5 looks every key up in the caller's account only, so a key
    ARN of another account is NotFoundException.
    """
    from moto.kms.models import kms_backends
    from moto.kms.responses import KmsResponse

    def kms_backend(self: Any) -> Any:
        account = _key_account(self) or self.current_account
        return kms_backends[account][self.region]

    patcher.replace(KmsResponse, "kms_backend", property(kms_backend))


@REGISTRY.patch("kms_cross_account_needs_identity_policy", module=KMS_RESPONSES)
def kms_cross_account_needs_identity_policy(patcher: Patcher) -> None:
    """Across accounts, KMS needs the key policy and the caller's own identity policy.

    KMS developer guide, "Allowing users in other accounts to use a KMS key": the key policy
    must allow the external principal, and "IAM policies in the external account" must
    delegate the permission to its users and roles. moto 5.2.5 has no key policies; with
    the key-policy patch alone, a key policy naming the role would be enough.
    """
    patcher.replace(authorization, "CROSS_ACCOUNT_KMS_NEEDS_IDENTITY_POLICY", True)


@REGISTRY.patch("sts_cross_account_assume_role", module=STS_RESPONSES)
def sts_cross_account_assume_role(patcher: Patcher) -> None:
    """AssumeRole of another account's role: its trust policy and the caller's permission.

    IAM User Guide, "Cross account resource access in IAM" and "Granting a user permissions
    to switch roles": the role's trust policy must trust the caller, and the caller's own
    identity policy must allow sts:AssumeRole on the role. moto 5.2.5 issues credentials for
    any role; with the trust-policy patch alone, the role is looked up in the caller's
    account (so never found) and the caller's permission is not checked.
    """
    patcher.replace(authorization, "CROSS_ACCOUNT_ASSUME_ROLE", True)
