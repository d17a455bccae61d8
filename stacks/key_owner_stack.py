"""The key-owner account's stack (issue 13): the keys, and key policies naming party roles.

One signing key, which the sender signs with and every receiver verifies with, and one
encryption key per receiver, which the sender encrypts to and only that receiver decrypts
with: an envelope sealed to receiver A's key cannot be opened by receiver B, by KMS's own
refusal (B's role is in neither A's key policy nor has A's key in its identity policy). The
party statements are the single-account stack's (stacks.key_policy, same ids, same algorithm
conditions) with each principal a role ARN in the party's account, never an account root.
The key-owner account's root (or sample:adminPrincipals) administers the keys, with
administrative actions only, exactly as in the single-account stack; nobody in the key-owner
account holds a cryptographic right. The key-change alarms watch every key and alias.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import key_policy
from stacks.alarms import KeyChangeAlarms
from stacks.config import StackConfig
from stacks.keys import REMOVAL_POLICIES, AsymmetricKey, KeyPurpose
from stacks.topology import SIGNING_KEY_ARN_OUTPUT, Topology, encryption_key_arn_output

DESCRIPTION = (
    "Sign and encrypt with AWS KMS asymmetric keys, key-owner account: an ECC_NIST_P521 signing "
    "key and an RSA_4096 encryption key per receiver, whose key policies name the parties' "
    "roles in their own accounts"
)


class KeyOwnerStack(Stack):
    """The keys of a multi-account deployment, for the parties of `topology`."""

    # The CDK's construct signature, as in PartyStack (shape-only, duplicates D40).
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        topology: Topology,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=DESCRIPTION, **kwargs)
        admins = _admins(config.admin_principals)
        admin = key_policy.key_administration(admins)
        sender = topology.sender.role_arn
        self.signing_key = AsymmetricKey(
            self,
            "SigningKey",
            purpose=KeyPurpose.SIGNING,
            alias_name=config.signing_key_alias_name,
            statements=[
                admin,
                *key_policy.cross_account_signing_key_statements(
                    sender, [r.role_arn for r in topology.receivers]
                ),
            ],
            removal=config.key_removal,
            pending_window_days=config.pending_window_days,
        )
        self.encryption_keys = {
            receiver.name: AsymmetricKey(
                self,
                f"EncryptionKey{receiver.name}",
                purpose=KeyPurpose.ENCRYPTION,
                alias_name=f"{config.encryption_key_alias_name}-{receiver.name.lower()}",
                statements=[
                    admin,
                    *key_policy.cross_account_encryption_key_statements(sender, receiver.role_arn),
                ],
                removal=config.key_removal,
                pending_window_days=config.pending_window_days,
            )
            for receiver in topology.receivers
        }
        keys = [self.signing_key, *self.encryption_keys.values()]
        self.alarms = KeyChangeAlarms(
            self,
            "KeyChangeAlarms",
            keys=[k.key for k in keys],
            alias_names=[k.alias_name for k in keys],
            admins=admins,
            email=config.alarm_email,
            removal=REMOVAL_POLICIES[config.key_removal],
        )
        for key, value in config.tags.items():
            Tags.of(self).add(key, value)

        CfnOutput(
            self,
            SIGNING_KEY_ARN_OUTPUT,
            value=self.signing_key.key.key_arn,
            description="ARN of the signing key",
        )
        CfnOutput(
            self,
            "SigningKeyAlias",
            value=self.signing_key.alias_name,
            description="Alias of the signing key (in the key-owner account only)",
        )
        for name, key in self.encryption_keys.items():
            CfnOutput(
                self,
                encryption_key_arn_output(name),
                value=key.key.key_arn,
                description=f"ARN of receiver {name}'s encryption key",
            )
            CfnOutput(
                self,
                f"EncryptionKeyAlias{name}",
                value=key.alias_name,
                description=f"Alias of receiver {name}'s encryption key (key-owner account only)",
            )


def _admins(arns: tuple[str, ...]) -> list[iam.IPrincipal]:
    if not arns:
        return [iam.AccountRootPrincipal()]
    return [iam.ArnPrincipal(arn) for arn in arns]
