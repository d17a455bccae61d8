"""kms_sign_encrypt: sign and encrypt with AWS KMS asymmetric keys (docs/LIBRARY.md).

    from kms_sign_encrypt import Deployment, Sender, Receiver

The names in ``__all__`` are the public API, under the stability promise in docs/LIBRARY.md.
Every failure is a ``KmsSignEncryptError``; tampering is one opaque ``AuthenticationError``.

Two layers: ``Deployment``, ``Sender`` and ``Receiver`` for services; under them, the step by
step layer (sessions, one KMS call per key object, the envelope and seed steps with a session
you hold, the access report and the audit) that the demo's walkthrough and checks are built on.
"""

from kms_sign_encrypt import seed, seed_transfer
from kms_sign_encrypt.access import (
    AccessReport,
    access_report_from_live_policies,
    access_report_from_template,
)
from kms_sign_encrypt.access_rows import reach_rows
from kms_sign_encrypt.api import Deployment, Receiver, ReceiveResult, Sender, SendResult
from kms_sign_encrypt.audit import AuditEntry, session_audit
from kms_sign_encrypt.audit import table as audit_table
from kms_sign_encrypt.aws import (
    AwsSession,
    CallMetrics,
    ClientSettings,
    assume_role,
    open_caller_session,
)
from kms_sign_encrypt.envelope_transfer import receive_envelope, send_envelope
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
from kms_sign_encrypt.exchange import Received, Sent
from kms_sign_encrypt.files import staged_outputs
from kms_sign_encrypt.generations import GenerationRefusedError
from kms_sign_encrypt.key_files import TrustedSender
from kms_sign_encrypt.kms import (
    KmsKeyUnwrapper,
    KmsKeyWrapper,
    KmsSigner,
    KmsVerifier,
)
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
from kms_sign_encrypt.stack import ResourceOptions, Resources, discover

__all__ = [
    "AccessDeniedError",
    "AccessReport",
    "AuditEntry",
    "AuthenticationError",
    "AwsServiceError",
    "AwsSession",
    "CallMetrics",
    "ClientSettings",
    "CredentialsError",
    "Deployment",
    "GenerationRefusedError",
    "InputRefusedError",
    "KmsKeyUnwrapper",
    "KmsKeyWrapper",
    "KmsSignEncryptError",
    "KmsSigner",
    "KmsVerifier",
    "NotDeployedError",
    "OversizedError",
    "PublicKeyCache",
    "ReceiveResult",
    "Received",
    "Receiver",
    "RegionMismatchError",
    "ResourceOptions",
    "Resources",
    "SendResult",
    "Sender",
    "Sent",
    "ThrottledError",
    "UsageError",
    "WrongFormatError",
    "access_report_from_live_policies",
    "access_report_from_template",
    "assume_role",
    "audit_table",
    "discover",
    "open_caller_session",
    "reach_rows",
    "receive_envelope",
    "seed",
    "seed_transfer",
    "send_envelope",
    "session_audit",
    "staged_outputs",
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
