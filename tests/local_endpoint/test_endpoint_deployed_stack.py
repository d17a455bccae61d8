"""The shared `deployed_stack` fixture: the synthesized app, created with a change set."""

from __future__ import annotations

import json

from local_endpoint.deploy import deploy_template

OUTPUT_KEYS = {
    "EncryptionKeyArn",
    "EncryptionKeyAlias",
    "SigningKeyArn",
    "SigningKeyAlias",
    "SenderRoleArn",
    "ReceiverRoleArn",
}


def test_outputs_and_outputs_file_match_the_contract(deployed_stack) -> None:
    assert set(deployed_stack.outputs) == OUTPUT_KEYS
    written = json.loads(deployed_stack.outputs_file.read_text())
    assert written == {deployed_stack.stack_name: deployed_stack.outputs}
    assert deployed_stack.env["AWS_ENDPOINT_URL"] == deployed_stack.endpoint.url


def test_keys_have_the_template_spec_usage_and_policy(deployed_stack) -> None:
    kms = deployed_stack.endpoint.client("kms")
    expected = {
        "EncryptionKeyArn": ("RSA_4096", "ENCRYPT_DECRYPT"),
        "SigningKeyArn": ("ECC_NIST_P521", "SIGN_VERIFY"),
    }
    for output, (spec, usage) in expected.items():
        metadata = kms.describe_key(KeyId=deployed_stack.outputs[output])["KeyMetadata"]
        assert (metadata["KeySpec"], metadata["KeyUsage"]) == (spec, usage)
        policy = json.loads(kms.get_key_policy(KeyId=metadata["KeyId"])["Policy"])
        sids = {statement.get("Sid") for statement in policy["Statement"]}
        template_keys = [
            resource
            for resource in deployed_stack.template["Resources"].values()
            if resource["Type"] == "AWS::KMS::Key" and resource["Properties"].get("KeySpec") == spec
        ]
        (template_key,) = template_keys
        template_sids = {s.get("Sid") for s in template_key["Properties"]["KeyPolicy"]["Statement"]}
        assert sids == template_sids


def test_aliases_resolve_to_the_keys(deployed_stack) -> None:
    kms = deployed_stack.endpoint.client("kms")
    for alias, arn in (
        ("EncryptionKeyAlias", "EncryptionKeyArn"),
        ("SigningKeyAlias", "SigningKeyArn"),
    ):
        metadata = kms.describe_key(KeyId=deployed_stack.outputs[alias])["KeyMetadata"]
        assert metadata["Arn"] == deployed_stack.outputs[arn]


def test_redeploying_the_unchanged_template_is_a_successful_no_op(deployed_stack) -> None:
    cloudformation = deployed_stack.endpoint.client("cloudformation")
    again = deploy_template(cloudformation, deployed_stack.stack_name, deployed_stack.template)
    assert again.outputs == deployed_stack.outputs
    (stack,) = cloudformation.describe_stacks(StackName=deployed_stack.stack_name)["Stacks"]
    assert stack["StackStatus"] in {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
