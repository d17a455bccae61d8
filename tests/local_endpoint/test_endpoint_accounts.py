"""Parties in their own accounts, deployed into the patched moto (issue 13).

The four stacks are synthesized in process and deployed account by account (each as its
account's administrator, as `make demo-accounts` does with the CDK CLI); then the parties
and the attackers make their calls. The last tests break a property on purpose and show the
check catching it, and run `make demo-accounts` itself.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from aws_cdk import Stack
from aws_cdk.assertions import Template
from botocore.exceptions import ClientError

from demo import accounts as demo_accounts
from kms_sign_encrypt import AccessDeniedError, Deployment, NotDeployedError, Receiver, Sender
from kms_sign_encrypt.aws import AwsSession, CallMetrics, ClientSettings, translated
from local_endpoint import account_deploy
from local_endpoint.deploy import deploy_template
from local_endpoint.endpoint import (
    KEY_OWNER_ACCOUNT,
    RECEIVER_ACCOUNT,
    SECOND_RECEIVER_ACCOUNT,
    SENDER_ACCOUNT,
)
from local_endpoint.workloads import create_workload
from stacks.app import create_app
from tests.local_endpoint.accounts_pins import admin
from tests.local_endpoint.patched_moto import patched_moto

REPO = Path(__file__).resolve().parents[2]
ACCOUNT_OF = {
    "KmsSignEncryptKeyOwnerStack": KEY_OWNER_ACCOUNT,
    "KmsSignEncryptSenderStack": SENDER_ACCOUNT,
    "KmsSignEncryptReceiverAStack": RECEIVER_ACCOUNT,
    "KmsSignEncryptReceiverBStack": SECOND_RECEIVER_ACCOUNT,
}


def _templates(context: dict[str, str]) -> dict[str, dict[str, Any]]:
    app = create_app({**context, "sample:bootstrapless": "true"}, builtin_validation=False)
    return {
        s.stack_name: Template.from_stack(s).to_json()
        for s in app.node.children
        if isinstance(s, Stack)
    }


@pytest.fixture(scope="module")
def world():
    """The topology deployed into the patched moto, with one workload session per party."""
    roles_only = _templates(account_deploy.TOPOLOGY)
    with patched_moto() as moto:
        outputs: dict[str, dict[str, str]] = {}

        def deploy(name: str, template: dict[str, Any]) -> None:
            cfn = moto.client("cloudformation", **admin(ACCOUNT_OF[name]))
            outputs[name] = deploy_template(cfn, name, template).outputs

        for name in ACCOUNT_OF:
            if name != "KmsSignEncryptKeyOwnerStack":
                deploy(name, roles_only[name])
        deploy("KmsSignEncryptKeyOwnerStack", roles_only["KmsSignEncryptKeyOwnerStack"])
        with_keys = _templates(
            {
                **account_deploy.TOPOLOGY,
                "sample:keyOwnerOutputs": json.dumps(outputs["KmsSignEncryptKeyOwnerStack"]),
            }
        )
        for name in ACCOUNT_OF:
            if name != "KmsSignEncryptKeyOwnerStack":
                deploy(name, with_keys[name])
        sessions: dict[str, boto3.Session] = {}  # each party's workload (the library's caller)
        parties: dict[str, boto3.Session] = {}  # each party's role session (raw KMS calls)
        for stack, account, profile, workload_role in account_deploy.parties():
            role = "SenderRoleArn" if stack.endswith("SenderStack") else "ReceiverRoleArn"
            workload = create_workload(
                moto.client("iam", **admin(account)),
                account=account,
                user_name=profile,
                role_name=workload_role,
                party_role_arn=outputs[stack][role],
                profile=profile,
            )
            user = boto3.Session(
                aws_access_key_id=workload.access_key_id,
                aws_secret_access_key=workload.secret_access_key,
                region_name="us-east-1",
            )
            c = user.client("sts").assume_role(RoleArn=workload.role_arn, RoleSessionName="wl")[
                "Credentials"
            ]
            sessions[stack] = _session(c)
            c = (
                sessions[stack]
                .client("sts")
                .assume_role(RoleArn=outputs[stack][role], RoleSessionName="party")["Credentials"]
            )
            parties[stack] = _session(c)
        yield moto, outputs, sessions, parties


def _session(c: dict[str, Any]) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
        region_name="us-east-1",
    )


def _receiver(outputs: dict[str, dict[str, str]], name: str) -> Deployment:
    stack = account_deploy.receiver_stack(name)
    return Deployment.from_outputs(outputs[stack], stack)


def test_sender_seals_to_a_and_only_a_opens_it(world, tmp_path):
    _moto, outputs, sessions, _parties = world
    message = tmp_path / "m.txt"
    message.write_text("across accounts\n")
    sender = demo_accounts.sender_deployment(outputs["KmsSignEncryptSenderStack"], "A")
    Sender(sessions["KmsSignEncryptSenderStack"], sender).send([message], tmp_path / "a.enc")
    (tmp_path / "a").mkdir()
    got = Receiver(sessions["KmsSignEncryptReceiverAStack"], _receiver(outputs, "A")).receive(
        tmp_path / "a.enc", tmp_path / "a"
    )
    assert [f.read_text() for f in got.files] == ["across accounts\n"]
    # Receiver B naming A's key itself: KMS refuses (A's key policy does not name B).
    forged_outputs = {
        **outputs["KmsSignEncryptReceiverBStack"],
        "EncryptionKeyArn": outputs["KmsSignEncryptReceiverAStack"]["EncryptionKeyArn"],
    }
    forged = Deployment.from_outputs(forged_outputs, "B")
    (tmp_path / "b").mkdir()
    with pytest.raises(AccessDeniedError, match="kms:Decrypt"):
        Receiver(sessions["KmsSignEncryptReceiverBStack"], forged).receive(
            tmp_path / "a.enc", tmp_path / "b"
        )
    assert list((tmp_path / "b").iterdir()) == []


def _sign(session: Any, key: str) -> Any:
    return session.client("kms").sign(
        KeyId=key, Message=b"x", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_512"
    )


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


@pytest.mark.parametrize("account", [KEY_OWNER_ACCOUNT, SENDER_ACCOUNT, RECEIVER_ACCOUNT])
def test_no_administrator_signs(world, account):
    moto, outputs, _sessions, _parties = world
    key = outputs["KmsSignEncryptKeyOwnerStack"]["SigningKeyArn"]
    kms = moto.client("kms", **admin(account))
    assert (
        _code(
            lambda: kms.sign(
                KeyId=key, Message=b"x", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_512"
            )
        )
        == "AccessDeniedException"
    )


def test_a_receiver_cannot_sign_and_the_sender_signs(world):
    _moto, outputs, _sessions, parties = world
    key = outputs["KmsSignEncryptKeyOwnerStack"]["SigningKeyArn"]
    assert _code(lambda: _sign(parties["KmsSignEncryptReceiverAStack"], key)) == (
        "AccessDeniedException"
    )
    _sign(parties["KmsSignEncryptSenderStack"], key)


def test_an_alias_from_another_account_is_not_found_and_the_library_says_use_the_arn(world):
    _moto, _outputs, _sessions, parties = world
    session = AwsSession(
        session=parties["KmsSignEncryptSenderStack"],
        party="sender",
        settings=ClientSettings(),
        metrics=CallMetrics(),
    )
    alias = "alias/sample-sign-verify-key"
    with pytest.raises(NotDeployedError) as caught, translated(session, "kms:Sign", alias):
        _sign(parties["KmsSignEncryptSenderStack"], alias)
    assert "\n" not in str(caught.value)
    assert str(caught.value).endswith("use the key ARN")
    assert "an alias names a key only in its own account" in str(caught.value)


def test_without_its_identity_policy_the_sender_role_is_refused(world):
    """Break the cross-account rule on purpose: drop the sender role's inline policy, and
    the sender is refused though the key policy still names its role."""
    moto, outputs, _sessions, parties = world
    iam = moto.client("iam", **admin(SENDER_ACCOUNT))
    document = iam.get_role_policy(RoleName="SenderRole", PolicyName="CrossAccountKeyUse")
    key = outputs["KmsSignEncryptKeyOwnerStack"]["SigningKeyArn"]
    iam.delete_role_policy(RoleName="SenderRole", PolicyName="CrossAccountKeyUse")
    try:
        assert _code(lambda: _sign(parties["KmsSignEncryptSenderStack"], key)) == (
            "AccessDeniedException"
        )
    finally:
        iam.put_role_policy(
            RoleName="SenderRole",
            PolicyName="CrossAccountKeyUse",
            PolicyDocument=json.dumps(document["PolicyDocument"]),
        )
    _sign(parties["KmsSignEncryptSenderStack"], key)


def test_a_widened_key_policy_lets_b_decrypt_as_the_check_would_report(world, tmp_path):
    """The mutation the demo's check guards against: name B on A's key and give B's role A's
    key; B's Decrypt then succeeds (so the check's refusal is real, not an artefact)."""
    moto, outputs, _sessions, parties = world
    owner = outputs["KmsSignEncryptKeyOwnerStack"]
    key_a = owner["EncryptionKeyArnA"]
    role_b = outputs["KmsSignEncryptReceiverBStack"]["ReceiverRoleArn"]
    kms = moto.client("kms", **admin(KEY_OWNER_ACCOUNT))
    policy = json.loads(kms.get_key_policy(KeyId=key_a, PolicyName="default")["Policy"])
    original = json.dumps(policy)
    sender_kms = parties["KmsSignEncryptSenderStack"].client("kms")
    blob = sender_kms.encrypt(
        KeyId=key_a, Plaintext=b"p", EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )["CiphertextBlob"]
    b_kms = parties["KmsSignEncryptReceiverBStack"].client("kms")

    def decrypt() -> Any:
        return b_kms.decrypt(
            KeyId=key_a, CiphertextBlob=blob, EncryptionAlgorithm="RSAES_OAEP_SHA_256"
        )

    assert _code(decrypt) == "AccessDeniedException"
    for statement in policy["Statement"]:
        if statement["Sid"] == "ReceiverDecrypt":
            statement["Principal"]["AWS"] = [statement["Principal"]["AWS"], role_b]
    iam_b = moto.client("iam", **admin(SECOND_RECEIVER_ACCOUNT))
    extra = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": key_a}],
    }
    kms.put_key_policy(KeyId=key_a, PolicyName="default", Policy=json.dumps(policy))
    iam_b.put_role_policy(
        RoleName="ReceiverRole", PolicyName="Extra", PolicyDocument=json.dumps(extra)
    )
    try:
        assert decrypt()["Plaintext"] == b"p"
    finally:
        kms.put_key_policy(KeyId=key_a, PolicyName="default", Policy=original)
        iam_b.delete_role_policy(RoleName="ReceiverRole", PolicyName="Extra")
    assert _code(decrypt) == "AccessDeniedException"


def test_a_check_that_is_allowed_or_refused_for_another_reason_fails(capsys):
    checks = demo_accounts.Checks()
    checks.expect_refused("allowed", lambda: None, ["AccessDeniedException"])

    def not_found() -> None:
        raise ClientError({"Error": {"Code": "NotFoundException", "Message": "x"}}, "Sign")

    checks.expect_refused("wrong reason", not_found, ["AccessDeniedException"])
    assert (checks.passed, checks.failed) == (0, 2)
    assert "FAIL allowed -> it was allowed" in capsys.readouterr().out


def test_make_demo_accounts_passes():
    """`make demo-accounts` itself: the CDK CLI deploys each stack into its account."""
    done = subprocess.run(
        [sys.executable, "-m", "local_endpoint", "demo-accounts"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Checks: 12/12 passed" in done.stdout
    assert "FAIL" not in done.stdout
    assert "Separation of duties: holds." in done.stdout
    assert "make demo-accounts: all phases passed" in done.stdout
