"""What an envelope may make the reader write before its signature is checked (issue 9).

Anyone with the receiver's public key can make an envelope, and the signature comes last, so
``ReceiveLimits`` bounds total file bytes and file count, and the format bounds the chunks of
one payload key far inside AES-GCM's limit. Each limit is refused as early as it can be known
and leaves nothing behind; the tests inject small limits where the real ones are huge.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

import envelope
import envelope.format
import envelope.unsealing
from envelope.stream import CHUNK_SIZE
from tests.envelope.envelope_testkit import (
    RECIPIENT,
    Parties,
    build_envelope,
    inner_plaintext,
    pattern,
    sender_public_key,
)


def _seal(tmp_path: Path, parties: Parties, sizes: list[int]) -> Path:
    inputs = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(pattern(size, seed=i))
        inputs.append(path)
    envelope.seal(inputs, tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper)
    parties.calls.counts.clear()
    return tmp_path / "m.env"


def _unseal(source: Path, out: Path, parties: Parties, **options: object) -> envelope.Unsealed:
    out.mkdir(exist_ok=True)
    return envelope.unseal(
        source, out, unwrapper=parties.unwrapper, verifier=parties.verifier, **options
    )


def _through_a_fifo(tmp_path: Path, data: bytes) -> tuple[Path, threading.Thread]:
    fifo = tmp_path / "in.fifo"
    os.mkfifo(fifo)

    def feed() -> None:
        try:
            with open(fifo, "wb") as pipe:
                pipe.write(data)
        except BrokenPipeError:
            pass  # the reader stopped early, as it should

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    return fifo, feeder


def test_the_defaults_are_documented_values():
    limits = envelope.ReceiveLimits()
    assert (limits.max_bytes, limits.max_files) == (64 * 1024**3, 1000)
    assert envelope.format.MAX_CHUNKS == 2**32


@pytest.mark.parametrize("bad", [{"max_bytes": 0}, {"max_files": 0}, {"max_files": 10_001}])
def test_limits_are_validated(bad: dict[str, int]):
    with pytest.raises(envelope.EnvelopeUsageError, match=next(iter(bad))):
        envelope.ReceiveLimits(**bad)


def test_too_many_bytes_is_refused_before_kms_from_the_file_size(tmp_path: Path, parties):
    source = _seal(tmp_path, parties, [1_000_000])  # what max_files records could not explain
    with pytest.raises(envelope.EnvelopeTooLargeError, match=r"at least .* limit of 100000"):
        _unseal(source, tmp_path / "out", parties, limits=envelope.ReceiveLimits(max_bytes=100_000))
    assert parties.calls["Decrypt"] == 0
    assert os.listdir(tmp_path / "out") == []


def test_the_limit_itself_is_accepted(tmp_path: Path, parties):
    source = _seal(tmp_path, parties, [300_000, 7])
    opened = _unseal(
        source, tmp_path / "out", parties, limits=envelope.ReceiveLimits(300_007, max_files=2)
    )
    assert [f.size for f in opened.files] == [300_000, 7]


def test_too_many_bytes_from_a_stream_is_refused_at_the_record(tmp_path: Path, parties):
    """No size to check first: the record that goes past the limit stops it, before its
    data is written, and the earlier file's temp file is removed."""
    source = _seal(tmp_path, parties, [5_000, 300_000])
    fifo, feeder = _through_a_fifo(tmp_path, source.read_bytes())
    with pytest.raises(envelope.EnvelopeTooLargeError, match="more than 100000 bytes"):
        _unseal(
            fifo,
            tmp_path / "out",
            parties,
            limits=envelope.ReceiveLimits(max_bytes=100_000),
            allow_stream=True,
        )
    feeder.join(timeout=10)
    assert parties.calls["Verify"] == 0
    assert os.listdir(tmp_path / "out") == []


def test_too_many_files_is_refused_at_the_record(tmp_path: Path, parties):
    source = _seal(tmp_path, parties, [10, 10, 10])
    with pytest.raises(envelope.EnvelopeTooLargeError, match="more than 2 files"):
        _unseal(source, tmp_path / "out", parties, limits=envelope.ReceiveLimits(max_files=2))
    assert parties.calls["Verify"] == 0
    assert os.listdir(tmp_path / "out") == []


def test_a_declared_size_beyond_the_input_is_the_opaque_error(tmp_path: Path, parties):
    """A file record claiming more than the input holds is truncation, not a limit."""
    record = b"\x01\x00\x01a" + (2**64 - 1).to_bytes(8, "big") + b"abc"
    source = tmp_path / "m.env"
    source.write_bytes(build_envelope(RECIPIENT, parties.wrapper, record))
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _unseal(source, tmp_path / "out", parties)


@pytest.fixture
def three_chunk_limit(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(envelope.format, "MAX_CHUNKS", 3)
    return 3


def test_the_sender_refuses_more_chunks_than_the_format_allows(
    tmp_path: Path, parties, three_chunk_limit: int
):
    (tmp_path / "big").write_bytes(b"x" * (three_chunk_limit * CHUNK_SIZE))
    with pytest.raises(envelope.EnvelopeUsageError, match="exceed the format's limit of 3 chunks"):
        envelope.seal(
            [tmp_path / "big"], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper
        )
    assert not (tmp_path / "m.env").exists()
    assert parties.calls["Sign"] == 0


def _four_chunk_envelope(tmp_path: Path, parties: Parties) -> Path:
    data = b"y" * (3 * CHUNK_SIZE + 10)
    source = tmp_path / "m.env"
    inner = inner_plaintext([("a", data)], b"{}", b"s" * 8)
    source.write_bytes(build_envelope(RECIPIENT, parties.wrapper, inner))
    return source


def test_the_reader_refuses_more_chunks_before_kms(tmp_path: Path, parties, three_chunk_limit):
    source = _four_chunk_envelope(tmp_path, parties)
    parties.calls.counts.clear()
    with pytest.raises(envelope.EnvelopeTooLargeError, match="more than the format's 3 chunks"):
        _unseal(source, tmp_path / "out", parties)
    assert parties.calls["Decrypt"] == 0


def test_a_stream_with_more_chunks_is_the_opaque_error(tmp_path: Path, parties, three_chunk_limit):
    source = _four_chunk_envelope(tmp_path, parties)
    fifo, feeder = _through_a_fifo(tmp_path, source.read_bytes())
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _unseal(fifo, tmp_path / "out", parties, allow_stream=True)
    feeder.join(timeout=10)
    assert os.listdir(tmp_path / "out") == []


def test_within_the_chunk_limit_the_stream_opens(tmp_path: Path, parties, three_chunk_limit):
    """The control: three chunks pass under the three-chunk limit."""
    source = _seal(tmp_path, parties, [2 * CHUNK_SIZE])
    fifo, feeder = _through_a_fifo(tmp_path, source.read_bytes())
    opened = _unseal(fifo, tmp_path / "out", parties, allow_stream=True)
    feeder.join(timeout=10)
    assert opened.files[0].size == 2 * CHUNK_SIZE


def test_received_files_and_temp_files_are_private(tmp_path: Path, parties, monkeypatch):
    """Temp files are anonymous on Linux; the fallback's named ones are 0600 too."""
    source = _seal(tmp_path, parties, [100])
    opened = _unseal(source, tmp_path / "out", parties)
    assert opened.files[0].path.stat().st_mode & 0o777 == 0o600
    monkeypatch.setattr(envelope.unsealing, "_O_TMPFILE", 0)
    opened = _unseal(source, tmp_path / "out2", parties)
    assert opened.files[0].path.stat().st_mode & 0o777 == 0o600


def test_past_the_descriptor_budget_files_are_named_and_still_correct(
    tmp_path: Path, parties, monkeypatch
):
    monkeypatch.setattr(envelope.unsealing, "_descriptor_budget", lambda: 2)
    source = _seal(tmp_path, parties, [1, 2, 3, 4, 5])
    opened = _unseal(source, tmp_path / "out", parties)
    assert [f.path.read_bytes() for f in opened.files] == [
        pattern(n, seed=n - 1) for n in range(1, 6)
    ]
    assert sorted(os.listdir(tmp_path / "out")) == [f"f{i}.bin" for i in range(5)]


def test_the_independent_reader_enforces_the_chunk_limit_too(tmp_path: Path, parties, monkeypatch):
    from cryptography.hazmat.primitives import serialization

    from tests.envelope import independent_reader
    from tests.envelope.envelope_testkit import SENDER, key_bytes

    data = _seal(tmp_path, parties, [3 * CHUNK_SIZE + 10]).read_bytes()  # a valid 4 chunks

    def read() -> object:
        return independent_reader.read(
            data,
            recipient_arn=RECIPIENT,
            rsa_private_key=serialization.load_pem_private_key(
                key_bytes("fast_recipient.rsa2048.pem"), password=None
            ),
            sender_arn=SENDER,
            sender_public_key=sender_public_key(),
        )

    assert read() is not None  # the control: within the real limit it opens
    monkeypatch.setattr(independent_reader, "MAX_CHUNKS", 3)
    with pytest.raises(independent_reader.RejectedError, match="authentication failure"):
        read()
