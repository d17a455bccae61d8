"""`run`: the seed's whole story, each step printed as it happens, then the checks.

The parties are played by their workloads (``--sender-profile``, ``--receiver-profile``): each
assumes its own role; the caller (an administrator) only finds the stack, is refused both roles
in the checks, and reads the access matrix.

Steps (issue 5): 1 find the stack, 2 assume SenderRole, 3 write message.json, 4 sign,
5 bundle and encrypt, 6 assume ReceiverRole and decrypt, 7 verify and show, 8 least-privilege
checks, 9 summary. With the envelope format, one ``seal`` does steps 4-5 (so their time is
reported together) and one ``unseal`` decrypts and verifies in step 6; step 7 shows the result.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal, TextIO

from demo import checks
from demo.run_report import Reporter, RunReport, print_session_audit, print_summary
from kms_sign_encrypt import (
    AuthenticationError,
    AwsSession,
    CallMetrics,
    ClientSettings,
    Received,
    ResourceOptions,
    Resources,
    Sent,
    UsageError,
    access_report_from_live_policies,
    assume_role,
    discover,
    open_caller_session,
    receive_envelope,
    seed,
    seed_transfer,
    send_envelope,
    session_audit,
    staged_outputs,
)

Format = Literal["envelope", "seed"]

SAMPLE_MESSAGE = {
    "message": "The Magic Words are Squeamish Ossifrage",
    "sender": "Sender Principal",
}


def sample_message_bytes() -> bytes:
    """Valid JSON, unlike the seed's `echo` (whose inner quotes the shell eats)."""
    return (json.dumps(SAMPLE_MESSAGE, indent=2) + "\n").encode()


@dataclass(frozen=True)
class RunOptions:
    resources: ResourceOptions
    profile: str | None
    region: str | None
    settings: ClientSettings
    external_id: str | None
    format: Format
    workdir: Path | None
    force: bool
    as_json: bool
    sender_profile: str | None = None
    """The sender workload's AWS profile; None: the caller itself plays the sender."""
    receiver_profile: str | None = None
    """The receiver workload's AWS profile; None: the caller itself plays the receiver."""


def _workdir(options: RunOptions) -> Path:
    if options.workdir is None:
        return Path(tempfile.mkdtemp(prefix="kms-sign-encrypt-run-"))
    if not options.workdir.is_dir():
        raise UsageError(f"work directory {options.workdir} does not exist")
    return options.workdir


def run(options: RunOptions, stream: TextIO) -> RunReport:
    started = datetime.now(UTC)
    metrics = CallMetrics()
    out = Reporter(stream, metrics, as_json=options.as_json)
    if options.workdir is not None and not options.workdir.is_dir():
        raise UsageError(f"work directory {options.workdir} does not exist")

    with out.step("1", "Find the deployed resources") as s:
        admin = open_caller_session(
            profile=options.profile,
            region=options.region,
            settings=options.settings,
            metrics=metrics,
        )
        resources = discover(options.resources, admin)
        out.detail(s, f"from {resources.source} in region {admin.region}")
        out.detail(s, f"encryption key {resources.encryption_key} ({resources.encryption_key_arn})")
        out.detail(s, f"signing key    {resources.signing_key} ({resources.signing_key_arn})")
        workdir = _workdir(options)  # created only once there is something to do
        out.detail(s, f"work directory {workdir} (format: {options.format})")

    sender_workload = _workload(options, options.sender_profile, admin, metrics)
    receiver_workload = _workload(options, options.receiver_profile, admin, metrics)
    who = "the sender workload" if options.sender_profile else "your credentials"
    with out.step("2", f"Assume SenderRole (STS AssumeRole as {who})") as s:
        sender = assume_role(
            sender_workload,
            resources.sender_role_arn,
            party="sender",
            external_id=options.external_id,
        )
        out.detail(s, f"now {sender.principal}")

    message_path = workdir / seed.MESSAGE_MEMBER
    with out.step("3", "Write a valid message.json") as s:
        message = sample_message_bytes()
        json.loads(message)  # the point of this step: it parses
        with staged_outputs(force=options.force) as staged:
            staged.write(message_path, message)
        out.detail(s, f"{message_path} ({len(message)} bytes, valid JSON)")

    encrypted = workdir / "message.enc"
    received_dir = workdir / "received"
    received_dir.mkdir(exist_ok=True)
    parties = Parties(receiver_workload, sender, resources, options.external_id)
    if options.format == "seed":
        sent, received = _seed_steps(out, parties, message, workdir, encrypted, options)
    else:
        sent, received = _envelope_steps(out, parties, message_path, workdir, encrypted, options)
    receiver = parties.receiver
    assert receiver is not None  # steps 6 assumed it
    shown = received.signed if options.format == "seed" else received.files[0][1].read_bytes()

    checks_extra: list[tuple[str, Callable[[], bool | object]]] = []
    if options.format == "envelope":
        checks_extra.append(
            (
                "a tampered envelope is refused, nothing written",
                lambda: _open_tampered_envelope(receiver, resources, encrypted, workdir),
            )
        )
    with out.step("8", "Least-privilege checks (expectation -> outcome)") as s:
        results = checks.least_privilege_checks(
            admin=admin,
            sender=sender,
            receiver=receiver,
            resources=resources,
            signed=sent.signed,
            signature=sent.signature,
            ciphertext=sent.ciphertext_for_checks,
            extra=checks_extra,
        )
        results += checks.assume_role_checks(
            admin=admin,
            sender_workload=sender_workload,
            receiver_workload=receiver_workload,
            resources=resources,
            external_id=options.external_id,
        )
        for result in results:
            out.detail(s, result.line())

    matrix = None
    with out.step("9", "Summary") as s:
        try:
            matrix = access_report_from_live_policies(admin, resources)
        except UsageError as exc:  # a matrix that cannot be built is reported, not fatal
            out.detail(s, f"access matrix unavailable: {exc}")
    report = RunReport(
        workdir=workdir,
        format=options.format,
        steps=out.steps,
        checks=results,
        metrics=metrics.snapshot(),
        bytes_in=sent.bytes_in,
        bytes_out=sent.bytes_out,
        message=shown.decode("utf-8", "replace"),
        matrix=matrix,
    )
    print_summary(out, report)
    report.audit, problem = session_audit(admin, resources, started, [sender, receiver])
    print_session_audit(out.say, report.audit, problem)
    return report


def _workload(
    options: RunOptions, profile: str | None, admin: AwsSession, metrics: CallMetrics
) -> AwsSession:
    """The session a party's workload runs with: its own profile, else the caller's."""
    if profile is None:
        return admin
    return open_caller_session(
        profile=profile, region=admin.region, settings=options.settings, metrics=metrics
    )


@dataclass
class Parties:
    receiver_workload: AwsSession
    sender: AwsSession
    resources: Resources
    external_id: str | None
    receiver: AwsSession | None = None

    def assume_receiver(self) -> AwsSession:
        self.receiver = assume_role(
            self.receiver_workload,
            self.resources.receiver_role_arn,
            party="receiver",
            external_id=self.external_id,
        )
        return self.receiver


RECEIVER_STEP = "Assume ReceiverRole; decrypt and extract safely"


def _seed_steps(
    out: Reporter,
    parties: Parties,
    message: bytes,
    workdir: Path,
    encrypted: Path,
    options: RunOptions,
) -> tuple[Sent, Received]:
    """Steps 4-7 in the seed format: every step is its own KMS call, as in the blog post."""
    sender, resources = parties.sender, parties.resources
    signature_path = workdir / seed.SIGNATURE_MEMBER
    with out.step("4", "Sign message.json as SenderRole (ECDSA_SHA_512, RAW)") as s:
        signature = seed_transfer.sign_message(sender, resources, message)
        with staged_outputs(force=options.force) as staged:
            staged.write(signature_path, signature)
        out.detail(s, f"{signature_path} ({len(signature)}-byte DER signature)")
    with out.step("5", "Bundle as tar.gz and encrypt (RSAES_OAEP_SHA_256, seed format)") as s:
        archive, ciphertext = seed_transfer.bundle_and_encrypt(
            sender, resources, message, signature
        )
        out.detail(
            s,
            f"tar.gz of message.sig + message.json: {len(archive)} of at most "
            f"{seed.SEED_PLAINTEXT_LIMIT} bytes",
        )
        with staged_outputs(force=options.force) as staged:
            staged.write(encrypted, ciphertext)
        out.detail(s, f"{encrypted} ({len(ciphertext)} bytes)")
    with out.step("6", RECEIVER_STEP) as s:
        receiver = parties.assume_receiver()
        out.detail(s, f"now {receiver.principal}")
        bundle = seed_transfer.decrypt_and_unbundle(receiver, resources, encrypted.read_bytes())
        out.detail(
            s,
            f"decrypted the {len(ciphertext)}-byte ciphertext; its tar.gz holds exactly "
            "message.json and message.sig, regular files within their caps, read in memory "
            "(nothing extracted yet)",
        )
    received_dir = workdir / "received"
    with out.step("7", "Verify with KMS Verify, then show the message") as s:
        seed_transfer.verify_bundle(receiver, resources, bundle)
        out.detail(s, "SignatureValid: true")
        outputs = seed_transfer.write_verified(received_dir, bundle, force=options.force)
        out.detail(s, f"wrote {outputs[0]} and {outputs[1].name} only after verifying")
        for line in bundle.message.decode("utf-8", "replace").splitlines():
            out.detail(s, f"| {line}")
    sent = seed_transfer.sent(
        workdir / seed.MESSAGE_MEMBER, encrypted, message, signature, ciphertext
    )
    received = seed_transfer.received(resources, encrypted, received_dir, ciphertext, bundle)
    return sent, received


def _envelope_steps(
    out: Reporter,
    parties: Parties,
    message_path: Path,
    workdir: Path,
    encrypted: Path,
    options: RunOptions,
) -> tuple[Sent, Received]:
    """Steps 4-7 in the envelope format: one seal (Sign + Encrypt), one unseal."""
    resources = parties.resources
    with out.step("4-5", "Sign and encrypt as SenderRole (envelope: 1 Sign + 1 Encrypt)") as s:
        sent = send_envelope(
            parties.sender, resources, [message_path], encrypted, force=options.force
        )
        out.detail(
            s,
            f"signed a {len(sent.signed)}-byte statement naming the file's SHA-512, the sender "
            f"key and the recipient key ({len(sent.signature)}-byte ECDSA_SHA_512 signature)",
        )
        out.detail(
            s,
            f"{encrypted} ({sent.bytes_out} bytes; data key wrapped with RSAES_OAEP_SHA_256, "
            "content in AES-256-GCM chunks)",
        )
    evidence_dir = _unused(workdir / "evidence")  # a rerun with --force keeps the old evidence
    with out.step(
        "6", "Assume ReceiverRole; decrypt and verify (envelope: 1 Decrypt + 1 Verify)"
    ) as s:
        receiver = parties.assume_receiver()
        out.detail(s, f"now {receiver.principal}")
        received = receive_envelope(
            receiver,
            resources,
            encrypted,
            workdir / "received",
            evidence_dir=evidence_dir,
            force=options.force,
        )
        out.detail(
            s,
            "every chunk authenticated and the statement verified (it names this recipient "
            "key) before anything was written",
        )
    with out.step("7", "Show the verified message and the evidence") as s:
        for _name, path, size in received.files:
            out.detail(s, f"{path} ({size} bytes)")
        for line in received.files[0][1].read_bytes().decode("utf-8", "replace").splitlines():
            out.detail(s, f"| {line}")
        if received.evidence:
            out.detail(s, f"evidence for third parties: {evidence_dir} (see VERIFY.txt)")
    return sent, received


def _unused(path: Path) -> Path:
    """``path``, or ``path-2``, ``path-3``, ...: the first that does not exist yet."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}-{number}")
    return candidate


def _open_tampered_envelope(
    receiver: AwsSession, resources: Resources, encrypted: Path, workdir: Path
) -> object:
    tampered = workdir / "tampered.enc"
    data = bytearray(encrypted.read_bytes())
    data[-20] ^= 0x01  # inside the last chunk
    tampered.write_bytes(bytes(data))
    target = workdir / "tampered-out"
    target.mkdir(exist_ok=True)
    try:
        receive_envelope(receiver, resources, tampered, target, evidence_dir=None)
    except AuthenticationError:
        if any(target.iterdir()):
            return "WROTE OUTPUT"
        raise
    finally:
        tampered.unlink(missing_ok=True)
    return "ACCEPTED"
