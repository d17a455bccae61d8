"""SHA-512 on a second thread, over the same buffers the cipher works on.

hashlib releases the GIL for updates larger than 2 KiB, and so does AES-GCM in
``cryptography``, so hashing buffer k while the main thread reads and encrypts buffer k+1 keeps
both cores busy. Buffers are reused only after their fence has passed.
"""

from __future__ import annotations

import queue
import threading
from typing import Any


class HashThread:
    """A worker that applies ``hasher.update(view)`` in submission order."""

    def __init__(self) -> None:
        self._tasks: queue.SimpleQueue[tuple[Any, Any] | None] = queue.SimpleQueue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="envelope-sha512", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            task = self._tasks.get()
            if task is None:
                return
            target, view = task
            if isinstance(target, threading.Event):
                target.set()
                continue
            try:
                target.update(view)
            except BaseException as exc:  # pragma: no cover - a bug, reported on join
                self._error = exc

    def update(self, hasher: Any, view: memoryview) -> None:
        self._tasks.put((hasher, view))

    def fence(self) -> threading.Event:
        """An event set once every update submitted before it has been applied."""
        event = threading.Event()
        self._tasks.put((event, None))
        return event

    def drain(self) -> None:
        self.fence().wait()
        if self._error is not None:  # pragma: no cover - a bug
            raise RuntimeError("hash worker failed") from self._error

    def close(self) -> None:
        self._tasks.put(None)
        self._thread.join()

    def __enter__(self) -> HashThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
