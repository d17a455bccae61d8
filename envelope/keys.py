"""Key operations the envelope needs, as protocols, plus offline implementations.

The envelope never talks to AWS. It asks four small objects to do the asymmetric work:

* ``Signer.sign(message)`` returns a DER ECDSA_SHA_512 signature over the RAW message bytes
  (KMS ``Sign`` with ``MessageType=RAW``; the message is at most 4096 bytes).
* ``SignatureVerifier.verify(message, signature)`` returns whether the signature is valid.
* ``KeyWrapper.wrap(data_key)`` encrypts a data key with RSAES_OAEP_SHA_256 (KMS ``Encrypt``).
* ``KeyUnwrapper.unwrap(wrapped)`` reverses it (KMS ``Decrypt``).

Each carries ``key_id``: the key ARN, which the envelope writes into what it signs. ``demo``
implements them with KMS calls; this module implements them offline from public keys (the DER
SubjectPublicKeyInfo that KMS ``GetPublicKey`` returns, or PEM) and from private keys (tests
and test vectors).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from envelope.key_ids import fingerprint

SIGNING_ALGORITHM = "ECDSA_SHA_512"
"""The KMS signing algorithm the envelope uses (SigningAlgorithm)."""

ENCRYPTION_ALGORITHM = "RSAES_OAEP_SHA_256"
"""The KMS encryption algorithm the envelope uses (EncryptionAlgorithm)."""

SIGNING_CURVE_NAME = "secp521r1"
"""ECC_NIST_P521: the only KMS key spec that offers ECDSA_SHA_512."""

RSA_KEY_SIZES = (2048, 3072, 4096)
"""RSA key specs KMS offers for ENCRYPT_DECRYPT (RSA_2048, RSA_3072, RSA_4096)."""

MAX_SIGNED_MESSAGE = 4096
"""KMS Sign with MessageType RAW accepts at most 4096 bytes."""


@runtime_checkable
class Signer(Protocol):
    """Signs up to 4096 bytes, RAW, with ECDSA_SHA_512; returns a DER signature."""

    key_id: str

    def sign(self, message: bytes) -> bytes: ...


@runtime_checkable
class SignatureVerifier(Protocol):
    """Checks a DER ECDSA_SHA_512 signature over RAW message bytes.

    Returns False for an invalid signature (KMS KMSInvalidSignatureException); raises only
    for failures that are not about the signature (access denied, network).
    """

    key_id: str

    def verify(self, message: bytes, signature: bytes) -> bool: ...


@runtime_checkable
class KeyWrapper(Protocol):
    """Encrypts a data key with RSAES_OAEP_SHA_256 to the recipient's key."""

    key_id: str

    def wrap(self, data_key: bytes) -> bytes: ...


@runtime_checkable
class KeyUnwrapper(Protocol):
    """Decrypts a data key that ``KeyWrapper.wrap`` produced for this key.

    Raises ``ValueError`` when the wrapped key does not decrypt (KMS
    InvalidCiphertextException); the reader reports that as tampering. Other failures (access
    denied, network) must raise something else, so they are not mistaken for tampering.
    """

    key_id: str

    def unwrap(self, wrapped: bytes) -> bytes: ...


class KeyMaterialError(ValueError):
    """The key bytes given are not a key of the kind required (misuse, not tampering)."""


def _spki_der(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _key_id_or_fingerprint(key_id: str | None, public_key: object) -> str:
    """``key_id`` as given, or, for None, the key's fingerprint (envelope.key_ids)."""
    return fingerprint(_spki_der(public_key)) if key_id is None else _check_key_id(key_id)


def _check_key_id(key_id: str) -> str:
    if not isinstance(key_id, str):
        raise TypeError(f"key_id must be a str (a key ARN), got {type(key_id).__name__}")
    if not key_id:
        raise ValueError("key_id must be a non-empty key ARN")
    return key_id


def load_public_key(data: bytes) -> object:
    """Load a SubjectPublicKeyInfo given as DER (KMS GetPublicKey) or PEM."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"public key must be bytes (DER or PEM), got {type(data).__name__}")
    raw = bytes(data)
    try:
        if b"-----BEGIN" in raw:  # PEM; text before the block (a key-id: line) is ignored
            return serialization.load_pem_public_key(raw)
        return serialization.load_der_public_key(raw)
    except ValueError as exc:
        raise KeyMaterialError("public key is not a DER or PEM SubjectPublicKeyInfo") from exc


def load_private_key(data: bytes) -> object:
    """Load an unencrypted private key given as PEM or DER (PKCS#8 or traditional)."""
    raw = bytes(data)
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            return serialization.load_pem_private_key(raw, password=None)
        return serialization.load_der_private_key(raw, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyMaterialError("private key is not an unencrypted PEM or DER key") from exc


def _require_p521_public(key: object) -> ec.EllipticCurvePublicKey:
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != SIGNING_CURVE_NAME:
        raise KeyMaterialError(
            f"signing key must be ECC_NIST_P521 ({SIGNING_CURVE_NAME}) for {SIGNING_ALGORITHM}"
        )
    return key


def _require_rsa_public(key: object) -> rsa.RSAPublicKey:
    if not isinstance(key, rsa.RSAPublicKey) or key.key_size not in RSA_KEY_SIZES:
        raise KeyMaterialError(
            f"encryption key must be RSA with a size in {RSA_KEY_SIZES} for {ENCRYPTION_ALGORITHM}"
        )
    return key


def _oaep() -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)


class PublicKeyVerifier:
    """Verifies offline with the sender's public key: 0 KMS Verify calls."""

    def __init__(self, key_id: str | None, public_key: bytes) -> None:
        """``key_id`` None names the key by its fingerprint (``sha256:<hex>``)."""
        self._key = _require_p521_public(load_public_key(public_key))
        self.key_id = _key_id_or_fingerprint(key_id, self._key)

    def verify(self, message: bytes, signature: bytes) -> bool:
        try:
            self._key.verify(bytes(signature), bytes(message), ec.ECDSA(hashes.SHA512()))
        except InvalidSignature:
            return False
        return True

    def public_key_pem(self) -> bytes:
        return self._key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


class PublicKeyWrapper:
    """Wraps data keys offline with the recipient's public key: 0 KMS Encrypt calls."""

    def __init__(self, key_id: str | None, public_key: bytes) -> None:
        """``key_id`` None names the key by its fingerprint (``sha256:<hex>``)."""
        self._key = _require_rsa_public(load_public_key(public_key))
        self.key_id = _key_id_or_fingerprint(key_id, self._key)

    def wrap(self, data_key: bytes) -> bytes:
        return self._key.encrypt(bytes(data_key), _oaep())


class PrivateKeySigner:
    """Signs with a local P-521 private key (tests, vectors, benchmarks)."""

    def __init__(self, key_id: str | None, private_key: bytes | ec.EllipticCurvePrivateKey) -> None:
        """``key_id`` None names the key by its fingerprint (``sha256:<hex>``)."""
        if key_id is not None:
            _check_key_id(key_id)
        key = private_key if not isinstance(private_key, bytes) else load_private_key(private_key)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise KeyMaterialError("signing key must be an EC private key")
        _require_p521_public(key.public_key())
        self._key = key
        self.key_id = _key_id_or_fingerprint(key_id, key.public_key())

    def sign(self, message: bytes) -> bytes:
        if len(message) > MAX_SIGNED_MESSAGE:
            raise ValueError(
                f"RAW signing takes at most {MAX_SIGNED_MESSAGE} bytes, got {len(message)}"
            )
        return self._key.sign(bytes(message), ec.ECDSA(hashes.SHA512()))

    def public_key_der(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verifier(self) -> PublicKeyVerifier:
        return PublicKeyVerifier(self.key_id, self.public_key_der())


class PrivateKeyUnwrapper:
    """Unwraps data keys with a local RSA private key (tests, vectors, benchmarks)."""

    def __init__(self, key_id: str | None, private_key: bytes | rsa.RSAPrivateKey) -> None:
        """``key_id`` None names the key by its fingerprint (``sha256:<hex>``)."""
        if key_id is not None:
            _check_key_id(key_id)
        key = private_key if not isinstance(private_key, bytes) else load_private_key(private_key)
        if not isinstance(key, rsa.RSAPrivateKey):
            raise KeyMaterialError("encryption key must be an RSA private key")
        _require_rsa_public(key.public_key())
        self._key = key
        self.key_id = _key_id_or_fingerprint(key_id, key.public_key())

    def unwrap(self, wrapped: bytes) -> bytes:
        # A wrong ciphertext raises ValueError from cryptography; the envelope reader turns it
        # into its one opaque authentication error.
        return self._key.decrypt(bytes(wrapped), _oaep())

    def public_key_der(self) -> bytes:
        return self._key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def wrapper(self) -> PublicKeyWrapper:
        return PublicKeyWrapper(self.key_id, self.public_key_der())


__all__ = [
    "ENCRYPTION_ALGORITHM",
    "MAX_SIGNED_MESSAGE",
    "RSA_KEY_SIZES",
    "SIGNING_ALGORITHM",
    "KeyMaterialError",
    "KeyUnwrapper",
    "KeyWrapper",
    "PrivateKeySigner",
    "PrivateKeyUnwrapper",
    "PublicKeyVerifier",
    "PublicKeyWrapper",
    "SignatureVerifier",
    "Signer",
    "load_private_key",
    "load_public_key",
]
