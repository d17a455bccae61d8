"""The evaluator's decision logic, on the key-policy examples of the AWS KMS Developer Guide.

Examples are adapted from "Default key policy", "Key policies", "AWS KMS condition keys" and
the IAM User Guide's "NotPrincipal" page (account 111122223333 there is 123456789012 here).
"""

from __future__ import annotations

import copy

import pytest

from keypolicy import Outcome, PolicyError, compile_policy, decide

ACCOUNT = "123456789012"
OTHER = "444455556666"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ALICE = f"arn:aws:iam::{ACCOUNT}:user/Alice"
BOB_OTHER = f"arn:aws:iam::{OTHER}:user/Bob"
EXAMPLE_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"
EXAMPLE_SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ExampleRole/my-session"
KEY_ARN = f"arn:aws:kms:us-west-2:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"


def policy(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


# "Default key policy": the one statement KMS applies to a key created programmatically.
ENABLE_IAM = {
    "Sid": "Enable IAM User Permissions",
    "Effect": "Allow",
    "Principal": {"AWS": ROOT},
    "Action": "kms:*",
    "Resource": "*",
}
# "Key users" statement of the console's default policy.
KEY_USERS = {
    "Sid": "Allow use of the key",
    "Effect": "Allow",
    "Principal": {"AWS": EXAMPLE_ROLE},
    "Action": [
        "kms:Encrypt",
        "kms:Decrypt",
        "kms:ReEncrypt*",
        "kms:GenerateDataKey*",
        "kms:DescribeKey",
    ],
    "Resource": "*",
}
# kms:EncryptionAlgorithm: "Allow only one encryption algorithm with this asymmetric KMS key".
ONLY_OAEP_256 = {
    "Sid": "Allow only one encryption algorithm with this asymmetric KMS key",
    "Effect": "Deny",
    "Principal": {"AWS": EXAMPLE_ROLE},
    "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*"],
    "Resource": "*",
    "Condition": {"StringNotEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
}


# --- root principal: delegation to IAM ----------------------------------------------------------


def test_default_key_policy_delegates_every_action_to_iam_for_the_account():
    for caller in (ALICE, EXAMPLE_ROLE, EXAMPLE_SESSION):
        decision = decide(policy(ENABLE_IAM), caller, "kms:Decrypt", {})
        assert decision.outcome is Outcome.VIA_IAM
        assert decision.statement_id == "Enable IAM User Permissions"


def test_default_key_policy_allows_the_root_user_itself():
    # The root user is not governed by IAM policies: the key policy alone decides.
    assert decide(policy(ENABLE_IAM), ROOT, "kms:Decrypt", {}).outcome is Outcome.ALLOW


def test_bare_account_id_is_the_account_principal():
    statement = {**ENABLE_IAM, "Principal": {"AWS": ACCOUNT}}
    assert decide(policy(statement), ALICE, "kms:Sign", {}).outcome is Outcome.VIA_IAM


def test_account_principal_does_not_reach_another_account():
    decision = decide(policy(ENABLE_IAM), BOB_OTHER, "kms:Decrypt", {})
    assert decision.outcome is Outcome.IMPLICIT_DENY
    assert decision.statement_id is None


def test_cross_account_root_delegates_to_that_accounts_iam():
    statement = {**KEY_USERS, "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"}}
    assert decide(policy(statement), BOB_OTHER, "kms:Encrypt", {}).outcome is Outcome.VIA_IAM
    assert decide(policy(statement), ALICE, "kms:Encrypt", {}).outcome is Outcome.IMPLICIT_DENY


def test_a_direct_grant_beats_delegation():
    decision = decide(policy(ENABLE_IAM, KEY_USERS), EXAMPLE_SESSION, "kms:Encrypt", {})
    assert decision.outcome is Outcome.ALLOW
    assert decision.statement_id == "Allow use of the key"


# --- deny precedence ----------------------------------------------------------------------------


def test_explicit_deny_wins_over_any_allow():
    doc = policy(ENABLE_IAM, KEY_USERS, ONLY_OAEP_256)
    decision = decide(
        doc, EXAMPLE_SESSION, "kms:Encrypt", {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1"}
    )
    assert decision.outcome is Outcome.EXPLICIT_DENY
    assert decision.statement_id == ONLY_OAEP_256["Sid"]


def test_deny_whose_condition_is_false_leaves_the_allow():
    doc = policy(ENABLE_IAM, KEY_USERS, ONLY_OAEP_256)
    context = {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    decision = decide(doc, EXAMPLE_SESSION, "kms:Encrypt", context)
    assert decision.outcome is Outcome.ALLOW
    assert decision.statement_id == "Allow use of the key"


def test_deny_with_negated_operator_applies_when_the_key_is_missing():
    # StringNotEquals on a key absent from the request is true (IAM condition operators).
    doc = policy(KEY_USERS, ONLY_OAEP_256)
    assert decide(doc, EXAMPLE_SESSION, "kms:Decrypt", {}).outcome is Outcome.EXPLICIT_DENY


def test_deny_order_does_not_matter():
    deny_first = policy(ONLY_OAEP_256, KEY_USERS)
    context = {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}
    assert decide(deny_first, EXAMPLE_SESSION, "kms:Encrypt", context).outcome is (
        Outcome.EXPLICIT_DENY
    )


def test_deny_to_the_account_covers_every_principal_in_it():
    deny = {
        "Sid": "NoDecryptInAccount",
        "Effect": "Deny",
        "Principal": {"AWS": ROOT},
        "Action": "kms:Decrypt",
        "Resource": "*",
    }
    doc = policy(KEY_USERS, deny)
    assert decide(doc, EXAMPLE_SESSION, "kms:Decrypt", {}).outcome is Outcome.EXPLICIT_DENY
    assert decide(doc, EXAMPLE_SESSION, "kms:Encrypt", {}).outcome is Outcome.ALLOW


# --- principals ---------------------------------------------------------------------------------


def test_role_arn_matches_its_assumed_role_sessions():
    assert decide(policy(KEY_USERS), EXAMPLE_SESSION, "kms:Encrypt", {}).outcome is Outcome.ALLOW
    other_session = f"arn:aws:sts::{ACCOUNT}:assumed-role/OtherRole/my-session"
    assert decide(policy(KEY_USERS), other_session, "kms:Encrypt", {}).outcome is (
        Outcome.IMPLICIT_DENY
    )


def test_role_with_a_path_matches_sessions_by_role_name():
    # Session ARNs carry no path: arn:aws:sts::ACCT:assumed-role/NAME/SESSION.
    statement = {**KEY_USERS, "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/team/ExampleRole"}}
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}).outcome is Outcome.ALLOW


def test_role_in_another_account_with_the_same_name_does_not_match():
    session = f"arn:aws:sts::{OTHER}:assumed-role/ExampleRole/my-session"
    assert decide(policy(KEY_USERS), session, "kms:Encrypt", {}).outcome is Outcome.IMPLICIT_DENY


def test_session_principal_matches_only_that_session():
    statement = {**KEY_USERS, "Principal": {"AWS": EXAMPLE_SESSION}}
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}).outcome is Outcome.ALLOW
    other = f"arn:aws:sts::{ACCOUNT}:assumed-role/ExampleRole/other-session"
    assert decide(policy(statement), other, "kms:Encrypt", {}).outcome is Outcome.IMPLICIT_DENY
    assert decide(policy(statement), EXAMPLE_ROLE, "kms:Encrypt", {}).outcome is (
        Outcome.IMPLICIT_DENY
    )


def test_user_principal_matches_exactly():
    statement = {**KEY_USERS, "Principal": {"AWS": [ALICE]}}
    assert decide(policy(statement), ALICE, "kms:Encrypt", {}).outcome is Outcome.ALLOW
    alice2 = f"arn:aws:iam::{ACCOUNT}:user/Alice2"
    assert decide(policy(statement), alice2, "kms:Encrypt", {}).outcome is Outcome.IMPLICIT_DENY


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": ["*"]}])
def test_wildcard_principal_matches_anyone(principal):
    statement = {**KEY_USERS, "Principal": principal}
    for caller in (ALICE, BOB_OTHER, EXAMPLE_SESSION, "*"):
        assert decide(policy(statement), caller, "kms:Encrypt", {}).outcome is Outcome.ALLOW


def test_caller_account_condition_limits_a_wildcard_principal():
    # kms:CallerAccount example (AWS managed key for Amazon EBS).
    statement = {
        "Sid": "Allow access through EBS for all principals in the account",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Condition": {
            "StringEquals": {
                "kms:CallerAccount": ACCOUNT,
                "kms:ViaService": "ec2.us-west-2.amazonaws.com",
            }
        },
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    via_ebs = {"kms:ViaService": "ec2.us-west-2.amazonaws.com"}
    assert decide(policy(statement), ALICE, "kms:Decrypt", via_ebs).outcome is Outcome.ALLOW
    assert decide(policy(statement), ALICE, "kms:Decrypt", {}).outcome is Outcome.IMPLICIT_DENY
    assert decide(policy(statement), BOB_OTHER, "kms:Decrypt", via_ebs).outcome is (
        Outcome.IMPLICIT_DENY
    )


def test_service_principal():
    statement = {**KEY_USERS, "Principal": {"Service": "logs.amazonaws.com"}}
    assert decide(policy(statement), "logs.amazonaws.com", "kms:Encrypt", {}).outcome is (
        Outcome.ALLOW
    )
    assert decide(policy(statement), ALICE, "kms:Encrypt", {}).outcome is Outcome.IMPLICIT_DENY


# NotPrincipal with Deny (IAM User Guide, "NotPrincipal"): everyone but the listed chain.
NOT_BOB = {
    "Sid": "DenyAllButBob",
    "Effect": "Deny",
    "NotPrincipal": {"AWS": [BOB_OTHER, f"arn:aws:iam::{OTHER}:root"]},
    "Action": "kms:*",
    "Resource": "*",
}
AUDIT_SESSION = f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/audit-app"
NOT_AUDIT = {
    "Sid": "DenyAllButAudit",
    "Effect": "Deny",
    "NotPrincipal": {
        "AWS": [
            AUDIT_SESSION,
            f"arn:aws:iam::{OTHER}:role/cross-account-read-only-role",
            f"arn:aws:iam::{OTHER}:root",
        ]
    },
    "Action": "kms:*",
    "Resource": "*",
}
ALLOW_ALL = {
    "Sid": "AllowAll",
    "Effect": "Allow",
    "Principal": "*",
    "Action": "kms:*",
    "Resource": "*",
}


def test_not_principal_deny_spares_only_the_listed_user():
    doc = policy(ALLOW_ALL, NOT_BOB)
    assert decide(doc, BOB_OTHER, "kms:Decrypt", {}).outcome is Outcome.ALLOW
    decision = decide(doc, ALICE, "kms:Decrypt", {})
    assert (decision.outcome, decision.statement_id) == (Outcome.EXPLICIT_DENY, "DenyAllButBob")


def test_not_principal_deny_spares_the_listed_session_chain():
    doc = policy(ALLOW_ALL, NOT_AUDIT)
    assert decide(doc, AUDIT_SESSION, "kms:Decrypt", {}).outcome is Outcome.ALLOW
    other_session = f"arn:aws:sts::{OTHER}:assumed-role/cross-account-read-only-role/other"
    assert decide(doc, other_session, "kms:Decrypt", {}).outcome is Outcome.EXPLICIT_DENY


def test_not_principal_without_the_account_still_denies():
    # Only Bob's ARN listed: AWS may deny his account first, so Bob is denied too.
    statement = {**NOT_BOB, "NotPrincipal": {"AWS": BOB_OTHER}}
    assert decide(policy(ALLOW_ALL, statement), BOB_OTHER, "kms:Decrypt", {}).outcome is (
        Outcome.EXPLICIT_DENY
    )


# --- actions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "outcome"),
    [
        ("kms:Encrypt", Outcome.ALLOW),
        ("kms:encrypt", Outcome.ALLOW),
        ("KMS:ENCRYPT", Outcome.ALLOW),
        ("kms:ReEncryptFrom", Outcome.ALLOW),
        ("kms:ReEncryptTo", Outcome.ALLOW),
        ("kms:GenerateDataKeyPairWithoutPlaintext", Outcome.ALLOW),
        ("kms:Sign", Outcome.IMPLICIT_DENY),
        ("kms:ScheduleKeyDeletion", Outcome.IMPLICIT_DENY),
    ],
)
def test_action_wildcards_and_case(action, outcome):
    assert decide(policy(KEY_USERS), EXAMPLE_SESSION, action, {}).outcome is outcome


def test_action_names_in_the_policy_are_case_insensitive():
    statement = {**KEY_USERS, "Action": ["KMS:decrypt", "kms:reencrypt*"]}
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:Decrypt", {}).outcome is Outcome.ALLOW
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:ReEncryptTo", {}).outcome is (
        Outcome.ALLOW
    )


def test_question_mark_matches_one_character():
    statement = {**KEY_USERS, "Action": "kms:?ign"}
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:Sign", {}).outcome is Outcome.ALLOW
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:Verify", {}).outcome is (
        Outcome.IMPLICIT_DENY
    )


def test_star_action_matches_every_action():
    statement = {**KEY_USERS, "Action": "*"}
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:PutKeyPolicy", {}).outcome is (
        Outcome.ALLOW
    )


def test_not_action_allows_everything_else():
    # The console's key-administrators statement is often written as "all but crypto".
    statement = {
        "Sid": "AdminsNoCrypto",
        "Effect": "Allow",
        "Principal": {"AWS": EXAMPLE_ROLE},
        "NotAction": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*"],
        "Resource": "*",
    }
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:PutKeyPolicy", {}).outcome is (
        Outcome.ALLOW
    )
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:ReEncryptFrom", {}).outcome is (
        Outcome.IMPLICIT_DENY
    )


# --- resources ----------------------------------------------------------------------------------


def test_resource_arn_wildcards():
    statement = {**KEY_USERS, "Resource": "arn:aws:kms:us-west-2:123456789012:key/*"}
    other_region = KEY_ARN.replace("us-west-2", "eu-west-1")
    assert decide(
        policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}, resource=KEY_ARN
    ).outcome is (Outcome.ALLOW)
    assert (
        decide(policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}, resource=other_region).outcome
        is Outcome.IMPLICIT_DENY
    )


def test_resource_wildcard_does_not_cross_arn_parts():
    statement = {**KEY_USERS, "Resource": "arn:aws:kms:*:123456789012:key/*"}
    assert decide(
        policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}, resource=KEY_ARN
    ).outcome is (Outcome.ALLOW)
    statement = {**KEY_USERS, "Resource": "arn:aws:kms:*"}
    assert decide(
        policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}, resource=KEY_ARN
    ).outcome is (Outcome.IMPLICIT_DENY)


def test_not_resource():
    statement = {**KEY_USERS, "NotResource": KEY_ARN}
    del statement["Resource"]
    other = KEY_ARN[:-1] + "c"
    assert decide(
        policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}, resource=KEY_ARN
    ).outcome is (Outcome.IMPLICIT_DENY)
    assert decide(
        policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}, resource=other
    ).outcome is (Outcome.ALLOW)


def test_specific_resource_without_the_key_arn_is_an_error():
    statement = {**KEY_USERS, "Resource": KEY_ARN}
    with pytest.raises(PolicyError, match="pass resource="):
        decide(policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {})


# --- the deciding statement ---------------------------------------------------------------------


def test_statement_without_sid_is_named_by_index():
    statement = {k: v for k, v in KEY_USERS.items() if k != "Sid"}
    decision = decide(policy(ENABLE_IAM, statement), EXAMPLE_SESSION, "kms:Encrypt", {})
    assert decision.statement_id == "Statement[1]"


def test_decision_carries_the_deciding_condition():
    statement = {**KEY_USERS, "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": "X"}}}
    decision = decide(
        policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {"kms:EncryptionAlgorithm": "X"}
    )
    assert decision.condition == statement["Condition"]


def test_single_statement_object_is_accepted():
    doc = {"Version": "2012-10-17", "Statement": KEY_USERS}
    assert decide(doc, EXAMPLE_SESSION, "kms:Encrypt", {}).outcome is Outcome.ALLOW


def test_policy_as_json_text():
    import json

    assert decide(json.dumps(policy(KEY_USERS)), EXAMPLE_SESSION, "kms:Encrypt").outcome is (
        Outcome.ALLOW
    )


def test_decide_does_not_modify_its_inputs():
    doc = policy(KEY_USERS, ONLY_OAEP_256)
    before = copy.deepcopy(doc)
    context = {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    decide(doc, EXAMPLE_SESSION, "kms:Encrypt", context)
    assert doc == before
    assert context == {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}


def test_compiled_policy_decides_like_decide():
    doc = policy(ENABLE_IAM, KEY_USERS, ONLY_OAEP_256)
    compiled = compile_policy(doc)
    for caller in (ALICE, EXAMPLE_SESSION, BOB_OTHER, ROOT):
        for action in ("kms:Encrypt", "kms:Decrypt", "kms:Sign"):
            for context in ({}, {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}):
                assert compiled.decide(caller, action, context) == decide(
                    doc, caller, action, context
                )


def test_deleted_principal_shown_as_unique_id_matches_nobody():
    # KMS shows a deleted role's unique ID; a new role with the same name is not that role.
    statement = {**KEY_USERS, "Principal": {"AWS": "AROAEXAMPLEID12345678"}}
    assert decide(policy(statement), EXAMPLE_SESSION, "kms:Encrypt", {}).outcome is (
        Outcome.IMPLICIT_DENY
    )


def test_anyone_caller_is_reached_only_by_wildcard_principals():
    # "*" as the caller is the matrix's "any principal at all" row.
    assert decide(policy(ENABLE_IAM, KEY_USERS), "*", "kms:Encrypt").outcome is (
        Outcome.IMPLICIT_DENY
    )
    assert decide(policy(ALLOW_ALL), "*", "kms:Encrypt").outcome is Outcome.ALLOW


def test_partitions_do_not_mix():
    china_session = "arn:aws-cn:sts::123456789012:assumed-role/ExampleRole/my-session"
    assert decide(policy(KEY_USERS), china_session, "kms:Encrypt").outcome is (
        Outcome.IMPLICIT_DENY
    )
    assert decide(policy(ENABLE_IAM), china_session, "kms:Encrypt").outcome is (
        Outcome.IMPLICIT_DENY
    )
