"""Each key policy, asserted whole: no extra statement, action, principal or condition."""

from __future__ import annotations

import copy

import pytest

from tests.stacks.stack_checks import (
    ROOT,
    check_admin_statement,
    check_no_identity_policies,
    expected_encryption_key_policy,
    expected_signing_key_policy,
)

ADMINS = [
    "arn:aws:iam::123456789012:role/KeyAdmin",
    "arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1",
]


def _roles(synthesized):
    return synthesized.logical_id("SenderRole/Role"), synthesized.logical_id("ReceiverRole/Role")


def test_encryption_key_policy_is_exactly_admin_encrypt_public_key_decrypt(default):
    sender, receiver = _roles(default)
    assert default.key_policy("EncryptionKey") == expected_encryption_key_policy(
        ROOT, sender, receiver
    )


def test_signing_key_policy_is_exactly_admin_sign_verify_public_key(default):
    sender, receiver = _roles(default)
    assert default.key_policy("SigningKey") == expected_signing_key_policy(ROOT, sender, receiver)


def test_configured_admin_principals_replace_the_account_root(configured):
    sender, receiver = _roles(configured)
    assert configured.key_policy("EncryptionKey") == expected_encryption_key_policy(
        ADMINS, sender, receiver
    )
    assert configured.key_policy("SigningKey") == expected_signing_key_policy(
        ADMINS, sender, receiver
    )


@pytest.mark.parametrize("key", ["EncryptionKey", "SigningKey"])
def test_administration_is_administrative_only_and_passes_the_lockout_check(default, key):
    (admin,) = [s for s in default.key_policy(key)["Statement"] if s["Sid"] == "KeyAdministration"]
    check_admin_statement(admin)


@pytest.mark.parametrize("key", ["EncryptionKey", "SigningKey"])
def test_only_the_admin_statement_names_the_account_root(default, key):
    principals = [s["Principal"]["AWS"] for s in default.key_policy(key)["Statement"]]
    assert principals.count(ROOT) == 1
    assert principals[0] == ROOT


# --- the checks catch what they guard --------------------------------------------------------


@pytest.mark.parametrize(
    ("added", "reason"),
    [
        ("kms:Decrypt", "cryptographic use"),
        ("kms:ReEncrypt*", "listed one by one"),
        ("kms:GenerateDataKey", "cryptographic use"),
        ("kms:CreateGrant", "cryptographic use"),
        ("kms:Get*", "listed one by one"),
        ("kms:GetPublicKey", "cryptographic use"),
        ("kms:*", "listed one by one"),
    ],
)
def test_admin_check_rejects_an_action_that_gives_cryptographic_use(default, added, reason):
    admin = copy.deepcopy(default.key_policy("EncryptionKey")["Statement"][0])
    admin["Action"] = sorted([*admin["Action"], added])
    with pytest.raises(AssertionError, match=reason):
        check_admin_statement(admin)


def test_admin_check_rejects_a_policy_that_fails_the_lockout_safety_check(default):
    admin = copy.deepcopy(default.key_policy("SigningKey")["Statement"][0])
    admin["Action"].remove("kms:PutKeyPolicy")
    with pytest.raises(AssertionError, match=r"kms:PutKeyPolicy"):
        check_admin_statement(admin)


def test_admin_check_rejects_cdks_default_key_policy(tampered):
    resource = tampered.doc["Resources"][tampered.logical_id("DefaultPolicyKey")]
    (root_statement,) = resource["Properties"]["KeyPolicy"]["Statement"]
    assert root_statement["Action"] == "kms:*"
    with pytest.raises(AssertionError, match="listed one by one"):
        check_admin_statement(root_statement)


def test_exact_assertion_catches_an_extra_key_policy_statement(tampered):
    sender, receiver = _roles(tampered)
    policy = tampered.key_policy("SigningKey")
    assert policy != expected_signing_key_policy(ROOT, sender, receiver)
    assert [s["Sid"] for s in policy["Statement"]][-1] == "ReceiverSign"


def test_exact_assertion_catches_a_dropped_algorithm_condition(default):
    sender, receiver = _roles(default)
    policy = copy.deepcopy(default.key_policy("EncryptionKey"))
    del policy["Statement"][3]["Condition"]
    assert policy != expected_encryption_key_policy(ROOT, sender, receiver)


def test_grant_helpers_would_write_identity_policies_and_are_caught(tampered):
    # grant_decrypt puts a same-account grant into an AWS::IAM::Policy, which the restricted
    # root statement makes useless, and adds nothing to the key policy.
    with pytest.raises(AssertionError):
        check_no_identity_policies(tampered.doc)
    (policy,) = tampered.resources("AWS::IAM::Policy").values()
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "kms:Decrypt"
