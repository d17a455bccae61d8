"""Key files (kms_sign_encrypt.key_files): the key-id/name lines and trust files, strictly."""

from __future__ import annotations

import contextlib

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from envelope.key_ids import fingerprint
from kms_sign_encrypt.errors import KeyFileError
from kms_sign_encrypt.key_files import (
    check_trusted,
    labelled_pem,
    parse_key_file,
    trusted_sender_from_pem,
    trusted_senders_from_file,
)

ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PEM, SPKI = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
KEY = ec.generate_private_key(ec.SECP521R1()).public_key()
OTHER = ec.generate_private_key(ec.SECP521R1()).public_key()
KEY_PEM = KEY.public_bytes(PEM, SPKI)
OTHER_PEM = OTHER.public_bytes(PEM, SPKI)
KEY_ID = fingerprint(KEY.public_bytes(serialization.Encoding.DER, SPKI))


def test_a_pem_without_a_key_id_line_is_named_by_its_fingerprint() -> None:
    assert trusted_sender_from_pem(KEY_PEM).key_id == KEY_ID


def test_a_key_id_line_names_a_kms_key_by_its_arn() -> None:
    trusted = trusted_sender_from_pem(labelled_pem(KEY_PEM, ARN))
    assert trusted.key_id == ARN
    assert trusted.public_key_pem == KEY_PEM


def test_a_fingerprint_pin_must_be_the_keys_own() -> None:
    assert trusted_sender_from_pem(labelled_pem(KEY_PEM, KEY_ID)).key_id == KEY_ID
    with pytest.raises(KeyFileError, match="is not the key's fingerprint"):
        trusted_sender_from_pem(labelled_pem(OTHER_PEM, KEY_ID))


@pytest.mark.parametrize(
    "key_id",
    ["alias/ours", ARN.upper(), KEY_ID.upper(), "1234abcd-12ab-34cd-56ef-1234567890ab", ""],
    ids=["alias", "upper-case ARN", "upper-case fingerprint", "bare key id", "empty"],
)
def test_a_key_id_line_in_another_spelling_is_refused(key_id: str) -> None:
    with pytest.raises(KeyFileError, match="key-id must be a KMS key ARN"):
        trusted_sender_from_pem(f"key-id: {key_id}\n".encode() + KEY_PEM)


def test_one_key_id_for_two_keys_is_refused_and_the_same_key_twice_is_one() -> None:
    one = trusted_sender_from_pem(labelled_pem(KEY_PEM, ARN))
    two = trusted_sender_from_pem(labelled_pem(OTHER_PEM, ARN), default_name="other")
    with pytest.raises(KeyFileError, match="one key id must name one key"):
        check_trusted([one, two])
    assert check_trusted([one, one]) == [one]


def test_a_trust_file_of_named_keys() -> None:
    data = b"# partners\n\nname: acme\n" + KEY_PEM + b"name: ours\n" + labelled_pem(OTHER_PEM, ARN)
    trusted = trusted_senders_from_file(data)
    assert [(t.name, t.key_id) for t in trusted] == [("acme", KEY_ID), ("ours", ARN)]


@pytest.mark.parametrize(
    ("data", "match"),
    [
        (KEY_PEM, "needs a 'name: ...' line"),
        (b"name: a\nname: b\n" + KEY_PEM, "given twice"),
        (b"name: a\n" + KEY_PEM + b"name: b\n", "is not followed by a PEM block"),
        (b"name: bad name\n" + KEY_PEM, "name must be 1-64"),
        (b"name: a\n" + KEY_PEM[:-30], "has no -----END PUBLIC KEY----- line"),
        (b"\xff\xfe", "not a PEM text file"),
        (b"", "holds no PEM key"),
    ],
    ids=["unnamed", "two names", "field at the end", "bad name", "no END", "binary", "empty"],
)
def test_trust_file_faults_are_precise(data: bytes, match: str) -> None:
    with pytest.raises(KeyFileError, match=match):
        trusted_senders_from_file(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600) | st.text(max_size=600).map(str.encode))
def test_any_bytes_parse_or_raise_the_one_typed_error(data: bytes) -> None:
    with contextlib.suppress(KeyFileError):
        parse_key_file(data, "the file")


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.sampled_from(["", "# c", "name: x", f"key-id: {ARN}", "junk", "   "]), max_size=4),
    st.binary(max_size=40),
)
def test_fields_around_a_real_key_load_or_raise_the_one_typed_error(
    lines: list[str], tail: bytes
) -> None:
    data = "\n".join(lines).encode() + b"\n" + KEY_PEM + tail
    try:
        trusted = trusted_sender_from_pem(data)
    except KeyFileError:
        return
    assert trusted.key_id in {ARN, KEY_ID}
    assert trusted.public_key_pem == KEY_PEM
