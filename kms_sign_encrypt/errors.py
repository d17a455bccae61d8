"""The library's errors: every failure is a ``KmsSignEncryptError``. The CLI turns each into
one line and an exit code.

Messages name no command-line flags. An error about a caller's choice names it in
``setting`` (a parameter-neutral word such as ``"overwrite"``, ``"region"``, ``"format"``); the
CLI maps that to its own option.

Two tiers, as in pyca/cryptography: misuse and environment problems get a precise message
(what is wrong, the setting, the allowed range, the value received); anything that fails to
authenticate gets one opaque message that does not say which check failed.
"""

from __future__ import annotations

# Exit codes, documented in docs/DEMO.md.
EXIT_OK = 0
EXIT_ERROR = 1  # environment, AWS or usage problem that is not bad input
EXIT_USAGE = 2  # argparse's own code for a bad command line
EXIT_REFUSED = 3  # the input was refused: tampered, truncated, oversized or wrong format
EXIT_EXPECTATION = 4  # `run` finished, but a least-privilege expectation failed


class KmsSignEncryptError(Exception):
    """Base of every error the library raises."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, setting: str | None = None) -> None:
        super().__init__(message)
        self.setting = setting


class NotDeployedError(KmsSignEncryptError):
    """The stack or its outputs cannot be found."""


class CredentialsError(KmsSignEncryptError):
    """No usable AWS credentials, profile or region."""


class RegionMismatchError(KmsSignEncryptError):
    """The session's region is not the region the keys live in."""


class AccessDeniedError(KmsSignEncryptError):
    """KMS or STS refused a call. Names the principal, the action and what would allow it."""

    def __init__(self, message: str, *, principal: str, action: str, resource: str) -> None:
        super().__init__(message)
        self.principal = principal
        self.action = action
        self.resource = resource


class ThrottledError(KmsSignEncryptError):
    """The request was still throttled after the bounded retries."""


class AwsServiceError(KmsSignEncryptError):
    """Any other AWS error, reported with its code and message."""


class InputRefusedError(KmsSignEncryptError):
    """The input is not acceptable: wrong format, oversized, truncated or tampered."""

    exit_code = EXIT_REFUSED


class WrongFormatError(InputRefusedError):
    """The file is neither an envelope nor a seed-format message."""


class SeedNotAcceptedError(WrongFormatError):
    """A seed-format message, which binds no recipient, given without the explicit opt-in."""


class OversizedError(InputRefusedError):
    """The input exceeds a documented limit."""


class AuthenticationError(InputRefusedError):
    """Decryption or signature verification failed. Deliberately opaque."""

    def __init__(
        self,
        message: str = "the message cannot be authenticated: it may be corrupted "
        "or tampered with, or it was not made for this key",
    ) -> None:
        super().__init__(message)


class UsageError(KmsSignEncryptError):
    """A command-line value that argparse cannot check by itself."""

    exit_code = EXIT_USAGE


class KeyFileError(UsageError):
    """A key file cannot be used for the job asked: not a key, the wrong kind, curve or size,
    a public key where a private key is needed (or the reverse), encrypted with no passphrase
    or the wrong one, a ``key-id`` that does not match, or a trust file that does not parse."""


class RecipientListError(UsageError):
    """The recipients cannot be sealed to: none, more than the format's maximum, or one key
    twice."""
