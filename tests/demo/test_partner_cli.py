"""Partners without AWS (issue 14), through the CLI as the issue writes the commands.

The partner side runs in a child process whose environment has no AWS variable but an
``AWS_ENDPOINT_URL`` on a port that refuses connections, no config files and no instance
metadata: any AWS call it tried would fail, so its success proves zero AWS calls. Our side
runs against the session's local endpoint as SenderRole and ReceiverRole.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envelope.format import read_header
from kms_sign_encrypt import generate_partner_keys
from kms_sign_encrypt.errors import EXIT_REFUSED, EXIT_USAGE
from kms_sign_encrypt_cli.cli import main
from tests.envelope.envelope_testkit import build_envelope, decrypt_inner

MESSAGE = b'{"message": "from a partner with no AWS account"}\n'
OPENSSL = shutil.which("openssl") or "openssl"
PREFIX = "kms-sign-encrypt: error: "


def refused_port() -> int:
    """A local port nothing listens on: connecting to it is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def no_aws_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env |= {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{refused_port()}",
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "HOME": str(tmp_path / "partner-home"),
        "XDG_CACHE_HOME": str(tmp_path / "partner-home" / "cache"),
    }
    env.pop("KMS_SIGN_ENCRYPT_PASSPHRASE", None)
    return env


def partner(env: dict[str, str], cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The partner's `kms-sign-encrypt ARGS`, in its own process with no AWS."""
    return subprocess.run(
        [sys.executable, "-m", "kms_sign_encrypt_cli", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def ours(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(PREFIX), result.stderr
    assert "Traceback" not in result.stderr
    return result.stderr[len(PREFIX) : -1]


def openssl_verifies(evidence: Path) -> bool:
    command = [OPENSSL, "dgst", "-sha512", "-verify", str(evidence / "sender.pem")]
    command += ["-signature", str(evidence / "statement.sig"), str(evidence / "statement.json")]
    return subprocess.run(command, capture_output=True, check=False).returncode == 0


@pytest.fixture
def world(tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint_env: Any) -> Path:
    """Our public keys exported (public-keys) and handed to the partner as our-*.pem; the
    partner's keys made with keygen, in the partner's own process."""
    (tmp_path / "ours").mkdir()
    (tmp_path / "partner").mkdir()
    ours(capsys, "public-keys", "-o", str(tmp_path / "ours"))
    for name in ("encryption", "signing"):
        shutil.copy(tmp_path / "ours" / f"{name}-key.pem", tmp_path / "partner" / f"our-{name}.pem")
    (tmp_path / "partner" / "message.json").write_bytes(MESSAGE)
    (tmp_path / "message.json").write_bytes(MESSAGE)
    return tmp_path


def test_keygen_writes_private_0600_public_beside_and_prints_fingerprints(
    tmp_path: Path, no_aws_env: dict[str, str]
) -> None:
    made = partner(no_aws_env, tmp_path, "keygen", "keys", "--json")
    assert made.returncode == 0, made.stderr
    document = json.loads(made.stdout)
    keys = tmp_path / "keys"
    assert sorted(p.name for p in keys.iterdir()) == [
        "partner-encryption.pem",
        "partner-encryption.pub.pem",
        "partner-signing.pem",
        "partner-signing.pub.pem",
    ]
    for private in ("partner-signing.pem", "partner-encryption.pem"):
        assert (keys / private).stat().st_mode & 0o777 == 0o600
    assert document["signing_key_id"].startswith("sha256:")
    fingerprint = subprocess.run(
        f"{OPENSSL} pkey -pubin -in keys/partner-signing.pub.pem -outform DER | sha256sum",
        shell=True,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[0]
    assert document["signing_key_id"] == f"sha256:{fingerprint}"
    again = partner(no_aws_env, tmp_path, "keygen", "keys")
    assert again.returncode == EXIT_USAGE
    assert "already exists" in one_line(again)


def test_partner_sends_to_us_with_zero_aws_and_we_receive_with_one_decrypt(
    world: Path, no_aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    side = world / "partner"
    assert partner(no_aws_env, side, "keygen", ".").returncode == 0
    sent = partner(
        no_aws_env,
        side,
        "send",
        "message.json",
        "-o",
        "m.enc",
        "--signing-private-key",
        "partner-signing.pem",
        "--recipient-public-key",
        "our-encryption.pem",
    )
    assert sent.returncode == 0, sent.stderr
    with (side / "m.enc").open("rb") as handle:  # named by our ARN, from the key-id line
        assert read_header(handle).recipient_key_ids == (world_arn(world, "encryption"),)
    (world / "inbox").mkdir()
    received = ours(
        capsys,
        "receive",
        str(side / "m.enc"),
        "-o",
        str(world / "inbox"),
        "--sender-public-key",
        str(side / "partner-signing.pub.pem"),
    )
    assert received["calls"]["kms:Decrypt"] == 1
    assert "kms:Verify" not in received["calls"]
    assert "kms:GetPublicKey" not in received["calls"]
    assert received["principal"].split("/")[1] == "ReceiverRole"
    assert received["verified_with"].startswith("sha256:")
    assert received["sender_name"] == "partner-signing"
    assert (world / "inbox" / "message.json").read_bytes() == MESSAGE
    evidence = world / "inbox" / "evidence"
    assert openssl_verifies(evidence)  # the partner-signed statement, with openssl alone
    assert not (evidence / "kms-trail.json").exists()  # no KMS Sign to find in CloudTrail


def world_arn(world: Path, which: str) -> str:
    first = (world / "ours" / f"{which}-key.pem").read_text().splitlines()[0]
    assert first.startswith("key-id: arn:aws:kms:")
    return first.removeprefix("key-id: ")


def test_we_send_to_a_partner_who_receives_with_zero_aws(
    world: Path, no_aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    side = world / "partner"
    keys = generate_partner_keys(side)
    sent = ours(
        capsys,
        "send",
        str(world / "message.json"),
        "-o",
        str(side / "m.enc"),
        "--recipient-public-key",
        str(keys.encryption_public),
    )
    assert sent["calls"]["kms:Sign"] == 1
    assert "kms:Encrypt" not in sent["calls"]
    assert sent["recipients"] == [keys.encryption_key_id]
    (side / "inbox").mkdir()
    received = partner(
        no_aws_env,
        side,
        "receive",
        "m.enc",
        "-o",
        "inbox",
        "--recipient-private-key",
        "partner-encryption.pem",
        "--sender-public-key",
        "our-signing.pem",
        "--json",
    )
    assert received.returncode == 0, received.stderr
    document = json.loads(received.stdout)
    assert document["verified_with"] == world_arn(world, "signing")
    assert document["calls"] == {}
    assert (side / "inbox" / "message.json").read_bytes() == MESSAGE
    assert openssl_verifies(side / "inbox" / "evidence")


def test_three_recipients_each_open_and_a_fourth_key_is_refused(
    world: Path, no_aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """A partner (no AWS) sends to us (KMS, by ARN), Bob and Carol; each opens, Dave cannot."""
    side = world / "partner"
    people = {}
    for name in ("alice", "bob", "carol", "dave"):
        (side / name).mkdir()
        people[name] = generate_partner_keys(side / name)
    sent = partner(
        no_aws_env,
        side,
        "send",
        "message.json",
        "-o",
        "m.enc",
        "--signing-private-key",
        "alice/partner-signing.pem",
        "--recipient-public-key",
        "our-encryption.pem",
        "--recipient-public-key",
        "bob/partner-encryption.pub.pem",
        "--recipient-public-key",
        "carol/partner-encryption.pub.pem",
    )
    assert sent.returncode == 0, sent.stderr
    (world / "inbox").mkdir()
    ours(
        capsys,
        "receive",
        str(side / "m.enc"),
        "-o",
        str(world / "inbox"),
        "--sender-public-key",
        str(side / "alice" / "partner-signing.pub.pem"),
    )
    assert (world / "inbox" / "message.json").read_bytes() == MESSAGE
    for name in ("bob", "carol", "dave"):
        (side / name / "inbox").mkdir()
        opened = partner(
            no_aws_env,
            side,
            "receive",
            "m.enc",
            "-o",
            f"{name}/inbox",
            "--recipient-private-key",
            f"{name}/partner-encryption.pem",
            "--sender-public-key",
            "alice/partner-signing.pub.pem",
        )
        if name == "dave":
            assert opened.returncode == EXIT_REFUSED
            assert "is addressed to" in one_line(opened)
            assert list((side / name / "inbox").iterdir()) == []
        else:
            assert opened.returncode == 0, opened.stderr
            assert (side / name / "inbox" / "message.json").read_bytes() == MESSAGE


def test_an_untrusted_partner_key_is_refused_by_our_receiver(
    world: Path, no_aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    side = world / "partner"
    (side / "trusted").mkdir()
    (side / "mallory").mkdir()
    trusted = generate_partner_keys(side / "trusted")
    generate_partner_keys(side / "mallory")
    sent = partner(
        no_aws_env,
        side,
        "send",
        "message.json",
        "-o",
        "m.enc",
        "--signing-private-key",
        "mallory/partner-signing.pem",
        "--recipient-public-key",
        "our-encryption.pem",
    )
    assert sent.returncode == 0, sent.stderr
    (world / "inbox").mkdir()
    code = main(
        [
            "receive",
            str(side / "m.enc"),
            "-o",
            str(world / "inbox"),
            "--sender-public-key",
            str(trusted.signing_public),
        ]
    )
    assert code == EXIT_REFUSED
    assert "cannot be authenticated" in capsys.readouterr().err
    assert list((world / "inbox").iterdir()) == []


def test_our_key_named_by_fingerprint_is_refused_precisely_before_kms(
    world: Path, no_aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Key-id design: our KMS key is named by its ARN only. A partner who strips the key-id
    line names it by fingerprint; our receiver refuses before any Decrypt (no fallback)."""
    side = world / "partner"
    keys = generate_partner_keys(side)
    lines = (side / "our-encryption.pem").read_text().splitlines(keepends=True)
    (side / "stripped.pem").write_text("".join(lines[1:]))
    sent = partner(
        no_aws_env,
        side,
        "send",
        "message.json",
        "-o",
        "m.enc",
        "--signing-private-key",
        str(keys.signing_private),
        "--recipient-public-key",
        "stripped.pem",
    )
    assert sent.returncode == 0, sent.stderr
    (world / "inbox").mkdir()
    code = main(
        [
            "receive",
            str(side / "m.enc"),
            "-o",
            str(world / "inbox"),
            "--sender-public-key",
            str(keys.signing_public),
            "--json",
        ]
    )
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED
    assert "is addressed to" in err
    assert "sha256:" in err
    assert list((world / "inbox").iterdir()) == []


def test_a_partner_key_claiming_our_signing_arn_is_refused(
    world: Path, no_aws_env: dict[str, str]
) -> None:
    """Attack on the key-id design: Mallory signs a statement that names our signing key's
    ARN as sender. The partner trusts our-signing.pem (by that ARN): refused, the signature
    is checked with our key. And a fingerprint pin that is not the key's is refused at load."""
    import envelope
    from envelope.keys import PrivateKeySigner

    side = world / "partner"
    (side / "mallory").mkdir()
    keys = generate_partner_keys(side)
    mallory = generate_partner_keys(side / "mallory")
    forged_signer = PrivateKeySigner(
        world_arn(world, "signing"), mallory.signing_private.read_bytes()
    )
    recipient = envelope.PublicKeyWrapper(None, keys.encryption_public.read_bytes())
    envelope.seal(
        [side / "message.json"], side / "forged.enc", signer=forged_signer, wrapper=recipient
    )
    (side / "inbox").mkdir()
    opened = partner(
        no_aws_env,
        side,
        "receive",
        "forged.enc",
        "-o",
        "inbox",
        "--recipient-private-key",
        "partner-encryption.pem",
        "--sender-public-key",
        "our-signing.pem",
    )
    assert opened.returncode == EXIT_REFUSED
    assert "cannot be authenticated" in one_line(opened)
    assert list((side / "inbox").iterdir()) == []
    pinned = f"key-id: {keys.signing_key_id}\n".encode() + mallory.signing_public.read_bytes()
    (side / "wrong-pin.pem").write_bytes(pinned)
    refused = partner(
        no_aws_env,
        side,
        "receive",
        "forged.enc",
        "-o",
        "inbox",
        "--recipient-private-key",
        "partner-encryption.pem",
        "--sender-public-key",
        "wrong-pin.pem",
    )
    assert refused.returncode == EXIT_USAGE
    assert "is not the key's fingerprint" in one_line(refused)


def test_a_recipient_cannot_drop_the_others_from_the_header(
    tmp_path: Path, no_aws_env: dict[str, str]
) -> None:
    """Bob opens a Bob+Carol envelope, re-encrypts its payload for himself alone: the
    statement still lists Carol, so the recipient sets differ and the envelope is refused."""
    from envelope.keys import PrivateKeyUnwrapper

    people = {}
    for name in ("alice", "bob", "carol"):
        (tmp_path / name).mkdir()
        people[name] = generate_partner_keys(tmp_path / name)
    (tmp_path / "message.json").write_bytes(MESSAGE)
    args = ["send", "message.json", "-o", "m.enc", "--signing-private-key"]
    args += [str(people["alice"].signing_private)]
    for name in ("bob", "carol"):
        args += ["--recipient-public-key", str(people[name].encryption_public)]
    assert partner(no_aws_env, tmp_path, *args).returncode == 0
    bob = PrivateKeyUnwrapper(None, people["bob"].encryption_private.read_bytes())
    inner = decrypt_inner((tmp_path / "m.enc").read_bytes(), bob)
    (tmp_path / "bob-only.enc").write_bytes(build_envelope(bob.key_id, bob.wrapper(), inner))
    (tmp_path / "inbox").mkdir()
    opened = partner(
        no_aws_env,
        tmp_path,
        "receive",
        "bob-only.enc",
        "-o",
        "inbox",
        "--recipient-private-key",
        str(people["bob"].encryption_private),
        "--sender-public-key",
        str(people["alice"].signing_public),
    )
    assert opened.returncode == EXIT_REFUSED
    assert "cannot be authenticated" in one_line(opened)
    assert list((tmp_path / "inbox").iterdir()) == []


def test_openssl_made_keys_work_through_the_cli_with_a_passphrase_file(
    tmp_path: Path, no_aws_env: dict[str, str]
) -> None:
    """docs/DEMO.md's plain-openssl recipe: P-521 (encrypted, AES-256) and RSA-4096 keys."""
    (tmp_path / "pass.txt").write_text("correct horse battery staple\n")
    recipe = [
        "genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-521 -aes-256-cbc "
        "-pass file:pass.txt -out signing.pem",
        "pkey -in signing.pem -passin file:pass.txt -pubout -out signing.pub.pem",
        "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:4096 -out encryption.pem",
        "pkey -in encryption.pem -pubout -out encryption.pub.pem",
    ]
    for step in recipe:
        subprocess.run([OPENSSL, *step.split()], cwd=tmp_path, check=True, capture_output=True)
    (tmp_path / "message.json").write_bytes(MESSAGE)
    send = ["send", "message.json", "-o", "m.enc", "--signing-private-key", "signing.pem"]
    send += ["--recipient-public-key", "encryption.pub.pem"]
    missing = partner(no_aws_env, tmp_path, *send)
    assert missing.returncode == EXIT_USAGE
    assert "encrypted" in one_line(missing)
    assert "--passphrase-file" in missing.stderr
    assert not (tmp_path / "m.enc").exists()
    wrong = partner(no_aws_env | {"KMS_SIGN_ENCRYPT_PASSPHRASE": "wrong"}, tmp_path, *send)
    assert wrong.returncode == EXIT_USAGE
    assert "passphrase does not open" in one_line(wrong)
    sent = partner(no_aws_env, tmp_path, *send, "--passphrase-file", "pass.txt")
    assert sent.returncode == 0, sent.stderr
    (tmp_path / "inbox").mkdir()
    opened = partner(
        no_aws_env,
        tmp_path,
        "receive",
        "m.enc",
        "-o",
        "inbox",
        "--recipient-private-key",
        "encryption.pem",
        "--sender-public-key",
        "signing.pub.pem",
    )
    assert opened.returncode == 0, opened.stderr
    assert (tmp_path / "inbox" / "message.json").read_bytes() == MESSAGE
    assert openssl_verifies(tmp_path / "inbox" / "evidence")


def test_the_partner_environment_would_catch_any_aws_call(
    tmp_path: Path, no_aws_env: dict[str, str]
) -> None:
    """Non-vacuity of the zero-AWS proof: the one partner path that needs KMS (a KMS key as
    recipient) fails in this environment, in one line, and writes nothing."""
    keys = generate_partner_keys(tmp_path)
    (tmp_path / "message.json").write_bytes(MESSAGE)
    arn = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    result = partner(
        no_aws_env,
        tmp_path,
        "send",
        "message.json",
        "-o",
        "m.enc",
        "--signing-private-key",
        str(keys.signing_private),
        "--recipient-key",
        arn,
        "--region",
        "us-east-1",
    )
    assert result.returncode != 0
    one_line(result)
    assert not (tmp_path / "m.enc").exists()


def test_the_partner_demo_runs_and_every_check_passes(deployed_stack: Any) -> None:
    """`make demo-partner`'s demo step against the session's endpoint and stack."""
    from local_endpoint.workloads import RECEIVER_PROFILE, SENDER_PROFILE

    command = [sys.executable, "-m", "demo.partner"]
    command += ["--outputs-file", str(deployed_stack.outputs_file)]
    command += ["--sender-profile", SENDER_PROFILE, "--receiver-profile", RECEIVER_PROFILE]
    done = subprocess.run(
        command,
        env={k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        | deployed_stack.subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    summary = done.stdout.split("Summary:")[1]
    assert summary.count("PASS") == 4
    assert "FAIL" not in summary
    assert "trusted as 'acme'" in done.stdout


def test_our_send_to_our_kms_key_and_a_partner_at_once(
    world: Path, no_aws_env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The archive/DR use: our KMS key by ARN (1 Encrypt) and a partner's PEM (0) on one send;
    both open it: we with KMS, the partner with no AWS."""
    side = world / "partner"
    keys = generate_partner_keys(side)
    arn = world_arn(world, "encryption")
    sent = ours(
        capsys,
        "send",
        str(world / "message.json"),
        "-o",
        str(side / "m.enc"),
        "--recipient-key",
        arn,
        "--recipient-public-key",
        str(keys.encryption_public),
    )
    assert sent["calls"]["kms:Encrypt"] == 1
    assert sorted(sent["recipients"]) == sorted([arn, keys.encryption_key_id])
    (world / "inbox").mkdir()
    ours(capsys, "receive", str(side / "m.enc"), "-o", str(world / "inbox"), "--no-evidence")
    assert (world / "inbox" / "message.json").read_bytes() == MESSAGE
    (side / "inbox").mkdir()
    opened = partner(
        no_aws_env,
        side,
        "receive",
        "m.enc",
        "-o",
        "inbox",
        "--recipient-private-key",
        "partner-encryption.pem",
        "--sender-public-key",
        "our-signing.pem",
    )
    assert opened.returncode == 0, opened.stderr
    assert (side / "inbox" / "message.json").read_bytes() == MESSAGE
