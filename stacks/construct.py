"""`KmsSignEncrypt`: the reusable construct, for this project's stack and for anyone else's.

It holds everything one deployment needs: the two asymmetric keys with their aliases and key
policies, the sender and receiver roles with their trust policies, the key-change alarms, and
the six outputs the parties read (`stacks.outputs.OUTPUT_NAMES`). Every setting comes from a
`StackConfig` (the same typed settings `cdk.json` fills in); the construct validates it when it
is built, so a bad value fails `cdk synth` with one line naming the field.

Logical IDs: `KmsSignEncryptStack` adds this construct with the id `Default`, which the CDK
leaves out of logical IDs, so every resource keeps the ID it had before the construct existed
(deployed keys are retained: a changed ID would create new keys). Under any other id, the IDs
carry that id, and the policies are the same.
"""

from __future__ import annotations

from typing import Final

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import key_policy
from stacks.alarms import KeyChangeAlarms
from stacks.config import PartyPrincipal, StackConfig
from stacks.keys import REMOVAL_POLICIES, AsymmetricKey, KeyPurpose
from stacks.outputs import OUTPUT_NAMES
from stacks.roles import KeyUserRole

HIDDEN_ID: Final = "Default"
"""The construct id the CDK leaves out of logical IDs: the stack uses it to keep its IDs."""


class KmsSignEncrypt(Construct):
    """Keys, aliases, roles, key and trust policies, key-change alarms and outputs.

    `config` defaults to `StackConfig()`: the seed's names, this account's root as key
    administrator, each role trusting this account's `{prefix}SenderWorkload` /
    `{prefix}ReceiverWorkload` role, keys retained with a 30-day pending window, fixed role
    names, no alarm e-mail. `config.stack_name` and `config.bootstrapless` concern the stack,
    not the construct, and are ignored here.

    Raises `stacks.config.ConfigError` (one line, naming the field) on a bad setting.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: StackConfig | None = None
    ) -> None:
        super().__init__(scope, construct_id)
        config = (config or StackConfig()).validated()
        self.config = config

        self.sender_role, self.receiver_role = (
            KeyUserRole(
                self,
                f"{party}Role",
                role_name=role_name,
                description=description,
                trust=key_policy.trust_statements(party, self._party(principals, workload)),
            ).role
            for party, role_name, description, principals, workload in (
                (
                    "Sender",
                    config.sender_role_physical_name,
                    "Signs with the signing key and encrypts with the encryption key",
                    config.sender_principals,
                    config.sender_workload_role_name,
                ),
                (
                    "Receiver",
                    config.receiver_role_physical_name,
                    "Decrypts with the encryption key and verifies with the signing key",
                    config.receiver_principals,
                    config.receiver_workload_role_name,
                ),
            )
        )

        admin = key_policy.key_administration(_principals(config.admin_principals))
        self.encryption_key = AsymmetricKey(
            self,
            "EncryptionKey",
            purpose=KeyPurpose.ENCRYPTION,
            alias_name=config.encryption_key_alias_name,
            statements=[
                admin,
                *key_policy.encryption_key_statements(self.sender_role, self.receiver_role),
            ],
            removal=config.key_removal,
            pending_window_days=config.pending_window_days,
        )
        self.signing_key = AsymmetricKey(
            self,
            "SigningKey",
            purpose=KeyPurpose.SIGNING,
            alias_name=config.signing_key_alias_name,
            statements=[
                admin,
                *key_policy.signing_key_statements(self.sender_role, self.receiver_role),
            ],
            removal=config.key_removal,
            pending_window_days=config.pending_window_days,
        )

        self.alarms = KeyChangeAlarms(
            self,
            "KeyChangeAlarms",
            keys=[self.encryption_key.key, self.signing_key.key],
            alias_names=[self.encryption_key.alias_name, self.signing_key.alias_name],
            admins=_principals(config.admin_principals),
            email=config.alarm_email,
            removal=REMOVAL_POLICIES[config.key_removal],
        )

        for key, value in config.tags.items():
            Tags.of(self).add(key, value)

        outputs = dict(
            zip(
                OUTPUT_NAMES,
                (
                    (self.encryption_key.key.key_arn, "ARN of the encryption key"),
                    (self.encryption_key.alias_name, "Alias of the encryption key"),
                    (self.signing_key.key.key_arn, "ARN of the signing key"),
                    (self.signing_key.alias_name, "Alias of the signing key"),
                    (self.sender_role.role_arn, "ARN of the role that signs and encrypts"),
                    (self.receiver_role.role_arn, "ARN of the role that decrypts and verifies"),
                ),
                strict=True,
            )
        )
        self.outputs = {
            output_id: CfnOutput(self, output_id, value=value, description=description)
            for output_id, (value, description) in outputs.items()
        }

    def _party(
        self, principals: tuple[PartyPrincipal, ...], default_role_name: str
    ) -> list[tuple[str, str, str | None]]:
        """(account, ARN, external id) of each configured principal; by default the party's
        workload role of this account (which may not exist yet: the trust still deploys)."""
        if principals:
            return [(p.account, p.arn, p.external_id) for p in principals]
        stack = Stack.of(self)
        arn = f"arn:{stack.partition}:iam::{stack.account}:role/{default_role_name}"
        return [(stack.account, arn, None)]


def _principals(arns: tuple[str, ...]) -> list[iam.IPrincipal]:
    """The configured principal ARNs, or this account's root when none are configured."""
    if not arns:
        return [iam.AccountRootPrincipal()]
    return [iam.ArnPrincipal(arn) for arn in arns]
