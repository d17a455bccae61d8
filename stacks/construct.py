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

from collections.abc import Callable
from typing import Final

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import key_policy
from stacks.alarms import KeyChangeAlarms
from stacks.config import (
    DEFAULT_GENERATIONS,
    GenerationState,
    KeyGeneration,
    PartyPrincipal,
    StackConfig,
)
from stacks.keys import REMOVAL_POLICIES, AsymmetricKey, KeyPurpose, key_alias
from stacks.outputs import (
    ENCRYPTION_KEY_GENERATIONS,
    OUTPUT_NAMES,
    SIGNING_KEY_GENERATIONS,
    generation_arn_output,
)
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
        self.encryption_key_generations = self._generations(
            "EncryptionKey",
            KeyPurpose.ENCRYPTION,
            config.encryption_key_generations,
            config.encryption_key_alias_name,
            lambda current, active: [
                admin,
                *key_policy.encryption_generation_statements(
                    self.sender_role, self.receiver_role, current=current, active=active
                ),
            ],
        )
        self.signing_key_generations = self._generations(
            "SigningKey",
            KeyPurpose.SIGNING,
            config.signing_key_generations,
            config.signing_key_alias_name,
            lambda current, active: [
                admin,
                *key_policy.signing_generation_statements(
                    self.sender_role, self.receiver_role, current=current, active=active
                ),
            ],
        )
        self.encryption_key = self.encryption_key_generations[
            config.encryption_key_generations[-1].name
        ]
        self.signing_key = self.signing_key_generations[config.signing_key_generations[-1].name]

        self.alarms = KeyChangeAlarms(
            self,
            "KeyChangeAlarms",
            keys=[
                generation.key
                for generation in (
                    *self.encryption_key_generations.values(),
                    *self.signing_key_generations.values(),
                )
            ],
            alias_names=[config.encryption_key_alias_name, config.signing_key_alias_name],
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
                    (config.encryption_key_alias_name, "Alias of the encryption key"),
                    (self.signing_key.key.key_arn, "ARN of the signing key"),
                    (config.signing_key_alias_name, "Alias of the signing key"),
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
        self._generation_outputs(config)

    def _generations(
        self,
        construct_id: str,
        purpose: KeyPurpose,
        generations: tuple[KeyGeneration, ...],
        alias_name: str,
        statements: Callable[[bool, bool], list[iam.PolicyStatement]],
    ) -> dict[str, AsymmetricKey]:
        """One key per generation that is not deleted, and the alias on the current one.

        The first generation has the construct id `construct_id` (so the key a deployment had
        before generations existed keeps its logical ID); later ones `{construct_id}{name}`.
        The alias always lives at `{construct_id}/Alias` (same logical ID whichever key it
        names): moving it to a new generation is an UpdateAlias, never a second alias.
        """
        keys: dict[str, AsymmetricKey] = {}
        current = generations[-1]
        scopes: list[Construct] = []
        for index, generation in enumerate(generations):
            generation_id = construct_id if index == 0 else f"{construct_id}{generation.name}"
            if generation.state is GenerationState.DELETED:
                if index == 0:
                    scopes.append(Construct(self, generation_id))  # the alias stays here
                continue
            active = generation.state is GenerationState.ACTIVE
            keys[generation.name] = AsymmetricKey(
                self,
                generation_id,
                purpose=purpose,
                alias_name=None,
                statements=statements(generation is current, active),
                removal=self.config.key_removal,
                pending_window_days=self.config.pending_window_days,
                enabled=active,
            )
            if index == 0:
                scopes.append(keys[generation.name])
        (first,) = scopes
        alias = key_alias(first, alias_name, keys[current.name].key)
        keys[current.name].alias = alias
        keys[current.name].alias_name = alias_name
        return keys

    def _generation_outputs(self, config: StackConfig) -> None:
        """Every generation's ARN and the lists' states, for a deployment that has more than
        the default generation (the default deployment keeps exactly its six outputs)."""
        if (
            config.encryption_key_generations == DEFAULT_GENERATIONS
            and config.signing_key_generations == DEFAULT_GENERATIONS
        ):
            return
        for key, list_output, generations, keys in (
            (
                "EncryptionKey",
                ENCRYPTION_KEY_GENERATIONS,
                config.encryption_key_generations,
                self.encryption_key_generations,
            ),
            (
                "SigningKey",
                SIGNING_KEY_GENERATIONS,
                config.signing_key_generations,
                self.signing_key_generations,
            ),
        ):
            self.outputs[list_output] = CfnOutput(
                self,
                list_output,
                value=" ".join(generation.entry for generation in generations),
                description=f"Generations of the {purpose_word(key)} key, oldest first, the "
                "last current (NAME, NAME:retired or NAME:deleted)",
            )
            for name, generation in keys.items():
                output_id = generation_arn_output(key, name)
                self.outputs[output_id] = CfnOutput(
                    self,
                    output_id,
                    value=generation.key.key_arn,
                    description=f"ARN of generation {name} of the {purpose_word(key)} key",
                )

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


def purpose_word(key: str) -> str:
    return "encryption" if key == "EncryptionKey" else "signing"


def _principals(arns: tuple[str, ...]) -> list[iam.IPrincipal]:
    """The configured principal ARNs, or this account's root when none are configured."""
    if not arns:
        return [iam.AccountRootPrincipal()]
    return [iam.ArnPrincipal(arn) for arn in arns]
