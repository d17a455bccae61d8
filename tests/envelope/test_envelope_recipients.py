"""Several recipients: one wrapped data key per recipient in the header, every recipient in
the signed statement. Each listed key opens the envelope; an unlisted key is refused; a
recipient who knows the data key cannot add or drop recipients (forwarding) without the
statement and the header disagreeing."""

from __future__ import annotations

import io
import itertools
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import envelope
import envelope.unsealing as unseal_module
from envelope.format import (
    MAX_RECIPIENTS,
    encode_recipients_header,
    read_header,
)
from envelope.statement import parse_statement
from tests.envelope.envelope_testkit import (
    RECIPIENT,
    Parties,
    build_envelope,
    build_raw,
    decrypt_inner,
    key_bytes,
)

CAROL_PEM, DAVE_PEM = "other_recipient.rsa4096.pem", "recipient.rsa4096.pem"


@pytest.fixture(scope="module")
def keys():
    """Bob (ARN, RSA-2048), Carol (ARN, RSA-4096), Dave (fingerprint), Erin (unlisted)."""
    from tests.envelope.envelope_testkit import OTHER_RECIPIENT

    bob = envelope.PrivateKeyUnwrapper(RECIPIENT, key_bytes("fast_recipient.rsa2048.pem"))
    carol = envelope.PrivateKeyUnwrapper(OTHER_RECIPIENT, key_bytes(CAROL_PEM))
    dave = envelope.PrivateKeyUnwrapper(None, key_bytes(DAVE_PEM))
    erin = envelope.PrivateKeyUnwrapper(
        "arn:aws:kms:eu-west-1:444455556666:key/eeeeeeee-1111-2222-3333-444444444444",
        key_bytes(DAVE_PEM),
    )
    return bob, carol, dave, erin


def _seal_to(tmp_path: Path, parties: Parties, wrappers, name: str = "m.env") -> Path:
    (tmp_path / "a.txt").write_bytes(b"to three recipients\n")
    sealed = tmp_path / name
    envelope.seal([tmp_path / "a.txt"], sealed, signer=parties.signer, wrappers=wrappers)
    return sealed


def _open(tmp_path: Path, parties: Parties, data: bytes | Path, unwrapper, **kwargs):
    source = data if isinstance(data, Path) else tmp_path / "in.env"
    if not isinstance(data, Path):
        source.write_bytes(data)
    out = tmp_path / f"out-{os.urandom(4).hex()}"
    out.mkdir()
    try:
        return envelope.unseal(
            source, out, unwrapper=unwrapper, verifier=parties.verifier, **kwargs
        ), out
    except BaseException:
        assert os.listdir(out) == []  # nothing written
        raise


def test_three_recipients_each_open_and_a_fourth_is_refused(tmp_path, parties, keys):
    bob, carol, dave, erin = keys
    sealed = _seal_to(tmp_path, parties, [dave.wrapper(), bob.wrapper(), carol.wrapper()])
    header = read_header(io.BytesIO(sealed.read_bytes()))
    assert header.recipient_key_ids == tuple(sorted([bob.key_id, carol.key_id, dave.key_id]))
    for reader in (bob, carol, dave):
        unsealed, out = _open(tmp_path, parties, sealed, reader)
        assert (out / "a.txt").read_bytes() == b"to three recipients\n"
        assert unsealed.statement.recipients == header.recipient_key_ids
    with pytest.raises(envelope.WrongRecipientError, match="addressed to key"):
        _open(tmp_path, parties, sealed, erin)


def test_each_recipient_costs_one_wrap(tmp_path, parties, keys):
    _bob, carol, dave, _ = keys
    from tests.envelope.envelope_testkit import CountingWrapper

    wrappers = [CountingWrapper(k.wrapper(), parties.calls) for k in (carol, dave)]
    _seal_to(tmp_path, parties, [parties.wrapper, *wrappers])
    assert parties.calls["Encrypt"] == 3
    assert parties.calls["Sign"] == 1


@pytest.mark.parametrize("case", ["empty", "duplicate", "too many", "bad id", "a str"])
def test_recipient_list_misuse_is_typed_and_writes_nothing(tmp_path, parties, keys, case):
    bob, carol, _, _ = keys
    many = [
        envelope.PublicKeyWrapper(
            f"arn:aws:kms:us-east-1:123456789012:key/{i:08x}-1111-2222-3333-444444444444",
            bob.public_key_der(),
        )
        for i in range(MAX_RECIPIENTS + 1)
    ]
    given, error = {
        "empty": ({"wrappers": []}, envelope.NoRecipientsError),
        "duplicate": (
            {"wrapper": bob.wrapper(), "wrappers": [carol.wrapper(), bob.wrapper()]},
            envelope.DuplicateRecipientError,
        ),
        "too many": ({"wrappers": many}, envelope.TooManyRecipientsError),
        "bad id": (
            {"wrappers": [envelope.PublicKeyWrapper("alias/x", bob.public_key_der())]},
            envelope.EnvelopeUsageError,
        ),
        "a str": ({"wrappers": "arn:aws:kms:..."}, TypeError),
    }[case]
    (tmp_path / "a.txt").write_bytes(b"a")
    with pytest.raises(error):
        envelope.seal([tmp_path / "a.txt"], tmp_path / "m.env", signer=parties.signer, **given)
    assert os.listdir(tmp_path) == ["a.txt"]
    assert parties.calls["Encrypt"] == parties.calls["Sign"] == 0


def test_the_maximum_number_of_recipients_seals_and_opens(tmp_path, parties, keys):
    bob = keys[0]
    wrappers = [
        envelope.PublicKeyWrapper(
            f"arn:aws:kms:us-east-1:123456789012:key/{i:08x}-1111-2222-3333-444444444444",
            bob.public_key_der(),
        )
        for i in range(MAX_RECIPIENTS - 1)
    ]
    sealed = _seal_to(tmp_path, parties, [bob.wrapper(), *wrappers])
    assert len(read_header(io.BytesIO(sealed.read_bytes())).recipients) == MAX_RECIPIENTS
    unsealed, _ = _open(tmp_path, parties, sealed, bob)
    assert len(unsealed.statement.recipients) == MAX_RECIPIENTS


# --- attacks by a listed recipient (Bob knows the data key and the signed content) ---------


def _three(tmp_path, parties, keys) -> bytes:
    bob, carol, dave, _ = keys
    return _seal_to(
        tmp_path, parties, [bob.wrapper(), carol.wrapper(), dave.wrapper()]
    ).read_bytes()


def test_a_recipient_cannot_forward_to_an_unlisted_key(tmp_path, parties, keys):
    """Bob re-encrypts Alice's signed content under the same data key, with a header that
    adds Erin: Erin is in the header but not in the signed statement."""
    bob, carol, dave, erin = keys
    good = _three(tmp_path, parties, keys)
    data_key = bob.unwrap(read_header(io.BytesIO(good)).wrapped_for(bob.key_id))
    inner = decrypt_inner(good, bob)
    entries = sorted([(k.key_id, k.wrapper().wrap(data_key)) for k in (bob, carol, dave, erin)])
    forwarded = build_raw(encode_recipients_header(entries, os.urandom(32)), inner, data_key)
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _open(tmp_path, parties, forwarded, erin)
    # nor with Erin alone, under a fresh data key
    alone = build_envelope(erin.key_id, erin.wrapper(), inner)
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _open(tmp_path, parties, alone, erin)


@pytest.mark.parametrize("change", ["drop Carol", "drop Carol and Dave", "add Erin"])
def test_a_recipient_cannot_change_the_list_for_a_listed_reader(tmp_path, parties, keys, change):
    """The header's list differs from the statement's: refused even for a reader listed in
    both (Bob hides from Carol that Dave also received it, or adds Erin)."""
    bob, carol, dave, erin = keys
    good = _three(tmp_path, parties, keys)
    inner = decrypt_inner(good, bob)
    data_key = os.urandom(32)
    members = {
        "drop Carol": (bob, dave),
        "drop Carol and Dave": (bob,),
        "add Erin": (bob, carol, dave, erin),
    }[change]
    entries = sorted((k.key_id, k.wrapper().wrap(data_key)) for k in members)
    data = build_raw(encode_recipients_header(entries, os.urandom(32)), inner, data_key)
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _open(tmp_path, parties, data, bob)


def test_without_the_list_check_a_dropped_recipient_would_pass(
    tmp_path, parties, keys, monkeypatch
):
    """Breaks the property on purpose: the list test above is not vacuous."""
    bob = keys[0]
    inner = decrypt_inner(_three(tmp_path, parties, keys), bob)
    data = build_envelope(bob.key_id, bob.wrapper(), inner)
    unbound = unseal_module.statement_binds
    monkeypatch.setattr(
        unseal_module,
        "statement_binds",
        lambda statement, *, header_recipients, **kw: unbound(
            statement, header_recipients=statement.recipients, **kw
        ),
    )
    unsealed, out = _open(tmp_path, parties, data, bob)
    assert len(unsealed.statement.recipients) == 3
    assert (out / "a.txt").exists()


def test_the_statement_lists_every_recipient_in_order(tmp_path, parties, keys):
    bob, carol, dave, _ = keys
    good = _three(tmp_path, parties, keys)
    unsealed, _ = _open(tmp_path, parties, good, carol)
    assert unsealed.statement.recipients == tuple(sorted(k.key_id for k in (bob, carol, dave)))
    assert b'"recipients": [\n    "arn:' in unsealed.statement_bytes


# --- header corpus for the recipient list (precise errors, no key operation) --------------


def _entry(key_id: str, size: int = 256) -> bytes:
    return len(key_id).to_bytes(2, "big") + key_id.encode() + size.to_bytes(2, "big") + bytes(size)


ARN_B = "arn:aws:kms:us-east-1:123456789012:key/bbbbbbbb-1111-2222-3333-444444444444"
HEADER_CORPUS = {
    "no recipient": (b"\x00\x00", "recipient key id length must be 1-512, got 0"),
    "unsorted": (_entry(ARN_B) + _entry(RECIPIENT) + b"\x00\x00", "ascending order"),
    "duplicate": (_entry(RECIPIENT) * 2 + b"\x00\x00", "ascending order"),
    "too many": (
        b"".join(
            _entry(f"arn:aws:kms:us-east-1:123456789012:key/{i:08x}-1111-2222-3333-444444444444")
            for i in range(MAX_RECIPIENTS + 1)
        ),
        f"more than {MAX_RECIPIENTS} recipients",
    ),
    "alias key id": (_entry("alias/partner") + b"\x00\x00", "must be a KMS key ARN"),
    "upper-case fingerprint": (_entry("sha256:" + "A" * 64) + b"\x00\x00", "fingerprint"),
    "no end of list": (_entry(RECIPIENT), "header truncated"),
}


@pytest.mark.parametrize("case", sorted(HEADER_CORPUS))
def test_recipient_list_header_faults_are_precise(tmp_path, parties, case):
    body, message = HEADER_CORPUS[case]
    data = envelope.MAGIC + body + (b"\x00" if case == "no end of list" else bytes(132))
    with pytest.raises(envelope.MalformedHeaderError, match=message):
        _open(tmp_path, parties, data, parties.unwrapper)
    assert parties.calls["Decrypt"] == 0


def test_a_version_1_envelope_is_refused_precisely(tmp_path, parties):
    v1 = b"kms-envelope/v1\n" + _entry(RECIPIENT) + bytes(32) + bytes(100)
    with pytest.raises(envelope.UnsupportedVersionError, match="kms-envelope/v1"):
        _open(tmp_path, parties, v1, parties.unwrapper)
    assert parties.calls["Decrypt"] == 0


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    st.lists(
        st.sampled_from(
            [RECIPIENT, ARN_B, "sha256:" + "1" * 64, "sha256:" + "f" * 64, "alias/x", "x"]
        ),
        min_size=0,
        max_size=MAX_RECIPIENTS + 2,
    ),
    st.binary(max_size=8),
)
def test_header_parser_on_any_recipient_list(ids, tail):
    """Any list of entries: parsed only if 1-16 valid key ids in strictly ascending order;
    otherwise the precise header error, never anything else."""
    data = envelope.MAGIC + b"".join(_entry(i) for i in ids) + b"\x00\x00" + bytes(32) + tail
    valid = (
        1 <= len(ids) <= MAX_RECIPIENTS
        and all(i.startswith(("arn:", "sha256:")) for i in ids)
        and all(a < b for a, b in itertools.pairwise(ids))
    )
    try:
        header = read_header(io.BytesIO(data))
    except envelope.MalformedHeaderError:
        assert not valid
    else:
        assert valid
        assert list(header.recipient_key_ids) == ids


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([RECIPIENT, ARN_B, "sha256:" + "1" * 64]), max_size=4))
def test_statement_recipient_lists_parse_only_when_canonical(ids):
    """The statement's list: 1-16 valid key ids, unique, ascending; else the opaque error."""
    from tests.envelope.test_envelope_statement import VALUES

    statement = envelope.Statement(**{**VALUES, "recipients": tuple(ids)}).to_json()
    valid = len(ids) >= 1 and all(a < b for a, b in itertools.pairwise(ids))
    try:
        parsed = parse_statement(statement)
    except envelope.EnvelopeAuthenticationError:
        assert not valid
    else:
        assert valid
        assert parsed.recipients == tuple(ids)
