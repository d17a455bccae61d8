"""Sender side: seal files into one envelope with 1 sign and 1 wrap.

Order of work: validate the inputs, wrap a fresh data key (1 KMS Encrypt, or 0 with a
public-key wrapper), write the header, stream every file through the payload while a second
thread hashes it, build the manifest and statement, sign the statement (1 KMS Sign), append it
as the end record, seal the final chunk, and rename the temp file into place.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import envelope.format as header_format
from envelope.errors import EnvelopeUsageError, OutputExistsError
from envelope.format import (
    DATA_KEY_SIZE,
    FORMAT_ID,
    SALT_SIZE,
    WRAPPED_KEY_SIZES,
    derive_payload_key,
    encode_header,
)
from envelope.keys import KeyWrapper, Signer
from envelope.records import SIGNATURE_MAX, SIGNATURE_MIN, encode_end_record, encode_file_record
from envelope.statement import (
    MAX_FILES,
    MAX_STATEMENT,
    Statement,
    format_created,
    key_id_problem,
    manifest_line,
    name_problem,
)
from envelope.stream import CHUNK_SIZE, EncryptWriter
from envelope.workers import Worker, write_all


@dataclass(frozen=True)
class PlainFile:
    """One input: ``path`` is read; the receiver writes it as ``name`` (a base name)."""

    path: Path
    name: str


@dataclass(frozen=True)
class SealResult:
    statement: Statement
    statement_bytes: bytes
    signature: bytes
    manifest: bytes
    envelope_size: int


def _inputs(files: Sequence[Path | PlainFile]) -> list[PlainFile]:
    if isinstance(files, str | Path | PlainFile):
        raise TypeError("files must be a sequence of paths or PlainFile, not a single item")
    if not 1 <= len(files) <= MAX_FILES:
        raise EnvelopeUsageError(f"an envelope holds 1-{MAX_FILES} files, got {len(files)}")
    result: list[PlainFile] = []
    seen: dict[str, str] = {}  # folded name -> name
    for item in files:
        plain = item if isinstance(item, PlainFile) else PlainFile(Path(item), Path(item).name)
        problem = name_problem(plain.name)
        if problem is not None:
            raise EnvelopeUsageError(f"file name {plain.name!r} {problem}")
        folded = unicodedata.normalize("NFC", plain.name).casefold()
        if folded in seen:
            if seen[folded] == plain.name:
                raise EnvelopeUsageError(f"file name {plain.name!r} appears twice")
            raise EnvelopeUsageError(
                f"file names {seen[folded]!r} and {plain.name!r} differ only in case or Unicode "
                "normalization: they would be one file on a case-insensitive file system"
            )
        seen[folded] = plain.name
        if not Path(plain.path).is_file():
            raise EnvelopeUsageError(f"input {str(plain.path)!r} is not a regular file")
        result.append(plain)
    _check_chunk_limit(sum(Path(p.path).stat().st_size for p in result), len(result))
    return result


def _check_chunk_limit(total: int, files: int) -> None:
    """The record stream must fit the format's MAX_CHUNKS chunks (docs/FORMAT.md, Limits)."""
    records = total + files * (1 + 2 + 255 + 8) + 1 + 2 + MAX_STATEMENT + 2 + SIGNATURE_MAX
    if records > header_format.MAX_CHUNKS * CHUNK_SIZE:
        raise EnvelopeUsageError(
            f"{total} bytes in {files} files exceed the format's limit of "
            f"{header_format.MAX_CHUNKS} chunks of {CHUNK_SIZE} bytes"
        )


def _stream_file(
    source: BinaryIO, size: int, writer: EncryptWriter, digest: Any, hasher: Worker
) -> None:
    remaining = size
    while remaining:
        space = writer.space()
        want = min(len(space), remaining)
        got = source.readinto(space[:want])
        if not got:
            raise EnvelopeUsageError("an input file shrank while it was being sealed")
        hasher.submit(digest.update, writer.commit(got))
        remaining -= got
    if source.read(1):
        raise EnvelopeUsageError("an input file grew while it was being sealed")


def seal(
    files: Sequence[Path | PlainFile],
    destination: Path,
    *,
    signer: Signer,
    wrapper: KeyWrapper,
    created: datetime | None = None,
) -> SealResult:
    """Sign-then-encrypt ``files`` to ``wrapper``'s key into the new file ``destination``."""
    inputs = _inputs(files)
    destination = Path(destination)
    if destination.exists():
        raise OutputExistsError(f"output {str(destination)!r} already exists")
    if not destination.parent.is_dir():
        raise EnvelopeUsageError(f"output directory {str(destination.parent)!r} does not exist")
    created_text = format_created(created)
    problem = key_id_problem(signer.key_id)
    if problem is not None:
        raise EnvelopeUsageError(f"the signing key id {problem}, got {signer.key_id!r:.80}")

    data_key = os.urandom(DATA_KEY_SIZE)
    salt = os.urandom(SALT_SIZE)
    wrapped = bytes(wrapper.wrap(data_key))
    if len(wrapped) not in WRAPPED_KEY_SIZES:
        raise EnvelopeUsageError(
            f"the key wrapper returned {len(wrapped)} bytes; RSAES_OAEP_SHA_256 with an RSA "
            f"key gives one of {WRAPPED_KEY_SIZES}"
        )
    header = encode_header(wrapper.key_id, wrapped, salt)
    payload_key = derive_payload_key(data_key, header, salt)

    fd, tmp_name = tempfile.mkstemp(prefix=".kms-envelope-", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        with (
            os.fdopen(fd, "wb", buffering=0) as out,
            Worker("envelope-sha512") as hasher,
            Worker("envelope-write") as output_writer,
        ):
            write_all(out, memoryview(header))
            writer = EncryptWriter(out, payload_key, hasher, output_writer)
            manifest = bytearray()
            total = 0
            for plain in inputs:
                with open(plain.path, "rb", buffering=0) as source:
                    info = os.fstat(source.fileno())
                    if not stat.S_ISREG(info.st_mode):
                        raise EnvelopeUsageError(f"input {str(plain.path)!r} is not a file")
                    size = info.st_size
                    writer.write(encode_file_record(plain.name, size))
                    digest = hashlib.sha512()
                    _stream_file(source, size, writer, digest, hasher)
                hasher.drain()
                manifest += manifest_line(digest.hexdigest(), plain.name)
                total += size
            statement = Statement(
                format=FORMAT_ID,
                sender=signer.key_id,
                recipient=wrapper.key_id,
                created=created_text,
                files=len(inputs),
                bytes=total,
                manifest_sha512=hashlib.sha512(manifest).hexdigest(),
            )
            statement_bytes = statement.to_json()
            if len(statement_bytes) > MAX_STATEMENT:
                raise EnvelopeUsageError(
                    f"the statement is {len(statement_bytes)} bytes; RAW signing takes at most "
                    f"{MAX_STATEMENT} (are the key ids unusually long?)"
                )
            signature = bytes(signer.sign(statement_bytes))
            if not SIGNATURE_MIN <= len(signature) <= SIGNATURE_MAX:
                raise EnvelopeUsageError(
                    f"the signer returned {len(signature)} bytes; a DER ECDSA P-521 signature "
                    f"is {SIGNATURE_MIN}-{SIGNATURE_MAX}"
                )
            writer.write(encode_end_record(statement_bytes, signature))
            writer.close()
            output_writer.drain()
            size_written = len(header) + writer.bytes_written
        try:
            os.link(tmp, destination)  # never overwrites
        except FileExistsError:
            raise OutputExistsError(f"output {str(destination)!r} already exists") from None
    finally:
        tmp.unlink(missing_ok=True)
    return SealResult(statement, statement_bytes, signature, bytes(manifest), size_written)
