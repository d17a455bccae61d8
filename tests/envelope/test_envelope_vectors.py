"""The committed vectors, read by the envelope package and by an independent reader."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import envelope
from tests.envelope import independent_reader

VECTORS = Path(__file__).parent / "vectors"
KEYS = VECTORS / "keys"
ERRORS = {
    "authentication failure": envelope.EnvelopeAuthenticationError,
    "wrong recipient": envelope.WrongRecipientError,
    "header failure": envelope.MalformedHeaderError,
    "not an envelope": envelope.NotAnEnvelopeError,
    "unsupported version": envelope.UnsupportedVersionError,
}


@dataclass
class Vector:
    expect: str
    fields: dict[str, str]
    files: list[str]
    body: bytes


def load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, body = raw.split(b"\n\n", 1)
    fields: dict[str, str] = {}
    files: list[str] = []
    for line in head.decode().splitlines():
        key, value = line.split(": ", 1)
        if key == "file":
            files.append(value)
        else:
            fields[key] = value
    return Vector(fields["expect"], fields, files, body)


@cache
def private_key(name: str):
    return serialization.load_pem_private_key((KEYS / name).read_bytes(), password=None)


ALL = sorted(VECTORS.glob("*.vec"))


def test_vector_set_covers_every_outcome():
    assert {load(p).expect for p in ALL} == {"success", *ERRORS}
    assert len(ALL) >= 23


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_independent_reader(path: Path):
    vector = load(path)
    kwargs = {
        "recipient_arn": vector.fields["recipient"],
        "rsa_private_key": private_key(vector.fields["recipient key"]),
        "sender_arn": vector.fields["sender"],
        "sender_public_key": private_key(vector.fields["sender key"]).public_key(),
    }
    if vector.expect == "success":
        opened = independent_reader.read(vector.body, **kwargs)
        listed = [f"{hashlib.sha512(body).hexdigest()}  {name}" for name, body in opened.files]
        assert listed == vector.files
    else:
        with pytest.raises(independent_reader.RejectedError) as caught:
            independent_reader.read(vector.body, **kwargs)
        assert caught.value.kind == vector.expect


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_envelope_package(path: Path, tmp_path: Path):
    vector = load(path)
    source = tmp_path / "input"
    source.write_bytes(vector.body)
    out = tmp_path / "out"
    out.mkdir()
    unwrapper = envelope.PrivateKeyUnwrapper(
        vector.fields["recipient"], private_key(vector.fields["recipient key"])
    )
    verifier = envelope.PrivateKeySigner(
        vector.fields["sender"], private_key(vector.fields["sender key"])
    ).verifier()
    if vector.expect == "success":
        result = envelope.unseal(source, out, unwrapper=unwrapper, verifier=verifier)
        assert [f"{f.sha512}  {f.name}" for f in result.files] == vector.files
        for received in result.files:
            assert hashlib.sha512(received.path.read_bytes()).hexdigest() == received.sha512
    else:
        with pytest.raises(ERRORS[vector.expect]):
            envelope.unseal(source, out, unwrapper=unwrapper, verifier=verifier)
        assert os.listdir(out) == []
