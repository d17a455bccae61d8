"""KMS operations, and the envelope's key protocols implemented with them.

``KmsSigner``, ``KmsVerifier``, ``KmsKeyWrapper`` and ``KmsKeyUnwrapper`` satisfy
``envelope.keys.Signer``, ``SignatureVerifier``, ``KeyWrapper`` and ``KeyUnwrapper``. Each
calls KMS with the key as given (an alias or an ARN) and carries ``key_id``, the key ARN the
envelope writes into what it signs.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization

from envelope.keys import ENCRYPTION_ALGORITHM, MAX_SIGNED_MESSAGE, SIGNING_ALGORITHM
from kms_sign_encrypt.aws import AwsSession, translated
from kms_sign_encrypt.errors import AuthenticationError


def sign(session: AwsSession, key: str, message: bytes) -> bytes:
    """ECDSA_SHA_512 over ``message``: RAW up to 4096 bytes, else a local SHA-512 DIGEST."""
    raw = len(message) <= MAX_SIGNED_MESSAGE
    with translated(session, "kms:Sign", key):
        answer = session.client("kms").sign(
            KeyId=key,
            Message=message if raw else hashlib.sha512(message).digest(),
            MessageType="RAW" if raw else "DIGEST",
            SigningAlgorithm=SIGNING_ALGORITHM,
        )
    return bytes(answer["Signature"])


def verify(session: AwsSession, key: str, message: bytes, signature: bytes) -> bool:
    """KMS Verify; an invalid signature is ``False``, every other failure an error."""
    if len(message) > MAX_SIGNED_MESSAGE:
        return verify_digest(session, key, hashlib.sha512(message).digest(), signature)
    return _verify(session, key, message, "RAW", signature)


def verify_digest(session: AwsSession, key: str, digest: bytes, signature: bytes) -> bool:
    """KMS Verify of a message given by its SHA-512 (MessageType DIGEST): any size."""
    return _verify(session, key, digest, "DIGEST", signature)


def _verify(session: AwsSession, key: str, message: bytes, kind: str, signature: bytes) -> bool:
    try:
        with translated(session, "kms:Verify", key):
            answer = session.client("kms").verify(
                KeyId=key,
                Message=message,
                MessageType=kind,
                Signature=signature,
                SigningAlgorithm=SIGNING_ALGORITHM,
            )
    except AuthenticationError:
        return False
    return bool(answer.get("SignatureValid"))


def encrypt(
    session: AwsSession, key: str, plaintext: bytes, algorithm: str = ENCRYPTION_ALGORITHM
) -> bytes:
    with translated(session, "kms:Encrypt", key):
        answer = session.client("kms").encrypt(
            KeyId=key, Plaintext=plaintext, EncryptionAlgorithm=algorithm
        )
    return bytes(answer["CiphertextBlob"])


def decrypt(session: AwsSession, key: str, ciphertext: bytes) -> bytes:
    """Asymmetric ciphertext carries no key metadata: KMS must be told the key and algorithm."""
    with translated(session, "kms:Decrypt", key):
        answer = session.client("kms").decrypt(
            KeyId=key, CiphertextBlob=ciphertext, EncryptionAlgorithm=ENCRYPTION_ALGORITHM
        )
    return bytes(answer["Plaintext"])


@dataclass(frozen=True)
class PublicKey:
    key_id: str
    key_spec: str
    key_usage: str
    der: bytes

    def pem(self) -> bytes:
        key = serialization.load_der_public_key(self.der)
        return key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def get_public_key(session: AwsSession, key: str) -> PublicKey:
    with translated(session, "kms:GetPublicKey", key):
        answer = session.client("kms").get_public_key(KeyId=key)
    return PublicKey(
        key_id=answer["KeyId"],
        key_spec=answer.get("KeySpec") or answer.get("CustomerMasterKeySpec") or "",
        key_usage=answer.get("KeyUsage", ""),
        der=bytes(answer["PublicKey"]),
    )


@dataclass
class KmsSigner:
    """``envelope.keys.Signer`` with KMS Sign."""

    session: AwsSession
    key: str
    key_id: str

    def sign(self, message: bytes) -> bytes:
        return sign(self.session, self.key, message)


@dataclass
class KmsVerifier:
    """``envelope.keys.SignatureVerifier`` with KMS Verify."""

    session: AwsSession
    key: str
    key_id: str

    def verify(self, message: bytes, signature: bytes) -> bool:
        return verify(self.session, self.key, message, signature)


@dataclass
class KmsKeyWrapper:
    """``envelope.keys.KeyWrapper`` with KMS Encrypt (RSAES_OAEP_SHA_256).

    ``algorithm`` is there to probe the key policy (it must refuse any other algorithm); the
    envelope itself always wraps with the default.
    """

    session: AwsSession
    key: str
    key_id: str
    algorithm: str = ENCRYPTION_ALGORITHM

    def wrap(self, data_key: bytes) -> bytes:
        return encrypt(self.session, self.key, data_key, self.algorithm)


@dataclass
class KmsKeyUnwrapper:
    """``envelope.keys.KeyUnwrapper`` with KMS Decrypt (RSAES_OAEP_SHA_256)."""

    session: AwsSession
    key: str
    key_id: str

    def unwrap(self, wrapped: bytes) -> bytes:
        """The envelope's contract: a ciphertext that does not decrypt is a ``ValueError``."""
        try:
            return decrypt(self.session, self.key, wrapped)
        except AuthenticationError:
            raise ValueError("the wrapped data key does not decrypt with this key") from None
