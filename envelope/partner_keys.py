"""A partner's own keys, with no AWS: load them from PEM, or make a fresh pair of pairs.

A partner that does not use AWS signs with its own ECC P-521 key (ECDSA_SHA_512, as KMS
ECC_NIST_P521) and receives with its own RSA-4096 key (RSAES_OAEP_SHA_256, as KMS RSA_4096).
Such keys have no ARN: each is named by its fingerprint, ``sha256:<64 hex>`` of its
SubjectPublicKeyInfo DER (envelope.key_ids). The loaders accept what ``openssl genpkey``
writes (PKCS#8, or SEC1 ``EC PRIVATE KEY`` / PKCS#1 ``RSA PRIVATE KEY``), optionally encrypted
with a passphrase, and raise a ``PartnerKeyError`` subclass that says what is wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from envelope.keys import (
    SIGNING_CURVE_NAME,
    KeyMaterialError,
    PrivateKeySigner,
    PrivateKeyUnwrapper,
    PublicKeyVerifier,
    PublicKeyWrapper,
)

PARTNER_RSA_BITS = 4096
PRIVATE_KEY_MODE = 0o600
SIGNING_PRIVATE = "partner-signing.pem"
SIGNING_PUBLIC = "partner-signing.pub.pem"
ENCRYPTION_PRIVATE = "partner-encryption.pem"
ENCRYPTION_PUBLIC = "partner-encryption.pub.pem"


class PartnerKeyError(KeyMaterialError):
    """A partner key file cannot be used for the job asked (misuse, not tampering)."""


class WrongKeyTypeError(PartnerKeyError):
    """The key is of the wrong kind, curve or size (e.g. RSA where P-521 is needed)."""


class EncryptedKeyError(PartnerKeyError):
    """The private key is encrypted and no passphrase was given, or the passphrase is wrong."""


class PublicKeyGivenError(PartnerKeyError):
    """A public key was given where a private key is needed."""


class PrivateKeyGivenError(PartnerKeyError):
    """A private key was given where a public key is needed (never pass a private key on)."""


class NotAKeyError(PartnerKeyError):
    """The bytes are not a PEM or DER key at all."""


def _is_pem(data: bytes, kind: str) -> bool:
    return f"-----BEGIN {kind}".encode() in data


def _load_private(data: bytes, passphrase: bytes | None) -> object:
    raw = bytes(data)
    if _is_pem(raw, "PUBLIC KEY") or _is_pem(raw, "RSA PUBLIC KEY"):
        raise PublicKeyGivenError("this is a public key; a private key is needed here")
    encrypted = _is_pem(raw, "ENCRYPTED PRIVATE KEY") or b"Proc-Type: 4,ENCRYPTED" in raw
    if encrypted and passphrase is None:
        raise EncryptedKeyError("the private key is encrypted; give its passphrase")
    password = passphrase if encrypted else None
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return serialization.load_pem_private_key(raw, password=password)
        return serialization.load_der_private_key(raw, password=password)
    except TypeError as exc:  # a passphrase for an unencrypted key, or none for an encrypted
        raise EncryptedKeyError(f"the private key cannot be opened: {exc}") from None
    except ValueError:
        if encrypted:
            raise EncryptedKeyError("the passphrase does not open the private key") from None
        try:
            _load_public(raw)
        except PartnerKeyError:
            raise NotAKeyError("not a PEM or DER private key") from None
        raise PublicKeyGivenError("this is a public key; a private key is needed here") from None


def _load_public(data: bytes) -> object:
    raw = bytes(data)
    if (
        _is_pem(raw, "PRIVATE KEY")
        or _is_pem(raw, "EC PRIVATE KEY")
        or _is_pem(raw, "RSA PRIVATE KEY")
        or _is_pem(raw, "ENCRYPTED PRIVATE KEY")
    ):
        raise PrivateKeyGivenError("this is a private key; a public key is needed here")
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return serialization.load_pem_public_key(raw)
        return serialization.load_der_public_key(raw)
    except ValueError:
        try:
            serialization.load_der_private_key(raw, password=None)
        except (ValueError, TypeError):
            raise NotAKeyError("not a PEM or DER SubjectPublicKeyInfo public key") from None
        raise PrivateKeyGivenError("this is a private key; a public key is needed here") from None


def _require_p521(key: object, what: str) -> None:
    public = key.public_key() if isinstance(key, ec.EllipticCurvePrivateKey) else key
    if not isinstance(public, ec.EllipticCurvePublicKey):
        raise WrongKeyTypeError(
            f"{what} must be an EC P-521 key, got {type(public).__name__.lstrip('_')}"
        )
    if public.curve.name != SIGNING_CURVE_NAME:
        raise WrongKeyTypeError(f"{what} must be on curve P-521, got {public.curve.name}")


def _require_rsa4096(key: object, what: str) -> None:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    if not isinstance(public, rsa.RSAPublicKey):
        raise WrongKeyTypeError(f"{what} must be an RSA-4096 key, got a non-RSA key")
    if public.key_size != PARTNER_RSA_BITS:
        raise WrongKeyTypeError(f"{what} must be RSA-4096, got RSA-{public.key_size}")


def load_signing_private_key(data: bytes, *, passphrase: bytes | None = None) -> PrivateKeySigner:
    """A P-521 private key (PKCS#8 or SEC1 PEM, or DER) as a signer named by its fingerprint."""
    key = _load_private(data, passphrase)
    _require_p521(key, "the signing key")
    return PrivateKeySigner(None, key)  # type: ignore[arg-type]


def load_encryption_private_key(
    data: bytes, *, passphrase: bytes | None = None
) -> PrivateKeyUnwrapper:
    """An RSA-4096 private key (PKCS#8 or PKCS#1) as an unwrapper named by its fingerprint."""
    key = _load_private(data, passphrase)
    _require_rsa4096(key, "the encryption key")
    return PrivateKeyUnwrapper(None, key)  # type: ignore[arg-type]


def load_signing_public_key(data: bytes, *, key_id: str | None = None) -> PublicKeyVerifier:
    """A P-521 public key (SPKI PEM or DER) as a trusted-sender verifier; ``key_id`` None
    names it by its fingerprint (pass the KMS ARN for a KMS key's exported public key)."""
    key = _load_public(data)
    _require_p521(key, "the signing public key")
    return PublicKeyVerifier(key_id, _der(key))


def load_encryption_public_key(data: bytes, *, key_id: str | None = None) -> PublicKeyWrapper:
    """An RSA public key (SPKI PEM or DER) as a recipient wrapper; ``key_id`` None names it by
    its fingerprint. RSA-4096 for a partner key; a KMS key's may be 2048-4096 (give key_id)."""
    key = _load_public(data)
    if key_id is None:
        _require_rsa4096(key, "the encryption public key")
    elif not isinstance(key, rsa.RSAPublicKey):
        raise WrongKeyTypeError("the encryption public key must be an RSA key")
    return PublicKeyWrapper(key_id, _der(key))


def _der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass(frozen=True)
class GeneratedKeyFiles:
    """What ``generate_partner_keys`` wrote, and the key ids (fingerprints) to share."""

    signing_private: Path
    signing_public: Path
    encryption_private: Path
    encryption_public: Path
    signing_fingerprint: str
    encryption_fingerprint: str


def _write_new(path: Path, data: bytes, mode: int) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)  # whatever the umask
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


def generate_partner_keys(directory: Path) -> GeneratedKeyFiles:
    """Write a P-521 signing pair and an RSA-4096 encryption pair into ``directory``.

    Private keys (unencrypted PKCS#8 PEM) are created exclusively with mode 0600; public
    keys (SPKI PEM, 0644) beside them. Refuses if any of the four files exists
    (``FileExistsError``) and leaves nothing behind on failure.
    """
    directory = Path(directory)
    if not directory.is_dir():
        raise PartnerKeyError(f"directory {str(directory)!r} does not exist")
    names = (SIGNING_PRIVATE, SIGNING_PUBLIC, ENCRYPTION_PRIVATE, ENCRYPTION_PUBLIC)
    paths = [directory / name for name in names]
    for path in paths:
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"{str(path)!r} already exists")
    signing = ec.generate_private_key(ec.SECP521R1())
    encryption = rsa.generate_private_key(public_exponent=65537, key_size=PARTNER_RSA_BITS)
    pkcs8 = serialization.PrivateFormat.PKCS8
    pem, spki = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    none = serialization.NoEncryption()
    contents = (
        (signing.private_bytes(pem, pkcs8, none), PRIVATE_KEY_MODE),
        (signing.public_key().public_bytes(pem, spki), 0o644),
        (encryption.private_bytes(pem, pkcs8, none), PRIVATE_KEY_MODE),
        (encryption.public_key().public_bytes(pem, spki), 0o644),
    )
    written: list[Path] = []
    try:
        for path, (data, mode) in zip(paths, contents, strict=True):
            _write_new(path, data, mode)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    signer = PrivateKeySigner(None, signing)
    unwrapper = PrivateKeyUnwrapper(None, encryption)
    return GeneratedKeyFiles(*paths, signer.key_id, unwrapper.key_id)


__all__ = [
    "PARTNER_RSA_BITS",
    "EncryptedKeyError",
    "GeneratedKeyFiles",
    "NotAKeyError",
    "PartnerKeyError",
    "PrivateKeyGivenError",
    "PublicKeyGivenError",
    "WrongKeyTypeError",
    "generate_partner_keys",
    "load_encryption_private_key",
    "load_encryption_public_key",
    "load_signing_private_key",
    "load_signing_public_key",
]
