"""Ctrl-C (KeyboardInterrupt) at any stage leaves no plaintext and no partial envelope."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import envelope
import envelope.unsealing as unsealing_module
from envelope.stream import CHUNKS_PER_BATCH
from tests.envelope.envelope_testkit import CHUNK, Parties, pattern

BATCH = CHUNKS_PER_BATCH * CHUNK


def _interrupting(after: int, real):
    calls = {"n": 0}

    def call(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > after:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    return call


@pytest.fixture
def sealed(tmp_path: Path, parties: Parties) -> Path:
    (tmp_path / "a.bin").write_bytes(pattern(2 * BATCH + 5))
    (tmp_path / "b.txt").write_bytes(b"b")
    destination = tmp_path / "m.env"
    envelope.seal(
        [tmp_path / "a.bin", tmp_path / "b.txt"],
        destination,
        signer=parties.signer,
        wrapper=parties.wrapper,
    )
    return destination


class _Interrupt:
    def __init__(self, inner) -> None:
        self.key_id, self._inner = inner.key_id, inner

    def verify(self, message: bytes, signature: bytes) -> bool:
        raise KeyboardInterrupt

    def sign(self, message: bytes) -> bytes:
        raise KeyboardInterrupt


def test_interrupt_while_verifying_leaves_nothing(tmp_path: Path, parties: Parties, sealed: Path):
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(KeyboardInterrupt):
        envelope.unseal(
            sealed, out, unwrapper=parties.unwrapper, verifier=_Interrupt(parties.verifier)
        )
    assert os.listdir(out) == []


def test_interrupt_while_decrypting_leaves_nothing(
    tmp_path: Path, parties: Parties, sealed: Path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(unsealing_module, "DecryptReader", _reader_interrupted_after_first_batch())
    with pytest.raises(KeyboardInterrupt):
        envelope.unseal(sealed, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert os.listdir(out) == []


def _reader_interrupted_after_first_batch():
    real = unsealing_module.DecryptReader

    class Reader(real):  # type: ignore[misc, valid-type]
        def batches(self):
            for index, batch in enumerate(super().batches()):
                if index == 1:
                    raise KeyboardInterrupt
                yield batch

    return Reader


def test_interrupt_while_linking_the_outputs_removes_those_linked(
    tmp_path: Path, parties: Parties, sealed: Path, monkeypatch
):
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setattr(unsealing_module.os, "link", _interrupting(1, os.link))
    with pytest.raises(KeyboardInterrupt):
        envelope.unseal(sealed, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert os.listdir(out) == []


def test_interrupt_while_signing_leaves_no_envelope(tmp_path: Path, parties: Parties):
    (tmp_path / "a.bin").write_bytes(pattern(BATCH + 1))
    with pytest.raises(KeyboardInterrupt):
        envelope.seal(
            [tmp_path / "a.bin"],
            tmp_path / "m.env",
            signer=_Interrupt(parties.signer),
            wrapper=parties.wrapper,
        )
    assert os.listdir(tmp_path) == ["a.bin"]
