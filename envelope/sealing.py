"""Sender side: seal files into one envelope with 1 sign and 1 wrap.

Order of work: validate the inputs; start wrapping a fresh data key at once in a background
thread (1 KMS Encrypt, or 0 with a public-key wrapper: it does not depend on the content);
hash the files, build the manifest and statement and sign it (1 KMS Sign); write the header
once the wrap is back; stream every file through the payload; append the end record, seal
the final chunk, and link the temp file into place.

Small inputs (at most ``SMALL_INPUT`` bytes in all) are read into memory and hashed first, so
Sign runs while Encrypt is still in flight: a small send costs one KMS round trip, not two.
Larger inputs are hashed while they stream (the header, hence the wrap, comes first) and
signed at the end; there the wrap still overlaps opening the files and the streaming is what
takes the time.
"""

from __future__ import annotations

import hashlib
import os
import stat
import tempfile
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, BinaryIO

import envelope.format as header_format
from envelope.errors import (
    DuplicateRecipientError,
    EnvelopeUsageError,
    NoRecipientsError,
    OutputExistsError,
    TooManyRecipientsError,
)
from envelope.format import (
    DATA_KEY_SIZE,
    FORMAT_ID,
    MAX_RECIPIENTS,
    SALT_SIZE,
    WRAPPED_KEY_SIZES,
    derive_payload_key,
    encode_recipients_header,
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
from envelope.stream import CHUNK_SIZE, CHUNKS_PER_BATCH, EncryptWriter
from envelope.workers import Worker, write_all

SMALL_INPUT = 1 << 20
"""Inputs up to this total size are read into memory and signed before the wrap returns."""


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


def _open_regular(path: Path) -> tuple[BinaryIO, int]:
    source = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the caller
    info = os.fstat(source.fileno())
    if not stat.S_ISREG(info.st_mode):
        source.close()
        raise EnvelopeUsageError(f"input {str(path)!r} is not a file")
    return source, info.st_size


def _read_small(inputs: Sequence[PlainFile]) -> list[bytes]:
    """Every input's bytes (the caller checked they are small), each read exactly once."""
    contents = []
    for plain in inputs:
        source, size = _open_regular(plain.path)
        with source:
            data = bytearray(size)
            if _read_exactly(source, memoryview(data)) != size:
                raise EnvelopeUsageError("an input file shrank while it was being sealed")
            if source.read(1):
                raise EnvelopeUsageError("an input file grew while it was being sealed")
        contents.append(bytes(data))
    return contents


def _read_exactly(source: BinaryIO, view: memoryview) -> int:
    total = 0
    while total < len(view):
        got = source.readinto(view[total:])
        if not got:
            break
        total += got
    return total


def _statement(
    signer: Signer,
    wrappers: Sequence[KeyWrapper],
    created: str,
    sizes: Sequence[int],
    manifest: bytes,
) -> tuple[Statement, bytes]:
    statement = Statement(
        format=FORMAT_ID,
        sender=signer.key_id,
        recipients=tuple(w.key_id for w in wrappers),
        created=created,
        files=len(sizes),
        bytes=sum(sizes),
        manifest_sha512=hashlib.sha512(manifest).hexdigest(),
    )
    statement_bytes = statement.to_json()
    if len(statement_bytes) > MAX_STATEMENT:
        raise EnvelopeUsageError(
            f"the statement is {len(statement_bytes)} bytes; RAW signing takes at most "
            f"{MAX_STATEMENT} (are the key ids unusually long?)"
        )
    return statement, statement_bytes


def _sign(signer: Signer, statement_bytes: bytes) -> bytes:
    signature = bytes(signer.sign(statement_bytes))
    if not SIGNATURE_MIN <= len(signature) <= SIGNATURE_MAX:
        raise EnvelopeUsageError(
            f"the signer returned {len(signature)} bytes; a DER ECDSA P-521 signature "
            f"is {SIGNATURE_MIN}-{SIGNATURE_MAX}"
        )
    return signature


def _wrapped(wrapping: Future[bytes]) -> bytes:
    wrapped = bytes(wrapping.result())
    if len(wrapped) not in WRAPPED_KEY_SIZES:
        raise EnvelopeUsageError(
            f"the key wrapper returned {len(wrapped)} bytes; RSAES_OAEP_SHA_256 with an RSA "
            f"key gives one of {WRAPPED_KEY_SIZES}"
        )
    return wrapped


def recipient_wrappers(
    wrapper: KeyWrapper | None, wrappers: Sequence[KeyWrapper] | None
) -> list[KeyWrapper]:
    """The recipients, in the format's order (ascending key id); misuse is a typed error."""
    if isinstance(wrappers, str | bytes):
        raise TypeError("wrappers must be a sequence of key wrappers")
    given = ([wrapper] if wrapper is not None else []) + list(wrappers or ())
    if not given:
        raise NoRecipientsError("an envelope needs at least one recipient key")
    if len(given) > MAX_RECIPIENTS:
        raise TooManyRecipientsError(
            f"an envelope names at most {MAX_RECIPIENTS} recipients, got {len(given)}"
        )
    seen: set[str] = set()
    for item in given:
        key_id = getattr(item, "key_id", None)
        problem = key_id_problem(key_id)
        if problem is not None:
            raise EnvelopeUsageError(f"the recipient key id {problem}, got {key_id!r:.80}")
        if key_id in seen:
            raise DuplicateRecipientError(f"recipient {key_id!r} is given twice")
        seen.add(key_id)
    return sorted(given, key=lambda w: w.key_id)


def seal(
    files: Sequence[Path | PlainFile],
    destination: Path,
    *,
    signer: Signer,
    wrapper: KeyWrapper | None = None,
    wrappers: Sequence[KeyWrapper] | None = None,
    created: datetime | None = None,
) -> SealResult:
    """Sign-then-encrypt ``files`` to the recipients' keys into the new file ``destination``.

    The recipients are ``wrapper`` and/or ``wrappers`` (1-16 keys, each a KMS key or a
    fingerprint-named public key, no key twice): the header carries one wrapped data key per
    recipient and the signed statement lists them all. Each ``wrap`` runs in a background
    thread, at the same time as ``signer.sign`` for a small input: both must be safe to call
    from another thread (a boto3 client is).
    """
    recipients = recipient_wrappers(wrapper, wrappers)
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
    pool = ThreadPoolExecutor(max_workers=len(recipients), thread_name_prefix="envelope-wrap")
    try:
        wrapping = tuple(pool.submit(w.wrap, data_key) for w in recipients)
        small = sum(Path(p.path).stat().st_size for p in inputs) <= SMALL_INPUT
        job = _Job(signer, tuple(recipients), created_text, salt, data_key, wrapping)
        return (_seal_small if small else _seal_streaming)(inputs, destination, job)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class _Job:
    """One seal's keys and parameters, with the data-key wrap already in flight."""

    signer: Signer
    wrappers: tuple[KeyWrapper, ...]
    created: str
    salt: bytes
    data_key: bytes
    wrapping: tuple[Future[bytes], ...]

    def begin(self) -> tuple[bytes, bytes]:
        """The header and payload key, once every wrap is back."""
        entries = [
            (w.key_id, _wrapped(f)) for w, f in zip(self.wrappers, self.wrapping, strict=True)
        ]
        header = encode_recipients_header(entries, self.salt)
        return header, derive_payload_key(self.data_key, header, self.salt)

    def sign(self, sizes: Sequence[int], manifest: bytes) -> tuple[Statement, bytes, bytes]:
        """The statement, its bytes and its signature."""
        statement, statement_bytes = _statement(
            self.signer, self.wrappers, self.created, sizes, manifest
        )
        return statement, statement_bytes, _sign(self.signer, statement_bytes)


def _seal_small(
    inputs: Sequence[PlainFile],
    destination: Path,
    job: _Job,
) -> SealResult:
    contents = _read_small(inputs)
    manifest = b"".join(
        manifest_line(hashlib.sha512(data).hexdigest(), plain.name)
        for plain, data in zip(inputs, contents, strict=True)
    )
    # signed while the wrap is in flight
    statement, statement_bytes, signature = job.sign([len(c) for c in contents], manifest)
    header, payload_key = job.begin()

    def write_payload(out: BinaryIO) -> int:
        stream_size = sum(
            len(encode_file_record(p.name, 0)) + len(d)
            for p, d in zip(inputs, contents, strict=True)
        )
        stream_size += len(encode_end_record(statement_bytes, signature))
        writer = EncryptWriter(
            out, payload_key, batch_chunks=min(CHUNKS_PER_BATCH, stream_size // CHUNK_SIZE + 1)
        )
        for plain, data in zip(inputs, contents, strict=True):
            writer.write(encode_file_record(plain.name, len(data)))
            writer.write(data)
        writer.write(encode_end_record(statement_bytes, signature))
        writer.close()
        return writer.bytes_written

    size = _write_new(destination, header, write_payload)
    return SealResult(statement, statement_bytes, signature, manifest, size)


def _seal_streaming(
    inputs: Sequence[PlainFile],
    destination: Path,
    job: _Job,
) -> SealResult:
    header, payload_key = job.begin()
    result: list[Any] = []

    def write_payload(out: BinaryIO) -> int:
        with Worker("envelope-sha512") as hasher:
            # Writes run in this thread: two threads in all, see envelope/workers.py.
            writer = EncryptWriter(out, payload_key, hasher)
            manifest = bytearray()
            sizes = []
            for plain in inputs:
                source, size = _open_regular(plain.path)
                with source:
                    writer.write(encode_file_record(plain.name, size))
                    digest = hashlib.sha512()
                    _stream_file(source, size, writer, digest, hasher)
                hasher.drain()
                manifest += manifest_line(digest.hexdigest(), plain.name)
                sizes.append(size)
            statement, statement_bytes, signature = job.sign(sizes, bytes(manifest))
            writer.write(encode_end_record(statement_bytes, signature))
            writer.close()  # the last batch's fences pass before the hasher stops
        result.extend([statement, statement_bytes, signature, bytes(manifest)])
        return writer.bytes_written

    size = _write_new(destination, header, write_payload)
    statement, statement_bytes, signature, manifest = result
    return SealResult(statement, statement_bytes, signature, manifest, size)


def _write_new(destination: Path, header: bytes, write_payload: Any) -> int:
    """Write header and payload to a temp file beside ``destination``, then link it there."""
    fd, tmp_name = tempfile.mkstemp(prefix=".kms-envelope-", dir=destination.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb", buffering=0) as out:
            write_all(out, memoryview(header))
            size = len(header) + write_payload(out)
        try:
            os.link(tmp, destination)  # never overwrites
        except FileExistsError:
            raise OutputExistsError(f"output {str(destination)!r} already exists") from None
    finally:
        tmp.unlink(missing_ok=True)
    return size
