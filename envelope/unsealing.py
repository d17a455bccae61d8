"""Receiver side: open an envelope; nothing appears until everything has verified.

Order of checks: the header (pure parsing, no KMS call), the header's recipient against the
reader's key, 1 unwrap (KMS Decrypt), every chunk and the final flag, the record structure,
the statement (recipient, sender, counts, manifest digest), 1 verify (KMS Verify, or 0 with a
public key). Plaintext goes to temp files in ``out_dir`` that are linked into place only after
all checks pass, and removed otherwise.

On Linux the temp files are anonymous (``O_TMPFILE``): they have no name until the final
``linkat`` through ``/proc/self/fd``, so no signal, not even SIGKILL, can leave unverified
plaintext readable on disk (the kernel frees an unlinked inode when the process dies). Where
``O_TMPFILE`` or ``/proc`` is missing, or file descriptors run short, named temp files are
used (mode 0600) and removed on every exception, which is what a SIGTERM or SIGHUP becomes in
the demo's CLI; only SIGKILL can leave them (docs/SECURITY.md).

Before anything is decrypted, and again as records arrive, the envelope is held to
``ReceiveLimits`` (total file bytes, file count) and to the format's chunk limit.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath, PureWindowsPath
from typing import Any, BinaryIO

import envelope.format as header_format
from envelope.errors import (
    EnvelopeAuthenticationError,
    EnvelopeTooLargeError,
    EnvelopeUsageError,
    OutputExistsError,
    WrongRecipientError,
)
from envelope.format import DATA_KEY_SIZE, FORMAT_ID, derive_payload_key, read_header
from envelope.inputs import open_regular
from envelope.keys import KeyUnwrapper, SignatureVerifier
from envelope.records import SIGNATURE_MAX, SIZE_FIELD, RecordParser
from envelope.statement import (
    MAX_FILES,
    MAX_STATEMENT,
    NAME_MAX,
    Statement,
    key_id_problem,
    manifest_line,
    parse_statement,
)
from envelope.stream import SEALED_CHUNK_SIZE, TAG_SIZE, DecryptReader
from envelope.workers import InlineWorker, Worker, write_all_fd

DEFAULT_MAX_BYTES = 64 * 1024**3  # 64 GiB of file data per envelope
DEFAULT_MAX_FILES = 1_000
FILE_RECORD_OVERHEAD_MAX = 1 + 2 + NAME_MAX + SIZE_FIELD  # type, name length, name, size
END_RECORD_MAX = 1 + 2 + MAX_STATEMENT + 2 + SIGNATURE_MAX
SPARE_DESCRIPTORS = 64  # kept free for everything else when temp files are held open


@dataclass(frozen=True)
class ReceiveLimits:
    """The most an envelope may make ``unseal`` write before its signature is checked.

    Anyone with the receiver's public key can make an envelope, and the signature comes last,
    so these bound the disk an attacker can fill. Checked before the unwrap from the input's
    size where it is a regular file, and again as each file record arrives; exceeding one is
    ``EnvelopeTooLargeError`` and nothing is left behind.
    """

    max_bytes: int = DEFAULT_MAX_BYTES
    max_files: int = DEFAULT_MAX_FILES

    def __post_init__(self) -> None:
        for name in ("max_bytes", "max_files"):
            value = getattr(self, name)
            if type(value) is not int or value < 1:
                raise EnvelopeUsageError(f"{name} must be a whole number >= 1, got {value!r}")
        if self.max_files > MAX_FILES:
            raise EnvelopeUsageError(
                f"max_files must be at most {MAX_FILES} (the format's limit), got {self.max_files}"
            )


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
    tmp: Path | None  # None: an anonymous O_TMPFILE file, reachable only through ``fd``
    fd: int
    hasher: Any
    written: int = 0


def _close(pending: _Pending) -> None:
    fd, pending.fd = pending.fd, -1
    os.close(fd)


_O_TMPFILE = getattr(os, "O_TMPFILE", 0)
_PROC_FD = Path("/proc/self/fd")


def _open_anonymous(directory: Path) -> int | None:
    """An unnamed file in ``directory`` (Linux O_TMPFILE), or None where unsupported."""
    if not _O_TMPFILE or not _PROC_FD.is_dir():
        return None
    try:
        return os.open(directory, _O_TMPFILE | os.O_RDWR | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT}:
            return None  # this file system (or kernel) has no O_TMPFILE
        raise


def _descriptor_budget() -> int:
    try:
        import resource  # POSIX only
    except ImportError:  # pragma: no cover - no O_TMPFILE there either
        return 0
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MAX_FILES
    return max(0, soft - SPARE_DESCRIPTORS)


class _FileSink:
    """Receives parsed file records; a worker writes them to temp files in ``out_dir`` and
    another hashes them, while the main thread decrypts the next batch.

    Anonymous temp files stay open until linked (their descriptor is their only handle);
    past the descriptor budget, or without O_TMPFILE, files are named and closed when done.
    """

    def __init__(
        self,
        out_dir: Path,
        hasher: Worker,
        writer: Worker,
        limits: ReceiveLimits,
        capacity: int | None = None,
    ) -> None:
        self._capacity = capacity  # the most file data the input's size can hold, if known
        self._out_dir = out_dir
        self._hasher = hasher
        self._writer = writer
        self._limits = limits
        self._budget = _descriptor_budget()
        self._anonymous = True
        self.done: list[_Pending] = []
        self._current: _Pending | None = None
        self._names: set[str] = set()
        self._declared = 0

    def start(self, name: str, size: int) -> None:
        if name in self._names:
            raise EnvelopeAuthenticationError()
        # Decided from authenticated records only (the AEAD has checked them), so only the
        # envelope's maker, who knows its data key, can cause it: no oracle.
        self._declared += size
        if self._capacity is not None and self._declared > self._capacity:
            raise EnvelopeAuthenticationError()  # more than the input holds: truncated
        if len(self.done) + 1 > self._limits.max_files:
            raise EnvelopeTooLargeError(
                f"the envelope holds more than {self._limits.max_files} files, the limit "
                "for one receive"
            )
        if self._declared > self._limits.max_bytes:
            raise EnvelopeTooLargeError(
                f"the envelope holds more than {self._limits.max_bytes} bytes of files, the "
                "limit for one receive"
            )
        self._names.add(name)
        fd = None
        if self._anonymous and len(self.done) < self._budget:
            fd = _open_anonymous(self._out_dir)
            self._anonymous = fd is not None
        if fd is not None:
            self._current = _Pending(name, size, None, fd, hashlib.sha512())
            return
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
        if current.tmp is not None:
            self._writer.submit(_close, current)  # after the file's last write
        self.done.append(current)
        self._current = None

    def discard(self) -> None:
        """Remove every temp file; call only after the workers have quiesced. An anonymous
        file disappears with its last descriptor."""
        for pending in [*self.done, *([self._current] if self._current else [])]:
            if pending.fd >= 0:  # anonymous, or not closed by the writer (it stopped)
                _close(pending)
            if pending.tmp is not None:
                pending.tmp.unlink(missing_ok=True)


def _link(pending: _Pending, target: Path) -> None:
    """Give the verified temp file its name; never overwrites an existing file."""
    if pending.tmp is not None:
        os.link(pending.tmp, target)
        return
    # linkat(dirfd, "/proc/self/fd/N", dirfd, name, AT_SYMLINK_FOLLOW). Passing a dir fd makes
    # CPython call linkat (with no dir fd it calls link(2), which would not follow the magic
    # link and fails with EXDEV); the absolute source ignores the fd.
    directory = os.open(target.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.link(
            f"{_PROC_FD}/{pending.fd}",
            target.name,
            src_dir_fd=directory,
            dst_dir_fd=directory,
            follow_symlinks=True,
        )
    finally:
        os.close(directory)


class _CountingSource:
    """The payload as read, held to the format's chunk limit while it streams."""

    def __init__(self, source: BinaryIO, limit: int) -> None:
        self._source = source
        self._left = limit

    def readinto(self, view: memoryview) -> int:
        n = self._source.readinto(view) or 0
        self._left -= n
        if self._left < 0:
            raise EnvelopeAuthenticationError()  # past the last chunk the format allows
        return n


def _payload_limit() -> int:
    return header_format.MAX_CHUNKS * SEALED_CHUNK_SIZE


def _check_size(payload_size: int, limits: ReceiveLimits) -> int:
    """Before the unwrap: refuse what the input's size alone proves too large (no KMS call).
    Returns the record stream's size, the most file data the input can hold."""
    if payload_size > _payload_limit():
        raise EnvelopeTooLargeError(
            f"the payload is {payload_size} bytes, more than the format's "
            f"{header_format.MAX_CHUNKS} chunks of {SEALED_CHUNK_SIZE} bytes"
        )
    chunks = -(-payload_size // SEALED_CHUNK_SIZE)
    records = payload_size - chunks * TAG_SIZE
    least_file_bytes = records - limits.max_files * FILE_RECORD_OVERHEAD_MAX - END_RECORD_MAX
    if least_file_bytes > limits.max_bytes:
        raise EnvelopeTooLargeError(
            f"the envelope holds at least {least_file_bytes} bytes of files, more than the "
            f"limit of {limits.max_bytes} for one receive"
        )
    return records


def unseal(
    source: Path,
    out_dir: Path,
    *,
    unwrapper: KeyUnwrapper,
    verifier: SignatureVerifier | None = None,
    verifiers: Sequence[SignatureVerifier] | None = None,
    limits: ReceiveLimits | None = None,
    allow_stream: bool = False,
    on_progress: Callable[[int], object] | None = None,
) -> Unsealed:
    """Decrypt and verify ``source`` into ``out_dir`` (see the module docstring).

    ``unwrapper.unwrap`` must raise ``ValueError`` when the wrapped key does not decrypt
    (KMS InvalidCiphertextException); other exceptions (access denied, network) propagate.
    ``verifier.verify`` returns False for a bad signature. ``source`` must be a regular file
    (``InputTypeError`` otherwise, decided without blocking) unless ``allow_stream``, which
    also reads a FIFO or a character device such as ``/dev/stdin``. ``on_progress(n)`` is
    called after each authenticated batch of ``n`` plaintext bytes (the temp files have no
    name to watch).

    The trusted senders are ``verifier`` or ``verifiers`` (one or several, each keyed by its
    ``key_id``): the statement's sender must be exactly one of those key ids, and its
    signature is checked with that verifier. Any other sender, even with a valid signature by
    its own key, is the one opaque ``EnvelopeAuthenticationError``.
    """
    trusted = trusted_senders(verifier, verifiers)
    out_dir = Path(out_dir)
    limits = ReceiveLimits() if limits is None else limits
    if not out_dir.is_dir():
        raise EnvelopeUsageError(f"output directory {str(out_dir)!r} does not exist")
    with open_regular(source, allow_stream=allow_stream) as raw:
        header = read_header(raw)  # MalformedHeaderError / NotAnEnvelopeError: no KMS yet
        wrapped_data_key = header.wrapped_for(unwrapper.key_id)
        if wrapped_data_key is None:
            raise WrongRecipientError(", ".join(header.recipient_key_ids), unwrapper.key_id)
        info = os.fstat(raw.fileno())
        capacity = None
        if stat.S_ISREG(info.st_mode):
            capacity = _check_size(info.st_size - len(header.raw), limits)
        stream: Any = _CountingSource(raw, _payload_limit())
        try:
            data_key = bytes(unwrapper.unwrap(wrapped_data_key))
        except ValueError:
            raise EnvelopeAuthenticationError() from None
        if len(data_key) != DATA_KEY_SIZE:
            raise EnvelopeAuthenticationError()
        payload_key = derive_payload_key(data_key, header.raw, header.salt)
        with Worker("envelope-sha512") as hasher, InlineWorker("envelope-write") as writer:
            sink = _FileSink(out_dir, hasher, writer, limits, capacity)
            try:
                parser = RecordParser(sink.start, sink.data, sink.end)
                for batch in DecryptReader(stream, payload_key, [hasher, writer]).batches():
                    parser.feed(batch)
                    if on_progress is not None:
                        on_progress(len(batch))
                end = parser.finish()
                hasher.drain()
                writer.drain()
                return _finish(
                    end.statement, end.signature, sink, out_dir, header, unwrapper, trusted
                )
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


def trusted_senders(
    verifier: SignatureVerifier | None, verifiers: Sequence[SignatureVerifier] | None
) -> dict[str, SignatureVerifier]:
    """The reader's trusted sender keys by key id; misuse is ``EnvelopeUsageError``."""
    if isinstance(verifiers, str | bytes) or (verifiers is not None and not verifiers):
        raise EnvelopeUsageError("verifiers must be a non-empty sequence of verifiers")
    given = ([verifier] if verifier is not None else []) + list(verifiers or ())
    if not given:
        raise EnvelopeUsageError("unseal needs the trusted sender keys: verifier or verifiers")
    trusted: dict[str, SignatureVerifier] = {}
    for item in given:
        problem = key_id_problem(getattr(item, "key_id", None))
        if problem is not None:
            raise EnvelopeUsageError(f"a trusted sender key id {problem}")
        if item.key_id in trusted:
            raise EnvelopeUsageError(f"trusted sender key {item.key_id!r} is given twice")
        trusted[item.key_id] = item
    return trusted


def statement_binds(
    statement: Statement, *, recipient: str, sender: str, header_recipients: Sequence[str]
) -> bool:
    """Recipient binding (Davis 2001): the signed statement must list this reader's key among
    its recipients, list exactly the header's recipients (so no recipient can be added or
    removed without the signature breaking), and name a trusted key as sender; a forwarded
    envelope names someone else."""
    return (
        statement.format == FORMAT_ID
        and recipient in statement.recipients
        and statement.recipients == tuple(header_recipients)
        and statement.sender == sender
    )


def _finish(
    statement_bytes: bytes,
    signature: bytes,
    sink: _FileSink,
    out_dir: Path,
    header: header_format.Header,
    unwrapper: KeyUnwrapper,
    trusted: dict[str, SignatureVerifier],
) -> Unsealed:
    statement = parse_statement(statement_bytes)
    manifest = b"".join(manifest_line(p.hasher.hexdigest(), p.name) for p in sink.done)
    verifier = trusted.get(statement.sender)  # exactly a trusted key id, or refused
    if verifier is None:
        raise EnvelopeAuthenticationError()
    if not statement_binds(
        statement,
        recipient=unwrapper.key_id,
        sender=verifier.key_id,
        header_recipients=header.recipient_key_ids,
    ):
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
                _link(pending, target)  # never overwrites an existing file
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
