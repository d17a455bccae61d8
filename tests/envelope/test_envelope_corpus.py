"""The bad-input corpus: every input here is rejected, with a clear error, nothing written,
and header faults rejected before any KMS call."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

import envelope
import envelope.sealing as sealing_module
import envelope.unsealing as unseal_module
from envelope import (
    AUTHENTICATION_FAILED,
    EnvelopeAuthenticationError,
    EnvelopeError,
    EnvelopeUsageError,
    MalformedHeaderError,
    NotAnEnvelopeError,
    WrongRecipientError,
)
from envelope.format import MAGIC
from envelope.stream import SEALED_CHUNK_SIZE
from tests.envelope.envelope_testkit import (
    CHUNK,
    OTHER_RECIPIENT,
    RECIPIENT,
    SENDER,
    Parties,
    build_envelope,
    decrypt_inner,
    inner_plaintext,
    key_bytes,
    pattern,
)

KEY_ID_LEN_AT = len(MAGIC)
KEY_ID_AT = KEY_ID_LEN_AT + 2
WRAPPED_LEN_AT = KEY_ID_AT + len(RECIPIENT)
WRAPPED_AT = WRAPPED_LEN_AT + 2
END_AT = WRAPPED_AT + 256  # fast_recipient is RSA-2048; then the u16 0 ending the list
SALT_AT = END_AT + 2
PAYLOAD_AT = SALT_AT + 32


@pytest.fixture
def good(tmp_path: Path, parties: Parties) -> bytes:
    """Two files; the payload spans four chunks."""
    (tmp_path / "a.bin").write_bytes(pattern(3 * CHUNK + 100))
    (tmp_path / "b.txt").write_bytes(b"second file\n")
    destination = tmp_path / "good.env"
    envelope.seal(
        [tmp_path / "a.bin", tmp_path / "b.txt"],
        destination,
        signer=parties.signer,
        wrapper=parties.wrapper,
    )
    parties.calls.counts.clear()
    return destination.read_bytes()


def chunk_bounds(data: bytes) -> list[tuple[int, int]]:
    return [
        (s, min(s + SEALED_CHUNK_SIZE, len(data)))
        for s in range(PAYLOAD_AT, len(data), SEALED_CHUNK_SIZE)
    ]


def open_bytes(tmp_path: Path, parties: Parties, data: bytes, **overrides) -> Path:
    """Unseal ``data``; returns the (must be empty) output directory via the exception path."""
    source = tmp_path / "bad.env"
    source.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    kwargs = {"unwrapper": parties.unwrapper, "verifier": parties.verifier, **overrides}
    envelope.unseal(source, out, **kwargs)
    return out


def expect_rejected(
    tmp_path: Path,
    parties: Parties,
    data: bytes,
    error: type[Exception] = EnvelopeError,
    **overrides,
) -> Exception:
    with pytest.raises(error) as caught:
        open_bytes(tmp_path, parties, data, **overrides)
    assert os.listdir(tmp_path / "out") == [], "nothing may be written on failure"
    return caught.value


def expect_tampered(tmp_path: Path, parties: Parties, data: bytes, **overrides) -> None:
    err = expect_rejected(tmp_path, parties, data, EnvelopeAuthenticationError, **overrides)
    assert str(err) == AUTHENTICATION_FAILED


def test_the_good_envelope_opens(tmp_path: Path, parties: Parties, good: bytes):
    out = open_bytes(tmp_path, parties, good)
    assert sorted(os.listdir(out)) == ["a.bin", "b.txt"]


# --- truncation at every field boundary -------------------------------------------------


def header_boundaries() -> list[int]:
    return [
        0,
        1,
        len(MAGIC) - 1,
        KEY_ID_LEN_AT,
        KEY_ID_LEN_AT + 1,
        KEY_ID_AT,
        WRAPPED_LEN_AT,
        WRAPPED_LEN_AT + 1,
        WRAPPED_AT,
        WRAPPED_AT + 100,
        SALT_AT,
        SALT_AT + 31,
    ]


@pytest.mark.parametrize("cut", header_boundaries())
def test_truncated_header_is_rejected_before_kms(tmp_path, parties, good, cut):
    err = expect_rejected(tmp_path, parties, good[:cut], EnvelopeUsageError)
    if cut >= len(MAGIC):
        assert isinstance(err, MalformedHeaderError)
        assert str(err).startswith("header truncated in ")
    assert parties.calls["Decrypt"] == 0


def test_header_without_payload_is_tampering(tmp_path, parties, good):
    expect_tampered(tmp_path, parties, good[:PAYLOAD_AT])


def test_truncation_at_every_chunk_boundary_and_inside_chunks(tmp_path, parties, good):
    bounds = chunk_bounds(good)
    assert len(bounds) == 4
    cuts = {PAYLOAD_AT + 1, PAYLOAD_AT + 16, PAYLOAD_AT + 17, len(good) - 1}
    for start, end in bounds:
        cuts |= {start, start + 1, end - 17, end - 16, end - 1}
    for cut in sorted(cuts - {len(good)}):
        if cut <= PAYLOAD_AT:
            continue
        expect_tampered(tmp_path, parties, good[:cut])


# --- a bit flip in every region ---------------------------------------------------------

HEADER_REGIONS = {
    "magic": 3,
    "key id length": KEY_ID_LEN_AT + 1,
    "key id": KEY_ID_AT + 20,
    "wrapped key length": WRAPPED_LEN_AT + 1,
}


@pytest.mark.parametrize("region", sorted(HEADER_REGIONS))
def test_bit_flip_in_routing_fields_is_rejected_before_kms(tmp_path, parties, good, region):
    data = bytearray(good)
    data[HEADER_REGIONS[region]] ^= 0x04
    expect_rejected(tmp_path, parties, bytes(data), EnvelopeUsageError)
    assert parties.calls["Decrypt"] == 0


def test_every_byte_region_bit_flip_after_routing_is_tampering(tmp_path, parties, good):
    offsets = [WRAPPED_AT, WRAPPED_AT + 255, SALT_AT, SALT_AT + 31]
    for start, end in chunk_bounds(good):
        offsets += [start, min(start + 1000, end - 17), end - 17, end - 16, end - 1]
    for offset in offsets:  # body start, a body byte, body end, tag start, tag end
        data = bytearray(good)
        data[offset] ^= 0x01
        expect_tampered(tmp_path, parties, bytes(data))


# --- chunk order, duplication, trailing bytes ---------------------------------------------


def rearranged(good: bytes, order: list[int]) -> bytes:
    chunks = [good[s:e] for s, e in chunk_bounds(good)]
    return good[:PAYLOAD_AT] + b"".join(chunks[i] for i in order)


@pytest.mark.parametrize(
    "order",
    [
        [1, 0, 2, 3],
        [0, 2, 1, 3],
        [0, 1, 3, 2],
        [0, 2, 3],
        [0, 1, 2],
        [0, 0, 1, 2, 3],
        [0, 1, 2, 2, 3],
        [0, 1, 2, 3, 3],
        [3],
    ],
    ids=str,
)
def test_swapped_dropped_or_duplicated_chunks(tmp_path, parties, good, order):
    expect_tampered(tmp_path, parties, rearranged(good, order))


@pytest.mark.parametrize("trailer", [b"\x00", b"x" * 16, b"y" * 17, b"z" * SEALED_CHUNK_SIZE])
def test_trailing_bytes(tmp_path, parties, good, trailer):
    expect_tampered(tmp_path, parties, good + trailer)


def test_payload_without_a_final_chunk(tmp_path, parties):
    inner = inner_plaintext([("a", b"abc")], b"{}", b"s" * 64)
    data = build_envelope(RECIPIENT, parties.wrapper, inner, final_flag=False)
    expect_tampered(tmp_path, parties, data)


# --- absurd lengths ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("offset", "value", "message"),
    [
        (KEY_ID_LEN_AT, 0, "recipient key id length must be 1-512, got 0"),
        (KEY_ID_LEN_AT, 0xFFFF, "recipient key id length must be 1-512, got 65535"),
        (WRAPPED_LEN_AT, 0, "wrapped data key length must be one of (256, 384, 512), got 0"),
        (WRAPPED_LEN_AT, 255, "wrapped data key length must be one of (256, 384, 512), got 255"),
        (
            WRAPPED_LEN_AT,
            0xFFFF,
            "wrapped data key length must be one of (256, 384, 512), got 65535",
        ),
    ],
)
def test_absurd_header_lengths_are_named_and_rejected_before_kms(
    tmp_path, parties, good, offset, value, message
):
    data = bytearray(good)
    data[offset : offset + 2] = value.to_bytes(2, "big")
    err = expect_rejected(tmp_path, parties, bytes(data), MalformedHeaderError)
    assert str(err) == message
    assert parties.calls["Decrypt"] == 0


def _file_record(name: bytes, size: int) -> bytes:
    return b"\x01" + len(name).to_bytes(2, "big") + name + size.to_bytes(8, "big")


ABSURD_INNER = {
    "file size 2^64-1": _file_record(b"a", 2**64 - 1) + b"abc",
    "file size beyond the data": _file_record(b"a", 10) + b"abc",
    "name length 0": b"\x01\x00\x00" + (3).to_bytes(8, "big") + b"abc",
    "name length 65535": b"\x01\xff\xff" + b"a" * 300,
    "name with a slash": _file_record(b"../evil", 0) + b"\x00\x00\x02{}\x00\x40" + b"s" * 64,
    "unknown record type": b"\x07" + b"a" * 20,
    "no files": b"\x00\x00\x02{}\x00\x40" + b"s" * 64,
    "statement length 65535": _file_record(b"a", 0) + b"\x00\xff\xff" + b"{}",
    "statement length 0": _file_record(b"a", 0) + b"\x00\x00\x00\x00\x40" + b"s" * 64,
    "signature length 0": _file_record(b"a", 0) + b"\x00\x00\x02{}\x00\x00",
    "signature length 65535": _file_record(b"a", 0) + b"\x00\x00\x02{}\xff\xff" + b"s" * 64,
    "bytes after the end record": _file_record(b"a", 0) + b"\x00\x00\x02{}\x00\x08" + b"s" * 9,
    "duplicate file names": _file_record(b"a", 0)
    + _file_record(b"a", 0)
    + b"\x00\x00\x02{}\x00\x08"
    + b"s" * 8,
}


@pytest.mark.parametrize("case", sorted(ABSURD_INNER))
def test_absurd_inner_lengths_and_structure(tmp_path, parties, case):
    data = build_envelope(RECIPIENT, parties.wrapper, ABSURD_INNER[case])
    expect_tampered(tmp_path, parties, data)


# --- not an envelope -------------------------------------------------------------------------


def test_empty_file(tmp_path, parties):
    err = expect_rejected(tmp_path, parties, b"", NotAnEnvelopeError)
    assert str(err) == "not an envelope: the input is empty"
    assert parties.calls["Decrypt"] == 0


def test_seed_format_file_is_named_as_such(tmp_path, parties):
    # The seed: a bare RSA-OAEP ciphertext (512 bytes for RSA_4096) of a tar.gz.
    seed = parties.other_unwrapper.wrapper().wrap(b"\x1f\x8b" + b"tar.gz bytes")
    assert len(seed) == 512
    assert envelope.sniff(seed) == "seed"
    assert envelope.sniff(seed[:16], total_size=512) == "seed"
    err = expect_rejected(tmp_path, parties, seed, NotAnEnvelopeError)
    assert str(err) == (
        "not an envelope: this is a seed-format message (a bare 512-byte RSA-OAEP ciphertext)"
    )
    assert parties.calls["Decrypt"] == 0


def test_other_bytes_are_not_an_envelope(tmp_path, parties):
    err = expect_rejected(tmp_path, parties, b"hello world, not an envelope", NotAnEnvelopeError)
    assert str(err) == "not an envelope: the input does not start with the envelope magic"


def test_newer_version_is_named(tmp_path, parties, good):
    data = b"kms-envelope/v3\n" + good[len(MAGIC) :]
    err = expect_rejected(tmp_path, parties, data, envelope.UnsupportedVersionError)
    assert "kms-envelope/v3" in str(err)


# --- wrong recipient, unexpected sender, forwarding -------------------------------------------


def test_wrong_recipient_is_named_before_kms(tmp_path, parties):
    (tmp_path / "a").write_bytes(b"for Carol")
    envelope.seal(
        [tmp_path / "a"],
        tmp_path / "c.env",
        signer=parties.signer,
        wrapper=parties.other_unwrapper.wrapper(),
    )
    err = expect_rejected(tmp_path, parties, (tmp_path / "c.env").read_bytes(), WrongRecipientError)
    assert str(err) == (
        f"this envelope is addressed to key {OTHER_RECIPIENT!r}, not to {RECIPIENT!r}"
    )
    assert parties.calls["Decrypt"] == 0


def seal_by(tmp_path: Path, signer, wrapper) -> bytes:
    (tmp_path / "m.txt").write_bytes(b"pay 100 to Mallory")
    envelope.seal([tmp_path / "m.txt"], tmp_path / "s.env", signer=signer, wrapper=wrapper)
    return (tmp_path / "s.env").read_bytes()


def test_unexpected_sender_is_rejected_without_a_verify_call(tmp_path, parties):
    data = seal_by(tmp_path, parties.other_signer, parties.wrapper)  # Mallory signs as herself
    expect_tampered(tmp_path, parties, data)
    assert parties.calls["Verify"] == 0


def test_sender_claiming_someone_elses_key_fails_the_signature(tmp_path, parties):
    impostor = envelope.PrivateKeySigner(SENDER, key_bytes("other_sender.p521.pem"))  # claims Alice
    data = seal_by(tmp_path, impostor, parties.wrapper)
    expect_tampered(tmp_path, parties, data)
    assert parties.calls["Verify"] == 1


def forwarded_to_carol(tmp_path: Path, parties: Parties) -> bytes:
    """Bob decrypts Alice's envelope and re-encrypts the signed content to Carol (Davis)."""
    alice_to_bob = seal_by(tmp_path, parties.signer, parties.wrapper)
    inner = decrypt_inner(alice_to_bob, parties.unwrapper.inner)
    return build_envelope(OTHER_RECIPIENT, parties.other_unwrapper.wrapper(), inner)


def test_surreptitious_forwarding_is_detected(tmp_path, parties):
    data = forwarded_to_carol(tmp_path, parties)
    expect_tampered(tmp_path, parties, data, unwrapper=parties.other_unwrapper)


def test_without_recipient_binding_forwarding_would_succeed(tmp_path, parties, monkeypatch):
    """Breaks the property on purpose: the forwarding test above is not vacuous."""
    data = forwarded_to_carol(tmp_path, parties)
    monkeypatch.setattr(unseal_module, "statement_binds", lambda statement, **_: True)
    out = open_bytes(tmp_path, parties, data, unwrapper=parties.other_unwrapper)
    assert (out / "m.txt").read_bytes() == b"pay 100 to Mallory"


# --- one opaque error ------------------------------------------------------------------------


def test_all_tampering_gets_the_same_message_and_no_chained_cause(tmp_path, parties, good):
    cases: list[Callable[[], bytes]] = [
        lambda: good[:-1],
        lambda: rearranged(good, [1, 0, 2, 3]),
        lambda: good[:SALT_AT] + bytes(32) + good[PAYLOAD_AT:],
        lambda: forwarded_to_carol(tmp_path, parties),
    ]
    seen = set()
    for make in cases:
        unwrapper = parties.other_unwrapper if make is cases[-1] else parties.unwrapper
        with pytest.raises(EnvelopeAuthenticationError) as caught:
            open_bytes(tmp_path, parties, make(), unwrapper=unwrapper)
        seen.add(str(caught.value))
        assert caught.value.__cause__ is None
        assert caught.value.__suppress_context__ or caught.value.__context__ is None
    assert seen == {AUTHENTICATION_FAILED}


def test_existing_output_is_not_overwritten(tmp_path, parties, good):
    out = tmp_path / "out"
    out.mkdir()
    (out / "b.txt").write_bytes(b"precious")
    with pytest.raises(envelope.OutputExistsError):
        open_bytes(tmp_path, parties, good)
    assert sorted(os.listdir(out)) == ["b.txt"]
    assert (out / "b.txt").read_bytes() == b"precious"


# --- the header binding and the signature check are what stop these --------------------------


def rewrapped(good: bytes, parties: Parties) -> bytes:
    """Someone who knows the data key re-wraps it (fresh OAEP randomness): a new header."""
    import io

    from envelope.format import read_header

    header = read_header(io.BytesIO(good))
    data_key = parties.unwrapper.inner.unwrap(header.wrapped_data_key)
    new_wrapped = parties.wrapper.inner.wrap(data_key)
    assert new_wrapped != header.wrapped_data_key
    return good[:WRAPPED_AT] + new_wrapped + good[END_AT:]


def test_a_rewrapped_header_is_rejected(tmp_path, parties, good):
    expect_tampered(tmp_path, parties, rewrapped(good, parties))


def test_without_header_binding_a_rewrapped_header_would_pass(tmp_path, parties, good, monkeypatch):
    """Breaks the property on purpose: the payload key ignores the header."""
    import envelope.format as format_module

    unbound = format_module.derive_payload_key

    def ignore_header(data_key: bytes, header: bytes, salt: bytes) -> bytes:
        return unbound(data_key, b"", salt)

    # Seal a fresh envelope under the broken key schedule, then re-wrap its header.
    monkeypatch.setattr(unseal_module, "derive_payload_key", ignore_header)
    monkeypatch.setattr(sealing_module, "derive_payload_key", ignore_header)
    (tmp_path / "a.bin").write_bytes(b"abc")
    envelope.seal(
        [tmp_path / "a.bin"], tmp_path / "weak.env", signer=parties.signer, wrapper=parties.wrapper
    )
    data = rewrapped((tmp_path / "weak.env").read_bytes(), parties)
    out = open_bytes(tmp_path, parties, data)
    assert (out / "a.bin").read_bytes() == b"abc"


def test_without_the_signature_check_an_impostor_would_pass(tmp_path, parties, monkeypatch):
    """Breaks the property on purpose: the impostor test relies on the signature check."""
    impostor = envelope.PrivateKeySigner(SENDER, key_bytes("other_sender.p521.pem"))
    data = seal_by(tmp_path, impostor, parties.wrapper)
    monkeypatch.setattr(parties.verifier, "verify", lambda message, signature: True)
    out = open_bytes(tmp_path, parties, data)
    assert (out / "m.txt").read_bytes() == b"pay 100 to Mallory"
