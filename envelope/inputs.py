"""Opening an input without hanging on it: the type is checked before the first read.

``open(path)`` on a FIFO blocks until a writer appears, possibly forever, and a device such
as ``/dev/zero`` never ends. ``open_regular`` opens with ``O_NONBLOCK`` (which returns at once
for a FIFO), checks with ``fstat`` that the very file opened is a regular file, and only then
switches to blocking reads. Anything else is refused unless the caller asked for a stream.
"""

from __future__ import annotations

import os
import select
import stat
from pathlib import Path
from typing import BinaryIO

from envelope.errors import EnvelopeUsageError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


class InputTypeError(EnvelopeUsageError):
    """The input is not a regular file, and reading a stream was not asked for."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        super().__init__(f"is {kind}, not a regular file")


def file_kind(mode: int) -> str:
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def open_regular(path: Path | str, *, allow_stream: bool = False) -> BinaryIO:
    """``path`` opened for unbuffered binary reading, if it is a regular file (or, with
    ``allow_stream``, any readable file such as a FIFO). Never blocks in the open."""
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags)
    try:
        info = os.fstat(fd)
        mode = info.st_mode
        if stat.S_ISDIR(mode) or not (stat.S_ISREG(mode) or allow_stream):
            raise InputTypeError(file_kind(mode))
        if stat.S_ISFIFO(mode):
            # A stream was asked for. A FIFO opened non-blocking reads as ended while no
            # writer has come yet; poll() reports it readable only once a writer has written
            # or come and gone, after which blocking reads end exactly at the writer's end.
            poller = select.poll()
            poller.register(fd, select.POLLIN)
            while not poller.poll():
                pass
        os.set_blocking(fd, True)
        return os.fdopen(fd, "rb", buffering=0)
    except BaseException:
        os.close(fd)
        raise
