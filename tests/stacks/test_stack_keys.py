"""The two keys, their aliases, deletion behaviour, tags, outputs and synthesizer."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match

from tests.stacks.stack_checks import check_key_retained

PROJECT_TAG = [{"Key": "project", "Value": "kms-asymmetric-sign-encrypt"}]


def _key(synthesized, path):
    return synthesized.doc["Resources"][synthesized.logical_id(f"{path}/Key")]


def test_the_stack_holds_exactly_two_keys_two_aliases_and_two_roles(default):
    counts = {}
    for resource in default.doc["Resources"].values():
        counts[resource["Type"]] = counts.get(resource["Type"], 0) + 1
    assert counts == {
        "AWS::KMS::Key": 3,  # the two asymmetric keys, and the alarm topic's (tests/stacks/
        "AWS::KMS::Alias": 2,  # test_stack_alarms.py)
        "AWS::IAM::Role": 2,
        "AWS::SNS::Topic": 1,
        "AWS::SNS::TopicPolicy": 1,
        "AWS::Events::Rule": 2,
    }


def test_stack_name_and_description(default, configured):
    assert default.stack.stack_name == "KmsSignEncryptStack"
    assert configured.stack.stack_name == "dev-KmsSignEncryptStack"
    assert default.doc["Description"].startswith("Sign and encrypt with AWS KMS asymmetric keys")


@pytest.mark.parametrize(
    ("path", "spec", "usage", "description"),
    [
        (
            "EncryptionKey",
            "RSA_4096",
            "ENCRYPT_DECRYPT",
            "Sample asymmetric encryption key: the sender encrypts, the receiver decrypts "
            "(RSAES_OAEP_SHA_256)",
        ),
        (
            "SigningKey",
            "ECC_NIST_P521",
            "SIGN_VERIFY",
            "Sample asymmetric signing key: the sender signs, the receiver verifies "
            "(ECDSA_SHA_512)",
        ),
    ],
)
def test_key_spec_usage_and_retention_by_default(default, path, spec, usage, description):
    key = _key(default, path)
    props = dict(key["Properties"])
    del props["KeyPolicy"]  # asserted whole in test_stack_key_policies
    assert props == {
        "KeySpec": spec,
        "KeyUsage": usage,
        "Description": description,
        "PendingWindowInDays": 30,
        "Tags": PROJECT_TAG,
    }
    check_key_retained(key)


@pytest.mark.parametrize("path", ["EncryptionKey", "SigningKey"])
def test_destroy_opt_in_deletes_after_the_configured_window(configured, path):
    key = _key(configured, path)
    assert key["DeletionPolicy"] == "Delete"
    assert key["UpdateReplacePolicy"] == "Delete"
    assert key["Properties"]["PendingWindowInDays"] == 7
    with pytest.raises(AssertionError):
        check_key_retained(key)


def test_tags_reach_every_taggable_resource(configured):
    expected = [{"Key": "cost-center", "Value": "42"}, {"Key": "team", "Value": "platform"}]
    for type_ in ("AWS::KMS::Key", "AWS::IAM::Role"):
        for resource in configured.resources(type_).values():
            assert resource["Properties"]["Tags"] == expected


@pytest.mark.parametrize(
    ("fixture", "encryption_alias", "signing_alias"),
    [
        ("default", "alias/sample-encrypt-decrypt-key", "alias/sample-sign-verify-key"),
        ("configured", "alias/dev-team/encrypt", "alias/dev-team/sign"),
    ],
)
def test_aliases_point_at_their_keys_and_are_not_retained(
    request, fixture, encryption_alias, signing_alias
):
    synthesized = request.getfixturevalue(fixture)
    for path, alias_name in (("EncryptionKey", encryption_alias), ("SigningKey", signing_alias)):
        alias = synthesized.doc["Resources"][synthesized.logical_id(f"{path}/Alias")]
        assert alias["Properties"] == {
            "AliasName": alias_name,
            "TargetKeyId": {"Fn::GetAtt": [synthesized.logical_id(f"{path}/Key"), "Arn"]},
        }
        assert alias["DeletionPolicy"] == "Delete"


def test_outputs_give_the_demo_both_keys_aliases_and_roles(default):
    get_arn = {
        name: {"Fn::GetAtt": [default.logical_id(path), "Arn"]}
        for name, path in (
            ("EncryptionKeyArn", "EncryptionKey/Key"),
            ("SigningKeyArn", "SigningKey/Key"),
            ("SenderRoleArn", "SenderRole/Role"),
            ("ReceiverRoleArn", "ReceiverRole/Role"),
        )
    }
    values = {name: output["Value"] for name, output in default.doc["Outputs"].items()}
    assert values == {
        **get_arn,
        "EncryptionKeyAlias": "alias/sample-encrypt-decrypt-key",
        "SigningKeyAlias": "alias/sample-sign-verify-key",
    }
    default.template.has_output("EncryptionKeyArn", {"Description": Match.any_value()})


def test_default_synthesizer_needs_bootstrap_and_the_switch_removes_it(default, configured):
    assert "BootstrapVersion" in default.doc["Parameters"]
    assert "CheckBootstrapVersion" in default.doc["Rules"]
    assert "Parameters" not in configured.doc
    assert "Rules" not in configured.doc


def test_the_bootstrapless_switch_deploys_with_the_cli_credentials(default, configured):
    def artifact(synthesized):
        assembly = synthesized.app.synth()
        return assembly.get_stack_artifact(synthesized.stack.artifact_id)

    assert artifact(default).assume_role_arn is not None
    bootstrapless = artifact(configured)
    assert bootstrapless.assume_role_arn is None
    assert bootstrapless.cloud_formation_execution_role_arn is None
    assert bootstrapless.stack_template_asset_object_url is None
