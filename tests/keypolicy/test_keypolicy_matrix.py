"""The access matrix on hand-written key policies: how each kind of statement shows up."""

from __future__ import annotations

import pytest

from keypolicy import Outcome, PolicyError
from keypolicy.matrix import COLUMNS, build_matrix, render_table, to_json
from kms_sign_encrypt.access_rows import OTHER_ACCOUNT, matrix_rows

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
SENDER = f"arn:aws:iam::{ACCOUNT}:role/SenderRole"
RECEIVER = f"arn:aws:iam::{ACCOUNT}:role/ReceiverRole"
KEY_ARN = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
ROWS = matrix_rows(ACCOUNT, sender_role_arn=SENDER, receiver_role_arn=RECEIVER)


def matrix_of(*statements, key_arn=None, rows=ROWS, **options):
    policy = {"Version": "2012-10-17", "Statement": list(statements)}
    return build_matrix({"key": (key_arn, policy)}, rows, **options)


def allow(principal, action, sid=None, **extra):
    statement = {"Effect": "Allow", "Principal": principal, "Action": action, "Resource": "*"}
    if sid:
        statement["Sid"] = sid
    return {**statement, **extra}


def cell(matrix, row, action):
    return matrix.permission("key", row, action)


def test_standard_rows():
    assert {
        "SenderRole": f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderRole/access-matrix",
        "ReceiverRole": f"arn:aws:sts::{ACCOUNT}:assumed-role/ReceiverRole/access-matrix",
        "Account admins": f"arn:aws:iam::{ACCOUNT}:role/Admin",
        "Account root user": ROOT,
        "Other in account": f"arn:aws:iam::{ACCOUNT}:role/AnyOtherRole",
        "Another account": f"arn:aws:iam::{OTHER_ACCOUNT}:role/AnyRole",
        "Anyone": "*",
    } == ROWS


def test_configured_admins_replace_the_example_admin_row():
    rows = matrix_rows(
        ACCOUNT,
        sender_role_arn=SENDER,
        receiver_role_arn=RECEIVER,
        admin_arns=[f"arn:aws:iam::{ACCOUNT}:role/KeyAdmin", f"arn:aws:iam::{ACCOUNT}:user/ops"],
    )
    assert (
        rows["Admin role/KeyAdmin"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/KeyAdmin/access-matrix"
    )
    assert rows["Admin user/ops"] == f"arn:aws:iam::{ACCOUNT}:user/ops"
    assert "Account admins" not in rows


def test_every_kms_action_is_in_exactly_one_column():
    from keypolicy.actions import KMS_ACTIONS

    listed = [a for _h, group in COLUMNS for a in group]
    assert sorted(listed) == sorted(KMS_ACTIONS)


def test_unconditional_and_conditional_allows():
    m = matrix_of(
        allow(
            {"AWS": SENDER},
            "kms:Encrypt",
            "E",
            Condition={"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
        ),
        allow({"AWS": RECEIVER}, "kms:Decrypt", "D"),
    )
    encrypt = cell(m, "SenderRole", "kms:Encrypt")
    assert (encrypt.outcome, encrypt.conditions, encrypt.statements) == (
        Outcome.ALLOW,
        ("kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256",),
        ("E",),
    )
    decrypt = cell(m, "ReceiverRole", "kms:Decrypt")
    assert (decrypt.outcome, decrypt.conditions, decrypt.statements) == (Outcome.ALLOW, (), ("D",))
    assert cell(m, "ReceiverRole", "kms:Encrypt").outcome is Outcome.IMPLICIT_DENY


def test_two_conditional_statements_are_alternatives():
    m = matrix_of(
        allow(
            {"AWS": SENDER},
            "kms:Sign",
            "A",
            Condition={"StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_512"}},
        ),
        allow(
            {"AWS": SENDER}, "kms:Sign", "B", Condition={"StringEquals": {"kms:MessageType": "RAW"}}
        ),
    )
    sign = cell(m, "SenderRole", "kms:Sign")
    assert sign.conditions == ("kms:SigningAlgorithm = ECDSA_SHA_512", "kms:MessageType = RAW")
    assert sign.statements == ("A", "B")
    assert "only if kms:SigningAlgorithm = ECDSA_SHA_512 or kms:MessageType = RAW, by A, B" in (
        render_table(m)
    )


def test_one_unconditional_statement_makes_the_cell_unconditional():
    m = matrix_of(
        allow(
            {"AWS": SENDER}, "kms:Sign", "A", Condition={"StringEquals": {"kms:MessageType": "RAW"}}
        ),
        allow({"AWS": SENDER}, "kms:Sign", "B"),
    )
    assert cell(m, "SenderRole", "kms:Sign").conditions == ()


def test_root_statement_is_via_iam_for_the_account_and_allow_for_the_root_user():
    m = matrix_of(allow({"AWS": ROOT}, "kms:*", "Root"))
    for row in ("SenderRole", "ReceiverRole", "Account admins", "Other in account"):
        assert cell(m, row, "kms:Decrypt").outcome is Outcome.VIA_IAM
    assert cell(m, "Account root user", "kms:Decrypt").outcome is Outcome.ALLOW
    assert cell(m, "Another account", "kms:Decrypt").outcome is Outcome.IMPLICIT_DENY
    assert cell(m, "Anyone", "kms:Decrypt").outcome is Outcome.IMPLICIT_DENY


def test_conditional_direct_allow_falls_back_to_iam():
    m = matrix_of(
        allow({"AWS": ROOT}, "kms:*", "Root"),
        allow(
            {"AWS": SENDER},
            "kms:Encrypt",
            "E",
            Condition={"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
        ),
    )
    encrypt = cell(m, "SenderRole", "kms:Encrypt")
    assert (encrypt.outcome, encrypt.otherwise) == (Outcome.ALLOW, Outcome.VIA_IAM)
    assert "otherwise via IAM" in render_table(m)
    assert to_json(m)["keys"][0]["access"]["SenderRole"]["kms:Encrypt"]["otherwise"] == "via-iam"


def test_explicit_deny_shows_as_deny():
    deny = {**allow("*", "kms:Decrypt", "NoDecrypt"), "Effect": "Deny"}
    m = matrix_of(allow({"AWS": ROOT}, "kms:*", "Root"), deny)
    decrypt = cell(m, "Account admins", "kms:Decrypt")
    assert (decrypt.outcome, decrypt.statements) == (Outcome.EXPLICIT_DENY, ("NoDecrypt",))
    assert cell(m, "Anyone", "kms:Decrypt").outcome is Outcome.EXPLICIT_DENY
    table = render_table(m)
    assert "DENY" in table.split("\n\n")[-1]


def test_conditional_deny_is_reported_on_the_allowed_cell():
    deny = {
        **allow({"AWS": SENDER}, ["kms:Encrypt", "kms:Decrypt"], "OnlyOaep256"),
        "Effect": "Deny",
        "Condition": {"StringNotEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
    }
    m = matrix_of(allow({"AWS": SENDER}, "kms:Encrypt", "E"), deny)
    encrypt = cell(m, "SenderRole", "kms:Encrypt")
    assert encrypt.outcome is Outcome.ALLOW
    assert encrypt.denied_when == ("kms:EncryptionAlgorithm != RSAES_OAEP_SHA_256 (OnlyOaep256)",)
    assert cell(m, "SenderRole", "kms:Decrypt").denied_when == encrypt.denied_when


def test_conditions_on_the_callers_own_keys_are_evaluated_for_each_row():
    # The EBS pattern: Principal "*" narrowed to one account with kms:CallerAccount.
    statement = allow(
        {"AWS": "*"},
        "kms:Decrypt",
        "ThroughEbs",
        Condition={
            "StringEquals": {
                "kms:CallerAccount": ACCOUNT,
                "kms:ViaService": "ec2.us-east-1.amazonaws.com",
            }
        },
    )
    m = matrix_of(statement)
    same = cell(m, "Other in account", "kms:Decrypt")
    assert (same.outcome, same.conditions) == (
        Outcome.ALLOW,
        ("kms:ViaService = ec2.us-east-1.amazonaws.com",),
    )
    assert cell(m, "Another account", "kms:Decrypt").outcome is Outcome.IMPLICIT_DENY
    anyone = cell(m, "Anyone", "kms:Decrypt")
    assert anyone.conditions == (
        f"kms:CallerAccount = {ACCOUNT} and kms:ViaService = ec2.us-east-1.amazonaws.com",
    )


def test_principal_arn_condition_is_evaluated_for_sessions_as_their_role():
    statement = allow(
        "*",
        "kms:Verify",
        "RolesOnly",
        Condition={"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCOUNT}:role/Rec*"}},
    )
    m = matrix_of(statement)
    assert cell(m, "ReceiverRole", "kms:Verify").conditions == ()
    assert cell(m, "SenderRole", "kms:Verify").outcome is Outcome.IMPLICIT_DENY


def test_principals_named_in_a_policy_get_rows():
    m = matrix_of(
        allow({"AWS": [SENDER, f"arn:aws:iam::{ACCOUNT}:role/Intruder"]}, "kms:Sign", "S"),
        allow({"AWS": ["111122223333", f"arn:aws:iam::{ACCOUNT}:user/mallory"]}, "kms:Verify", "V"),
        allow({"Service": "logs.amazonaws.com"}, "kms:Encrypt", "L"),
        allow(
            {"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderRole/access-matrix"},
            "kms:Encrypt",
            "Sess",
        ),
    )
    added = list(m.principals)[len(ROWS) :]
    assert added == [
        f"{ACCOUNT}:role/Intruder",
        "111122223333:any principal",
        f"{ACCOUNT}:user/mallory",
        "logs.amazonaws.com",
    ]
    assert cell(m, f"{ACCOUNT}:role/Intruder", "kms:Sign").outcome is Outcome.ALLOW
    assert cell(m, "111122223333:any principal", "kms:Verify").outcome is Outcome.VIA_IAM
    assert cell(m, "logs.amazonaws.com", "kms:Encrypt").outcome is Outcome.ALLOW


def test_named_principals_can_be_left_out():
    m = matrix_of(
        allow({"AWS": f"arn:aws:iam::{ACCOUNT}:role/Intruder"}, "kms:Sign"),
        add_named_principals=False,
    )
    assert list(m.principals) == list(ROWS)


def test_not_principal_deny():
    # IAM docs: AWS may check the account, the role, then the session, so a session is spared
    # only when all three are listed (a role ARN alone does not spare its sessions).
    session = ROWS["ReceiverRole"]
    deny = {
        "Sid": "OnlyReceiverDecrypts",
        "Effect": "Deny",
        "NotPrincipal": {"AWS": [RECEIVER, ROOT]},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    m = matrix_of(allow({"AWS": ROOT}, "kms:*", "Root"), deny)
    assert cell(m, "ReceiverRole", "kms:Decrypt").outcome is Outcome.EXPLICIT_DENY
    deny["NotPrincipal"]["AWS"].append(session)
    m = matrix_of(allow({"AWS": ROOT}, "kms:*", "Root"), deny)
    assert cell(m, "ReceiverRole", "kms:Decrypt").outcome is Outcome.VIA_IAM
    assert cell(m, "SenderRole", "kms:Decrypt").outcome is Outcome.EXPLICIT_DENY
    assert cell(m, "Account root user", "kms:Decrypt").outcome is Outcome.ALLOW
    assert cell(m, "Anyone", "kms:Decrypt").outcome is Outcome.EXPLICIT_DENY


def test_grouped_column_with_different_outcomes():
    m = matrix_of(allow({"AWS": SENDER}, "kms:GenerateDataKey", "G"))
    table = render_table(m)
    assert "yes 1/4[1]" in table
    assert (
        "[1] GenDataKey*: allowed for 1 of 4; denied for GenerateDataKeyWithoutPlaintext, "
        "GenerateDataKeyPair, GenerateDataKeyPairWithoutPlaintext" in table.replace("\n      ", " ")
    )


def test_resource_is_matched_against_the_key_arn():
    statement = {**allow({"AWS": SENDER}, "kms:Sign", "S"), "Resource": KEY_ARN}
    assert cell(matrix_of(statement, key_arn=KEY_ARN), "SenderRole", "kms:Sign").outcome is (
        Outcome.ALLOW
    )
    other = KEY_ARN[:-1] + "c"
    assert cell(matrix_of(statement, key_arn=other), "SenderRole", "kms:Sign").outcome is (
        Outcome.IMPLICIT_DENY
    )
    with pytest.raises(PolicyError, match="pass resource="):
        matrix_of(statement)


def test_unsupported_policy_is_an_error_not_an_empty_matrix():
    with pytest.raises(PolicyError, match="not supported"):
        matrix_of(
            allow(
                {"AWS": SENDER},
                "kms:Sign",
                Condition={"NumericLessThan": {"kms:RotationPeriodInDays": "9"}},
            )
        )


def test_render_shows_the_key_arn_and_the_rows():
    table = render_table(matrix_of(allow({"AWS": SENDER}, "kms:Sign"), key_arn=KEY_ARN))
    assert f"key  ({KEY_ARN})" in table
    assert "Anyone             any principal at all, anonymous included" in table
    assert all(len(line) <= 100 for line in table.splitlines())
