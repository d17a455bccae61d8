"""A progress display on stderr, shown only for work that takes longer than a second.

Small files never print anything. After ``delay`` seconds the display appears, redraws at
most ``interval`` times a second (in place on a terminal, as plain lines otherwise) and ends
with a newline. The clock is injectable so tests never sleep.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

MIB = 1024 * 1024


class Progress:
    def __init__(
        self,
        label: str,
        total: int | None,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        delay: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self._stream = stream if stream is not None else sys.stderr
        self._enabled = enabled
        self._delay = delay
        self._clock = clock
        self._start = clock()
        self._last_draw: float | None = None
        self._tty = bool(getattr(self._stream, "isatty", lambda: False)())
        self._interval = 0.1 if self._tty else 2.0
        self.shown = False

    def advance(self, count: int) -> None:
        self.done += count
        if not self._enabled:
            return
        now = self._clock()
        if now - self._start < self._delay:
            return
        if self._last_draw is not None and now - self._last_draw < self._interval:
            return
        self._draw(now, final=False)

    def finish(self) -> None:
        """The work is complete: a display that was shown ends at 100% and a newline."""
        if self.total is not None:
            self.done = self.total
        if self.shown:
            self._draw(self._clock(), final=True)

    def abort(self) -> None:
        """The work failed: end a shown in-place line, so the error starts on its own."""
        if self.shown and self._tty:
            self._stream.write("\n")
            self._stream.flush()

    def _draw(self, now: float, *, final: bool) -> None:
        self._last_draw = now
        self.shown = True
        elapsed = max(now - self._start, 1e-9)
        rate = self.done / MIB / elapsed
        if self.total:
            done = min(self.done, self.total)  # a watched output may outgrow its input
            share = f"{100 * done / self.total:5.1f}% "
            amount = f"{done / MIB:.1f}/{self.total / MIB:.1f} MiB"
        else:
            share, amount = "", f"{self.done / MIB:.1f} MiB"
        line = f"{self.label}: {share}{amount} {rate:.1f} MiB/s {elapsed:.1f} s"
        if self._tty:
            end = "\n" if final else ""
            self._stream.write(f"\r{line}\x1b[K{end}")
        else:
            self._stream.write(line + "\n")
        self._stream.flush()


class DirectoryWatcher:
    """Reports the bytes written into a staging directory, for code that takes only paths.

    The envelope reads and writes files itself; the demo stages its outputs in a private
    directory, so the growth of that directory is the work done. Hard links count once.
    """

    def __init__(self, directory: Path, progress: Progress, *, poll: float = 0.2) -> None:
        self._directory = directory
        self._progress = progress
        self._poll = poll
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="progress", daemon=True)
        self._seen = 0

    def __enter__(self) -> DirectoryWatcher:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        if exc[0] is None:
            self._progress.finish()
        else:
            self._progress.abort()

    def _size(self) -> int:
        inodes: dict[int, int] = {}
        try:
            for entry in os.scandir(self._directory):
                if entry.is_file(follow_symlinks=False):
                    info = entry.stat(follow_symlinks=False)
                    inodes[info.st_ino] = info.st_size
        except OSError:
            return self._seen
        return sum(inodes.values())

    def _watch(self) -> None:
        while not self._stop.wait(self._poll):
            size = self._size()
            if size > self._seen:
                self._progress.advance(size - self._seen)
                self._seen = size
