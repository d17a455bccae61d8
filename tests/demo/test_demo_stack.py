"""Resource discovery: stack outputs from a CDK outputs file or DescribeStacks, options first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.stub import Stubber

from kms_sign_encrypt import aws, stack
from kms_sign_encrypt.errors import NotDeployedError, RegionMismatchError, UsageError

ACCOUNT = "123456789012"
OUTPUTS = {
    "EncryptionKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/11111111-2222-3333-4444-555555555555",
    "EncryptionKeyAlias": "alias/sample-encrypt-decrypt-key",
    "SigningKeyArn": f"arn:aws:kms:us-east-1:{ACCOUNT}:key/66666666-7777-8888-9999-000000000000",
    "SigningKeyAlias": "alias/sample-sign-verify-key",
    "SenderRoleArn": f"arn:aws:iam::{ACCOUNT}:role/SenderRole",
    "ReceiverRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ReceiverRole",
}


def outputs_file(tmp_path: Path, content: object, name: str = "outputs.json") -> Path:
    path = tmp_path / name
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def describe_stacks_answer(status: str, outputs: dict[str, str] | None = None) -> dict[str, Any]:
    """A DescribeStacks answer for the default stack in ``status``, with ``outputs`` if any."""
    found: dict[str, Any] = {
        "StackName": "KmsSignEncryptStack",
        "CreationTime": "2026-01-01T00:00:00Z",
        "StackStatus": status,
    }
    if outputs is not None:
        found["Outputs"] = [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]
    return {"Stacks": [found]}


def caller(region: str = "us-east-1") -> aws.AwsSession:
    return aws.open_caller_session(
        profile=None, region=region, settings=aws.ClientSettings(), metrics=aws.CallMetrics()
    )


def test_outputs_file_fills_every_value(tmp_path: Path) -> None:
    path = outputs_file(tmp_path, {"KmsSignEncryptStack": OUTPUTS})
    found = stack.discover(stack.ResourceOptions(outputs_file=path), None)
    assert found.encryption_key == "alias/sample-encrypt-decrypt-key"
    assert found.encryption_key_arn == OUTPUTS["EncryptionKeyArn"]
    assert found.signing_key == "alias/sample-sign-verify-key"
    assert found.signing_key_arn == OUTPUTS["SigningKeyArn"]
    assert found.sender_role_arn == OUTPUTS["SenderRoleArn"]
    assert found.receiver_role_arn == OUTPUTS["ReceiverRoleArn"]
    assert found.source == f"outputs file {path}"


def test_explicit_options_win_and_an_overridden_key_loses_the_outputs_arn(tmp_path: Path) -> None:
    path = outputs_file(tmp_path, {"KmsSignEncryptStack": OUTPUTS})
    other = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/aaaaaaaa-2222-3333-4444-555555555555"
    found = stack.discover(
        stack.ResourceOptions(
            outputs_file=path, encryption_key=other, signing_key="alias/someone-elses"
        ),
        None,
    )
    assert found.encryption_key == other
    assert found.encryption_key_arn == other
    assert found.signing_key == "alias/someone-elses"
    assert found.signing_key_arn is None  # an unknown alias's key ARN is not guessed


def test_options_alone_need_no_outputs_and_no_aws() -> None:
    found = stack.discover(
        stack.ResourceOptions(
            stack_name="DoesNotExist",
            encryption_key=OUTPUTS["EncryptionKeyArn"],
            signing_key=OUTPUTS["SigningKeyArn"],
        ),
        None,
        needed=("encryption_key", "signing_key"),
    )
    assert found.source == "options"
    assert found.sender_role_arn == ""


def test_alias_outputs_without_the_prefix_get_it(tmp_path: Path) -> None:
    path = outputs_file(
        tmp_path, {"KmsSignEncryptStack": {**OUTPUTS, "SigningKeyAlias": "sample-sign-verify-key"}}
    )
    found = stack.discover(stack.ResourceOptions(outputs_file=path), None)
    assert found.signing_key == "alias/sample-sign-verify-key"


@pytest.mark.parametrize(
    ("content", "error", "message"),
    [
        (
            {"OtherStack": OUTPUTS, "dev-KmsSignEncryptStack": OUTPUTS},
            UsageError,
            "holds 2 stacks (OtherStack, dev-KmsSignEncryptStack): name the stack (or its "
            "name prefix) to choose one",
        ),
        ({}, NotDeployedError, "(stacks found: none): deploy it first"),
        (
            {"KmsSignEncryptStack": {"EncryptionKeyArn": OUTPUTS["EncryptionKeyArn"]}},
            NotDeployedError,
            "lacks the outputs EncryptionKeyAlias, SigningKeyArn",
        ),
        ("{not json", UsageError, "is not valid JSON"),
        ("[1, 2]", UsageError, "must hold a JSON object of stacks"),
        ({"KmsSignEncryptStack": {"A": 1}}, UsageError, "must map names to strings"),
    ],
)
def test_bad_outputs_files_are_explained(
    tmp_path: Path, content: object, error: type[Exception], message: str
) -> None:
    path = outputs_file(tmp_path, content)
    with pytest.raises(error) as caught:
        stack.discover(stack.ResourceOptions(outputs_file=path), None)
    assert message in str(caught.value)


def test_a_missing_outputs_file_says_deploy_first(tmp_path: Path) -> None:
    with pytest.raises(NotDeployedError, match="deploy first with cdk deploy --outputs-file"):
        stack.discover(stack.ResourceOptions(outputs_file=tmp_path / "nope.json"), None)


@pytest.mark.usefixtures("fake_aws_env")
def test_describe_stacks_reads_the_outputs() -> None:
    session = caller()
    client = session.client("cloudformation")
    with Stubber(client) as stub:
        stub.add_response(
            "describe_stacks",
            describe_stacks_answer("UPDATE_COMPLETE", OUTPUTS),
            {"StackName": "KmsSignEncryptStack"},
        )
        found = stack.discover(stack.ResourceOptions(), session)
    assert found.encryption_key_arn == OUTPUTS["EncryptionKeyArn"]
    assert found.source == "stack 'KmsSignEncryptStack'"


@pytest.mark.usefixtures("fake_aws_env")
def test_a_stack_that_does_not_exist_says_deploy_first_and_names_the_region() -> None:
    session = caller("eu-west-1")
    client = session.client("cloudformation")
    with Stubber(client) as stub:
        stub.add_client_error(
            "describe_stacks",
            service_error_code="ValidationError",
            service_message="Stack with id KmsSignEncryptStack does not exist",
        )
        with pytest.raises(NotDeployedError) as caught:
            stack.discover(stack.ResourceOptions(), session)
    assert str(caught.value) == (
        "stack 'KmsSignEncryptStack' not found in region eu-west-1: deploy it first (cdk "
        "deploy), or name another stack, region or outputs file"
    )


@pytest.mark.usefixtures("fake_aws_env")
@pytest.mark.parametrize("status", ["ROLLBACK_COMPLETE", "CREATE_IN_PROGRESS", "DELETE_COMPLETE"])
def test_a_stack_that_is_not_deployed_is_refused(status: str) -> None:
    session = caller()
    client = session.client("cloudformation")
    with Stubber(client) as stub:
        stub.add_response(
            "describe_stacks",
            describe_stacks_answer(status),
        )
        with pytest.raises(NotDeployedError, match=f"is {status}, not deployed"):
            stack.discover(stack.ResourceOptions(), session)


@pytest.mark.usefixtures("fake_aws_env")
def test_keys_in_another_region_than_the_session_are_a_wrong_region_error(tmp_path: Path) -> None:
    path = outputs_file(tmp_path, {"KmsSignEncryptStack": OUTPUTS})
    with pytest.raises(RegionMismatchError) as caught:
        stack.discover(stack.ResourceOptions(outputs_file=path), caller("eu-west-1"))
    assert str(caught.value) == (
        "wrong region: the keys are in us-east-1 but the session uses eu-west-1; "
        "use region us-east-1"
    )


def test_an_endless_outputs_file_is_read_only_up_to_its_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """/dev/zero never ends: reading it whole would never return (or exhaust memory)."""

    def whole(_: Path) -> bytes:
        raise AssertionError("read a whole file of unknown size")

    monkeypatch.setattr(Path, "read_bytes", whole)
    with pytest.raises(UsageError) as caught:
        stack.outputs_from_file(Path("/dev/zero"), stack.DEFAULT_STACK_NAME)
    assert str(caught.value) == (
        f"outputs file /dev/zero is larger than {stack.MAX_OUTPUTS_FILE_BYTES} bytes"
    )
