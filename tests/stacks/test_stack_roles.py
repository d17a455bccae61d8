"""SenderRole and ReceiverRole: who may assume them, for how long, and that they carry no
permissions of their own."""

from __future__ import annotations

import copy

import pytest

from tests.stacks.stack_checks import ROOT, check_no_identity_policies

ONE_HOUR = 3600


def _arn(resource):
    """arn:${Partition}:iam::${AccountId}:RESOURCE as the CDK writes it."""
    return {
        "Fn::Join": [
            "",
            [
                "arn:",
                {"Ref": "AWS::Partition"},
                ":iam::",
                {"Ref": "AWS::AccountId"},
                f":{resource}",
            ],
        ]
    }


def _statement(sid, account_root, principal_arn, external_id=None):
    condition = {"ArnEquals": {"aws:PrincipalArn": principal_arn}}
    if external_id:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    return {
        "Sid": sid,
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"AWS": account_root},
        "Condition": condition,
    }


def _trust(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_default_roles_trust_only_their_own_workload_role_for_at_most_one_hour(default):
    roles = default.resources("AWS::IAM::Role")
    assert roles[default.logical_id("SenderRole/Role")]["Properties"] == {
        "RoleName": "SenderRole",
        "Description": "Signs with the signing key and encrypts with the encryption key",
        "AssumeRolePolicyDocument": _trust(
            _statement("TrustSender1", ROOT, _arn("role/SenderWorkload"))
        ),
        "MaxSessionDuration": ONE_HOUR,
        "Tags": [{"Key": "project", "Value": "kms-asymmetric-sign-encrypt"}],
    }
    assert roles[default.logical_id("ReceiverRole/Role")]["Properties"] == {
        "RoleName": "ReceiverRole",
        "Description": "Decrypts with the encryption key and verifies with the signing key",
        "AssumeRolePolicyDocument": _trust(
            _statement("TrustReceiver1", ROOT, _arn("role/ReceiverWorkload"))
        ),
        "MaxSessionDuration": ONE_HOUR,
        "Tags": [{"Key": "project", "Value": "kms-asymmetric-sign-encrypt"}],
    }
    assert len(roles) == 2


def test_default_trust_has_no_statement_an_administrator_satisfies_unnamed(default):
    """Every trust statement that names an account pins aws:PrincipalArn with ArnEquals."""
    for role in default.resources("AWS::IAM::Role").values():
        for statement in role["Properties"]["AssumeRolePolicyDocument"]["Statement"]:
            assert statement["Principal"] != "*"
            assert set(statement["Condition"]["ArnEquals"]) == {"aws:PrincipalArn"}


def test_configured_roles_trust_each_party_separately(configured):
    doc = configured.doc["Resources"]
    sender = doc[configured.logical_id("SenderRole/Role")]["Properties"]
    receiver = doc[configured.logical_id("ReceiverRole/Role")]["Properties"]
    assert sender["RoleName"] == "dev-Sender"
    assert receiver["RoleName"] == "dev-Receiver"
    assert sender["MaxSessionDuration"] == receiver["MaxSessionDuration"] == ONE_HOUR
    partner_root = {
        "Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::111122223333:root"]]
    }
    assert sender["AssumeRolePolicyDocument"] == _trust(
        _statement(
            "TrustSender1",
            partner_root,
            "arn:aws:iam::111122223333:role/PartnerSender",
            "partner-4f1c",
        ),
        _statement("TrustSender2", _this_account_root(), "arn:aws:iam::123456789012:user/alice"),
    )
    assert receiver["AssumeRolePolicyDocument"] == _trust(
        _statement(
            "TrustReceiver1", _this_account_root(), "arn:aws:iam::123456789012:role/path/Reader"
        )
    )


def _this_account_root():
    return {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, ":iam::123456789012:root"]]}


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
