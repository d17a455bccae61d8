"""The data-key wrap starts at once and runs beside hashing and Sign (issue 16): a small send
costs one KMS round trip. Shown without clocks: the wrap waits for Sign to begin, which a
sender that wraps first and signs afterwards would never let happen."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import envelope
from envelope.sealing import SMALL_INPUT
from tests.envelope.envelope_testkit import make_parties, pattern

WAIT = 10.0  # seconds: only reached if the two calls do not overlap


class _WrapAfterSignStarts:
    def __init__(self, inner: object, sign_started: threading.Event) -> None:
        self._inner = inner
        self._sign_started = sign_started
        self.key_id = inner.key_id  # type: ignore[attr-defined]
        self.overlapped = False
        self.thread = ""

    def wrap(self, data_key: bytes) -> bytes:
        self.thread = threading.current_thread().name
        self.overlapped = self._sign_started.wait(WAIT)
        return self._inner.wrap(data_key)  # type: ignore[attr-defined]


class _SignAnnounces:
    def __init__(self, inner: object, started: threading.Event) -> None:
        self._inner = inner
        self._started = started
        self.key_id = inner.key_id  # type: ignore[attr-defined]

    def sign(self, message: bytes) -> bytes:
        self._started.set()
        return self._inner.sign(message)  # type: ignore[attr-defined]


def test_a_small_send_signs_while_the_wrap_is_in_flight(tmp_path: Path) -> None:
    parties = make_parties()
    started = threading.Event()
    wrapper = _WrapAfterSignStarts(parties.wrapper, started)
    (tmp_path / "a.txt").write_bytes(pattern(1024))
    envelope.seal(
        [tmp_path / "a.txt"],
        tmp_path / "m.env",
        signer=_SignAnnounces(parties.signer, started),
        wrapper=wrapper,
    )
    assert wrapper.overlapped
    assert wrapper.thread.startswith("envelope-wrap")
    out = tmp_path / "out"
    out.mkdir()
    envelope.unseal(tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert (out / "a.txt").read_bytes() == pattern(1024)
    assert parties.calls["Sign"] == 1
    assert parties.calls["Encrypt"] == 1


@pytest.mark.parametrize("size", [SMALL_INPUT, SMALL_INPUT + 1])
def test_both_paths_round_trip_at_the_small_input_boundary(tmp_path: Path, size: int) -> None:
    parties = make_parties()
    (tmp_path / "f").write_bytes(pattern(size, seed=size))
    envelope.seal(
        [tmp_path / "f"], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper
    )
    out = tmp_path / "out"
    out.mkdir()
    result = envelope.unseal(
        tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=parties.verifier
    )
    assert (out / "f").read_bytes() == pattern(size, seed=size)
    assert result.statement.bytes == size


def test_a_failed_wrap_writes_nothing(tmp_path: Path) -> None:
    parties = make_parties()

    class Refusing:
        key_id = parties.wrapper.key_id

        def wrap(self, data_key: bytes) -> bytes:
            raise PermissionError("kms:Encrypt denied")

    (tmp_path / "a").write_bytes(b"x")
    with pytest.raises(PermissionError):
        envelope.seal(
            [tmp_path / "a"], tmp_path / "m.env", signer=parties.signer, wrapper=Refusing()
        )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
