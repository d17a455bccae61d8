"""KMS asymmetric operations as AWS KMS performs them, on moto's key objects.

The patches in :mod:`local_endpoint.patches` call these for RSA and ECC keys. Sources: AWS KMS
API reference (Encrypt, Decrypt, Sign, Verify, GetPublicKey) and the KMS developer guide
("Asymmetric key specs", "Signing algorithms"). Errors carry AWS's exception names; the
wording follows what AWS KMS answers.
"""

from __future__ import annotations

from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, utils
from moto.core.exceptions import JsonRESTError

from local_endpoint import messages

ENCRYPT_DECRYPT = "ENCRYPT_DECRYPT"
SIGN_VERIFY = "SIGN_VERIFY"
SYMMETRIC_DEFAULT = "SYMMETRIC_DEFAULT"
RAW = "RAW"
DIGEST = "DIGEST"
MESSAGE_TYPES = (RAW, DIGEST)
RAW_MESSAGE_MAX_BYTES = 4096
"""Sign/Verify: a message is at most 4096 bytes (local_endpoint.validation); hash larger
ones and send a DIGEST."""

OAEP_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "RSAES_OAEP_SHA_1": hashes.SHA1,
    "RSAES_OAEP_SHA_256": hashes.SHA256,
}
SIGNING_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "ECDSA_SHA_256": hashes.SHA256,
    "ECDSA_SHA_384": hashes.SHA384,
    "ECDSA_SHA_512": hashes.SHA512,
    "RSASSA_PSS_SHA_256": hashes.SHA256,
    "RSASSA_PSS_SHA_384": hashes.SHA384,
    "RSASSA_PSS_SHA_512": hashes.SHA512,
    "RSASSA_PKCS1_V1_5_SHA_256": hashes.SHA256,
    "RSASSA_PKCS1_V1_5_SHA_384": hashes.SHA384,
    "RSASSA_PKCS1_V1_5_SHA_512": hashes.SHA512,
}


# -- errors, named as AWS KMS names them --------------------------------------------------------


def validation_error(message: str) -> JsonRESTError:
    return JsonRESTError("ValidationException", message)


def invalid_key_usage(message: str) -> JsonRESTError:
    return JsonRESTError("InvalidKeyUsageException", message)


def invalid_ciphertext() -> JsonRESTError:
    # AWS KMS sends this one without a message.
    return JsonRESTError("InvalidCiphertextException", "")


def invalid_signature() -> JsonRESTError:
    return JsonRESTError("KMSInvalidSignatureException", "")


# -- checks ---------------------------------------------------------------------------------------


def is_rsa(key: Any) -> bool:
    return str(key.key_spec).startswith("RSA_")


def is_asymmetric(key: Any) -> bool:
    return str(key.key_spec).startswith(("RSA_", "ECC_", "SM2"))


def require_usage(key: Any, usage: str, operation: str) -> None:
    """InvalidKeyUsageException unless the key's KeyUsage is ``usage``."""
    if key.key_usage != usage:
        raise invalid_key_usage(
            messages.KEY_USAGE.format(arn=key.arn, usage=key.key_usage, operation=operation)
        )


def require_encryption_algorithm(key: Any, algorithm: str | None) -> str:
    """The EncryptionAlgorithm to use; it defaults to SYMMETRIC_DEFAULT, which RSA keys refuse."""
    algorithm = algorithm or SYMMETRIC_DEFAULT
    if algorithm not in (key.encryption_algorithms or []):
        raise invalid_key_usage(
            messages.ALGORITHM.format(algorithm=algorithm, key_spec=key.key_spec)
        )
    return algorithm


def require_signing_algorithm(key: Any, algorithm: str | None) -> str:
    if not algorithm:
        raise validation_error(
            "1 validation error detected: Value null at 'signingAlgorithm' failed to satisfy "
            "constraint: Member must not be null"
        )
    if algorithm not in (key.signing_algorithms or []):
        raise invalid_key_usage(
            messages.ALGORITHM.format(algorithm=algorithm, key_spec=key.key_spec)
        )
    return algorithm


def max_plaintext_bytes(key_spec: str, algorithm: str) -> int:
    """RSAES-OAEP capacity (RFC 8017 7.1.1): modulus bytes - 2 * hash bytes - 2."""
    modulus_bytes = int(key_spec.removeprefix("RSA_")) // 8
    return modulus_bytes - 2 * OAEP_HASHES[algorithm].digest_size - 2


# -- RSA encryption -----------------------------------------------------------------------------


def _oaep(algorithm: str) -> padding.OAEP:
    hash_type = OAEP_HASHES[algorithm]
    return padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)


def rsa_encrypt(key: Any, algorithm: str, plaintext: bytes) -> bytes:
    if not plaintext:
        raise validation_error(
            "1 validation error detected: Value at 'plaintext' failed to satisfy constraint: "
            "Member must have length greater than or equal to 1"
        )
    limit = max_plaintext_bytes(key.key_spec, algorithm)
    if len(plaintext) > limit:
        raise validation_error(
            f"Algorithm {algorithm} and key spec {key.key_spec} cannot encrypt data larger "
            f"than {limit} bytes."
        )
    return key.private_key.private_key.public_key().encrypt(plaintext, _oaep(algorithm))


def rsa_decrypt(key: Any, algorithm: str, ciphertext: bytes) -> bytes:
    try:
        return key.private_key.private_key.decrypt(ciphertext, _oaep(algorithm))
    except ValueError:
        raise invalid_ciphertext() from None


# -- signatures ---------------------------------------------------------------------------------


def _signed_data(algorithm: str, message: bytes, message_type: str | None) -> tuple[bytes, Any]:
    """The bytes to sign and the hash argument: RAW is hashed by us, DIGEST is used as is."""
    message_type = message_type or RAW
    if message_type not in MESSAGE_TYPES:
        raise validation_error(
            f"1 validation error detected: Value '{message_type}' at 'messageType' failed to "
            f"satisfy constraint: Member must satisfy enum value set: [{', '.join(MESSAGE_TYPES)}]"
        )
    hash_type = SIGNING_HASHES[algorithm]
    if message_type == RAW:
        # The 4096-byte limit is a parameter constraint, checked before authorization
        # (local_endpoint.validation).
        return message, hash_type()
    if len(message) != hash_type.digest_size:
        raise validation_error(messages.DIGEST_LENGTH.format(algorithm=algorithm))
    return message, utils.Prehashed(hash_type())


def _rsa_padding(algorithm: str) -> padding.AsymmetricPadding:
    if algorithm.startswith("RSASSA_PSS_"):
        hash_type = SIGNING_HASHES[algorithm]
        # KMS uses a salt as long as the digest (KMS developer guide, "RSASSA_PSS").
        return padding.PSS(mgf=padding.MGF1(hash_type()), salt_length=hash_type.digest_size)
    return padding.PKCS1v15()


def sign(key: Any, algorithm: str, message: bytes, message_type: str | None) -> bytes:
    data, hash_argument = _signed_data(algorithm, message, message_type)
    private_key = key.private_key.private_key
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        return private_key.sign(data, ec.ECDSA(hash_argument))
    return private_key.sign(data, _rsa_padding(algorithm), hash_argument)


def verify(
    key: Any, algorithm: str, message: bytes, signature: bytes, message_type: str | None
) -> None:
    """Return if the signature is valid; raise KMSInvalidSignatureException if not."""
    data, hash_argument = _signed_data(algorithm, message, message_type)
    public_key = key.private_key.private_key.public_key()
    try:
        if isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(hash_argument))
        else:
            public_key.verify(signature, data, _rsa_padding(algorithm), hash_argument)
    except (InvalidSignature, ValueError):
        raise invalid_signature() from None


# -- GetPublicKey -------------------------------------------------------------------------------


def public_key_response(key: Any, public_key_der: bytes) -> dict[str, Any]:
    """GetPublicKey's response: KeyId is the key ARN; only the applicable algorithm list."""
    import base64

    response: dict[str, Any] = {
        "KeyId": key.arn,
        "PublicKey": base64.b64encode(public_key_der).decode(),
        "CustomerMasterKeySpec": key.key_spec,
        "KeySpec": key.key_spec,
        "KeyUsage": key.key_usage,
    }
    if key.key_usage == ENCRYPT_DECRYPT:
        response["EncryptionAlgorithms"] = key.encryption_algorithms
    elif key.key_usage == SIGN_VERIFY:
        response["SigningAlgorithms"] = key.signing_algorithms
    return response
