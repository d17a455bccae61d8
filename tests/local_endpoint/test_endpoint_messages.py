"""Issue 10: every message the endpoint writes is in one table, marked quoted or invented."""

from __future__ import annotations

from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local_endpoint import messages
from tests.local_endpoint.patched_moto import ROOT, patched_moto

GUIDE = (Path(__file__).resolve().parents[2] / "docs" / "LOCAL-ENDPOINT.md").read_text()
SOURCES = Path(__file__).resolve().parents[2] / "local_endpoint"


def test_every_message_is_marked_and_sourced() -> None:
    assert len(messages.TABLE) >= 20
    for message in messages.TABLE:
        assert isinstance(message.origin, messages.Origin)
        assert message.source.strip(), message


@pytest.mark.parametrize("message", messages.TABLE, ids=lambda m: m.text[:40] or m.code)
def test_the_guide_prints_the_table(message: messages.Message) -> None:
    row = f"| `{message.code}` | `{message.text}` | {message.origin.value} | {message.source} |"
    if not message.text:
        row = f"| `{message.code}` | (none) | {message.origin.value} | {message.source} |"
    assert row in GUIDE


def test_no_module_writes_a_quoted_message_of_its_own() -> None:
    """The quoted texts live in messages.py only: a second copy could drift from AWS's."""
    import ast

    for path in SOURCES.glob("*.py"):
        if path.name == "messages.py":
            continue
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        literals = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and id(node) not in docstrings
        ]
        for message in messages.TABLE:
            head = message.text.split("{")[0]
            if len(head) >= 20:
                repeated = [text for text in literals if head in text]
                assert repeated == [], f"{path.name} repeats {head!r}"


def test_incorrect_key_is_worded_as_aws_words_it() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
        ],
    }
    import json

    with patched_moto() as moto:
        kms = moto.client("kms")
        one = kms.create_key(Policy=json.dumps(policy), KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"][
            "KeyId"
        ]
        two = kms.create_key(Policy=json.dumps(policy), KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"][
            "KeyId"
        ]
        blob = kms.encrypt(KeyId=one, Plaintext=b"x")["CiphertextBlob"]
        with pytest.raises(ClientError) as caught:
            kms.decrypt(KeyId=two, CiphertextBlob=blob)
    assert caught.value.response["Error"]["Code"] == "IncorrectKeyException"
    assert caught.value.response["Error"]["Message"] == (
        "The key ID in the request does not identify a CMK that can perform this operation."
    )
