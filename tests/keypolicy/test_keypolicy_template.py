"""Extracting key policies from a CloudFormation template: resolve exactly, or refuse."""

from __future__ import annotations

import copy

import pytest

from keypolicy.template import TemplateError, extract_key_policies, resolve_output

ACCOUNT = "123456789012"
ROOT_JOIN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::", {"Ref": "AWS::AccountId"}, ":root"],
    ]
}


def template(principal, **role_properties) -> dict:
    return {
        "Resources": {
            "Role1": {
                "Type": "AWS::IAM::Role",
                "Properties": {"RoleName": "SenderRole", **role_properties},
            },
            "Key1": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeySpec": "RSA_4096",
                    "KeyUsage": "ENCRYPT_DECRYPT",
                    "KeyPolicy": {
                        "Version": "2012-10-17",
                        "Statement": [
                            {
                                "Sid": "S",
                                "Effect": "Allow",
                                "Principal": {"AWS": principal},
                                "Action": "kms:Encrypt",
                                "Resource": "*",
                            }
                        ],
                    },
                },
            },
            "Alias1": {
                "Type": "AWS::KMS::Alias",
                "Properties": {
                    "AliasName": "alias/k",
                    "TargetKeyId": {"Fn::GetAtt": ["Key1", "Arn"]},
                },
            },
        },
        "Outputs": {"RoleArn": {"Value": {"Fn::GetAtt": ["Role1", "Arn"]}}},
    }


def principal_of(doc: dict, **where) -> object:
    keys = extract_key_policies(doc, account=ACCOUNT, region="eu-west-1", **where)
    return keys["Key1"].policy["Statement"][0]["Principal"]["AWS"]


@pytest.mark.parametrize(
    ("principal", "expected"),
    [
        (ROOT_JOIN, f"arn:aws:iam::{ACCOUNT}:root"),
        ({"Fn::GetAtt": ["Role1", "Arn"]}, f"arn:aws:iam::{ACCOUNT}:role/SenderRole"),
        ("Role1.Arn", "Role1.Arn"),  # a plain string stays a string
        ({"Fn::GetAtt": "Role1.Arn"}, f"arn:aws:iam::{ACCOUNT}:role/SenderRole"),
        (
            {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"},
            f"arn:aws:iam::{ACCOUNT}:root",
        ),
        ({"Fn::Sub": "${Role1.Arn}"}, f"arn:aws:iam::{ACCOUNT}:role/SenderRole"),
        (
            [ROOT_JOIN, {"Fn::GetAtt": ["Role1", "Arn"]}],
            [f"arn:aws:iam::{ACCOUNT}:root", f"arn:aws:iam::{ACCOUNT}:role/SenderRole"],
        ),
        (
            {"Fn::Join": ["-", ["a", {"Ref": "AWS::Region"}, {"Ref": "AWS::URLSuffix"}]]},
            "a-eu-west-1-amazonaws.com",
        ),
    ],
)
def test_resolves_the_intrinsics_cdk_emits(principal, expected):
    assert principal_of(template(principal)) == expected


def test_role_path_is_part_of_the_arn():
    doc = template({"Fn::GetAtt": ["Role1", "Arn"]}, Path="/team/")
    assert principal_of(doc) == f"arn:aws:iam::{ACCOUNT}:role/team/SenderRole"


def test_partition_is_applied():
    assert (
        principal_of(template(ROOT_JOIN), partition="aws-cn") == f"arn:aws-cn:iam::{ACCOUNT}:root"
    )


def test_key_label_spec_and_usage():
    key = extract_key_policies(template(ROOT_JOIN), account=ACCOUNT, region="eu-west-1")["Key1"]
    assert (key.label, key.aliases, key.key_spec, key.key_usage) == (
        "alias/k",
        ("alias/k",),
        "RSA_4096",
        "ENCRYPT_DECRYPT",
    )


def test_key_without_alias_is_labelled_by_logical_id():
    doc = template(ROOT_JOIN)
    del doc["Resources"]["Alias1"]
    assert extract_key_policies(doc, account=ACCOUNT, region="eu-west-1")["Key1"].label == "Key1"


def test_output_resolution():
    doc = template(ROOT_JOIN)
    assert resolve_output(doc, "RoleArn", account=ACCOUNT, region="eu-west-1") == (
        f"arn:aws:iam::{ACCOUNT}:role/SenderRole"
    )
    with pytest.raises(TemplateError, match="no output 'Nope'"):
        resolve_output(doc, "Nope", account=ACCOUNT, region="eu-west-1")


def test_extraction_does_not_modify_the_template():
    doc = template({"Fn::GetAtt": ["Role1", "Arn"]})
    before = copy.deepcopy(doc)
    extract_key_policies(doc, account=ACCOUNT, region="eu-west-1")
    assert doc == before


@pytest.mark.parametrize(
    ("principal", "message"),
    [
        ({"Ref": "AdminArnParameter"}, "cannot resolve Ref 'AdminArnParameter'"),
        ({"Ref": "AWS::StackName"}, "cannot resolve Ref 'AWS::StackName'"),
        ({"Fn::ImportValue": "SharedAdminArn"}, "cannot resolve Fn::ImportValue"),
        ({"Fn::If": ["C", "a", "b"]}, "cannot resolve Fn::If"),
        ({"Fn::GetAtt": ["Role1", "RoleId"]}, "cannot resolve Fn::GetAtt Role1.RoleId"),
        ({"Fn::GetAtt": ["Key1", "Arn"]}, "AWS::KMS::Key"),
        ({"Fn::GetAtt": ["Missing", "Arn"]}, "unknown resource 'Missing'"),
        ({"Fn::Sub": "arn:aws:iam::${Account}:root"}, "cannot resolve \\$\\{Account\\}"),
        ({"Fn::Sub": ["${A}", {"A": "x"}]}, "one-string form"),
        ({"Fn::Join": ["", "notalist"]}, "must resolve to strings"),
        ({"Fn::Join": [""]}, "Fn::Join takes"),
        ({"Ref": "AWS::AccountId", "Extra": 1}, "must be alone"),
    ],
)
def test_unresolvable_values_are_errors(principal, message):
    with pytest.raises(TemplateError, match=message):
        principal_of(template(principal))


def test_generated_role_name_is_an_error():
    doc = template({"Fn::GetAtt": ["Role1", "Arn"]})
    del doc["Resources"]["Role1"]["Properties"]["RoleName"]
    with pytest.raises(TemplateError, match="generates one at deploy time"):
        principal_of(doc)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["Resources"]["Key1"]["Properties"].pop("KeyPolicy"), "no KeyPolicy"),
        (lambda d: d["Resources"].pop("Key1"), "no AWS::KMS::Key"),
        (lambda d: d.pop("Resources"), "no Resources"),
    ],
)
def test_template_shape_errors(mutate, message):
    doc = template(ROOT_JOIN)
    mutate(doc)
    with pytest.raises(TemplateError, match=message):
        extract_key_policies(doc, account=ACCOUNT, region="eu-west-1")


@pytest.mark.parametrize(
    ("account", "region", "message"),
    [("12345", "eu-west-1", "12-digit"), (ACCOUNT, "Europe", "like 'us-east-1'")],
)
def test_account_and_region_are_checked(account, region, message):
    with pytest.raises(TemplateError, match=message):
        extract_key_policies(template(ROOT_JOIN), account=account, region=region)
