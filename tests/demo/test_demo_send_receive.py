"""`send`, `receive`, `public-keys`, `verify` and `access` as two parties would use them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kms_sign_encrypt import progress
from kms_sign_encrypt_cli.cli import main

pytestmark = pytest.mark.integration

MESSAGE = b'{"message": "The Magic Words are Squeamish Ossifrage", "sender": "Sender Principal"}\n'
OPENSSL = shutil.which("openssl") or "openssl"


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def openssl_verify(public_key: Path, signature: Path, message: Path) -> Any:
    """The third party's check: `openssl dgst -sha512 -verify KEY -signature SIG MESSAGE`."""
    command = [OPENSSL, "dgst", "-sha512", "-verify", str(public_key), "-signature", str(signature)]
    return subprocess.run([*command, str(message)], capture_output=True, text=True, check=False)


@pytest.fixture
def work(tmp_path: Path) -> Path:
    (tmp_path / "message.json").write_bytes(MESSAGE)
    for name in ("sender", "receiver"):
        (tmp_path / name).mkdir()
    return tmp_path


@pytest.mark.usefixtures("endpoint_env")
def test_envelope_send_and_receive_with_kms_call_counts(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = cli_json(capsys, "send", str(work / "message.json"), "-o", str(work / "m.enc"))
    assert sent["format"] == "envelope"
    assert sent["calls"] == {
        "cloudformation:DescribeStacks": 1,
        "kms:Encrypt": 1,
        "kms:Sign": 1,
        "sts:AssumeRole": 2,  # the sender workload's profile hop, then SenderRole
    }
    assert sent["principal"].endswith(":assumed-role/SenderRole/kms-sign-encrypt-demo-sender")
    received = cli_json(capsys, "receive", str(work / "m.enc"), "-o", str(work / "receiver"))
    assert received["format"] == "envelope"
    assert received["calls"] == {
        "cloudformation:DescribeStacks": 1,
        "kms:Decrypt": 1,
        # The sender's public key (empty cache): verifies locally, is cached and goes into
        # the evidence; no Verify (tests/demo/test_demo_public_key_cache.py: the cache hit).
        "kms:GetPublicKey": 1,
        "sts:AssumeRole": 2,  # the receiver workload's profile hop, then ReceiverRole
    }
    assert (work / "receiver" / "message.json").read_bytes() == MESSAGE


@pytest.mark.usefixtures("endpoint_env")
def test_evidence_verifies_with_openssl_and_sha512sum_alone(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cli_json(capsys, "send", str(work / "message.json"), "-o", str(work / "m.enc"))
    cli_json(capsys, "receive", str(work / "m.enc"), "-o", str(work / "receiver"))
    evidence = work / "receiver" / "evidence"
    assert sorted(p.name for p in evidence.iterdir()) == [
        "VERIFY.txt",
        "kms-trail.json",
        "manifest.sha512",
        "message.json",
        "sender.pem",
        "statement.json",
        "statement.sig",
    ]
    openssl = openssl_verify(
        evidence / "sender.pem", evidence / "statement.sig", evidence / "statement.json"
    )
    assert openssl.returncode == 0, openssl.stderr
    check = subprocess.run(
        ["sha512sum", "-c", "manifest.sha512"], cwd=evidence, capture_output=True, check=False
    )
    assert check.returncode == 0


@pytest.mark.usefixtures("endpoint_env")
def test_several_files_in_one_envelope_cost_one_sign(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for index in range(3):
        (work / "sender" / f"part-{index}.bin").write_bytes(bytes([index]) * (70_000 + index))
    parts = sorted(str(p) for p in (work / "sender").iterdir())
    sent = cli_json(capsys, "send", *parts, "-o", str(work / "parts.enc"))
    assert sent["calls"]["kms:Sign"] == 1
    cli_json(
        capsys, "receive", str(work / "parts.enc"), "-o", str(work / "receiver"), "--no-evidence"
    )
    for part in parts:
        assert (work / "receiver" / Path(part).name).read_bytes() == Path(part).read_bytes()


@pytest.mark.usefixtures("endpoint_env")
def test_public_keys_then_zero_encrypt_and_zero_verify(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    keys = cli_json(capsys, "public-keys", "-o", str(work))
    assert [Path(k["file"]).name for k in keys["public_keys"]] == [
        "encryption-key.pem",
        "signing-key.pem",
    ]
    assert keys["calls"]["kms:GetPublicKey"] == 2
    sent = cli_json(
        capsys,
        "send",
        str(work / "message.json"),
        "-o",
        str(work / "m.enc"),
        "--recipient-public-key",
        str(work / "encryption-key.pem"),
    )
    assert "kms:Encrypt" not in sent["calls"]
    assert sent["calls"]["kms:Sign"] == 1
    received = cli_json(
        capsys,
        "receive",
        str(work / "m.enc"),
        "-o",
        str(work / "receiver"),
        "--sender-public-key",
        str(work / "signing-key.pem"),
    )
    assert "kms:Verify" not in received["calls"]
    assert "kms:GetPublicKey" not in received["calls"]
    assert received["calls"]["kms:Decrypt"] == 1
    assert (work / "receiver" / "message.json").read_bytes() == MESSAGE


@pytest.mark.usefixtures("endpoint_env")
def test_the_wrong_sender_public_key_is_refused(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    impostor = ec.generate_private_key(ec.SECP521R1()).public_key()
    (work / "impostor.pem").write_bytes(
        impostor.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    cli_json(capsys, "send", str(work / "message.json"), "-o", str(work / "m.enc"))
    code = main(
        [
            "receive",
            str(work / "m.enc"),
            "-o",
            str(work / "receiver"),
            "--sender-public-key",
            str(work / "impostor.pem"),
        ]
    )
    assert code == 3
    assert "cannot be authenticated" in capsys.readouterr().err
    assert list((work / "receiver").iterdir()) == []


@pytest.mark.usefixtures("endpoint_env")
def test_seed_format_send_receive_and_both_verifications(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sent = cli_json(
        capsys, "send", "--format", "seed", str(work / "message.json"), "-o", str(work / "m.enc")
    )
    assert sent["bytes_out"] == 512
    received = cli_json(
        capsys, "receive", "--format", "seed", str(work / "m.enc"), "-o", str(work / "receiver")
    )
    assert received["format"] == "seed"
    assert received["recipient_bound"] is False
    assert received["calls"]["kms:Decrypt"] == 1
    assert received["calls"]["kms:Verify"] == 1
    message, signature = work / "receiver" / "message.json", work / "receiver" / "message.sig"
    assert message.read_bytes() == MESSAGE
    verified = cli_json(capsys, "verify", str(message), "-s", str(signature))
    assert "with KMS Verify" in verified["checked"]
    cli_json(capsys, "public-keys", "-o", str(work))
    offline = cli_json(
        capsys,
        "verify",
        "--offline",
        "--public-key",
        str(work / "signing-key.pem"),
        str(message),
        "-s",
        str(signature),
    )
    assert offline["valid"] is True
    openssl = openssl_verify(work / "signing-key.pem", signature, message)
    assert openssl.returncode == 0


def test_kms_sign_and_verify_of_a_file_over_4096_bytes_go_by_digest(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """RAW signing stops at 4096 bytes; larger files are signed and verified as a SHA-512
    DIGEST, and the result is the same ECDSA_SHA_512 signature openssl checks."""
    from kms_sign_encrypt import aws, kms

    caller = aws.open_caller_session(
        profile=endpoint_env.profiles.sender.profile,
        region=None,
        settings=aws.ClientSettings(),
        metrics=aws.CallMetrics(),
    )
    sender = aws.assume_role(caller, endpoint_env.outputs["SenderRoleArn"], party="sender")
    big = work / "big.bin"
    big.write_bytes(bytes(range(256)) * 40)  # 10240 bytes
    (work / "big.sig").write_bytes(
        kms.sign(sender, endpoint_env.outputs["SigningKeyAlias"], big.read_bytes())
    )
    assert sender.metrics.calls["kms:Sign"] == 1
    verified = cli_json(capsys, "verify", str(big), "-s", str(work / "big.sig"))
    assert verified["valid"] is True
    cli_json(capsys, "public-keys", "-o", str(work))
    openssl = openssl_verify(work / "signing-key.pem", work / "big.sig", big)
    assert openssl.returncode == 0
    big.write_bytes(big.read_bytes() + b"!")
    assert main(["verify", str(big), "-s", str(work / "big.sig")]) == 3


@pytest.mark.usefixtures("endpoint_env")
def test_a_slow_file_shows_progress_on_stderr(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    original = progress.Progress.__init__

    def immediate(self: progress.Progress, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "delay": 0.0})
        self._interval = 0.0

    monkeypatch.setattr(progress.Progress, "__init__", immediate)
    monkeypatch.setattr(progress.DirectoryWatcher, "__init__", _fast_watcher)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal
    big = work / "big.bin"
    big.write_bytes(b"\0" * (8 * 1024 * 1024))
    assert main(["send", str(big), "-o", str(work / "big.enc")]) == 0
    err = capsys.readouterr().err
    assert "sealing:" in err
    assert err.rstrip().splitlines()[-1].startswith("sealing: 100.0%")


@pytest.mark.usefixtures("endpoint_env")
def test_slow_work_prints_no_progress_when_stderr_is_not_a_terminal(
    work: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A script reading stderr gets the one error line, however slow the receive was."""
    original = progress.Progress.__init__

    def immediate(self: progress.Progress, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **{**kwargs, "delay": 0.0})

    monkeypatch.setattr(progress.Progress, "__init__", immediate)
    big = work / "big.bin"
    big.write_bytes(b"\0" * (8 * 1024 * 1024))
    assert main(["send", str(big), "-o", str(work / "big.enc")]) == 0
    tampered = bytearray((work / "big.enc").read_bytes())
    tampered[-100] ^= 1
    (work / "bad.enc").write_bytes(bytes(tampered))
    (work / "inbox").mkdir()
    capsys.readouterr()
    assert main(["receive", str(work / "bad.enc"), "-o", str(work / "inbox")]) != 0
    (line,) = capsys.readouterr().err.splitlines()
    assert "opening" not in line


_watcher_init = progress.DirectoryWatcher.__init__


def _fast_watcher(self: Any, directory: Path, prog: Any, *, poll: float = 0.2) -> None:
    _watcher_init(self, directory, prog, poll=0.001)


@pytest.mark.usefixtures("endpoint_env")
def test_access_matrix_live_and_from_the_template(
    work: Path, capsys: pytest.CaptureFixture[str], endpoint_env: Any
) -> None:
    live = cli_json(capsys, "access")
    template = work / "template.json"
    template.write_text(json.dumps(endpoint_env.template))
    offline = cli_json(capsys, "access", "--template", str(template))
    assert live["source"].startswith("key policies of stack")
    assert offline["source"] == f"template {template}"
    assert main(["access"]) == 0
    table = capsys.readouterr().out
    assert "alias/sample-encrypt-decrypt-key" in table
    assert "SenderRole" in table


@pytest.mark.usefixtures("endpoint_env")
def test_received_names_that_would_act_on_the_terminal_are_shown_escaped(
    work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A right-to-left override makes "invoice\u202efdp.exe" display as "invoiceexe.pdf"."""
    spoof = work / "sender" / "invoice\u202efdp.exe"
    spoof.write_bytes(b"MZ")
    assert main(["send", str(spoof), "-o", str(work / "m.enc")]) == 0
    capsys.readouterr()
    assert main(["receive", str(work / "m.enc"), "-o", str(work / "receiver")]) == 0
    out = capsys.readouterr().out
    assert "\u202e" not in out
    assert "invoice\\u202efdp.exe" in out
    assert (work / "receiver" / "invoice\u202efdp.exe").read_bytes() == b"MZ"
