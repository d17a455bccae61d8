"""Condition operators, IfExists, Null, set qualifiers and missing context keys.

Semantics from the IAM User Guide ("Condition operators", "Multiple context keys or values")
and the KMS condition-key examples.
"""

from __future__ import annotations

import pytest

from keypolicy import Outcome, decide

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ExampleRole/my-session"
MISSING = object()


def allowed(
    condition: dict, context: dict, *, action: str = "kms:Sign", caller: str = SESSION
) -> bool:
    doc = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Conditional",
                "Effect": "Allow",
                "Principal": {"AWS": ROLE},
                "Action": "kms:*",
                "Resource": "*",
                "Condition": condition,
            }
        ],
    }
    outcome = decide(doc, caller, action, context).outcome
    assert outcome in (Outcome.ALLOW, Outcome.IMPLICIT_DENY)
    return outcome is Outcome.ALLOW


KEY = "kms:SigningAlgorithm"


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        ("StringEquals", "ECDSA_SHA_512", "ECDSA_SHA_512", True),
        ("StringEquals", "ECDSA_SHA_512", "ecdsa_sha_512", False),
        ("StringEquals", "ECDSA_SHA_512", "ECDSA_SHA_256", False),
        ("StringEquals", "ECDSA_SHA_512", MISSING, False),
        ("StringEquals", ["ECDSA_SHA_256", "ECDSA_SHA_512"], "ECDSA_SHA_512", True),  # values OR
        ("StringNotEquals", "ECDSA_SHA_512", "ECDSA_SHA_256", True),
        ("StringNotEquals", "ECDSA_SHA_512", "ECDSA_SHA_512", False),
        ("StringNotEquals", "ECDSA_SHA_512", MISSING, True),  # negated: missing key is true
        ("StringNotEquals", ["ECDSA_SHA_256", "ECDSA_SHA_512"], "ECDSA_SHA_512", False),  # NOR
        ("StringNotEquals", ["ECDSA_SHA_256", "ECDSA_SHA_512"], "ECDSA_SHA_384", True),
        ("StringEqualsIgnoreCase", "ecdsa_sha_512", "ECDSA_SHA_512", True),
        ("StringEqualsIgnoreCase", "ecdsa_sha_512", "ECDSA_SHA_256", False),
        ("StringNotEqualsIgnoreCase", "ecdsa_sha_512", "ECDSA_SHA_512", False),
        ("StringNotEqualsIgnoreCase", "ecdsa_sha_512", "ECDSA_SHA_256", True),
        ("StringNotEqualsIgnoreCase", "ecdsa_sha_512", MISSING, True),
        ("StringLike", "ECDSA_*", "ECDSA_SHA_512", True),
        ("StringLike", "ECDSA_SHA_??2", "ECDSA_SHA_512", True),
        ("StringLike", "ECDSA_SHA_??2", "ECDSA_SHA_5122", False),
        ("StringLike", "RSA*", "ECDSA_SHA_512", False),
        ("StringLike", "ecdsa_*", "ECDSA_SHA_512", False),  # case-sensitive
        ("StringLike", "ECDSA_*", MISSING, False),
        ("StringNotLike", "RSA*", "ECDSA_SHA_512", True),
        ("StringNotLike", "ECDSA_*", "ECDSA_SHA_512", False),
        ("StringNotLike", "ECDSA_*", MISSING, True),
        ("StringEqualsIfExists", "ECDSA_SHA_512", MISSING, True),
        ("StringEqualsIfExists", "ECDSA_SHA_512", "ECDSA_SHA_512", True),
        ("StringEqualsIfExists", "ECDSA_SHA_512", "ECDSA_SHA_256", False),
        ("StringLikeIfExists", "ECDSA_*", MISSING, True),
        ("StringLikeIfExists", "ECDSA_*", "RSASSA_PSS_SHA_256", False),
    ],
)
def test_string_operators(operator, policy_value, request_value, expected):
    context = {} if request_value is MISSING else {KEY: request_value}
    assert allowed({operator: {KEY: policy_value}}, context) is expected


PRINCIPAL_KEY = "aws:PrincipalArn"


@pytest.mark.parametrize(
    ("operator", "policy_value", "expected"),
    [
        ("ArnEquals", ROLE, True),
        ("ArnLike", ROLE, True),
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:role/Example*", True),
        ("ArnLike", "arn:aws:iam::*:role/ExampleRole", True),
        ("ArnLike", f"arn:aws:iam::{ACCOUNT}:role/Other*", False),
        ("ArnLike", "arn:aws:iam::*", False),  # a wildcard stays within its ARN part
        ("ArnEquals", f"arn:aws:iam::{ACCOUNT}:role/exampleRole", False),  # case-sensitive
        ("ArnNotEquals", ROLE, False),
        ("ArnNotLike", "arn:aws:iam::*:role/Other*", True),
        ("ArnNotLike", "arn:aws:iam::*:role/Example*", False),
    ],
)
def test_arn_operators_on_the_principal_arn(operator, policy_value, expected):
    # AWS sets aws:PrincipalArn to the role ARN for a session of the role.
    assert allowed({operator: {PRINCIPAL_KEY: policy_value}}, {}) is expected


def test_arn_operator_on_a_missing_key():
    condition = {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::bucket"}}
    assert allowed(condition, {}) is False
    assert allowed({"ArnNotLike": {"aws:SourceArn": "arn:aws:s3:::bucket"}}, {}) is True
    assert allowed({"ArnLikeIfExists": {"aws:SourceArn": "arn:aws:s3:::bucket"}}, {}) is True


def test_context_arn_overrides_the_derived_one():
    # A session of a role with a path: the caller passes aws:PrincipalArn explicitly.
    with_path = f"arn:aws:iam::{ACCOUNT}:role/team/ExampleRole"
    condition = {"ArnEquals": {PRINCIPAL_KEY: with_path}}
    assert allowed(condition, {}) is False
    assert allowed(condition, {PRINCIPAL_KEY: with_path}) is True


@pytest.mark.parametrize(
    ("policy_value", "request_value", "expected"),
    [
        ("true", True, True),
        ("true", "true", True),
        (True, "true", True),  # KMS docs write JSON booleans
        ("true", False, False),
        ("false", False, True),
        ("false", MISSING, False),
        ("true", MISSING, False),
    ],
)
def test_bool(policy_value, request_value, expected):
    context = {} if request_value is MISSING else {"kms:GrantIsForAWSResource": request_value}
    condition = {"Bool": {"kms:GrantIsForAWSResource": policy_value}}
    assert allowed(condition, context, action="kms:CreateGrant") is expected


def test_bool_if_exists():
    condition = {"BoolIfExists": {"aws:MultiFactorAuthPresent": "true"}}
    assert allowed(condition, {}) is True
    assert allowed(condition, {"aws:MultiFactorAuthPresent": "false"}) is False


@pytest.mark.parametrize(
    ("policy_value", "context", "expected"),
    [
        # KMS docs: Allow PutKeyPolicy only when BypassPolicyLockoutSafetyCheck is absent.
        (True, {}, True),
        (True, {"kms:BypassPolicyLockoutSafetyCheck": True}, False),
        ("false", {"kms:BypassPolicyLockoutSafetyCheck": False}, True),
        ("false", {}, False),
        ("true", {"kms:BypassPolicyLockoutSafetyCheck": []}, True),  # empty set counts as absent
    ],
)
def test_null(policy_value, context, expected):
    condition = {"Null": {"kms:BypassPolicyLockoutSafetyCheck": policy_value}}
    assert allowed(condition, context, action="kms:PutKeyPolicy") is expected


CONTEXT_KEYS = "kms:EncryptionContextKeys"


@pytest.mark.parametrize(
    ("operator", "policy_value", "request_value", "expected"),
    [
        # KMS docs, kms:EncryptionContextKeys with ForAnyValue: at least one key must match.
        ("ForAnyValue:StringEquals", "AppName", ["AppName", "Project"], True),
        ("ForAnyValue:StringEquals", "AppName", ["Project"], False),
        ("ForAnyValue:StringEquals", "AppName", MISSING, False),
        ("ForAnyValue:StringEquals", "AppName", [], False),
        # ForAllValues: every key in the request must be listed; none at all passes.
        ("ForAllValues:StringEquals", ["Department", "Project"], ["Department"], True),
        ("ForAllValues:StringEquals", ["Department", "Project"], ["Department", "Stage"], False),
        ("ForAllValues:StringEquals", ["Department", "Project"], MISSING, True),
        ("ForAllValues:StringEquals", ["Department", "Project"], [], True),
        ("ForAnyValue:StringLike", "App*", ["Project", "AppName"], True),
        ("ForAnyValue:StringNotEquals", "AppName", ["AppName", "Stage"], True),
        ("ForAnyValue:StringNotEquals", "AppName", ["AppName"], False),
        ("ForAllValues:StringNotLike", "Secret*", ["AppName", "Stage"], True),
        ("ForAllValues:StringNotLike", "Secret*", ["AppName", "SecretKey"], False),
        # IfExists: a missing key makes the condition true, whatever the qualifier.
        ("ForAnyValue:StringEqualsIfExists", "AppName", MISSING, True),
        ("ForAnyValue:StringEqualsIfExists", "AppName", ["Project"], False),
    ],
)
def test_set_qualifiers(operator, policy_value, request_value, expected):
    context = {} if request_value is MISSING else {CONTEXT_KEYS: request_value}
    assert allowed({operator: {CONTEXT_KEYS: policy_value}}, context, action="kms:Encrypt") is (
        expected
    )


def test_operators_and_keys_are_anded():
    # kms:MessageType + kms:SigningAlgorithm together (KMS condition-key docs).
    condition = {
        "StringEquals": {"kms:SigningAlgorithm": "ECDSA_SHA_512", "kms:MessageType": "RAW"},
        "Null": {"aws:SourceIp": "true"},
    }
    good = {"kms:SigningAlgorithm": "ECDSA_SHA_512", "kms:MessageType": "RAW"}
    assert allowed(condition, good) is True
    assert allowed(condition, {**good, "kms:MessageType": "DIGEST"}) is False
    assert allowed(condition, {"kms:SigningAlgorithm": "ECDSA_SHA_512"}) is False
    assert allowed(condition, {**good, "aws:SourceIp": "192.0.2.1"}) is False


def test_condition_key_names_are_case_insensitive():
    condition = {"StringEquals": {"KMS:signingalgorithm": "ECDSA_SHA_512"}}
    assert allowed(condition, {"kms:SigningAlgorithm": "ECDSA_SHA_512"}) is True
    assert allowed(
        {"StringEquals": {KEY: "ECDSA_SHA_512"}}, {"Kms:SIGNINGALGORITHM": "ECDSA_SHA_512"}
    )


def test_encryption_context_key_is_case_insensitive_in_the_condition_key():
    # KMS docs: kms:EncryptionContext:Appname matches an AppName context key; the value is not.
    condition = {"StringEquals": {"kms:EncryptionContext:Appname": "ExampleApp"}}
    assert allowed(condition, {"kms:EncryptionContext:AppName": "ExampleApp"}, action="kms:Decrypt")
    assert not allowed(
        condition, {"kms:EncryptionContext:AppName": "exampleapp"}, action="kms:Decrypt"
    )


def test_caller_account_is_derived_from_the_caller():
    condition = {"StringEquals": {"kms:CallerAccount": ACCOUNT}}
    assert allowed(condition, {}) is True
    condition = {"StringEquals": {"aws:PrincipalAccount": "444455556666"}}
    assert allowed(condition, {}) is False


def test_numbers_in_the_policy_compare_as_strings():
    assert allowed({"StringEquals": {"kms:CallerAccount": int(ACCOUNT)}}, {}) is True
