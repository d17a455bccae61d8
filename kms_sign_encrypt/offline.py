"""Offline signature checks: a PEM public key from `public-keys`, no AWS at all.

Same check as ``openssl dgst -sha512 -verify key.pem -signature message.sig message.json``:
ECDSA over the SHA-512 of the file's bytes, DER signature. The file is hashed in chunks, so
its size does not matter.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils

from envelope.keys import KeyMaterialError, load_public_key
from kms_sign_encrypt.errors import AuthenticationError, UsageError
from kms_sign_encrypt.files import read_input

CHUNK = 1024 * 1024
MAX_KEY_FILE = 64 * 1024
MAX_SIGNATURE_FILE = 1024


def load_verifying_key(path: Path) -> ec.EllipticCurvePublicKey:
    try:
        key = load_public_key(read_input(path, limit=MAX_KEY_FILE))
    except KeyMaterialError as exc:
        raise UsageError(f"{path}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp521r1":
        raise UsageError(
            f"{path} is not an ECC_NIST_P521 public key: export the signing key's public key "
            "with `public-keys`"
        )
    return key


def sha512_of(path: Path, advance: Callable[[int], None] | None = None) -> bytes:
    digest = hashlib.sha512()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                digest.update(chunk)
                if advance:
                    advance(len(chunk))
    except FileNotFoundError:
        raise UsageError(f"input {path} not found") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    return digest.digest()


def verify_file(
    key_path: Path,
    message_path: Path,
    signature_path: Path,
    advance: Callable[[int], None] | None = None,
) -> None:
    """Returns if the signature is valid; raises the opaque ``AuthenticationError`` if not."""
    key = load_verifying_key(key_path)
    signature = read_input(signature_path, limit=MAX_SIGNATURE_FILE)
    digest = sha512_of(message_path, advance)
    try:
        key.verify(signature, digest, ec.ECDSA(utils.Prehashed(hashes.SHA512())))
    except InvalidSignature:
        raise AuthenticationError(
            "signature verification failed: the file or its signature "
            "was changed, or it was signed with another key"
        ) from None
