"""Request validation, before authorization, as AWS KMS orders its checks.

AWS answers a request in this order (KMS API reference, "Common Errors" and each operation's
"Errors"; the order is the service's: the request must be well formed before anyone asks who
may make it):

1. authentication: an unknown access key or a bad session token (UnrecognizedClientException,
   ExpiredTokenException);
2. validation of the parameters against the API's constraints (ValidationException, "1
   validation error detected: ..."), whoever calls: an unauthorized 5,000-byte RAW Sign is a
   ValidationException, not an AccessDeniedException;
3. the key exists (NotFoundException);
4. authorization: key policy, then IAM (AccessDeniedException);
5. the key's state (DisabledException, KMSInvalidStateException);
6. the key suits the operation (InvalidKeyUsageException, algorithm compatibility, message
   length for a DIGEST, the RSA plaintext limit).

This module is step 2 for the operations this project uses. The constraints are the KMS API
reference's "Request Parameters" (Length Constraints and Valid Values); the wording is AWS's
standard validation message (recorded: "1 validation error detected: Value at 'message'
failed to satisfy constraint: Member must have length less than or equal to 4096").
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

ENCRYPTION_ALGORITHMS = ("SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE")
SIGNING_ALGORITHMS = (
    "RSASSA_PSS_SHA_256",
    "RSASSA_PSS_SHA_384",
    "RSASSA_PSS_SHA_512",
    "RSASSA_PKCS1_V1_5_SHA_256",
    "RSASSA_PKCS1_V1_5_SHA_384",
    "RSASSA_PKCS1_V1_5_SHA_512",
    "ECDSA_SHA_256",
    "ECDSA_SHA_384",
    "ECDSA_SHA_512",
    "SM2DSA",
    "ML_DSA_SHAKE_256",
)
MESSAGE_TYPES = ("RAW", "DIGEST", "EXTERNAL_MU")


@dataclass(frozen=True)
class Constraint:
    """One parameter's constraints (KMS API reference, Request Parameters)."""

    parameter: str
    required: bool = False
    blob: bool = False  # base64 in the JSON body; lengths count decoded bytes
    min_length: int | None = None
    max_length: int | None = None
    values: tuple[str, ...] | None = None


_KEY_ID = Constraint("KeyId", required=True, min_length=1, max_length=2048)

CONSTRAINTS: Mapping[str, tuple[Constraint, ...]] = {
    "Sign": (
        _KEY_ID,
        Constraint("Message", required=True, blob=True, min_length=1, max_length=4096),
        Constraint("MessageType", values=MESSAGE_TYPES),
        Constraint("SigningAlgorithm", required=True, values=SIGNING_ALGORITHMS),
    ),
    "Verify": (
        _KEY_ID,
        Constraint("Message", required=True, blob=True, min_length=1, max_length=4096),
        Constraint("MessageType", values=MESSAGE_TYPES),
        Constraint("Signature", required=True, blob=True, min_length=1, max_length=6144),
        Constraint("SigningAlgorithm", required=True, values=SIGNING_ALGORITHMS),
    ),
    "Encrypt": (
        _KEY_ID,
        Constraint("Plaintext", required=True, blob=True, min_length=1, max_length=4096),
        Constraint("EncryptionAlgorithm", values=ENCRYPTION_ALGORITHMS),
    ),
    "Decrypt": (
        Constraint("KeyId", min_length=1, max_length=2048),
        Constraint("CiphertextBlob", required=True, blob=True, min_length=1, max_length=6144),
        Constraint("EncryptionAlgorithm", values=ENCRYPTION_ALGORITHMS),
    ),
    "GetPublicKey": (_KEY_ID,),
    "DescribeKey": (_KEY_ID,),
}


def _member(parameter: str) -> str:
    """AWS names members in camelCase in these messages (``KeyId`` is ``keyId``)."""
    return parameter[0].lower() + parameter[1:]


def _problems(constraint: Constraint, value: Any) -> list[str]:
    name = _member(constraint.parameter)
    if value is None:
        if constraint.required:
            return [f"Value null at '{name}' failed to satisfy constraint: Member must not be null"]
        return []
    if constraint.values is not None:
        if value not in constraint.values:
            allowed = ", ".join(constraint.values)
            return [
                f"Value '{value}' at '{name}' failed to satisfy constraint: Member must "
                f"satisfy enum value set: [{allowed}]"
            ]
        return []
    length = _length(value, constraint.blob)
    if length is None:
        return []  # not decodable: moto's own handler answers it
    if constraint.min_length is not None and length < constraint.min_length:
        return [
            f"Value at '{name}' failed to satisfy constraint: Member must have length "
            f"greater than or equal to {constraint.min_length}"
        ]
    if constraint.max_length is not None and length > constraint.max_length:
        return [
            f"Value at '{name}' failed to satisfy constraint: Member must have length "
            f"less than or equal to {constraint.max_length}"
        ]
    return []


def _length(value: Any, blob: bool) -> int | None:
    if not isinstance(value, str):
        return None
    if not blob:
        return len(value)
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError):
        return None


def validation_problem(operation: str, params: Mapping[str, Any]) -> str | None:
    """AWS's ValidationException message for the request, or None if it is well formed."""
    problems = [
        problem
        for constraint in CONSTRAINTS.get(operation, ())
        for problem in _problems(constraint, params.get(constraint.parameter))
    ]
    if not problems:
        return None
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    return f"{count} validation {noun} detected: " + "; ".join(problems)
