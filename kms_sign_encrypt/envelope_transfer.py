"""The envelope format on files: seal as SenderRole, unseal as ReceiverRole, with KMS.

Outputs are staged in a private directory next to their destination and moved into place
only after everything verified; the staging directory's growth drives the progress display.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import envelope
from envelope.format import read_header
from envelope.key_ids import is_fingerprint
from kms_sign_encrypt import audit, generations, kms
from kms_sign_encrypt.aws import AwsSession
from kms_sign_encrypt.errors import (
    AccessDeniedError,
    AuthenticationError,
    InputRefusedError,
    OversizedError,
    RecipientListError,
    UsageError,
    WrongFormatError,
)
from kms_sign_encrypt.exchange import Received, Sent, key_arn
from kms_sign_encrypt.files import check_free, check_not_directory, writing_into
from kms_sign_encrypt.key_files import TrustedSender, check_trusted
from kms_sign_encrypt.progress import DirectoryWatcher, Progress
from kms_sign_encrypt.public_key_cache import CachingVerifier, PublicKeyCache
from kms_sign_encrypt.stack import Resources

PRIVATE_DIR_MODE = 0o700


def _no_progress() -> Progress:
    return Progress("", None, enabled=False)


@contextmanager
def _staging_dir(parent: Path) -> Iterator[Path]:
    """A private directory next to the outputs: staged there, renamed out on success."""
    if not parent.is_dir():
        raise UsageError(f"output directory {parent} does not exist")
    with writing_into(parent):
        staging = Path(tempfile.mkdtemp(prefix=".kms-sign-encrypt-", dir=parent))
    try:
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _place(staged: Path, target: Path, *, force: bool) -> None:
    check_not_directory(target)
    with writing_into(target.parent):
        if force:
            os.replace(staged, target)
            return
        try:
            os.link(staged, target)  # never overwrites
        except FileExistsError:
            raise UsageError(
                f"output {target} already exists: remove it or allow replacing it",
                setting="overwrite",
            ) from None


def send_envelope(
    sender: AwsSession,
    resources: Resources,
    inputs: Sequence[Path],
    output: Path,
    *,
    force: bool,
    recipient_public_key: bytes | None = None,
    progress: Progress | None = None,
    recipients: Sequence[envelope.KeyWrapper] | None = None,
) -> Sent:
    """Seal ``inputs`` into ``output``: 1 Sign, and 1 Encrypt (0 with the recipient's PEM).

    ``recipients`` (KMS or public-key wrappers, each named by its key id) replaces the
    deployment's encryption key: 1 Encrypt per KMS recipient, none per public key.

    Encrypt runs in a background thread beside Sign (see envelope.sealing): both use the one
    KMS client, created here first (boto3 clients are thread-safe, sessions are not).
    """
    signing_arn = key_arn(resources.signing_key_arn, "signing_key", resources.signing_key)
    if recipients is None:
        encryption_arn = key_arn(
            resources.encryption_key_arn, "encryption_key", resources.encryption_key
        )
    else:
        check_recipients(recipients)
    for path in inputs:
        if not path.is_file():
            raise UsageError(f"input {path} not found or not a regular file")
    check_free(output, force=force)
    sender.client("kms")
    signer = kms.KmsSigner(sender, resources.signing_key, signing_arn)
    wrappers: list[envelope.KeyWrapper]
    if recipients is not None:
        wrappers = list(recipients)
    elif recipient_public_key is not None:
        wrappers = [
            _offline(
                lambda: envelope.PublicKeyWrapper(encryption_arn, recipient_public_key),
                "recipient_public_key",
                "encryption-key.pem",
            )
        ]
    else:
        wrappers = [kms.KmsKeyWrapper(sender, resources.encryption_key, encryption_arn)]
    return seal_files(
        inputs, output, signer=signer, wrappers=wrappers, force=force, progress=progress
    )


def check_recipients(wrappers: Sequence[envelope.KeyWrapper]) -> None:
    """The recipient list, checked before anything is read or written (the envelope checks
    it again): 1 to ``envelope.MAX_RECIPIENTS`` keys, no key id twice."""
    if not wrappers:
        raise RecipientListError(
            "no recipients: give at least one recipient key", setting="recipients"
        )
    if len(wrappers) > envelope.MAX_RECIPIENTS:
        raise RecipientListError(
            f"{len(wrappers)} recipients, more than the format's maximum of "
            f"{envelope.MAX_RECIPIENTS}",
            setting="recipients",
        )
    seen: set[str] = set()
    for wrapper in wrappers:
        if wrapper.key_id in seen:
            raise RecipientListError(
                f"recipient {wrapper.key_id} is given twice: give each recipient key once",
                setting="recipients",
            )
        seen.add(wrapper.key_id)


def seal_files(
    inputs: Sequence[Path],
    output: Path,
    *,
    signer: envelope.Signer,
    wrappers: Sequence[envelope.KeyWrapper],
    force: bool,
    progress: Progress | None = None,
) -> Sent:
    """Seal ``inputs`` into ``output`` with any signer and recipients (KMS or local keys):
    staged next to ``output``, placed only once complete."""
    check_recipients(wrappers)
    for path in inputs:
        if not path.is_file():
            raise UsageError(f"input {path} not found or not a regular file")
    check_free(output, force=force)
    progress = progress or _no_progress()
    with _staging_dir(output.parent) as staging:
        staged = staging / "message.enc"
        with DirectoryWatcher(staging, progress):
            result = _envelope_call(
                lambda: envelope.seal(list(inputs), staged, signer=signer, wrappers=list(wrappers))
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


def _offline(make: Any, option: str, pem: str) -> Any:
    """A key object from a PEM the user gave; a wrong key names the option and the right PEM."""
    try:
        return make()
    except envelope.KeyMaterialError as exc:
        raise UsageError(
            f"{exc}; use the {pem} that the public keys export writes", setting=option
        ) from None


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
    limits: envelope.ReceiveLimits | None = None,
    public_key_cache: PublicKeyCache | None = None,
    trusted_senders: Sequence[TrustedSender] | None = None,
) -> Received:
    """Unseal into a private staging directory, export evidence there, then move it all out.

    1 Decrypt and 1 Verify (0 Verify with ``verify_offline`` and the sender's public key).
    Nothing reaches ``out_dir`` unless every check passed. ``limits`` bounds what the
    envelope may write before its signature is checked (``envelope.ReceiveLimits``).
    Every file and directory written is private: files 0600, directories 0700.
    With ``public_key_cache``: 0 Verify, the sender's public key from the cache, or fetched
    (1 GetPublicKey, overlapping the Decrypt) and cached.
    With ``trusted_senders``: the statement's sender must be exactly one of those keys (a
    partner's, by fingerprint, or a KMS key's exported PEM, by ARN), verified locally; the
    deployment's signing key is then trusted only if it is among them. 1 Decrypt, 0 Verify.
    """
    encryption_arn = key_arn(
        resources.encryption_key_arn, "encryption_key", resources.encryption_key
    )
    check_receive_paths(out_dir, evidence_dir)
    encryption_key = resources.encryption_key
    if resources.encryption_generations:  # issue 15: the generation the header names
        chosen = _envelope_call(
            lambda: generations.encryption_key_for(
                resources.encryption_generations, generations.header_recipients(source)
            )
        )
        encryption_key = encryption_arn = str(chosen.arn)
    unwrapper = kms.KmsKeyUnwrapper(receiver, encryption_key, encryption_arn)
    verifiers: list[envelope.SignatureVerifier]
    if trusted_senders is not None:
        if verify_offline or public_key_cache is not None:
            raise UsageError("trusted sender keys replace the signing key's PEM and the cache")
        verifiers = [t.verifier for t in check_trusted(list(trusted_senders))]
    else:
        signing_arn = key_arn(resources.signing_key_arn, "signing_key", resources.signing_key)
        if verify_offline:
            if sender_public_key is None:
                raise UsageError("verifying offline needs the sender's public key")
            verifiers = [
                _offline(
                    lambda: envelope.PublicKeyVerifier(signing_arn, sender_public_key),
                    "sender_public_key",
                    "signing-key.pem",
                )
            ]
        elif public_key_cache is not None:
            verifiers = [
                CachingVerifier(receiver, resources.signing_key, signing_arn, public_key_cache)
            ]
        else:
            verifiers = [kms.KmsVerifier(receiver, resources.signing_key, signing_arn)]
        # issue 15: the signing generations before the current one (a retired one refuses)
        verifiers += generations.older_senders(receiver, resources, signing_arn) or []

    def evidence_key(unsealed: envelope.Unsealed) -> bytes | None:
        sender = unsealed.statement.sender
        verifier = next(v for v in verifiers if v.key_id == sender)
        if isinstance(verifier, envelope.PublicKeyVerifier):
            return verifier.public_key_pem()
        if isinstance(verifier, CachingVerifier) and (der := verifier.public_key_der()):
            return der
        # the generation that signed, which may be older than the current one (issue 15)
        signer = (
            resources
            if sender == resources.signing_key_arn
            else replace(resources, signing_key=sender, signing_key_arn=sender)
        )
        return sender_public_key_for_evidence(receiver, signer)

    def trail(unsealed: envelope.Unsealed) -> dict[str, Any] | None:
        sender = unsealed.statement.sender
        if is_fingerprint(sender):  # a partner's own key: no KMS Sign to find in CloudTrail
            return None
        return audit.trail_evidence(
            unsealed.statement_bytes,
            sender,
            unsealed.statement.created,
            receiver.metrics.kms_requests,
        )

    return open_envelope(
        source,
        out_dir,
        unwrapper=unwrapper,
        verifiers=verifiers,
        evidence_dir=evidence_dir,
        force=force,
        progress=progress,
        limits=limits,
        evidence_key=evidence_key,
        trail=trail,
    )


def check_receive_paths(out_dir: Path, evidence_dir: Path | None) -> None:
    if not out_dir.is_dir():
        raise UsageError(f"output directory {out_dir} does not exist")
    if evidence_dir is not None and not evidence_dir.parent.is_dir():
        raise UsageError(f"the directory for the evidence, {evidence_dir.parent}, does not exist")
    if evidence_dir is not None and evidence_dir.exists():
        raise UsageError(
            f"evidence directory {evidence_dir} already exists: choose a new directory for the "
            "evidence, or receive without evidence",
            setting="evidence_dir",
        )


def open_envelope(
    source: Path,
    out_dir: Path,
    *,
    unwrapper: envelope.KeyUnwrapper,
    verifiers: Sequence[envelope.SignatureVerifier],
    evidence_dir: Path | None,
    force: bool = False,
    progress: Progress | None = None,
    limits: envelope.ReceiveLimits | None = None,
    evidence_key: Callable[[envelope.Unsealed], bytes | None] | None = None,
    trail: Callable[[envelope.Unsealed], dict[str, Any] | None] | None = None,
) -> Received:
    """Unseal ``source`` with any unwrapper and trusted senders (KMS or local keys) into a
    private staging directory, export evidence there, then move it all out."""
    check_receive_paths(out_dir, evidence_dir)
    progress = progress or _no_progress()
    with _staging_dir(out_dir) as staging:
        files_dir = staging / "files"
        files_dir.mkdir(mode=PRIVATE_DIR_MODE)
        try:
            unsealed = _envelope_call(
                lambda: envelope.unseal(
                    source,
                    files_dir,
                    unwrapper=unwrapper,
                    verifiers=list(verifiers),
                    limits=limits,
                    on_progress=progress.advance,  # anonymous temp files: nothing to watch
                )
            )
        except BaseException:
            progress.abort()
            raise
        progress.finish()
        evidence: list[Path] = []
        staged_evidence = staging / "evidence"
        if evidence_dir is not None:
            public_key = evidence_key(unsealed) if evidence_key is not None else None
            _envelope_call(
                lambda: envelope.export_evidence(
                    unsealed, staged_evidence, sender_public_key=public_key
                )
            )
            trail_document = trail(unsealed) if trail is not None else None
            if trail_document is not None:
                audit.write_trail_evidence(staged_evidence, trail_document)  # CloudTrail
        targets = [out_dir / f.name for f in unsealed.files]
        if evidence_dir is not None and evidence_dir.resolve() in {t.resolve() for t in targets}:
            raise UsageError(
                f"a received file is named like the evidence directory {evidence_dir}: choose "
                "another name for the evidence directory",
                setting="evidence_dir",
            )
        for target in targets:
            check_free(target, force=force)
        placed: list[Path] = []
        try:
            for received, target in zip(unsealed.files, targets, strict=True):
                _place(received.path, target, force=force)
                placed.append(target)
            if evidence_dir is not None:
                with writing_into(evidence_dir.parent):
                    shutil.move(staged_evidence, evidence_dir)  # also across file systems
                evidence = sorted(evidence_dir.iterdir())
        except BaseException:
            _take_back(placed if not force else [], evidence_dir)
            raise
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
        sender_key_id=unsealed.statement.sender,
    )


def _take_back(placed: list[Path], evidence_dir: Path | None) -> None:
    """Placing failed part-way: remove what this receive created, so nothing half is left.

    Files replaced (overwrite) cannot be restored and stay (they are verified). The
    evidence directory did not exist before (checked), so whatever is there is ours.
    """
    for target in placed:
        target.unlink(missing_ok=True)
    if evidence_dir is not None:
        shutil.rmtree(evidence_dir, ignore_errors=True)


def _envelope_call(call: Any) -> Any:
    """Envelope errors become the demo's: misuse is precise, tampering opaque."""
    try:
        return call()
    except envelope.EnvelopeAuthenticationError:
        raise AuthenticationError() from None
    except envelope.EnvelopeTooLargeError as exc:
        raise OversizedError(f"refused: {exc}", setting="limits") from None
    except envelope.NotAnEnvelopeError as exc:
        raise WrongFormatError(str(exc)) from None
    except envelope.OutputExistsError as exc:
        raise UsageError(f"{exc}: remove it or allow replacing it", setting="overwrite") from None
    except (
        envelope.MalformedHeaderError,
        envelope.UnsupportedVersionError,
        envelope.WrongRecipientError,
    ) as exc:
        raise InputRefusedError(f"refused: {exc}") from None
    except envelope.EnvelopeUsageError as exc:
        raise UsageError(str(exc)) from None
    except OSError as exc:  # the disk, not the data: e.g. full or read-only
        where = f" ({exc.filename})" if exc.filename else ""
        raise UsageError(f"cannot read or write a file{where}: {exc.strerror or exc}") from None
