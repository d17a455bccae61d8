"""The intended least-privilege access matrix of the app, and the check against it.

Written out by hand from the design (docs/ACCESS-MATRIX.md), not derived from the stack's
code: the check compares what the synthesized key policies grant with this, cell by cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keypolicy import Outcome
from keypolicy.matrix import AccessMatrix
from kms_sign_encrypt.access_rows import matrix_from_template
from tests.intended_key_policy import INTENDED_ADMIN_ACTIONS

ACCOUNT = "123456789012"
REGION = "us-east-1"
ENCRYPTION_KEY = "alias/sample-encrypt-decrypt-key"
SIGNING_KEY = "alias/sample-sign-verify-key"

STACK_ADMIN_ACTIONS = INTENDED_ADMIN_ACTIONS
OAEP_256 = ("kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256",)
ECDSA_512 = ("kms:SigningAlgorithm = ECDSA_SHA_512",)

# A cell: (outcome, conditions, deciding statements). Cells not listed: denied, no conditions.
Cell = tuple[Outcome, tuple[str, ...], tuple[str, ...]]


def _administration(outcome: Outcome) -> dict[str, Cell]:
    return {action: (outcome, (), ("KeyAdministration",)) for action in STACK_ADMIN_ACTIONS}


def _per_key(
    sender: dict[str, Cell],
    receiver: dict[str, Cell],
    actions: tuple[str, ...] = STACK_ADMIN_ACTIONS,
    eventbridge: dict[str, Cell] | None = None,
) -> dict[str, dict[str, Cell]]:
    def administration(outcome: Outcome) -> dict[str, Cell]:
        return {action: (outcome, (), ("KeyAdministration",)) for action in actions}

    return {
        "SenderRole": {**administration(Outcome.VIA_IAM), **sender},
        "ReceiverRole": {**administration(Outcome.VIA_IAM), **receiver},
        "Account admins": administration(Outcome.VIA_IAM),
        "Account root user": administration(Outcome.ALLOW),
        "Other in account": administration(Outcome.VIA_IAM),
        "Another account": {},
        "Anyone": {},
        # The alarm topic's key names EventBridge, so every key's matrix has its row.
        EVENTBRIDGE: eventbridge or {},
    }


# The alarm topic's symmetric key (issue 15): administered like the others, plus its rotation;
# used by EventBridge alone (SNS Developer Guide's policy for AWS event sources); no role of the
# stack may use it, so the topic adds no cryptographic right to anyone's row.
EVENTBRIDGE = "events.amazonaws.com"
TOPIC_KEY = "KeyChangeAlarmsTopicKeyE23E93FB"
TOPIC_KEY_ADMIN_ACTIONS = (
    *STACK_ADMIN_ACTIONS,
    "kms:EnableKeyRotation",
    "kms:DisableKeyRotation",
)
_PUBLISHES = (Outcome.ALLOW, (), ("EventBridgePublishesToTheAlarmTopic",))
TOPIC_KEY_EVENTBRIDGE: dict[str, Cell] = {
    action: _PUBLISHES
    for action in (
        "kms:Decrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
    )
}


INTENDED: dict[str, dict[str, dict[str, Cell]]] = {
    ENCRYPTION_KEY: _per_key(
        sender={
            "kms:Encrypt": (Outcome.ALLOW, OAEP_256, ("SenderEncrypt",)),
            "kms:GetPublicKey": (Outcome.ALLOW, (), ("SenderGetPublicKey",)),
        },
        receiver={"kms:Decrypt": (Outcome.ALLOW, OAEP_256, ("ReceiverDecrypt",))},
    ),
    SIGNING_KEY: _per_key(
        sender={"kms:Sign": (Outcome.ALLOW, ECDSA_512, ("SenderSign",))},
        receiver={
            "kms:Verify": (Outcome.ALLOW, ECDSA_512, ("ReceiverVerify",)),
            "kms:GetPublicKey": (Outcome.ALLOW, (), ("ReceiverGetPublicKey",)),
        },
    ),
    TOPIC_KEY: _per_key({}, {}, TOPIC_KEY_ADMIN_ACTIONS, TOPIC_KEY_EVENTBRIDGE),
}
DENIED: Cell = (Outcome.IMPLICIT_DENY, (), ())


def synthesize(context: Mapping[str, object] | None = None) -> dict[str, Any]:
    """The stack's template from `stacks.app.create_app`: cdk.json's context, then `context`."""
    from stacks.app import create_app

    (stack,) = create_app(context).synth().stacks
    return stack.template


def app_matrix(template: Mapping[str, Any]) -> AccessMatrix:
    return matrix_from_template(template, account=ACCOUNT, region=REGION)


def least_privilege_violations(
    matrix: AccessMatrix,
    intended: Mapping[str, Mapping[str, Mapping[str, Cell]]] = INTENDED,
) -> list[str]:
    """Every difference between `matrix` and the intended matrix, one line each."""
    found: list[str] = []
    keys = {key.label: key for key in matrix.keys}
    if set(keys) != set(intended):
        found.append(f"keys are {sorted(keys)}, intended {sorted(intended)}")
    for label in sorted(set(keys) & set(intended)):
        rows = keys[label].rows
        if set(rows) != set(intended[label]):
            extra = sorted(set(rows) - set(intended[label]))
            missing = sorted(set(intended[label]) - set(rows))
            found.append(f"{label}: unexpected rows {extra}, missing rows {missing}")
        for row in sorted(set(rows) & set(intended[label])):
            for action, permission in rows[row].items():
                actual = (permission.outcome, permission.conditions, permission.statements)
                if permission.denied_when or permission.otherwise is not None:
                    extra = (permission.denied_when, permission.otherwise)
                    actual += extra  # type: ignore[assignment]
                wanted = intended[label][row].get(action, DENIED)
                if actual != wanted:
                    found.append(f"{label}: {row} {action} is {actual}, intended {wanted}")
            for action in sorted(set(intended[label][row]) - set(rows[row])):
                found.append(f"{label}: {row} {action} is not a column of the matrix")
    return found


KEY_ADMIN = f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin"
ADMIN_ROW = "Admin role/KeyAdmin"


def _with_named_admin(per_key: Mapping[str, Mapping[str, Cell]]) -> dict[str, dict[str, Cell]]:
    """The intended matrix when `sample:adminPrincipals` names KEY_ADMIN: the key policy then
    trusts that role alone to administer, and nobody (the root included) via IAM."""
    admin = per_key["Account root user"]
    crypto_only = {
        row: {a: c for a, c in cells.items() if a not in admin}
        for row, cells in per_key.items()
        if row != "Account admins"
    }
    return {**crypto_only, ADMIN_ROW: admin}


INTENDED_WITH_NAMED_ADMIN = {key: _with_named_admin(rows) for key, rows in INTENDED.items()}
