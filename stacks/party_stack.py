"""A party account's stack (issue 13): the party's role, and its cross-account key rights.

The role trusts only its own account's workload role (`{prefix}SenderWorkload` or
`{prefix}ReceiverWorkload`, by `aws:PrincipalArn`, as in the single-account stack). Once the
key ARNs are known (`sample:keyOwnerOutputs`, or CloudFormation parameters in the StackSets
template), its inline identity policy allows exactly the party's cross-account KMS actions on
those key ARNs, with the algorithm conditions, and nothing else.

Outputs: the six names of the single-account stack (stacks.outputs), so that a party reads
its own stack's outputs with `Deployment.from_outputs_file` as before. The "alias" outputs
carry key ARNs: an alias resolves only in the caller's account, so across accounts a party
must name keys by ARN. The sender's stack also names each receiver's key
(`EncryptionKeyArn{Name}`); its `EncryptionKeyArn` is the first receiver's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import CfnOutput, CfnParameter, Stack, Tags
from aws_cdk import aws_iam as iam
from constructs import Construct

from stacks import key_policy
from stacks.config import DEFAULT_RECEIVER_WORKLOAD, DEFAULT_SENDER_WORKLOAD, StackConfig
from stacks.roles import KeyUserRole
from stacks.topology import Party, Receiver, Topology, encryption_key_arn_output

POLICY_NAME: Final = "CrossAccountKeyUse"
KEY_ARN_PATTERN: Final = r"arn:aws[a-z-]*:kms:[a-z0-9-]+:{account}:key/[0-9a-f-]{{36}}"


class PartyStack(Stack):
    """The role of one party of `topology` (the sender, or one receiver) in its account.

    `key_arns`: (signing key ARN, {receiver name: encryption key ARN}) or None (role only:
    the first deploy, before the keys exist). `parameters=True` takes the ARNs as
    CloudFormation parameters instead (the StackSets template; see docs/STACK.md).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: StackConfig,
        topology: Topology,
        party: Party,
        parameters: bool = False,
        **kwargs: Any,
    ) -> None:
        is_receiver = isinstance(party, Receiver)
        role = "Receiver" if is_receiver else "Sender"
        super().__init__(
            scope,
            construct_id,
            description=f"Sign and encrypt with AWS KMS asymmetric keys: the {role.lower()}'s "
            "role, with exactly its cross-account KMS rights on the key-owner account's keys",
            **kwargs,
        )
        workload = DEFAULT_RECEIVER_WORKLOAD if is_receiver else DEFAULT_SENDER_WORKLOAD
        # The StackSets receiver has no account of its own: each instance's (AWS::AccountId).
        account = party.account or self.account
        partition = "aws" if party.account else self.partition
        workload_arn = f"arn:{partition}:iam::{account}:role/{config.name_prefix}{workload}"
        self.role = KeyUserRole(
            self,
            f"{role}Role",
            role_name=party.role_name,
            description=(
                "Decrypts with its encryption key and verifies with the signing key, across "
                "accounts"
                if is_receiver
                else "Signs with the signing key and encrypts to the receivers, across accounts"
            ),
            trust=key_policy.trust_statements(role, [(account, workload_arn, None)]),
        ).role
        if party.role_path != "/":
            cfn_role = self.role.node.default_child
            assert isinstance(cfn_role, iam.CfnRole)
            cfn_role.path = party.role_path

        signing, encryption = self._key_arns(topology, party, parameters)
        self.statements: list[iam.PolicyStatement] = []
        if signing is not None:
            if is_receiver:
                self.statements = key_policy.receiver_identity_statements(
                    signing,
                    encryption[party.name],  # type: ignore[attr-defined]
                )
            else:
                self.statements = key_policy.sender_identity_statements(
                    signing, list(encryption.values())
                )
            # Inline in the role (AWS::IAM::Role Policies): the role and its rights are one
            # resource, and the access matrix reads them from the template.
            cfn_role = self.role.node.default_child
            assert isinstance(cfn_role, iam.CfnRole)
            cfn_role.policies = [
                iam.CfnRole.PolicyProperty(
                    policy_name=POLICY_NAME,
                    policy_document=iam.PolicyDocument(statements=self.statements),
                )
            ]
        for key, value in config.tags.items():
            Tags.of(self).add(key, value)
        self._outputs(topology, party, signing, encryption)

    def _key_arns(
        self, topology: Topology, party: Party, parameters: bool
    ) -> tuple[str | None, dict[str, str]]:
        names = (
            [party.name] if isinstance(party, Receiver) else [r.name for r in topology.receivers]
        )
        if parameters:
            # Parameter names: the output names less "Arn" (outputs and parameters share ids).
            self._key_owner_account = topology.key_owner_account
            signing = self._parameter("SigningKey", "ARN of the key-owner's signing key")
            return signing, {
                name: self._parameter(
                    f"EncryptionKey{name}",
                    f"ARN of receiver {name}'s encryption key"
                    if name
                    else "ARN of this receiver's encryption key (a parameter override per account)",
                )
                for name in names
            }
        if topology.key_arns is None:
            return None, {}
        arns = topology.key_arns
        return arns.signing_key, {name: arns.encryption_keys[name] for name in names}

    def _parameter(self, name: str, description: str) -> str:
        return CfnParameter(
            self,
            name,
            type="String",
            description=description,
            allowed_pattern=KEY_ARN_PATTERN.format(account=self._key_owner_account),
            constraint_description=(
                f"a KMS key ARN of the key-owner account {self._key_owner_account} "
                f"(arn:aws:kms:REGION:{self._key_owner_account}:key/ID)"
            ),
        ).value_as_string

    def _outputs(
        self,
        topology: Topology,
        party: Party,
        signing: str | None,
        encryption: dict[str, str],
    ) -> None:
        if signing is None:
            CfnOutput(
                self,
                f"{'Receiver' if isinstance(party, Receiver) else 'Sender'}RoleArn",
                value=self.role.role_arn,
                description="ARN of this party's role",
            )
            return
        if isinstance(party, Receiver):
            sender_arn, receiver_arn = topology.sender.role_arn, self.role.role_arn
        else:
            sender_arn = self.role.role_arn
            receiver_arn = topology.receivers[0].role_arn
            for name, arn in encryption.items():
                CfnOutput(
                    self,
                    encryption_key_arn_output(name),
                    value=arn,
                    description=f"ARN of receiver {name}'s encryption key",
                )
                receiver = next(r for r in topology.receivers if r.name == name)
                CfnOutput(
                    self,
                    f"ReceiverRoleArn{name}",
                    value=receiver.role_arn,
                    description=f"ARN of receiver {name}'s role",
                )
        first = next(iter(encryption.values()))
        values: Sequence[tuple[str, str, str]] = (
            ("EncryptionKeyArn", first, "ARN of the encryption key"),
            ("EncryptionKeyAlias", first, "The encryption key (its ARN: aliases are per account)"),
            ("SigningKeyArn", signing, "ARN of the signing key"),
            ("SigningKeyAlias", signing, "The signing key (its ARN: aliases are per account)"),
            ("SenderRoleArn", sender_arn, "ARN of the role that signs and encrypts"),
            ("ReceiverRoleArn", receiver_arn, "ARN of the role that decrypts and verifies"),
        )
        for output_id, value, description in values:
            CfnOutput(self, output_id, value=value, description=description)
