"""The CLI is thin: each command takes only the options it reads, and a closed pipe is quiet."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kms_sign_encrypt_cli.cli import build_parser

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "tests" / "stacks" / "snapshots" / "KmsSignEncryptStack.template.json"


@pytest.mark.parametrize(
    "argv",
    [
        ["access", "--force"],
        ["access", "--no-progress"],
        ["access", "--sender-profile", "p"],
        ["verify", "f", "-s", "sig", "--sender-role-arn", "arn:aws:iam::123456789012:role/R"],
        ["verify", "f", "-s", "sig", "--encryption-key", "alias/x"],
        ["verify", "f", "-s", "sig", "--force"],
        ["send", "f", "-o", "out", "--receiver-role-arn", "arn:aws:iam::123456789012:role/R"],
        ["send", "f", "-o", "out", "--receiver-profile", "p"],
        ["receive", "f", "--sender-profile", "p"],
        ["public-keys", "--no-progress"],
        ["preflight", "--force"],
        ["audit", "--no-progress"],
    ],
)
def test_an_option_a_command_does_not_read_is_refused(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        build_parser().parse_args(argv)
    assert caught.value.code == 2
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["send", "f", "-o", "out", "--force", "--sender-profile", "p", "--no-progress"],
        ["receive", "f", "--force", "--receiver-role-arn", "arn:aws:iam::123456789012:role/R"],
        ["verify", "f", "-s", "sig", "--receiver-profile", "p", "--signing-key", "alias/s"],
        ["access", "--sender-role-arn", "arn:aws:iam::123456789012:role/R", "--json"],
        ["public-keys", "--force", "--sender-profile", "a", "--receiver-profile", "b"],
    ],
)
def test_the_options_a_command_reads_are_accepted(argv: list[str]) -> None:
    build_parser().parse_args(argv)


def test_a_closed_pipe_ends_quietly_with_the_documented_code() -> None:
    command = [sys.executable, "-m", "demo", "access", "--template", str(TEMPLATE), "--json"]
    # The document (~170 kB) is larger than a pipe buffer (64 kB): the writer is still
    # writing when the reader closes, so it meets EPIPE for sure.
    producer = subprocess.Popen(  # a real pipe, closed by its reader after 10 bytes
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert producer.stdout is not None
    assert producer.stdout.read(10) == b'{\n  "sourc'
    producer.stdout.close()
    _, err = producer.communicate(timeout=60)
    assert err == b""
    assert producer.returncode == 141
