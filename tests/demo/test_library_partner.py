"""The partner paths of the public library API (issue 14): docs/LIBRARY.md's partner snippet,
and our Sender/Receiver with several recipients and trusted partner keys."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

import kms_sign_encrypt as kse
from tests.demo.test_library_api import ROOT, parties, workload_env  # noqa: F401

FAKE_ARN = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
PEM, SPKI = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


def partner_snippet() -> str:
    text = (ROOT / "docs" / "LIBRARY.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (snippet,) = [b for b in blocks if "PartnerSender" in b]
    return snippet


@pytest.mark.usefixtures("clean_aws_env")
def test_the_documented_partner_snippet_runs_with_no_aws(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    ours = rsa.generate_private_key(public_exponent=65537, key_size=4096).public_key()
    signing = ec.generate_private_key(ec.SECP521R1()).public_key()
    (tmp_path / "our-encryption.pem").write_bytes(
        f"key-id: {FAKE_ARN}\n".encode() + ours.public_bytes(PEM, SPKI)
    )
    (tmp_path / "our-signing.pem").write_bytes(signing.public_bytes(PEM, SPKI))
    (tmp_path / "invoice.json").write_text('{"invoice": 1}\n')
    (tmp_path / "acme-keys").mkdir()
    namespace: dict[str, Any] = {}
    exec(compile(partner_snippet(), "docs/LIBRARY.md", "exec"), namespace)
    assert namespace["sent"].recipients == (FAKE_ARN,)
    assert namespace["sent"].calls == {}
    assert namespace["receiver"].trusted_senders.key_ids[0].startswith("sha256:")


@pytest.mark.usefixtures("workload_env")
def test_our_sender_to_kms_and_two_partners_each_opens_and_a_fourth_is_refused(
    deployed_stack: Any, tmp_path: Path
) -> None:
    sender, receiver = parties(deployed_stack)
    people = {}
    for name in ("bob", "carol", "dave"):
        (tmp_path / name).mkdir()
        people[name] = kse.generate_partner_keys(tmp_path / name)
    (tmp_path / "a.txt").write_text("to three\n")
    arn = deployed_stack.outputs["EncryptionKeyArn"]
    sent = sender.send(
        [tmp_path / "a.txt"],
        tmp_path / "a.enc",
        recipients=[
            arn,
            people["bob"].encryption_public.read_bytes(),
            people["carol"].encryption_public.read_bytes(),
        ],
    )
    assert sent.calls["kms:Encrypt"] == 1  # the KMS recipient; the two PEMs: none
    assert sent.calls["kms:Sign"] == 1
    assert set(sent.recipients) == {
        arn,
        people["bob"].encryption_key_id,
        people["carol"].encryption_key_id,
    }
    (tmp_path / "ours").mkdir()
    receiver.receive(tmp_path / "a.enc", tmp_path / "ours")
    our_signing = receiver.signing_public_key_pem()
    assert our_signing.startswith(f"key-id: {deployed_stack.outputs['SigningKeyArn']}\n".encode())
    for name in ("bob", "carol", "dave"):
        inbox = tmp_path / name / "inbox"
        inbox.mkdir()
        partner = kse.PartnerReceiver(
            people[name].encryption_private.read_bytes(), trusted_senders=[our_signing]
        )
        if name == "dave":
            with pytest.raises(kse.InputRefusedError, match="is addressed to"):
                partner.receive(tmp_path / "a.enc", inbox)
            assert list(inbox.iterdir()) == []
        else:
            got = partner.receive(tmp_path / "a.enc", inbox)
            assert got.sender_key_id == deployed_stack.outputs["SigningKeyArn"]
            assert (inbox / "a.txt").read_text() == "to three\n"


@pytest.mark.usefixtures("workload_env")
def test_our_receiver_trusts_exactly_the_partner_keys_given(
    deployed_stack: Any, tmp_path: Path
) -> None:
    sender, receiver = parties(deployed_stack)
    for name in ("acme", "mallory"):
        (tmp_path / name).mkdir()
    acme = kse.generate_partner_keys(tmp_path / "acme")
    mallory = kse.generate_partner_keys(tmp_path / "mallory")
    ours = sender.encryption_public_key_pem()
    (tmp_path / "a.txt").write_text("from a partner\n")
    for name, keys in (("acme", acme), ("mallory", mallory)):
        kse.PartnerSender(keys.signing_private.read_bytes()).send(
            [tmp_path / "a.txt"], tmp_path / f"{name}.enc", recipients=[ours]
        )
    trust = kse.TrustedSenders.from_trust_file_bytes(
        b"name: acme\n" + acme.signing_public.read_bytes()
    )
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    got = receiver.receive(tmp_path / "acme.enc", inbox, trusted_senders=trust)
    assert got.sender_name == "acme"
    assert got.sender_key_arn == acme.signing_key_id
    assert got.calls.get("kms:Decrypt") == 1
    assert "kms:Verify" not in got.calls
    other = tmp_path / "other"
    other.mkdir()
    with pytest.raises(kse.AuthenticationError):
        receiver.receive(tmp_path / "mallory.enc", other, trusted_senders=trust)
    assert list(other.iterdir()) == []
    sender.send([tmp_path / "a.txt"], tmp_path / "ours.enc")
    with pytest.raises(kse.AuthenticationError):  # our own envelopes: not trusted unless given
        receiver.receive(tmp_path / "ours.enc", other, trusted_senders=trust)
    assert list(other.iterdir()) == []


def test_recipient_lists_are_checked_before_anything(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    keys = kse.generate_partner_keys(tmp_path / "k")
    sender = kse.PartnerSender(keys.signing_private.read_bytes())
    (tmp_path / "a.txt").write_text("x\n")
    pem = keys.encryption_public.read_bytes()
    for recipients, match in (
        ([], "no recipients"),
        ([pem, pem], "given twice"),
        ([pem] * 17, "more than the format's maximum of 16"),
        ([FAKE_ARN], "needs AWS"),
        (["alias/x"], "must be a KMS key ARN"),
    ):
        with pytest.raises(kse.KmsSignEncryptError, match=match):
            sender.send([tmp_path / "a.txt"], tmp_path / "a.enc", recipients=recipients)
        assert not (tmp_path / "a.enc").exists()
