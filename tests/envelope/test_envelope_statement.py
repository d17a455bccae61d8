"""The signed statement must be exactly the canonical bytes, so what a judge reads in
statement.json is what the reader checked: one meaning, whatever JSON parser reads it.

Each statement below is signed by Alice's real key and carries the right values; only its
form is wrong. Each is rejected by the envelope package and by the independent reader.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

import envelope
from envelope.statement import Statement, manifest_line, parse_statement
from tests.envelope import independent_reader
from tests.envelope.envelope_testkit import (
    RECIPIENT,
    SENDER,
    Parties,
    build_envelope,
    inner_plaintext,
    key_bytes,
    sender_public_key,
)

FILES = [("note.txt", b"pay 10 EUR\n")]
MANIFEST = manifest_line(hashlib.sha512(FILES[0][1]).hexdigest(), "note.txt")
VALUES = {
    "bytes": len(FILES[0][1]),
    "created": "2026-11-28T22:00:00Z",
    "files": 1,
    "format": "kms-envelope/v2",
    "manifest_sha512": hashlib.sha512(MANIFEST).hexdigest(),
    "recipients": (RECIPIENT,),
    "sender": SENDER,
}
CANONICAL = Statement(**VALUES).to_json()

NON_CANONICAL = {
    "compact": json.dumps(VALUES, sort_keys=True, separators=(",", ":")).encode(),
    "unsorted": json.dumps(dict(reversed(VALUES.items())), indent=2).encode() + b"\n",
    "no trailing newline": CANONICAL[:-1],
    "CRLF": CANONICAL.replace(b"\n", b"\r\n"),
    "byte order mark": b"\xef\xbb\xbf" + CANONICAL,
    "escaped member name": CANONICAL.replace(b'"recipients"', b'"recip\\u0069ents"'),
    "escaped value": CANONICAL.replace(b'"arn:', b'"\\u0061rn:', 1),
    "escaped slash": CANONICAL.replace(b"key/", b"key\\/", 1),
    "leading zero": CANONICAL.replace(b'"files": 1', b'"files": 01'),
    "plus or minus zero": CANONICAL.replace(b'"files": 1', b'"files": 1.0'),
    "exponent": CANONICAL.replace(b'"files": 1', b'"files": 1e0'),
    "extra space": CANONICAL.replace(b'"files": 1', b'"files":  1'),
}
NON_ASCII_DIGITS = {
    # Python's \d matches any Unicode digit: the spec says YYYY-MM-DDTHH:MM:SSZ, ASCII only
    "Arabic-Indic year, escaped": CANONICAL.replace(b'"2026-', b'"\\u0662\\u0660\\u0662\\u0666-'),
    "Arabic-Indic year, raw UTF-8": CANONICAL.replace(b'"2026-', '"٢٠٢٦-'.encode()),
    "fullwidth digits in the size": CANONICAL.replace(b'"files": 1', '"files": \uff11'.encode()),
}


def open_with_statement(
    tmp_path: Path, parties: Parties, statement: bytes
) -> envelope.Unsealed | None:
    signature = parties.signer.sign(statement)
    data = build_envelope(RECIPIENT, parties.wrapper, inner_plaintext(FILES, statement, signature))
    source = tmp_path / "m.env"
    source.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    try:
        package = envelope.unseal(
            source, out, unwrapper=parties.unwrapper, verifier=parties.verifier
        )
    except envelope.EnvelopeAuthenticationError:
        assert os.listdir(out) == []
        package = None
    kind = "success"
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
    except independent_reader.RejectedError as rejected:
        kind = rejected.kind
    assert kind in {"success", "authentication failure"}
    assert (package is not None) == (kind == "success"), "the two readers disagree"
    return package


def test_the_canonical_statement_opens(tmp_path: Path, parties: Parties):
    """The control: the harness below can accept, so its rejections mean something."""
    opened = open_with_statement(tmp_path, parties, CANONICAL)
    assert opened is not None
    assert opened.statement_bytes == CANONICAL


@pytest.mark.parametrize("case", sorted(NON_CANONICAL))
def test_a_validly_signed_non_canonical_statement_is_rejected(
    tmp_path: Path, parties: Parties, case: str
):
    assert open_with_statement(tmp_path, parties, NON_CANONICAL[case]) is None


@pytest.mark.parametrize("case", sorted(NON_ASCII_DIGITS))
def test_non_ascii_digits_are_rejected(tmp_path: Path, parties: Parties, case: str):
    assert open_with_statement(tmp_path, parties, NON_ASCII_DIGITS[case]) is None


@pytest.mark.parametrize(
    "value",
    ["arn:aws:kms:us-east-1:123456789012:key/é", "arn with space", "arn\ttab", ""],
)
def test_statement_key_ids_are_printable_ascii(value: str):
    statement = Statement(**{**VALUES, "sender": value}).to_json()
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        parse_statement(statement)


def test_quotes_and_backslashes_in_key_ids_are_refused():
    """Key ids are strict (an ARN or a fingerprint), so the two characters the canonical form
    escapes never name a key: a statement carrying them is refused."""
    odd = 'arn:aws:kms:us-east-1:123456789012:alias/"quoted"\\x'
    statement = Statement(**{**VALUES, "recipients": (odd,)}).to_json()
    assert b'alias/\\"quoted\\"\\\\x"' in statement
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        parse_statement(statement)


@pytest.mark.parametrize("key_id", ["arn:aws:kms:us-east-1:123456789012:key/é", "a b"])
def test_sender_refuses_a_signing_key_id_outside_printable_ascii(
    tmp_path: Path, parties: Parties, key_id: str
):
    (tmp_path / "a").write_bytes(b"a")
    parties.signer.key_id = key_id
    with pytest.raises(envelope.EnvelopeUsageError, match="signing key id must be 1-512 char"):
        envelope.seal(
            [tmp_path / "a"], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper
        )
    assert os.listdir(tmp_path) == ["a"]


@pytest.mark.parametrize(
    "created", ["2026-13-01T00:00:00Z", "2026-02-30T12:00:00Z", "2026-11-28T24:00:00Z",
                "2026-11-28T22:60:00Z", "2026-11-28T22:00:60Z", "0000-01-01T00:00:00Z"],
)  # fmt: skip
def test_created_must_be_a_real_time(tmp_path: Path, parties: Parties, created: str):
    """A judge reads `created`; a date that does not exist is refused by both readers."""
    statement = Statement(**{**VALUES, "created": created}).to_json()
    assert open_with_statement(tmp_path, parties, statement) is None
