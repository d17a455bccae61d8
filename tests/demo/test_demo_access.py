"""`access`: the transitive matrix in the text, the JSON and the Mermaid output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt.access import AccessReport
from kms_sign_encrypt.errors import UsageError
from kms_sign_encrypt_cli.cli import main


@pytest.fixture(scope="module")
def template_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from stacks.app import create_app

    (stack,) = create_app(builtin_validation=False).synth().stacks
    path = tmp_path_factory.mktemp("t") / "template.json"
    path.write_text(json.dumps(stack.template))
    return path


def test_mermaid_prints_only_the_flowchart(
    template_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access", "--template", str(template_file), "--mermaid"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR\n")
    assert "Legend:" not in out
    assert '(["ReceiverWorkload"])' in out


def test_json_carries_the_paths_with_their_hops(
    template_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["access", "--template", str(template_file), "--json"]) == 0
    transitive: dict[str, Any] = json.loads(capsys.readouterr().out)["matrix"]["transitive"]
    decrypt = [
        p
        for p in transitive["paths"]
        if p["action"] == "kms:Decrypt" and p["principal"] == "ReceiverWorkload"
    ]
    assert [h["role"] for h in decrypt[0]["hops"]] == ["ReceiverRole"]
    assert decrypt[0]["conditions"] == ["kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256"]
    assert transitive["separationOfDuties"]["holds"] is True


def test_without_account_details_the_reason_is_printed_and_mermaid_refuses() -> None:
    from keypolicy import matrix

    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            }
        ],
    }
    built = matrix.build_matrix({"k": (None, policy)}, {"Root": "arn:aws:iam::123456789012:root"})
    access = AccessReport(built, reach_note="access denied: iam:GetAccountAuthorizationDetails")
    assert "transitive access matrix unavailable: access denied" in access.table()
    assert access.as_json()["transitive"] is None
    with pytest.raises(UsageError, match="no transitive access matrix to draw"):
        access.mermaid()
