"""Partner keys with no AWS: fingerprints as key ids, loading PEMs of every form openssl
writes, the typed refusals, and generate_partner_keys."""

from __future__ import annotations

import hashlib
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import envelope
from envelope import partner_keys as pk
from envelope.key_ids import fingerprint, key_id_problem
from tests.envelope.envelope_testkit import key_bytes

PEM = serialization.Encoding.PEM


def _spki(key: object) -> bytes:
    return key.public_key().public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_fingerprint_is_sha256_of_the_spki_der() -> None:
    signer = pk.load_signing_private_key(key_bytes("sender.p521.pem"))
    der = signer.public_key_der()
    assert signer.key_id == "sha256:" + hashlib.sha256(der).hexdigest() == fingerprint(der)
    assert signer.verifier().key_id == signer.key_id
    assert key_id_problem(signer.key_id) is None


@pytest.mark.parametrize(
    "bad",
    [
        "sha256:" + "A" * 64,  # upper case: a second spelling of one key
        "sha256:" + "0" * 63,
        "sha256:" + "0" * 65,
        "SHA256:" + "0" * 64,
        "sha512:" + "0" * 128,
        "arn:aws:kms:us-east-1:123456789012:alias/partner",
        "arn:aws:kms:us-east-1:12345678901:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:us-east-1:123456789012:key/1234ABCD-12AB-34CD-56EF-1234567890AB",
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "x",
        "",
    ],
)
def test_key_ids_are_validated_strictly(bad: str) -> None:
    assert key_id_problem(bad) is not None


def test_wrong_kind_curve_and_size_are_typed() -> None:
    p256 = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    rsa2048 = key_bytes("fast_recipient.rsa2048.pem")
    with pytest.raises(pk.WrongKeyTypeError, match="P-521"):
        pk.load_signing_private_key(p256)
    with pytest.raises(pk.WrongKeyTypeError, match="P-521"):
        pk.load_signing_private_key(key_bytes("recipient.rsa4096.pem"))
    with pytest.raises(pk.WrongKeyTypeError, match="RSA-4096, got RSA-2048"):
        pk.load_encryption_private_key(rsa2048)
    with pytest.raises(pk.WrongKeyTypeError, match="RSA"):
        pk.load_encryption_private_key(key_bytes("sender.p521.pem"))
    assert issubclass(pk.PartnerKeyError, envelope.KeyMaterialError)


def test_public_for_private_and_the_reverse_are_typed() -> None:
    signer = pk.load_signing_private_key(key_bytes("sender.p521.pem"))
    public_pem = signer.verifier().public_key_pem()
    with pytest.raises(pk.PublicKeyGivenError):
        pk.load_signing_private_key(public_pem)
    with pytest.raises(pk.PrivateKeyGivenError):
        pk.load_signing_public_key(key_bytes("sender.p521.pem"))
    with pytest.raises(pk.PrivateKeyGivenError):
        pk.load_encryption_public_key(key_bytes("recipient.rsa4096.pem"))
    with pytest.raises(pk.NotAKeyError):
        pk.load_signing_public_key(b"not a key")
    with pytest.raises(pk.NotAKeyError):
        pk.load_signing_private_key(b"not a key")


def test_encrypted_pem_needs_its_passphrase() -> None:
    key = ec.generate_private_key(ec.SECP521R1())
    pem = key.private_bytes(
        PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"correct horse"),
    )
    with pytest.raises(pk.EncryptedKeyError, match="passphrase"):
        pk.load_signing_private_key(pem)
    with pytest.raises(pk.EncryptedKeyError, match="passphrase"):
        pk.load_signing_private_key(pem, passphrase=b"wrong")
    signer = pk.load_signing_private_key(pem, passphrase=b"correct horse")
    assert signer.key_id == fingerprint(_spki(key))


def test_sec1_and_pkcs8_give_the_same_key_id() -> None:
    key = ec.generate_private_key(ec.SECP521R1())
    none = serialization.NoEncryption()
    sec1 = key.private_bytes(PEM, serialization.PrivateFormat.TraditionalOpenSSL, none)
    pkcs8 = key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, none)
    assert b"EC PRIVATE KEY" in sec1
    assert (
        pk.load_signing_private_key(sec1).key_id
        == pk.load_signing_private_key(pkcs8).key_id
        == fingerprint(_spki(key))
    )


def test_generate_partner_keys(tmp_path: Path) -> None:
    keys = pk.generate_partner_keys(tmp_path)
    for private in (keys.signing_private, keys.encryption_private):
        assert stat.S_IMODE(private.stat().st_mode) == 0o600
    signer = pk.load_signing_private_key(keys.signing_private.read_bytes())
    verifier = pk.load_signing_public_key(keys.signing_public.read_bytes())
    unwrapper = pk.load_encryption_private_key(keys.encryption_private.read_bytes())
    wrapper = pk.load_encryption_public_key(keys.encryption_public.read_bytes())
    assert signer.key_id == verifier.key_id == keys.signing_fingerprint
    assert unwrapper.key_id == wrapper.key_id == keys.encryption_fingerprint
    assert verifier.verify(b"m", signer.sign(b"m"))
    assert unwrapper.unwrap(wrapper.wrap(b"k" * 32)) == b"k" * 32
    with pytest.raises(FileExistsError):  # created exclusively: never overwrites
        pk.generate_partner_keys(tmp_path)
    assert keys.signing_private.read_bytes() == keys.signing_private.read_bytes()


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_made_keys_seal_and_unseal(tmp_path: Path) -> None:
    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True)

    sign_key, enc_key = tmp_path / "sign.pem", tmp_path / "enc.pem"
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-521",
            "-out", str(sign_key))  # fmt: skip
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:4096",
            "-out", str(enc_key))  # fmt: skip
    sign_pub, enc_pub = tmp_path / "sign.pub.pem", tmp_path / "enc.pub.pem"
    openssl("pkey", "-in", str(sign_key), "-pubout", "-out", str(sign_pub))
    openssl("pkey", "-in", str(enc_key), "-pubout", "-out", str(enc_pub))
    sec1 = tmp_path / "sign.sec1.pem"
    openssl("ec", "-in", str(sign_key), "-out", str(sec1))
    signer = pk.load_signing_private_key(sign_key.read_bytes())
    assert pk.load_signing_private_key(sec1.read_bytes()).key_id == signer.key_id
    wrapper = pk.load_encryption_public_key(enc_pub.read_bytes())
    (tmp_path / "a.txt").write_bytes(b"from a partner with no AWS\n")
    sealed = tmp_path / "m.env"
    envelope.seal([tmp_path / "a.txt"], sealed, signer=signer, wrapper=wrapper)
    out = tmp_path / "out"
    out.mkdir()
    unsealed = envelope.unseal(
        sealed,
        out,
        unwrapper=pk.load_encryption_private_key(enc_key.read_bytes()),
        verifier=pk.load_signing_public_key(sign_pub.read_bytes()),
    )
    assert unsealed.statement.sender == signer.key_id
    assert (out / "a.txt").read_bytes() == b"from a partner with no AWS\n"


def test_rsa_4096_generated_here_is_accepted() -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=4096)
    pem = key.private_bytes(
        PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    assert pk.load_encryption_private_key(pem).key_id == fingerprint(_spki(key))
