"""Issue 11: a prefixed deployment needs only its prefix; every state with current outputs works."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.stub import Stubber

from kms_sign_encrypt import stack
from kms_sign_encrypt.errors import NotDeployedError
from kms_sign_encrypt_cli.cli import build_parser
from tests.demo.test_demo_stack import OUTPUTS, caller, describe_stacks_answer, outputs_file

CURRENT_OUTPUTS = [
    "CREATE_COMPLETE",
    "UPDATE_COMPLETE",
    "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS",
    "UPDATE_ROLLBACK_COMPLETE",
    "UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS",
    "IMPORT_COMPLETE",
    "IMPORT_ROLLBACK_COMPLETE",
]
NOT_USABLE = [
    "CREATE_IN_PROGRESS",
    "CREATE_FAILED",
    "ROLLBACK_IN_PROGRESS",
    "ROLLBACK_COMPLETE",
    "ROLLBACK_FAILED",
    "UPDATE_IN_PROGRESS",
    "UPDATE_FAILED",
    "UPDATE_ROLLBACK_IN_PROGRESS",
    "UPDATE_ROLLBACK_FAILED",
    "DELETE_IN_PROGRESS",
    "DELETE_FAILED",
    "DELETE_COMPLETE",
    "REVIEW_IN_PROGRESS",
    "IMPORT_IN_PROGRESS",
    "IMPORT_ROLLBACK_IN_PROGRESS",
    "IMPORT_ROLLBACK_FAILED",
]


def test_every_cloudformation_status_is_classified() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("cloudformation")
    statuses = set(model.shape_for("StackStatus").enum)
    assert statuses == set(CURRENT_OUTPUTS) | set(NOT_USABLE)
    assert set(CURRENT_OUTPUTS) == stack.DEPLOYED_STATUSES


@pytest.mark.usefixtures("fake_aws_env")
@pytest.mark.parametrize("status", CURRENT_OUTPUTS)
def test_states_with_current_outputs_are_accepted(status: str) -> None:
    session = caller()
    with Stubber(session.client("cloudformation")) as stub:
        stub.add_response("describe_stacks", describe_stacks_answer(status, OUTPUTS))
        found = stack.discover(stack.ResourceOptions(), session)
    assert found.encryption_key_arn == OUTPUTS["EncryptionKeyArn"]


@pytest.mark.usefixtures("fake_aws_env")
@pytest.mark.parametrize("status", NOT_USABLE)
def test_states_without_current_outputs_are_refused(status: str) -> None:
    session = caller()
    with Stubber(session.client("cloudformation")) as stub:
        stub.add_response("describe_stacks", describe_stacks_answer(status, OUTPUTS))
        with pytest.raises(NotDeployedError, match=f"is {status}, not deployed"):
            stack.discover(stack.ResourceOptions(), session)


@pytest.mark.usefixtures("fake_aws_env")
def test_the_prefix_names_the_stack_for_describe_stacks() -> None:
    session = caller()
    with Stubber(session.client("cloudformation")) as stub:
        stub.add_response(
            "describe_stacks",
            describe_stacks_answer("CREATE_COMPLETE", OUTPUTS),
            {"StackName": "dev-KmsSignEncryptStack"},
        )
        found = stack.discover(stack.ResourceOptions(name_prefix="dev-"), session)
    assert found.source == "stack 'dev-KmsSignEncryptStack'"


def test_an_outputs_file_with_one_stack_needs_no_stack_name(tmp_path: Path) -> None:
    path = outputs_file(tmp_path, {"dev-KmsSignEncryptStack": OUTPUTS})
    found = stack.discover(stack.ResourceOptions(outputs_file=path), None)
    assert found.encryption_key_arn == OUTPUTS["EncryptionKeyArn"]


def test_the_prefix_picks_a_stack_from_an_outputs_file_of_several(tmp_path: Path) -> None:
    other = dict(OUTPUTS, EncryptionKeyArn=OUTPUTS["EncryptionKeyArn"].replace("1", "2"))
    path = outputs_file(
        tmp_path, {"KmsSignEncryptStack": other, "dev-KmsSignEncryptStack": OUTPUTS}
    )
    found = stack.discover(stack.ResourceOptions(outputs_file=path, name_prefix="dev-"), None)
    assert found.encryption_key_arn == OUTPUTS["EncryptionKeyArn"]


@pytest.mark.parametrize("command", ["run", "send", "receive"])
def test_run_send_and_receive_take_the_prefix(command: str) -> None:
    arguments = [command, "--name-prefix", "dev-"]
    if command == "send":
        arguments += ["f", "--output", "o"]
    if command == "receive":
        arguments += ["f"]
    args = build_parser().parse_args(arguments)
    assert args.name_prefix == "dev-"
    assert args.stack_name is None
