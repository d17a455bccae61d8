"""One CLI test per error path: one line on stderr, a non-zero exit, no output file left.

Error paths (issue 5): missing credentials, wrong region, stack not found, access denied,
throttling, and tampered, truncated, oversized or wrong-format input.
"""

from __future__ import annotations

import errno
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt import envelope_transfer, kms, seed, seed_transfer
from kms_sign_encrypt.aws import CallMetrics, ClientSettings, assume_role, open_caller_session
from kms_sign_encrypt.errors import EXIT_ERROR, EXIT_REFUSED, EXIT_USAGE
from kms_sign_encrypt_cli.cli import main

PREFIX = "kms-sign-encrypt: error: "
MESSAGE = b'{"message": "The Magic Words are Squeamish Ossifrage", "sender": "Sender Principal"}\n'


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.err


def one_line(err: str) -> str:
    assert err.endswith("\n")
    assert err.count("\n") == 1, err
    assert err.startswith(PREFIX), err
    assert "Traceback" not in err
    return err[len(PREFIX) : -1]


def listing(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "message.json").write_bytes(MESSAGE)
    (tmp_path / "out").mkdir()
    return tmp_path


# ---------------------------------------------------------------------- environment errors


@pytest.mark.usefixtures("clean_aws_env")
def test_missing_credentials(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(
        capsys,
        "send",
        str(work / "message.json"),
        "-o",
        str(work / "m.enc"),
        "--region",
        "us-east-1",
    )
    assert code == EXIT_ERROR
    assert one_line(err).startswith("no AWS credentials found: configure the AWS CLI")
    assert not (work / "m.enc").exists()


@pytest.mark.usefixtures("clean_aws_env")
def test_missing_region(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(capsys, "send", str(work / "message.json"), "-o", str(work / "m.enc"))
    assert code == EXIT_ERROR
    assert one_line(err).startswith("no AWS region configured: name a region")


def test_wrong_region_with_an_outputs_file(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = cli(
        capsys,
        "send",
        str(work / "message.json"),
        "-o",
        str(work / "m.enc"),
        "--outputs-file",
        str(endpoint_env.outputs_file),
        "--region",
        "eu-west-1",
    )
    assert code == EXIT_ERROR
    assert one_line(err) == (
        "wrong region: the keys are in us-east-1 but the session uses eu-west-1; "
        "use region us-east-1 (option --region)"
    )
    assert not (work / "m.enc").exists()


@pytest.mark.usefixtures("endpoint_env")
def test_wrong_region_with_a_stack_name(work: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = cli(capsys, "run", "--workdir", str(work / "out"), "--region", "eu-west-1")
    assert code == EXIT_ERROR
    assert one_line(err).startswith(
        "stack 'KmsSignEncryptStack' not found in region eu-west-1: deploy it first"
    )
    assert listing(work / "out") == []


@pytest.mark.usefixtures("endpoint_env")
def test_stack_not_found(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(work / "out"))  # where run's workdir would go
    code, err = cli(
        capsys,
        "send",
        str(work / "message.json"),
        "-o",
        str(work / "m.enc"),
        "--stack-name",
        "NotDeployed",
    )
    assert code == EXIT_ERROR
    assert one_line(err) == (
        "stack 'NotDeployed' not found in region us-east-1: deploy it first (cdk deploy), or "
        "name another stack, region or outputs file (option --stack-name or --name-prefix)"
    )
    assert not (work / "m.enc").exists()
    code, err = cli(capsys, "run", "--stack-name", "NotDeployed")
    assert code == EXIT_ERROR
    assert listing(work / "out") == []  # not even an empty work directory


def test_access_denied_names_principal_action_and_statement(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The sender tries to receive: KMS refuses Decrypt to SenderRole."""
    assert main(["send", str(work / "message.json"), "-o", str(work / "m.enc")]) == 0
    capsys.readouterr()
    sender_role = endpoint_env.outputs["SenderRoleArn"]
    code, err = cli(
        capsys,
        "receive",
        str(work / "m.enc"),
        "-o",
        str(work / "out"),
        "--receiver-role-arn",
        sender_role,
        "--receiver-profile",
        endpoint_env.profiles.sender.profile,  # the sender's own workload tries to receive
    )
    assert code == EXIT_ERROR
    line = one_line(err)
    assert line.startswith(
        "access denied: arn:aws:sts::123456789012:assumed-role/SenderRole/"
        "kms-sign-encrypt-demo-receiver may not call kms:Decrypt on "
        "alias/sample-encrypt-decrypt-key"
    )
    assert f'"Principal": {{"AWS": "{sender_role}"}}, "Action": "kms:Decrypt"' in line
    assert '"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"' in line
    assert listing(work / "out") == []


class _Throttler(BaseHTTPRequestHandler):
    requests = 0

    def do_POST(self) -> None:
        type(self).requests += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
        self.send_response(400)
        self.send_header("x-amzn-ErrorType", "ThrottlingException")
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def throttling_endpoint(fake_aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[type]:
    """An AWS endpoint that throttles every request."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Throttler)
    _Throttler.requests = 0
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_port}")
    try:
        yield _Throttler
    finally:
        server.shutdown()
        server.server_close()


def test_throttling_is_retried_boundedly_then_one_line(
    throttling_endpoint: type,
    no_sleep: list[float],
    work: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
    code, err = cli(
        capsys,
        "send",
        "--format",
        "seed",
        str(work / "message.json"),
        "-o",
        str(work / "m.enc"),
        "--no-assume-role",
        "--encryption-key",
        key,
        "--signing-key",
        key,
        "--max-attempts",
        "3",
    )
    assert code == EXIT_ERROR
    assert one_line(err).startswith(
        "kms:Sign was throttled (ThrottlingException) and still refused after 3 attempts"
    )
    assert throttling_endpoint.requests == 3
    assert len(no_sleep) == 2
    assert not (work / "m.enc").exists()


# --------------------------------------------------------------------------- input errors


@pytest.fixture
def envelope_file(endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert main(["send", str(work / "message.json"), "-o", str(work / "m.enc")]) == 0
    capsys.readouterr()
    return work / "m.enc"


@pytest.fixture
def seed_file(endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    target = work / "seed.enc"
    assert main(["send", "--format", "seed", str(work / "message.json"), "-o", str(target)]) == 0
    capsys.readouterr()
    return target


def flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def refused(capsys: pytest.CaptureFixture[str], source: Path, out: Path, *options: str) -> str:
    """`receive` refuses ``source`` as bad input, in one line, writing nothing into ``out``."""
    code, err = cli(capsys, "receive", str(source), "-o", str(out), *options)
    assert code == EXIT_REFUSED
    assert listing(out) == []
    return one_line(err)


OPAQUE = (
    "the message cannot be authenticated: it may be corrupted or tampered with, or it was not "
    "made for this key"
)


@pytest.mark.parametrize("offset", [-1, -200, 600])
def test_tampered_envelope(
    envelope_file: Path, work: Path, offset: int, capsys: pytest.CaptureFixture[str]
) -> None:
    flip(envelope_file, offset)
    assert refused(capsys, envelope_file, work / "out") == OPAQUE


def test_tampered_seed_message(
    seed_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flip(seed_file, 100)
    assert refused(capsys, seed_file, work / "out", "--format", "seed") == OPAQUE


def test_truncated_envelope(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = envelope_file.read_bytes()
    envelope_file.write_bytes(data[: len(data) - 100])
    assert refused(capsys, envelope_file, work / "out") == OPAQUE


def test_envelope_truncated_inside_its_header(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    envelope_file.write_bytes(envelope_file.read_bytes()[:40])
    assert refused(capsys, envelope_file, work / "out").startswith(
        "refused: header truncated in recipient key id"
    )


@pytest.mark.usefixtures("clean_aws_env")
@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "is empty: not an encrypted message"),
        (os.urandom(511), "it has 511 bytes"),  # a seed message cut short
        (b"PK\x03\x04" + os.urandom(600), "it has 604 bytes"),
        (b"kms-envelope/v9\n" + os.urandom(600), "unsupported envelope version"),
    ],
)
def test_truncated_or_wrong_format_input_is_refused_before_any_aws_call(
    work: Path, content: bytes, reason: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """No credentials are configured: these must fail before anything talks to AWS."""
    (work / "in.enc").write_bytes(content)
    code, err = cli(capsys, "receive", str(work / "in.enc"), "-o", str(work / "out"))
    line = one_line(err)
    assert code == EXIT_REFUSED
    assert reason in line
    assert listing(work / "out") == []


@pytest.mark.parametrize(
    ("size", "what"),
    [
        (300, "but even without its signature the message makes"),
        (3_000_000, "but the message alone is 3000000 bytes"),
    ],
)
def test_oversized_message_for_the_seed_format(
    endpoint_env: Any, work: Path, size: int, what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    big = work / "big.bin"
    big.write_bytes(os.urandom(size))
    code, err = cli(capsys, "send", "--format", "seed", str(big), "-o", str(work / "m.enc"))
    assert code == EXIT_REFUSED
    line = one_line(err)
    assert line.startswith("the seed format holds at most 446 bytes of tar.gz")
    assert what in line
    assert line.endswith("use the envelope format, which handles any size (option --format)")
    assert not (work / "m.enc").exists()


def test_oversized_seed_ciphertext_is_not_a_seed_message(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "big.enc").write_bytes(os.urandom(513))
    code, err = cli(capsys, "receive", str(work / "big.enc"), "-o", str(work / "out"))
    assert code == EXIT_REFUSED
    assert "exactly 512 bytes" in one_line(err)


def test_an_envelope_for_another_recipient_key_is_refused_before_kms(
    envelope_file: Path, endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-0000-0000-000000000000"
    code, err = cli(
        capsys, "receive", str(envelope_file), "-o", str(work / "out"), "--encryption-key", other
    )
    assert code == EXIT_REFUSED
    assert one_line(err).startswith("refused: this envelope is addressed to key")
    assert listing(work / "out") == []


def test_an_existing_output_is_kept(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "out" / "message.json").write_bytes(b"keep me")
    # --no-progress: a receive slower than 1 s would print a progress line before the error
    code, err = cli(capsys, "receive", str(envelope_file), "-o", str(work / "out"), "--no-progress")
    assert code == EXIT_USAGE
    assert "already exists: remove it or allow replacing it (option --force)" in one_line(err)
    assert (work / "out" / "message.json").read_bytes() == b"keep me"
    assert listing(work / "out") == ["message.json"]


def test_usage_errors_are_one_line_too(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["send", "--max-attempts", "99", "x", "-o", "y"])
    assert caught.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "kms-sign-encrypt send: error: argument --max-attempts: must be 1-10, got 99 "
        "(see kms-sign-encrypt send --help)"
    ]


def test_an_unexpected_bug_is_one_line_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], work: Path
) -> None:
    from kms_sign_encrypt_cli import commands

    def broken(args: object) -> None:
        raise KeyError("invariant")

    monkeypatch.setattr(commands, "verify_command", broken)
    monkeypatch.delenv("KMS_SIGN_ENCRYPT_DEBUG", raising=False)
    # the parser captured the handler at build time: rebuild through main
    code, err = cli(capsys, "verify", "--offline", "-s", "x", "y")
    assert code == EXIT_ERROR
    assert one_line(err).startswith("internal error (KeyError: 'invariant')")


def forged_seed_message(deployed_stack: Any, target: Path) -> None:
    """A well-formed seed message whose signature is not the sender's: anyone allowed to
    Encrypt (or holding the public key) can make one."""
    workload = open_caller_session(
        profile=deployed_stack.profiles.sender.profile,
        region=None,
        settings=ClientSettings(),
        metrics=CallMetrics(),
    )
    sender = assume_role(workload, deployed_stack.outputs["SenderRoleArn"], party="sender")
    archive = seed.bundle(MESSAGE, bytes(seed.MAX_SIGNATURE_BYTES))
    alias = deployed_stack.outputs["EncryptionKeyAlias"]
    target.write_bytes(kms.encrypt(sender, alias, archive))


def test_a_seed_message_with_a_forged_signature_writes_nothing(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    forged_seed_message(endpoint_env, work / "forged.enc")
    assert refused(capsys, work / "forged.enc", work / "out", "--format", "seed") == OPAQUE


def test_without_the_signature_check_the_forged_seed_message_would_be_written(
    endpoint_env: Any,
    work: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Breaks the property on purpose: the KMS Verify is what keeps the forgery out."""
    monkeypatch.setattr(seed_transfer, "verify_bundle", lambda *_: None)
    forged_seed_message(endpoint_env, work / "forged.enc")
    code, _ = cli(
        capsys, "receive", str(work / "forged.enc"), "-o", str(work / "out"), "--format", "seed"
    )
    assert code == 0
    assert listing(work / "out") == ["message.json", "message.sig"]


def test_a_failure_while_placing_the_evidence_takes_back_the_received_files(
    envelope_file: Path,
    work: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The evidence moves last (across file systems: a copy) and fails half-way: the
    already placed message and the half-copied evidence must both go."""

    def half_copied(source: Path, target: Path) -> None:
        Path(target).mkdir()
        (Path(target) / "statement.json").write_bytes(b"{")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(envelope_transfer.shutil, "move", half_copied)
    # --no-progress: a receive slower than 1 s would print a progress line before the error
    code, err = cli(capsys, "receive", str(envelope_file), "-o", str(work / "out"), "--no-progress")
    assert code == EXIT_USAGE
    assert one_line(err) == (
        f"cannot write into {work / 'out'}: No space left on device; choose a writable "
        "output location"
    )
    assert listing(work / "out") == []
