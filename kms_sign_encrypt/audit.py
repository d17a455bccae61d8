"""`audit`: who signed, verified, encrypted and decrypted with the deployment's keys, and when.

The answer comes from CloudTrail ``LookupEvents`` (management events, kept 90 days), one lookup
per key (``ResourceName`` = the key ARN), every page, with the thin layer's retries. The same
code runs on AWS and on the local endpoint, which records its own trail. On AWS an event
reaches LookupEvents some minutes after the call (CloudTrail User Guide: "typically within 5
minutes", up to 15), so an audit right after a call may not show it yet.

Each entry: time, caller (the role session ARN and, if the session set one, its source
identity), the key and its generation, the algorithm, the outcome (``allowed`` or CloudTrail's
``errorCode``, e.g. ``AccessDenied``), and the request ID that KMS returned to the caller.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from kms_sign_encrypt.aws import (
    AwsSession,
    translated,
)
from kms_sign_encrypt.errors import UsageError
from kms_sign_encrypt.stack import Resources

CRYPTO_EVENTS = ("Sign", "Verify", "Encrypt", "Decrypt", "GetPublicKey")
DEFAULT_WINDOW = timedelta(hours=24)
LOOKBACK_LIMIT = timedelta(days=90)  # CloudTrail event history
_RELATIVE = re.compile(r"^(\d+)([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclass(frozen=True)
class AuditEntry:
    """One cryptographic call on one of the deployment's keys, as CloudTrail recorded it."""

    time: datetime
    operation: str
    caller: str
    source_identity: str | None
    key_arn: str
    generation: str
    algorithm: str | None
    outcome: str  # "allowed", or CloudTrail's errorCode
    error_message: str | None
    request_id: str | None
    event_id: str
    access_key_id: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "time": iso_time(self.time),
            "operation": self.operation,
            "caller": self.caller,
            "source_identity": self.source_identity,
            "key_arn": self.key_arn,
            "generation": self.generation,
            "algorithm": self.algorithm,
            "outcome": self.outcome,
            "error_message": self.error_message,
            "request_id": self.request_id,
            "event_id": self.event_id,
        }

    def line(self) -> str:
        who = self.caller + (
            f" (source identity {self.source_identity})" if self.source_identity else ""
        )
        return (
            f"{iso_time(self.time)}  {self.operation:<12} {self.outcome:<28} {self.generation:<22} "
            f"{self.algorithm or '-':<19} {who}"
        )


def iso_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str, option: str, *, now: datetime | None = None) -> datetime:
    """An ISO 8601 time (``2026-12-01T09:00:00Z``; no zone means UTC) or an age (``15m``,
    ``2h``, ``7d``: that long before now)."""
    now = now or datetime.now(UTC)
    relative = _RELATIVE.match(text.strip())
    if relative:
        amount, unit = relative.groups()
        return now - timedelta(**{_UNITS[unit]: int(amount)})
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a time: give ISO 8601 like 2026-12-01T09:00:00Z, or an "
            "age like 15m, 2h or 7d"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def key_generations(resources: Resources) -> dict[str, str]:
    """Each key ARN of the deployment and the generation it is: ``signing 2027 (current)``,
    ``encryption 2026 (retired)``; ``encryption (current)`` for a key without generation
    outputs (the default single generation)."""
    labels = {}
    for purpose, arn, generations in (
        ("encryption", resources.encryption_key_arn, resources.encryption_generations),
        ("signing", resources.signing_key_arn, resources.signing_generations),
    ):
        if not generations and arn:
            labels[arn] = f"{purpose} (current)"
        for generation in generations:
            if generation.arn is None:
                continue  # deleted: out of the stack (look it up by ARN with --key if kept)
            current = generation is generations[-1]
            state = " (current)" if current else f" ({generation.state})"
            labels[generation.arn] = f"{purpose} {generation.name}{state}"
    return labels


def lookup(
    session: AwsSession,
    keys: Mapping[str, str],
    *,
    since: datetime,
    until: datetime | None = None,
    access_keys: Iterable[str] | None = None,
) -> list[AuditEntry]:
    """The cryptographic calls on ``keys`` (ARN -> generation) between ``since`` and ``until``,
    oldest first; with ``access_keys``, only those made with them (one party's sessions)."""
    if until is not None and since > until:
        raise UsageError(
            f"the start {iso_time(since)} is after the end {iso_time(until)}", setting="window"
        )
    wanted = set(access_keys) if access_keys is not None else None
    client = session.client("cloudtrail")
    entries: dict[str, AuditEntry] = {}
    order: dict[str, int] = {}
    for key_arn, generation in keys.items():
        request: dict[str, Any] = {
            "LookupAttributes": [{"AttributeKey": "ResourceName", "AttributeValue": key_arn}],
            "StartTime": since,
        }
        if until is not None:
            request["EndTime"] = until
        with translated(session, "cloudtrail:LookupEvents", key_arn):
            for page in client.get_paginator("lookup_events").paginate(**request):
                for event in page.get("Events", []):
                    entry = _entry(event, key_arn, generation)
                    if entry is None or (wanted is not None and entry.access_key_id not in wanted):
                        continue
                    entries[entry.event_id] = entry
                    order[entry.event_id] = -len(order)  # pages come newest first
    # Oldest first; within one second (CloudTrail's resolution), in the order CloudTrail gave.
    return sorted(entries.values(), key=lambda e: (e.time, order[e.event_id]))


def _entry(event: Mapping[str, Any], key_arn: str, generation: str) -> AuditEntry | None:
    if event.get("EventName") not in CRYPTO_EVENTS:
        return None
    try:
        record = json.loads(event.get("CloudTrailEvent") or "{}")
    except ValueError:
        record = {}
    identity = record.get("userIdentity") or {}
    parameters = record.get("requestParameters") or {}
    context = identity.get("sessionContext") or {}
    moment = event.get("EventTime")
    if not isinstance(moment, datetime):
        moment = datetime.fromisoformat(str(record.get("eventTime", "")).replace("Z", "+00:00"))
    return AuditEntry(
        time=moment,
        operation=str(event["EventName"]),
        caller=str(identity.get("arn") or event.get("Username") or "unknown"),
        source_identity=context.get("sourceIdentity"),
        key_arn=key_arn,
        generation=generation,
        algorithm=parameters.get("signingAlgorithm") or parameters.get("encryptionAlgorithm"),
        outcome=str(record.get("errorCode") or "allowed"),
        error_message=record.get("errorMessage"),
        request_id=record.get("requestID"),
        event_id=str(event.get("EventId") or record.get("eventID")),
        access_key_id=event.get("AccessKeyId") or identity.get("accessKeyId"),
    )


def table(entries: Sequence[AuditEntry]) -> list[str]:
    header = (
        f"{'time':<20}  {'operation':<12} {'outcome':<28} {'key generation':<22} "
        f"{'algorithm':<19} caller"
    )
    return [header, *(entry.line() for entry in entries)] if entries else ["(no calls recorded)"]


def session_access_key(session: AwsSession) -> str | None:
    credentials = session.session.get_credentials()
    return credentials.access_key if credentials is not None else None


def with_key_arns(session: AwsSession, resources: Resources) -> Resources:
    """Key ARNs for keys given as aliases (DescribeKey: the trail names keys by ARN)."""
    from dataclasses import replace

    found = {}
    for field_name, reference in (
        ("encryption_key_arn", resources.encryption_key),
        ("signing_key_arn", resources.signing_key),
    ):
        if getattr(resources, field_name) is None:
            with translated(session, "kms:DescribeKey", reference):
                metadata = session.client("kms").describe_key(KeyId=reference)["KeyMetadata"]
            found[field_name] = metadata["Arn"]
    return replace(resources, **found)


# -- the end of `run` ---------------------------------------------------------------------


def session_audit(
    admin: AwsSession, resources: Resources, since: datetime, sessions: Sequence[AwsSession]
) -> tuple[list[AuditEntry] | None, str | None]:
    """The calls this run's own role sessions made on the keys, or why they cannot be listed."""
    from kms_sign_encrypt.errors import KmsSignEncryptError

    access_keys = [key for key in map(session_access_key, sessions) if key]
    try:
        keys = key_generations(with_key_arns(admin, resources))
        return lookup(
            admin, keys, since=since - timedelta(seconds=1), access_keys=access_keys
        ), None
    except KmsSignEncryptError as exc:
        return None, str(exc)


# -- evidence that can be matched with the trail ---------------------------------------------

TRAIL_EVIDENCE_FILE = "kms-trail.json"
RECEIVER_OPERATIONS = ("Decrypt", "Verify", "GetPublicKey")
SIGN_WINDOW = timedelta(minutes=15)  # around the statement's "created", for the Sign lookup


def trail_evidence(
    statement_bytes: bytes, sender_key: str, created: str, receiver_requests: Sequence[dict]
) -> dict[str, Any]:
    """What ties received evidence to CloudTrail: the statement's hash and time, the Sign
    lookup that finds the sender's call, and the request IDs of the receiver's own KMS calls."""
    import hashlib

    moment = parse_time(created, "created")
    return {
        "statement_sha512": hashlib.sha512(statement_bytes).hexdigest(),
        "statement_created": created,
        "sender_key": sender_key,
        "find_the_sign_event": {
            "how": "CloudTrail LookupEvents with ResourceName = sender_key between start and end; "
            "keep eventName Sign by the sender's role session (the audit command, given "
            "statement.json, does this); if the sender kept its Sign request ID (the send "
            "result's kms_requests), it equals the event's requestID",
            "aws_cli": (
                "aws cloudtrail lookup-events --lookup-attributes "
                f"AttributeKey=ResourceName,AttributeValue={sender_key} "
                f"--start-time {iso_time(moment - SIGN_WINDOW)} "
                f"--end-time {iso_time(moment + SIGN_WINDOW)}"
            ),
            "start": iso_time(moment - SIGN_WINDOW),
            "end": iso_time(moment + SIGN_WINDOW),
        },
        "receiver_kms_requests": [
            dict(r)
            for r in receiver_requests
            # Verify, or GetPublicKey when the receiver verified locally with the cached key
            if r.get("operation") in RECEIVER_OPERATIONS and r.get("status") == 200
        ],
    }


def write_trail_evidence(evidence_dir: Path, document: Mapping[str, Any]) -> Path:
    """Create ``evidence_dir/kms-trail.json`` new (never over a received file of that name)."""
    import os

    from envelope.evidence import FILE_MODE  # as private as the rest of the evidence

    path = evidence_dir / TRAIL_EVIDENCE_FILE
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        raise UsageError(
            f"a received file is named {TRAIL_EVIDENCE_FILE}, the name of the trail evidence: "
            "receive without evidence and keep it by hand",
            setting="evidence_dir",
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(document, out, indent=2, sort_keys=True)
        out.write("\n")
    return path


def sign_events_for(session: AwsSession, statement: Mapping[str, Any]) -> list[AuditEntry]:
    """The Sign calls on the statement's sender key within SIGN_WINDOW of its ``created``."""
    sender, created = statement.get("sender"), statement.get("created")
    if not isinstance(sender, str) or not isinstance(created, str):
        raise UsageError("the statement has no sender key or created time: is it statement.json?")
    moment = parse_time(created, "the statement's created")
    entries = lookup(
        session, {sender: "signing"}, since=moment - SIGN_WINDOW, until=moment + SIGN_WINDOW
    )
    return [e for e in entries if e.operation == "Sign"]
