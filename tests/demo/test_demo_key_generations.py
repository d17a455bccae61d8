"""Key generations on the receive side and in the preflight (issue 15, part D), offline.

The end-to-end rotation against the endpoint is test_demo_key_rotation.py; these pin each
refusal and each rule without AWS.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import envelope
from kms_sign_encrypt.errors import EXIT_REFUSED, NotDeployedError
from kms_sign_encrypt.generations import (
    Generation,
    GenerationRefusedError,
    RetiredSender,
    change_problem,
    encryption_key_for,
    parse_generations,
)
from kms_sign_encrypt.stack import ResourceOptions, discover
from tests.envelope.envelope_testkit import OTHER_SENDER, make_parties

KEY = "arn:aws:kms:us-east-1:123456789012:key/"
OLD, NEW, GONE = f"{KEY}1111", f"{KEY}2222", f"{KEY}9999"
ENCRYPTION = (Generation("1", "retired", OLD), Generation("2", "active", NEW))


def test_the_header_picks_the_active_generation():
    assert encryption_key_for(ENCRYPTION, (NEW,)).name == "2"
    two_active = (Generation("1", "active", OLD), Generation("2", "active", NEW))
    assert encryption_key_for(two_active, (OLD,)).name == "1"
    assert encryption_key_for(two_active, (GONE, OLD)).name == "1"  # several recipients


def test_a_retired_generation_is_refused_by_name():
    with pytest.raises(GenerationRefusedError) as caught:
        encryption_key_for(ENCRYPTION, (OLD,))
    assert str(caught.value) == (
        "refused: this envelope is for encryption key generation 1, which is retired; the "
        "sender must send it again with the current generation (2)"
    )
    assert caught.value.generation == "1"
    assert caught.value.exit_code == EXIT_REFUSED


def test_a_key_of_no_generation_is_refused_naming_it():
    with pytest.raises(GenerationRefusedError) as caught:
        encryption_key_for(ENCRYPTION, (GONE,))
    assert str(caught.value) == (
        f"refused: this envelope is for key {GONE}, not a generation of this deployment's "
        "encryption key (its generations: 1 (retired), 2 (active))"
    )
    assert caught.value.generation is None


def test_a_statement_by_a_retired_signing_generation_is_refused_and_nothing_written(tmp_path):
    parties = make_parties()
    source = tmp_path / "a.txt"
    source.write_bytes(b"signed by the old generation")
    sealed = tmp_path / "a.enc"
    old_signer = parties.other_signer  # the retired generation's key
    envelope.seal([source], sealed, signer=old_signer, wrapper=parties.wrapper)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(GenerationRefusedError) as caught:
        envelope.unseal(
            sealed,
            out,
            unwrapper=parties.unwrapper,
            verifier=parties.verifier,  # the current signing generation
            verifiers=[RetiredSender(OTHER_SENDER, "1", "retired")],
        )
    assert str(caught.value) == (
        "refused: this envelope is signed by signing key generation 1, which is retired: its "
        "signatures are no longer accepted"
    )
    assert list(out.iterdir()) == []
    # The current generation's envelopes still open with the same trusted senders.
    envelope.seal([source], tmp_path / "b.enc", signer=parties.signer, wrapper=parties.wrapper)
    envelope.unseal(
        tmp_path / "b.enc",
        out,
        unwrapper=parties.unwrapper,
        verifier=parties.verifier,
        verifiers=[RetiredSender(OTHER_SENDER, "1", "retired")],
    )
    assert (out / "a.txt").read_bytes() == b"signed by the old generation"


def _outputs(tmp_path: Path, **extra: str) -> Path:
    outputs = {
        "EncryptionKeyArn": NEW,
        "EncryptionKeyAlias": "alias/e",
        "SigningKeyArn": f"{KEY}s2",
        "SigningKeyAlias": "alias/s",
        "SenderRoleArn": "arn:aws:iam::123456789012:role/SenderRole",
        "ReceiverRoleArn": "arn:aws:iam::123456789012:role/ReceiverRole",
        **extra,
    }
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps({"KmsSignEncryptStack": outputs}))
    return path


def test_discovery_reads_every_generation(tmp_path):
    path = _outputs(
        tmp_path,
        EncryptionKeyGenerations="0:deleted 1:retired 2",
        EncryptionKeyGeneration1Arn=OLD,
        EncryptionKeyGeneration2Arn=NEW,
    )
    resources = discover(ResourceOptions(outputs_file=path), None)
    assert resources.encryption_generations == (
        Generation("0", "deleted", None),
        Generation("1", "retired", OLD),
        Generation("2", "active", NEW),
    )
    assert resources.signing_generations == ()  # no signing generations: one, the current
    assert resources.as_dict()["key_generations"]["encryption"][1] == {
        "name": "1",
        "state": "retired",
        "arn": OLD,
    }
    # An explicit key option means: that key, no generations.
    explicit = discover(ResourceOptions(outputs_file=path, encryption_key=NEW), None)
    assert explicit.encryption_generations == ()


def test_without_generation_outputs_nothing_changes(tmp_path):
    resources = discover(ResourceOptions(outputs_file=_outputs(tmp_path)), None)
    assert resources.encryption_generations == resources.signing_generations == ()
    assert "key_generations" not in resources.as_dict()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            {"EncryptionKeyGenerations": "1 2", "EncryptionKeyGeneration2Arn": NEW},
            "lacks the output EncryptionKeyGeneration1Arn",
        ),
        (
            {"EncryptionKeyGenerations": "1 2:gone"},
            "output EncryptionKeyGenerations: '2:gone' is not NAME",
        ),
        (
            {"EncryptionKeyGenerations": "1", "EncryptionKeyGeneration1Arn": OLD},
            "the last of EncryptionKeyGenerations is not EncryptionKeyArn",
        ),
    ],
)
def test_inconsistent_generation_outputs_are_refused(tmp_path, extra, message):
    with pytest.raises(NotDeployedError, match=message):
        discover(ResourceOptions(outputs_file=_outputs(tmp_path, **extra)), None)


def test_parse_generations():
    assert parse_generations("1:retired 2027") == [("1", "retired"), ("2027", "active")]
    with pytest.raises(ValueError, match="is not NAME, NAME:retired or NAME:deleted"):
        parse_generations("1:disabled")


CHANGES = {
    # (deployed or None for the default stack, new, problem or None)
    "add one": (None, "1 2", None),
    "add to named": ("1 2", "1 2 3", None),
    "retire": ("1 2", "1:retired 2", None),
    "delete a retired one": ("1:retired 2", "1:deleted 2", None),
    "re-enable a retired one": ("1:retired 2", "1 2", None),
    "delete an active one": (
        "1 2",
        "1:deleted 2",
        "encryption generation 1 is active and would be deleted: retire it first (1:retired), "
        "deploy, wait until nothing needs it, then delete it",
    ),
    "delete the default one at once": (
        None,
        "1:deleted 2",
        "encryption generation 1 is active and would be deleted: retire it first (1:retired), "
        "deploy, wait until nothing needs it, then delete it",
    ),
    "remove one from the list": (
        "1:retired 2",
        "2",
        "encryption generation 1 is deployed but not in the new list: keep every generation "
        "in the list, oldest first (mark it 1:retired, then 1:deleted)",
    ),
    "insert before": (
        "1 2",
        "0 1 2",
        "the new encryption generations 0 1 2 do not start with the deployed ones 1 2: add "
        "new generations at the end only",
    ),
    "undelete": (
        "1:deleted 2",
        "1 2",
        "encryption generation 1 is deleted: a deleted generation stays deleted",
    ),
}


@pytest.mark.parametrize("case", CHANGES)
def test_what_a_deploy_may_change(case):
    deployed, new, problem = CHANGES[case]
    before = parse_generations(deployed) if deployed is not None else None
    assert change_problem("encryption", before, parse_generations(new)) == problem


def test_the_receiver_trusts_older_active_signing_generations_and_names_retired_ones():
    from kms_sign_encrypt.generations import older_senders
    from kms_sign_encrypt.kms import KmsVerifier
    from kms_sign_encrypt.stack import Resources

    signing = (
        Generation("0", "deleted", None),
        Generation("1", "retired", OLD),
        Generation("2", "active", GONE),
        Generation("3", "active", NEW),
    )
    resources = Resources("alias/e", "alias/s", "sender", "receiver", signing_generations=signing)
    session = object()
    entries = older_senders(session, resources, NEW)  # type: ignore[arg-type]
    assert entries == [RetiredSender(OLD, "1", "retired"), KmsVerifier(session, GONE, GONE)]
    assert older_senders(session, Resources("e", "s", "a", "b"), NEW) is None  # type: ignore[arg-type]
