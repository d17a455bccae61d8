"""Envelopes survive a key rotation (issue 15, part D, "done means").

One local endpoint of its own (key states change) and a stack of its own (`sample:namePrefix`
Rot), deployed three times with the real `cdk deploy`, as docs/ROTATION.md does it:

1. the default, one generation per key: the sender sends A;
2. two generations, the second current: the sender sends B; the receiver opens A and B; B's
   header names the new encryption key and its statement the new signing key; the sender's
   Encrypt and Sign on the old generation are refused (attempted calls);
   deleting the old generation at once is refused by the preflight;
3. the old generation retired: A is refused with one line naming the generation, nothing is
   written; B still opens.

The parties are the two workloads (profiles), as in every other demo test.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from envelope.format import read_header
from kms_sign_encrypt.errors import EXIT_REFUSED
from kms_sign_encrypt_cli.cli import main
from local_endpoint import LocalEndpoint, cdk_cli
from local_endpoint.workloads import create_party_workloads
from tests.conftest import synthesize_stack

pytestmark = pytest.mark.integration

PREFIX = "Rot"
STACK = f"{PREFIX}KmsSignEncryptStack"
ENCRYPTION = "sample:encryptionKeyGenerations"
SIGNING = "sample:signingKeyGenerations"


def _deploy(env: dict[str, str], outputs_file: Path, **lists: list[str]) -> dict[str, str]:
    context = ["-c", f"sample:namePrefix={PREFIX}"]
    for setting, value in ((ENCRYPTION, lists.get("encryption")), (SIGNING, lists.get("signing"))):
        if value is not None:
            context += ["-c", f"{setting}={json.dumps(value)}"]
    cdk_cli.run([*cdk_cli.deploy_command(outputs_file), *context], env, capture=True)
    return json.loads(outputs_file.read_text())[STACK]


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _sender_kms(endpoint: LocalEndpoint, workload: Any, sender_role_arn: str) -> Any:
    """A KMS client of a SenderRole session, assumed the way its trust admits."""
    credentials = {
        "aws_access_key_id": workload.access_key_id,
        "aws_secret_access_key": workload.secret_access_key,
    }
    for role_arn in (workload.role_arn, sender_role_arn):
        answer = endpoint.client("sts", **credentials).assume_role(
            RoleArn=role_arn, RoleSessionName="rotation-test"
        )["Credentials"]
        credentials = {
            "aws_access_key_id": answer["AccessKeyId"],
            "aws_secret_access_key": answer["SecretAccessKey"],
            "aws_session_token": answer["SessionToken"],
        }
    return endpoint.client("kms", **credentials)


def _refused(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def test_envelopes_survive_rotation(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    clean_aws_env: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    outputs_file = tmp_path / "outputs.json"
    (tmp_path / "a.txt").write_bytes(b"message A, sealed before the rotation\n")
    (tmp_path / "b.txt").write_bytes(b"message B, sealed after the rotation\n")
    with LocalEndpoint() as endpoint:
        env = cdk_cli.cdk_env(endpoint.env)
        first = _deploy(env, outputs_file)
        assert "EncryptionKeyGenerations" not in first  # the default: today's outputs
        profiles = create_party_workloads(
            endpoint.client("iam"),
            first,
            tmp_path / "workloads",
            region=endpoint.region,
            name_prefix=PREFIX,
        )
        for name, value in (endpoint.env | profiles.env).items():
            monkeypatch.setenv(name, value)
        sender = ("--sender-profile", profiles.sender.profile, "--outputs-file", str(outputs_file))
        receiver = (
            "--receiver-profile",
            profiles.receiver.profile,
            "--outputs-file",
            str(outputs_file),
        )

        # 1. one generation: A
        code, _, err = _cli(
            capsys, "send", str(tmp_path / "a.txt"), "-o", str(tmp_path / "A.enc"), *sender
        )
        assert code == 0, err

        # 2. two generations: B, both open, B names the new keys, old ones refuse the sender
        second = _deploy(env, outputs_file, encryption=["1", "2"], signing=["1", "2"])
        assert second["EncryptionKeyGeneration1Arn"] == first["EncryptionKeyArn"]
        assert second["SigningKeyGeneration1Arn"] == first["SigningKeyArn"]
        assert second["EncryptionKeyArn"] == second["EncryptionKeyGeneration2Arn"]
        assert second["EncryptionKeyArn"] != first["EncryptionKeyArn"]
        assert second["EncryptionKeyGenerations"] == "1 2"
        code, _, err = _cli(
            capsys, "send", str(tmp_path / "b.txt"), "-o", str(tmp_path / "B.enc"), *sender
        )
        assert code == 0, err
        with (tmp_path / "B.enc").open("rb") as handle:
            assert read_header(handle).recipient_key_ids == (second["EncryptionKeyArn"],)
        with (tmp_path / "A.enc").open("rb") as handle:
            assert read_header(handle).recipient_key_ids == (first["EncryptionKeyArn"],)
        for name in ("A", "B"):
            out = tmp_path / f"{name}-2"
            out.mkdir()
            code, stdout, err = _cli(
                capsys,
                "receive",
                str(tmp_path / f"{name}.enc"),
                "-o",
                str(out),
                "--json",
                *receiver,
            )
            assert code == 0, err
            assert (out / f"{name.lower()}.txt").read_bytes() == (
                tmp_path / f"{name.lower()}.txt"
            ).read_bytes()
            statement = json.loads((out / "evidence" / "statement.json").read_text())
            signer = first if name == "A" else second
            assert statement["sender"] == signer["SigningKeyArn"]

        kms = _sender_kms(endpoint, profiles.sender, second["SenderRoleArn"])
        old_encrypt = lambda: kms.encrypt(  # noqa: E731
            KeyId=first["EncryptionKeyArn"],
            Plaintext=b"x",
            EncryptionAlgorithm="RSAES_OAEP_SHA_256",
        )
        old_sign = lambda: kms.sign(  # noqa: E731
            KeyId=first["SigningKeyArn"],
            Message=b"x" * 64,
            MessageType="DIGEST",
            SigningAlgorithm="ECDSA_SHA_512",
        )
        assert _refused(old_encrypt) == "AccessDeniedException"
        assert _refused(old_sign) == "AccessDeniedException"
        kms.sign(  # the same call on the current generation is allowed
            KeyId=second["SigningKeyArn"],
            Message=b"x" * 64,
            MessageType="DIGEST",
            SigningAlgorithm="ECDSA_SHA_512",
        )

        # Deleting the old generation without retiring it first: synth cannot see that, the
        # preflight (against the deployed stack) refuses it.
        _, skipping = synthesize_stack(
            {"sample:namePrefix": PREFIX, ENCRYPTION: ["1:deleted", "2"], SIGNING: ["1", "2"]}
        )
        template = tmp_path / "skipping.template.json"
        template.write_text(json.dumps(skipping))
        code, stdout, err = _cli(
            capsys, "preflight", "--local", "--name-prefix", PREFIX, "--template", str(template)
        )
        assert code == 1, err
        assert (
            "FAIL encryption key generations: encryption generation 1 is active and would be "
            "deleted: retire it first"
        ) in stdout
        assert "PASS signing key generations: 1 2 -> 1 2" in stdout

        # 3. the old generation retired: A refused naming it, nothing written; B still opens
        third = _deploy(
            env, outputs_file, encryption=["1:retired", "2"], signing=["1:retired", "2"]
        )
        assert third["EncryptionKeyGenerations"] == "1:retired 2"
        admin_kms = endpoint.client("kms")
        for arn in (first["EncryptionKeyArn"], first["SigningKeyArn"]):
            assert admin_kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"
        out = tmp_path / "A-3"
        out.mkdir()
        code, stdout, err = _cli(
            capsys, "receive", str(tmp_path / "A.enc"), "-o", str(out), *receiver
        )
        assert code == EXIT_REFUSED
        assert len(err.strip().splitlines()) == 1, err
        assert "encryption key generation 1, which is retired" in err
        assert list(out.iterdir()) == []
        out = tmp_path / "B-3"
        out.mkdir()
        code, _, err = _cli(capsys, "receive", str(tmp_path / "B.enc"), "-o", str(out), *receiver)
        assert code == 0, err
        assert (out / "b.txt").read_bytes() == (tmp_path / "b.txt").read_bytes()

        # The live access matrix has a table per generation: the retired one grants nothing.
        code, stdout, err = _cli(capsys, "access", "--outputs-file", str(outputs_file))
        assert code == 0, err
        assert "encryption generation 1 (retired)" in stdout
        assert "signing generation 1 (retired)" in stdout

        # The audit names each call's generation.
        code, stdout, err = _cli(capsys, "audit", "--json", "--outputs-file", str(outputs_file))
        assert code == 0, err
        generations = {entry["generation"] for entry in json.loads(stdout)["events"]}
        assert {"encryption 1 (retired)", "encryption 2 (current)", "signing 2 (current)"} <= (
            generations
        )
