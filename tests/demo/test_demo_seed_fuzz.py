"""The seed archive is unpacked before its signature is checked: any mutation of a real
archive gives a bundle or SeedFormatError (which the receiver reports as the one opaque
error), never another exception (issue 9: no path from attacker bytes to a crash)."""

from __future__ import annotations

import contextlib
import gzip

from hypothesis import given, settings
from hypothesis import strategies as st

from kms_sign_encrypt import seed

RAW = gzip.decompress(seed.bundle(b'{"m": 1}', b"s" * 100))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, len(RAW) - 1), st.integers(0, 255)), max_size=8),
    st.integers(0, len(RAW)),
)
def test_a_mutated_archive_is_a_bundle_or_a_seed_format_error(
    changes: list[tuple[int, int]], keep: int
) -> None:
    data = bytearray(RAW)
    for at, value in changes:
        data[at] = value
    archive = gzip.compress(bytes(data[:keep]), mtime=0)
    with contextlib.suppress(seed.SeedFormatError):
        seed.unbundle(archive)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=seed.SEED_PLAINTEXT_LIMIT))
def test_any_decrypted_bytes_are_a_bundle_or_a_seed_format_error(archive: bytes) -> None:
    with contextlib.suppress(seed.SeedFormatError):
        seed.unbundle(archive)
