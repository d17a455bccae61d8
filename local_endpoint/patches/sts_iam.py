"""STS and IAM: caller identity, recognized credentials, trust policies, principals that exist."""

from __future__ import annotations

import json
from typing import Any

from local_endpoint import (
    authorization,
    messages,
)
from local_endpoint.patches import wire
from local_endpoint.patches.registry import (
    IAM_MODELS,
    REGISTRY,
    STS_MODELS,
    STS_RESPONSES,
)
from local_endpoint.patching import Patcher


@REGISTRY.patch("sts_caller_identity_is_iam_user", module=STS_MODELS)
def sts_caller_identity_is_iam_user(patcher: Patcher) -> None:
    """GetCallerIdentity for the deploying credentials answers an IAM user ARN.

    STS API reference, GetCallerIdentity: an IAM user's Arn is arn:aws:iam::ACCOUNT:user/NAME
    and its UserId starts with AIDA. moto 5.2.5 answers arn:aws:sts::ACCOUNT:user/moto (not an
    ARN AWS issues) with an access key as UserId for keys it did not issue. Here those keys are
    the administrator, arn:aws:iam::123456789012:user/local-admin, in every message.
    """
    from moto.sts import models

    original = models.STSBackend.get_caller_identity

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> tuple[str, str, str]:
        user_id, arn, account = original(self, access_key_id, region)
        if arn == f"arn:aws:sts::{self.account_id}:user/moto":
            return ADMINISTRATOR_USER_ID, authorization.administrator_arn(account), account
        return user_id, arn, account

    patcher.replace(models.STSBackend, "get_caller_identity", get_caller_identity)


ADMINISTRATOR_USER_ID = "AIDAEXAMPLELOCALADMIN"


@REGISTRY.patch("sts_trust_policy_enforced", module=STS_RESPONSES)
def sts_trust_policy_enforced(patcher: Patcher) -> None:
    """AssumeRole honours the role's trust policy, sts:ExternalId conditions included.

    IAM User Guide, "Role trust policies" and STS API reference, AssumeRole: the role must
    exist and its trust policy must allow the caller (an account principal delegates to the
    caller's IAM policies); otherwise AccessDenied, "User: ARN is not authorized to perform:
    sts:AssumeRole on resource: ROLE_ARN". moto 5.2.5 issues credentials for any role ARN, even
    one that does not exist.
    """
    from moto.sts.responses import TokenResponse

    from local_endpoint import trust_policy

    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        role_arn = self._get_param("RoleArn")
        caller = wire.authenticate(self)
        role = authorization.find_role(caller.account, role_arn or "")
        try:
            denial = authorization.authorize_assume_role(
                caller,
                role,
                role_arn,
                self._get_param("ExternalId"),
                self._get_param("RoleSessionName"),
            )
        except trust_policy.TrustPolicyError as error:
            authorization.log(f"cannot evaluate the trust policy of {role_arn}: {error}")
            return wire.query_error(
                403, "AccessDenied", messages.TRUST_NOT_UNDERSTOOD.format(reason=str(error))
            )
        if denial is not None:
            authorization.log(f"denied: {denial.message}")
            return wire.query_error(403, "AccessDenied", denial.message)
        return original(self)

    patcher.replace(TokenResponse, "assume_role", assume_role)


@REGISTRY.patch("iam_trust_policy_principals_exist", module=IAM_MODELS)
def iam_trust_policy_principals_exist(patcher: Patcher) -> None:
    """CreateRole and UpdateAssumeRolePolicy refuse a trust policy naming a missing principal.

    IAM API reference, CreateRole and UpdateAssumeRolePolicy (MalformedPolicyDocument): a
    trust policy's Principal must name principals that exist, path included; otherwise
    'Invalid principal in policy: "AWS":"ARN"' (HTTP 400). The check is
    local_endpoint.principals.missing_principals, the one the key policies use. moto 5.2.5
    stores any principal.
    """
    from moto.iam import models
    from moto.iam.exceptions import MalformedPolicyDocument

    from local_endpoint import principals

    def checked(document: Any, account: str) -> None:
        try:
            parsed = json.loads(document) if isinstance(document, str) else document
        except ValueError:
            return  # moto's own validator answers a malformed document
        missing = principals.missing_principals(parsed, account)
        if missing:
            raise MalformedPolicyDocument(principals.invalid_principal_message(missing))

    original_create = models.IAMBackend.create_role
    original_update = models.IAMBackend.update_assume_role_policy

    def create_role(self: Any, role_name: str, assume_role_policy_document: str, *a: Any, **k: Any):  # type: ignore[no-untyped-def]
        checked(assume_role_policy_document, self.account_id)
        return original_create(self, role_name, assume_role_policy_document, *a, **k)

    def update_assume_role_policy(self: Any, role_name: str, policy_document: str) -> None:
        checked(policy_document, self.account_id)
        original_update(self, role_name, policy_document)

    patcher.replace(models.IAMBackend, "create_role", create_role)
    patcher.replace(models.IAMBackend, "update_assume_role_policy", update_assume_role_policy)


# STS's codes for credentials it does not recognize (STS API reference, "Common Errors").
_STS_CREDENTIAL_ERRORS = {
    "UnrecognizedClientException": (403, "InvalidClientTokenId"),
    "ExpiredTokenException": (400, "ExpiredToken"),
}


@REGISTRY.patch("sts_credentials_recognized", module=STS_RESPONSES)
def sts_credentials_recognized(patcher: Patcher) -> None:
    """GetCallerIdentity and AssumeRole refuse credentials that STS never issued.

    STS API reference, "Common Errors": an unknown access key, or a session key without its
    session token, answers InvalidClientTokenId (HTTP 403, "The security token included in the
    request is invalid."); an expired session answers ExpiredToken. moto 5.2.5 answers any
    access key, calling it arn:aws:sts::ACCOUNT:user/moto, and issues role sessions to it.
    """
    from moto.sts.responses import TokenResponse

    def authenticated(original: Any) -> Any:
        def handler(self: Any) -> Any:
            try:
                wire.authenticate(self)
            except authorization.UnrecognizedCredentialsError as error:
                status, code = _STS_CREDENTIAL_ERRORS[error.code]
                return wire.query_error(status, code, error.message)
            return original(self)

        return handler

    for method in ("get_caller_identity", "assume_role"):
        patcher.replace(TokenResponse, method, authenticated(getattr(TokenResponse, method)))
