"""Send and receive: the library behind `send`, `receive` and the middle of `run`.

Sending signs as SenderRole and encrypts to the receiver's key; receiving decrypts as
ReceiverRole, verifies, and only then writes anything. Two formats:

* ``envelope`` (docs/FORMAT.md): any size, recipient-bound, streamed; the default.
* ``seed``: the blog post's tar.gz + one RSA-OAEP Encrypt, at most 446 bytes.

``receive`` tells them apart by the first bytes (``envelope.sniff``).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import envelope
from demo import kms, seed
from demo.aws import AwsSession
from demo.errors import (
    AccessDeniedError,
    AuthenticationError,
    InputRefusedError,
    OversizedError,
    UsageError,
    WrongFormatError,
)
from demo.files import read_input, staged_outputs
from demo.progress import DirectoryWatcher, Progress
from demo.stack import Resources
from envelope.format import read_header

Format = Literal["envelope", "seed"]
FORMATS: tuple[Format, ...] = ("envelope", "seed")
SNIFF_BYTES = 512 + 1


@dataclass(frozen=True)
class Sent:
    format: Format
    inputs: tuple[Path, ...]
    output: Path
    bytes_in: int
    bytes_out: int
    signed: bytes  # what was signed: message.json (seed) or the statement (envelope)
    signature: bytes
    ciphertext_for_checks: bytes  # a real KMS ciphertext: message.enc or the wrapped data key

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "inputs": [str(p) for p in self.inputs],
            "output": str(self.output),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "signature_bytes": len(self.signature),
        }


@dataclass(frozen=True)
class Received:
    format: Format
    source: Path
    outputs: tuple[Path, ...]
    bytes_in: int
    bytes_out: int
    signed: bytes
    signature: bytes
    files: tuple[tuple[str, Path, int], ...] = field(default=())
    evidence: tuple[Path, ...] = field(default=())
    sender_key_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": str(self.source),
            "outputs": [str(p) for p in self.outputs],
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "signature_bytes": len(self.signature),
            "evidence": [str(p) for p in self.evidence],
            "verified_with": self.sender_key_id,
            "valid": True,
        }


def key_arn(arn: str | None, option: str, alias: str) -> str:
    """The envelope names keys by ARN (it signs them); an alias alone is not enough."""
    if not arn:
        raise UsageError(
            f"the envelope format names keys by ARN, but only {alias!r} is known: pass "
            f"{option} with the key ARN, or --stack-name/--outputs-file"
        )
    return arn


def detect(source: Path) -> Format:
    """Which format ``source`` is in, from its size and first bytes; refuses anything else."""
    try:
        size = source.stat().st_size
        with source.open("rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except FileNotFoundError:
        raise UsageError(f"input {source} not found") from None
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    if size == 0:
        raise WrongFormatError(f"{source} is empty: not an encrypted message")
    kind = envelope.sniff(head, size)
    if kind == "unknown":
        raise WrongFormatError(
            f"{source} is neither an envelope (starts with {envelope.MAGIC!r}) nor a "
            f"seed-format message (exactly {seed.SEED_CIPHERTEXT_SIZE} bytes); it has "
            f"{size} bytes"
        )
    return kind


# ---------------------------------------------------------------------------------- seed


def send_seed(
    sender: AwsSession, resources: Resources, message_path: Path, output: Path, *, force: bool
) -> Sent:
    """Sign message.json, tar.gz it with message.sig, one KMS Encrypt: the seed's steps."""
    if message_path.is_file() and message_path.stat().st_size > seed.MAX_MESSAGE_BYTES:
        too_large = seed.SeedTooLargeError(message_path.stat().st_size, "the message alone is")
        raise OversizedError(str(too_large))
    message = read_input(message_path, limit=seed.MAX_MESSAGE_BYTES)
    try:
        seed.precheck(message)
    except seed.SeedFormatError as exc:
        raise OversizedError(str(exc)) from None
    with staged_outputs(force=force) as outputs:
        outputs.check_free(output)
        signature = kms.sign(sender, resources.signing_key, message)
        try:
            archive = seed.check_fits(seed.bundle(message, signature))
        except seed.SeedFormatError as exc:
            raise OversizedError(str(exc)) from None
        ciphertext = kms.encrypt(sender, resources.encryption_key, archive)
        outputs.write(output, ciphertext)
    return Sent(
        format="seed",
        inputs=(message_path,),
        output=output,
        bytes_in=len(message),
        bytes_out=len(ciphertext),
        signed=message,
        signature=signature,
        ciphertext_for_checks=ciphertext,
    )


def open_seed(receiver: AwsSession, resources: Resources, ciphertext: bytes) -> seed.SeedBundle:
    """Decrypt, unpack safely and verify with KMS; returns only a verified bundle."""
    if len(ciphertext) != seed.SEED_CIPHERTEXT_SIZE:
        raise WrongFormatError(
            f"a seed-format message is exactly {seed.SEED_CIPHERTEXT_SIZE} bytes, "
            f"got {len(ciphertext)}"
        )
    archive = kms.decrypt(receiver, resources.encryption_key, ciphertext)
    try:
        bundle = seed.unbundle(archive)
    except seed.SeedFormatError as exc:
        raise InputRefusedError(f"refused: {exc}") from None
    if not kms.verify(receiver, resources.signing_key, bundle.message, bundle.signature):
        raise AuthenticationError()
    return bundle


def receive_seed(
    receiver: AwsSession, resources: Resources, source: Path, out_dir: Path, *, force: bool
) -> Received:
    ciphertext = read_input(source, limit=seed.SEED_CIPHERTEXT_SIZE + 1)
    with staged_outputs(force=force) as outputs:
        message_out = out_dir / seed.MESSAGE_MEMBER
        signature_out = out_dir / seed.SIGNATURE_MEMBER
        outputs.check_free(message_out)
        outputs.check_free(signature_out)
        bundle = open_seed(receiver, resources, ciphertext)
        outputs.write(message_out, bundle.message)
        outputs.write(signature_out, bundle.signature)
    return Received(
        format="seed",
        source=source,
        outputs=(message_out, signature_out),
        bytes_in=len(ciphertext),
        bytes_out=len(bundle.message),
        signed=bundle.message,
        signature=bundle.signature,
        files=((seed.MESSAGE_MEMBER, message_out, len(bundle.message)),),
        sender_key_id=resources.signing_key_arn or resources.signing_key,
    )


# ------------------------------------------------------------------------------ envelope


def _no_progress() -> Progress:
    return Progress("", None, enabled=False)


@contextmanager
def _staging_dir(parent: Path) -> Iterator[Path]:
    """A private directory next to the outputs: staged there, renamed out on success."""
    if not parent.is_dir():
        raise UsageError(f"output directory {parent} does not exist")
    staging = Path(tempfile.mkdtemp(prefix=".kms-sign-encrypt-", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _place(staged: Path, target: Path, *, force: bool) -> None:
    if force:
        os.replace(staged, target)
        return
    try:
        os.link(staged, target)  # never overwrites
    except FileExistsError:
        raise UsageError(f"output {target} already exists: remove it or pass --force") from None


def send_envelope(
    sender: AwsSession,
    resources: Resources,
    inputs: Sequence[Path],
    output: Path,
    *,
    force: bool,
    recipient_public_key: bytes | None = None,
    progress: Progress | None = None,
) -> Sent:
    """Seal ``inputs`` into ``output``: 1 Sign, and 1 Encrypt (0 with the recipient's PEM)."""
    signing_arn = key_arn(resources.signing_key_arn, "--signing-key", resources.signing_key)
    encryption_arn = key_arn(
        resources.encryption_key_arn, "--encryption-key", resources.encryption_key
    )
    for path in inputs:
        if not path.is_file():
            raise UsageError(f"input {path} not found or not a regular file")
    if output.exists() and not force:
        raise UsageError(f"output {output} already exists: remove it or pass --force")
    signer = kms.KmsSigner(sender, resources.signing_key, signing_arn)
    wrapper: envelope.KeyWrapper
    if recipient_public_key is not None:
        wrapper = _offline(lambda: envelope.PublicKeyWrapper(encryption_arn, recipient_public_key))
    else:
        wrapper = kms.KmsKeyWrapper(sender, resources.encryption_key, encryption_arn)
    progress = progress or _no_progress()
    with _staging_dir(output.parent) as staging:
        staged = staging / "message.enc"
        with DirectoryWatcher(staging, progress):
            result = _envelope_call(
                lambda: envelope.seal(list(inputs), staged, signer=signer, wrapper=wrapper)
            )
        wrapped = _wrapped_key(staged)
        _place(staged, output, force=force)
    return Sent(
        format="envelope",
        inputs=tuple(inputs),
        output=output,
        bytes_in=sum(p.stat().st_size for p in inputs),
        bytes_out=result.envelope_size,
        signed=result.statement_bytes,
        signature=result.signature,
        ciphertext_for_checks=wrapped,
    )


def _wrapped_key(path: Path) -> bytes:
    with path.open("rb") as handle:
        return read_header(handle).wrapped_data_key


def _offline(make: Any) -> Any:
    try:
        return make()
    except envelope.KeyMaterialError as exc:
        raise UsageError(str(exc)) from None


def sender_public_key_for_evidence(receiver: AwsSession, resources: Resources) -> bytes | None:
    """The sender's public key (receiver's GetPublicKey); None if the policy refuses it."""
    try:
        return kms.get_public_key(receiver, resources.signing_key).der
    except AccessDeniedError:
        return None


def receive_envelope(
    receiver: AwsSession,
    resources: Resources,
    source: Path,
    out_dir: Path,
    *,
    evidence_dir: Path | None,
    sender_public_key: bytes | None = None,
    verify_offline: bool = False,
    force: bool = False,
    progress: Progress | None = None,
) -> Received:
    """Unseal into a private staging directory, export evidence there, then move it all out.

    1 Decrypt and 1 Verify (0 Verify with ``verify_offline`` and the sender's public key).
    Nothing reaches ``out_dir`` unless every check passed.
    """
    signing_arn = key_arn(resources.signing_key_arn, "--signing-key", resources.signing_key)
    encryption_arn = key_arn(
        resources.encryption_key_arn, "--encryption-key", resources.encryption_key
    )
    if evidence_dir is not None and not evidence_dir.parent.is_dir():
        raise UsageError(f"the directory for the evidence, {evidence_dir.parent}, does not exist")
    if evidence_dir is not None and evidence_dir.exists():
        raise UsageError(
            f"evidence directory {evidence_dir} already exists: pass --evidence DIR with a new "
            "directory, or --no-evidence"
        )
    unwrapper = kms.KmsKeyUnwrapper(receiver, resources.encryption_key, encryption_arn)
    verifier: envelope.SignatureVerifier
    if verify_offline:
        if sender_public_key is None:
            raise UsageError("verifying offline needs the sender's public key")
        verifier = _offline(lambda: envelope.PublicKeyVerifier(signing_arn, sender_public_key))
    else:
        verifier = kms.KmsVerifier(receiver, resources.signing_key, signing_arn)
    progress = progress or _no_progress()
    with _staging_dir(out_dir) as staging:
        files_dir = staging / "files"
        files_dir.mkdir()
        with DirectoryWatcher(files_dir, progress):
            unsealed = _envelope_call(
                lambda: envelope.unseal(source, files_dir, unwrapper=unwrapper, verifier=verifier)
            )
        evidence: list[Path] = []
        staged_evidence = staging / "evidence"
        if evidence_dir is not None:
            public_key = sender_public_key or sender_public_key_for_evidence(receiver, resources)
            _envelope_call(
                lambda: envelope.export_evidence(
                    unsealed, staged_evidence, sender_public_key=public_key
                )
            )
        targets = [out_dir / f.name for f in unsealed.files]
        if evidence_dir is not None and evidence_dir.resolve() in {t.resolve() for t in targets}:
            raise UsageError(
                f"a received file is named like the evidence directory {evidence_dir}: pass "
                "--evidence DIR with another name"
            )
        if not force:
            for target in targets:
                if target.exists():
                    raise UsageError(f"output {target} already exists: remove it or pass --force")
        for received, target in zip(unsealed.files, targets, strict=True):
            _place(received.path, target, force=force)
        if evidence_dir is not None:
            shutil.move(staged_evidence, evidence_dir)  # also across file systems
            evidence = sorted(evidence_dir.iterdir())
    return Received(
        format="envelope",
        source=source,
        outputs=tuple(targets),
        bytes_in=source.stat().st_size,
        bytes_out=sum(f.size for f in unsealed.files),
        signed=unsealed.statement_bytes,
        signature=unsealed.signature,
        files=tuple((f.name, t, f.size) for f, t in zip(unsealed.files, targets, strict=True)),
        evidence=tuple(evidence),
        sender_key_id=signing_arn,
    )


def _envelope_call(call: Any) -> Any:
    """Envelope errors become the demo's: misuse is precise, tampering opaque."""
    try:
        return call()
    except envelope.EnvelopeAuthenticationError:
        raise AuthenticationError() from None
    except envelope.NotAnEnvelopeError as exc:
        raise WrongFormatError(str(exc)) from None
    except envelope.OutputExistsError as exc:
        raise UsageError(f"{exc}: remove it or pass --force") from None
    except (
        envelope.MalformedHeaderError,
        envelope.UnsupportedVersionError,
        envelope.WrongRecipientError,
    ) as exc:
        raise InputRefusedError(f"refused: {exc}") from None
    except envelope.EnvelopeUsageError as exc:
        raise UsageError(str(exc)) from None
