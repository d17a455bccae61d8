"""Checks on a synthesized template, written once and used two ways: on the real template
(which must pass) and on deliberately broken ones (which must fail), so each check is shown
to catch the property it guards.

The expected values are written out literally (the admin actions in
tests/intended_key_policy.py), not imported from `stacks.key_policy`: a test that compared
the stack with its own constants would pass whatever they said.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from tests.intended_key_policy import INTENDED_ADMIN_ACTIONS

ROOT: dict[str, Any] = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
    ]
}

# Every KMS action that uses a key's material, hands it out, or reveals its public half.
# kms:CreateGrant is here because a grant can give any cryptographic operation.
CRYPTOGRAPHIC_ACTIONS = frozenset(
    {
        "kms:Decrypt",
        "kms:DeriveSharedSecret",
        "kms:Encrypt",
        "kms:GenerateDataKey",
        "kms:GenerateDataKeyPair",
        "kms:GenerateDataKeyPairWithoutPlaintext",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:GenerateMac",
        "kms:GetPublicKey",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
        "kms:Sign",
        "kms:Verify",
        "kms:VerifyMac",
        "kms:CreateGrant",
    }
)

ADMIN_ACTIONS = list(INTENDED_ADMIN_ACTIONS)

# What CloudFormation's AWS::KMS::Key and AWS::KMS::Alias handlers call on an existing key
# (resource schema `handlers`), and what the KMS lockout safety check demands (PutKeyPolicy).
CLOUDFORMATION_NEEDS = frozenset(
    {
        "kms:DescribeKey",
        "kms:GetKeyPolicy",
        "kms:GetKeyRotationStatus",
        "kms:ListResourceTags",
        "kms:PutKeyPolicy",
        "kms:TagResource",
        "kms:UntagResource",
        "kms:UpdateKeyDescription",
        "kms:EnableKey",
        "kms:DisableKey",
        "kms:ScheduleKeyDeletion",
        "kms:CreateAlias",
        "kms:DeleteAlias",
        "kms:UpdateAlias",
    }
)


def get_att_arn(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def admin_statement(principal: Any) -> dict[str, Any]:
    return {
        "Sid": "KeyAdministration",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": ADMIN_ACTIONS,
        "Resource": "*",
    }


def _use(sid: str, role: str, action: str, condition: dict[str, str] | None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": get_att_arn(role)},
        "Action": action,
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = {"StringEquals": condition}
    return statement


def expected_encryption_key_policy(admin: Any, sender: str, receiver: str) -> dict[str, Any]:
    oaep = {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            admin_statement(admin),
            _use("SenderEncrypt", sender, "kms:Encrypt", oaep),
            _use("SenderGetPublicKey", sender, "kms:GetPublicKey", None),
            _use("ReceiverDecrypt", receiver, "kms:Decrypt", oaep),
        ],
    }


def expected_signing_key_policy(admin: Any, sender: str, receiver: str) -> dict[str, Any]:
    ecdsa = {"kms:SigningAlgorithm": "ECDSA_SHA_512"}
    return {
        "Version": "2012-10-17",
        "Statement": [
            admin_statement(admin),
            _use("SenderSign", sender, "kms:Sign", ecdsa),
            _use("ReceiverVerify", receiver, "kms:Verify", ecdsa),
            _use("ReceiverGetPublicKey", receiver, "kms:GetPublicKey", None),
        ],
    }


def _actions(statement: dict[str, Any]) -> list[str]:
    actions = statement["Action"]
    return [actions] if isinstance(actions, str) else list(actions)


def check_admin_statement(statement: dict[str, Any]) -> None:
    """Administrative actions only, spelled out, and enough for CloudFormation and the
    lockout safety check."""
    actions = _actions(statement)
    assert statement["Effect"] == "Allow"
    assert "Condition" not in statement, "administration must not depend on conditions"
    wildcards = [a for a in actions if "*" in a or "?" in a]
    assert not wildcards, f"administrative actions must be listed one by one: {wildcards}"
    crypto = sorted(a for a in actions if any(fnmatch.fnmatch(c, a) for c in CRYPTOGRAPHIC_ACTIONS))
    assert not crypto, f"administrators must not get cryptographic use: {crypto}"
    missing = sorted(CLOUDFORMATION_NEEDS - set(actions))
    assert not missing, f"CloudFormation and the lockout check need: {missing}"
    assert sorted(actions) == actions, "keep the administrative actions sorted"


def check_no_identity_policies(doc: dict[str, Any]) -> None:
    """The roles' rights come from the key policies alone."""
    types = {r["Type"] for r in doc["Resources"].values()}
    assert "AWS::IAM::Policy" not in types
    assert "AWS::IAM::ManagedPolicy" not in types
    for logical_id, resource in doc["Resources"].items():
        if resource["Type"] == "AWS::IAM::Role":
            props = resource["Properties"]
            assert "Policies" not in props, f"{logical_id} has inline policies"
            assert "ManagedPolicyArns" not in props, f"{logical_id} has managed policies"
            assert "PermissionsBoundary" not in props


def check_key_retained(resource: dict[str, Any]) -> None:
    # RetainExceptOnCreate, not Retain: a rolled-back first create must not orphan the key.
    assert resource["DeletionPolicy"] == "RetainExceptOnCreate"
    assert resource["UpdateReplacePolicy"] == "Retain"
