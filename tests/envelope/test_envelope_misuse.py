"""Misuse gets a precise error that names the setting, the allowed range and the value."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import envelope
from envelope.format import encode_header, sniff
from envelope.sealing import PlainFile
from tests.envelope.envelope_testkit import RECIPIENT, SENDER, Parties, key_bytes


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "a.txt"
    path.write_bytes(b"a")
    return path


def seal(parties: Parties, files, destination: Path, **kwargs):
    return envelope.seal(
        files, destination, signer=parties.signer, wrapper=parties.wrapper, **kwargs
    )


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "file name '' must be 1-255 bytes of UTF-8, got 0"),
        ("x" * 256, f"file name {'x' * 256!r} must be 1-255 bytes of UTF-8, got 256"),
        ("..", "file name '..' must not be '..'"),
        ("-", "file name '-' must not be '-'"),
        ("a/b", "file name 'a/b' must be a base name without '/', '\\' or control characters"),
        ("a\nb", "file name 'a\\nb' must be a base name without '/', '\\' or control characters"),
    ],
)
def test_bad_file_names(tmp_path, parties, source, name, message):
    with pytest.raises(envelope.EnvelopeUsageError) as caught:
        seal(parties, [PlainFile(source, name)], tmp_path / "m.env")
    assert str(caught.value) == message
    assert parties.calls.counts == {}  # rejected before any KMS call


def test_duplicate_names(tmp_path, parties, source):
    with pytest.raises(envelope.EnvelopeUsageError, match=r"file name 'a\.txt' appears twice"):
        seal(parties, [source, PlainFile(source, "a.txt")], tmp_path / "m.env")


@pytest.mark.parametrize(
    ("first", "second"),
    [("README", "readme"), ("Stra\u00dfe.txt", "STRASSE.TXT"), ("caf\u00e9", "cafe\u0301")],
)
def test_names_that_collide_on_a_case_insensitive_disk_are_refused(
    tmp_path, parties, source, first, second
):
    """Both would be one file on macOS or Windows: the receiver could not write them."""
    with pytest.raises(envelope.EnvelopeUsageError) as caught:
        seal(parties, [PlainFile(source, first), PlainFile(source, second)], tmp_path / "m.env")
    assert str(caught.value) == (
        f"file names {first!r} and {second!r} differ only in case or Unicode normalization: "
        "they would be one file on a case-insensitive file system"
    )
    assert parties.calls.counts == {}


def test_no_files(tmp_path, parties):
    with pytest.raises(envelope.EnvelopeUsageError, match="an envelope holds 1-10000 files, got 0"):
        seal(parties, [], tmp_path / "m.env")


def test_single_path_instead_of_a_list(tmp_path, parties, source):
    with pytest.raises(TypeError, match="files must be a sequence"):
        seal(parties, source, tmp_path / "m.env")


def test_missing_input(tmp_path, parties):
    with pytest.raises(envelope.EnvelopeUsageError, match="is not a regular file"):
        seal(parties, [tmp_path / "nope"], tmp_path / "m.env")


def test_existing_destination(tmp_path, parties, source):
    (tmp_path / "m.env").write_bytes(b"keep")
    with pytest.raises(envelope.OutputExistsError, match="already exists"):
        seal(parties, [source], tmp_path / "m.env")
    assert (tmp_path / "m.env").read_bytes() == b"keep"
    assert parties.calls.counts == {}


def test_naive_created_time(tmp_path, parties, source):
    with pytest.raises(envelope.EnvelopeUsageError, match="created must be timezone-aware"):
        seal(parties, [source], tmp_path / "m.env", created=datetime(2026, 1, 1))


def test_wrapper_returning_a_wrong_size_is_named(tmp_path, parties, source):
    class Broken:
        key_id = RECIPIENT

        def wrap(self, data_key: bytes) -> bytes:
            return b"x" * 100

    with pytest.raises(envelope.EnvelopeUsageError, match="the key wrapper returned 100 bytes"):
        envelope.seal([source], tmp_path / "m.env", signer=parties.signer, wrapper=Broken())
    assert not (tmp_path / "m.env").exists()


def test_signer_returning_junk_leaves_no_output(tmp_path, parties, source):
    class Broken:
        key_id = SENDER

        def sign(self, message: bytes) -> bytes:
            return b""

    with pytest.raises(envelope.EnvelopeUsageError, match="the signer returned 0 bytes"):
        envelope.seal([source], tmp_path / "m.env", signer=Broken(), wrapper=parties.wrapper)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt"]  # no temp file left


def test_overlong_signing_key_id_is_named_before_any_key_operation(tmp_path, parties, source):
    """Key ids are at most 512 bytes, so the statement always fits the 4096 bytes KMS signs."""
    signer = envelope.PrivateKeySigner("arn:" + "s" * 4000, key_bytes("sender.p521.pem"))
    with pytest.raises(envelope.EnvelopeUsageError, match="signing key id must be 1-512 char"):
        envelope.seal([source], tmp_path / "m.env", signer=signer, wrapper=parties.wrapper)
    assert parties.calls.counts == {}


def test_missing_output_directory(tmp_path, parties):
    with pytest.raises(envelope.EnvelopeUsageError, match="does not exist"):
        envelope.unseal(
            tmp_path / "m.env",
            tmp_path / "nope",
            unwrapper=parties.unwrapper,
            verifier=parties.verifier,
        )


@pytest.mark.parametrize(
    ("key_id", "wrapped", "salt", "message"),
    [
        ("", b"w" * 256, b"s" * 32, "recipient key id must be 1-512 bytes, got 0"),
        ("a" * 513, b"w" * 256, b"s" * 32, "recipient key id must be 1-512 bytes, got 513"),
        ("a b", b"w" * 256, b"s" * 32, "recipient key id must be printable ASCII without spaces"),
        ("é", b"w" * 256, b"s" * 32, "recipient key id must be printable ASCII without spaces"),
        (
            "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            b"w" * 255,
            b"s" * 32,
            "wrapped data key must be one of (256, 384, 512) bytes, got 255",
        ),
        ("sha256:" + "0" * 64, b"w" * 256, b"s" * 31, "salt must be 32 bytes, got 31"),
    ],
)
def test_header_encoding_limits(key_id, wrapped, salt, message):
    with pytest.raises(envelope.MalformedHeaderError) as caught:
        encode_header(key_id, wrapped, salt)
    assert str(caught.value) == message


def test_sniff():
    assert sniff(b"kms-envelope/v1\n" + b"x" * 10) == "envelope"
    assert sniff(b"\x00" * 512) == "seed"
    assert sniff(b"\x00" * 16, total_size=512) == "seed"
    assert sniff(b"\x00" * 511) == "unknown"
    assert sniff(b"") == "unknown"
    assert sniff(b"kms-envelope/v2\n" + b"x" * 10) == "envelope"
    assert sniff(b"kms-envelope/v3\n" + b"x" * 496) == "seed"  # 512 bytes, not our magic


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (
            lambda: envelope.PublicKeyVerifier(SENDER, b"not a key"),
            "public key is not a DER or PEM SubjectPublicKeyInfo",
        ),
        (
            lambda: envelope.PublicKeyVerifier(
                SENDER,
                envelope.PrivateKeyUnwrapper(
                    RECIPIENT, key_bytes("fast_recipient.rsa2048.pem")
                ).public_key_der(),
            ),
            "signing key must be ECC_NIST_P521 (secp521r1) for ECDSA_SHA_512",
        ),
        (
            lambda: envelope.PublicKeyWrapper(
                RECIPIENT,
                envelope.PrivateKeySigner(SENDER, key_bytes("sender.p521.pem")).public_key_der(),
            ),
            "encryption key must be RSA with a size in (2048, 3072, 4096) for RSAES_OAEP_SHA_256",
        ),
        (
            lambda: envelope.PrivateKeySigner("", key_bytes("sender.p521.pem")),
            "key_id must be a non-empty key ARN",
        ),
    ],
)
def test_key_material_errors(make, message):
    with pytest.raises(ValueError, match=r".") as caught:
        make()
    assert str(caught.value) == message


def test_signer_refuses_more_than_kms_signs_raw():
    signer = envelope.PrivateKeySigner(SENDER, key_bytes("sender.p521.pem"))
    with pytest.raises(ValueError, match="RAW signing takes at most 4096 bytes, got 4097"):
        signer.sign(b"x" * 4097)


def test_missing_destination_directory_is_named_before_any_key_operation(tmp_path, parties, source):
    with pytest.raises(envelope.EnvelopeUsageError, match=r"directory .* does not exist"):
        seal(parties, [source], tmp_path / "nope" / "m.env")
    assert parties.calls.counts == {}
