"""The public API: ``Deployment``, ``Sender`` and ``Receiver`` (docs/LIBRARY.md).

Each party takes a ``boto3.Session`` of its own workload and, unless ``assume_role=False``,
assumes its role (SenderRole or ReceiverRole) for each operation, so long-running services
never hold expired credentials. Everything goes through the envelope format; the seed format
stays a demo of the blog post.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import boto3

import envelope
from envelope.format import Header, read_header
from envelope.statement import name_problem
from kms_sign_encrypt import envelope_transfer, key_files, kms, stack
from kms_sign_encrypt.aws import AwsSession, CallMetrics, ClientSettings, assume_role
from kms_sign_encrypt.errors import CredentialsError, UsageError
from kms_sign_encrypt.partner import Recipient, TrustedSenders, as_trusted, recipient_wrappers
from kms_sign_encrypt.public_key_cache import PublicKeyCache

STREAM_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Deployment:
    """The deployed keys and roles: the stack's outputs."""

    encryption_key_arn: str
    signing_key_arn: str
    sender_role_arn: str
    receiver_role_arn: str
    encryption_key_alias: str
    signing_key_alias: str
    stack_name: str

    @classmethod
    def from_outputs(cls, outputs: Mapping[str, str], stack_name: str) -> Deployment:
        """From the stack's outputs as a mapping (OutputKey to OutputValue)."""
        stack.check_outputs(outputs, f"stack {stack_name!r}")
        return cls(
            encryption_key_arn=outputs["EncryptionKeyArn"],
            signing_key_arn=outputs["SigningKeyArn"],
            sender_role_arn=outputs["SenderRoleArn"],
            receiver_role_arn=outputs["ReceiverRoleArn"],
            encryption_key_alias=stack.as_alias(outputs["EncryptionKeyAlias"]),
            signing_key_alias=stack.as_alias(outputs["SigningKeyAlias"]),
            stack_name=stack_name,
        )

    @classmethod
    def from_outputs_file(
        cls, path: str | os.PathLike[str], stack_name: str | None = None
    ) -> Deployment:
        """From the JSON that ``cdk deploy`` writes as its outputs file (``stack_name`` if it
        holds several stacks)."""
        outputs = stack.outputs_from_file(Path(path), stack_name)
        if stack_name is None:  # the file's only stack (outputs_from_file checked that)
            stack_name = next(iter(json.loads(Path(path).read_bytes())))
        return cls.from_outputs(outputs, stack_name)

    @classmethod
    def from_stack(
        cls, session: boto3.Session, stack_name: str = stack.DEFAULT_STACK_NAME
    ) -> Deployment:
        """From the deployed stack (CloudFormation DescribeStacks with ``session``)."""
        caller = _wrap(session, "administrator", ClientSettings())
        return cls.from_outputs(stack.outputs_from_stack(caller, stack_name), stack_name)

    @property
    def region(self) -> str:
        return self.encryption_key_arn.split(":")[3]

    def resources(self) -> stack.Resources:
        # The outputs as the internal Resources (same field names by design; duplicates D10).
        return stack.Resources(
            encryption_key=self.encryption_key_arn,
            signing_key=self.signing_key_arn,
            sender_role_arn=self.sender_role_arn,
            receiver_role_arn=self.receiver_role_arn,
            encryption_key_arn=self.encryption_key_arn,
            signing_key_arn=self.signing_key_arn,
            source=f"stack {self.stack_name!r}",
        )


@dataclass(frozen=True)
class SendResult:
    """What ``send`` made: sizes, the keys used, and the KMS and STS calls it took."""

    output: Path | None  # None for send_stream
    bytes_in: int
    bytes_out: int
    encryption_key_arn: str
    signing_key_arn: str
    principal: str | None
    calls: Mapping[str, int]  # like {"kms:Sign": 1, "kms:Encrypt": 1, "sts:AssumeRole": 1}
    recipients: tuple[str, ...] = ()  # every recipient's key id (ARN or sha256: fingerprint)

    @property
    def kms_calls(self) -> int:
        return sum(n for action, n in self.calls.items() if action.startswith("kms:"))


@dataclass(frozen=True)
class ReceiveResult:
    """What ``receive`` placed: only files whose signature verified."""

    files: tuple[Path, ...]
    bytes_in: int
    bytes_out: int
    sender_key_arn: str
    evidence: tuple[Path, ...]
    principal: str | None
    calls: Mapping[str, int]
    sender_name: str | None = None  # with trusted_senders: the trusted key's name

    @property
    def kms_calls(self) -> int:
        return sum(n for action, n in self.calls.items() if action.startswith("kms:"))


def _wrap(session: boto3.Session, party: str, settings: ClientSettings) -> AwsSession:
    if not session.region_name:
        raise CredentialsError(
            "the boto3 session has no region: create it with region_name, or set "
            "AWS_DEFAULT_REGION (boto3 does not read AWS_REGION)",
            setting="region",
        )
    metrics = CallMetrics()
    metrics.attach(session)
    return AwsSession(session=session, party=party, settings=settings, metrics=metrics)


class _Party:
    _party = "party"

    def __init__(
        self,
        session: boto3.Session,
        deployment: Deployment,
        *,
        assume_role: bool = True,
        external_id: str | None = None,
        settings: ClientSettings | None = None,
    ) -> None:
        self.deployment = deployment
        self._assume_role = assume_role
        self._external_id = external_id
        # The call counters are attached to the session once, here; each operation reports
        # the calls it added. One party object serves one thread at a time.
        self._caller = _wrap(session, self._party, settings or ClientSettings())

    def _role_arn(self) -> str:
        raise NotImplementedError

    def _open(self) -> tuple[AwsSession, Counter[str]]:
        """The session for one operation (its role just assumed, so a long-running service
        never holds expired credentials), and the call counts before it."""
        before = Counter(self._caller.metrics.calls)
        if not self._assume_role:
            return self._caller, before
        session = assume_role(
            self._caller, self._role_arn(), party=self._party, external_id=self._external_id
        )
        return session, before


def _calls(session: AwsSession, before: Counter[str]) -> dict[str, int]:
    return dict(sorted((session.metrics.calls - before).items()))


@contextmanager
def _private_directory() -> Iterator[Path]:
    directory = Path(tempfile.mkdtemp(prefix="kms-sign-encrypt-"))  # mode 0700
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _copy(source: BinaryIO, target: BinaryIO) -> int:
    total = 0
    while chunk := source.read(STREAM_CHUNK):
        target.write(chunk)
        total += len(chunk)
    return total


class Sender(_Party):
    """Signs (ECDSA_SHA_512) and encrypts (RSAES_OAEP_SHA_256) as SenderRole."""

    _party = "sender"

    def _role_arn(self) -> str:
        return self.deployment.sender_role_arn

    def send(
        self,
        inputs: Sequence[str | os.PathLike[str]],
        output: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        recipient_public_key: bytes | None = None,
        recipients: Sequence[Recipient] | None = None,
    ) -> SendResult:
        """Seal ``inputs`` into the envelope ``output``: 1 KMS Sign and 1 KMS Encrypt (0
        Encrypt with ``recipient_public_key``, the encryption key's PEM: offline wrap).

        ``recipients`` (1-16) replaces the deployment's encryption key: KMS key ARNs (``str``,
        1 Encrypt each as SenderRole) and public-key PEMs (``bytes``: a partner's, named by
        fingerprint, or one that ``public-keys`` exported, named by its ``key-id:`` ARN)."""
        if recipients is not None and recipient_public_key is not None:
            raise UsageError("give recipients or recipient_public_key, not both")
        if recipients is not None:  # checked before the role is assumed
            recipient_wrappers(recipients, None, check_only=True)
        session, before = self._open()
        wrappers = None if recipients is None else recipient_wrappers(recipients, session)
        sent = envelope_transfer.send_envelope(
            session,
            self.deployment.resources(),
            [Path(p) for p in inputs],
            Path(output),
            force=overwrite,
            recipient_public_key=recipient_public_key,
            recipients=wrappers,
        )
        return SendResult(
            output=sent.output,
            bytes_in=sent.bytes_in,
            bytes_out=sent.bytes_out,
            encryption_key_arn=self.deployment.encryption_key_arn,
            signing_key_arn=self.deployment.signing_key_arn,
            principal=session.principal,
            calls=_calls(session, before),
            recipients=_recipient_ids(staged_header(sent.output)),
        )

    def encryption_public_key_pem(self) -> bytes:
        """The encryption key's public key (1 GetPublicKey as SenderRole), as PEM with a
        ``key-id:`` line naming it by its ARN: what a partner sends to (docs/FORMAT.md)."""
        session, _ = self._open()
        arn = self.deployment.encryption_key_arn
        return key_files.labelled_pem(kms.get_public_key(session, arn).pem(), arn)

    def send_stream(
        self,
        source: BinaryIO,
        name: str,
        destination: BinaryIO,
        *,
        recipient_public_key: bytes | None = None,
        recipients: Sequence[Recipient] | None = None,
    ) -> SendResult:
        """Seal what ``source`` holds as one file called ``name``, writing the envelope to
        ``destination``. Both are staged in a private temporary directory."""
        problem = name_problem(name)  # the envelope's own rule for a file name
        if problem is not None:
            raise UsageError(f"the file name {name!r:.80} {problem}")
        with _private_directory() as staging:
            (staging / "in").mkdir()
            staged = staging / "in" / name
            with staged.open("xb") as out:
                _copy(source, out)
            result = self.send(
                [staged],
                staging / "out.enc",
                recipient_public_key=recipient_public_key,
                recipients=recipients,
            )
            with (staging / "out.enc").open("rb") as sealed:
                _copy(sealed, destination)
        return SendResult(**{**result.__dict__, "output": None})


class Receiver(_Party):
    """Decrypts and verifies as ReceiverRole; places files only once everything verified."""

    _party = "receiver"

    def _role_arn(self) -> str:
        return self.deployment.receiver_role_arn

    def receive(
        self,
        source: str | os.PathLike[str],
        out_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        evidence_dir: str | os.PathLike[str] | None = None,
        sender_public_key: bytes | None = None,
        public_key_cache: PublicKeyCache | None = None,
        limits: envelope.ReceiveLimits | None = None,
        trusted_senders: TrustedSenders | Sequence[bytes] | None = None,
    ) -> ReceiveResult:
        """Open the envelope ``source`` into ``out_dir``: 1 KMS Decrypt and 1 KMS Verify (0
        Verify with ``sender_public_key``, the signing key's PEM, or a ``public_key_cache``).

        ``trusted_senders`` (partners' public keys, or a ``TrustedSenders``) replaces the
        deployment's signing key: the statement's sender must be exactly one of them, verified
        locally (0 Verify). Our own signing key is trusted then only if it is among them.

        Tampering of any kind raises one ``AuthenticationError`` and leaves nothing behind.
        """
        trusted = None if trusted_senders is None else as_trusted(trusted_senders)
        if trusted is not None and (sender_public_key is not None or public_key_cache):
            raise UsageError("trusted_senders replaces sender_public_key and public_key_cache")
        session, before = self._open()
        received = envelope_transfer.receive_envelope(
            session,
            self.deployment.resources(),
            Path(source),
            Path(out_dir),
            evidence_dir=None if evidence_dir is None else Path(evidence_dir),
            sender_public_key=sender_public_key,
            verify_offline=sender_public_key is not None,
            force=overwrite,
            limits=limits,
            public_key_cache=public_key_cache,
            trusted_senders=None if trusted is None else list(trusted),
        )
        return ReceiveResult(
            files=received.outputs,
            bytes_in=received.bytes_in,
            bytes_out=received.bytes_out,
            sender_key_arn=received.sender_key_id,
            evidence=received.evidence,
            principal=session.principal,
            calls=_calls(session, before),
            sender_name=None if trusted is None else trusted.name_of(received.sender_key_id),
        )

    def signing_public_key_pem(self) -> bytes:
        """The signing key's public key (1 GetPublicKey as ReceiverRole), as PEM with a
        ``key-id:`` line naming it by its ARN: what a partner trusts (docs/FORMAT.md)."""
        session, _ = self._open()
        arn = self.deployment.signing_key_arn
        return key_files.labelled_pem(kms.get_public_key(session, arn).pem(), arn)

    def receive_stream(
        self,
        source: BinaryIO,
        out_dir: str | os.PathLike[str],
        *,
        overwrite: bool = False,
        sender_public_key: bytes | None = None,
        public_key_cache: PublicKeyCache | None = None,
        limits: envelope.ReceiveLimits | None = None,
    ) -> ReceiveResult:
        """``receive`` of an envelope read from ``source`` (staged in a private temporary
        file first): nothing reaches ``out_dir`` before it verified."""
        with _private_directory() as staging:
            staged = staging / "in.enc"
            with staged.open("xb") as out:
                _copy(source, out)
            return self.receive(
                staged,
                out_dir,
                overwrite=overwrite,
                sender_public_key=sender_public_key,
                public_key_cache=public_key_cache,
                limits=limits,
            )


def staged_header(path: Path | None) -> Header | None:
    if path is None:
        return None
    with path.open("rb") as handle:
        return read_header(handle)


def _recipient_ids(header: Header | None) -> tuple[str, ...]:
    return () if header is None else header.recipient_key_ids
