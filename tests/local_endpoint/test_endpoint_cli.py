"""`python -m local_endpoint serve | demo`: what the user sees, and one-line failures."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from local_endpoint import cli

ROOT = Path(__file__).resolve().parents[2]


def _sigint_as_a_terminal_sends_it() -> None:
    """The child gets SIGINT's default disposition, even when this suite was started in the
    background (`cmd &` in a script ignores SIGINT, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_serve_prints_the_exports_serves_and_stops_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "local_endpoint", "serve"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_as_a_terminal_sends_it,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert first.startswith("Local AWS endpoint listening on http://127.0.0.1:")
        url = first.split()[5]
        lines = [process.stdout.readline() for _ in range(8)]
        assert f"  export AWS_ENDPOINT_URL={url}\n" in lines
        assert any(line.startswith("  export AWS_ACCESS_KEY_ID=") for line in lines)
        with urllib.request.urlopen(f"{url}/moto-api/data.json", timeout=5) as answer:
            assert answer.status == 200
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=10)
    finally:
        process.kill()
    assert process.returncode == 0, err
    assert "Local AWS endpoint stopped." in out
    assert "Traceback" not in err


def test_demo_reports_a_failing_phase_in_one_line(monkeypatch, tmp_path, capsys) -> None:
    outputs = tmp_path / "cdk-outputs.json"

    def fake_deploy(command, env, *, capture=False):
        roles = {
            "SenderRoleArn": "arn:aws:iam::123456789012:role/SenderRole",
            "ReceiverRoleArn": "arn:aws:iam::123456789012:role/ReceiverRole",
        }
        outputs.write_text(json.dumps({"KmsSignEncryptStack": roles}))
        return ""

    monkeypatch.setattr(cli, "OUTPUTS_FILE", outputs)
    monkeypatch.setattr(cli, "WORK_DIR", tmp_path)
    monkeypatch.setattr(cli.cdk_cli, "run", fake_deploy)
    monkeypatch.setattr(cli.cdk_cli, "PROJECT_ROOT", tmp_path)
    failing = [sys.executable, "-c", "raise SystemExit(3)"]
    monkeypatch.setattr(
        cli, "_demo_steps", lambda python, path: [("A step that fails", failing, "running X")]
    )
    passing = [sys.executable, "-c", "print('PASS shell: ok')"]
    monkeypatch.setattr(cli, "_preflight_command", lambda python, template: passing)
    assert cli.main(["demo"]) == cli.EXIT_FAILED
    captured = capsys.readouterr()
    assert "==> [1/7] Starting the local AWS endpoint" in captured.out
    assert "==> [5/7] Creating the two party workloads" in captured.out
    assert "sender-workload: arn:aws:iam::123456789012:user/sender-workload -> " in captured.out
    assert "==> [6/7] A step that fails" in captured.out
    (reason,) = [line for line in captured.err.splitlines() if line]
    assert (
        reason
        == "make demo: failed while running X: running X exited with 3 (see its output above)"
    )


def test_demo_fails_in_one_line_when_the_outputs_name_no_roles(
    monkeypatch, tmp_path, capsys
) -> None:
    outputs = tmp_path / "cdk-outputs.json"
    monkeypatch.setattr(cli, "OUTPUTS_FILE", outputs)
    monkeypatch.setattr(cli, "WORK_DIR", tmp_path)
    monkeypatch.setattr(cli.cdk_cli, "run", lambda *a, **k: outputs.write_text("{}"))
    passing = [sys.executable, "-c", "print('PASS shell: ok')"]
    monkeypatch.setattr(cli, "_preflight_command", lambda python, template: passing)
    assert cli.main(["demo"]) == cli.EXIT_FAILED
    (reason,) = [line for line in capsys.readouterr().err.splitlines() if line]
    assert reason.startswith(
        "make demo: failed while creating the sender and receiver workloads: cannot read the "
        f"stack outputs in {outputs}:"
    )


def test_demo_fails_clearly_when_cdk_deploy_fails(monkeypatch, tmp_path, capsys) -> None:
    def failing_deploy(command, env, *, capture=False):
        if "deploy" in command:
            raise cli.cdk_cli.CdkError("`cdk deploy` exited with 1: see the output above")
        return ""

    monkeypatch.setattr(cli, "OUTPUTS_FILE", tmp_path / "cdk-outputs.json")
    monkeypatch.setattr(cli, "WORK_DIR", tmp_path)
    monkeypatch.setattr(cli.cdk_cli, "run", failing_deploy)
    passing = [sys.executable, "-c", "pass"]
    monkeypatch.setattr(cli, "_preflight_command", lambda python, template: passing)
    assert cli.main(["demo"]) == cli.EXIT_FAILED
    err = capsys.readouterr().err.strip()
    assert err == (
        "make demo: failed while deploying with the CDK CLI: `cdk deploy` exited with 1: "
        "see the output above"
    )


def test_every_command_has_help() -> None:
    for name in cli.COMMANDS:
        with pytest.raises(SystemExit) as exited:
            cli.parser().parse_args([name, "--help"])
        assert exited.value.code == 0


def test_a_usage_error_is_one_line(capsys) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["bogus"])
    assert caught.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("python -m local_endpoint: error: argument COMMAND: invalid choice")


def test_demo_runs_the_preflight_before_the_deploy_and_stops_when_it_fails(
    monkeypatch, tmp_path, capsys
) -> None:
    ran = []

    def cdk(command, env, *, capture=False):
        ran.append(command[2])
        return ""

    monkeypatch.setattr(cli, "OUTPUTS_FILE", tmp_path / "cdk-outputs.json")
    monkeypatch.setattr(cli, "WORK_DIR", tmp_path)
    monkeypatch.setattr(cli.cdk_cli, "run", cdk)
    monkeypatch.setattr(cli.cdk_cli, "PROJECT_ROOT", tmp_path)
    failing = [sys.executable, "-c", "print('FAIL role SenderRole: exists'); raise SystemExit(1)"]
    monkeypatch.setattr(cli, "_preflight_command", lambda python, template: failing)
    assert cli.main(["demo"]) == cli.EXIT_FAILED
    captured = capsys.readouterr()
    assert ran == ["synth"]  # no deploy after a failed preflight
    assert "==> [3/7] Preflight, read-only, before the deploy" in captured.out
    assert "failed while running the preflight" in captured.err
