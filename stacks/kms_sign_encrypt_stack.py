"""The stack: two asymmetric keys with aliases, a sender role and a receiver role.

It only composes: key-policy statements come from `stacks.key_policy`, the key and role
constructs from `stacks.keys` and `stacks.roles`, every setting from a validated `StackConfig`.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, RemovalPolicy, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import key_policy
from stacks.alarms import KeyChangeAlarms
from stacks.config import KeyRemoval, StackConfig
from stacks.keys import AsymmetricKey, KeyPurpose
from stacks.roles import KeyUserRole

DESCRIPTION = (
    "Sign and encrypt with AWS KMS asymmetric keys: an RSA_4096 encryption key, an ECC_NIST_P521 "
    "signing key, a sender role and a receiver role, with least-privilege key policies"
)


class KmsSignEncryptStack(Stack):
    """Keys, aliases and roles of one deployment, all named and shaped by `config`."""

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, description=DESCRIPTION, **kwargs)

        trusted = _principals(config.trusted_principals)
        sender = KeyUserRole(
            self,
            "SenderRole",
            role_name=config.sender_role_full_name,
            description="Signs with the signing key and encrypts with the encryption key",
            trusted=trusted,
            external_id=config.external_id,
        ).role
        receiver = KeyUserRole(
            self,
            "ReceiverRole",
            role_name=config.receiver_role_full_name,
            description="Decrypts with the encryption key and verifies with the signing key",
            trusted=trusted,
            external_id=config.external_id,
        ).role

        admin = key_policy.key_administration(_principals(config.admin_principals))
        encryption_key = AsymmetricKey(
            self,
            "EncryptionKey",
            purpose=KeyPurpose.ENCRYPTION,
            alias_name=config.encryption_key_alias_name,
            statements=[admin, *key_policy.encryption_key_statements(sender, receiver)],
            removal=config.key_removal,
            pending_window_days=config.pending_window_days,
        )
        signing_key = AsymmetricKey(
            self,
            "SigningKey",
            purpose=KeyPurpose.SIGNING,
            alias_name=config.signing_key_alias_name,
            statements=[admin, *key_policy.signing_key_statements(sender, receiver)],
            removal=config.key_removal,
            pending_window_days=config.pending_window_days,
        )

        self.sender_role = sender
        self.receiver_role = receiver
        self.encryption_key = encryption_key
        self.signing_key = signing_key

        self.alarms = KeyChangeAlarms(
            self,
            "KeyChangeAlarms",
            keys=[encryption_key.key, signing_key.key],
            alias_names=[encryption_key.alias_name, signing_key.alias_name],
            admins=_principals(config.admin_principals),
            email=config.alarm_email,
            removal=_TOPIC_KEY_REMOVAL[config.key_removal],
        )

        for key, value in config.tags.items():
            Tags.of(self).add(key, value)

        outputs = {
            "EncryptionKeyArn": (encryption_key.key.key_arn, "ARN of the encryption key"),
            "EncryptionKeyAlias": (encryption_key.alias_name, "Alias of the encryption key"),
            "SigningKeyArn": (signing_key.key.key_arn, "ARN of the signing key"),
            "SigningKeyAlias": (signing_key.alias_name, "Alias of the signing key"),
            "SenderRoleArn": (sender.role_arn, "ARN of the role that signs and encrypts"),
            "ReceiverRoleArn": (receiver.role_arn, "ARN of the role that decrypts and verifies"),
        }
        for output_id, (value, description) in outputs.items():
            CfnOutput(self, output_id, value=value, description=description)


_TOPIC_KEY_REMOVAL = {
    KeyRemoval.RETAIN: RemovalPolicy.RETAIN,
    KeyRemoval.DESTROY: RemovalPolicy.DESTROY,
}


def _principals(arns: tuple[str, ...]) -> list[iam.IPrincipal]:
    """The configured principal ARNs, or this account's root when none are configured."""
    if not arns:
        return [iam.AccountRootPrincipal()]
    return [iam.ArnPrincipal(arn) for arn in arns]
