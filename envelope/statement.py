"""The signed statement and the manifest it covers (docs/FORMAT.md, "Statement").

The statement is small, human-readable JSON that the sender signs RAW with ECDSA_SHA_512. It
names both keys (recipient binding) and the SHA-512 of the manifest, a ``sha512sum``-format
list of the files, so any number of files costs one signature and a third party checks it all
with ``openssl dgst -sha512 -verify`` and ``sha512sum -c``.
"""

from __future__ import annotations

import itertools
import json
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from envelope import key_ids
from envelope.errors import EnvelopeAuthenticationError, EnvelopeUsageError
from envelope.keys import MAX_SIGNED_MESSAGE

MAX_STATEMENT = MAX_SIGNED_MESSAGE  # 4096: KMS Sign RAW limit
STATEMENT_KEYS = frozenset(
    {"format", "sender", "recipients", "created", "files", "bytes", "manifest_sha512"}
)
MAX_RECIPIENTS = 16  # envelope.format.MAX_RECIPIENTS (kept here too: no import cycle)
NAME_MAX = 255
MAX_FILES = 10_000
_CREATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")  # not \d: Unicode
CREATED_FORMAT = "%Y-%m-%dT%H:%M:%SZ"  # after _CREATED matched: a date and time that exist
_KEY_ID = re.compile(r"[\x21-\x7e]{1,512}")  # printable ASCII without spaces, as in the header
_SHA512_HEX = re.compile(r"[0-9a-f]{128}")
# Every statement starts with these 12 bytes (the canonical form). The seed format's sender
# refuses to sign, and its reader refuses to accept, a message.json that starts with them, so
# a signature over a statement never counts as a seed message and no seed message is ever a
# statement (docs/SECURITY.md, "One signing key, two formats").
STATEMENT_PREFIX = b'{\n  "bytes": '
_FORBIDDEN_NAME_CHARS = frozenset("/\\") | {chr(c) for c in range(0x20)} | {"\x7f"}


@dataclass(frozen=True)
class Statement:
    """What the sender signs, RAW, with ECDSA_SHA_512 (at most 4096 bytes as JSON)."""

    format: str
    sender: str  # the sender's signing key id (ARN or sha256: fingerprint)
    recipients: tuple[str, ...]  # every recipient key id, ascending, unique (the header's)
    created: str  # RFC 3339 UTC, seconds precision, e.g. "2026-11-28T22:00:00Z"
    files: int
    bytes: int  # total plaintext bytes over all files
    manifest_sha512: str  # lowercase hex SHA-512 of the manifest (sha512sum -c format)

    def to_json(self) -> bytes:
        """Sorted keys, two-space indent, ASCII only, one trailing newline."""
        values = asdict(self)
        values["recipients"] = list(self.recipients)
        text = json.dumps(values, sort_keys=True, indent=2, ensure_ascii=True)
        return (text + "\n").encode("ascii")


def key_id_problem(key_id: object) -> str | None:
    """Why ``key_id`` cannot name a key in a statement, or None if it can: a KMS key ARN or a
    ``sha256:`` fingerprint, strictly (envelope.key_ids)."""
    if not isinstance(key_id, str) or not _KEY_ID.fullmatch(key_id):
        return "must be 1-512 characters of printable ASCII without spaces (a key ARN)"
    return key_ids.key_id_problem(key_id)


def recipients_problem(recipients: object) -> str | None:
    """Why ``recipients`` cannot be a statement's recipient list, or None if it can."""
    if not isinstance(recipients, tuple) or not 1 <= len(recipients) <= MAX_RECIPIENTS:
        return f"must be 1-{MAX_RECIPIENTS} key ids"
    for key_id in recipients:
        if key_id_problem(key_id) is not None:
            return key_id_problem(key_id)
    if any(a >= b for a, b in itertools.pairwise(recipients)):
        return "must be unique and in ascending order"
    return None


def format_created(moment: datetime | None) -> str:
    moment = datetime.now(UTC) if moment is None else moment
    if moment.tzinfo is None:
        raise EnvelopeUsageError("created must be timezone-aware (e.g. datetime.now(UTC))")
    return moment.astimezone(UTC).strftime(CREATED_FORMAT)


def name_problem(name: object) -> str | None:
    """Why ``name`` cannot be a file name in an envelope, or None if it can."""
    if not isinstance(name, str):
        return f"must be a str, got {type(name).__name__}"
    try:
        encoded = name.encode("utf-8")
    except UnicodeEncodeError:
        return "must be valid UTF-8"
    if not 1 <= len(encoded) <= NAME_MAX:
        return f"must be 1-{NAME_MAX} bytes of UTF-8, got {len(encoded)}"
    if name in {".", "..", "-"}:
        return f"must not be {name!r}"
    if any(c in _FORBIDDEN_NAME_CHARS for c in name):
        return "must be a base name without '/', '\\' or control characters"
    return None


def is_statement_like(message: bytes) -> bool:
    """True if ``message`` starts like an envelope statement: never valid as a seed message."""
    return bytes(message[: len(STATEMENT_PREFIX)]) == STATEMENT_PREFIX


def manifest_line(sha512_hex: str, name: str) -> bytes:
    """One line in ``sha512sum`` format: hex digest, two spaces, name, newline."""
    return f"{sha512_hex}  {name}\n".encode()


# The bounded reader. The canonical form is one fixed template, so the statement is read by
# matching that template, not by a general JSON parser: no recursion, no number longer than
# 20 digits, no escape but \\" and \\\\, no member name but the seven, each once, in order. A
# general parser faced attacker bytes here (anyone can encrypt to the reader) and crashed
# on deep nesting (RecursionError); this one has nothing that grows with the input.
U64_MAX = (1 << 64) - 1
_STRING = r'"((?:[\x21\x23-\x5b\x5d-\x7e]|\\["\\]){1,512})"'
_INTEGER = r"(0|[1-9][0-9]{0,19})"
_CANONICAL = re.compile(
    (
        r"\{\n"
        rf'  "bytes": {_INTEGER},\n'
        rf'  "created": {_STRING},\n'
        rf'  "files": {_INTEGER},\n'
        rf'  "format": {_STRING},\n'
        rf'  "manifest_sha512": {_STRING},\n'
        r'  "recipients": \[\n((?:    "[\x21\x23-\x5b\x5d-\x7e]{1,512}",\n){0,15}'
        r'    "[\x21\x23-\x5b\x5d-\x7e]{1,512}"\n)  \],\n'
        rf'  "sender": {_STRING}\n'
        r"\}\n"
    ).encode("ascii")
)
_ESCAPE = re.compile(rb'\\(["\\])')


def _unescape(raw: bytes) -> str:
    return _ESCAPE.sub(rb"\1", raw).decode("ascii")


def parse_statement(data: bytes) -> Statement:
    """Parse strictly; any deviation is tampering (the statement is inside the encryption).

    The bytes must be exactly the canonical form ``Statement.to_json`` writes: with one
    byte string per meaning, what a judge reads in the evidence is what the reader checked,
    whatever JSON parser the judge uses. Bounded: the input is at most ``MAX_STATEMENT``
    bytes and is matched against the fixed template in one linear pass; any input, however
    hostile, gives a ``Statement`` or ``EnvelopeAuthenticationError`` and nothing else.
    """
    if not isinstance(data, bytes | bytearray) or not 0 < len(data) <= MAX_STATEMENT:
        raise EnvelopeAuthenticationError()
    match = _CANONICAL.fullmatch(bytes(data))
    if match is None:
        raise EnvelopeAuthenticationError()
    size, created, files, format_id, manifest, recipients, sender = match.groups()
    values = {
        "bytes": int(size),  # at most 20 ASCII digits (the pattern)
        "created": _unescape(created),
        "files": int(files),
        "format": _unescape(format_id),
        "manifest_sha512": _unescape(manifest),
        "recipients": tuple(
            line.strip().rstrip(b",").strip(b'"').decode("ascii")
            for line in recipients.splitlines()
        ),
        "sender": _unescape(sender),
    }
    if values["bytes"] > U64_MAX or values["files"] > MAX_FILES:
        raise EnvelopeAuthenticationError()
    if not _CREATED.fullmatch(values["created"]) or not _SHA512_HEX.fullmatch(
        values["manifest_sha512"]
    ):
        raise EnvelopeAuthenticationError()
    try:
        datetime.strptime(values["created"], CREATED_FORMAT)  # a real time: ValueError if not
    except ValueError:
        raise EnvelopeAuthenticationError() from None
    recipient_ids = values["recipients"]
    if key_id_problem(values["sender"]) or recipients_problem(recipient_ids):
        raise EnvelopeAuthenticationError()
    statement = Statement(**values)
    if statement.to_json() != data:  # belt and braces: the template is the canonical form
        raise EnvelopeAuthenticationError()
    return statement
