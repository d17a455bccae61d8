"""The stack: the `KmsSignEncrypt` construct, a description, and nothing else.

Everything the stack deploys lives in `stacks.construct.KmsSignEncrypt`, added under the CDK's
hidden id `Default` so that every logical ID is the one the stack had before the construct.
"""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack
from constructs import Construct

from stacks.config import StackConfig
from stacks.construct import HIDDEN_ID, KmsSignEncrypt

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
        self.resources = KmsSignEncrypt(self, HIDDEN_ID, config=config)
        self.sender_role = self.resources.sender_role
        self.receiver_role = self.resources.receiver_role
        self.encryption_key = self.resources.encryption_key
        self.signing_key = self.resources.signing_key
        self.alarms = self.resources.alarms
