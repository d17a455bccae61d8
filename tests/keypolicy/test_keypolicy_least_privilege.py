"""The app's key policies grant exactly the intended least-privilege matrix; mutations fail it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from keypolicy import Outcome, decide
from keypolicy.actions import KMS_ACTIONS
from keypolicy.matrix import render_table, to_json
from tests.keypolicy.keypolicy_least_privilege import (
    ACCOUNT,
    ENCRYPTION_KEY,
    INTENDED,
    SIGNING_KEY,
    app_matrix,
    least_privilege_violations,
)


def test_app_matrix_is_the_intended_least_privilege_matrix(app_template):
    assert least_privilege_violations(app_matrix(app_template)) == []


def test_the_check_covers_every_cell(app_template):
    matrix = app_matrix(app_template)
    cells = sum(len(perms) for key in matrix.keys for perms in key.rows.values())
    # 3 keys (two asymmetric, the alarm topic's) x 8 rows (7 standard, EventBridge) x every
    # KMS action, not only the granted ones.
    assert cells == 3 * 8 * len(KMS_ACTIONS)
    granted = sum(len(cells) for rows in INTENDED.values() for cells in rows.values())
    assert granted == 2 * (18 * 5 + 3) + (20 * 5 + 5)


# --- mutations: each must make the least-privilege check fail ------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def statement(template: dict[str, Any], sid: str) -> dict[str, Any]:
    """The key-policy statement with this Sid (each Sid names one statement per key)."""
    for resource in template["Resources"].values():
        if resource["Type"] != "AWS::KMS::Key":
            continue
        for candidate in resource["Properties"]["KeyPolicy"]["Statement"]:
            if candidate.get("Sid") == sid:
                return candidate
    raise LookupError(sid)


def key_policy(template: dict[str, Any], key_logical_prefix: str) -> dict[str, Any]:
    for logical_id, resource in template["Resources"].items():
        if resource["Type"] == "AWS::KMS::Key" and logical_id.startswith(key_logical_prefix):
            return resource["Properties"]["KeyPolicy"]
    raise LookupError(key_logical_prefix)


def set_action(sid: str, action: Any) -> Mutation:
    return lambda t: statement(t, sid).update(Action=action)


def add_principal(sid: str, principal: str) -> Mutation:
    def mutate(t: dict[str, Any]) -> None:
        element = statement(t, sid)["Principal"]
        element["AWS"] = [element["AWS"], principal]

    return mutate


def drop_condition(sid: str) -> Mutation:
    return lambda t: statement(t, sid).pop("Condition")


def set_principal(sid: str, principal: Any) -> Mutation:
    return lambda t: statement(t, sid).update(Principal=principal)


def add_statement(key_prefix: str, new: dict[str, Any]) -> Mutation:
    return lambda t: key_policy(t, key_prefix)["Statement"].append(new)


ROOT_JOIN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
    ]
}
MUTATIONS: dict[str, tuple[Mutation, str]] = {
    # a wildcard action
    "sender encrypt gets kms:*": (set_action("SenderEncrypt", "kms:*"), "SenderRole kms:Decrypt"),
    "receiver verify gets *": (set_action("ReceiverVerify", "*"), "ReceiverRole kms:Sign"),
    "sender sign gets kms:Sign*": (
        set_action("SenderSign", ["kms:Sign", "kms:Get*"]),
        "SenderRole kms:GetPublicKey",
    ),
    "receiver decrypt gets kms:ReEncrypt*": (
        set_action("ReceiverDecrypt", ["kms:Decrypt", "kms:ReEncrypt*"]),
        "ReceiverRole kms:ReEncryptFrom",
    ),
    # an extra principal
    "extra role may decrypt": (
        add_principal("ReceiverDecrypt", f"arn:aws:iam::{ACCOUNT}:role/Intruder"),
        "unexpected rows ['123456789012:role/Intruder']",
    ),
    "another account may sign": (
        add_principal("SenderSign", "arn:aws:iam::111122223333:root"),
        "unexpected rows ['111122223333:any principal']",
    ),
    "the matrix's other account may sign": (
        add_principal("SenderSign", "arn:aws:iam::444455556666:root"),
        "Another account kms:Sign",
    ),
    "account root may verify": (
        add_principal("ReceiverVerify", {"Ref": "AWS::AccountId"}),
        "Other in account kms:Verify",
    ),
    "a user may get the public key": (
        add_principal("SenderGetPublicKey", f"arn:aws:iam::{ACCOUNT}:user/mallory"),
        "unexpected rows ['123456789012:user/mallory']",
    ),
    # a dropped algorithm condition
    "sender encrypt without algorithm": (drop_condition("SenderEncrypt"), "kms:Encrypt"),
    "receiver decrypt without algorithm": (drop_condition("ReceiverDecrypt"), "kms:Decrypt"),
    "sender sign without algorithm": (drop_condition("SenderSign"), "kms:Sign"),
    "receiver verify without algorithm": (drop_condition("ReceiverVerify"), "kms:Verify"),
    "a weaker algorithm condition": (
        lambda t: statement(t, "ReceiverDecrypt")["Condition"]["StringEquals"].update(
            {"kms:EncryptionAlgorithm": ["RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"]}
        ),
        "ReceiverRole kms:Decrypt",
    ),
    # the root given kms:*
    "root gets kms:* on the encryption key": (
        set_action("KeyAdministration", "kms:*"),
        "Account admins kms:Decrypt",
    ),
    "root gets kms:* in a new statement": (
        add_statement(
            "SigningKey",
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT_JOIN},
                "Action": "kms:*",
                "Resource": "*",
            },
        ),
        "Other in account kms:Sign",
    ),
    # Principal "*"
    "anyone may verify": (set_principal("ReceiverVerify", "*"), "Anyone kms:Verify"),
    "AWS * may encrypt": (
        set_principal("SenderEncrypt", {"AWS": "*"}),
        "Another account kms:Encrypt",
    ),
    "anyone may read the public key": (
        add_principal("ReceiverGetPublicKey", "*"),
        "Anyone kms:GetPublicKey",
    ),
    # the alarm topic's key (issue 15) must not hand a cryptographic right to anyone else
    "the sender may use the alarm topic's key": (
        set_principal(
            "EventBridgePublishesToTheAlarmTopic",
            {"AWS": {"Fn::GetAtt": ["SenderRole098C32F0", "Arn"]}},
        ),
        "KeyChangeAlarmsTopicKeyE23E93FB: SenderRole kms:Decrypt",
    ),
    "EventBridge may do anything with the alarm topic's key": (
        set_action("EventBridgePublishesToTheAlarmTopic", "kms:*"),
        "events.amazonaws.com kms:Encrypt",
    ),
    "the account may use the alarm topic's key via IAM": (
        add_statement(
            "KeyChangeAlarmsTopicKey",
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT_JOIN},
                "Action": "kms:Decrypt",
                "Resource": "*",
            },
        ),
        "KeyChangeAlarmsTopicKeyE23E93FB: ReceiverRole kms:Decrypt",
    ),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_breaks_least_privilege(app_template, name):
    mutate, expected_violation = MUTATIONS[name]
    mutated = copy.deepcopy(app_template)
    mutate(mutated)
    violations = least_privilege_violations(app_matrix(mutated))
    assert violations, f"mutation {name!r} went unnoticed"
    assert any(expected_violation in v for v in violations), violations


def test_mutations_leave_the_original_alone(app_template):
    assert least_privilege_violations(app_matrix(app_template)) == []


# --- the matrix agrees with the request-time evaluator --------------------------------------------

ALGORITHM_CONTEXT = {
    "kms:EncryptionAlgorithm": ("RSAES_OAEP_SHA_256", "RSAES_OAEP_SHA_1"),
    "kms:SigningAlgorithm": ("ECDSA_SHA_512", "ECDSA_SHA_256"),
}


def test_every_cell_agrees_with_decide(app_template):
    """Each cell, replayed as requests: with the right algorithm, a wrong one, and none."""
    matrix = app_matrix(app_template)
    policies = {key.label: key.policy for key in _template_keys(app_template)}
    for key in matrix.keys:
        for row, permissions in key.rows.items():
            caller = matrix.principals[row]
            for action, permission in permissions.items():
                right = {k: v[0] for k, v in ALGORITHM_CONTEXT.items()}
                wrong = {k: v[1] for k, v in ALGORITHM_CONTEXT.items()}
                with_right = decide(policies[key.label], caller, action, right)
                with_wrong = decide(policies[key.label], caller, action, wrong)
                assert with_right.outcome is permission.outcome, (key.label, row, action)
                if permission.conditions:
                    assert with_wrong.outcome is Outcome.IMPLICIT_DENY, (key.label, row, action)
                    assert decide(policies[key.label], caller, action, {}).outcome is (
                        Outcome.IMPLICIT_DENY
                    )
                else:
                    assert with_wrong.outcome is permission.outcome, (key.label, row, action)
                if with_right.statement_id is not None:
                    assert with_right.statement_id in permission.statements


def _template_keys(template):
    from keypolicy.template import extract_key_policies

    return extract_key_policies(template, account=ACCOUNT, region="us-east-1").values()


# --- the printed matrix ---------------------------------------------------------------------------


def test_printed_matrix_fits_a_100_column_terminal(app_template):
    text = render_table(app_matrix(app_template))
    assert max(len(line) for line in text.splitlines()) <= 100
    for label in (ENCRYPTION_KEY, SIGNING_KEY):
        assert label in text
    assert "only if kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256, by SenderEncrypt" in text
    assert "only if kms:SigningAlgorithm = ECDSA_SHA_512, by ReceiverVerify" in text


def test_printed_rows(app_template):
    lines = render_table(app_matrix(app_template)).splitlines()
    encryption = lines.index(next(line for line in lines if line.startswith(ENCRYPTION_KEY)))
    rows = lines[encryption + 2 : encryption + 9]
    table = {line[:17].rstrip(): line[17:].split() for line in rows}
    assert table["SenderRole"][:8] == ["yes[1]", "-", "-", "-", "-", "-", "yes", "IAM"]
    assert table["ReceiverRole"][:8] == ["-", "yes[3]", "-", "-", "-", "-", "-", "IAM"]
    assert table["Account root user"][:8] == ["-"] * 7 + ["yes"]
    assert table["Another account"] == ["-"] * 10
    assert table["Anyone"] == ["-"] * 10


def test_json_matrix(app_template):
    data = to_json(app_matrix(app_template))
    assert json.loads(json.dumps(data)) == data
    encryption = next(k for k in data["keys"] if k["label"] == ENCRYPTION_KEY)
    assert encryption["keyArn"] is None
    assert encryption["access"]["SenderRole"]["kms:Encrypt"] == {
        "outcome": "allow",
        "conditions": ["kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256"],
        "statements": ["SenderEncrypt"],
    }
    assert encryption["access"]["Anyone"]["kms:Decrypt"] == {"outcome": "implicit-deny"}
    assert encryption["access"]["Account admins"]["kms:PutKeyPolicy"] == {
        "outcome": "via-iam",
        "statements": ["KeyAdministration"],
    }


def test_named_admins_replace_the_account_delegation():
    from kms_sign_encrypt.access_rows import matrix_from_template
    from tests.keypolicy.keypolicy_least_privilege import (
        INTENDED_WITH_NAMED_ADMIN,
        KEY_ADMIN,
        synthesize,
    )

    template = synthesize({"sample:adminPrincipals": f'["{KEY_ADMIN}"]'})
    matrix = matrix_from_template(
        template, account=ACCOUNT, region="us-east-1", admin_arns=[KEY_ADMIN]
    )
    assert least_privilege_violations(matrix, INTENDED_WITH_NAMED_ADMIN) == []
    # The same template against the default intent fails: the check tells the two apart.
    assert least_privilege_violations(matrix) != []


def test_the_documented_matrix_is_the_printed_one(app_template):
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "ACCESS-MATRIX.md").read_text()
    start = doc.index("```\nLegend:") + len("```\n")
    documented = doc[start : doc.index("```", start)]
    assert documented == render_table(app_matrix(app_template))
