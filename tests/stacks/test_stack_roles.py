"""SenderRole and ReceiverRole: who may assume them, for how long, and that they carry no
permissions of their own."""

from __future__ import annotations

import copy

import pytest
from stack_checks import ROOT, check_no_identity_policies

ONE_HOUR = 3600


def _trust(principal, condition=None):
    statement = {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def test_default_roles_trust_the_account_for_at_most_one_hour(default):
    roles = default.resources("AWS::IAM::Role")
    assert roles[default.logical_id("SenderRole/Role")]["Properties"] == {
        "RoleName": "SenderRole",
        "Description": "Signs with the signing key and encrypts with the encryption key",
        "AssumeRolePolicyDocument": _trust(ROOT),
        "MaxSessionDuration": ONE_HOUR,
        "Tags": [{"Key": "project", "Value": "kms-asymmetric-sign-encrypt"}],
    }
    assert roles[default.logical_id("ReceiverRole/Role")]["Properties"] == {
        "RoleName": "ReceiverRole",
        "Description": "Decrypts with the encryption key and verifies with the signing key",
        "AssumeRolePolicyDocument": _trust(ROOT),
        "MaxSessionDuration": ONE_HOUR,
        "Tags": [{"Key": "project", "Value": "kms-asymmetric-sign-encrypt"}],
    }
    assert len(roles) == 2


@pytest.mark.parametrize(
    ("path", "name"), [("SenderRole", "dev-Sender"), ("ReceiverRole", "dev-Receiver")]
)
def test_configured_roles_trust_the_listed_principals_with_the_external_id(configured, path, name):
    props = configured.doc["Resources"][configured.logical_id(f"{path}/Role")]["Properties"]
    assert props["RoleName"] == name
    assert props["MaxSessionDuration"] == ONE_HOUR
    assert props["AssumeRolePolicyDocument"] == _trust(
        [
            "arn:aws:iam::123456789012:role/Partner",
            "arn:aws:iam::123456789012:user/alice",
        ],
        {"StringEquals": {"sts:ExternalId": "partner-4f1c"}},
    )


@pytest.mark.parametrize("fixture", ["default", "configured"])
def test_roles_have_no_identity_policies(request, fixture):
    check_no_identity_policies(request.getfixturevalue(fixture).doc)


def test_identity_policy_check_catches_a_managed_policy(tampered):
    doc = copy.deepcopy(tampered.doc)
    for logical_id in list(doc["Resources"]):
        if doc["Resources"][logical_id]["Type"] == "AWS::IAM::Policy":
            del doc["Resources"][logical_id]
    with pytest.raises(AssertionError, match="managed policies"):
        check_no_identity_policies(doc)


def test_identity_policy_check_catches_an_inline_policy(default):
    doc = copy.deepcopy(default.doc)
    role = doc["Resources"][default.logical_id("SenderRole/Role")]
    role["Properties"]["Policies"] = [{"PolicyName": "p", "PolicyDocument": {}}]
    with pytest.raises(AssertionError, match="inline policies"):
        check_no_identity_policies(doc)
