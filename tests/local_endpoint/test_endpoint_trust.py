"""Who can become SenderRole or ReceiverRole, tried as an attacker would, against the endpoint.

The default stack trusts, per party, only its workload role (`aws:PrincipalArn`). Each path a
doc sentence names is tried with a real sts:AssumeRole: an AdministratorAccess user, a user
whose only right is sts:AssumeRole on `*`, each workload to the other party's role (refused),
and the administrative paths the access matrix lists (creating a role of the trusted name,
rewriting a trust policy), which do work: that is the residual risk docs/STACK.md states.
"""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local_endpoint.deploy import deploy_template

pytestmark = pytest.mark.integration

ACCOUNT = "123456789012"


ADMINISTRATOR_ACCESS = {  # the AWS managed policy's document (moto does not load AWS's)
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def _user(iam: Any, name: str, *, managed: dict | None = None, inline: dict | None = None) -> Any:
    iam.create_user(UserName=name)
    if managed:
        arn = iam.create_policy(PolicyName=f"{name}-admin", PolicyDocument=json.dumps(managed))[
            "Policy"
        ]["Arn"]
        iam.attach_user_policy(UserName=name, PolicyArn=arn)
    if inline:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(inline))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return key


def _sts(endpoint: Any, key: dict[str, str] | None = None, **credentials: str) -> Any:
    if key is not None:
        credentials = {
            "aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"],
        }
    return endpoint.client("sts", **credentials)


def _refused(sts: Any, role_arn: str) -> bool:
    try:
        sts.assume_role(RoleArn=role_arn, RoleSessionName="attempt")
    except ClientError as error:
        return error.response["Error"]["Code"] == "AccessDenied"
    return False


ASSUME_ANY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
}


@pytest.mark.parametrize(
    ("name", "managed", "inline"),
    [
        ("admin-access", ADMINISTRATOR_ACCESS, None),
        ("assume-anything", None, ASSUME_ANY),
    ],
)
def test_broad_iam_rights_do_not_reach_either_role(deployed_stack, name, managed, inline) -> None:
    endpoint = deployed_stack.endpoint
    key = _user(endpoint.client("iam"), f"trust-test-{name}", managed=managed, inline=inline)
    sts = _sts(endpoint, key)
    assert sts.get_caller_identity()["Arn"].endswith(f":user/trust-test-{name}")
    assert _refused(sts, deployed_stack.outputs["SenderRoleArn"])
    assert _refused(sts, deployed_stack.outputs["ReceiverRoleArn"])


def test_the_administrator_is_refused_both_roles(deployed_stack) -> None:
    sts = deployed_stack.endpoint.client("sts")
    assert _refused(sts, deployed_stack.outputs["SenderRoleArn"])
    assert _refused(sts, deployed_stack.outputs["ReceiverRoleArn"])


def _workload_sts(deployed_stack: Any, profile: str) -> Any:
    session = boto3.Session(profile_name=profile, region_name=deployed_stack.endpoint.region)
    return session.client("sts", endpoint_url=deployed_stack.endpoint.url)


def test_each_workload_reaches_its_own_role_only(deployed_stack, monkeypatch) -> None:
    for name, value in (deployed_stack.env | deployed_stack.party_env).items():
        monkeypatch.setenv(name, value)
    sender = _workload_sts(deployed_stack, deployed_stack.profiles.sender.profile)
    receiver = _workload_sts(deployed_stack, deployed_stack.profiles.receiver.profile)
    sender_role = deployed_stack.outputs["SenderRoleArn"]
    receiver_role = deployed_stack.outputs["ReceiverRoleArn"]
    assert sender.assume_role(RoleArn=sender_role, RoleSessionName="own")["AssumedRoleUser"]
    assert receiver.assume_role(RoleArn=receiver_role, RoleSessionName="own")["AssumedRoleUser"]
    assert _refused(sender, receiver_role)
    assert _refused(receiver, sender_role)


@pytest.fixture(scope="module")
def prefixed(deployed_stack) -> dict[str, str]:
    """A second copy of the stack (prefix adm-) whose workload roles do not exist yet: the
    trust deploys anyway, and the administrative paths can be tried without touching the
    session's stack."""
    from stacks.app import create_app

    app = create_app(
        {"sample:bootstrapless": True, "sample:namePrefix": "adm-"}, builtin_validation=False
    )
    (stack,) = app.synth().stacks
    stack_name, template = stack.stack_name, dict(stack.template)
    cloudformation = deployed_stack.endpoint.client("cloudformation")
    return deploy_template(cloudformation, stack_name, template).outputs


def _session_keys(answer: dict[str, Any]) -> dict[str, str]:
    creds = answer["Credentials"]
    return {
        "aws_access_key_id": creds["AccessKeyId"],
        "aws_secret_access_key": creds["SecretAccessKey"],
        "aws_session_token": creds["SessionToken"],
    }


def test_creating_a_role_of_the_trusted_name_is_an_administrative_path(
    deployed_stack, prefixed
) -> None:
    """The administrator is refused adm-SenderRole, but may create `adm-SenderWorkload`
    trusting itself and come in through it: administrative, as the matrix lists it."""
    endpoint = deployed_stack.endpoint
    admin_sts = endpoint.client("sts")
    sender_role = prefixed["SenderRoleArn"]
    assert _refused(admin_sts, sender_role)
    admin_arn = admin_sts.get_caller_identity()["Arn"]
    iam = endpoint.client("iam")
    iam.create_role(
        RoleName="adm-SenderWorkload",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    iam.put_role_policy(
        RoleName="adm-SenderWorkload",
        PolicyName="p",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
            }
        ),
    )
    workload = admin_sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/adm-SenderWorkload", RoleSessionName="workload"
    )
    sts = endpoint.client("sts", **_session_keys(workload))
    assert sts.assume_role(RoleArn=sender_role, RoleSessionName="in")["AssumedRoleUser"]


def test_rewriting_a_trust_policy_is_an_administrative_path(deployed_stack, prefixed) -> None:
    endpoint = deployed_stack.endpoint
    admin_sts = endpoint.client("sts")
    receiver_role = prefixed["ReceiverRoleArn"]
    assert _refused(admin_sts, receiver_role)
    admin_arn = admin_sts.get_caller_identity()["Arn"]
    endpoint.client("iam").update_assume_role_policy(
        RoleName=receiver_role.rsplit("/", 1)[-1],
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    assert admin_sts.assume_role(RoleArn=receiver_role, RoleSessionName="in")["AssumedRoleUser"]
