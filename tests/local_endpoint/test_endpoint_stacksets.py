"""The StackSets path (issue 13, docs/STACK.md): the receiver template rolled out to the
receiver accounts with CloudFormation StackSets (SELF_MANAGED, as moto models them), then
used across accounts. The three rounds: roles with placeholder key ARNs, the key-owner
stack, the instances updated with each account's own key ARN."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template
from botocore.exceptions import ClientError

from local_endpoint import account_deploy
from local_endpoint.deploy import deploy_template
from local_endpoint.endpoint import KEY_OWNER_ACCOUNT, RECEIVER_ACCOUNT, SECOND_RECEIVER_ACCOUNT
from stacks.app import create_app
from tests.local_endpoint.accounts_pins import admin
from tests.local_endpoint.patched_moto import patched_moto

PLACEHOLDER = f"arn:aws:kms:us-east-1:{KEY_OWNER_ACCOUNT}:key/00000000-0000-4000-8000-000000000000"
STACKSET = {**account_deploy.TOPOLOGY, "sample:receiverDeployment": "stackset"}


def _parameters(signing: str, encryption: str) -> list[dict[str, str]]:
    return [
        {"ParameterKey": "SigningKey", "ParameterValue": signing},
        {"ParameterKey": "EncryptionKey", "ParameterValue": encryption},
    ]


def test_stackset_rolls_the_receiver_role_out_and_each_account_gets_its_own_key():
    app = create_app({**STACKSET, "sample:bootstrapless": "true"}, builtin_validation=False)
    receiver = json.dumps(
        Template.from_stack(app.node.find_child("KmsSignEncryptReceiverStackSet")).to_json()
    )
    owner_template = Template.from_stack(
        app.node.find_child("KmsSignEncryptKeyOwnerStack")
    ).to_json()
    with patched_moto() as moto:
        cfn = moto.client("cloudformation", **admin(KEY_OWNER_ACCOUNT))
        cfn.create_stack_set(
            StackSetName="receivers",
            TemplateBody=receiver,
            Capabilities=["CAPABILITY_NAMED_IAM"],
            PermissionModel="SELF_MANAGED",
            Parameters=_parameters(PLACEHOLDER, PLACEHOLDER),
        )
        accounts = {"A": RECEIVER_ACCOUNT, "B": SECOND_RECEIVER_ACCOUNT}
        # 1. the roles (a key policy may name only roles that exist)
        cfn.create_stack_instances(
            StackSetName="receivers",
            Accounts=list(accounts.values()),
            Regions=["us-east-1"],
            ParameterOverrides=_parameters(PLACEHOLDER, PLACEHOLDER),
        )
        # 2. the keys (the sender's role too: its stack is a plain stack here)
        sender_cfn = moto.client("cloudformation", **admin(account_deploy.SENDER_ACCOUNT))
        roles_only = create_app(
            {**account_deploy.TOPOLOGY, "sample:bootstrapless": "true"}, builtin_validation=False
        )
        deploy_template(
            sender_cfn,
            "KmsSignEncryptSenderStack",
            Template.from_stack(roles_only.node.find_child("KmsSignEncryptSenderStack")).to_json(),
        )
        owner = deploy_template(cfn, "KmsSignEncryptKeyOwnerStack", owner_template).outputs
        # 3. each instance its own key ARN: delete and create again (moto's
        # UpdateStackInstances records the overrides but does not update the stacks)
        for name, account in accounts.items():
            cfn.delete_stack_instances(
                StackSetName="receivers",
                Accounts=[account],
                Regions=["us-east-1"],
                RetainStacks=False,
            )
            cfn.create_stack_instances(
                StackSetName="receivers",
                Accounts=[account],
                Regions=["us-east-1"],
                ParameterOverrides=_parameters(
                    owner["SigningKeyArn"], owner[f"EncryptionKeyArn{name}"]
                ),
            )
        for name, account in accounts.items():
            iam = moto.client("iam", **admin(account))
            document = iam.get_role_policy(
                RoleName="ReceiverRole", PolicyName="CrossAccountKeyUse"
            )["PolicyDocument"]
            decrypt = next(s for s in document["Statement"] if s["Action"] == "kms:Decrypt")
            assert decrypt["Resource"] == owner[f"EncryptionKeyArn{name}"]
        # Each receiver's role, rolled out by the StackSet, works across accounts: it reads
        # the signing key's public key; B's cannot decrypt with A's key.
        kms = {name: _party_kms(moto, account) for name, account in accounts.items()}
        kms["A"].get_public_key(KeyId=owner["SigningKeyArn"])
        with pytest.raises(ClientError) as caught:
            kms["B"].decrypt(
                KeyId=owner["EncryptionKeyArnA"],
                CiphertextBlob=b"\x00" * 512,
                EncryptionAlgorithm="RSAES_OAEP_SHA_256",
            )
        assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def _party_kms(moto, account: str):
    """ReceiverRole's KMS client in ``account``, reached through its workload (the trust
    names only the workload role)."""
    import boto3

    from local_endpoint.workloads import create_workload

    role_arn = f"arn:aws:iam::{account}:role/ReceiverRole"
    workload = create_workload(
        moto.client("iam", **admin(account)),
        account=account,
        user_name="receiver-workload",
        role_name="ReceiverWorkload",
        party_role_arn=role_arn,
        profile="receiver-workload",
    )
    credentials = {
        "aws_access_key_id": workload.access_key_id,
        "aws_secret_access_key": workload.secret_access_key,
    }
    for arn in (workload.role_arn, role_arn):
        c = moto.client("sts", **credentials).assume_role(RoleArn=arn, RoleSessionName="tests")[
            "Credentials"
        ]
        credentials = {
            "aws_access_key_id": c["AccessKeyId"],
            "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"],
        }
    return boto3.client("kms", region_name="us-east-1", **credentials)
