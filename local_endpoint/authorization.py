"""Who is calling, and may they: KMS key policies and role trust policies, enforced as AWS does.

The caller is known by the access key that signed the request: the endpoint's administrator
key (AWS's documented example key, :data:`local_endpoint.endpoint.ADMIN_ACCESS_KEY_ID`) is the
deploying account's administrator, an IAM user with full IAM permissions (so an
Outcome.VIA_IAM key-policy answer allows it); a key that moto's STS issued for AssumeRole is that
role's session (with its session token, until it expires); a key moto's IAM issued is that IAM
user. Any other key is refused, as AWS refuses keys it never issued. A role's own identity
policies decide VIA_IAM answers for its sessions; this project's roles have none, so their
key access is exactly what the key policies grant.

Each denial is phrased as AWS phrases it (IAM User Guide, "Access denied error messages"):
``User: ARN is not authorized to perform: ACTION on resource: ARN because no resource-based
policy allows the ACTION action``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keypolicy
from keypolicy import Outcome
from local_endpoint import messages, principals, trust_policy

ADMINISTRATOR_NAME = "local-admin"
PARTITION = "aws"

# -- across accounts (issue 13); local_endpoint.patches.accounts turns each rule on --
CROSS_ACCOUNT_KMS_NEEDS_IDENTITY_POLICY = False
"""KMS developer guide, "Allowing users in other accounts to use a KMS key": a caller from
another account needs the key policy *and* an identity policy of its own account."""
CROSS_ACCOUNT_ASSUME_ROLE = False
"""IAM User Guide, "Cross account resource access": AssumeRole of a role in another account
needs the role's trust policy *and* the caller's own permission (sts:AssumeRole on it)."""


def account_of(arn: str) -> str | None:
    """The account an ARN names (None for anything else)."""
    parts = arn.split(":")
    return parts[4] if len(parts) > 5 and parts[0] == "arn" and parts[4].isdigit() else None


# KMS operations whose permission is checked against a key, and the parameter naming it.
_KEY_PARAMETER = {"CreateAlias": "TargetKeyId", "UpdateAlias": "TargetKeyId"}
_ALIAS_PARAMETER = {"DeleteAlias": "AliasName"}
# Operations that name no key: IAM policies alone decide (kms:CreateKey, kms:ListKeys, ...).
_NO_KEY = frozenset(
    {
        "CreateKey",
        "ListKeys",
        "ListAliases",
        "GenerateRandom",
        "ListRetirableGrants",
        "RetireGrant",
        "CreateCustomKeyStore",
        "DescribeCustomKeyStores",
        "ConnectCustomKeyStore",
        "DisconnectCustomKeyStore",
        "DeleteCustomKeyStore",
        "UpdateCustomKeyStore",
    }
)
_ENCRYPTION_OPERATIONS = frozenset(
    # Overlaps patches/accounts.CROSS_ACCOUNT_OPERATIONS by members, not by meaning: these are
    # the operations whose request context carries kms:EncryptionAlgorithm (duplicates D24).
    {
        "Encrypt",
        "Decrypt",
        "ReEncrypt",
        "GenerateDataKey",
        "GenerateDataKeyWithoutPlaintext",
        "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext",
    }
)
_SIGNING_OPERATIONS = frozenset({"Sign", "Verify"})


@dataclass(frozen=True)
class AuthenticatedCaller:
    """The principal behind a request's access key."""

    arn: str  # what GetCallerIdentity answers: an IAM user or an assumed-role session
    account: str
    role_arn: str | None = None  # for a session, its role
    user_name: str | None = None  # for an IAM user that moto's IAM issued an access key to

    @property
    def is_administrator(self) -> bool:
        return self.role_arn is None and self.user_name is None

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: the role for a session, the user otherwise."""
        return self.role_arn or self.arn


class UnrecognizedCredentialsError(Exception):
    """The request's credentials name no principal (AWS rejects it before authorization)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Denial:
    """An authorization failure, phrased as AWS phrases it."""

    caller: AuthenticatedCaller
    action: str
    resource: str
    reason: str

    @property
    def message(self) -> str:
        message = (
            f"User: {self.caller.arn} is not authorized to perform: {self.action} "
            f"on resource: {self.resource}"
        )
        return f"{message} {self.reason}" if self.reason else message


@dataclass(frozen=True)
class KmsRequest:
    """One KMS request, as the authorizer needs it."""

    operation: str  # e.g. "Decrypt"
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return f"kms:{self.operation}"


def administrator_arn(account: str) -> str:
    return f"arn:{PARTITION}:iam::{account}:user/{ADMINISTRATOR_NAME}"


INVALID_TOKEN_MESSAGE = messages.INVALID_TOKEN.text
EXPIRED_TOKEN_MESSAGE = messages.EXPIRED_TOKEN.text


def identify(
    access_key: str, account: str, *, session_token: str | None = None
) -> AuthenticatedCaller:
    """The caller for ``access_key``: the administrator, an assumed-role session, or an IAM user.

    AWS authenticates before it authorizes: an access key it never issued is rejected with
    UnrecognizedClientException, a session key needs its own session token, and an expired
    session gets ExpiredTokenException (KMS API reference, "Common Errors"). Raises
    UnrecognizedCredentialsError with the KMS error code; STS maps it to its own codes. moto
    does not check SigV4 signatures, so the secret key is not checked.
    """
    from moto.core.utils import utcnow
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends

    from local_endpoint.endpoint import ACCOUNT_OF_ADMINISTRATOR_KEY

    if access_key in ACCOUNT_OF_ADMINISTRATOR_KEY:  # an administrator of its account (issue 13)
        return AuthenticatedCaller(arn=administrator_arn(account), account=account)
    session = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key)
    if session is not None:
        if session_token != session.session_token:
            raise UnrecognizedCredentialsError("UnrecognizedClientException", INVALID_TOKEN_MESSAGE)
        if session.expiration <= utcnow():
            raise UnrecognizedCredentialsError("ExpiredTokenException", EXPIRED_TOKEN_MESSAGE)
        return AuthenticatedCaller(arn=session.arn, account=account, role_arn=session.role_arn)
    user = iam_backends[account][PARTITION].get_user_from_access_key_id(access_key)
    if user is not None:
        return AuthenticatedCaller(arn=user.arn, account=account, user_name=user.name)
    raise UnrecognizedCredentialsError("UnrecognizedClientException", INVALID_TOKEN_MESSAGE)


def find_role(account: str, role_arn: str) -> Any | None:
    """moto's IAM role with this ARN, or None. ``account`` is the caller's: a role of another
    account is found there only with CROSS_ACCOUNT_ASSUME_ROLE (moto looks in the caller's)."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    if CROSS_ACCOUNT_ASSUME_ROLE:
        account = account_of(role_arn) or account

    try:
        return iam_backends[account][PARTITION].get_role_by_arn(role_arn)
    except NotFoundException:
        return None


# -- identity policies ------------------------------------------------------------------------


def identity_policies_allow(caller: AuthenticatedCaller, action: str, resource: str) -> bool:
    """Whether the caller's IAM identity policies allow ``action`` on ``resource``.

    The administrator has full IAM permissions. A session has its role's inline and managed
    policies, an IAM user its own (moto's IAM policy matcher: actions and resources; conditions
    and group policies are not modelled).
    """
    if caller.is_administrator:
        return True
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.iam.models import iam_backends

    if caller.user_name is not None:
        holder = iam_backends[caller.account][PARTITION].users.get(caller.user_name)
    else:
        holder = find_role(caller.account, caller.role_arn or "")
    if holder is None:
        return False
    documents = list(holder.policies.values()) + list(holder.managed_policies.values())
    results = [IAMPolicy(d).is_action_permitted(action, resource) for d in documents]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


# -- KMS ----------------------------------------------------------------------------------------


def kms_context(request: KmsRequest, caller: AuthenticatedCaller) -> dict[str, str]:
    """The condition keys AWS KMS puts in this request's context (KMS condition keys)."""
    context = {"kms:CallerAccount": caller.account, "aws:PrincipalArn": caller.principal_arn}
    params = request.params
    if request.operation in _ENCRYPTION_OPERATIONS:
        context["kms:EncryptionAlgorithm"] = params.get("EncryptionAlgorithm") or (
            "SYMMETRIC_DEFAULT"
        )
    if request.operation in _SIGNING_OPERATIONS:
        if params.get("SigningAlgorithm"):
            context["kms:SigningAlgorithm"] = params["SigningAlgorithm"]
        context["kms:MessageType"] = params.get("MessageType") or "RAW"
    key_id = params.get("KeyId")
    if isinstance(key_id, str) and (key_id.startswith("alias/") or ":alias/" in key_id):
        context["kms:RequestAlias"] = "alias/" + key_id.split("alias/", 1)[1]
    return context


def key_id_of(request: KmsRequest) -> str | None:
    """The key (ID, ARN, alias or alias ARN) whose policy governs the request, if any."""
    if request.operation in _NO_KEY:
        return None
    if request.operation in _ALIAS_PARAMETER:
        return request.params.get(_ALIAS_PARAMETER[request.operation])
    if request.operation == "ReEncrypt":
        return request.params.get("DestinationKeyId")
    return request.params.get(_KEY_PARAMETER.get(request.operation, "KeyId"))


@dataclass(frozen=True)
class KeyCheck:
    """One permission a KMS request needs: ``action`` on the key that ``key_ref`` names.

    ``key_ref`` is a key ID, key ARN, alias name or alias ARN as the caller wrote it, or None
    when the request names no key (IAM policies alone decide, on resource ``*``).
    """

    action: str
    key_ref: str | None
    # For ReEncrypt: the parameter holding this side's EncryptionAlgorithm.
    algorithm_parameter: str = "EncryptionAlgorithm"
    parameter: str = "KeyId"  # the request parameter that names the key

    @property
    def key_required(self) -> bool:
        """Whether the request is invalid without ``key_ref`` (every operation that names a
        key requires it, except Decrypt and ReEncrypt of a symmetric ciphertext)."""
        return self.action not in {f"kms:{operation}" for operation in _NO_KEY}


def key_checks(request: KmsRequest, *, ciphertext_key: str | None = None) -> list[KeyCheck]:
    """Every key permission the request needs, in the order AWS checks them.

    Most operations need their action on one key. ReEncrypt is authorized twice (KMS API
    reference, ReEncrypt): kms:ReEncryptFrom on the source key and kms:ReEncryptTo on the
    destination. The source key is the one a symmetric ciphertext names (``ciphertext_key``),
    which is the key that decrypts it whatever SourceKeyId says, else SourceKeyId.
    UpdateAlias needs kms:UpdateAlias on the key the alias points to now and on the new one;
    the caller finds the current key by resolving AliasName.
    """
    params = request.params
    if request.operation == "ReEncrypt":
        return [
            KeyCheck(
                "kms:ReEncryptFrom",
                ciphertext_key or params.get("SourceKeyId"),
                "SourceEncryptionAlgorithm",
                "SourceKeyId",
            ),
            KeyCheck(
                "kms:ReEncryptTo",
                params.get("DestinationKeyId"),
                "DestinationEncryptionAlgorithm",
                "DestinationKeyId",
            ),
        ]
    if request.operation == "UpdateAlias":
        return [
            KeyCheck(request.action, params.get("AliasName"), parameter="AliasName"),
            KeyCheck(request.action, params.get("TargetKeyId"), parameter="TargetKeyId"),
        ]
    key_ref = key_id_of(request)
    if request.operation == "Decrypt" and not key_ref:
        key_ref = ciphertext_key
    parameter = _ALIAS_PARAMETER.get(request.operation) or _KEY_PARAMETER.get(
        request.operation, "KeyId"
    )
    return [KeyCheck(request.action, key_ref, parameter=parameter)]


def alias_arn_of(request: KmsRequest, account: str, region: str) -> str | None:
    """The alias ARN an alias operation acts on (it needs IAM permission on it), or None."""
    if request.operation not in ("CreateAlias", "UpdateAlias", "DeleteAlias"):
        return None
    name = request.params.get("AliasName")
    if not isinstance(name, str) or not name:
        return None
    if name.startswith("arn:"):
        return name
    return f"arn:{PARTITION}:kms:{region}:{account}:{name}"


def authorize_alias(caller: AuthenticatedCaller, action: str, alias_arn: str) -> Denial | None:
    """CreateAlias, UpdateAlias and DeleteAlias also need IAM permission on the alias itself
    (KMS developer guide, "Controlling access to aliases"): aliases have no resource policy."""
    if identity_policies_allow(caller, action, alias_arn):
        return None
    return Denial(caller, action, alias_arn, _no_identity_policy(action))


def authorize_kms(
    request: KmsRequest, caller: AuthenticatedCaller, key: Any | None, check: KeyCheck | None = None
) -> Denial | None:
    """None if the caller may make the request; otherwise the Denial AWS would send.

    ``key`` is moto's key object (None for operations that name no key); ``check`` says which
    action is judged on it (default: the request's own action). A key policy this evaluator
    cannot read raises keypolicy.PolicyError: never a silent allow or deny.
    """
    action = check.action if check is not None else request.action
    if check is None and request.operation == "ReEncrypt":
        action = "kms:ReEncryptTo"
    if check is not None and check.algorithm_parameter != "EncryptionAlgorithm":
        params = dict(request.params)
        params["EncryptionAlgorithm"] = params.get(check.algorithm_parameter)
        params["KeyId"] = check.key_ref
        request = KmsRequest(request.operation, params)
    if key is None:
        resource = "*"
        if identity_policies_allow(caller, action, resource):
            return None
        return Denial(caller, action, resource, _no_identity_policy(action))
    policy = key.policy if isinstance(key.policy, str) else json.dumps(key.policy)
    decision = keypolicy.decide(
        policy, caller.arn, action, kms_context(request, caller), resource=key.arn
    )
    across = CROSS_ACCOUNT_KMS_NEEDS_IDENTITY_POLICY and account_of(key.arn) != caller.account
    if decision.outcome is Outcome.ALLOW and not across:
        return None
    if decision.outcome in (Outcome.ALLOW, Outcome.VIA_IAM) and identity_policies_allow(
        caller, action, key.arn
    ):
        return None
    if decision.outcome is Outcome.ALLOW:  # across accounts, without an identity policy
        return Denial(caller, action, key.arn, _no_identity_policy(action))
    if decision.outcome is Outcome.EXPLICIT_DENY:
        reason = "with an explicit deny in a resource-based policy"
    elif decision.outcome is Outcome.VIA_IAM:
        reason = _no_identity_policy(action)
    else:
        reason = f"because no resource-based policy allows the {action} action"
    return Denial(caller, action, key.arn, reason)


def _no_identity_policy(action: str) -> str:
    return f"because no identity-based policy allows the {action} action"


# -- STS ----------------------------------------------------------------------------------------


def authorize_assume_role(
    caller: AuthenticatedCaller,
    role: Any | None,
    role_arn: str,
    external_id: str | None,
    session: str | None,
) -> Denial | None:
    """None if the role's trust policy lets the caller assume it; otherwise the Denial.

    ``caller.principal_arn`` is the session's role ARN as IAM knows it (path included), which
    is what a trust policy's `aws:PrincipalArn` condition sees. A trust policy the evaluator
    cannot read raises keypolicy.PolicyError."""
    action = trust_policy.ASSUME_ROLE
    if role is None:  # IAM answers a missing role like a refused one
        return Denial(caller, action, role_arn, "")
    context = keypolicy.assume_role_context(
        caller.principal_arn, external_id=external_id, session_name=session
    )
    decision = trust_policy.decide_assume_role(
        role.assume_role_policy_document, caller.arn, context
    )
    across = CROSS_ACCOUNT_ASSUME_ROLE and account_of(role_arn) != caller.account
    if decision.outcome is Outcome.ALLOW and not across:
        return None
    if decision.outcome is Outcome.ALLOW and identity_policies_allow(caller, action, role_arn):
        return None
    if decision.outcome is Outcome.VIA_IAM and identity_policies_allow(caller, action, role_arn):
        return None
    return Denial(caller, action, role_arn, "")


def log(message: str) -> None:
    """One line in the endpoint's log (its stderr)."""
    print(f"local-endpoint: {message}", file=sys.stderr, flush=True)


# -- new key policies -----------------------------------------------------------------------------

LOCKOUT_MESSAGE = messages.LOCKOUT.text
INVALID_PRINCIPALS_MESSAGE = messages.INVALID_PRINCIPALS.text


def new_key_policy_problem(policy: str, caller: AuthenticatedCaller) -> str | None:
    """Why KMS would refuse ``policy`` from ``caller`` at CreateKey/PutKeyPolicy, or None.

    KMS developer guide, "Default key policy" (lockout safety check) and PutKeyPolicy:
    the policy must let the caller call PutKeyPolicy later, and every IAM principal it names
    must exist. A policy the evaluator cannot read is refused with the evaluator's reason.
    """
    try:
        document = json.loads(policy)
        decision = keypolicy.decide(
            policy,
            caller.arn,
            "kms:PutKeyPolicy",
            {"kms:CallerAccount": caller.account, "aws:PrincipalArn": caller.principal_arn},
        )
    except (ValueError, keypolicy.PolicyError) as error:
        return messages.POLICY_UNREADABLE.format(reason=str(error))
    if principals.missing_principals(document, caller.account):
        return INVALID_PRINCIPALS_MESSAGE
    if decision.outcome is Outcome.ALLOW:
        return None
    if decision.outcome is Outcome.VIA_IAM and identity_policies_allow(
        caller, "kms:PutKeyPolicy", "*"
    ):
        return None
    return LOCKOUT_MESSAGE


# -- the flow of one KMS request (the kms_key_policy_enforced patch runs it) -------------------


@dataclass(frozen=True)
class Refusal:
    """The error AWS answers a request with: HTTP status, error code (``__type``), message."""

    status: int
    code: str
    message: str


def authorize_request(
    request: KmsRequest,
    caller: AuthenticatedCaller,
    *,
    account: str,
    region: str,
    find_key: Callable[[str], Any | None],
    ciphertext_key: str | None = None,
) -> Refusal | None:
    """None if the request may go on to the operation; otherwise the Refusal AWS would send.

    The caller is authenticated and the request validated already (the patches stack in that
    order: local_endpoint.patches). Then, as AWS does: IAM permission on an alias the request
    acts on; for each key permission (``key_checks``), the key exists (``find_key`` resolves a
    key ID, key ARN, alias name or alias ARN to moto's key, or None), then its key policy
    allows the caller. A Decrypt or ReEncrypt whose ciphertext names no key goes on, so that
    the operation answers the bad ciphertext as KMS does.
    """
    alias_arn = alias_arn_of(request, account, region)
    if alias_arn is not None:
        denial = authorize_alias(caller, request.action, alias_arn)
        if denial is not None:
            return _denied(denial)
    for check in key_checks(request, ciphertext_key=ciphertext_key):
        if check.key_ref is None and check.action in ("kms:Decrypt", "kms:ReEncryptFrom"):
            return None
        if check.key_ref is None and check.key_required:
            return Refusal(400, "ValidationException", null_parameter_message(check.parameter))
        key = None
        if check.key_ref:
            key = find_key(check.key_ref)
            if key is None:
                return not_found(check.key_ref, account, region)
        try:
            denial = authorize_kms(request, caller, key, check)
        except keypolicy.PolicyError as error:
            log(f"cannot evaluate the key policy of {check.key_ref}: {error}")
            return Refusal(
                500,
                "KMSInternalException",
                messages.POLICY_NOT_EVALUATED.format(reason=str(error)),
            )
        if denial is not None:
            return _denied(denial)
    return None


def _denied(denial: Denial) -> Refusal:
    log(f"denied: {denial.message}")
    return Refusal(400, "AccessDeniedException", denial.message)


def null_parameter_message(parameter: str) -> str:
    """AWS's wording for a required parameter left out (``KeyId`` is called ``keyId``)."""
    name = parameter[0].lower() + parameter[1:]
    return (
        f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: "
        "Member must not be null"
    )


def not_found(key_ref: str, account: str, region: str) -> Refusal:
    """NotFoundException worded as AWS KMS words it for a key or an alias."""
    if key_ref.startswith("alias/") or ":alias/" in key_ref:
        name = "alias/" + key_ref.split("alias/", 1)[1]
        arn = f"arn:{PARTITION}:kms:{region}:{account}:{name}"
        return Refusal(400, "NotFoundException", messages.NOT_FOUND_ALIAS.format(arn=arn))
    key_arn = key_ref
    if not key_ref.startswith("arn:"):
        key_arn = f"arn:{PARTITION}:kms:{region}:{account}:key/{key_ref}"
    return Refusal(400, "NotFoundException", messages.NOT_FOUND_KEY.format(arn=key_arn))
