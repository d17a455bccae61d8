"""Interoperability with the seed's own format, both ways, through the blog post's AWS CLI
steps (corrected) in scripts/seed-walkthrough.sh, run with the project's AWS CLI."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt_cli.cli import main

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "seed-walkthrough.sh"
AWS_CLI = ROOT / ".venv" / "bin" / "aws"
SEED_MESSAGE = {"message": "The Magic Words are Squeamish Ossifrage", "sender": "Sender Principal"}


def seed_steps(deployed_stack: Any, step: str, work: Path) -> subprocess.CompletedProcess[str]:
    # No skip: requirements-dev.txt installs the AWS CLI; a missing install step must fail.
    assert AWS_CLI.exists(), "the AWS CLI is missing from .venv: run `make setup`"
    outputs = deployed_stack.outputs
    env = deployed_stack.subprocess_env() | {
        "SEED_STEP": step,
        "SEED_WORK_DIR": str(work),
        "SEED_SENDER_ROLE_ARN": outputs["SenderRoleArn"],
        "SEED_RECEIVER_ROLE_ARN": outputs["ReceiverRoleArn"],
        "SEED_ENCRYPTION_KEY": outputs["EncryptionKeyAlias"],
        "SEED_SIGNING_KEY": outputs["SigningKeyAlias"],
        "AWS_CLI": str(AWS_CLI),
    }
    return subprocess.run(
        ["bash", str(SCRIPT)], env=env, capture_output=True, text=True, check=False, cwd=work
    )


def test_a_message_made_by_the_seeds_cli_steps_is_received(
    endpoint_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    done = seed_steps(endpoint_env, "send", tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "message.enc").stat().st_size == 512
    out = tmp_path / "received"
    out.mkdir()
    code = main(
        ["receive", str(tmp_path / "message.enc"), "-o", str(out), "--format", "seed", "--json"]
    )
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert json.loads(captured.out)["format"] == "seed"
    assert json.loads((out / "message.json").read_bytes()) == SEED_MESSAGE
    assert (out / "message.json").read_bytes() == (tmp_path / "message.json").read_bytes()
    assert (out / "message.sig").read_bytes() == (tmp_path / "message.sig").read_bytes()


def test_the_demos_seed_format_is_read_by_the_seeds_cli_steps(
    endpoint_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "message.json").write_text(json.dumps(SEED_MESSAGE, indent=4) + "\n")
    code = main(
        [
            "send",
            "--format",
            "seed",
            str(tmp_path / "message.json"),
            "-o",
            str(tmp_path / "message.enc"),
        ]
    )
    assert code == 0, capsys.readouterr().err
    done = seed_steps(endpoint_env, "receive", tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"SignatureValid": true' in done.stdout
    receiver = tmp_path / "receiver"
    assert (receiver / "message.json").read_bytes() == (tmp_path / "message.json").read_bytes()
    assert sorted(os.listdir(receiver)) == [
        "message.enc",
        "message.json",
        "message.sig",
        "message.tar.gz",
    ]


def test_a_tampered_seed_message_fails_the_seeds_own_steps_too(
    endpoint_env: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The interop check can fail: the seed's steps refuse a changed message.enc."""
    (tmp_path / "message.json").write_text(json.dumps(SEED_MESSAGE) + "\n")
    assert (
        main(
            [
                "send",
                "--format",
                "seed",
                str(tmp_path / "message.json"),
                "-o",
                str(tmp_path / "message.enc"),
            ]
        )
        == 0
    )
    capsys.readouterr()
    data = bytearray((tmp_path / "message.enc").read_bytes())
    data[7] ^= 0x01
    (tmp_path / "message.enc").write_bytes(bytes(data))
    done = seed_steps(endpoint_env, "receive", tmp_path)
    assert done.returncode != 0
    assert "InvalidCiphertextException" in done.stderr
