"""Trusted senders: the reader names the sender keys it trusts, and a statement whose sender
is not exactly one of them is refused with the one opaque error, even when the signature is
valid for the key it names (the attack: Mallory signs with her own key and names herself)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

import envelope
from envelope import partner_keys
from tests.envelope.envelope_testkit import Parties, key_bytes


def _seal(tmp_path: Path, signer, wrapper) -> Path:
    (tmp_path / "a.txt").write_bytes(b"pay Mallory")
    sealed = tmp_path / "m.env"
    envelope.seal([tmp_path / "a.txt"], sealed, signer=signer, wrapper=wrapper)
    return sealed


def _unseal(tmp_path: Path, sealed: Path, parties: Parties, **trust):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    return envelope.unseal(sealed, out, unwrapper=parties.unwrapper, **trust)


def test_a_valid_signature_by_an_untrusted_key_is_refused(tmp_path: Path, parties: Parties):
    mallory = partner_keys.load_signing_private_key(key_bytes("other_sender.p521.pem"))
    sealed = _seal(tmp_path, mallory, parties.wrapper)
    # the signature is valid for the key the statement names...
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _unseal(tmp_path, sealed, parties, verifiers=[parties.verifier])
    assert os.listdir(tmp_path / "out") == []
    # ...and it opens only for a reader that trusts Mallory's key
    unsealed = _unseal(tmp_path, sealed, parties, verifiers=[parties.verifier, mallory.verifier()])
    assert unsealed.statement.sender == mallory.key_id


def test_the_sender_must_match_a_trusted_key_id_exactly(tmp_path: Path, parties: Parties):
    """The same public key trusted under another key id (an ARN vs. its fingerprint) is not
    the sender the statement names: refused."""
    fingerprint_signer = partner_keys.load_signing_private_key(key_bytes("sender.p521.pem"))
    sealed = _seal(tmp_path, fingerprint_signer, parties.wrapper)
    assert parties.verifier.key_id.startswith("arn:")  # same key, named by its ARN
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _unseal(tmp_path, sealed, parties, verifier=parties.verifier)
    assert _unseal(tmp_path, sealed, parties, verifier=fingerprint_signer.verifier())


def test_a_trusted_key_id_with_the_wrong_key_is_refused(tmp_path: Path, parties: Parties):
    """A verifier named after the real sender but holding another key: the signature fails."""
    sealed = _seal(tmp_path, parties.signer, parties.wrapper)
    impostor = envelope.PublicKeyVerifier(
        parties.signer.key_id, parties.other_signer.public_key_der()
    )
    with pytest.raises(envelope.EnvelopeAuthenticationError):
        _unseal(tmp_path, sealed, parties, verifiers=[impostor])


def test_several_trusted_senders_each_open(tmp_path: Path, parties: Parties):
    sealed = _seal(tmp_path, parties.signer, parties.wrapper)
    other = partner_keys.load_signing_private_key(key_bytes("other_sender.p521.pem"))
    unsealed = _unseal(tmp_path, sealed, parties, verifiers=[other.verifier(), parties.verifier])
    assert unsealed.statement.sender == parties.signer.key_id


@pytest.mark.parametrize("trust", ["none", "empty", "duplicate", "bad id"])
def test_trust_misuse_is_a_usage_error(tmp_path: Path, parties: Parties, trust: str):
    sealed = _seal(tmp_path, parties.signer, parties.wrapper)
    bad = envelope.PublicKeyVerifier("not-a-key-id", parties.other_signer.public_key_der())
    kwargs = {
        "none": {},
        "empty": {"verifiers": []},
        "duplicate": {"verifiers": [parties.verifier, parties.verifier]},
        "bad id": {"verifiers": [bad]},
    }[trust]
    with pytest.raises(envelope.EnvelopeUsageError):
        _unseal(tmp_path, sealed, parties, **kwargs)
    assert parties.calls["Decrypt"] == 0  # refused before any key operation


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_evidence_from_a_fingerprint_named_partner_verifies_with_openssl(tmp_path: Path, parties):
    """Partner -> us: a partner's own P-521 key, named by its fingerprint; the evidence
    verifies with openssl alone, and its sender.pem hashes to the statement's sender."""
    partner = partner_keys.load_signing_private_key(key_bytes("other_sender.p521.pem"))
    sealed = _seal(tmp_path, partner, parties.wrapper)
    unsealed = _unseal(tmp_path, sealed, parties, verifiers=[partner.verifier()])
    evidence = tmp_path / "evidence"
    envelope.export_evidence(unsealed, evidence, sender_public_key=partner.public_key_der())
    verify = ["openssl", "dgst", "-sha512", "-verify", "sender.pem", "-signature",
              "statement.sig", "statement.json"]  # fmt: skip
    result = subprocess.run(verify, cwd=evidence, capture_output=True, text=True)
    assert result.stdout.strip() == "Verified OK", result.stderr
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", "sender.pem", "-outform", "DER"],
        cwd=evidence,
        capture_output=True,
        check=True,
    ).stdout
    statement = json.loads((evidence / "statement.json").read_text())
    assert statement["sender"] == "sha256:" + hashlib.sha256(der).hexdigest()
    assert statement["recipients"] == [parties.unwrapper.key_id]
