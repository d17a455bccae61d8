"""Evidence that can be matched with the trail: the received evidence names what CloudTrail
recorded, and `audit --statement` finds the sender's Sign call for a statement."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt_cli.cli import main

pytestmark = pytest.mark.integration

MESSAGE = b'{"message": "matched with the trail"}\n'


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def _trail_record(deployed_stack: Any, request_id: str) -> dict[str, Any]:
    trail = deployed_stack.endpoint.client("cloudtrail")
    for page in trail.get_paginator("lookup_events").paginate(
        LookupAttributes=[{"AttributeKey": "EventSource", "AttributeValue": "kms.amazonaws.com"}]
    ):
        for event in page["Events"]:
            record = json.loads(event["CloudTrailEvent"])
            if record["requestID"] == request_id:
                return record
    raise LookupError(request_id)


@pytest.fixture
def exchanged(tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint_env: Any) -> dict:
    (tmp_path / "message.json").write_bytes(MESSAGE)
    (tmp_path / "inbox").mkdir()
    sent = cli_json(capsys, "send", str(tmp_path / "message.json"), "-o", str(tmp_path / "m.enc"))
    received = cli_json(capsys, "receive", str(tmp_path / "m.enc"), "-o", str(tmp_path / "inbox"))
    return {"sent": sent, "received": received, "evidence": tmp_path / "inbox" / "evidence"}


def test_send_reports_the_sign_request_id_cloudtrail_records(exchanged, deployed_stack) -> None:
    (sign,) = [r for r in exchanged["sent"]["kms_requests"] if r["operation"] == "Sign"]
    record = _trail_record(deployed_stack, sign["request_id"])
    assert record["eventName"] == "Sign"
    assert record["userIdentity"]["arn"] == exchanged["sent"]["principal"]
    assert record["resources"][0]["ARN"] == deployed_stack.outputs["SigningKeyArn"]


def test_the_evidence_names_the_statement_and_the_receivers_requests(
    exchanged, deployed_stack
) -> None:
    evidence = exchanged["evidence"]
    trail = json.loads((evidence / "kms-trail.json").read_text())
    statement = (evidence / "statement.json").read_bytes()
    assert trail["statement_sha512"] == hashlib.sha512(statement).hexdigest()
    assert trail["statement_created"] == json.loads(statement)["created"]
    assert trail["sender_key"] == deployed_stack.outputs["SigningKeyArn"]
    assert deployed_stack.outputs["SigningKeyArn"] in trail["find_the_sign_event"]["aws_cli"]
    operations = [r["operation"] for r in trail["receiver_kms_requests"]]
    # The receiver verified locally with the sender's public key (the cache): GetPublicKey,
    # started beside the Decrypt, in place of Verify.
    assert sorted(operations) == ["Decrypt", "GetPublicKey"]
    for request in trail["receiver_kms_requests"]:
        record = _trail_record(deployed_stack, request["request_id"])
        assert record["eventName"] == request["operation"]
        assert record["userIdentity"]["arn"] == exchanged["received"]["principal"]


def test_audit_statement_finds_the_sign_call(exchanged, capsys) -> None:
    evidence = exchanged["evidence"]
    found = cli_json(capsys, "audit", "--statement", str(evidence / "statement.json"))
    (sign,) = [r for r in exchanged["sent"]["kms_requests"] if r["operation"] == "Sign"]
    assert sign["request_id"] in {e["request_id"] for e in found["sign_events"]}
    assert all(e["operation"] == "Sign" for e in found["sign_events"])
    digest = hashlib.sha512((evidence / "statement.json").read_bytes()).hexdigest()
    assert found["statement_sha512"] == digest


@pytest.mark.usefixtures("fake_aws_env")
def test_audit_statement_of_something_else_is_one_line(tmp_path: Path, capsys) -> None:
    (tmp_path / "statement.json").write_text("[1, 2]")
    assert main(["audit", "--statement", str(tmp_path / "statement.json")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "is not a statement" in line


def test_a_received_file_named_like_the_trail_evidence_is_refused(
    tmp_path: Path, capsys, endpoint_env
) -> None:
    (tmp_path / "kms-trail.json").write_bytes(b"{}")
    (tmp_path / "inbox").mkdir()
    cli_json(capsys, "send", str(tmp_path / "kms-trail.json"), "-o", str(tmp_path / "m.enc"))
    assert main(["receive", str(tmp_path / "m.enc"), "-o", str(tmp_path / "inbox")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "kms-trail.json" in line
    assert list((tmp_path / "inbox").iterdir()) == []
