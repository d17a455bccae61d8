"""A final chunk must hold 1 to 64 KiB. A writer that seals a full chunk as non-final and then
an empty final chunk (a valid tag over nothing) breaks the spec; both readers reject it, even
though every tag is valid and the statement is signed, and both accept the same record stream
sealed correctly (the control)."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import envelope
from envelope.format import derive_payload_key, encode_header
from envelope.statement import Statement, manifest_line
from envelope.stream import chunk_nonce
from tests.envelope import independent_reader
from tests.envelope.envelope_testkit import (
    CHUNK,
    RECIPIENT,
    SENDER,
    Parties,
    inner_plaintext,
    key_bytes,
    sender_public_key,
)


def _inner_of_exactly_one_chunk(parties: Parties) -> bytes:
    size = CHUNK - 600
    for _ in range(10):
        data = bytes(size)
        digest = hashlib.sha512(manifest_line(hashlib.sha512(data).hexdigest(), "z")).hexdigest()
        statement = Statement("kms-envelope/v2", SENDER, (RECIPIENT,), "2026-11-28T22:00:00Z", 1,
                              size, digest).to_json()  # fmt: skip
        inner = inner_plaintext([("z", data)], statement, parties.signer.sign(statement))
        if len(inner) == CHUNK:
            return inner
        size += CHUNK - len(inner)
    raise AssertionError("could not hit the chunk size")  # pragma: no cover


def _envelope(parties: Parties, inner: bytes, *, empty_final: bool) -> bytes:
    data_key, salt = os.urandom(32), os.urandom(32)
    header = encode_header(RECIPIENT, parties.wrapper.wrap(data_key), salt)
    aead = AESGCM(derive_payload_key(data_key, header, salt))
    if not empty_final:
        return header + aead.encrypt(chunk_nonce(0, True), inner, None)
    return (
        header
        + aead.encrypt(chunk_nonce(0, False), inner, None)
        + aead.encrypt(chunk_nonce(1, True), b"", None)
    )


def _opens(tmp_path: Path, parties: Parties, data: bytes) -> tuple[bool, bool]:
    source = tmp_path / "m.env"
    source.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    try:
        envelope.unseal(source, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
        package = True
    except envelope.EnvelopeAuthenticationError:
        assert os.listdir(out) == []
        package = False
    try:
        independent_reader.read(
            data,
            recipient_arn=RECIPIENT,
            rsa_private_key=serialization.load_pem_private_key(
                key_bytes("fast_recipient.rsa2048.pem"), password=None
            ),
            sender_arn=SENDER,
            sender_public_key=sender_public_key(),
        )
        independent = True
    except independent_reader.RejectedError:
        independent = False
    return package, independent


@pytest.mark.parametrize(("empty_final", "expected"), [(False, True), (True, False)])
def test_empty_final_chunk_after_a_full_one(
    tmp_path: Path, parties: Parties, empty_final: bool, expected: bool
):
    inner = _inner_of_exactly_one_chunk(parties)
    data = _envelope(parties, inner, empty_final=empty_final)
    assert _opens(tmp_path, parties, data) == (expected, expected)
