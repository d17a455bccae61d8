"""The envelope format: sign-then-encrypt for any size, pure bytes and crypto, no AWS.

Public API::

    seal(files, destination, signer=..., wrapper=... | wrappers=[...]) -> SealResult
        # 1 sign + 1 wrap per recipient (1-16 recipients, KMS ARNs or sha256: fingerprints)
    unseal(source, out_dir, unwrapper=..., verifier=... | verifiers=[...],
           limits=ReceiveLimits(...)) -> Unsealed                  # 1 unwrap + 1 verify
    partner_keys.load_*_key(pem, passphrase=...), partner_keys.generate_partner_keys(dir)
    export_evidence(unsealed, evidence_dir, sender_public_key=...)
    sniff(first_bytes, total_size=None) -> "envelope" | "seed" | "unknown"

See docs/FORMAT.md for the bytes and docs/SECURITY.md for the reasoning.
"""

from envelope.errors import (
    AUTHENTICATION_FAILED,
    DuplicateRecipientError,
    EnvelopeAuthenticationError,
    EnvelopeError,
    EnvelopeTooLargeError,
    EnvelopeUsageError,
    MalformedHeaderError,
    NoRecipientsError,
    NotAnEnvelopeError,
    OutputExistsError,
    RecipientListError,
    TooManyRecipientsError,
    UnsupportedVersionError,
    WrongRecipientError,
)
from envelope.evidence import export_evidence
from envelope.format import FORMAT_ID, MAGIC, MAX_RECIPIENTS, sniff
from envelope.inputs import InputTypeError
from envelope.key_ids import fingerprint
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
    "MAX_RECIPIENTS",
    "SIGNING_ALGORITHM",
    "DuplicateRecipientError",
    "EnvelopeAuthenticationError",
    "EnvelopeError",
    "EnvelopeTooLargeError",
    "EnvelopeUsageError",
    "InputTypeError",
    "KeyMaterialError",
    "KeyUnwrapper",
    "KeyWrapper",
    "MalformedHeaderError",
    "NoRecipientsError",
    "NotAnEnvelopeError",
    "OutputExistsError",
    "PlainFile",
    "PrivateKeySigner",
    "PrivateKeyUnwrapper",
    "PublicKeyVerifier",
    "PublicKeyWrapper",
    "ReceiveLimits",
    "ReceivedFile",
    "RecipientListError",
    "SealResult",
    "SignatureVerifier",
    "Signer",
    "Statement",
    "TooManyRecipientsError",
    "Unsealed",
    "UnsupportedVersionError",
    "WrongRecipientError",
    "export_evidence",
    "fingerprint",
    "seal",
    "sniff",
    "unseal",
]
