"""The background thread that hashes the buffers the cipher works on.

hashlib releases the GIL for updates larger than 2 KiB, and so do ``readinto``, ``os.write``
and AES-GCM in ``cryptography``. So one thread hashes batch k while the main thread reads,
encrypts (or decrypts) and writes batch k+1: SHA-512, the slowest stage, alone sets the pace.
A buffer is reused only after every worker has passed the fence put behind it.

Two threads, not three: a separate writer thread made three runnable threads on two cores,
and the scheduler then took the hash thread's core away about a third of the time (see
bench/README.md). ``InlineWorker`` runs the writes in the caller's thread instead.
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any, BinaryIO

_STOP = object()


class Worker:
    """A thread that runs submitted calls in submission order.

    The first exception a call raises is kept; later calls are skipped (fences still pass)
    and ``drain()`` re-raises it in the caller's thread.
    """

    def __init__(self, name: str) -> None:
        self._tasks: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            if task is _STOP:
                return
            call, args = task
            if isinstance(call, threading.Event):
                call.set()
                continue
            if self._error is not None:
                continue
            try:
                call(*args)
            except BaseException as exc:
                self._error = exc

    def submit(self, call: Callable[..., object], *args: object) -> None:
        self._tasks.put((call, args))

    def fence(self) -> threading.Event:
        """An event set once every call submitted before it has run."""
        event = threading.Event()
        self._tasks.put((event, ()))
        return event

    def check(self) -> None:
        if self._error is not None:
            raise self._error

    def drain(self) -> None:
        """Wait for every submitted call; re-raise the first failure."""
        self.fence().wait()
        self.check()

    def quiesce(self) -> None:
        """Wait for every submitted call, ignoring failures (cleanup paths)."""
        self.fence().wait()

    def close(self) -> None:
        self._tasks.put(_STOP)
        self._thread.join()

    def __enter__(self) -> Worker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class InlineWorker(Worker):
    """A ``Worker`` that runs each call at once in the caller's thread (errors raise there).

    Its fences are already passed: nothing it was given is still running.
    """

    _PASSED = threading.Event()
    _PASSED.set()

    def __init__(self, name: str = "inline") -> None:  # no thread, no queue
        self.name = name
        self._error = None

    def submit(self, call: Callable[..., object], *args: object) -> None:
        call(*args)

    def fence(self) -> threading.Event:
        return self._PASSED

    def check(self) -> None:
        return None

    def drain(self) -> None:
        return None

    def quiesce(self) -> None:
        return None

    def close(self) -> None:
        return None

    def __enter__(self) -> InlineWorker:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


class Rotation:
    """Buffers in rotation; a buffer comes back only after the workers are done with it."""

    def __init__(self, size: int, count: int, workers: Sequence[Worker]) -> None:
        self._buffers = [bytearray(size) for _ in range(count)]
        self._fences: list[list[threading.Event]] = [[] for _ in range(count)]
        self._workers = list(workers)
        self._index = 0

    def current(self) -> bytearray:
        return self._buffers[self._index]

    def advance(self) -> bytearray:
        """Fence the current buffer and move to the next, waiting until it is free."""
        self._fences[self._index] = [worker.fence() for worker in self._workers]
        self._index = (self._index + 1) % len(self._buffers)
        for fence in self._fences[self._index]:
            fence.wait()
        for worker in self._workers:
            worker.check()
        return self._buffers[self._index]


def write_all(output: BinaryIO, view: memoryview) -> None:
    """``output.write`` until every byte is written (raw files may write less)."""
    while view:
        written = output.write(view)
        if written is None:  # a non-raw stream that took everything
            return
        view = view[written:]


def write_all_fd(fd: int, view: memoryview) -> None:
    while view:
        view = view[os.write(fd, view) :]
