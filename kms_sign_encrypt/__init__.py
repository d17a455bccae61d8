"""kms_sign_encrypt: sign and encrypt with AWS KMS asymmetric keys (docs/LIBRARY.md).

    from kms_sign_encrypt import Deployment, Sender, Receiver

The names in ``__all__`` are the public API, under the stability promise in docs/LIBRARY.md.
Every failure is a ``KmsSignEncryptError``; tampering is one opaque ``AuthenticationError``.
"""

from kms_sign_encrypt.api import Deployment, Receiver, ReceiveResult, Sender, SendResult
from kms_sign_encrypt.aws import ClientSettings
from kms_sign_encrypt.errors import (
    AccessDeniedError,
    AuthenticationError,
    AwsServiceError,
    CredentialsError,
    InputRefusedError,
    KmsSignEncryptError,
    NotDeployedError,
    OversizedError,
    RegionMismatchError,
    ThrottledError,
    UsageError,
    WrongFormatError,
)
from kms_sign_encrypt.generations import GenerationRefusedError
from kms_sign_encrypt.public_key_cache import PublicKeyCache

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "AwsServiceError",
    "ClientSettings",
    "CredentialsError",
    "Deployment",
    "GenerationRefusedError",
    "InputRefusedError",
    "KmsSignEncryptError",
    "NotDeployedError",
    "OversizedError",
    "PublicKeyCache",
    "ReceiveResult",
    "Receiver",
    "RegionMismatchError",
    "SendResult",
    "Sender",
    "ThrottledError",
    "UsageError",
    "WrongFormatError",
]
