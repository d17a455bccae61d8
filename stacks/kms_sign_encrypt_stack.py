"""The stack: two asymmetric keys with aliases, a sender role and a receiver role.

It only composes: key-policy statements come from `stacks.key_policy`, the key and role
constructs from `stacks.keys` and `stacks.roles`, every setting from a validated `StackConfig`.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import key_policy
from stacks.alarms import KeyChangeAlarms
from stacks.config import PartyPrincipal, StackConfig
from stacks.keys import REMOVAL_POLICIES, AsymmetricKey, KeyPurpose
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

        sender = KeyUserRole(
            self,
            "SenderRole",
            role_name=config.sender_role_physical_name,
            description="Signs with the signing key and encrypts with the encryption key",
            trust=key_policy.trust_statements(
                "Sender",
                self._party(config.sender_principals, config.sender_workload_role_name),
            ),
        ).role
        receiver = KeyUserRole(
            self,
            "ReceiverRole",
            role_name=config.receiver_role_physical_name,
            description="Decrypts with the encryption key and verifies with the signing key",
            trust=key_policy.trust_statements(
                "Receiver",
                self._party(config.receiver_principals, config.receiver_workload_role_name),
            ),
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
            removal=REMOVAL_POLICIES[config.key_removal],
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

    def _party(
        self, principals: tuple[PartyPrincipal, ...], default_role_name: str
    ) -> list[tuple[str, str, str | None]]:
        """(account, ARN, external id) of each configured principal; by default the party's
        workload role of this account (which may not exist yet: the trust still deploys)."""
        if principals:
            return [(p.account, p.arn, p.external_id) for p in principals]
        arn = f"arn:{self.partition}:iam::{self.account}:role/{default_role_name}"
        return [(self.account, arn, None)]


def _principals(arns: tuple[str, ...]) -> list[iam.IPrincipal]:
    """The configured principal ARNs, or this account's root when none are configured."""
    if not arns:
        return [iam.AccountRootPrincipal()]
    return [iam.ArnPrincipal(arn) for arn in arns]
