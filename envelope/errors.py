"""The two tiers of envelope errors.

Misuse (a wrong argument, a file that is not an envelope, an envelope addressed to another
key, an output that already exists) raises a precise ``ValueError``/``TypeError`` subclass that
says what was wrong. Anything that could be tampering raises ``EnvelopeAuthenticationError``
with one fixed message that never says which check failed, so a reader is no oracle.
"""

from __future__ import annotations


class EnvelopeError(Exception):
    """Base class of every error the envelope package raises on purpose."""


class EnvelopeUsageError(EnvelopeError, ValueError):
    """A caller passed something that cannot work (misuse, not tampering)."""


class NotAnEnvelopeError(EnvelopeUsageError):
    """The input does not start with the envelope magic (e.g. a seed-format file)."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        if kind == "seed":
            message = (
                "not an envelope: this is a seed-format message "
                "(a bare 512-byte RSA-OAEP ciphertext)"
            )
        elif kind == "empty":
            message = "not an envelope: the input is empty"
        else:
            message = "not an envelope: the input does not start with the envelope magic"
        super().__init__(message)


class UnsupportedVersionError(EnvelopeUsageError):
    """The magic names an envelope version this reader does not implement."""


class WrongRecipientError(EnvelopeUsageError):
    """The header names a recipient key other than the reader's key (checked before KMS)."""

    def __init__(self, addressed_to: str, reader_key: str) -> None:
        self.addressed_to = addressed_to
        self.reader_key = reader_key
        super().__init__(
            f"this envelope is addressed to key {addressed_to!r}, not to {reader_key!r}"
        )


class RecipientListError(EnvelopeUsageError):
    """The sender's recipient list cannot be sealed to (empty, too long, a key twice)."""


class NoRecipientsError(RecipientListError):
    """No recipient key was given."""


class TooManyRecipientsError(RecipientListError):
    """More recipient keys than the format's maximum (envelope.format.MAX_RECIPIENTS)."""


class DuplicateRecipientError(RecipientListError):
    """The same recipient key id was given twice."""


class MalformedHeaderError(EnvelopeUsageError):
    """The header violates the format (a length out of range, truncation): rejected before
    any KMS call. The message names the field and its allowed range."""


class OutputExistsError(EnvelopeUsageError, FileExistsError):
    """An output file would be overwritten."""


class EnvelopeTooLargeError(EnvelopeUsageError):
    """The envelope exceeds a receive limit (total bytes, file count) or the format's chunk
    limit. Decided from the input's size before the unwrap, or from authenticated records."""


AUTHENTICATION_FAILED = "cannot be authenticated: file may be corrupted or tampered with"


class EnvelopeAuthenticationError(EnvelopeError):
    """The one opaque error for anything that could be tampering."""

    def __init__(self) -> None:
        super().__init__(AUTHENTICATION_FAILED)


__all__ = [
    "AUTHENTICATION_FAILED",
    "DuplicateRecipientError",
    "EnvelopeAuthenticationError",
    "EnvelopeError",
    "EnvelopeTooLargeError",
    "EnvelopeUsageError",
    "MalformedHeaderError",
    "NoRecipientsError",
    "NotAnEnvelopeError",
    "OutputExistsError",
    "RecipientListError",
    "TooManyRecipientsError",
    "UnsupportedVersionError",
    "WrongRecipientError",
]
