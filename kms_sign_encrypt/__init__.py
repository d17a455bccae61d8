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
    KeyFileError,
    KmsSignEncryptError,
    NotDeployedError,
    OversizedError,
    RecipientListError,
    RegionMismatchError,
    ThrottledError,
    UsageError,
    WrongFormatError,
)
from kms_sign_encrypt.key_files import TrustedSender
from kms_sign_encrypt.partner import (
    PartnerKeys,
    PartnerReceiver,
    PartnerReceiveResult,
    PartnerSender,
    PartnerSendResult,
    Recipient,
    TrustedSenders,
    generate_partner_keys,
)
from kms_sign_encrypt.public_key_cache import PublicKeyCache

__all__ = [
    "AccessDeniedError",
    "AuthenticationError",
    "AwsServiceError",
    "ClientSettings",
    "CredentialsError",
    "Deployment",
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

__all__ += [  # issue 14: partners without AWS, several recipients
    "KeyFileError",
    "PartnerKeys",
    "PartnerReceiveResult",
    "PartnerReceiver",
    "PartnerSendResult",
    "PartnerSender",
    "Recipient",
    "RecipientListError",
    "TrustedSender",
    "TrustedSenders",
    "generate_partner_keys",
]
