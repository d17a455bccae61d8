"""Output locations the user gets wrong, and input files that are not there.

Each is one line on stderr, a non-zero exit, and nothing left behind. These run without
AWS: the keys and roles are given as options, so a test fails loudly (a credentials or
network error) if the command calls AWS before checking its paths.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from envelope import MAGIC
from kms_sign_encrypt import envelope_transfer, kms, offline
from kms_sign_encrypt.errors import EXIT_USAGE, UsageError
from kms_sign_encrypt.files import staged_outputs
from kms_sign_encrypt_cli.cli import EXIT_INTERRUPTED, main

PREFIX = "kms-sign-encrypt: error: "
ENCRYPTION_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
SIGNING_KEY = "arn:aws:kms:us-east-1:123456789012:key/66666666-7777-8888-9999-000000000000"
NO_AWS = (
    "--encryption-key",
    ENCRYPTION_KEY,
    "--signing-key",
    SIGNING_KEY,
    "--no-assume-role",
    "--region",
    "us-east-1",
)


def error_line(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    no_aws = NO_AWS[2:] if args[0] == "verify" else NO_AWS  # verify has no --encryption-key
    code = main([*args, *no_aws])
    err = capsys.readouterr().err
    assert err.startswith(PREFIX), err
    assert err.count("\n") == 1, err
    assert "internal error" not in err
    return code, err[len(PREFIX) : -1]


@pytest.fixture
def work(fake_aws_env: Path, tmp_path: Path) -> Path:
    (tmp_path / "message.json").write_bytes(b'{"message": "hi"}\n')
    return tmp_path


def test_send_to_a_directory_is_refused_even_with_force(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "out").mkdir()
    before = sorted(p.name for p in work.iterdir())
    code, line = error_line(
        capsys, "send", str(work / "message.json"), "-o", str(work / "out"), "--force"
    )
    assert code == EXIT_USAGE
    assert line == f"output {work / 'out'} is a directory: name a file (or a new path) instead"
    assert sorted(p.name for p in work.iterdir()) == before
    assert list((work / "out").iterdir()) == []


def test_send_into_an_unwritable_directory(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> str:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(envelope_transfer.tempfile, "mkdtemp", refuse)
    code, line = error_line(capsys, "send", str(work / "message.json"), "-o", str(work / "m.enc"))
    assert code == EXIT_USAGE
    assert line.startswith(f"cannot write into {work}: Permission denied")
    assert not (work / "m.enc").exists()


def test_staged_outputs_report_an_unwritable_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_: object, **__: object) -> object:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "NamedTemporaryFile", refuse)
    refused = pytest.raises(UsageError, match=r"^cannot write into .*: Permission denied")
    with refused, staged_outputs() as staged:
        staged.write(tmp_path / "message.json", b"{}")
    assert list(tmp_path.iterdir()) == []


def test_staged_outputs_report_a_full_disk_and_leave_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(UsageError, match="No space left"), staged_outputs() as staged:
        staged.write(tmp_path / "message.json", b"{}")
    assert list(tmp_path.iterdir()) == []


def test_receive_into_a_missing_directory_names_that_directory(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "m.enc").write_bytes(MAGIC + bytes(100))
    code, line = error_line(capsys, "receive", str(work / "m.enc"), "-o", str(work / "nowhere"))
    assert code == EXIT_USAGE
    assert line == f"output directory {work / 'nowhere'} does not exist"


def test_kms_verify_of_a_missing_file_fails_before_any_aws_call(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "message.sig").write_bytes(bytes(139))
    code, line = error_line(
        capsys, "verify", str(work / "missing.json"), "-s", str(work / "message.sig")
    )
    assert code == EXIT_USAGE
    assert line == f"input {work / 'missing.json'} not found or not a regular file"


@pytest.mark.parametrize("format_", ["envelope", "seed"])
def test_ctrl_c_mid_send_is_one_line_and_leaves_nothing(
    work: Path,
    format_: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def interrupted(*_: object, **__: object) -> bytes:
        raise KeyboardInterrupt

    monkeypatch.setattr(kms, "encrypt", interrupted)
    monkeypatch.setattr(kms, "sign", lambda *_: bytes(139))
    out = work / "out"
    out.mkdir()
    code, line = error_line(
        capsys, "send", "--format", format_, str(work / "message.json"), "-o", str(out / "m.enc")
    )
    assert code == EXIT_INTERRUPTED
    assert line == "interrupted; no partial output was left behind"
    assert list(out.iterdir()) == []


def pem_of(private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_the_signing_key_pem_given_as_recipient_key_names_the_option_and_the_right_pem(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "signing-key.pem").write_bytes(pem_of(ec.generate_private_key(ec.SECP521R1())))
    code, line = error_line(
        capsys,
        "send",
        str(work / "message.json"),
        "-o",
        str(work / "m.enc"),
        "--recipient-public-key",
        str(work / "signing-key.pem"),
    )
    assert code == EXIT_USAGE
    assert line.startswith(f"{work / 'signing-key.pem'}: the encryption public key must be an RSA")
    assert line.endswith("(option --recipient-public-key)")
    assert not (work / "m.enc").exists()


def test_the_encryption_key_pem_given_as_sender_key_names_the_option_and_the_right_pem(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (work / "encryption-key.pem").write_bytes(pem_of(rsa_key))
    (work / "m.enc").write_bytes(MAGIC + bytes(100))
    (work / "inbox").mkdir()
    code, line = error_line(
        capsys,
        "receive",
        str(work / "m.enc"),
        "-o",
        str(work / "inbox"),
        "--sender-public-key",
        str(work / "encryption-key.pem"),
    )
    assert code == EXIT_USAGE
    assert line.startswith(f"{work / 'encryption-key.pem'}: the signing public key must be an EC")
    assert line.endswith("(option --sender-public-key)")
    assert list((work / "inbox").iterdir()) == []


def test_offline_verify_of_a_device_is_refused_not_hashed_forever(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def endless(*_: object) -> bytes:
        raise AssertionError("started hashing an endless input")

    monkeypatch.setattr(offline, "sha512_of", endless)
    (work / "key.pem").write_bytes(pem_of(ec.generate_private_key(ec.SECP521R1())))
    (work / "message.sig").write_bytes(bytes(139))
    code, line = error_line(
        capsys,
        "verify",
        "--offline",
        "--public-key",
        str(work / "key.pem"),
        "/dev/zero",
        "-s",
        str(work / "message.sig"),
    )
    assert code == EXIT_USAGE
    assert line == "input /dev/zero not found or not a regular file"
