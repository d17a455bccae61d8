"""The public library API: the snippet of docs/LIBRARY.md as written, and the stream forms."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

import kms_sign_encrypt
from kms_sign_encrypt import AuthenticationError, Deployment, KmsSignEncryptError, Receiver, Sender

ROOT = Path(__file__).resolve().parents[2]
CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

pytestmark = pytest.mark.integration


def documented_snippet() -> str:
    text = (ROOT / "docs" / "LIBRARY.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    (snippet,) = [b for b in blocks if "from kms_sign_encrypt import" in b]
    return snippet


def as_workload(monkeypatch: pytest.MonkeyPatch, deployed_stack: Any, profile: str) -> None:
    """The process runs as the party's workload: only its profile, at the local endpoint."""
    for name, value in (deployed_stack.env | deployed_stack.profiles.env).items():
        monkeypatch.setenv(name, value)
    for name in CREDENTIAL_VARIABLES:  # env keys would win over AWS_PROFILE
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_PROFILE", profile)


def test_the_documented_snippet_runs_against_the_local_endpoint(
    deployed_stack: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "cdk-outputs.json").write_text(deployed_stack.outputs_file.read_text())
    (tmp_path / "invoice.json").write_text('{"invoice": 42}\n')
    (tmp_path / "inbox").mkdir()
    lines = documented_snippet().splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if line.startswith("receiver ="))
    namespace: dict[str, Any] = {}
    as_workload(monkeypatch, deployed_stack, deployed_stack.profiles.sender.profile)
    exec(compile("".join(lines[:cut]), "docs/LIBRARY.md", "exec"), namespace)
    as_workload(monkeypatch, deployed_stack, deployed_stack.profiles.receiver.profile)
    exec(compile("\n" * cut + "".join(lines[cut:]), "docs/LIBRARY.md", "exec"), namespace)

    sent, received = namespace["sent"], namespace["received"]
    outputs = deployed_stack.outputs
    assert sent.calls["kms:Sign"] == 1
    assert sent.calls["kms:Encrypt"] == 1
    assert sent.kms_calls == 2
    assert sent.signing_key_arn == outputs["SigningKeyArn"]
    assert sent.encryption_key_arn == outputs["EncryptionKeyArn"]
    assert sent.bytes_in == len('{"invoice": 42}\n')
    assert sent.bytes_out == (tmp_path / "parcel.enc").stat().st_size
    assert ":assumed-role/" in (sent.principal or "")
    assert received.calls["kms:Decrypt"] == 1
    assert received.calls["kms:Verify"] == 1
    assert received.files == (Path("inbox") / "invoice.json",)
    assert (tmp_path / "inbox" / "invoice.json").read_text() == '{"invoice": 42}\n'
    assert received.sender_key_arn == outputs["SigningKeyArn"]


def parties(deployed_stack: Any) -> tuple[Sender, Receiver]:
    deployment = Deployment.from_outputs_file(deployed_stack.outputs_file)
    env = deployed_stack.env
    sender = Sender(
        boto3.Session(
            profile_name=deployed_stack.profiles.sender.profile,
            region_name=env["AWS_DEFAULT_REGION"],
        ),
        deployment,
    )
    receiver = Receiver(
        boto3.Session(
            profile_name=deployed_stack.profiles.receiver.profile,
            region_name=env["AWS_DEFAULT_REGION"],
        ),
        deployment,
    )
    return sender, receiver


@pytest.fixture
def workload_env(deployed_stack: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in (deployed_stack.env | deployed_stack.profiles.env).items():
        monkeypatch.setenv(name, value)


@pytest.mark.usefixtures("workload_env")
def test_a_stream_goes_through_send_stream_and_receive_stream(
    deployed_stack: Any, tmp_path: Path
) -> None:
    sender, receiver = parties(deployed_stack)
    body = os.urandom(300_000)
    sealed = io.BytesIO()
    sent = sender.send_stream(io.BytesIO(body), "report.bin", sealed)
    assert sent.output is None
    assert sent.bytes_in == len(body)
    assert sent.bytes_out == len(sealed.getvalue())
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    sealed.seek(0)
    received = receiver.receive_stream(sealed, inbox)
    assert received.files == (inbox / "report.bin",)
    assert (inbox / "report.bin").read_bytes() == body
    assert received.kms_calls == 2
    again = sender.send_stream(io.BytesIO(b"again\n"), "again.txt", io.BytesIO())
    assert again.calls["kms:Sign"] == 1  # each result counts its own calls only
    assert again.calls["sts:AssumeRole"] == 1


@pytest.mark.usefixtures("workload_env")
def test_a_tampered_stream_is_one_opaque_error_and_leaves_nothing(
    deployed_stack: Any, tmp_path: Path
) -> None:
    sender, receiver = parties(deployed_stack)
    sealed = io.BytesIO()
    sender.send_stream(io.BytesIO(b"pay 100 to alice\n"), "order.txt", sealed)
    tampered = bytearray(sealed.getvalue())
    tampered[-40] ^= 1
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    with pytest.raises(AuthenticationError) as caught:
        receiver.receive_stream(io.BytesIO(bytes(tampered)), inbox)
    assert isinstance(caught.value, KmsSignEncryptError)
    assert list(inbox.iterdir()) == []


@pytest.mark.usefixtures("workload_env")
def test_offline_variants_use_the_public_keys_instead_of_kms(
    deployed_stack: Any, tmp_path: Path
) -> None:
    sender, receiver = parties(deployed_stack)
    kms = boto3.Session(**deployed_stack.party_credentials("SenderRoleArn")).client("kms")
    encryption_pem = public_pem(kms, deployed_stack.outputs["EncryptionKeyArn"])
    kms = boto3.Session(**deployed_stack.party_credentials("ReceiverRoleArn")).client("kms")
    signing_pem = public_pem(kms, deployed_stack.outputs["SigningKeyArn"])
    (tmp_path / "a.txt").write_text("offline\n")
    sent = sender.send(
        [tmp_path / "a.txt"], tmp_path / "a.enc", recipient_public_key=encryption_pem
    )
    assert "kms:Encrypt" not in sent.calls
    assert sent.calls["kms:Sign"] == 1
    (tmp_path / "inbox").mkdir()
    received = receiver.receive(
        tmp_path / "a.enc", tmp_path / "inbox", sender_public_key=signing_pem
    )
    assert "kms:Verify" not in received.calls
    assert (tmp_path / "inbox" / "a.txt").read_text() == "offline\n"


def public_pem(kms: Any, key_arn: str) -> bytes:
    from cryptography.hazmat.primitives import serialization

    der = kms.get_public_key(KeyId=key_arn)["PublicKey"]
    key = serialization.load_der_public_key(der)
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def test_every_public_error_is_one_base_exception() -> None:
    errors = [
        getattr(kms_sign_encrypt, name)
        for name in kms_sign_encrypt.__all__
        if name.endswith("Error")
    ]
    assert len(errors) > 5
    assert all(issubclass(e, KmsSignEncryptError) for e in errors)


def test_importing_the_libraries_imports_no_argparse() -> None:
    code = (
        "import sys, kms_sign_encrypt, stacks, envelope, keypolicy; "
        "print(sorted(m for m in sys.modules if m == 'argparse' or m.startswith('demo') "
        "or m.startswith('kms_sign_encrypt_cli')))"
    )
    answer = subprocess.run(  # a fresh interpreter: pytest itself imports argparse
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert json.loads(answer.stdout.strip().replace("'", '"')) == []


def cli_flags() -> set[str]:
    from kms_sign_encrypt_cli.cli import build_parser

    flags: set[str] = set()
    parsers = [build_parser()]
    while parsers:
        parser = parsers.pop()
        for action in parser._actions:
            flags.update(s for s in action.option_strings if s.startswith("--"))
            if action.choices and isinstance(action.choices, dict):
                parsers.extend(action.choices.values())
    flags.discard("--help")
    return flags


# Other tools' flags that happen to be spelled like ours, named in messages on purpose.
OTHER_TOOLS = ("cdk deploy --outputs-file",)


# The four library packages: none may know a flag of the CLI (kms_sign_encrypt_cli).
LIBRARY_PACKAGES = ("kms_sign_encrypt", "envelope", "keypolicy", "stacks")


def flags_named(text: str, flags: set[str]) -> list[str]:
    pattern = re.compile(
        "(" + "|".join(re.escape(f) for f in sorted(flags, key=len, reverse=True)) + r")\b"
    )
    for tool in OTHER_TOOLS:
        text = text.replace(tool, "")
    return [m.group(0) for m in pattern.finditer(text)]


def test_no_library_module_names_a_cli_flag() -> None:
    flags = cli_flags()
    assert {"--force", "--format", "--region", "--outputs-file"} <= flags
    found = []
    paths = [p for package in LIBRARY_PACKAGES for p in sorted((ROOT / package).rglob("*.py"))]
    assert len(paths) > 50  # every module of the four packages, subpackages included
    for path in paths:
        text = path.read_text(encoding="utf-8")
        found += [f"{path.relative_to(ROOT)}: {flag}" for flag in flags_named(text, flags)]
    assert found == []


def test_the_flag_check_catches_a_flag_in_a_message() -> None:
    """Breaks the property on purpose: a message naming an option is caught; the CDK CLI's
    own `cdk deploy --outputs-file` is not ours."""
    flags = cli_flags()
    text = 'raise UsageError("output exists: pass --force")\n"use --format=envelope"'
    assert flags_named(text, flags) == ["--force", "--format"]
    assert flags_named('"deploy with cdk deploy --outputs-file x"', flags) == []


@pytest.mark.usefixtures("workload_env")
@pytest.mark.parametrize("name", ["a/b", "back\\slash", "..", "-", "tab\there", "x" * 300])
def test_a_stream_name_the_envelope_refuses_is_refused_before_any_call(
    deployed_stack: Any, name: str
) -> None:
    """send_stream applies the envelope's own file-name rule (envelope.statement.name_problem)
    before staging anything or calling AWS; it once had a looser copy of its own."""
    sender, _ = parties(deployed_stack)
    destination = io.BytesIO()
    with pytest.raises(kms_sign_encrypt.KmsSignEncryptError, match="the file name"):
        sender.send_stream(io.BytesIO(b"data\n"), name, destination)
    assert destination.getvalue() == b""
