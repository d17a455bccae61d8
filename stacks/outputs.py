"""The stack's output names: what a deployment promises the parties (no CDK import here, so the
local endpoint and the parties can read the names without starting the CDK)."""

from __future__ import annotations

from typing import Final

# (Same shape as stacks.key_policy's constant blocks, by nature: one named constant a line.)
ENCRYPTION_KEY_ARN: Final = "EncryptionKeyArn"
ENCRYPTION_KEY_ALIAS: Final = "EncryptionKeyAlias"
SIGNING_KEY_ARN: Final = "SigningKeyArn"
SIGNING_KEY_ALIAS: Final = "SigningKeyAlias"
SENDER_ROLE_ARN: Final = "SenderRoleArn"
RECEIVER_ROLE_ARN: Final = "ReceiverRoleArn"

OUTPUT_NAMES: Final = (
    ENCRYPTION_KEY_ARN,
    ENCRYPTION_KEY_ALIAS,
    SIGNING_KEY_ARN,
    SIGNING_KEY_ALIAS,
    SENDER_ROLE_ARN,
    RECEIVER_ROLE_ARN,
)
"""Every output the `KmsSignEncrypt` construct adds, in template order."""
