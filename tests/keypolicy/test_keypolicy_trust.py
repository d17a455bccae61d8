"""Trust policies through the one evaluator, and the one session -> role ARN conversion."""

from __future__ import annotations

import pytest

import keypolicy
from keypolicy import Outcome, PolicyError, role_arn_of_session

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"
WORKLOAD = f"arn:aws:iam::{ACCOUNT}:role/SenderWorkload"
SSO_ROLE = (
    f"arn:aws:iam::{ACCOUNT}:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Ops_1"
)


def pinned(arn: str, **extra: dict) -> dict:
    condition = {"ArnEquals": {"aws:PrincipalArn": arn}, **extra}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "sts:AssumeRole",
                "Condition": condition,
            }
        ],
    }


@pytest.mark.parametrize(
    ("session", "path", "role"),
    [
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderWorkload/s1",
            "/",
            WORKLOAD,
        ),
        (
            f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Ops_1/alice",
            "/aws-reserved/sso.amazonaws.com/eu-west-1/",
            SSO_ROLE,
        ),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", "/", f"arn:aws:iam::{ACCOUNT}:user/alice"),
    ],
)
def test_role_arn_of_session(session, path, role) -> None:
    assert role_arn_of_session(session, path) == role


def test_a_path_must_start_and_end_with_a_slash() -> None:
    with pytest.raises(PolicyError):
        role_arn_of_session(f"arn:aws:sts::{ACCOUNT}:assumed-role/R/s1", "aws-reserved")


def test_the_default_trust_admits_its_workload_and_nobody_else() -> None:
    policy = pinned(WORKLOAD)
    workload = f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderWorkload/s1"
    assert keypolicy.decide_assume_role(policy, workload).outcome is Outcome.VIA_IAM
    for caller in (
        f"arn:aws:iam::{ACCOUNT}:user/admin",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/Admin/s1",
        f"arn:aws:sts::{ACCOUNT}:assumed-role/ReceiverWorkload/s1",
        ROOT,
    ):
        assert keypolicy.decide_assume_role(policy, caller).outcome is Outcome.IMPLICIT_DENY


def test_a_role_with_a_path_needs_its_path_in_the_context() -> None:
    policy = pinned(SSO_ROLE)
    session = f"arn:aws:sts::{ACCOUNT}:assumed-role/AWSReservedSSO_Ops_1/alice"
    without = keypolicy.decide_assume_role(policy, session)
    context = keypolicy.assume_role_context(
        role_arn_of_session(session, "/aws-reserved/sso.amazonaws.com/eu-west-1/")
    )
    assert without.outcome is Outcome.IMPLICIT_DENY
    assert keypolicy.decide_assume_role(policy, session, context).outcome is Outcome.VIA_IAM


def test_the_external_id_is_a_request_condition() -> None:
    policy = pinned(WORKLOAD, StringEquals={"sts:ExternalId": "partner-7f3a"})
    workload = f"arn:aws:sts::{ACCOUNT}:assumed-role/SenderWorkload/s1"
    right = keypolicy.assume_role_context(WORKLOAD, external_id="partner-7f3a")
    wrong = keypolicy.assume_role_context(WORKLOAD, external_id="guess")
    assert keypolicy.decide_assume_role(policy, workload, right).outcome is Outcome.VIA_IAM
    assert keypolicy.decide_assume_role(policy, workload, wrong).outcome is Outcome.IMPLICIT_DENY
    assert keypolicy.decide_assume_role(policy, workload).outcome is Outcome.IMPLICIT_DENY


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ({"Action": "kms:Decrypt"}, "not an STS action"),
        ({"Action": "sts:AssumeRoot"}, "unknown STS action"),
        ({"Resource": "*"}, "no Resource element"),
        (
            {"Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT}}},
            "not an STS or global condition key",
        ),
    ],
)
def test_what_a_trust_policy_cannot_hold_is_refused(statement, message) -> None:
    base = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "sts:AssumeRole"}
    policy = {"Version": "2012-10-17", "Statement": [{**base, **statement}]}
    with pytest.raises(PolicyError, match=message):
        keypolicy.decide_assume_role(policy, f"arn:aws:iam::{ACCOUNT}:user/u")


def test_a_key_policy_still_refuses_sts_actions() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "sts:AssumeRole",
                "Resource": "*",
            }
        ],
    }
    with pytest.raises(PolicyError, match="not a KMS action"):
        keypolicy.compile_policy(policy)
