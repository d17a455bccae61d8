"""The payload: STREAM chunks of AES-256-GCM (docs/FORMAT.md, "Payload").

Plaintext is cut into 64 KiB chunks. Chunk i is sealed with nonce = i as an 11-byte big-endian
counter, then one flag byte: 0x01 for the last chunk, 0x00 otherwise. Non-final chunks hold
exactly 64 KiB; the final chunk holds 1 to 64 KiB. A reader that reaches the end of the input
without a final chunk, or finds anything after it, rejects the payload.

``EncryptWriter`` and ``DecryptReader`` work a batch of chunks at a time in reused buffers
(``encrypt_into``/``decrypt_into``/``readinto``), so memory stays constant whatever the size.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from envelope.errors import EnvelopeAuthenticationError
from envelope.workers import Rotation, Worker, write_all

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
SEALED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE
COUNTER_SIZE = 11
COUNTER_LIMIT = 1 << (8 * COUNTER_SIZE)
NON_FINAL, FINAL = b"\x00", b"\x01"

CHUNKS_PER_BATCH = 32  # 2 MiB of plaintext per batch
BUFFERS = 3  # buffers in rotation, so hashing and writing overlap reading and the cipher


def chunk_nonce(counter: int, final: bool) -> bytes:
    if not 0 <= counter < COUNTER_LIMIT:  # pragma: no cover - 2^88 chunks
        raise OverflowError("chunk counter exhausted")
    return counter.to_bytes(COUNTER_SIZE, "big") + (FINAL if final else NON_FINAL)


class EncryptWriter:
    """Writes the payload for a plaintext stream given through ``space()``/``commit()``.

    The caller asks for ``space()`` (a writable view of the current plaintext batch), fills
    some of it, and ``commit(n)``s. ``close()`` seals the last chunk with the final flag.
    A chunk is sealed only when more plaintext follows it, so the final flag is always right.
    """

    def __init__(
        self,
        output: BinaryIO,
        payload_key: bytes,
        hasher: Worker | None = None,
        writer: Worker | None = None,
        *,
        batch_chunks: int = CHUNKS_PER_BATCH,
    ) -> None:
        """``batch_chunks`` smaller than the default saves allocating 8 MiB for a small
        payload; with no ``hasher`` (or ``writer``) one buffer of each kind is enough."""
        if not 1 <= batch_chunks <= CHUNKS_PER_BATCH:
            raise ValueError(f"batch_chunks must be 1-{CHUNKS_PER_BATCH}, got {batch_chunks}")
        self._output = output
        self._aead = AESGCM(payload_key)
        self._rotation = Rotation(
            batch_chunks * CHUNK_SIZE, BUFFERS if hasher else 1, [hasher] if hasher else []
        )
        self._sealed = Rotation(
            batch_chunks * SEALED_CHUNK_SIZE, BUFFERS if writer else 1, [writer] if writer else []
        )
        self._writer = writer
        self._batches = 0
        self._fill = 0
        self._counter = 0
        self._closed = False
        self.bytes_written = 0

    def space(self) -> memoryview:
        if self._closed:
            raise ValueError("EncryptWriter is closed")
        buf = self._rotation.current()
        if self._fill == len(buf):
            self._flush(len(buf), final=False)
            buf = self._rotation.advance()
            self._fill = 0
        return memoryview(buf)[self._fill :]

    def commit(self, size: int) -> memoryview:
        """Account for ``size`` bytes put into ``space()``; returns a view of them."""
        buf = self._rotation.current()
        if not 0 <= size <= len(buf) - self._fill:
            raise ValueError(f"commit size {size} exceeds the space given")
        start = self._fill
        self._fill += size
        return memoryview(buf)[start : self._fill]

    def write(self, data: bytes) -> None:
        """Copy small bytes (record headers, the statement) into the stream."""
        view = memoryview(data)
        while view:
            space = self.space()
            n = min(len(space), len(view))
            space[:n] = view[:n]
            self.commit(n)
            view = view[n:]

    def _flush(self, size: int, *, final: bool) -> None:
        plain = memoryview(self._rotation.current())
        sealed = memoryview(
            self._sealed.current() if self._batches == 0 else self._sealed.advance()
        )
        self._batches += 1
        out = 0
        for offset in range(0, size, CHUNK_SIZE):
            end = min(offset + CHUNK_SIZE, size)
            last = final and end == size
            nonce = chunk_nonce(self._counter, last)
            n = end - offset + TAG_SIZE
            self._aead.encrypt_into(nonce, plain[offset:end], None, sealed[out : out + n])
            self._counter += 1
            out += n
        if self._writer is not None:
            self._writer.submit(write_all, self._output, sealed[:out])
        else:
            write_all(self._output, sealed[:out])
        self.bytes_written += out

    def close(self) -> None:
        if self._closed:
            return
        if self._fill == 0:  # pragma: no cover - seal always writes the end record
            raise ValueError("the payload must not be empty")
        self._flush(self._fill, final=True)
        self._closed = True


def _read_into(source: BinaryIO, view: memoryview) -> int:
    total = 0
    while total < len(view):
        n = source.readinto(view[total:])
        if not n:
            break
        total += n
    return total


class DecryptReader:
    """Yields authenticated plaintext, a batch at a time, from a payload.

    The consumer may hand each yielded view to ``workers`` (hashing, writing); the buffer is
    reused only after every worker has passed the fence set behind it. The generator returns
    only after the final chunk authenticated and the input ended right after it; anything
    else raises ``EnvelopeAuthenticationError``.
    """

    def __init__(
        self, source: BinaryIO, payload_key: bytes, workers: Sequence[Worker] = ()
    ) -> None:
        self._source = source
        self._aead = AESGCM(payload_key)
        self._workers = list(workers)

    def batches(self) -> Iterator[memoryview]:
        batch = CHUNKS_PER_BATCH
        try:  # a small payload gets small buffers (allocating 8 MiB costs ms)
            left = os.fstat(self._source.fileno()).st_size - self._source.tell()
            batch = max(2, min(batch, left // SEALED_CHUNK_SIZE + 2))
        except (AttributeError, OSError, ValueError):
            pass  # not a file: the full size
        sealed = bytearray(batch * SEALED_CHUNK_SIZE)
        sealed_view = memoryview(sealed)
        rotation = Rotation(batch * CHUNK_SIZE, BUFFERS, self._workers)
        carry = 0
        counter = 0
        first = True
        while True:
            filled = carry + _read_into(self._source, sealed_view[carry:])
            at_end = filled < len(sealed)
            # Not at the end: keep the last chunk back, only the end of input tells if it is
            # final.
            count = (filled + SEALED_CHUNK_SIZE - 1) // SEALED_CHUNK_SIZE if at_end else batch - 1
            if at_end and (filled == 0 or (filled - 1) % SEALED_CHUNK_SIZE < TAG_SIZE):
                raise EnvelopeAuthenticationError()  # no payload, or an empty/short last chunk
            plain = rotation.current() if first else rotation.advance()
            first = False
            plain_view = memoryview(plain)
            out = 0
            for i in range(count):
                start = i * SEALED_CHUNK_SIZE
                end = min(start + SEALED_CHUNK_SIZE, filled)
                final = at_end and i == count - 1
                n = end - start - TAG_SIZE
                try:
                    self._aead.decrypt_into(
                        chunk_nonce(counter, final),
                        sealed_view[start:end],
                        None,
                        plain_view[out : out + n],
                    )
                except InvalidTag:
                    raise EnvelopeAuthenticationError() from None
                counter += 1
                out += n
            yield plain_view[:out]
            if at_end:
                return
            tail = count * SEALED_CHUNK_SIZE
            sealed[:SEALED_CHUNK_SIZE] = sealed_view[tail : tail + SEALED_CHUNK_SIZE]
            carry = SEALED_CHUNK_SIZE
