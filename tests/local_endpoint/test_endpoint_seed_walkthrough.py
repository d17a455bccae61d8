"""The seed post's AWS CLI walkthrough (corrected) against the endpoint: AWS's answers and denials.

Runs scripts/seed-walkthrough.sh with the project's AWS CLI (v1, from PyPI), then a few of the
post's commands as the wrong principal, which AWS refuses.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "seed-walkthrough.sh"
AWS_CLI = ROOT / ".venv" / "bin" / "aws"
CLI_SERVICE_ERROR = (254, 255)  # AWS CLI v2 and v1 exit codes for an error answer from AWS

# No skip when the AWS CLI is missing: requirements-dev.txt installs it, and a missing install
# step must fail here, not pass unnoticed.


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(AWS_CLI), *args], env=env, capture_output=True, text=True, check=False, cwd=ROOT
    )


def session_env(base: dict[str, str], role_arn: str) -> dict[str, str]:
    """The role's session, assumed by its party's workload (the only one its trust admits)."""
    profile = base["SEED_RECEIVER_PROFILE" if "Receiver" in role_arn else "SEED_SENDER_PROFILE"]
    answer = cli(
        base,
        "--profile",
        profile,
        "sts",
        "assume-role",
        "--role-arn",
        role_arn,
        "--role-session-name",
        "AWSCLI-Session",
        "--output",
        "json",
    )
    assert answer.returncode == 0, answer.stderr
    credentials = json.loads(answer.stdout)["Credentials"]
    return base | {
        "AWS_ACCESS_KEY_ID": credentials["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["SessionToken"],
    }


@pytest.fixture(scope="module")
def walkthrough(deployed_stack, tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    work = tmp_path_factory.mktemp("seed")
    env = deployed_stack.subprocess_env() | {
        "SEED_WORK_DIR": str(work),
        "SEED_SENDER_ROLE_ARN": deployed_stack.outputs["SenderRoleArn"],
        "SEED_RECEIVER_ROLE_ARN": deployed_stack.outputs["ReceiverRoleArn"],
        "SEED_ENCRYPTION_KEY": deployed_stack.outputs["EncryptionKeyAlias"],
        "SEED_SIGNING_KEY": deployed_stack.outputs["SigningKeyAlias"],
    }
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False
    )
    return result, work


def test_the_walkthrough_succeeds_with_aws_answers(walkthrough) -> None:
    result, work = walkthrough
    assert result.returncode == 0, result.stderr
    documents = [json.loads(d) for d in _json_documents(result.stdout)]
    identities = [d["Arn"] for d in documents if "Arn" in d]
    assert identities == [
        "arn:aws:sts::123456789012:assumed-role/SenderRole/AWSCLI-Session",
        "arn:aws:sts::123456789012:assumed-role/ReceiverRole/AWSCLI-Session",
    ]
    (verify,) = [d for d in documents if "SignatureValid" in d]
    assert verify["SignatureValid"] is True
    assert verify["SigningAlgorithm"] == "ECDSA_SHA_512"
    message = json.loads((work / "receiver" / "message.json").read_text())
    assert message == {
        "message": "The Magic Words are Squeamish Ossifrage",
        "sender": "Sender Principal",
    }
    assert (work / "message.enc").stat().st_size == 512  # RSA_4096 OAEP ciphertext


def test_sender_decrypt_is_denied_in_aws_wording(deployed_stack, walkthrough) -> None:
    _, work = walkthrough
    env = session_env(deployed_stack.subprocess_env(), deployed_stack.outputs["SenderRoleArn"])
    answer = cli(
        env,
        "kms",
        "decrypt",
        "--key-id",
        deployed_stack.outputs["EncryptionKeyAlias"],
        "--ciphertext-blob",
        f"fileb://{work / 'message.enc'}",
        "--encryption-algorithm",
        "RSAES_OAEP_SHA_256",
    )
    assert answer.returncode in CLI_SERVICE_ERROR
    assert "An error occurred (AccessDeniedException) when calling the Decrypt operation: " in (
        answer.stderr
    )
    assert (
        "User: arn:aws:sts::123456789012:assumed-role/SenderRole/AWSCLI-Session is not "
        "authorized to perform: kms:Decrypt on resource: "
        f"{deployed_stack.outputs['EncryptionKeyArn']} because no resource-based policy allows "
        "the kms:Decrypt action"
    ) in answer.stderr


def test_receiver_cannot_sign_and_sender_cannot_assume_receiver(deployed_stack, tmp_path) -> None:
    base = deployed_stack.subprocess_env()
    message = tmp_path / "message.json"
    message.write_text('{"message": "m"}')  # under 4096 bytes: a valid request, refused
    receiver = session_env(base, deployed_stack.outputs["ReceiverRoleArn"])
    answer = cli(
        receiver,
        "kms",
        "sign",
        "--key-id",
        deployed_stack.outputs["SigningKeyAlias"],
        "--message-type",
        "RAW",
        "--signing-algorithm",
        "ECDSA_SHA_512",
        "--message",
        "fileb://" + str(message),
    )
    assert answer.returncode in CLI_SERVICE_ERROR
    assert "(AccessDeniedException) when calling the Sign operation" in answer.stderr
    sender = session_env(base, deployed_stack.outputs["SenderRoleArn"])
    hop = cli(
        sender,
        "sts",
        "assume-role",
        "--role-arn",
        deployed_stack.outputs["ReceiverRoleArn"],
        "--role-session-name",
        "hop",
    )
    assert hop.returncode in CLI_SERVICE_ERROR
    assert "(AccessDenied) when calling the AssumeRole operation" in hop.stderr


def test_the_seed_as_written_fails_where_the_facts_file_says(deployed_stack) -> None:
    """The post's doubled colon is not a role ARN: AWS refuses it, and so does the endpoint."""
    base = deployed_stack.subprocess_env()
    answer = cli(
        base,
        "sts",
        "assume-role",
        "--role-arn",
        "arn:aws:iam::123456789012::role/SenderRole",
        "--role-session-name",
        "AWSCLI-Session",
    )
    assert answer.returncode != 0


def _json_documents(text: str) -> list[str]:
    """Split the AWS CLI's concatenated pretty-printed JSON documents."""
    decoder = json.JSONDecoder()
    documents, index = [], 0
    while index < len(text):
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            break
        _, end = decoder.raw_decode(text, index)
        documents.append(text[index:end])
        index = end
    return documents


def test_from_another_directory_it_leaves_no_temporary_files(deployed_stack, tmp_path) -> None:
    temporary, elsewhere = tmp_path / "tmp", tmp_path / "cwd"
    temporary.mkdir()
    elsewhere.mkdir()
    env = deployed_stack.subprocess_env() | {
        "TMPDIR": str(temporary),
        "SEED_SENDER_ROLE_ARN": deployed_stack.outputs["SenderRoleArn"],
        "SEED_RECEIVER_ROLE_ARN": deployed_stack.outputs["ReceiverRoleArn"],
    }
    env.pop("SEED_WORK_DIR", None)
    result = subprocess.run(
        ["bash", str(SCRIPT)], env=env, cwd=elsewhere, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert list(temporary.iterdir()) == []
    assert list(elsewhere.iterdir()) == []


def test_receive_alone_needs_the_work_directory(tmp_path) -> None:
    env = {"PATH": "/usr/bin:/bin", "SEED_STEP": "receive", "TMPDIR": str(tmp_path)}
    result = subprocess.run(["bash", str(SCRIPT)], env=env, capture_output=True, text=True)
    assert result.returncode == 2
    assert result.stderr == (
        "seed: SEED_STEP=receive needs SEED_WORK_DIR (where send wrote message.enc)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_each_echoed_aws_command_is_the_one_that_runs(walkthrough, deployed_stack) -> None:
    """A user copies the echoed line: it must be the full command, --encryption-algorithm
    included (without it the key policy's algorithm condition refuses Decrypt)."""
    import shlex

    result, work = walkthrough
    shown = [
        shlex.split(line.removeprefix("seed: "))
        for line in result.stderr.splitlines()
        if line.startswith("seed: aws kms ")
    ]
    assert [command[2] for command in shown] == ["sign", "encrypt", "decrypt", "verify"]
    decrypt = shown[2]
    assert decrypt[decrypt.index("--encryption-algorithm") + 1] == "RSAES_OAEP_SHA_256"
    assert decrypt[decrypt.index("--ciphertext-blob") + 1] == "fileb://message.enc"
    # What was shown is exactly what ran: run the echoed decrypt itself, as the receiver.
    env = session_env(deployed_stack.subprocess_env(), deployed_stack.outputs["ReceiverRoleArn"])
    rerun = subprocess.run(
        [*decrypt, "--output", "text", "--query", "KeyId"],
        env=env,
        cwd=work / "receiver",
        capture_output=True,
        text=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr
