"""Outputs appear whole or not at all: write to a temporary file, rename on success.

``StagedOutputs`` stages several files (a plaintext and its signature, say) and renames them
all only when the block ends without an exception; any failure removes every temporary file,
so an error never leaves an output behind.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from envelope.inputs import InputTypeError, open_regular
from kms_sign_encrypt.errors import UsageError

OUTPUT_MODE = 0o600  # plaintexts are confidential; signatures and keys get the same default
MAX_INPUT_BYTES_FOR_MEMORY = 64 * 1024 * 1024


class StagedOutputs:
    def __init__(self, *, force: bool) -> None:
        self._force = force
        self._staged: list[tuple[Path, Path]] = []

    def check_free(self, path: Path) -> None:
        check_free(path, force=self._force)

    @contextmanager
    def open(self, path: Path) -> Iterator[BinaryIO]:
        """A temporary file next to ``path``; renamed to ``path`` by ``commit``."""
        self.check_free(path)
        with writing_into(path.parent):
            handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed below, renamed on commit
                dir=path.parent, prefix=f".{path.name}.", suffix=".partial", delete=False
            )
        temporary = Path(handle.name)
        self._staged.append((temporary, path))
        with handle:
            os.chmod(temporary, OUTPUT_MODE)
            yield handle
            with writing_into(path.parent):
                handle.flush()
                os.fsync(handle.fileno())

    def write(self, path: Path, data: bytes) -> None:
        with self.open(path) as handle, writing_into(path.parent):
            handle.write(data)

    def commit(self) -> list[Path]:
        for _, final in self._staged:
            self.check_free(final)
        done = []
        for temporary, final in self._staged:
            with writing_into(final.parent):
                os.replace(temporary, final)
            done.append(final)
        self._staged.clear()
        return done

    def discard(self) -> None:
        for temporary, _ in self._staged:
            temporary.unlink(missing_ok=True)
        self._staged.clear()


def check_free(path: Path, *, force: bool) -> None:
    """``path`` may become an output: a file that is new (or replaced, with overwrite)."""
    check_not_directory(path)
    if path.exists() and not force:
        raise UsageError(
            f"output {path} already exists: remove it or allow replacing it", setting="overwrite"
        )
    if not path.parent.is_dir():
        raise UsageError(f"output directory {path.parent} does not exist")


def check_not_directory(path: Path) -> None:
    """An output names a file; overwriting replaces files, never a directory."""
    if path.is_dir():
        raise UsageError(f"output {path} is a directory: name a file (or a new path) instead")


@contextmanager
def writing_into(directory: Path) -> Iterator[None]:
    """The operating system refusing a write (permissions, a full or read-only disk) is one
    line naming the directory, not an internal error."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise UsageError(
            f"cannot write into {directory}: {reason}; choose a writable output location"
        ) from None


@contextmanager
def staged_outputs(*, force: bool = False) -> Iterator[StagedOutputs]:
    """Stage outputs in the block; commit them all at its end, or remove them all on error."""
    outputs = StagedOutputs(force=force)
    try:
        yield outputs
        outputs.commit()
    except BaseException:
        outputs.discard()
        raise


@contextmanager
def opened_input(path: Path) -> Iterator[BinaryIO]:
    """``path`` open for reading if it is a regular file (a FIFO or device is refused, never
    waited on); every failure to open or read it is one ``UsageError`` naming it."""
    try:
        with open_regular(path) as handle:
            yield handle
    except FileNotFoundError:
        raise UsageError(f"input {path} not found") from None
    except IsADirectoryError:
        raise UsageError(f"input {path} is a directory, not a file") from None
    except InputTypeError as exc:
        raise UsageError(f"input {path} {exc}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def read_input(path: Path, *, limit: int = MAX_INPUT_BYTES_FOR_MEMORY) -> bytes:
    """A whole (small) input file, with a clear error if missing or over ``limit``."""
    with opened_input(path) as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise UsageError(f"input {path} is larger than {limit} bytes")
    return data
