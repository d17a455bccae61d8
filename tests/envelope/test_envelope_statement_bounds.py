"""The statement is parsed before its signature is checked, and anyone can encrypt to the
reader, so its parser faces any attacker: every input gives a Statement or the one opaque
error (issue 9: deep nesting crashed the reader with RecursionError, exit 1)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envelope
from envelope.statement import MAX_STATEMENT, Statement, parse_statement
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
from tests.envelope.test_envelope_statement import CANONICAL, FILES, VALUES

BOUNDED = settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

HOSTILE = {
    "nested arrays": b"[" * MAX_STATEMENT,
    "nested objects": b'{"a":' * 680 + b"1" + b"}" * 680,
    "nested arrays, closed": b"[" * 2000 + b"]" * 2000,
    "huge integer": CANONICAL.replace(b'"files": 1', b'"files": 1' + b"0" * 3000)[:MAX_STATEMENT],
    "integer past u64": CANONICAL.replace(b'"bytes": 11', b'"bytes": 18446744073709551616'),
    "20 nines": CANONICAL.replace(b'"bytes": 11', b'"bytes": 99999999999999999999'),
    "duplicate member": CANONICAL.replace(b'  "files": 1,\n', b'  "files": 1,\n  "files": 1,\n'),
    "lone surrogate escape": CANONICAL.replace(b'"arn:', b'"\\ud800arn:', 1),
    "NUL": CANONICAL.replace(b'"arn:', b'"\x00arn:', 1),
    "not UTF-8": CANONICAL.replace(b'"arn:', b'"\xff\xfe:', 1),
    "combining mark": CANONICAL.replace(b'"arn:', '"a\u0301rn:'.encode(), 1),
    "right-to-left override": CANONICAL.replace(b'"arn:', '"\u202earn:'.encode(), 1),
    "empty": b"",
}


def test_the_hostile_cases_are_not_canonical_by_accident():
    assert CANONICAL not in HOSTILE.values()


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_statements_give_the_opaque_error(case: str):
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        parse_statement(HOSTILE[case])


def _open(tmp_path: Path, parties: Parties, statement: bytes) -> str:
    signature = parties.signer.sign(statement)
    data = build_envelope(RECIPIENT, parties.wrapper, inner_plaintext(FILES, statement, signature))
    source = tmp_path / "m.env"
    source.write_bytes(data)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        envelope.unseal(source, out, unwrapper=parties.unwrapper, verifier=parties.verifier)
    assert os.listdir(out) == []
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
        return rejected.kind
    return "success"


@pytest.mark.parametrize("case", ["nested arrays", "nested objects", "huge integer"])
def test_a_hostile_statement_in_a_real_envelope_is_the_opaque_error(
    tmp_path: Path, parties: Parties, case: str
):
    """End to end, signed by the real key: both readers reject, neither crashes."""
    assert _open(tmp_path, parties, HOSTILE[case]) == "authentication failure"


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@BOUNDED
@given(json_values)
def test_any_json_value_is_a_statement_or_the_opaque_error(value: object):
    data = json.dumps(value, indent=2).encode()[:MAX_STATEMENT]
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        parse_statement(data)


@BOUNDED
@given(st.integers(min_value=1, max_value=4000))
def test_any_nesting_depth_is_the_opaque_error(depth: int):
    for opener, closer in ((b"[", b"]"), (b'{"a":', b"}")):
        data = (opener * depth + b"0" + closer * depth)[:MAX_STATEMENT]
        with pytest.raises(envelope.EnvelopeAuthenticationError):
            parse_statement(data)


@BOUNDED
@given(st.integers(min_value=0, max_value=10**4000))
def test_any_integer_is_bounded(number: int):
    data = CANONICAL.replace(b'"bytes": 11', b'"bytes": ' + str(number).encode())
    if number == 11:
        assert parse_statement(data).bytes == 11
    elif len(data) <= MAX_STATEMENT and number < 2**64:
        assert parse_statement(data).bytes == number  # well formed: the reader compares later
    else:
        with pytest.raises(envelope.EnvelopeAuthenticationError):
            parse_statement(data)


@BOUNDED
@given(st.sampled_from(sorted(VALUES)), st.integers(min_value=2, max_value=5))
def test_duplicate_members_are_the_opaque_error(member: str, copies: int):
    line = next(x for x in CANONICAL.split(b"\n") if x.startswith(f'  "{member}"'.encode()))
    extra = (line.rstrip(b",") + b",\n") * (copies - 1)
    data = CANONICAL.replace(line + b"\n", extra + line + b"\n", 1)
    assert data.count(f'"{member}"'.encode()) == copies
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        parse_statement(data)


@BOUNDED
@given(st.text(min_size=1, max_size=40).filter(lambda t: not t.isascii()))
def test_odd_unicode_in_any_string_is_the_opaque_error(text: str):
    for member in ("sender", "recipients", "created", "format", "manifest_sha512"):
        value = VALUES[member]
        raw = json.dumps(value[0] if isinstance(value, tuple) else value).encode()
        for encoded in (text.encode("utf-8", "surrogatepass"), json.dumps(text)[1:-1].encode()):
            data = CANONICAL.replace(raw, raw[:1] + encoded + raw[1:], 1)
            with pytest.raises(envelope.EnvelopeAuthenticationError):
                parse_statement(data)


def test_the_canonical_statement_parses():
    """The control: the cases above are rejected for their content, not for the harness."""
    assert parse_statement(CANONICAL) == Statement(**VALUES)
