"""A small reader of kms-envelope/v2 written only from docs/FORMAT.md.

It does not import ``envelope``: it exists to show the spec is precise enough for a second
implementation. It reads the whole input into memory, so it is for test vectors only.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from datetime import datetime

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

MAGIC = b"kms-envelope/v2\n"
INFO = b"kms-envelope/v2 payload key"
MAX_RECIPIENTS = 16
ARN = (
    r"arn:aws(-[a-z]{1,16}){0,3}:kms:[a-z]{2}(-[a-z]{1,16}){1,4}-[0-9]{1,2}:[0-9]{12}:key/"
    r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
)
KEY_ID = re.compile(rf"{ARN}|sha256:[0-9a-f]{{64}}")
CHUNK = 65536
SEALED = CHUNK + 16
STATEMENT_KEYS = {"format", "sender", "recipients", "created", "files", "bytes", "manifest_sha512"}


class RejectedError(Exception):
    """``kind`` is one of: not an envelope, unsupported version, header failure, wrong
    recipient, authentication failure."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


@dataclass
class Opened:
    statement: dict
    statement_bytes: bytes
    signature: bytes
    files: list[tuple[str, bytes]]
    manifest: bytes


class _Cursor:
    def __init__(self, data: bytes, failure: str) -> None:
        self.data, self.pos, self.failure = data, 0, failure

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise RejectedError(self.failure)
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "big")

    def u64(self) -> int:
        return int.from_bytes(self.take(8), "big")


def _valid_name(raw: bytes) -> str | None:
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if name in (".", "..", "-") or any(c in "/\\" or ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return None
    return name


MAX_CHUNKS = 2**32  # FORMAT.md, "Limits": far inside AES-GCM's bound under one key


def read(
    data: bytes,
    *,
    recipient_arn,
    rsa_private_key,
    sender_arn=None,
    sender_public_key=None,
    trusted_senders=None,
) -> Opened:
    """``recipient_arn`` is the reader's key id (an ARN or a sha256: fingerprint);
    the trusted senders are ``trusted_senders`` ({key id: public key}) or the one pair
    ``sender_arn``/``sender_public_key``."""
    trusted = dict(trusted_senders or {})
    if sender_arn is not None:
        trusted[sender_arn] = sender_public_key
    if data.startswith(b"kms-envelope/v1\n"):
        raise RejectedError("unsupported version")  # FORMAT.md, "Version 1": refused
    if not data.startswith(MAGIC):
        raise RejectedError("not an envelope")
    header = _Cursor(data, "header failure")
    header.take(16)
    entries: list[tuple[str, bytes]] = []
    while True:
        key_id_len = header.u16()
        if key_id_len == 0 and entries:
            break
        if not 1 <= key_id_len <= 512 or len(entries) == MAX_RECIPIENTS:
            raise RejectedError("header failure")
        raw_id = header.take(key_id_len)
        if any(b < 0x21 or b > 0x7E for b in raw_id):
            raise RejectedError("header failure")
        key_id = raw_id.decode("ascii")
        wrapped_len = header.u16()
        if wrapped_len not in (256, 384, 512):
            raise RejectedError("header failure")
        wrapped = header.take(wrapped_len)
        if not KEY_ID.fullmatch(key_id) or (entries and key_id <= entries[-1][0]):
            raise RejectedError("header failure")
        entries.append((key_id, wrapped))
    salt = header.take(32)
    header_bytes = data[: header.pos]
    header_ids = [key_id for key_id, _ in entries]
    if recipient_arn not in header_ids:
        raise RejectedError("wrong recipient")
    wrapped = dict(entries)[recipient_arn]

    try:
        data_key = rsa_private_key.decrypt(
            wrapped,
            padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None),
        )
    except ValueError:
        raise RejectedError("authentication failure") from None
    if len(data_key) != 32:
        raise RejectedError("authentication failure")
    key = HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=salt,
        info=INFO + hashlib.sha256(header_bytes).digest(),
    ).derive(data_key)

    payload = data[header.pos :]
    pieces = [payload[i : i + SEALED] for i in range(0, len(payload), SEALED)]
    if not pieces or len(pieces[-1]) < 17 or len(pieces) > MAX_CHUNKS:
        raise RejectedError("authentication failure")
    aead = AESGCM(key)
    plain = bytearray()
    for i, piece in enumerate(pieces):
        nonce = i.to_bytes(11, "big") + (b"\x01" if i == len(pieces) - 1 else b"\x00")
        try:
            plain += aead.decrypt(nonce, piece, None)
        except InvalidTag:
            raise RejectedError("authentication failure") from None

    records = _Cursor(bytes(plain), "authentication failure")
    files: list[tuple[str, bytes]] = []
    while True:
        kind = records.take(1)[0]
        if kind == 0x01:
            name_len = records.u16()
            if not 1 <= name_len <= 255:
                raise RejectedError("authentication failure")
            name = _valid_name(records.take(name_len))
            if name is None or name in {n for n, _ in files} or len(files) == 10000:
                raise RejectedError("authentication failure")
            files.append((name, records.take(records.u64())))
        elif kind == 0x00 and files:
            statement_len = records.u16()
            if not 1 <= statement_len <= 4096:
                raise RejectedError("authentication failure")
            statement_bytes = records.take(statement_len)
            signature_len = records.u16()
            if not 8 <= signature_len <= 139:
                raise RejectedError("authentication failure")
            signature = records.take(signature_len)
            break
        else:
            raise RejectedError("authentication failure")
    if records.pos != len(records.data):
        raise RejectedError("authentication failure")

    manifest = b"".join(
        f"{hashlib.sha512(body).hexdigest()}  {name}\n".encode() for name, body in files
    )
    statement = _parse_statement(statement_bytes)
    if (
        statement["format"] != "kms-envelope/v2"
        or recipient_arn not in statement["recipients"]
        or statement["recipients"] != header_ids
        or statement["sender"] not in trusted
        or statement["files"] != len(files)
        or statement["bytes"] != sum(len(body) for _, body in files)
        or statement["manifest_sha512"] != hashlib.sha512(manifest).hexdigest()
    ):
        raise RejectedError("authentication failure")
    try:
        trusted[statement["sender"]].verify(signature, statement_bytes, ec.ECDSA(hashes.SHA512()))
    except InvalidSignature:
        raise RejectedError("authentication failure") from None
    return Opened(statement, statement_bytes, signature, files, manifest)


def _no_duplicates(pairs):
    if len({k for k, _ in pairs}) != len(pairs):
        raise ValueError("duplicate member")
    return dict(pairs)


def _json_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _canonical(statement: dict) -> bytes:
    """The one byte form FORMAT.md allows, built from the values with no JSON library."""
    lines = [
        f'  "bytes": {statement["bytes"]},',
        f'  "created": {_json_string(statement["created"])},',
        f'  "files": {statement["files"]},',
        f'  "format": {_json_string(statement["format"])},',
        f'  "manifest_sha512": {_json_string(statement["manifest_sha512"])},',
        '  "recipients": [',
        ",\n".join(f"    {_json_string(r)}" for r in statement["recipients"]),
        "  ],",
        f'  "sender": {_json_string(statement["sender"])}',
    ]
    return ("{\n" + "\n".join(lines) + "\n}\n").encode("ascii")


def _parse_statement(raw: bytes) -> dict:
    try:
        statement = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError):  # nesting: attacker bytes
        raise RejectedError("authentication failure") from None
    if not isinstance(statement, dict) or set(statement) != STATEMENT_KEYS:
        raise RejectedError("authentication failure")
    strings = ("format", "sender", "created", "manifest_sha512")
    if not all(isinstance(statement[k], str) for k in strings):
        raise RejectedError("authentication failure")
    if not all(type(statement[k]) is int and statement[k] >= 0 for k in ("files", "bytes")):
        raise RejectedError("authentication failure")
    if statement["files"] > 10_000 or statement["bytes"] > 2**64 - 1:
        raise RejectedError("authentication failure")
    created = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"
    if not re.fullmatch(created, statement["created"]):
        raise RejectedError("authentication failure")
    try:
        datetime.strptime(statement["created"], "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise RejectedError("authentication failure") from None
    if not re.fullmatch(r"[0-9a-f]{128}", statement["manifest_sha512"]):
        raise RejectedError("authentication failure")
    recipients = statement["recipients"]
    if (
        not isinstance(recipients, list)
        or not 1 <= len(recipients) <= MAX_RECIPIENTS
        or not all(isinstance(r, str) and KEY_ID.fullmatch(r) for r in recipients)
        or any(a >= b for a, b in itertools.pairwise(recipients))
        or not KEY_ID.fullmatch(statement["sender"])
    ):
        raise RejectedError("authentication failure")
    if _canonical(statement) != raw:
        raise RejectedError("authentication failure")
    return statement
