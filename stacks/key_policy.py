"""Every key-policy statement of the stack, built from named action lists (like aws-cdk's perms.ts).

The stack composes these; no other module writes a KMS action name. Each key policy is:

- one administration statement for the account root (or the configured admin principals) with
  administrative actions only: no cryptographic action, no `kms:CreateGrant` (a grant could
  hand out cryptographic use) and no `kms:Get*` (it would include `kms:GetPublicKey`);
- one statement per role and cryptographic purpose, pinned to a single algorithm.

Statement ids are stable: tests, the key-policy evaluator and the access matrix name them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import aws_iam as iam

from envelope import keys as envelope_keys
from keypolicy import actions

# Administrative actions: what the key's administrators, and CloudFormation acting for them,
# need to manage the key over its life. Listed one by one, never with a wildcard: keypolicy's
# one list of key administration actions, less kms:CreateGrant (a grant could hand out
# cryptographic use) and rotation (asymmetric keys cannot rotate), plus kms:DescribeKey.
# Sorted, as the template lists them.
KEY_ADMIN_ACTIONS: Final[tuple[str, ...]] = tuple(
    sorted(
        {
            *(a for a in actions.KEY_ADMIN_ACTIONS if a not in actions.ROTATION_ACTIONS),
            "kms:DescribeKey",
        }
        - {"kms:CreateGrant"}
    )
)

# Cryptographic actions the roles get, one purpose each.
ENCRYPT_ACTIONS: Final[tuple[str, ...]] = ("kms:Encrypt",)
DECRYPT_ACTIONS: Final[tuple[str, ...]] = ("kms:Decrypt",)
SIGN_ACTIONS: Final[tuple[str, ...]] = ("kms:Sign",)
VERIFY_ACTIONS: Final[tuple[str, ...]] = ("kms:Verify",)
PUBLIC_KEY_ACTIONS: Final[tuple[str, ...]] = ("kms:GetPublicKey",)

# The one algorithm each key may be used with, enforced by key-policy conditions.
# (The envelope format's algorithms: written once, in envelope.keys.)
ENCRYPTION_ALGORITHM: Final = envelope_keys.ENCRYPTION_ALGORITHM
SIGNING_ALGORITHM: Final = envelope_keys.SIGNING_ALGORITHM
ENCRYPTION_ALGORITHM_KEY: Final = "kms:EncryptionAlgorithm"
SIGNING_ALGORITHM_KEY: Final = "kms:SigningAlgorithm"

# Statement ids.
SID_ADMIN: Final = "KeyAdministration"
SID_SENDER_ENCRYPT: Final = "SenderEncrypt"
SID_SENDER_SIGN: Final = "SenderSign"
SID_SENDER_PUBLIC_KEY: Final = "SenderGetPublicKey"
SID_RECEIVER_DECRYPT: Final = "ReceiverDecrypt"
SID_RECEIVER_VERIFY: Final = "ReceiverVerify"
SID_RECEIVER_PUBLIC_KEY: Final = "ReceiverGetPublicKey"

# In a key policy, Resource "*" means "this key".
_THIS_KEY: Final = "*"


def _allow(
    sid: str,
    principals: Sequence[iam.IPrincipal],
    actions: Sequence[str],
    conditions: dict[str, dict[str, str]] | None = None,
) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=sid,
        effect=iam.Effect.ALLOW,
        principals=list(principals),
        actions=list(actions),
        resources=[_THIS_KEY],
        conditions=conditions,
    )


def _encryption_condition() -> dict[str, dict[str, str]]:
    return {"StringEquals": {ENCRYPTION_ALGORITHM_KEY: ENCRYPTION_ALGORITHM}}


def _signing_condition() -> dict[str, dict[str, str]]:
    return {"StringEquals": {SIGNING_ALGORITHM_KEY: SIGNING_ALGORITHM}}


def key_administration(admins: Sequence[iam.IPrincipal]) -> iam.PolicyStatement:
    """Administrative actions only, for the account root or the configured admin principals."""
    return _allow(SID_ADMIN, admins, KEY_ADMIN_ACTIONS)


def encryption_key_statements(
    sender: iam.IPrincipal, receiver: iam.IPrincipal
) -> list[iam.PolicyStatement]:
    """Sender encrypts (and may fetch the public key to encrypt offline); receiver decrypts.
    Both only with RSAES_OAEP_SHA_256."""
    return [
        _allow(SID_SENDER_ENCRYPT, [sender], ENCRYPT_ACTIONS, _encryption_condition()),
        _allow(SID_SENDER_PUBLIC_KEY, [sender], PUBLIC_KEY_ACTIONS),
        _allow(SID_RECEIVER_DECRYPT, [receiver], DECRYPT_ACTIONS, _encryption_condition()),
    ]


def signing_key_statements(
    sender: iam.IPrincipal, receiver: iam.IPrincipal
) -> list[iam.PolicyStatement]:
    """Sender signs; receiver verifies (and may fetch the public key to verify offline).
    Both only with ECDSA_SHA_512."""
    return [
        _allow(SID_SENDER_SIGN, [sender], SIGN_ACTIONS, _signing_condition()),
        _allow(SID_RECEIVER_VERIFY, [receiver], VERIFY_ACTIONS, _signing_condition()),
        _allow(SID_RECEIVER_PUBLIC_KEY, [receiver], PUBLIC_KEY_ACTIONS),
    ]


# --- trust policies: who may assume each party's role (issue 10) -----------------------------

ASSUME_ROLE_ACTIONS: Final[tuple[str, ...]] = ("sts:AssumeRole",)
PRINCIPAL_ARN_KEY: Final = "aws:PrincipalArn"
EXTERNAL_ID_KEY: Final = "sts:ExternalId"
SID_TRUST_PREFIX: Final = "Trust"


def trust_statements(
    party: str, principals: Sequence[tuple[str, str, str | None]]
) -> list[iam.PolicyStatement]:
    """One trust statement per principal: (principal's account, principal ARN, external id).

    Each statement names the principal's account root *and* pins `aws:PrincipalArn` to the one
    principal with `ArnEquals`. So a principal that does not exist yet does not stop the deploy
    (IAM rejects a trust policy naming a missing role or user), the trust survives the principal
    being deleted and re-created, and no other principal of the account qualifies, whatever its
    IAM policies say: an administrator's `sts:AssumeRole` on `*` fails the condition.
    """
    statements = []
    for index, (account, arn, external_id) in enumerate(principals, start=1):
        conditions: dict[str, dict[str, str]] = {"ArnEquals": {PRINCIPAL_ARN_KEY: arn}}
        if external_id:
            conditions["StringEquals"] = {EXTERNAL_ID_KEY: external_id}
        statements.append(
            iam.PolicyStatement(
                sid=f"{SID_TRUST_PREFIX}{party}{index}",
                effect=iam.Effect.ALLOW,
                principals=[iam.AccountPrincipal(account)],
                actions=list(ASSUME_ROLE_ACTIONS),
                conditions=conditions,
            )
        )
    return statements


# --- the alarm topic's key (issue 15) -------------------------------------------------------------

# A symmetric key that encrypts the alarm topic: its administrators manage it (and its yearly
# rotation, which CloudFormation turns on with kms:EnableKeyRotation); EventBridge, publishing
# to the topic, may make and open data keys with it, exactly as the SNS Developer Guide's key
# policy for AWS event sources writes it ("Enable compatibility between event sources from AWS
# services and encrypted topics": kms:GenerateDataKey* and kms:Decrypt for events.amazonaws.com).
# EventBridge reaches the key only by publishing to the topic, whose policy admits only this
# stack's two rules. Nobody else, and no role of this stack, may use it.
TOPIC_KEY_ROTATION_ACTIONS: Final[tuple[str, ...]] = actions.ROTATION_ACTIONS
TOPIC_PUBLISHER_ACTIONS: Final[tuple[str, ...]] = ("kms:Decrypt", "kms:GenerateDataKey*")
EVENTBRIDGE_SERVICE: Final = "events.amazonaws.com"
SID_EVENTBRIDGE_PUBLISH: Final = "EventBridgePublishesToTheAlarmTopic"


def alarm_topic_key_statements(admins: Sequence[iam.IPrincipal]) -> list[iam.PolicyStatement]:
    """Administration (with rotation) for the admins; data keys for EventBridge only."""
    return [
        _allow(SID_ADMIN, admins, (*KEY_ADMIN_ACTIONS, *TOPIC_KEY_ROTATION_ACTIONS)),
        _allow(
            SID_EVENTBRIDGE_PUBLISH,
            [iam.ServicePrincipal(EVENTBRIDGE_SERVICE)],
            TOPIC_PUBLISHER_ACTIONS,
        ),
    ]


# --- key generations (issue 15, part D) -------------------------------------------------------
#
# Only the current generation of a key gives the sender its rights; every active generation
# gives the receiver its rights (so envelopes made before a rotation stay readable); a retired
# generation gives nobody any cryptographic right (it is disabled too, so even a grant or an
# IAM policy could not use it). The administration statement is on every generation.


def encryption_generation_statements(
    sender: iam.IPrincipal, receiver: iam.IPrincipal, *, current: bool, active: bool
) -> list[iam.PolicyStatement]:
    """The role statements of one encryption key generation (the current one: exactly
    `encryption_key_statements`)."""
    if current:
        return encryption_key_statements(sender, receiver)
    if not active:
        return []
    return [_allow(SID_RECEIVER_DECRYPT, [receiver], DECRYPT_ACTIONS, _encryption_condition())]


def signing_generation_statements(
    sender: iam.IPrincipal, receiver: iam.IPrincipal, *, current: bool, active: bool
) -> list[iam.PolicyStatement]:
    """The role statements of one signing key generation (the current one: exactly
    `signing_key_statements`)."""
    if current:
        return signing_key_statements(sender, receiver)
    if not active:
        return []
    return [
        _allow(SID_RECEIVER_VERIFY, [receiver], VERIFY_ACTIONS, _signing_condition()),
        _allow(SID_RECEIVER_PUBLIC_KEY, [receiver], PUBLIC_KEY_ACTIONS),
    ]


# --- parties in their own accounts (issue 13) ------------------------------------------------

# Across accounts KMS needs both the key policy (above: the party's role ARN, exactly) and an
# identity policy in the caller's account. These are the party roles' identity statements:
# exactly the cross-account actions of the party's key-policy statements, on the key ARNs,
# with the same algorithm conditions. Statement ids mirror the key policies'.
SID_PARTY_PREFIX: Final = "CrossAccount"


def _identity_allow(
    sid: str,
    actions: Sequence[str],
    key_arns: Sequence[str],
    conditions: dict[str, dict[str, str]] | None = None,
) -> iam.PolicyStatement:
    return iam.PolicyStatement(
        sid=f"{SID_PARTY_PREFIX}{sid}",
        effect=iam.Effect.ALLOW,
        actions=list(actions),
        resources=sorted(key_arns),
        conditions=conditions,
    )


def sender_identity_statements(
    signing_key_arn: str, encryption_key_arns: Sequence[str]
) -> list[iam.PolicyStatement]:
    """The sender role's identity policy: sign with the signing key; encrypt to (and fetch
    the public key of) each receiver's encryption key."""
    return [
        _identity_allow(SID_SENDER_SIGN, SIGN_ACTIONS, [signing_key_arn], _signing_condition()),
        _identity_allow(
            SID_SENDER_ENCRYPT, ENCRYPT_ACTIONS, encryption_key_arns, _encryption_condition()
        ),
        _identity_allow(SID_SENDER_PUBLIC_KEY, PUBLIC_KEY_ACTIONS, encryption_key_arns),
    ]


def receiver_identity_statements(
    signing_key_arn: str, encryption_key_arn: str
) -> list[iam.PolicyStatement]:
    """A receiver role's identity policy: decrypt with its own encryption key only; verify
    with (and fetch the public key of) the signing key."""
    return [
        _identity_allow(
            SID_RECEIVER_DECRYPT, DECRYPT_ACTIONS, [encryption_key_arn], _encryption_condition()
        ),
        _identity_allow(
            SID_RECEIVER_VERIFY, VERIFY_ACTIONS, [signing_key_arn], _signing_condition()
        ),
        _identity_allow(SID_RECEIVER_PUBLIC_KEY, PUBLIC_KEY_ACTIONS, [signing_key_arn]),
    ]


def cross_account_signing_key_statements(
    sender_role_arn: str, receiver_role_arns: Sequence[str]
) -> list[iam.PolicyStatement]:
    """The signing key's party statements naming role ARNs in other accounts (no root)."""
    return signing_key_statements(
        iam.ArnPrincipal(sender_role_arn),
        _principals_of(receiver_role_arns),
    )


def cross_account_encryption_key_statements(
    sender_role_arn: str, receiver_role_arn: str
) -> list[iam.PolicyStatement]:
    """One receiver's encryption key: the sender encrypts, that receiver alone decrypts."""
    return encryption_key_statements(
        iam.ArnPrincipal(sender_role_arn), iam.ArnPrincipal(receiver_role_arn)
    )


def _principals_of(arns: Sequence[str]) -> iam.IPrincipal:
    principals = [iam.ArnPrincipal(arn) for arn in sorted(arns)]
    if len(principals) == 1:
        return principals[0]
    return iam.CompositePrincipal(*principals)
