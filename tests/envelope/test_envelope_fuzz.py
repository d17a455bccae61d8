"""Bounded property-based tests of the reader (hypothesis)."""

from __future__ import annotations

import itertools
import os
import tempfile
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envelope
from envelope.format import MAGIC
from envelope.records import RecordParser, encode_end_record, encode_file_record
from tests.envelope.envelope_testkit import make_parties, pattern

PARTIES = make_parties()
BOUNDED = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@cache
def good_envelope() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "a").write_bytes(pattern(70_000))
        (Path(tmp) / "b").write_bytes(b"bee")
        out = Path(tmp) / "m"
        envelope.seal(
            [Path(tmp) / "a", Path(tmp) / "b"], out, signer=PARTIES.signer, wrapper=PARTIES.wrapper
        )
        return out.read_bytes()


def unseal_bytes(data: bytes) -> tuple[BaseException | None, list[str]]:
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in"
        source.write_bytes(data)
        out = Path(tmp) / "out"
        out.mkdir()
        try:
            envelope.unseal(source, out, unwrapper=PARTIES.unwrapper, verifier=PARTIES.verifier)
        except envelope.EnvelopeError as exc:
            return exc, os.listdir(out)
        return None, os.listdir(out)


mutation = st.one_of(
    st.tuples(st.just("flip"), st.integers(0, 10**6), st.integers(1, 255)),
    st.tuples(st.just("cut"), st.integers(0, 10**6), st.just(0)),
    st.tuples(st.just("insert"), st.integers(0, 10**6), st.integers(0, 255)),
)


@BOUNDED
@given(st.lists(mutation, min_size=1, max_size=3))
def test_any_mutation_is_rejected_with_an_envelope_error_and_nothing_written(mutations):
    data = bytearray(good_envelope())
    for kind, position, value in mutations:
        at = position % (len(data) + 1)
        if kind == "flip" and at < len(data):
            data[at] ^= value
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = bytes([value])
    if bytes(data) == good_envelope():
        return
    error, written = unseal_bytes(bytes(data))
    assert error is not None
    assert written == []


@BOUNDED
@given(st.binary(max_size=2000))
def test_random_bytes_after_the_magic_are_rejected(tail):
    error, written = unseal_bytes(MAGIC + tail)
    assert error is not None
    assert written == []


@settings(max_examples=100, deadline=None)
@given(
    files=st.lists(
        st.tuples(st.text("abcdef", min_size=1, max_size=8), st.binary(max_size=300)),
        min_size=1,
        max_size=4,
        unique_by=lambda f: f[0],
    ),
    cuts=st.lists(st.integers(0, 2000), max_size=8),
)
def test_record_parser_is_independent_of_how_the_stream_is_split(files, cuts):
    stream = b"".join(encode_file_record(n, len(d)) + d for n, d in files)
    stream += encode_end_record(b'{"x": 1}', b"s" * 100)
    seen: list[tuple[str, bytearray]] = []
    parser = RecordParser(
        lambda name, size: seen.append((name, bytearray())),
        lambda view: seen[-1][1].extend(view),
        lambda: None,
    )
    points = sorted({c % (len(stream) + 1) for c in cuts} | {0, len(stream)})
    for start, end in itertools.pairwise(points):
        parser.feed(memoryview(stream)[start:end])
    end_record = parser.finish()
    assert [(n, bytes(d)) for n, d in seen] == files
    assert end_record.statement == b'{"x": 1}'
