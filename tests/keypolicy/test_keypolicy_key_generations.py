"""Key generations (issue 15): the least-privilege matrix over every generation's key.

Written out by hand, like INTENDED: the sender on the current generation only, the receiver
on every active generation, nobody on a retired one. Each mutation gives a role a right on a
generation it must not have, and the check must catch it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keypolicy import Outcome
from tests.keypolicy.keypolicy_least_privilege import (
    ECDSA_512,
    ENCRYPTION_KEY,
    INTENDED,
    OAEP_256,
    SIGNING_KEY,
    TOPIC_KEY,
    _per_key,
    app_matrix,
    least_privilege_violations,
    synthesize,
)

GENERATIONS = {
    "sample:encryptionKeyGenerations": ["1:retired", "2026", "2027"],
    "sample:signingKeyGenerations": ["1", "2027"],
}
# Logical IDs: the first generation keeps the key's ID from before generations existed.
RETIRED_ENCRYPTION = "EncryptionKey514CDF8F"
OLD_ENCRYPTION = "EncryptionKey2026Key97E8F326"
OLD_SIGNING = "SigningKey49B95470"

INTENDED_GENERATIONS = {
    ENCRYPTION_KEY: INTENDED[ENCRYPTION_KEY],  # the alias: the current generation
    OLD_ENCRYPTION: _per_key(
        sender={}, receiver={"kms:Decrypt": (Outcome.ALLOW, OAEP_256, ("ReceiverDecrypt",))}
    ),
    RETIRED_ENCRYPTION: _per_key(sender={}, receiver={}),
    SIGNING_KEY: INTENDED[SIGNING_KEY],
    OLD_SIGNING: _per_key(
        sender={},
        receiver={
            "kms:Verify": (Outcome.ALLOW, ECDSA_512, ("ReceiverVerify",)),
            "kms:GetPublicKey": (Outcome.ALLOW, (), ("ReceiverGetPublicKey",)),
        },
    ),
    TOPIC_KEY: INTENDED[TOPIC_KEY],
}


@pytest.fixture(scope="module")
def generations_template() -> dict[str, Any]:
    return synthesize(GENERATIONS)


def _policy(template: dict[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]["KeyPolicy"]


def _copy_statement(source_key: str, sid: str, target_key: str):
    """A statement of one key's policy copied into another generation's policy."""

    def mutate(template: dict[str, Any]) -> None:
        source = next(s for s in _policy(template, source_key)["Statement"] if s.get("Sid") == sid)
        _policy(template, target_key)["Statement"].append(copy.deepcopy(source))

    return mutate


def _current(template: dict[str, Any], prefix: str) -> str:
    (logical_id,) = [k for k in template["Resources"] if k.startswith(prefix)]
    return logical_id


def test_the_generations_matrix_is_the_intended_one(generations_template):
    assert least_privilege_violations(app_matrix(generations_template), INTENDED_GENERATIONS) == []


MUTATIONS = {
    "sender encrypts with an old generation": (
        lambda t: _copy_statement(
            _current(t, "EncryptionKey2027Key"), "SenderEncrypt", OLD_ENCRYPTION
        ),
        f"{OLD_ENCRYPTION}: SenderRole kms:Encrypt",
    ),
    "sender signs with an old generation": (
        lambda t: _copy_statement(_current(t, "SigningKey2027Key"), "SenderSign", OLD_SIGNING),
        f"{OLD_SIGNING}: SenderRole kms:Sign",
    ),
    "receiver decrypts with a retired generation": (
        lambda t: _copy_statement(OLD_ENCRYPTION, "ReceiverDecrypt", RETIRED_ENCRYPTION),
        f"{RETIRED_ENCRYPTION}: ReceiverRole kms:Decrypt",
    ),
    "sender keeps its public key on an old generation": (
        lambda t: _copy_statement(
            _current(t, "EncryptionKey2027Key"), "SenderGetPublicKey", OLD_ENCRYPTION
        ),
        f"{OLD_ENCRYPTION}: SenderRole kms:GetPublicKey",
    ),
}


@pytest.mark.parametrize("name", MUTATIONS)
def test_a_right_on_the_wrong_generation_breaks_least_privilege(generations_template, name):
    make, expected = MUTATIONS[name]
    mutated = copy.deepcopy(generations_template)
    make(mutated)(mutated)
    violations = least_privilege_violations(app_matrix(mutated), INTENDED_GENERATIONS)
    assert any(v.startswith(expected) for v in violations), violations
