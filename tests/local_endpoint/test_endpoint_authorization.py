"""Unit tests: the request context KMS builds, denial wording, and the trust-policy evaluator."""

from __future__ import annotations

import pytest

import keypolicy
from keypolicy import Outcome
from local_endpoint import authorization, trust_policy
from local_endpoint.authorization import AuthenticatedCaller, Denial, KmsRequest
from local_endpoint.trust_policy import TrustPolicyError

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SenderRole"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderRole/s1"
ADMIN = AuthenticatedCaller(arn=authorization.administrator_arn(ACCOUNT), account=ACCOUNT)
SENDER = AuthenticatedCaller(arn=SESSION, account=ACCOUNT, role_arn=ROLE)


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


def request(external_id=None, caller=SENDER):
    """(caller ARN, context) of an AssumeRole request, as the endpoint builds them."""
    context = keypolicy.assume_role_context(caller.principal_arn, external_id=external_id)
    return caller.arn, context


SSO_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_1"
)
SSO = AuthenticatedCaller(
    arn=f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Ops_1/alice",
    account=ACCOUNT,
    role_arn=SSO_ROLE,
)


@pytest.mark.parametrize(
    ("policy", "request_", "outcome"),
    [
        (trust(allow({"AWS": ROOT})), request(), Outcome.VIA_IAM),
        (trust(allow({"AWS": ACCOUNT})), request(), Outcome.VIA_IAM),
        (trust(allow({"AWS": ROLE})), request(), Outcome.ALLOW),
        (trust(allow("*")), request(), Outcome.ALLOW),
        (
            trust(allow({"AWS": "arn:aws:iam::444455556666:root"})),
            request(),
            Outcome.IMPLICIT_DENY,
        ),
        (
            trust(allow({"AWS": ROLE}), {**allow({"AWS": ROLE}), "Effect": "Deny"}),
            request(),
            Outcome.EXPLICIT_DENY,
        ),
        (
            trust(allow({"AWS": ROOT}, StringEquals={"sts:ExternalId": "x-1"})),
            request(external_id="x-1"),
            Outcome.VIA_IAM,
        ),
        (
            trust(allow({"AWS": ROOT}, StringEquals={"sts:ExternalId": "x-1"})),
            request(),
            Outcome.IMPLICIT_DENY,
        ),
        (
            trust(allow({"AWS": ROOT}, ArnLike={"aws:PrincipalArn": "arn:aws:iam::*:role/Send*"})),
            request(),
            Outcome.VIA_IAM,
        ),
        (  # the default stack's trust: the account, pinned to one principal
            trust(allow({"AWS": ROOT}, ArnEquals={"aws:PrincipalArn": ROLE})),
            request(),
            Outcome.VIA_IAM,
        ),
        (  # ... which the administrator does not satisfy, whatever its IAM policies say
            trust(allow({"AWS": ROOT}, ArnEquals={"aws:PrincipalArn": ROLE})),
            request(caller=ADMIN),
            Outcome.IMPLICIT_DENY,
        ),
        (  # a role with a path: aws:PrincipalArn carries the path, not the session's view
            trust(allow({"AWS": ROOT}, ArnEquals={"aws:PrincipalArn": SSO_ROLE})),
            request(caller=SSO),
            Outcome.VIA_IAM,
        ),
        (
            trust({**allow({"AWS": ROLE}), "Action": "sts:TagSession"}),
            request(),
            Outcome.IMPLICIT_DENY,
        ),
    ],
)
def test_trust_policy_outcomes(policy, request_, outcome) -> None:
    caller, context = request_
    assert trust_policy.decide_assume_role(policy, caller, context).outcome is outcome


def test_tag_session_is_judged_by_the_same_engine() -> None:
    policy = trust({**allow({"AWS": ROLE}), "Action": ["sts:AssumeRole", "sts:TagSession"]})
    decision = keypolicy.decide_assume_role(policy, SESSION, action="sts:TagSession")
    assert decision.outcome is Outcome.ALLOW


@pytest.mark.parametrize(
    "statement",
    [
        {**allow({"AWS": ROOT}), "NotPrincipal": {"AWS": ROLE}},
        allow({"AWS": ROOT}, StringEquals={"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}),
        allow({"AWS": ROOT}, NumericLessThan={"sts:ExternalId": "3"}),
        {**allow({"AWS": ROOT}), "Effect": "Maybe"},
        {**allow({"AWS": ROOT}), "Action": "kms:Decrypt"},
        {**allow({"AWS": ROOT}), "Resource": "*"},
        allow({"Federated": "cognito-identity.amazonaws.com"}),
    ],
)
def test_trust_policy_features_not_modelled_are_refused_loudly(statement) -> None:
    caller, context = request()
    with pytest.raises(TrustPolicyError):
        trust_policy.decide_assume_role(trust(statement), caller, context)


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
