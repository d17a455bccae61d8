"""Pipes and sockets return fewer bytes than asked; the reader must not take that for an end.

A raw pipe read returns whatever is available, so a valid envelope arriving through a FIFO
(``receive <(...)``, /dev/stdin) comes in pieces of any size. Here every read returns at most
seven bytes.
"""

from __future__ import annotations

import io
import os
import threading
from pathlib import Path

import pytest

import envelope
from envelope.format import read_header
from tests.envelope.envelope_testkit import RECIPIENT, Parties, pattern


class Trickle(io.RawIOBase):
    def __init__(self, data: bytes, most: int = 7) -> None:
        self._data, self._pos, self._most = data, 0, most

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        n = min(len(buffer), self._most, len(self._data) - self._pos)
        buffer[:n] = self._data[self._pos : self._pos + n]
        self._pos += n
        return n


@pytest.fixture
def sealed(tmp_path: Path, parties: Parties) -> bytes:
    (tmp_path / "a.bin").write_bytes(pattern(70_000))
    envelope.seal(
        [tmp_path / "a.bin"], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper
    )
    return (tmp_path / "m.env").read_bytes()


def test_header_read_in_small_pieces(sealed: bytes):
    header = read_header(Trickle(sealed))
    assert header.recipient_key_id == RECIPIENT
    assert header.raw == sealed[: len(header.raw)]


def test_truncated_header_in_small_pieces_is_still_named(sealed: bytes):
    with pytest.raises(envelope.MalformedHeaderError, match="header truncated in salt"):
        read_header(Trickle(sealed[: len(read_header(io.BytesIO(sealed)).raw) - 1]))


def test_unseal_from_a_fifo_written_in_small_pieces(tmp_path: Path, parties: Parties, sealed):
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        with open(fifo, "wb", buffering=0) as pipe:
            for at in range(0, len(sealed), 100):
                pipe.write(sealed[at : at + 100])

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    out = tmp_path / "out"
    out.mkdir()
    try:
        result = envelope.unseal(
            fifo, out, unwrapper=parties.unwrapper, verifier=parties.verifier, allow_stream=True
        )
    finally:
        feeder.join(timeout=10)
    assert (out / "a.bin").read_bytes() == pattern(70_000)
    assert result.files[0].size == 70_000


def test_a_fifo_with_no_writer_is_refused_at_once(tmp_path: Path, parties: Parties):
    """Issue 9: `open` on a FIFO with no writer blocked forever. The type is checked on a
    non-blocking open; without allow_stream, anything but a regular file is refused."""
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)
    out = tmp_path / "out"
    out.mkdir()
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            envelope.unseal(fifo, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
        except BaseException as exc:
            outcome.append(exc)

    reader = threading.Thread(target=attempt, daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():  # unblock the stuck open so the test process can end
        with open(fifo, "wb"):
            pass
        pytest.fail("unseal blocked on a FIFO with no writer")
    assert len(outcome) == 1
    assert isinstance(outcome[0], envelope.InputTypeError)
    assert str(outcome[0]) == "is a FIFO (named pipe), not a regular file"
    assert parties.calls["Decrypt"] == 0
    assert os.listdir(out) == []


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_a_device_is_refused(tmp_path: Path, parties: Parties, device: str):
    with pytest.raises(envelope.InputTypeError, match="is a character device"):
        envelope.unseal(device, tmp_path, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert os.listdir(tmp_path) == []
