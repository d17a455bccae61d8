"""`kms-sign-encrypt preflight` against the local endpoint: one line per check, no change made."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import botocore.client
import pytest

from kms_sign_encrypt_cli.cli import main
from local_endpoint import LocalEndpoint

READ_ONLY = ("Describe", "Get", "List", "Simulate")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every AWS operation the code under test calls, by name."""
    made: list[str] = []
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        made.append(operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return made


def write(tmp_path: Path, template: dict[str, Any]) -> Path:
    path = tmp_path / "template.json"
    path.write_text(json.dumps(template))
    return path


def state(client: Any) -> Any:
    iam, kms, cfn = client("iam"), client("kms"), client("cloudformation")
    return (
        sorted(r["Arn"] for r in iam.list_roles()["Roles"]),
        sorted(k["KeyId"] for k in kms.list_keys()["Keys"]),
        sorted(a["AliasName"] for a in kms.list_aliases()["Aliases"]),
        sorted((s["StackName"], s["StackStatus"]) for s in cfn.describe_stacks()["Stacks"]),
    )


def test_preflight_passes_for_the_deployed_stack_and_changes_nothing(
    endpoint_env: Any, tmp_path: Path, calls: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    before = state(endpoint_env.endpoint.client)
    template = write(tmp_path, endpoint_env.template)
    assert main(["preflight", "--template", str(template), "--local"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1].endswith(", 0 failed")
    checks = lines[:-1]
    assert all(line.split()[0] in ("PASS", "SKIP") for line in checks), checks
    text = "\n".join(checks)
    assert "PASS shell: the target is the local endpoint" in text
    assert "PASS region: us-east-1" in text
    assert "PASS bootstrap: the template is bootstrapless" in text
    assert "PASS role SenderRole: belongs to stack KmsSignEncryptStack" in text
    assert "PASS alias alias/sample-sign-verify-key: belongs to stack" in text
    # the two asymmetric keys and the alarm topic's key
    assert sum(line.startswith("PASS key policy ") for line in checks) == 3
    assert calls, "preflight made no AWS call"
    assert [c for c in calls if not c.startswith(READ_ONLY)] == []
    assert state(endpoint_env.endpoint.client) == before


def test_preflight_fails_where_the_deploy_would(
    clean_aws_env: Path,
    deployed_stack: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    calls: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    broken = copy.deepcopy(deployed_stack.template)  # the template only: its endpoint is not used
    typo = "arn:aws:iam::123456789012:role/Admn"
    for resource in broken["Resources"].values():
        if resource["Type"] == "AWS::KMS::Key":
            statements = resource["Properties"]["KeyPolicy"]["Statement"]
            statements.append({"Effect": "Allow", "Principal": {"AWS": typo}, "Action": "kms:Sign"})
            statements.extend(copy.deepcopy(statements) * 40)  # well over 32 KB
    with LocalEndpoint() as endpoint:
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        # A SenderRole that another deployment (another region) made.
        endpoint.client("iam").create_role(
            RoleName="SenderRole", AssumeRolePolicyDocument=json.dumps(trust)
        )
        for name, value in endpoint.env.items():
            monkeypatch.setenv(name, value)
        before = state(endpoint.client)
        path = write(tmp_path, broken)
        assert main(["preflight", "--template", str(path)]) == 1
        after = state(endpoint.client)
    out = capsys.readouterr().out
    assert "FAIL shell: local-endpoint exports are set (AWS_ENDPOINT_URL" in out
    assert "FAIL role SenderRole: exists and is not this stack's" in out
    assert "PASS role ReceiverRole: the name is free" in out
    assert f"FAIL principal {typo}: does not exist" in out
    assert "over the 32768-byte limit" in out
    assert [c for c in calls if not c.startswith((*READ_ONLY, "CreateRole"))] == []
    assert after == before


def test_preflight_names_a_missing_template(
    fake_aws_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preflight", "--template", str(tmp_path / "none.json")]) == 2
    err = capsys.readouterr().err
    assert "template" in err
    assert "run `npx cdk synth` first" in err
