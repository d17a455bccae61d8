"""`verify --offline` agrees with `openssl dgst -sha512 -verify`, both ways, and needs no AWS."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kms_sign_encrypt.errors import EXIT_REFUSED, EXIT_USAGE
from kms_sign_encrypt_cli.cli import main

OPENSSL = shutil.which("openssl")
pytestmark = pytest.mark.skipif(OPENSSL is None, reason="needs the openssl command")


@pytest.fixture
def signed(tmp_path: Path) -> dict[str, Path]:
    key = ec.generate_private_key(ec.SECP521R1())
    message = tmp_path / "message.json"
    message.write_bytes(b'{"message": "The Magic Words are Squeamish Ossifrage"}\n')
    (tmp_path / "message.sig").write_bytes(
        key.sign(message.read_bytes(), ec.ECDSA(hashes.SHA512()))
    )
    (tmp_path / "signing-key.pem").write_bytes(
        key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return {
        "message": message,
        "signature": tmp_path / "message.sig",
        "key": tmp_path / "signing-key.pem",
    }


def openssl_verifies(files: dict[str, Path]) -> bool:
    done = subprocess.run(
        [
            OPENSSL or "openssl",
            "dgst",
            "-sha512",
            "-verify",
            str(files["key"]),
            "-signature",
            str(files["signature"]),
            str(files["message"]),
        ],
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


def demo_verifies(files: dict[str, Path]) -> int:
    return main(
        [
            "verify",
            "--offline",
            "--public-key",
            str(files["key"]),
            "--signature",
            str(files["signature"]),
            str(files["message"]),
        ]
    )


@pytest.mark.usefixtures("clean_aws_env")
def test_a_valid_signature_is_valid_for_both(signed: dict[str, Path]) -> None:
    assert openssl_verifies(signed)
    assert demo_verifies(signed) == 0


@pytest.mark.usefixtures("clean_aws_env")
@pytest.mark.parametrize("what", ["message", "signature"])
def test_a_changed_file_is_invalid_for_both(
    signed: dict[str, Path], what: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(signed[what].read_bytes())
    data[len(data) // 2] ^= 0x01
    signed[what].write_bytes(bytes(data))
    assert not openssl_verifies(signed)
    assert demo_verifies(signed) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "signature verification failed" in err


@pytest.mark.usefixtures("clean_aws_env")
def test_another_key_is_invalid_for_both(signed: dict[str, Path]) -> None:
    other = ec.generate_private_key(ec.SECP521R1()).public_key()
    signed["key"].write_bytes(
        other.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert not openssl_verifies(signed)
    assert demo_verifies(signed) == EXIT_REFUSED


@pytest.mark.usefixtures("clean_aws_env")
def test_a_signature_made_by_openssl_verifies_with_the_demo(
    signed: dict[str, Path], tmp_path: Path
) -> None:
    private = tmp_path / "private.pem"
    subprocess.run(
        [
            OPENSSL or "openssl",
            "ecparam",
            "-name",
            "secp521r1",
            "-genkey",
            "-noout",
            "-out",
            str(private),
        ],
        check=True,
    )
    subprocess.run(
        [OPENSSL or "openssl", "pkey", "-in", str(private), "-pubout", "-out", str(signed["key"])],
        check=True,
    )
    subprocess.run(
        [
            OPENSSL or "openssl",
            "dgst",
            "-sha512",
            "-sign",
            str(private),
            "-out",
            str(signed["signature"]),
            str(signed["message"]),
        ],
        check=True,
    )
    assert demo_verifies(signed) == 0


@pytest.mark.usefixtures("clean_aws_env")
def test_a_key_that_is_not_p521_is_a_precise_usage_error(
    signed: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048).public_key()
    signed["key"].write_bytes(
        rsa_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    assert demo_verifies(signed) == EXIT_USAGE
    assert "is not an ECC_NIST_P521 public key" in capsys.readouterr().err


@pytest.mark.usefixtures("clean_aws_env")
def test_offline_needs_a_public_key(
    signed: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["verify", "--offline", "-s", str(signed["signature"]), str(signed["message"])])
    assert code == EXIT_USAGE
    assert "verify --offline needs --public-key" in capsys.readouterr().err
