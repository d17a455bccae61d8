"""Whatever the evaluator does not understand is a PolicyError: never a silent allow or deny."""

from __future__ import annotations

import pytest

from keypolicy import PolicyError, decide

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/ExampleRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/ExampleRole/my-session"
STATEMENT = {
    "Sid": "Use",
    "Effect": "Allow",
    "Principal": {"AWS": ROLE},
    "Action": "kms:Encrypt",
    "Resource": "*",
}


def with_statement(**changes) -> dict:
    statement = {**STATEMENT, **changes}
    statement = {k: v for k, v in statement.items() if v is not None}
    return {"Version": "2012-10-17", "Statement": [statement]}


def check(doc, message, *, caller=SESSION, action="kms:Encrypt", context=None):
    with pytest.raises(PolicyError, match=message):
        decide(doc, caller, action, context or {})


# An unsupported construct anywhere is an error, even in a statement that would not apply:
# the whole policy is checked before any decision. DENY makes that visible below: the broken
# statement is a Deny the request would otherwise escape.
@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"NumericLessThan": {"kms:RotationPeriodInDays": "90"}}, "NumericLessThan.*not supported"),
        ({"DateLessThan": {"aws:CurrentTime": "2030-01-01T00:00:00Z"}}, "not supported"),
        ({"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}, "not supported"),
        ({"stringequals": {"kms:CallerAccount": ACCOUNT}}, "not supported"),
        ({"ForSomeValues:StringEquals": {"kms:CallerAccount": ACCOUNT}}, "unknown qualifier"),
        ({"NullIfExists": {"kms:CallerAccount": "true"}}, "Null takes no IfExists"),
        ({"StringEquals": {"kms:EncryptionAlgorthm": "RSAES_OAEP_SHA_256"}}, "not a KMS or global"),
        ({"StringEquals": {"s3:prefix": "home/"}}, "not a KMS or global"),
        ({"StringEquals": {"kms:EncryptionContext:user": "${aws:username}"}}, "policy variables"),
        ({"Bool": {"aws:SecureTransport": "yes"}}, "not 'true' or 'false'"),
        ({"Null": {"aws:SourceIp": ["true", "false"]}}, "exactly one value"),
        ({"StringEquals": {"kms:CallerAccount": []}}, "empty list"),
        ({"StringEquals": {"kms:CallerAccount": {"a": 1}}}, "not a string"),
        ({"StringEquals": {}}, "must map keys to values"),
        ("StringEquals", "map of operators"),
    ],
)
def test_unsupported_conditions(condition, message):
    deny = {
        **STATEMENT,
        "Sid": "Deny",
        "Effect": "Deny",
        "Action": "kms:Sign",
        "Condition": condition,
    }
    doc = {"Version": "2012-10-17", "Statement": [STATEMENT, deny]}
    check(doc, message)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"Effect": "allow"}, "Effect must be 'Allow' or 'Deny'"),
        ({"Effect": None}, "Effect must be"),
        ({"Principal": None}, "exactly one of Principal or NotPrincipal"),
        ({"NotPrincipal": {"AWS": ROLE}}, "exactly one of Principal or NotPrincipal"),
        ({"Action": None}, "exactly one of Action or NotAction"),
        ({"NotAction": "kms:Sign"}, "exactly one of Action or NotAction"),
        ({"Resource": None}, "exactly one of Resource or NotResource"),
        ({"Resource": []}, "non-empty list"),
        ({"Action": "kms:Encrpyt"}, "unknown KMS action"),
        ({"Action": "kms:Foo*"}, "matches no KMS action"),
        ({"Action": "s3:GetObject"}, "not a KMS action"),
        ({"Action": "Encrypt"}, "not of the form"),
        ({"Action": ["kms:Encrypt", 7]}, "non-empty string"),
        (
            {"Principal": {"Federated": "cognito-identity.amazonaws.com"}},
            "'Federated' is not supported",
        ),
        ({"Principal": {"CanonicalUser": "79a59df900b949e5"}}, "'CanonicalUser' is not supported"),
        ({"Principal": {"AWS": "arn:aws:iam::123456789012::role/SenderRole"}}, "is not an account"),
        ({"Principal": {"AWS": "arn:aws:iam::*:role/SenderRole"}}, "wildcards are not allowed"),
        ({"Principal": {"AWS": "arn:aws:iam::123456789012:role/*"}}, "wildcards are not allowed"),
        ({"Principal": {"AWS": "arn:aws:iam::123456789012:role/*/Admin"}}, "wildcards are not"),
        ({"Principal": {"AWS": "arn:aws:sts::123456789012:assumed-role/R/*"}}, "wildcards are not"),
        ({"Principal": {"AWS": "12345"}}, "is not an account"),
        ({"Principal": {"AWS": []}}, "non-empty list"),
        ({"Principal": {}}, "non-empty map"),
        ({"Principal": "arn:aws:iam::123456789012:root"}, "'\\*' or a non-empty map"),
        ({"Principal": {"Service": "not a service"}}, "service principal"),
        ({"Sid": 5}, "Sid must be a string"),
        ({"Condition": {}, "Extra": 1}, "unknown element"),
    ],
)
def test_malformed_statements(changes, message):
    check(with_statement(**changes), message)


def test_not_principal_with_allow_is_not_supported():
    doc = with_statement(Principal=None, NotPrincipal={"AWS": ROLE})
    check(doc, "NotPrincipal with Allow is not supported")


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Version": "2012-10-17", "Statement": []}, "no Statement"),
        ({"Version": "2012-10-17", "Statement": ["x"]}, "must be a map"),
        ({"Version": "2021-01-01", "Statement": [STATEMENT]}, "Version"),
        ({"Version": "2012-10-17", "Statement": [STATEMENT], "Extra": 1}, "unknown policy element"),
        ("{not json", "not JSON"),
        (["not", "an", "object"], "JSON object"),
    ],
)
def test_malformed_policies(doc, message):
    check(doc, message)


@pytest.mark.parametrize(
    ("caller", "message"),
    [
        ("arn:aws:iam::123456789012::role/SenderRole", "is not an IAM user, role, session"),
        ("SenderRole", "is not an IAM user"),
        ("arn:aws:sts::123456789012:assumed-role/ExampleRole", "is not an IAM user"),
        (None, "must be an ARN string"),
    ],
)
def test_bad_callers(caller, message):
    check(with_statement(), message, caller=caller)


@pytest.mark.parametrize(
    ("action", "message"),
    [("kms:Encrpyt", "unknown KMS action"), ("kms:*", "unknown KMS action"), (None, "a string")],
)
def test_bad_request_actions(action, message):
    check(with_statement(), message, action=action)


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"kms:CallerAccount": 1.5}, "not a string"),
        ({"kms:callerAccount": "1", "KMS:CallerAccount": "2"}, "given twice"),
    ],
)
def test_bad_contexts(context, message):
    check(with_statement(), message, context=context)


def test_multivalued_context_key_needs_a_set_qualifier():
    doc = with_statement(Condition={"StringEquals": {"kms:EncryptionContextKeys": "AppName"}})
    check(doc, "needs ForAnyValue", context={"kms:EncryptionContextKeys": ["AppName", "Stage"]})


def test_policy_error_is_a_value_error():
    assert issubclass(PolicyError, ValueError)
