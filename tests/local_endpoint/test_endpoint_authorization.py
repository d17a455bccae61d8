"""Unit tests: the request context KMS builds, denial wording, and the trust-policy evaluator."""

from __future__ import annotations

import pytest

from local_endpoint import authorization, trust_policy
from local_endpoint.authorization import Caller, Denial, KmsRequest
from local_endpoint.trust_policy import AssumeRoleRequest, TrustOutcome, TrustPolicyError

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SenderRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderRole/s1"
ADMIN = Caller(arn=authorization.administrator_arn(ACCOUNT), account=ACCOUNT)
SENDER = Caller(arn=SESSION, account=ACCOUNT, role_arn=ROLE)


@pytest.mark.parametrize(
    ("operation", "params", "expected"),
    [
        ("Encrypt", {"KeyId": "k"}, {"kms:EncryptionAlgorithm": "SYMMETRIC_DEFAULT"}),
        (
            "Decrypt",
            {"KeyId": "k", "EncryptionAlgorithm": "RSAES_OAEP_SHA_1"},
            {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_1"},
        ),
        (
            "Sign",
            {"KeyId": "k", "SigningAlgorithm": "ECDSA_SHA_512"},
            {"kms:SigningAlgorithm": "ECDSA_SHA_512", "kms:MessageType": "RAW"},
        ),
        ("Verify", {"KeyId": "k", "MessageType": "DIGEST"}, {"kms:MessageType": "DIGEST"}),
        (
            "DescribeKey",
            {"KeyId": f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/sample-sign-verify-key"},
            {"kms:RequestAlias": "alias/sample-sign-verify-key"},
        ),
    ],
)
def test_kms_context_has_the_keys_aws_sets(operation, params, expected) -> None:
    context = authorization.kms_context(KmsRequest(operation, params), SENDER)
    assert context["kms:CallerAccount"] == ACCOUNT
    assert context["aws:PrincipalArn"] == ROLE  # a session's role, not the session
    for key, value in expected.items():
        assert context[key] == value
    if operation not in ("Encrypt", "Decrypt"):
        assert "kms:EncryptionAlgorithm" not in context


@pytest.mark.parametrize(
    ("operation", "params", "key"),
    [
        ("Decrypt", {"KeyId": "k1"}, "k1"),
        ("CreateAlias", {"AliasName": "alias/a", "TargetKeyId": "k2"}, "k2"),
        ("DeleteAlias", {"AliasName": "alias/a"}, "alias/a"),
        ("ReEncrypt", {"DestinationKeyId": "k3"}, "k3"),
        ("CreateKey", {"KeyId": "ignored"}, None),
        ("ListKeys", {}, None),
    ],
)
def test_the_key_that_governs_each_request(operation, params, key) -> None:
    assert authorization.key_id_of(KmsRequest(operation, params)) == key


def test_denial_wording_matches_aws() -> None:
    denial = Denial(SENDER, "kms:Decrypt", "arn:aws:kms:r:1:key/k", "because no reason")
    assert denial.message == (
        f"User: {SESSION} is not authorized to perform: kms:Decrypt on resource: "
        "arn:aws:kms:r:1:key/k because no reason"
    )
    bare = Denial(SENDER, "sts:AssumeRole", ROLE, "")
    assert bare.message.endswith(f"on resource: {ROLE}")


def test_administrator_has_iam_permissions_and_sessions_have_their_roles_policies() -> None:
    assert ADMIN.is_administrator
    assert authorization.identity_policies_allow(ADMIN, "kms:CreateKey", "*")
    assert not SENDER.is_administrator
    assert SENDER.principal_arn == ROLE


def trust(*statements: dict) -> dict:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(principal, **condition) -> dict:
    statement = {"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}
    if condition:
        statement["Condition"] = condition
    return statement


@pytest.mark.parametrize(
    ("policy", "request_", "outcome"),
    [
        (trust(allow({"AWS": ROOT})), AssumeRoleRequest(SESSION, ACCOUNT), TrustOutcome.VIA_IAM),
        (trust(allow({"AWS": ACCOUNT})), AssumeRoleRequest(SESSION, ACCOUNT), TrustOutcome.VIA_IAM),
        (trust(allow({"AWS": ROLE})), AssumeRoleRequest(SESSION, ACCOUNT), TrustOutcome.ALLOW),
        (trust(allow("*")), AssumeRoleRequest(SESSION, ACCOUNT), TrustOutcome.ALLOW),
        (
            trust(allow({"AWS": "arn:aws:iam::444455556666:root"})),
            AssumeRoleRequest(SESSION, ACCOUNT),
            TrustOutcome.IMPLICIT_DENY,
        ),
        (
            trust(allow({"AWS": ROLE}), {**allow({"AWS": ROLE}), "Effect": "Deny"}),
            AssumeRoleRequest(SESSION, ACCOUNT),
            TrustOutcome.EXPLICIT_DENY,
        ),
        (
            trust(allow({"AWS": ROOT}, StringEquals={"sts:ExternalId": "x-1"})),
            AssumeRoleRequest(SESSION, ACCOUNT, external_id="x-1"),
            TrustOutcome.VIA_IAM,
        ),
        (
            trust(allow({"AWS": ROOT}, StringEquals={"sts:ExternalId": "x-1"})),
            AssumeRoleRequest(SESSION, ACCOUNT),
            TrustOutcome.IMPLICIT_DENY,
        ),
        (
            trust(allow({"AWS": ROOT}, ArnLike={"aws:PrincipalArn": "arn:aws:iam::*:role/Send*"})),
            AssumeRoleRequest(SESSION, ACCOUNT),
            TrustOutcome.VIA_IAM,
        ),
        (
            trust({**allow({"AWS": ROLE}), "Action": "sts:TagSession"}),
            AssumeRoleRequest(SESSION, ACCOUNT),
            TrustOutcome.IMPLICIT_DENY,
        ),
    ],
)
def test_trust_policy_outcomes(policy, request_, outcome) -> None:
    assert trust_policy.evaluate(policy, request_) is outcome


@pytest.mark.parametrize(
    "statement",
    [
        {**allow({"AWS": ROOT}), "NotPrincipal": {"AWS": ROLE}},
        allow({"AWS": ROOT}, StringEquals={"aws:SourceIp": "10.0.0.1"}),
        allow({"AWS": ROOT}, NumericLessThan={"sts:ExternalId": "3"}),
        {**allow({"AWS": ROOT}), "Effect": "Maybe"},
    ],
)
def test_trust_policy_features_not_modelled_are_refused_loudly(statement) -> None:
    with pytest.raises(TrustPolicyError):
        trust_policy.evaluate(trust(statement), AssumeRoleRequest(SESSION, ACCOUNT))


@pytest.mark.parametrize(
    ("operation", "params", "ciphertext_key", "expected"),
    [
        ("Sign", {"KeyId": "k1"}, None, [("kms:Sign", "k1")]),
        ("Decrypt", {}, "k9", [("kms:Decrypt", "k9")]),
        (
            "ReEncrypt",
            {"SourceKeyId": "k1", "DestinationKeyId": "k2"},
            None,
            [("kms:ReEncryptFrom", "k1"), ("kms:ReEncryptTo", "k2")],
        ),
        (  # the ciphertext's own key decrypts it, whatever SourceKeyId says
            "ReEncrypt",
            {"SourceKeyId": "k1", "DestinationKeyId": "k2"},
            "k9",
            [("kms:ReEncryptFrom", "k9"), ("kms:ReEncryptTo", "k2")],
        ),
        (
            "UpdateAlias",
            {"AliasName": "alias/a", "TargetKeyId": "k2"},
            None,
            [("kms:UpdateAlias", "alias/a"), ("kms:UpdateAlias", "k2")],
        ),
        ("ListKeys", {}, None, [("kms:ListKeys", None)]),
    ],
)
def test_key_checks_name_every_key_a_request_needs(
    operation, params, ciphertext_key, expected
) -> None:
    checks = authorization.key_checks(KmsRequest(operation, params), ciphertext_key=ciphertext_key)
    assert [(c.action, c.key_ref) for c in checks] == expected


def test_alias_operations_act_on_the_alias_arn() -> None:
    arn = f"arn:aws:kms:us-east-1:{ACCOUNT}:alias/a"
    for name in ("alias/a", arn):
        request = KmsRequest("DeleteAlias", {"AliasName": name})
        assert authorization.alias_arn_of(request, ACCOUNT, "us-east-1") == arn
    sign = KmsRequest("Sign", {"KeyId": "alias/a"})
    assert authorization.alias_arn_of(sign, ACCOUNT, "us-east-1") is None
