"""One handler per command: turn parsed options into library calls and a printable result.

Handlers print human-readable lines to stdout (unless ``--json``) and return a ``Result``
whose ``document`` the CLI prints as JSON when asked. Errors propagate as ``KmsSignEncryptError``.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import envelope
from demo import walkthrough
from envelope.keys import MAX_SIGNED_MESSAGE
from kms_sign_encrypt import access, envelope_transfer, exchange, kms, offline, seed_transfer
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
    return Progress(label, total, enabled=not args.no_progress)


def _read_pem(path: Path | None) -> bytes | None:
    return None if path is None else read_input(path, limit=MAX_PEM_BYTES)


# ------------------------------------------------------------------------------ commands


def run_command(args: argparse.Namespace) -> Result:
    options = walkthrough.RunOptions(
        resources=_resource_options(args),
        profile=args.profile,
        region=args.region,
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


def send_command(args: argparse.Namespace) -> Result:
    inputs: list[Path] = args.inputs
    if args.format == "seed" and len(inputs) != 1:
        raise UsageError("the seed format holds exactly one message: use --format envelope")
    if args.format == "seed" and args.recipient_public_key is not None:
        raise UsageError("--recipient-public-key works with --format envelope only")
    recipient_key = _read_pem(args.recipient_public_key)
    metrics = CallMetrics()
    sender, resources = _session_for(args, metrics, "sender", "encryption_key", "signing_key")
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
            recipient_public_key=recipient_key,
            progress=_progress(args, "sealing", total),
        )
    _say(
        args,
        f"sent {', '.join(map(str, inputs))} -> {args.output} ({sent.format} format, "
        f"{sent.bytes_in} bytes in, {sent.bytes_out} bytes out) as {sender.principal or 'caller'}",
    )
    return Result({**sent.as_dict(), "principal": sender.principal, **metrics.snapshot()})


def receive_command(args: argparse.Namespace) -> Result:
    # Before any AWS call: a wrong input, or a seed file without --format seed, fails fast.
    kind = exchange.detect(args.input, accept_seed=args.format == "seed")
    if args.format == "seed" and kind != "seed":
        raise WrongFormatError(
            f"{args.input} is an envelope, not a seed-format message: drop --format seed"
        )
    sender_key = _read_pem(args.sender_public_key)
    if kind == "seed" and sender_key is not None:
        raise UsageError("--sender-public-key works with the envelope format only")
    metrics = CallMetrics()
    receiver, resources = _session_for(args, metrics, "receiver", "encryption_key", "signing_key")
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
            sender_public_key=sender_key,
            verify_offline=sender_key is not None,
            public_key_cache=None if args.no_cache else PublicKeyCache.user_default(),
            force=args.force,
            progress=_progress(args, "opening", args.input.stat().st_size),
            limits=envelope.ReceiveLimits(max_bytes=args.max_bytes, max_files=args.max_files),
        )
    _say(args, f"verified {args.input} ({kind} format), signed by {received.sender_key_id}")
    if kind == "seed":
        _say(args, f"  warning: {exchange.SEED_BINDS_NO_RECIPIENT}")
    for path in received.outputs:
        _say(args, f"  wrote {_shown(path)}")
    if received.evidence:
        _say(args, f"  evidence in {received.evidence[0].parent} (see VERIFY.txt there)")
    document = {**received.as_dict(), "principal": receiver.principal, **metrics.snapshot()}
    if kind == "seed":
        document["recipient_bound"] = False
        document["warning"] = exchange.SEED_BINDS_NO_RECIPIENT
    return Result(document)


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
        staged.write(targets[ENCRYPTION_KEY_PEM], encryption.pem())
        staged.write(targets[SIGNING_KEY_PEM], signing.pem())
    keys = [
        {
            "file": str(targets[ENCRYPTION_KEY_PEM]),
            "key_id": encryption.key_id,
            "key_spec": encryption.key_spec,
            "key_usage": encryption.key_usage,
        },
        {
            "file": str(targets[SIGNING_KEY_PEM]),
            "key_id": signing.key_id,
            "key_spec": signing.key_spec,
            "key_usage": signing.key_usage,
        },
    ]
    for key in keys:
        _say(args, f"wrote {key['file']}  ({key['key_id']}, {key['key_spec'] or 'spec unknown'})")
    return Result({"public_keys": keys, **metrics.snapshot()})


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
