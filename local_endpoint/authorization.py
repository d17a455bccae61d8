"""Who is calling, and may they: KMS key policies and role trust policies, enforced as AWS does.

The caller is known by the access key that signed the request: an access key that moto's STS
issued for AssumeRole is that role's session; any other key is the deploying account's
administrator, an IAM user with full IAM permissions (so an Outcome.VIA_IAM key-policy answer
allows it). A role's own identity policies decide VIA_IAM answers for its sessions; this
project's roles have none, so their key access is exactly what the key policies grant.

Each denial is phrased as AWS phrases it (IAM User Guide, "Access denied error messages"):
``User: ARN is not authorized to perform: ACTION on resource: ARN because no resource-based
policy allows the ACTION action``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Any

import keypolicy
from keypolicy import Outcome
from local_endpoint import trust_policy

ADMINISTRATOR_NAME = "local-admin"
PARTITION = "aws"

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
class Caller:
    """The principal behind a request's access key."""

    arn: str  # what GetCallerIdentity answers: an IAM user or an assumed-role session
    account: str
    role_arn: str | None = None  # for a session, its role

    @property
    def is_administrator(self) -> bool:
        return self.role_arn is None

    @property
    def principal_arn(self) -> str:
        """aws:PrincipalArn: the role for a session, the user otherwise."""
        return self.role_arn or self.arn


@dataclass(frozen=True)
class Denial:
    """An authorization failure, phrased as AWS phrases it."""

    caller: Caller
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


def identify(access_key: str, account: str) -> Caller:
    """The caller for ``access_key``: an assumed-role session, or the administrator."""
    from moto.sts.models import sts_backends

    session = sts_backends[account][PARTITION].get_assumed_role_from_access_key(access_key)
    if session is None:
        return Caller(arn=administrator_arn(account), account=account)
    return Caller(arn=session.arn, account=account, role_arn=session.role_arn)


def find_role(account: str, role_arn: str) -> Any | None:
    """moto's IAM role with this ARN, or None."""
    from moto.iam.exceptions import NotFoundException
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account][PARTITION].get_role_by_arn(role_arn)
    except NotFoundException:
        return None


# -- identity policies ------------------------------------------------------------------------


def identity_policies_allow(caller: Caller, action: str, resource: str) -> bool:
    """Whether the caller's IAM identity policies allow ``action`` on ``resource``.

    The administrator has full IAM permissions. A session has its role's inline and managed
    policies (moto's IAM policy matcher: actions and resources; conditions are not modelled).
    """
    if caller.is_administrator:
        return True
    from moto.iam.access_control import IAMPolicy, PermissionResult

    role = find_role(caller.account, caller.role_arn or "")
    if role is None:
        return False
    documents = list(role.policies.values()) + list(role.managed_policies.values())
    results = [IAMPolicy(d).is_action_permitted(action, resource) for d in documents]
    return PermissionResult.PERMITTED in results and PermissionResult.DENIED not in results


# -- KMS ----------------------------------------------------------------------------------------


def kms_context(request: KmsRequest, caller: Caller) -> dict[str, str]:
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


def authorize_kms(request: KmsRequest, caller: Caller, key: Any | None) -> Denial | None:
    """None if the caller may make the request; otherwise the Denial AWS would send.

    ``key`` is moto's key object (None for operations that name no key). A key policy this
    evaluator cannot read raises keypolicy.PolicyError: never a silent allow or deny.
    """
    action = request.action
    if request.operation == "ReEncrypt":
        action = "kms:ReEncryptTo"
    if key is None:
        resource = "*"
        if identity_policies_allow(caller, action, resource):
            return None
        return Denial(caller, action, resource, _no_identity_policy(action))
    policy = key.policy if isinstance(key.policy, str) else json.dumps(key.policy)
    decision = keypolicy.decide(
        policy, caller.arn, action, kms_context(request, caller), resource=key.arn
    )
    if decision.outcome is Outcome.ALLOW:
        return None
    if decision.outcome is Outcome.VIA_IAM and identity_policies_allow(caller, action, key.arn):
        return None
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
    caller: Caller, role: Any | None, role_arn: str, external_id: str | None, session: str | None
) -> Denial | None:
    """None if the role's trust policy lets the caller assume it; otherwise the Denial."""
    action = trust_policy.ASSUME_ROLE
    if role is None:  # IAM answers a missing role like a refused one
        return Denial(caller, action, role_arn, "")
    request = trust_policy.AssumeRoleRequest(caller.arn, caller.account, external_id, session)
    outcome = trust_policy.evaluate(role.assume_role_policy_document, request)
    if outcome is trust_policy.TrustOutcome.ALLOW:
        return None
    if outcome is trust_policy.TrustOutcome.VIA_IAM and identity_policies_allow(
        caller, action, role_arn
    ):
        return None
    return Denial(caller, action, role_arn, "")


def log(message: str) -> None:
    """One line in the endpoint's log (its stderr)."""
    print(f"local-endpoint: {message}", file=sys.stderr, flush=True)


# -- new key policies -----------------------------------------------------------------------------

LOCKOUT_MESSAGE = "The new key policy will not allow you to update the key policy in the future."
INVALID_PRINCIPALS_MESSAGE = "Policy contains a statement with one or more invalid principals."


def new_key_policy_problem(policy: str, caller: Caller) -> str | None:
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
        return f"The key policy cannot be read: {error}"
    if any(not principal_exists(arn, caller.account) for arn in named_principals(document)):
        return INVALID_PRINCIPALS_MESSAGE
    if decision.outcome is Outcome.ALLOW:
        return None
    if decision.outcome is Outcome.VIA_IAM and identity_policies_allow(
        caller, "kms:PutKeyPolicy", "*"
    ):
        return None
    return LOCKOUT_MESSAGE


def named_principals(document: Any) -> list[str]:
    """The IAM role and user ARNs that a policy's Principal elements name."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    names = []
    for statement in statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        values = principal.get("AWS", []) if isinstance(principal, dict) else []
        for value in [values] if isinstance(values, str) else values:
            if isinstance(value, str) and (":role/" in value or ":user/" in value):
                names.append(value)
    return names


def principal_exists(arn: str, account: str) -> bool:
    """Whether a role or user ARN of ``account`` exists (other accounts are not checked)."""
    from moto.iam.models import iam_backends

    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[4] != account:
        return True
    kind, _, name = parts[5].partition("/")
    backend = iam_backends[account][PARTITION]
    name = name.rsplit("/", 1)[-1]
    if kind == "role":
        return any(role.name == name for role in backend.get_roles())
    if kind == "user":
        return name == ADMINISTRATOR_NAME or name in backend.users
    return True
