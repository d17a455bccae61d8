"""Exporting evidence writes only new files inside the evidence directory, or nothing."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

import envelope
from envelope.sealing import PlainFile
from tests.envelope.envelope_testkit import Parties


def received(tmp_path: Path, parties: Parties, *names: str) -> envelope.Unsealed:
    inputs = tmp_path / "in"
    inputs.mkdir()
    files = []
    for name in names:
        (inputs / f"{len(files)}.bin").write_bytes(name.encode())
        files.append(PlainFile(inputs / f"{len(files)}.bin", name))
    envelope.seal(files, tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper)
    out = tmp_path / "out"
    out.mkdir()
    return envelope.unseal(
        tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=parties.verifier
    )


def test_a_symlink_in_the_evidence_directory_is_not_written_through(
    tmp_path: Path, parties: Parties
):
    unsealed = received(tmp_path, parties, "report.txt")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    elsewhere = tmp_path / "elsewhere.txt"
    os.symlink(elsewhere, evidence / "report.txt")  # dangling: exists() says False
    with pytest.raises(envelope.OutputExistsError, match=r"report\.txt"):
        envelope.export_evidence(unsealed, evidence)
    assert not elsewhere.exists(), "the copy followed a symlink out of the evidence directory"
    assert sorted(os.listdir(evidence)) == ["report.txt"], "a failed export leaves nothing"


def test_a_failed_export_removes_what_it_wrote(tmp_path: Path, parties: Parties):
    unsealed = received(tmp_path, parties, "a.txt", "b.txt")
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "b.txt").write_bytes(b"the user's own file")
    with pytest.raises(envelope.OutputExistsError):
        envelope.export_evidence(unsealed, evidence)
    assert os.listdir(evidence) == ["b.txt"]
    assert (evidence / "b.txt").read_bytes() == b"the user's own file"


@pytest.mark.parametrize(
    "name", ["statement.json", "statement.sig", "manifest.sha512", "sender.pem", "VERIFY.txt"]
)
def test_a_received_file_named_like_evidence_is_refused_precisely(
    tmp_path: Path, parties: Parties, name: str
):
    """A sender's file called sender.pem must never sit in a bundle as if it were the key."""
    unsealed = received(tmp_path, parties, name)
    evidence = tmp_path / "evidence"
    with pytest.raises(envelope.EnvelopeUsageError, match=re.escape(repr(name))):
        envelope.export_evidence(unsealed, evidence)
    assert not evidence.exists() or os.listdir(evidence) == []
