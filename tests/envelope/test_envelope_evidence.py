"""Evidence a third party checks with the real openssl and sha512sum binaries only."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

import envelope
from tests.envelope.envelope_testkit import SENDER, Parties, key_bytes

pytestmark = pytest.mark.skipif(
    not (shutil.which("openssl") and shutil.which("sha512sum")),
    reason="needs the openssl and sha512sum binaries",
)


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)


@pytest.fixture
def evidence(tmp_path: Path, parties: Parties) -> Path:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "contract.pdf").write_bytes(b"%PDF-1.7 pretend contract\n" * 1000)
    (inputs / "invoice 42.csv").write_bytes(b"item,amount\nwidget,42\n")
    envelope.seal(
        sorted(inputs.iterdir()),
        tmp_path / "m.env",
        signer=parties.signer,
        wrapper=parties.wrapper,
    )
    received = tmp_path / "received"
    received.mkdir()
    unsealed = envelope.unseal(
        tmp_path / "m.env", received, unwrapper=parties.unwrapper, verifier=parties.verifier
    )
    sender_der = parties.signer.inner.public_key_der()  # what KMS GetPublicKey returns
    evidence_dir = tmp_path / "evidence"
    written = envelope.export_evidence(unsealed, evidence_dir, sender_public_key=sender_der)
    assert sorted(p.name for p in written) == sorted(
        [
            "statement.json",
            "statement.sig",
            "manifest.sha512",
            "sender.pem",
            "VERIFY.txt",
            "contract.pdf",
            "invoice 42.csv",
        ]
    )
    return evidence_dir


# The third party's check, exactly as VERIFY.txt tells it.
OPENSSL_VERIFY = [
    "openssl",
    "dgst",
    "-sha512",
    "-verify",
    "sender.pem",
    "-signature",
    "statement.sig",
    "statement.json",
]


def test_openssl_verifies_the_statement(evidence: Path):
    result = run(OPENSSL_VERIFY, evidence)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "Verified OK"


def test_statement_names_the_manifest_and_sha512sum_checks_every_file(evidence: Path):
    statement = json.loads((evidence / "statement.json").read_text())
    assert statement["sender"] == SENDER
    digest = run(["sha512sum", "manifest.sha512"], evidence)
    assert digest.stdout.split()[0] == statement["manifest_sha512"]
    check = run(["sha512sum", "-c", "manifest.sha512"], evidence)
    assert check.returncode == 0, check.stdout + check.stderr
    assert sorted(check.stdout.splitlines()) == ["contract.pdf: OK", "invoice 42.csv: OK"]


def test_altered_statement_fails_openssl(evidence: Path):
    """Breaks the evidence on purpose: the checks above can fail."""
    statement = evidence / "statement.json"
    statement.write_bytes(statement.read_bytes().replace(b'"files": 2', b'"files": 3'))
    result = run(OPENSSL_VERIFY, evidence)
    assert result.returncode != 0
    assert "Verification failure" in result.stdout + result.stderr


def test_altered_file_fails_sha512sum(evidence: Path):
    (evidence / "invoice 42.csv").write_bytes(b"item,amount\nwidget,4200\n")
    check = run(["sha512sum", "-c", "manifest.sha512"], evidence)
    assert check.returncode != 0
    assert "invoice 42.csv: FAILED" in check.stdout


def test_a_different_public_key_fails_openssl(evidence: Path):
    other = envelope.PrivateKeySigner("x", key_bytes("other_sender.p521.pem"))
    (evidence / "sender.pem").write_bytes(other.verifier().public_key_pem())
    result = run(OPENSSL_VERIFY, evidence)
    assert result.returncode != 0


def test_export_refuses_a_key_that_does_not_verify(tmp_path: Path, parties: Parties):
    (tmp_path / "a").write_bytes(b"x")
    envelope.seal(
        [tmp_path / "a"], tmp_path / "m.env", signer=parties.signer, wrapper=parties.wrapper
    )
    out = tmp_path / "o"
    out.mkdir()
    unsealed = envelope.unseal(
        tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=parties.verifier
    )
    other = envelope.PrivateKeySigner("x", key_bytes("other_sender.p521.pem"))
    with pytest.raises(envelope.EnvelopeUsageError, match="does not verify this statement"):
        envelope.export_evidence(
            unsealed, tmp_path / "ev", sender_public_key=other.public_key_der()
        )


def _verify_txt_command(evidence: Path, starts_with: str) -> str:
    """The command as written in VERIFY.txt, with its backslash-newline continuations."""
    lines = [line.strip() for line in (evidence / "VERIFY.txt").read_text().splitlines()]
    at = next(i for i, line in enumerate(lines) if line.startswith(starts_with))
    command = lines[at]
    while command.endswith("\\"):
        at += 1
        command = command[:-1] + lines[at]
    return command


def test_the_one_step_manifest_check_in_verify_txt_works(evidence: Path):
    command = _verify_txt_command(evidence, "grep -qF")
    result = run(["sh", "-c", command], evidence)
    assert result.returncode == 0, result.stderr
    assert result.stdout == "manifest OK\n"


def test_the_one_step_manifest_check_fails_for_another_manifest(evidence: Path):
    manifest = evidence / "manifest.sha512"
    manifest.write_bytes(manifest.read_bytes().replace(b"invoice 42", b"invoice 43"))
    result = run(["sh", "-c", _verify_txt_command(evidence, "grep -qF")], evidence)
    assert result.returncode != 0
    assert result.stdout == ""
