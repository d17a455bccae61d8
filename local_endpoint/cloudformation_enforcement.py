"""CloudFormation's own KMS calls, authorized as the identity CloudFormation uses.

On AWS, the AWS::KMS::Key resource handlers call KMS with the credentials CloudFormation runs
with: the stack's service role (``RoleARN``: under the CDK's default synthesizer, the bootstrap
stack's execution role ``cdk-hnb659fds-cfn-exec-role-...``), or the credentials of whoever
called CloudFormation when the stack has no role (``LegacyStackSynthesizer``, which is what
``sample:bootstrapless=true`` selects). Each call goes through the key policy like any other
request, so a key policy that drops an administrative action breaks the update or delete that
needs it. This module lists those calls and authorizes them; :mod:`local_endpoint.patches`
wires it into moto's CloudFormation.

Source of :data:`PROVIDER_CALLS`: aws-cloudformation/aws-cloudformation-resource-providers-kms,
commit f2d7168529b8c4a3e83e1df5d8f3fc35ff807024, ``key/src/main/java/software/amazon/kms/key/``
``{Create,Read,Update,Delete}Handler.java`` and ``common/.../KeyHandlerHelper.java``,
``CreatableKeyHandlerHelper.java``. Its error mapping (``AbstractKmsApiHelper.wrapKmsExceptions``)
turns AccessDeniedException into CfnAccessDeniedException and MalformedPolicyDocumentException
into a terminal CfnInvalidRequestException: neither is retried.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from local_endpoint import authorization

PROVIDER_SOURCE = (
    "aws-cloudformation/aws-cloudformation-resource-providers-kms@"
    "f2d7168529b8c4a3e83e1df5d8f3fc35ff807024"
)


@dataclass(frozen=True)
class ProviderCall:
    """One KMS call a handler makes, and when it makes it."""

    action: str
    when: str  # "always", or the property change that triggers it
    on_key: bool = True  # False: the call names no key (CreateKey), IAM alone decides


# Every KMS call per AWS::KMS::Key handler, in the order the handler makes them.
PROVIDER_CALLS: Mapping[str, tuple[ProviderCall, ...]] = {
    "create": (
        ProviderCall("kms:CreateKey", "always", on_key=False),
        ProviderCall("kms:TagResource", "Tags given (CreateKey with Tags)", on_key=False),
        ProviderCall("kms:EnableKeyRotation", "EnableKeyRotation true"),
        ProviderCall("kms:DisableKey", "Enabled false"),
    ),
    "read": (
        ProviderCall("kms:DescribeKey", "always"),
        ProviderCall("kms:GetKeyPolicy", "always (AccessDenied is soft-failed)"),
        ProviderCall("kms:GetKeyRotationStatus", "always (AccessDenied is soft-failed)"),
        ProviderCall("kms:ListResourceTags", "always (AccessDenied is soft-failed)"),
    ),
    "update": (
        ProviderCall("kms:DescribeKey", "always"),
        ProviderCall("kms:EnableKey", "Enabled false -> true"),
        ProviderCall("kms:EnableKeyRotation", "EnableKeyRotation false -> true"),
        ProviderCall("kms:DisableKeyRotation", "EnableKeyRotation true -> false"),
        ProviderCall("kms:DisableKey", "Enabled true -> false"),
        ProviderCall("kms:UpdateKeyDescription", "Description changed"),
        ProviderCall("kms:PutKeyPolicy", "KeyPolicy changed"),
        ProviderCall("kms:ListResourceTags", "always"),
        ProviderCall("kms:UntagResource", "a tag removed or changed"),
        ProviderCall("kms:TagResource", "a tag added or changed"),
    ),
    "delete": (ProviderCall("kms:ScheduleKeyDeletion", "always (PendingWindowInDays)"),),
}

ASYMMETRIC_ROTATION = frozenset({"kms:EnableKeyRotation", "kms:DisableKeyRotation"})
"""Rotation calls never happen for this project's keys (asymmetric keys cannot rotate)."""

SESSION_NAME = "AWSCloudFormation"

_IDENTITY: contextvars.ContextVar[authorization.AuthenticatedCaller | None] = (
    contextvars.ContextVar("cloudformation_identity", default=None)
)


def identity_for(
    caller: authorization.AuthenticatedCaller, role_arn: str | None
) -> authorization.AuthenticatedCaller:
    """Who CloudFormation is when it calls KMS: the stack's service role, else the caller."""
    if not role_arn:
        return caller
    role_name = role_arn.rsplit("/", 1)[-1]
    account = role_arn.split(":")[4] or caller.account
    session = (
        f"arn:{authorization.PARTITION}:sts::{account}:assumed-role/{role_name}/{SESSION_NAME}"
    )
    return authorization.AuthenticatedCaller(arn=session, account=account, role_arn=role_arn)


@contextmanager
def acting_as(identity: authorization.AuthenticatedCaller | None) -> Iterator[None]:
    """CloudFormation works as ``identity`` inside this block (one API request)."""
    token = _IDENTITY.set(identity)
    try:
        yield
    finally:
        _IDENTITY.reset(token)


def current_identity(account: str) -> authorization.AuthenticatedCaller:
    """The identity of the CloudFormation request being handled (default: the administrator)."""
    identity = _IDENTITY.get()
    if identity is None:
        return authorization.AuthenticatedCaller(authorization.administrator_arn(account), account)
    return identity


class HandlerError(Exception):
    """A resource handler failed: the stack operation fails and rolls back.

    ``code`` is the provider's HandlerErrorCode (InvalidRequest, AccessDenied, ...).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def reason(self) -> str:
        """The resource status reason CloudFormation shows (and `cdk deploy` prints)."""
        from local_endpoint import messages

        return messages.HANDLER_FAILED.format(message=self.message, code=self.code)


class ProviderCallDeniedError(HandlerError):
    """A handler's KMS call was refused; the handler fails (CfnAccessDeniedException)."""

    def __init__(self, denial: authorization.Denial) -> None:
        super().__init__("AccessDenied", f"{denial.message} (Service: Kms, Status Code: 400)")
        self.denial = denial


def authorize(identity: authorization.AuthenticatedCaller, action: str, key: Any | None) -> None:
    """Raise ProviderCallDeniedError unless ``identity`` may make the call on ``key``."""
    operation = action.removeprefix("kms:")
    params = {"KeyId": key.arn} if key is not None else {}
    request = authorization.KmsRequest(operation, params)
    denial = authorization.authorize_kms(request, identity, key)
    if denial is not None:
        authorization.log(f"denied (CloudFormation): {denial.message}")
        raise ProviderCallDeniedError(denial)


def create_calls(properties: Mapping[str, Any]) -> list[str]:
    """The create handler's calls that need authorization after CreateKey, for ``properties``."""
    calls = []
    if properties.get("EnableKeyRotation") in (True, "true"):
        calls.append("kms:EnableKeyRotation")
    if properties.get("Enabled", True) in (False, "false"):
        calls.append("kms:DisableKey")
    return calls


def update_calls(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The update handler's calls for a change from ``old`` to ``new`` properties, in order."""

    def enabled(properties: Mapping[str, Any]) -> bool:
        return properties.get("Enabled", True) not in (False, "false")

    def rotation(properties: Mapping[str, Any]) -> bool:
        return properties.get("EnableKeyRotation", False) in (True, "true")

    def tags(properties: Mapping[str, Any]) -> set[tuple[str, str]]:
        return {(t["Key"], t["Value"]) for t in properties.get("Tags", [])}

    calls = ["kms:DescribeKey"]
    if enabled(new) and not enabled(old):
        calls.append("kms:EnableKey")
    if rotation(new) != rotation(old):
        calls.append("kms:EnableKeyRotation" if rotation(new) else "kms:DisableKeyRotation")
    if enabled(old) and not enabled(new):
        calls.append("kms:DisableKey")
    if old.get("Description", "") != new.get("Description", ""):
        calls.append("kms:UpdateKeyDescription")
    if new.get("KeyPolicy") is not None and old.get("KeyPolicy") != new.get("KeyPolicy"):
        calls.append("kms:PutKeyPolicy")
    old_tags, new_tags = tags(old), tags(new)
    if old_tags != new_tags:
        calls.append("kms:ListResourceTags")
        if old_tags - new_tags:
            calls.append("kms:UntagResource")
        if new_tags - old_tags:
            calls.append("kms:TagResource")
    return calls
