"""The full `run` against the local endpoint (which enforces key policies), both formats."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt.errors import EXIT_EXPECTATION
from kms_sign_encrypt_cli.cli import main

pytestmark = pytest.mark.integration

EXPECTATIONS = [
    "sender cannot Decrypt",
    "sender cannot Verify",
    "receiver cannot Encrypt",
    "receiver cannot Sign",
    "administrator cannot Decrypt",
    "administrator cannot Sign",
    "Encrypt with RSAES_OAEP_SHA_1 is refused (key-policy condition)",
    "a tampered message fails verification",
    "a tampered ciphertext fails decryption",
]
ASSUME_ROLE_EXPECTATIONS = [
    "administrator cannot assume ReceiverRole",
    "administrator cannot assume SenderRole",
    "receiver workload cannot assume SenderRole",
    "sender workload cannot assume ReceiverRole",
]


def run_json(tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any]:
    code = main(["run", "--json", "--workdir", str(tmp_path), *extra])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.usefixtures("endpoint_env")
def test_run_in_the_envelope_format_meets_every_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(tmp_path, capsys)
    assert code == 0, report["checks"]
    assert report["passed"] is True
    assert report["format"] == "envelope"
    assert [c["expectation"] for c in report["checks"]] == [
        *EXPECTATIONS,
        "a tampered envelope is refused, nothing written",
        *ASSUME_ROLE_EXPECTATIONS,
    ]
    assert all(c["passed"] for c in report["checks"])
    assert json.loads(report["message"]) == {
        "message": "The Magic Words are Squeamish Ossifrage",
        "sender": "Sender Principal",
    }
    steps = {s["step"]: s for s in report["steps"]}
    assert list(steps) == ["1", "2", "3", "4-5", "6", "7", "8", "9"]
    # 1 Sign + 1 Encrypt; the sender workload's own hop (its profile) and SenderRole
    assert (steps["4-5"]["kms_calls"], steps["2"]["sts_calls"]) == (2, 2)
    # 1 Decrypt + 1 Verify, and GetPublicKey for the evidence's sender.pem
    assert steps["6"]["kms_calls"] == 3
    summary = report["summary"]
    # each workload's hop to its workload role, each party role, the four refused attempts
    assert summary["sts_calls"] == 2 + 2 + 4
    refusals = {c["expectation"]: c["outcome"] for c in report["checks"]}
    for expectation in ASSUME_ROLE_EXPECTATIONS:
        assert refusals[expectation] == "denied (sts:AssumeRole)"
    assert summary["kms_calls"] == sum(s["kms_calls"] for s in report["steps"])
    assert summary["bytes_in"] == (tmp_path / "message.json").stat().st_size
    assert summary["bytes_out"] == (tmp_path / "message.enc").stat().st_size
    assert (tmp_path / "received" / "message.json").read_bytes() == (
        tmp_path / "message.json"
    ).read_bytes()
    assert (tmp_path / "evidence" / "statement.sig").exists()
    assert report["access_matrix"] is not None


@pytest.mark.usefixtures("endpoint_env")
def test_run_again_in_the_same_workdir_with_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`run` has no --evidence option, so a rerun must not trip over the last run's evidence."""
    assert run_json(tmp_path, capsys)[0] == 0
    code, report = run_json(tmp_path, capsys, "--force")
    assert code == 0, report
    assert (tmp_path / "evidence" / "statement.sig").exists()
    assert (tmp_path / "evidence-2" / "statement.sig").exists()


@pytest.mark.usefixtures("endpoint_env")
def test_run_in_the_seed_format_meets_every_expectation(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, report = run_json(tmp_path, capsys, "--format", "seed")
    assert code == 0, report["checks"]
    assert [c["expectation"] for c in report["checks"]] == EXPECTATIONS + ASSUME_ROLE_EXPECTATIONS
    assert (tmp_path / "message.enc").stat().st_size == 512
    steps = {s["step"]: s for s in report["steps"]}
    assert [steps[n]["kms_calls"] for n in ("4", "5", "6", "7")] == [1, 1, 1, 1]
    assert (tmp_path / "received" / "message.sig").read_bytes() == (
        tmp_path / "message.sig"
    ).read_bytes()


@pytest.mark.usefixtures("endpoint_env")
def test_run_prints_each_step_the_checks_and_the_summary(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["run", "--workdir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for number in ("1", "2", "3", "4-5", "6", "7", "8", "9"):
        assert f"Step {number}. " in out
    assert out.count("PASS  ") == 14
    assert "FAIL" not in out
    assert "Access matrix (from the deployed key policies):" in out
    assert "Who reaches each key action (directly, or through sts:AssumeRole chains):" in out
    assert "Separation of duties: holds." in out
    assert "Checks: 14/14 passed: all expectations met" in out


@pytest.mark.usefixtures("endpoint_env")
def test_the_administrator_playing_the_parties_fails_the_assume_role_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Breaks the property on purpose: the receiver workload's attempts go out as the sender
    workload, who may assume SenderRole, so "receiver workload cannot assume SenderRole"
    must fail with a real, allowed AssumeRole."""
    from demo import checks

    real = checks.assume_role_checks

    def receiver_is_sender(**kwargs: Any) -> list[checks.CheckResult]:
        return real(**{**kwargs, "receiver_workload": kwargs["sender_workload"]})

    monkeypatch.setattr(checks, "assume_role_checks", receiver_is_sender)
    code, report = run_json(tmp_path, capsys, "--format", "seed")
    assert code == EXIT_EXPECTATION
    failed = [c for c in report["checks"] if not c["passed"]]
    assert [c["expectation"] for c in failed] == ["receiver workload cannot assume SenderRole"]
    assert failed[0]["outcome"] == "ALLOWED"


@pytest.mark.usefixtures("endpoint_env")
def test_without_workload_profiles_the_caller_is_refused_both_roles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The administrator can no longer play the parties: its own AssumeRole is refused."""
    monkeypatch.delenv("KMS_SIGN_ENCRYPT_SENDER_PROFILE")
    monkeypatch.delenv("KMS_SIGN_ENCRYPT_RECEIVER_PROFILE")
    code = main(["run", "--workdir", str(tmp_path)])
    err = capsys.readouterr().err
    assert code == 1
    assert "may not call sts:AssumeRole on arn:aws:iam::123456789012:role/SenderRole" in err


@pytest.mark.usefixtures("endpoint_env")
def test_a_failed_expectation_makes_run_exit_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Breaks the property on purpose: the administrator's calls go out as the receiver, who
    may Decrypt, so "administrator cannot Decrypt" must fail and `run` must say so."""
    from demo import checks

    real = checks.least_privilege_checks

    def admin_is_receiver(**kwargs: Any) -> list[checks.CheckResult]:
        return real(**{**kwargs, "admin": kwargs["receiver"]})

    monkeypatch.setattr(checks, "least_privilege_checks", admin_is_receiver)
    code, report = run_json(tmp_path, capsys, "--format", "seed")
    assert code == EXIT_EXPECTATION
    failed = [c for c in report["checks"] if not c["passed"]]
    assert [c["expectation"] for c in failed] == ["administrator cannot Decrypt"]
    assert failed[0]["outcome"] == "ALLOWED"


def test_run_as_a_console_command_from_an_outputs_file(deployed_stack: Any, tmp_path: Path) -> None:
    """`python -m demo` in a child process, configured only by the environment and a file."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "demo",
            "run",
            "--outputs-file",
            str(deployed_stack.outputs_file),
            "--workdir",
            str(tmp_path),
        ],
        env=deployed_stack.subprocess_env(),
        capture_output=True,
        text=True,
        check=False,
        cwd=Path(__file__).resolve().parents[2],
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"from outputs file {deployed_stack.outputs_file}" in done.stdout
    assert done.stderr == ""
