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

# -- key generations (issue 15): added only when a key has more than its default generation,
# so a deployment with the defaults keeps exactly the outputs above.
ENCRYPTION_KEY_GENERATIONS: Final = "EncryptionKeyGenerations"
SIGNING_KEY_GENERATIONS: Final = "SigningKeyGenerations"
"""Each key's generations as the context list gives them, space-separated, oldest first:
`1:retired 2027` (the last current; deleted ones stay, as tombstones)."""


def generation_arn_output(key: str, generation: str) -> str:
    """The output with the ARN of generation `generation` of `key` (`EncryptionKey` or
    `SigningKey`): `EncryptionKeyGeneration2027Arn`. Deleted generations have none."""
    return f"{key}Generation{generation}Arn"
