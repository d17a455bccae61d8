"""`audit` and the audit at the end of `run`: CloudTrail LookupEvents, as AWS answers it.

Against the session's local endpoint, which records every KMS and STS call it serves. `run`
makes allowed and refused calls as both roles; its report lists them, and the AWS CLI's
`lookup-events` sees the same Sign and Decrypt events and the refusals.
"""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt import audit
from kms_sign_encrypt.errors import EXIT_USAGE, UsageError
from kms_sign_encrypt_cli.cli import main

AWS_CLI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "aws"
SENDER_SESSION = "assumed-role/SenderRole/kms-sign-encrypt-demo-sender"
RECEIVER_SESSION = "assumed-role/ReceiverRole/kms-sign-encrypt-demo-receiver"


@pytest.fixture(scope="module")
def run_report(tmp_path_factory: pytest.TempPathFactory, deployed_stack: Any) -> dict:
    """One `run --json` against the shared endpoint (it only adds to the trail)."""
    workdir = tmp_path_factory.mktemp("audited-run")
    env = deployed_stack.subprocess_env()
    answer = subprocess.run(
        [str(AWS_CLI.parent / "python"), "-m", "demo", "run", "--json", "--workdir", str(workdir)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr
    return json.loads(answer.stdout)


def _by(entries: list[dict], operation: str, caller: str, outcome: str) -> list[dict]:
    return [
        e
        for e in entries
        if e["operation"] == operation and e["caller"].endswith(caller) and e["outcome"] == outcome
    ]


def test_run_ends_with_the_audit_of_its_own_sessions(run_report: dict, deployed_stack) -> None:
    entries = run_report["audit"]
    assert entries, "run's report has no audit"
    signing, encryption = (
        deployed_stack.outputs["SigningKeyArn"],
        deployed_stack.outputs["EncryptionKeyArn"],
    )
    (sign,) = _by(entries, "Sign", SENDER_SESSION, "allowed")
    assert sign["key_arn"] == signing
    assert sign["generation"] == "signing (current)"
    assert sign["algorithm"] == "ECDSA_SHA_512"
    assert sign["request_id"]
    decrypts = _by(entries, "Decrypt", RECEIVER_SESSION, "allowed")
    assert decrypts
    assert {d["key_arn"] for d in decrypts} == {encryption}
    assert {d["algorithm"] for d in decrypts} == {"RSAES_OAEP_SHA_256"}
    # the least-privilege checks' attempts are in the trail as refusals
    assert _by(entries, "Decrypt", SENDER_SESSION, "AccessDenied")
    assert _by(entries, "Sign", RECEIVER_SESSION, "AccessDenied")
    # only this run's sessions: the administrator's own refused attempts are not listed
    assert all("assumed-role/" in e["caller"] for e in entries)
    times = [e["time"] for e in entries]
    assert times == sorted(times)


def test_the_aws_cli_shows_the_runs_sign_decrypt_and_refusals(run_report, deployed_stack) -> None:
    def lookup(name: str) -> list[dict]:
        answer = subprocess.run(
            [
                str(AWS_CLI),
                *("cloudtrail", "lookup-events", "--output", "json"),
                *("--lookup-attributes", f"AttributeKey=EventName,AttributeValue={name}"),
            ],
            env=deployed_stack.subprocess_env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        return [json.loads(e["CloudTrailEvent"]) for e in json.loads(answer.stdout)["Events"]]

    ids = {e["request_id"] for e in run_report["audit"]}
    signs, decrypts = lookup("Sign"), lookup("Decrypt")
    assert {e["requestID"] for e in signs if "errorCode" not in e} & ids
    assert {e["requestID"] for e in decrypts if "errorCode" not in e} & ids
    denied = [e for e in signs + decrypts if e.get("errorCode") == "AccessDenied"]
    assert {e["requestID"] for e in denied} & ids
    assert all("is not authorized to perform" in e["errorMessage"] for e in denied)


@pytest.mark.usefixtures("endpoint_env")
def test_audit_lists_the_calls_with_json(run_report, capsys) -> None:
    code = main(["audit", "--since", "1h", "--json"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    ids = {e["request_id"] for e in document["events"]}
    assert {e["request_id"] for e in run_report["audit"]} <= ids
    assert set(document["keys"].values()) == {"encryption (current)", "signing (current)"}
    operations = {e["operation"] for e in document["events"]}
    assert {"Sign", "Decrypt", "GetPublicKey"} <= operations
    # the administrator's refused Sign (run's least-privilege check) is in the full audit
    assert any(
        e["caller"].endswith(":user/local-admin") and e["outcome"] == "AccessDenied"
        for e in document["events"]
    )


@pytest.mark.usefixtures("endpoint_env")
def test_audit_prints_a_table(run_report, capsys) -> None:
    assert main(["audit", "--since", "1h"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("Cryptographic calls on 2 keys from ")
    assert out[1].split()[:5] == ["time", "operation", "outcome", "key", "generation"]
    assert any(" Sign " in line and "allowed" in line and SENDER_SESSION in line for line in out)


@pytest.mark.usefixtures("endpoint_env")
def test_audit_window_in_the_future_is_empty(run_report, capsys) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert main(["audit", "--since", later, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["events"] == []


@pytest.mark.parametrize(
    ("arguments", "says"),
    [
        (["--since", "yesterday"], "--since 'yesterday' is not a time"),
        (["--since", "1h", "--until", "2h"], "is after the end"),
        (["--since", "100d"], "more than 90 days ago"),
    ],
)
@pytest.mark.usefixtures("fake_aws_env")
def test_bad_times_are_one_line_usage_errors(arguments, says, capsys) -> None:
    keys = ["--encryption-key", "arn:aws:kms:us-east-1:123456789012:key/a"]
    keys += ["--signing-key", "arn:aws:kms:us-east-1:123456789012:key/b"]
    assert main(["audit", *keys, *arguments]) == EXIT_USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    (line,) = captured.err.splitlines()
    assert says in line


def test_parse_time_accepts_iso_and_ages() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    assert audit.parse_time("2h", "--since", now=now) == now - timedelta(hours=2)
    assert audit.parse_time("2026-12-01T09:00:00", "--since", now=now) == datetime(
        2026, 12, 1, 9, tzinfo=UTC
    )
    with pytest.raises(UsageError):
        audit.parse_time("9 o'clock", "--since", now=now)


def test_a_page_of_events_becomes_entries_only_for_crypto_calls() -> None:
    record = {
        "eventTime": "2026-12-01T09:00:00Z",
        "userIdentity": {
            "arn": "arn:aws:sts::123456789012:assumed-role/SenderRole/s",
            "sessionContext": {"sourceIdentity": "alice"},
        },
        "requestParameters": {"keyId": "k", "signingAlgorithm": "ECDSA_SHA_512"},
        "requestID": "r-1",
        "errorCode": "AccessDenied",
    }
    sign = {"EventName": "Sign", "EventId": "e-1", "CloudTrailEvent": json.dumps(record)}
    entry = audit._entry(sign, "arn:k", "signing (current)")
    assert entry is not None
    assert (entry.source_identity, entry.outcome, entry.request_id) == (
        "alice",
        "AccessDenied",
        "r-1",
    )
    assert "(source identity alice)" in entry.line()
    assert audit._entry({**sign, "EventName": "PutKeyPolicy"}, "arn:k", "x") is None
