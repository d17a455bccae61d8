"""Keys, counting fakes and attack tools shared by the envelope tests."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from envelope import PrivateKeySigner, PrivateKeyUnwrapper, PublicKeyVerifier, PublicKeyWrapper
from envelope.format import derive_payload_key, encode_header, read_header
from envelope.records import encode_end_record, encode_file_record
from envelope.stream import CHUNK_SIZE, EncryptWriter

KEYS = Path(__file__).parent / "vectors" / "keys"
RECIPIENT = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_RECIPIENT = "arn:aws:kms:us-east-1:123456789012:key/aaaaaaaa-1111-2222-3333-444444444444"
SENDER = "arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321"
OTHER_SENDER = "arn:aws:kms:us-east-1:123456789012:key/bbbbbbbb-5555-6666-7777-888888888888"


def key_bytes(name: str) -> bytes:
    return (KEYS / name).read_bytes()


@dataclass
class Calls:
    """Counts key operations by their KMS name."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, operation: str) -> None:
        self.counts[operation] = self.counts.get(operation, 0) + 1

    def __getitem__(self, operation: str) -> int:
        return self.counts.get(operation, 0)


class CountingSigner:
    def __init__(self, inner: PrivateKeySigner, calls: Calls) -> None:
        self.key_id, self.inner, self._calls = inner.key_id, inner, calls

    def sign(self, message: bytes) -> bytes:
        self._calls.add("Sign")
        return self.inner.sign(message)


class CountingVerifier:
    """Like KMS Verify: one call per verification."""

    def __init__(self, inner: PublicKeyVerifier, calls: Calls) -> None:
        self.key_id, self.inner, self._calls = inner.key_id, inner, calls

    def verify(self, message: bytes, signature: bytes) -> bool:
        self._calls.add("Verify")
        return self.inner.verify(message, signature)


class CountingWrapper:
    """Like KMS Encrypt: one call per wrap."""

    def __init__(self, inner: PublicKeyWrapper, calls: Calls) -> None:
        self.key_id, self.inner, self._calls = inner.key_id, inner, calls

    def wrap(self, data_key: bytes) -> bytes:
        self._calls.add("Encrypt")
        return self.inner.wrap(data_key)


class CountingUnwrapper:
    """Like KMS Decrypt: one call per unwrap."""

    def __init__(self, inner: PrivateKeyUnwrapper, calls: Calls) -> None:
        self.key_id, self.inner, self._calls = inner.key_id, inner, calls

    def unwrap(self, wrapped: bytes) -> bytes:
        self._calls.add("Decrypt")
        return self.inner.unwrap(wrapped)


@dataclass
class Parties:
    """Alice (sender), Bob (recipient), plus Mallory's keys, all offline and counted."""

    calls: Calls
    signer: CountingSigner
    verifier: CountingVerifier
    wrapper: CountingWrapper
    unwrapper: CountingUnwrapper
    other_signer: PrivateKeySigner
    other_unwrapper: PrivateKeyUnwrapper


@cache
def _signer(key_id: str, pem: str) -> PrivateKeySigner:
    return PrivateKeySigner(key_id, key_bytes(pem))


@cache
def _unwrapper(key_id: str, pem: str) -> PrivateKeyUnwrapper:
    return PrivateKeyUnwrapper(key_id, key_bytes(pem))  # loading RSA keys is slow: once


def make_parties(recipient_pem: str = "fast_recipient.rsa2048.pem") -> Parties:
    calls = Calls()
    signer = _signer(SENDER, "sender.p521.pem")
    unwrapper = _unwrapper(RECIPIENT, recipient_pem)
    return Parties(
        calls=calls,
        signer=CountingSigner(signer, calls),
        verifier=CountingVerifier(signer.verifier(), calls),
        wrapper=CountingWrapper(unwrapper.wrapper(), calls),
        unwrapper=CountingUnwrapper(unwrapper, calls),
        other_signer=_signer(OTHER_SENDER, "other_sender.p521.pem"),
        other_unwrapper=_unwrapper(OTHER_RECIPIENT, "other_recipient.rsa4096.pem"),
    )


def sender_public_key() -> ec.EllipticCurvePublicKey:
    """Alice's public key as a ``cryptography`` object (what the independent reader takes)."""
    key = serialization.load_der_public_key(_signer(SENDER, "sender.p521.pem").public_key_der())
    assert isinstance(key, ec.EllipticCurvePublicKey)
    return key


def pattern(size: int, seed: int = 0) -> bytes:
    """Deterministic, incompressible-looking bytes."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha512(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def build_envelope(
    recipient_key_id: str,
    wrapper,
    inner: bytes,
    *,
    data_key: bytes | None = None,
    salt: bytes | None = None,
    final_flag: bool = True,
) -> bytes:
    """Encrypt arbitrary inner plaintext as a payload: the attacker's (or a broken sender's)
    tool for envelopes the real sealer would never write."""
    data_key = data_key or os.urandom(32)
    salt = salt or os.urandom(32)
    header = encode_header(recipient_key_id, wrapper.wrap(data_key), salt)
    return build_raw(header, inner, data_key, final_flag=final_flag)


def build_raw(header: bytes, inner: bytes, data_key: bytes, *, final_flag: bool = True) -> bytes:
    """Encrypt ``inner`` under ``data_key`` after a header made by hand (its last 32 bytes
    are the salt): the tool of a recipient who knows a data key and rewrites the header."""
    key = derive_payload_key(data_key, header, header[-32:])

    class _Sink:
        def __init__(self) -> None:
            self.data = bytearray()

        def write(self, view) -> None:
            self.data += view

    sink = _Sink()
    writer = EncryptWriter(sink, key)  # type: ignore[arg-type]
    writer.write(inner)
    if final_flag:
        writer.close()
    else:
        writer._flush(writer._fill, final=False)  # a sender that never marks the end
    return header + bytes(sink.data)


def inner_plaintext(files: list[tuple[str, bytes]], statement: bytes, signature: bytes) -> bytes:
    records = b"".join(encode_file_record(name, len(data)) + data for name, data in files)
    return records + encode_end_record(statement, signature)


def decrypt_inner(envelope_bytes: bytes, unwrapper: PrivateKeyUnwrapper) -> bytes:
    """Bob's tool: the whole decrypted payload (for the forwarding attack)."""
    import io

    from envelope.stream import DecryptReader

    source = io.BytesIO(envelope_bytes)
    header = read_header(source)
    data_key = unwrapper.unwrap(header.wrapped_for(unwrapper.key_id))
    key = derive_payload_key(data_key, header.raw, header.salt)
    return b"".join(bytes(b) for b in DecryptReader(source, key).batches())


CHUNK = CHUNK_SIZE
