"""One handler per command: turn parsed options into library calls and a printable result.

Handlers print human-readable lines to stdout (unless ``--json``) and return a ``Result``
whose ``document`` the CLI prints as JSON when asked. Errors propagate as ``KmsSignEncryptError``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import envelope
from demo import walkthrough
from envelope.format import read_header
from envelope.key_ids import fingerprint
from envelope.keys import MAX_SIGNED_MESSAGE
from kms_sign_encrypt import (
    access,
    envelope_transfer,
    exchange,
    key_files,
    kms,
    offline,
    partner,
    seed_transfer,
)
from kms_sign_encrypt.aws import (
    AwsSession,
    CallMetrics,
    ClientSettings,
    assume_role,
    open_caller_session,
)
from kms_sign_encrypt.errors import (
    EXIT_EXPECTATION,
    AuthenticationError,
    KmsSignEncryptError,
    UsageError,
    WrongFormatError,
)
from kms_sign_encrypt.files import read_input, staged_outputs
from kms_sign_encrypt.progress import Progress
from kms_sign_encrypt.public_key_cache import PublicKeyCache
from kms_sign_encrypt.stack import ALL_FIELDS, ResourceOptions, Resources, discover

DEFAULT_FORMAT: exchange.Format = "envelope"
MAX_PEM_BYTES = 64 * 1024
ENCRYPTION_KEY_PEM = "encryption-key.pem"
SIGNING_KEY_PEM = "signing-key.pem"
PASSPHRASE_VARIABLE = "KMS_SIGN_ENCRYPT_PASSPHRASE"  # noqa: S105 (a variable name)
MAX_PASSPHRASE_BYTES = 1024
T = TypeVar("T")


@dataclass(frozen=True)
class Result:
    document: dict[str, Any] | None
    exit_code: int | None = None


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.json:
        print(text, flush=True)


def _settings(args: argparse.Namespace) -> ClientSettings:
    return ClientSettings(retry_mode=args.retry_mode, max_attempts=args.max_attempts)


def _resource_options(args: argparse.Namespace) -> ResourceOptions:
    return ResourceOptions(
        stack_name=getattr(args, "stack_name", None),
        name_prefix=getattr(args, "name_prefix", None),
        outputs_file=getattr(args, "outputs_file", None),
        encryption_key=getattr(args, "encryption_key", None),
        signing_key=getattr(args, "signing_key", None),
        sender_role_arn=getattr(args, "sender_role_arn", None),
        receiver_role_arn=getattr(args, "receiver_role_arn", None),
    )


def _caller(args: argparse.Namespace, metrics: CallMetrics) -> AwsSession:
    return open_caller_session(
        profile=args.profile, region=args.region, settings=_settings(args), metrics=metrics
    )


def _needed(args: argparse.Namespace, *fields: str) -> tuple[str, ...]:
    roles = ("sender_role_arn", "receiver_role_arn")
    return tuple(f for f in fields if not (args.no_assume_role and f in roles))


def _as_party(
    args: argparse.Namespace, caller: AwsSession, resources: Resources, party: str
) -> AwsSession:
    if args.no_assume_role:
        caller.party = party
        return caller
    role_arn = resources.sender_role_arn if party == "sender" else resources.receiver_role_arn
    profile = args.sender_profile if party == "sender" else args.receiver_profile
    if profile:  # the party's own workload assumes its role, not the caller
        caller = open_caller_session(
            profile=profile, region=caller.region, settings=caller.settings, metrics=caller.metrics
        )
    return assume_role(caller, role_arn, party=party, external_id=args.external_id)


def _session_for(
    args: argparse.Namespace, metrics: CallMetrics, party: str, *keys: str
) -> tuple[AwsSession, Resources]:
    """The party's session (its role assumed unless --no-assume-role) and the resources
    it needs: ``keys`` and its role, from the options or else the stack outputs."""
    caller = _caller(args, metrics)
    resources = discover(_resource_options(args), caller, _needed(args, *keys, f"{party}_role_arn"))
    return _as_party(args, caller, resources, party), resources


def _shown(path: Path) -> str:
    """A path for the terminal. Received names are the sender's choice, so characters that
    would act rather than print (C1 controls, bidirectional overrides) are shown escaped."""
    text = str(path)
    return text if text.isprintable() else repr(text)[1:-1]


def _progress(args: argparse.Namespace, label: str, total: int | None) -> Progress:
    """Progress only on a terminal: on a pipe or a log, stderr stays the one error line (or
    nothing) that scripts read, however slow the work."""
    return Progress(label, total, enabled=not args.no_progress and sys.stderr.isatty())


def _read_pem(path: Path | None) -> bytes | None:
    return None if path is None else read_input(path, limit=MAX_PEM_BYTES)


# ------------------------------------------------------------------------------ commands


def run_command(args: argparse.Namespace) -> Result:
    options = walkthrough.RunOptions(
        resources=_resource_options(args),
        profile=args.profile,
        region=args.region,
        # Options to the library's parameters, one keyword each (shape-only, duplicates D10).
        settings=_settings(args),
        external_id=args.external_id,
        format=args.format,
        sender_profile=args.sender_profile,
        receiver_profile=args.receiver_profile,
        workdir=args.workdir,
        force=args.force,
        as_json=args.json,
    )
    if args.no_assume_role:
        raise UsageError("run plays both parties: it must assume both roles")
    report = walkthrough.run(options, sys.stdout)
    return Result(report.as_dict(), None if report.passed else EXIT_EXPECTATION)


def _passphrase(args: argparse.Namespace) -> bytes | None:
    """From --passphrase-file (one trailing newline dropped) or the environment variable;
    never from the command line, where other users and the shell history would see it."""
    path: Path | None = getattr(args, "passphrase_file", None)
    if path is not None:
        data = read_input(path, limit=MAX_PASSPHRASE_BYTES)
        data = data[:-2] if data.endswith(b"\r\n") else data.removesuffix(b"\n")
        if not data:
            raise UsageError(f"the passphrase file {path} is empty", setting="passphrase")
        return data
    value = os.environ.get(PASSPHRASE_VARIABLE)
    return value.encode("utf-8") if value else None


def _key(setting: str, load: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A key file loaded (``load(*args, **kwargs)``); an error names the option behind it."""
    try:
        return load(*args, **kwargs)
    except KmsSignEncryptError as exc:
        if exc.setting is None:
            exc.setting = setting
        raise


def _recipient_pems(args: argparse.Namespace) -> list[bytes]:
    """Each --recipient-public-key file, read and checked (an error names the file)."""
    pems = []
    for path in args.recipient_public_key or []:
        data = _read_pem_file(path, "recipient_public_key")
        _key("recipient_public_key", key_files.recipient_from_pem, data, str(path))
        pems.append(data)
    return pems


def _read_pem_file(path: Path, setting: str) -> bytes:
    return _key(setting, read_input, path, limit=MAX_PEM_BYTES)


def _check_partner_send(args: argparse.Namespace) -> None:
    if args.format == "seed":
        raise UsageError(
            "the seed format has no recipient list and no partner keys: use --format envelope"
        )
    # Flag names are the CLI's alone, so each refusal names its own (duplicates D15).
    for option, value in (
        ("--signing-key", args.signing_key),
        ("--encryption-key", args.encryption_key),
        ("--sender-role-arn", args.sender_role_arn),
    ):
        if value:
            raise UsageError(f"{option} is for KMS signing; --signing-private-key signs locally")


def send_command(args: argparse.Namespace) -> Result:
    inputs: list[Path] = args.inputs
    if args.format == "seed" and len(inputs) != 1:
        raise UsageError("the seed format holds exactly one message: use --format envelope")
    recipients_given = bool(args.recipient_public_key or args.recipient_key)
    if args.format == "seed" and recipients_given:
        raise UsageError(
            "--recipient-public-key and --recipient-key work with --format envelope only"
        )
    if args.signing_private_key is not None:
        return _partner_send(args)
    recipients: list[partner.Recipient] = [*_recipient_pems(args), *(args.recipient_key or [])]
    if recipients_given:  # every key file and the list, before any AWS call
        _key("recipients", partner.recipient_wrappers, recipients, None, check_only=True)
    metrics = CallMetrics()
    fields = ("signing_key",) if recipients_given else ("encryption_key", "signing_key")
    sender, resources = _session_for(args, metrics, "sender", *fields)
    if args.format == "seed":
        sent = seed_transfer.send_seed(sender, resources, inputs[0], args.output, force=args.force)
    else:
        total = sum(p.stat().st_size for p in inputs if p.is_file())
        sent = envelope_transfer.send_envelope(
            sender,
            resources,
            inputs,
            args.output,
            force=args.force,
            recipients=(
                _key("recipients", partner.recipient_wrappers, recipients, sender)
                if recipients_given
                else None
            ),
            progress=_progress(args, "sealing", total),
        )
    _say(
        args,
        f"sent {', '.join(map(str, inputs))} -> {args.output} ({sent.format} format, "
        f"{sent.bytes_in} bytes in, {sent.bytes_out} bytes out) as {sender.principal or 'caller'}",
    )
    document = {**sent.as_dict(), "principal": sender.principal, **metrics.snapshot()}
    if sent.format == "envelope":
        document["recipients"] = list(_recipient_ids(args.output))
    return Result(document)


def _recipient_ids(path: Path) -> tuple[str, ...]:
    with path.open("rb") as handle:
        return read_header(handle).recipient_key_ids


def _partner_send(args: argparse.Namespace) -> Result:
    """Sign with the local key, wrap to every recipient: no stack, and no AWS call unless a
    recipient is a KMS key (then the calling credentials' own KMS Encrypt)."""
    _check_partner_send(args)
    passphrase = _passphrase(args)
    pem = _read_pem_file(args.signing_private_key, "signing_private_key")
    signer = _key(
        "signing_private_key",
        key_files.signer_from_pem,
        pem,
        passphrase,
        str(args.signing_private_key),
    )
    recipients: list[partner.Recipient] = [*_recipient_pems(args), *(args.recipient_key or [])]
    _key("recipients", partner.recipient_wrappers, recipients, None, check_only=True)
    metrics = CallMetrics()
    session = _caller(args, metrics) if args.recipient_key else None
    wrappers = _key("recipients", partner.recipient_wrappers, recipients, session)
    total = sum(p.stat().st_size for p in args.inputs if p.is_file())
    sent = envelope_transfer.seal_files(
        args.inputs,
        args.output,
        signer=signer,
        wrappers=wrappers,
        force=args.force,
        progress=_progress(args, "sealing", total),
    )
    recipient_ids = sorted(w.key_id for w in wrappers)
    _say(
        args,
        f"sent {', '.join(map(str, args.inputs))} -> {args.output} (envelope format, "
        f"{sent.bytes_in} bytes in, {sent.bytes_out} bytes out), signed locally by "
        f"{signer.key_id}",
    )
    for key_id in recipient_ids:
        _say(args, f"  for {key_id}")
    return Result(
        {
            **sent.as_dict(),
            "sender_key_id": signer.key_id,
            "recipients": recipient_ids,
            "principal": None,
            **metrics.snapshot(),
        }
    )


def _trusted_senders(args: argparse.Namespace) -> partner.TrustedSenders | None:
    """The sender keys given (--sender-public-key, --trusted-senders), loaded and checked
    before any AWS call; None if none was given."""
    pem_paths: list[Path] = args.sender_public_key or []
    files: list[Path] = args.trusted_senders or []
    if not pem_paths and not files:
        return None
    senders: list[key_files.TrustedSender] = []
    stems = [path.name.split(".")[0] for path in pem_paths]
    for index, path in enumerate(pem_paths):
        data = _read_pem_file(path, "sender_public_key")
        # A file's name stands in for a missing name: line; alike names get -1, -2, ...
        what, name = str(path), stems[index]
        if stems.count(name) > 1:
            name = f"{name}-{stems[: index + 1].count(name)}"
        senders.append(
            _key("sender_public_key", key_files.trusted_sender_from_pem, data, what, name)
        )
    for path in files:
        data = _key("trusted_senders", read_input, path, limit=key_files.MAX_KEY_FILE)
        what = f"trust file {path}"
        senders.extend(_key("trusted_senders", key_files.trusted_senders_from_file, data, what))
    return _key("trusted_senders", partner.TrustedSenders, senders)


def receive_command(args: argparse.Namespace) -> Result:
    # Before any AWS call: a wrong input, or a seed file without --format seed, fails fast.
    kind = exchange.detect(args.input, accept_seed=args.format == "seed")
    if args.format == "seed" and kind != "seed":
        raise WrongFormatError(
            f"{args.input} is an envelope, not a seed-format message: drop --format seed"
        )
    trusted = _trusted_senders(args)
    if kind == "seed" and (trusted is not None or args.recipient_private_key is not None):
        raise UsageError(
            "--sender-public-key, --trusted-senders and --recipient-private-key work with the "
            "envelope format only"
        )
    if args.recipient_private_key is not None:
        return _partner_receive(args, trusted)
    metrics = CallMetrics()
    fields = ("encryption_key",) if trusted is not None else ("encryption_key", "signing_key")
    receiver, resources = _session_for(args, metrics, "receiver", *fields)
    if kind == "seed":
        received = seed_transfer.receive_seed(
            receiver, resources, args.input, args.out_dir, force=args.force, accept_seed_format=True
        )
    else:
        evidence_dir = None if args.no_evidence else args.evidence or args.out_dir / "evidence"
        received = envelope_transfer.receive_envelope(
            receiver,
            resources,
            args.input,
            args.out_dir,
            evidence_dir=evidence_dir,
            public_key_cache=(
                None if args.no_cache or trusted is not None else PublicKeyCache.user_default()
            ),
            trusted_senders=None if trusted is None else list(trusted),
            force=args.force,
            progress=_progress(args, "opening", args.input.stat().st_size),
            limits=envelope.ReceiveLimits(max_bytes=args.max_bytes, max_files=args.max_files),
        )
    name = None if trusted is None else trusted.name_of(received.sender_key_id)
    signed_by = received.sender_key_id + (f" ({name})" if name else "")
    _say(args, f"verified {args.input} ({kind} format), signed by {signed_by}")
    if kind == "seed":
        _say(args, f"  warning: {exchange.SEED_BINDS_NO_RECIPIENT}")
    for path in received.outputs:
        _say(args, f"  wrote {_shown(path)}")
    if received.evidence:
        _say(args, f"  evidence in {received.evidence[0].parent} (see VERIFY.txt there)")
    document = {**received.as_dict(), "principal": receiver.principal, **metrics.snapshot()}
    if name:
        document["sender_name"] = name
    if kind == "seed":
        document["recipient_bound"] = False
        document["warning"] = exchange.SEED_BINDS_NO_RECIPIENT
    return Result(document)


def _partner_receive(args: argparse.Namespace, trusted: partner.TrustedSenders | None) -> Result:
    """Open with the local private key, verify against the trusted keys: no AWS at all."""
    for option, value in (
        ("--encryption-key", args.encryption_key),
        ("--signing-key", args.signing_key),
        ("--receiver-role-arn", args.receiver_role_arn),
    ):
        if value:
            raise UsageError(f"{option} is for KMS; --recipient-private-key opens locally")
    if trusted is None:
        raise UsageError(
            "--recipient-private-key needs the trusted sender keys: --sender-public-key PEM "
            "(repeatable) or --trusted-senders FILE",
            setting="trusted_senders",
        )
    passphrase = _passphrase(args)
    pem = _read_pem_file(args.recipient_private_key, "recipient_private_key")
    unwrapper = _key(
        "recipient_private_key",
        key_files.unwrapper_from_pem,
        pem,
        passphrase,
        str(args.recipient_private_key),
    )
    verifiers = [s.verifier for s in trusted]
    evidence_dir = None if args.no_evidence else args.evidence or args.out_dir / "evidence"
    received = envelope_transfer.open_envelope(
        args.input,
        args.out_dir,
        unwrapper=unwrapper,
        verifiers=verifiers,
        evidence_dir=evidence_dir,
        force=args.force,
        progress=_progress(args, "opening", args.input.stat().st_size),
        limits=envelope.ReceiveLimits(max_bytes=args.max_bytes, max_files=args.max_files),
        evidence_key=lambda unsealed: next(
            v for v in verifiers if v.key_id == unsealed.statement.sender
        ).public_key_pem(),
    )
    name = trusted.name_of(received.sender_key_id)
    _say(
        args,
        f"verified {args.input} (envelope format) with the local key {unwrapper.key_id}, "
        f"signed by {received.sender_key_id} ({name})",
    )
    for path in received.outputs:
        _say(args, f"  wrote {_shown(path)}")
    if received.evidence:
        _say(args, f"  evidence in {received.evidence[0].parent} (see VERIFY.txt there)")
    return Result(
        {
            **received.as_dict(),
            "sender_name": name,
            "recipient_key_id": unwrapper.key_id,
            "principal": None,
            "calls": {},
        }
    )


def keygen_command(args: argparse.Namespace) -> Result:
    """A partner's own keys, no AWS: the private PEMs 0600, the public PEMs beside them."""
    directory: Path = args.directory
    if not directory.exists():
        if not directory.parent.is_dir():
            raise UsageError(
                f"the directory {directory.parent} does not exist", setting="keygen_dir"
            )
        directory.mkdir(mode=0o700)
    made = partner.generate_partner_keys(directory)
    rows = [
        ("signing private key", made.signing_private, None),
        ("signing public key", made.signing_public, made.signing_key_id),
        ("encryption private key", made.encryption_private, None),
        ("encryption public key", made.encryption_public, made.encryption_key_id),
    ]
    for what, path, key_id in rows:
        _say(args, f"wrote {path}  ({what}" + (f", {key_id})" if key_id else ", mode 0600)"))
    _say(
        args,
        "Give the two .pub.pem files to the other party; keep the two private keys here. "
        "The fingerprints above are the key ids envelopes name them by.",
    )
    return Result(
        {
            "signing_private_key": str(made.signing_private),
            "signing_public_key": str(made.signing_public),
            "signing_key_id": made.signing_key_id,
            "encryption_private_key": str(made.encryption_private),
            "encryption_public_key": str(made.encryption_public),
            "encryption_key_id": made.encryption_key_id,
        }
    )


def public_keys_command(args: argparse.Namespace) -> Result:
    """The encryption key as SenderRole, the signing key as ReceiverRole: the key policies
    give GetPublicKey to the party that uses each public key."""
    metrics = CallMetrics()
    caller = _caller(args, metrics)
    resources = discover(_resource_options(args), caller, _needed(args, *ALL_FIELDS))
    targets = {
        ENCRYPTION_KEY_PEM: args.out_dir / ENCRYPTION_KEY_PEM,
        SIGNING_KEY_PEM: args.out_dir / SIGNING_KEY_PEM,
    }
    with staged_outputs(force=args.force) as staged:
        for target in targets.values():
            staged.check_free(target)
        sender = _as_party(args, caller, resources, "sender")
        encryption = kms.get_public_key(sender, resources.encryption_key)
        receiver = sender if args.no_assume_role else _as_party(args, caller, resources, "receiver")
        signing = kms.get_public_key(receiver, resources.signing_key)
        # The key-id line names each key by its ARN, as envelopes do (docs/FORMAT.md, Key ids).
        staged.write(
            targets[ENCRYPTION_KEY_PEM],
            key_files.labelled_pem(encryption.pem(), _arn_of(resources, "encryption", encryption)),
        )
        staged.write(
            targets[SIGNING_KEY_PEM],
            key_files.labelled_pem(signing.pem(), _arn_of(resources, "signing", signing)),
        )
    keys = [
        {
            "file": str(targets[ENCRYPTION_KEY_PEM]),
            "key_id": encryption.key_id,
            "key_spec": encryption.key_spec,
            "key_usage": encryption.key_usage,
            "fingerprint": fingerprint(encryption.der),
        },
        {
            "file": str(targets[SIGNING_KEY_PEM]),
            "key_id": signing.key_id,
            "key_spec": signing.key_spec,
            "key_usage": signing.key_usage,
            "fingerprint": fingerprint(signing.der),
        },
    ]
    for key in keys:
        _say(args, f"wrote {key['file']}  ({key['key_id']}, {key['key_spec'] or 'spec unknown'})")
    return Result({"public_keys": keys, **metrics.snapshot()})


def _arn_of(resources: Resources, which: str, key: kms.PublicKey) -> str:
    """The key's ARN: GetPublicKey answers with it (KeyId), the stack outputs have it too."""
    arn = resources.encryption_key_arn if which == "encryption" else resources.signing_key_arn
    return arn or key.key_id


def verify_command(args: argparse.Namespace) -> Result:
    signature_path: Path = args.signature
    if not args.file.is_file():  # before any AWS call; a FIFO or /dev/zero would never end
        raise UsageError(f"input {args.file} not found or not a regular file")
    if args.offline:
        if args.public_key is None:
            raise UsageError("verify --offline needs --public-key (a PEM from public-keys)")
        progress = _progress(args, "hashing", args.file.stat().st_size)
        try:
            offline.verify_file(args.public_key, args.file, signature_path, progress.advance)
        except BaseException:
            progress.abort()
            raise
        progress.finish()
        how = f"offline with {args.public_key}"
    else:
        if args.public_key is not None:
            raise UsageError("--public-key is for --offline; without it KMS Verify is used")
        signature = read_input(signature_path, limit=offline.MAX_SIGNATURE_FILE)
        metrics = CallMetrics()
        receiver, resources = _session_for(args, metrics, "receiver", "signing_key")
        size = args.file.stat().st_size
        if size <= MAX_SIGNED_MESSAGE:
            valid = kms.verify(receiver, resources.signing_key, read_input(args.file), signature)
        else:
            progress = _progress(args, "hashing", size)
            digest = offline.sha512_of(args.file, progress.advance)
            progress.finish()
            valid = kms.verify_digest(receiver, resources.signing_key, digest, signature)
        if not valid:
            raise AuthenticationError(
                "signature verification failed: the file or its signature was changed, or it "
                "was signed with another key"
            )
        how = f"with KMS Verify ({resources.signing_key}) as {receiver.principal or 'caller'}"
    _say(args, f"valid: {args.file} matches {signature_path} (ECDSA_SHA_512), checked {how}")
    return Result(
        {"valid": True, "file": str(args.file), "signature": str(signature_path), "checked": how}
    )


def access_command(args: argparse.Namespace) -> Result:
    if args.template is not None:
        matrix = access.access_report_from_template(
            args.template, account=args.account, region=args.region or "us-east-1"
        )
        source = f"template {args.template}"
    else:
        metrics = CallMetrics()
        caller = _caller(args, metrics)
        resources = discover(_resource_options(args), caller)
        matrix = access.access_report_from_live_policies(caller, resources)
        source = f"key policies of {resources.source}"
    if getattr(args, "mermaid", False):
        diagram = matrix.mermaid()  # raises before anything is printed
        print(diagram, end="")
        return Result(None)
    _say(args, f"Access matrix from the {source}:")
    _say(args, matrix.table())
    return Result({"source": source, "matrix": matrix.as_json()})
