"""The envelope format: sign-then-encrypt for any size, pure bytes and crypto, no AWS.

Public API::

    seal(files, destination, signer=..., wrapper=...) -> SealResult      # 1 sign + 1 wrap
    unseal(source, out_dir, unwrapper=..., verifier=..., limits=ReceiveLimits(...))
        -> Unsealed                                                          # 1 unwrap + 1 verify
    export_evidence(unsealed, evidence_dir, sender_public_key=...)
    sniff(first_bytes, total_size=None) -> "envelope" | "seed" | "unknown"

See docs/FORMAT.md for the bytes and docs/SECURITY.md for the reasoning.
"""

from envelope.errors import (
    AUTHENTICATION_FAILED,
    EnvelopeAuthenticationError,
    EnvelopeError,
    EnvelopeTooLargeError,
    EnvelopeUsageError,
    MalformedHeaderError,
    NotAnEnvelopeError,
    OutputExistsError,
    UnsupportedVersionError,
    WrongRecipientError,
)
from envelope.evidence import export_evidence
from envelope.format import FORMAT_ID, MAGIC, sniff
from envelope.inputs import InputTypeError
from envelope.keys import (
    ENCRYPTION_ALGORITHM,
    SIGNING_ALGORITHM,
    KeyMaterialError,
    KeyUnwrapper,
    KeyWrapper,
    PrivateKeySigner,
    PrivateKeyUnwrapper,
    PublicKeyVerifier,
    PublicKeyWrapper,
    SignatureVerifier,
    Signer,
)
from envelope.sealing import PlainFile, SealResult, seal
from envelope.statement import Statement
from envelope.unsealing import (
    DEFAULT_MAX_BYTES,
    DEFAULT_MAX_FILES,
    ReceivedFile,
    ReceiveLimits,
    Unsealed,
    unseal,
)

__all__ = [
    "AUTHENTICATION_FAILED",
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_FILES",
    "ENCRYPTION_ALGORITHM",
    "FORMAT_ID",
    "MAGIC",
    "SIGNING_ALGORITHM",
    "EnvelopeAuthenticationError",
    "EnvelopeError",
    "EnvelopeTooLargeError",
    "EnvelopeUsageError",
    "InputTypeError",
    "KeyMaterialError",
    "KeyUnwrapper",
    "KeyWrapper",
    "MalformedHeaderError",
    "NotAnEnvelopeError",
    "OutputExistsError",
    "PlainFile",
    "PrivateKeySigner",
    "PrivateKeyUnwrapper",
    "PublicKeyVerifier",
    "PublicKeyWrapper",
    "ReceiveLimits",
    "ReceivedFile",
    "SealResult",
    "SignatureVerifier",
    "Signer",
    "Statement",
    "Unsealed",
    "UnsupportedVersionError",
    "WrongRecipientError",
    "export_evidence",
    "seal",
    "sniff",
    "unseal",
]
