"""Receiver side: open an envelope; nothing appears until everything has verified.

Order of checks: the header (pure parsing, no KMS call), the header's recipient against the
reader's key, 1 unwrap (KMS Decrypt), every chunk and the final flag, the record structure,
the statement (recipient, sender, counts, manifest digest), 1 verify (KMS Verify, or 0 with a
public key). Plaintext goes to temp files in ``out_dir`` that are linked into place only after
all checks pass, and removed otherwise.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any

from envelope.errors import (
    EnvelopeAuthenticationError,
    EnvelopeUsageError,
    OutputExistsError,
    WrongRecipientError,
)
from envelope.format import DATA_KEY_SIZE, FORMAT_ID, derive_payload_key, read_header
from envelope.keys import KeyUnwrapper, SignatureVerifier
from envelope.records import RecordParser
from envelope.statement import Statement, manifest_line, parse_statement
from envelope.stream import DecryptReader
from envelope.workers import InlineWorker, Worker, write_all_fd


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    path: Path
    size: int
    sha512: str


@dataclass(frozen=True)
class Unsealed:
    statement: Statement
    statement_bytes: bytes
    signature: bytes
    manifest: bytes
    files: tuple[ReceivedFile, ...]


@dataclass
class _Pending:
    name: str
    size: int
    tmp: Path
    fd: int
    hasher: Any
    written: int = 0


def _close(pending: _Pending) -> None:
    fd, pending.fd = pending.fd, -1
    os.close(fd)


class _FileSink:
    """Receives parsed file records; a worker writes them to temp files in ``out_dir`` and
    another hashes them, while the main thread decrypts the next batch."""

    def __init__(self, out_dir: Path, hasher: Worker, writer: Worker) -> None:
        self._out_dir = out_dir
        self._hasher = hasher
        self._writer = writer
        self.done: list[_Pending] = []
        self._current: _Pending | None = None
        self._names: set[str] = set()

    def start(self, name: str, size: int) -> None:
        if name in self._names:
            raise EnvelopeAuthenticationError()
        self._names.add(name)
        fd, tmp = tempfile.mkstemp(prefix=".kms-envelope-", dir=self._out_dir)
        self._current = _Pending(name, size, Path(tmp), fd, hashlib.sha512())

    def data(self, view: memoryview) -> None:
        current = self._current
        assert current is not None
        self._hasher.submit(current.hasher.update, view)
        self._writer.submit(write_all_fd, current.fd, view)

    def end(self) -> None:
        current = self._current
        assert current is not None
        self._writer.submit(_close, current)  # after the file's last write
        self.done.append(current)
        self._current = None

    def discard(self) -> None:
        """Remove every temp file; call only after the workers have quiesced."""
        for pending in [*self.done, *([self._current] if self._current else [])]:
            if pending.fd >= 0:  # not closed by the writer (it stops at its first failure)
                _close(pending)
            pending.tmp.unlink(missing_ok=True)


def unseal(
    source: Path,
    out_dir: Path,
    *,
    unwrapper: KeyUnwrapper,
    verifier: SignatureVerifier,
) -> Unsealed:
    """Decrypt and verify ``source`` into ``out_dir`` (see the module docstring).

    ``unwrapper.unwrap`` must raise ``ValueError`` when the wrapped key does not decrypt
    (KMS InvalidCiphertextException); other exceptions (access denied, network) propagate.
    ``verifier.verify`` returns False for a bad signature.
    """
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise EnvelopeUsageError(f"output directory {str(out_dir)!r} does not exist")
    with open(source, "rb", buffering=0) as stream:
        header = read_header(stream)  # MalformedHeaderError / NotAnEnvelopeError: no KMS yet
        if header.recipient_key_id != unwrapper.key_id:
            raise WrongRecipientError(header.recipient_key_id, unwrapper.key_id)
        try:
            data_key = bytes(unwrapper.unwrap(header.wrapped_data_key))
        except ValueError:
            raise EnvelopeAuthenticationError() from None
        if len(data_key) != DATA_KEY_SIZE:
            raise EnvelopeAuthenticationError()
        payload_key = derive_payload_key(data_key, header.raw, header.salt)
        with Worker("envelope-sha512") as hasher, InlineWorker("envelope-write") as writer:
            sink = _FileSink(out_dir, hasher, writer)
            try:
                parser = RecordParser(sink.start, sink.data, sink.end)
                for batch in DecryptReader(stream, payload_key, [hasher, writer]).batches():
                    parser.feed(batch)
                end = parser.finish()
                hasher.drain()
                writer.drain()
                return _finish(end.statement, end.signature, sink, out_dir, unwrapper, verifier)
            except BaseException:
                hasher.quiesce()
                writer.quiesce()
                sink.discard()
                raise


def output_target(out_dir: PurePath, name: str) -> PurePath:
    """Where received file ``name`` goes: directly in ``out_dir``, by this platform's rules.

    The format's name rules make every name one POSIX path component. Windows reads more
    into a name: a drive ("D:x" leaves ``out_dir``), a stream ("a:s"), a device ("CON",
    "nul.txt"), trailing dots and spaces (dropped, so two names collide). Those are refused.
    """
    target = out_dir / name
    windows = isinstance(target, PureWindowsPath) and (
        ":" in name or target.is_reserved() or name.endswith((".", " "))
    )
    if windows or target.name != name or target.parent != out_dir:
        raise EnvelopeUsageError(
            f"file name {name!r} cannot be written as a plain file name on this system"
        )
    return target


def statement_binds(statement: Statement, *, recipient: str, sender: str) -> bool:
    """Recipient binding (Davis 2001): the signed statement must name this reader's key as
    recipient and the expected key as sender; a forwarded message names someone else."""
    return (
        statement.format == FORMAT_ID
        and statement.recipient == recipient
        and statement.sender == sender
    )


def _finish(
    statement_bytes: bytes,
    signature: bytes,
    sink: _FileSink,
    out_dir: Path,
    unwrapper: KeyUnwrapper,
    verifier: SignatureVerifier,
) -> Unsealed:
    statement = parse_statement(statement_bytes)
    manifest = b"".join(manifest_line(p.hasher.hexdigest(), p.name) for p in sink.done)
    if not statement_binds(statement, recipient=unwrapper.key_id, sender=verifier.key_id):
        raise EnvelopeAuthenticationError()
    if (
        statement.files != len(sink.done)
        or statement.bytes != sum(p.size for p in sink.done)
        or statement.manifest_sha512 != hashlib.sha512(manifest).hexdigest()
    ):
        raise EnvelopeAuthenticationError()
    try:
        valid = verifier.verify(statement_bytes, signature)
    except ValueError:
        valid = False
    if valid is not True:
        raise EnvelopeAuthenticationError()
    targets = [Path(output_target(out_dir, p.name)) for p in sink.done]
    linked: list[Path] = []
    try:
        for pending, target in zip(sink.done, targets, strict=True):
            try:
                os.link(pending.tmp, target)  # never overwrites an existing file
            except FileExistsError:
                raise OutputExistsError(f"output {str(target)!r} already exists") from None
            linked.append(target)
    except BaseException:
        for path in linked:
            path.unlink(missing_ok=True)
        raise
    sink.discard()  # the temp names; the linked targets stay
    return Unsealed(
        statement=statement,
        statement_bytes=statement_bytes,
        signature=signature,
        manifest=manifest,
        files=tuple(
            ReceivedFile(p.name, target, p.size, p.hasher.hexdigest())
            for p, target in zip(sink.done, targets, strict=True)
        ),
    )
