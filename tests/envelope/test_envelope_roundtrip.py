"""Seal then unseal: sizes around the chunk and batch boundaries, many files, KMS call counts."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

import envelope
from envelope.format import MAGIC
from envelope.stream import CHUNKS_PER_BATCH, SEALED_CHUNK_SIZE
from tests.envelope.envelope_testkit import (
    CHUNK,
    RECIPIENT,
    SENDER,
    Parties,
    key_bytes,
    make_parties,
    pattern,
)

BATCH = CHUNKS_PER_BATCH * CHUNK
SIZES = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7, BATCH - 1, BATCH, BATCH + 1]
SIZES += [2 * BATCH + CHUNK + 3]


def seal_one(tmp_path: Path, parties: Parties, data: bytes, name: str = "data.bin") -> Path:
    source = tmp_path / "in" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(data)
    destination = tmp_path / "message.env"
    envelope.seal([source], destination, signer=parties.signer, wrapper=parties.wrapper)
    return destination


@pytest.mark.parametrize("size", SIZES)
def test_round_trip_sizes_around_chunk_boundaries(tmp_path: Path, parties: Parties, size: int):
    data = pattern(size, seed=size)
    sealed = seal_one(tmp_path, parties, data)
    out = tmp_path / "out"
    out.mkdir()
    result = envelope.unseal(sealed, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert (out / "data.bin").read_bytes() == data
    assert os.listdir(out) == ["data.bin"]  # no temp files left behind
    assert result.statement.bytes == size
    assert result.files[0].sha512 == hashlib.sha512(data).hexdigest()


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1])
def test_payload_size_follows_the_spec(tmp_path: Path, parties: Parties, size: int):
    sealed = seal_one(tmp_path, parties, pattern(size))
    raw = sealed.read_bytes()
    header = len(MAGIC) + 2 + len(RECIPIENT) + 2 + 256 + 2 + 32  # one entry, u16 0, salt
    result_statement = envelope.unseal(
        sealed, _mkdir(tmp_path / "o"), unwrapper=parties.unwrapper, verifier=parties.verifier
    )
    inner = (1 + 2 + len("data.bin") + 8 + size) + (
        1 + 2 + len(result_statement.statement_bytes) + 2 + len(result_statement.signature)
    )
    full, rest = divmod(inner, CHUNK)
    chunks = full + (1 if rest else 0)
    assert len(raw) == header + inner + 16 * chunks
    assert SEALED_CHUNK_SIZE == CHUNK + 16


def _mkdir(path: Path) -> Path:
    path.mkdir()
    return path


def test_many_files_cost_one_sign_and_one_encrypt(tmp_path: Path, parties: Parties):
    sources = []
    for i in range(25):
        path = tmp_path / f"file-{i:02}.txt"
        path.write_bytes(pattern(i * 1000, seed=i))
        sources.append(path)
    envelope.seal(sources, tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper)
    assert parties.calls.counts == {"Sign": 1, "Encrypt": 1}
    out = _mkdir(tmp_path / "out")
    result = envelope.unseal(
        tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=parties.verifier
    )
    assert parties.calls.counts == {"Sign": 1, "Encrypt": 1, "Decrypt": 1, "Verify": 1}
    assert sorted(os.listdir(out)) == sorted(p.name for p in sources)
    for path in sources:
        assert (out / path.name).read_bytes() == path.read_bytes()
    assert result.statement.files == 25
    assert len(result.statement_bytes) <= 4096


def test_public_key_wrapper_and_verifier_cost_no_kms_calls(tmp_path: Path, parties: Parties):
    signer = envelope.PrivateKeySigner(SENDER, key_bytes("other_sender.p521.pem"))  # any P-521 key
    unwrapper = parties.unwrapper.inner
    public_wrapper = envelope.PublicKeyWrapper(RECIPIENT, unwrapper.public_key_der())
    public_verifier = envelope.PublicKeyVerifier(SENDER, signer.public_key_der())
    (tmp_path / "a").write_bytes(b"partner data")
    envelope.seal([tmp_path / "a"], tmp_path / "m.env", signer=signer, wrapper=public_wrapper)
    out = _mkdir(tmp_path / "out")
    envelope.unseal(tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=public_verifier)
    assert parties.calls.counts == {"Decrypt": 1}  # no Encrypt, no Verify
    assert (out / "a").read_bytes() == b"partner data"


def test_statement_is_readable_json_naming_both_keys(tmp_path: Path, parties: Parties):
    data = b"hello, Bob\n"
    (tmp_path / "note.txt").write_bytes(data)
    when = datetime(2026, 11, 28, 22, 0, 0, tzinfo=UTC)
    result = envelope.seal(
        [tmp_path / "note.txt"],
        tmp_path / "m.env",
        signer=parties.signer,
        wrapper=parties.wrapper,
        created=when,
    )
    statement = json.loads(result.statement_bytes)
    manifest = f"{hashlib.sha512(data).hexdigest()}  note.txt\n".encode()
    assert statement == {
        "bytes": len(data),
        "created": "2026-11-28T22:00:00Z",
        "files": 1,
        "format": "kms-envelope/v2",
        "manifest_sha512": hashlib.sha512(manifest).hexdigest(),
        "recipients": [RECIPIENT],
        "sender": SENDER,
    }
    assert result.manifest == manifest


def test_rsa_4096_recipient_round_trip(tmp_path: Path):
    parties = make_parties("recipient.rsa4096.pem")
    sealed = seal_one(tmp_path, parties, b"x" * 1000)
    assert sealed.read_bytes()[len(MAGIC) + 2 + len(RECIPIENT) :][:2] == (512).to_bytes(2)
    out = _mkdir(tmp_path / "out")
    envelope.unseal(sealed, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert (out / "data.bin").read_bytes() == b"x" * 1000


def test_each_message_gets_a_fresh_data_key_and_salt(tmp_path: Path, parties: Parties):
    (tmp_path / "a").write_bytes(b"same")
    envelope.seal(
        [tmp_path / "a"], tmp_path / "1.env", signer=parties.signer, wrapper=parties.wrapper
    )
    envelope.seal(
        [tmp_path / "a"], tmp_path / "2.env", signer=parties.signer, wrapper=parties.wrapper
    )
    one, two = (tmp_path / "1.env").read_bytes(), (tmp_path / "2.env").read_bytes()
    header = len(MAGIC) + 2 + len(RECIPIENT) + 2
    assert one[header : header + 256] != two[header : header + 256]  # wrapped key
    assert one[header + 256 : header + 288] != two[header + 256 : header + 288]  # salt


def test_memory_stays_bounded_whatever_the_size(tmp_path: Path, parties: Parties):
    """48 MiB through seal and unseal with far less than 48 MiB allocated at peak."""
    import tracemalloc

    size = 48 << 20
    source = tmp_path / "big.bin"
    with open(source, "wb") as out:
        block = pattern(1 << 20)
        for _ in range(size >> 20):
            out.write(block)
    out_dir = _mkdir(tmp_path / "out")
    tracemalloc.start()
    try:
        envelope.seal([source], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper)
        envelope.unseal(
            tmp_path / "m.env", out_dir, unwrapper=parties.unwrapper, verifier=parties.verifier
        )
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20, f"peak {peak >> 20} MiB"
    assert (out_dir / "big.bin").stat().st_size == size


def test_fields_carry_sizes_beyond_4_gib():
    from envelope.records import encode_file_record
    from envelope.stream import chunk_nonce

    record = encode_file_record("huge", (5 << 30) + 1)
    assert record[-8:] == ((5 << 30) + 1).to_bytes(8, "big")
    chunks_in_5_gib = (5 << 30) // CHUNK
    assert chunk_nonce(chunks_in_5_gib, False) == chunks_in_5_gib.to_bytes(11, "big") + b"\0"
    assert chunk_nonce(2**40, True)[-1:] == b"\x01"


def _failing_after(calls: int, real):
    import errno

    count = {"n": 0}

    def write(*args):
        count["n"] += 1
        if count["n"] > calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(*args)

    return write


def test_a_full_disk_while_receiving_leaves_nothing(tmp_path: Path, parties: Parties, monkeypatch):
    import envelope.unsealing as unsealing_module

    sealed = seal_one(tmp_path, parties, pattern(3 * BATCH))
    out = _mkdir(tmp_path / "out")
    monkeypatch.setattr(
        unsealing_module, "write_all_fd", _failing_after(1, unsealing_module.write_all_fd)
    )
    with pytest.raises(OSError, match="No space left on device"):
        envelope.unseal(sealed, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert os.listdir(out) == []


def test_a_full_disk_while_sending_leaves_nothing(tmp_path: Path, parties: Parties, monkeypatch):
    import envelope.stream as stream_module

    source = tmp_path / "in.bin"
    source.write_bytes(pattern(3 * BATCH))
    monkeypatch.setattr(stream_module, "write_all", _failing_after(1, stream_module.write_all))
    with pytest.raises(OSError, match="No space left on device"):
        envelope.seal([source], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper)
    assert sorted(os.listdir(tmp_path)) == ["in.bin"]
