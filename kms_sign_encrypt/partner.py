"""Partners without AWS: sign with your own key, receive with your own key (docs/LIBRARY.md).

    from kms_sign_encrypt import PartnerSender, PartnerReceiver, TrustedSenders

A partner holds a P-521 signing key and an RSA-4096 encryption key of its own (made with
``generate_partner_keys`` or plain openssl), and our two public keys as exported by
``public-keys``. ``PartnerSender`` signs locally and wraps to each recipient's public key;
``PartnerReceiver`` unwraps locally and verifies against the senders it trusts. Neither makes
an AWS call (a KMS ARN among the recipients is the one exception, and needs a session).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3

import envelope
from envelope import partner_keys
from envelope.key_ids import key_id_problem
from kms_sign_encrypt import envelope_transfer, kms
from kms_sign_encrypt.aws import AwsSession, ClientSettings
from kms_sign_encrypt.errors import CredentialsError, KeyFileError, UsageError
from kms_sign_encrypt.files import read_input
from kms_sign_encrypt.key_files import (
    MAX_KEY_FILE,
    TrustedSender,
    check_trusted,
    recipient_from_pem,
    signer_from_pem,
    trusted_sender_from_pem,
    trusted_senders_from_file,
    unwrapper_from_pem,
)

Recipient = str | bytes
"""A recipient: a KMS key ARN (``str``; KMS Encrypt) or a public-key PEM (``bytes``; named
by its ``key-id:`` line, else by its fingerprint)."""


class TrustedSenders:
    """The sender keys a receiver trusts, by key id (exactly; docs/SECURITY.md).

    Build from public-key PEMs (``from_pems``) and/or trust files of named keys
    (``from_trust_file``); combine with ``|``. One key id names one key, one name one key.
    """

    def __init__(self, senders: Iterable[TrustedSender]) -> None:
        self._senders = tuple(check_trusted(list(senders)))

    @classmethod
    def from_pems(cls, *pems: bytes) -> TrustedSenders:
        """Each PEM one sender, named by its ``name:`` line or ``sender-N``."""
        return cls(
            trusted_sender_from_pem(pem, f"sender public key {index}", f"sender-{index}")
            for index, pem in enumerate(pems, 1)
        )

    @classmethod
    def from_trust_file(cls, path: str | os.PathLike[str]) -> TrustedSenders:
        data = read_input(Path(path), limit=MAX_KEY_FILE)
        return cls(trusted_senders_from_file(data, f"trust file {Path(path)}"))

    @classmethod
    def from_trust_file_bytes(cls, data: bytes) -> TrustedSenders:
        return cls(trusted_senders_from_file(data))

    def __or__(self, other: TrustedSenders) -> TrustedSenders:
        return TrustedSenders((*self._senders, *other._senders))

    def __iter__(self) -> Iterator[TrustedSender]:
        return iter(self._senders)

    def __len__(self) -> int:
        return len(self._senders)

    @property
    def key_ids(self) -> tuple[str, ...]:
        return tuple(s.key_id for s in self._senders)

    def name_of(self, key_id: str) -> str | None:
        return next((s.name for s in self._senders if s.key_id == key_id), None)


def as_trusted(senders: TrustedSenders | Sequence[bytes]) -> TrustedSenders:
    if isinstance(senders, TrustedSenders):
        return senders
    if isinstance(senders, bytes | str):
        raise UsageError("trusted_senders must be a TrustedSenders or a sequence of PEMs")
    return TrustedSenders.from_pems(*senders)


@dataclass(frozen=True)
class PartnerSendResult:
    """What ``PartnerSender.send`` made; ``calls`` is empty unless a KMS key was a recipient."""

    output: Path
    bytes_in: int
    bytes_out: int
    sender_key_id: str
    recipients: tuple[str, ...]
    calls: Mapping[str, int] = field(default_factory=dict)

    # Same property as SendResult.kms_calls: two result types, one meaning (duplicates D3).
    @property
    def kms_calls(self) -> int:
        return sum(n for action, n in self.calls.items() if action.startswith("kms:"))


@dataclass(frozen=True)
class PartnerReceiveResult:
    """What ``PartnerReceiver.receive`` placed: only files whose signature verified."""

    files: tuple[Path, ...]
    bytes_in: int
    bytes_out: int
    sender_key_id: str
    sender_name: str
    recipient_key_id: str
    evidence: tuple[Path, ...]


@dataclass(frozen=True)
class _KmsRecipient:
    """A KMS recipient checked before there is a session to wrap with (``check_only``)."""

    key_id: str

    def wrap(self, data_key: bytes) -> bytes:
        raise UsageError("a KMS recipient checked without a session cannot wrap")


def recipient_wrappers(
    recipients: Sequence[Recipient],
    kms_session: AwsSession | None,
    *,
    check_only: bool = False,
) -> list[envelope.KeyWrapper]:
    """One wrapper per recipient; checked (none, too many, a key twice) before any call.
    ``check_only``: KMS ARNs need no session yet (the list is checked, not used)."""
    if isinstance(recipients, str | bytes):
        raise UsageError("recipients must be a sequence: [arn, pem, ...]", setting="recipients")
    wrappers: list[envelope.KeyWrapper] = []
    for index, recipient in enumerate(recipients, 1):
        if isinstance(recipient, str):
            problem = key_id_problem(recipient)
            if problem is not None or recipient.startswith("sha256:"):
                raise UsageError(
                    f"recipient {index} ({recipient[:80]!r}) must be a KMS key ARN "
                    "(arn:aws:kms:<region>:<account>:key/<key id>), or a public-key PEM as bytes",
                    setting="recipients",
                )
            if kms_session is None and check_only:
                wrappers.append(_KmsRecipient(recipient))
                continue
            if kms_session is None:
                raise CredentialsError(
                    f"recipient {recipient} is a KMS key: wrapping to it needs AWS (a session); "
                    "give its public-key PEM instead to wrap offline",
                    setting="recipients",
                )
            wrappers.append(kms.KmsKeyWrapper(kms_session, recipient, recipient))
        elif isinstance(recipient, bytes | bytearray | memoryview):
            wrappers.append(recipient_from_pem(bytes(recipient), f"recipient public key {index}"))
        else:
            raise UsageError(
                f"recipient {index} must be a KMS key ARN (str) or a public-key PEM (bytes), "
                f"got {type(recipient).__name__}",
                setting="recipients",
            )
    envelope_transfer.check_recipients(wrappers)
    return wrappers


class PartnerSender:
    """Signs with a local P-521 private key and wraps to each recipient: 0 AWS calls
    (1 KMS Encrypt per KMS ARN recipient, with ``session``'s own credentials)."""

    def __init__(
        self,
        signing_private_key: bytes,
        *,
        passphrase: bytes | None = None,
        session: boto3.Session | None = None,
        settings: ClientSettings | None = None,
    ) -> None:
        self._signer = signer_from_pem(signing_private_key, passphrase)
        self._session = session
        self._settings = settings or ClientSettings()

    @property
    def key_id(self) -> str:
        """This sender's key id (its fingerprint): what receivers must trust."""
        return self._signer.key_id

    def send(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        output: str | os.PathLike[str],
        *,
        recipients: Sequence[Recipient],
        overwrite: bool = False,
    ) -> PartnerSendResult:
        """Seal ``inputs`` into ``output`` for every one of ``recipients`` (1-16)."""
        kms_session = None
        if self._session is not None and any(isinstance(r, str) for r in recipients):
            from kms_sign_encrypt.api import _wrap

            kms_session = _wrap(self._session, "sender", self._settings)
        wrappers = recipient_wrappers(recipients, kms_session)
        before = dict(kms_session.metrics.calls) if kms_session else {}
        sent = envelope_transfer.seal_files(
            [Path(p) for p in inputs],
            Path(output),
            signer=self._signer,
            wrappers=wrappers,
            force=overwrite,
        )
        calls: dict[str, int] = {}
        if kms_session is not None:
            calls = {
                k: n - before.get(k, 0)
                for k, n in sorted(kms_session.metrics.calls.items())
                if n - before.get(k, 0)
            }
        return PartnerSendResult(
            output=Path(output),
            bytes_in=sent.bytes_in,
            bytes_out=sent.bytes_out,
            sender_key_id=self._signer.key_id,
            recipients=tuple(sorted(w.key_id for w in wrappers)),
            calls=calls,
        )


class PartnerReceiver:
    """Unwraps with a local RSA-4096 private key and verifies against ``trusted_senders``:
    0 AWS calls. An envelope not addressed to this key, or signed by any key not trusted,
    is refused and leaves nothing behind."""

    def __init__(
        self,
        encryption_private_key: bytes,
        *,
        trusted_senders: TrustedSenders | Sequence[bytes],
        passphrase: bytes | None = None,
    ) -> None:
        self._unwrapper = unwrapper_from_pem(encryption_private_key, passphrase)
        self.trusted_senders = as_trusted(trusted_senders)

    @property
    def key_id(self) -> str:
        """This recipient's key id (its fingerprint): what senders address."""
        return self._unwrapper.key_id

    def receive(
        self,
        source: str | os.PathLike[str],
        out_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        evidence_dir: str | os.PathLike[str] | None = None,
        limits: envelope.ReceiveLimits | None = None,
    ) -> PartnerReceiveResult:
        verifiers = [s.verifier for s in self.trusted_senders]

        def evidence_key(unsealed: envelope.Unsealed) -> bytes:
            return next(
                v for v in verifiers if v.key_id == unsealed.statement.sender
            ).public_key_pem()

        received = envelope_transfer.open_envelope(
            Path(source),
            Path(out_dir),
            unwrapper=self._unwrapper,
            verifiers=verifiers,
            evidence_dir=None if evidence_dir is None else Path(evidence_dir),
            force=overwrite,
            limits=limits,
            evidence_key=evidence_key,
        )
        return PartnerReceiveResult(
            files=received.outputs,
            bytes_in=received.bytes_in,
            bytes_out=received.bytes_out,
            sender_key_id=received.sender_key_id,
            sender_name=self.trusted_senders.name_of(received.sender_key_id) or "",
            recipient_key_id=self._unwrapper.key_id,
            evidence=received.evidence,
        )


@dataclass(frozen=True)
class PartnerKeys:
    """What ``generate_partner_keys`` wrote, and the key ids (fingerprints) to share."""

    signing_private: Path
    signing_public: Path
    encryption_private: Path
    encryption_public: Path
    signing_key_id: str
    encryption_key_id: str


def generate_partner_keys(directory: str | os.PathLike[str]) -> PartnerKeys:
    """A P-521 signing pair and an RSA-4096 encryption pair in ``directory``: private keys
    mode 0600, public PEMs beside them. Refuses if any file exists; leaves nothing on failure."""
    try:
        made = partner_keys.generate_partner_keys(Path(directory))
    except FileExistsError as exc:
        raise UsageError(f"{exc}: keygen never replaces a key; choose an empty directory") from None
    except partner_keys.PartnerKeyError as exc:
        raise KeyFileError(str(exc)) from None
    except OSError as exc:
        raise UsageError(f"cannot write the keys into {directory}: {exc.strerror or exc}") from None
    return PartnerKeys(
        made.signing_private,
        made.signing_public,
        made.encryption_private,
        made.encryption_public,
        made.signing_fingerprint,
        made.encryption_fingerprint,
    )
