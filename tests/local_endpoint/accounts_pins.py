"""Fidelity checks of several accounts (issue 13), one per cross-account rule AWS enforces.

Each runs on the in-process patched moto (tests.local_endpoint.patched_moto) and is pinned in
test_endpoint_fidelity.PINS to the patch without which it fails.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from local_endpoint.endpoint import ADMINISTRATOR_KEYS, KEY_OWNER_ACCOUNT, SENDER_ACCOUNT
from tests.local_endpoint.patched_moto import Moto

OWNER, OTHER = KEY_OWNER_ACCOUNT, SENDER_ACCOUNT
ECDSA = "ECDSA_SHA_512"


def admin(account: str) -> dict[str, str]:
    key, secret = ADMINISTRATOR_KEYS[account]
    return {"aws_access_key_id": key, "aws_secret_access_key": secret}


def code(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def _trust_own_root(account: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )


def _signer_in_other_account(moto: Moto, *, identity: bool, condition: Any = None) -> tuple:
    """A role Signer in OTHER (with or without an identity policy for kms:Sign on the key),
    a signing key in OWNER whose key policy names the role, and the role's KMS client."""
    iam = moto.client("iam", **admin(OTHER))
    role_arn = iam.create_role(RoleName="Signer", AssumeRolePolicyDocument=_trust_own_root(OTHER))[
        "Role"
    ]["Arn"]
    statement: dict[str, Any] = {
        "Sid": "SenderSign",
        "Effect": "Allow",
        "Principal": {"AWS": role_arn},
        "Action": ["kms:Sign", "kms:DescribeKey"],
        "Resource": "*",
    }
    if condition:
        statement["Condition"] = condition
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Admin",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            statement,
        ],
    }
    kms_owner = moto.client("kms", **admin(OWNER))
    key = kms_owner.create_key(
        KeySpec="ECC_NIST_P521", KeyUsage="SIGN_VERIFY", Policy=json.dumps(policy)
    )["KeyMetadata"]["Arn"]
    kms_owner.create_alias(AliasName="alias/shared-sign", TargetKeyId=key)
    if identity:
        iam.put_role_policy(
            RoleName="Signer",
            PolicyName="CrossAccountSign",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Action": ["kms:Sign", "kms:DescribeKey"],
                            "Resource": key,
                        }
                    ],
                }
            ),
        )
    c = moto.client("sts", **admin(OTHER)).assume_role(RoleArn=role_arn, RoleSessionName="tests")[
        "Credentials"
    ]
    signer = moto.client(
        "kms",
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
    )
    return key, signer


def _sign(kms: Any, key: str) -> Any:
    return kms.sign(KeyId=key, Message=b"m", MessageType="RAW", SigningAlgorithm=ECDSA)


def each_account_has_its_administrator(moto: Moto) -> None:
    for account in ADMINISTRATOR_KEYS:
        identity = moto.client("sts", **admin(account)).get_caller_identity()
        assert identity["Account"] == account
        assert identity["Arn"] == f"arn:aws:iam::{account}:user/local-admin"
    # An account's resources are its own: a key of OWNER is not in OTHER.
    key = moto.client("kms", **admin(OWNER)).create_key()["KeyMetadata"]["KeyId"]
    assert key not in [k["KeyId"] for k in moto.client("kms", **admin(OTHER)).list_keys()["Keys"]]


def keys_are_used_across_accounts_by_arn_only(moto: Moto) -> None:
    key, signer = _signer_in_other_account(moto, identity=True)
    assert _sign(signer, key)["KeyId"] == key
    alias_arn = key.split(":key/")[0] + ":alias/shared-sign"
    assert _sign(signer, alias_arn)["KeyId"] == key  # an alias ARN names the owner's alias
    # An alias name or a bare key ID is looked up in the caller's own account.
    assert code(lambda: _sign(signer, "alias/shared-sign")) == "NotFoundException"
    assert code(lambda: _sign(signer, key.rsplit("/", 1)[1])) == "NotFoundException"


def cross_account_kms_needs_the_identity_policy(moto: Moto) -> None:
    key, signer = _signer_in_other_account(moto, identity=False)
    with pytest.raises(ClientError) as caught:
        _sign(signer, key)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert (
        "because no identity-based policy allows the kms:Sign action"
        in (caught.value.response["Error"]["Message"])
    )
    # Another account's administrator (full IAM rights) is not named in the key policy.
    assert code(lambda: _sign(moto.client("kms", **admin(OTHER)), key)) == "AccessDeniedException"


def caller_account_is_evaluated(moto: Moto) -> None:
    wrong = {"StringEquals": {"kms:CallerAccount": OWNER}}
    key, signer = _signer_in_other_account(moto, identity=True, condition=wrong)
    assert code(lambda: _sign(signer, key)) == "AccessDeniedException"


def caller_account_matches(moto: Moto) -> None:
    right = {"StringEquals": {"kms:CallerAccount": OTHER}}
    key, signer = _signer_in_other_account(moto, identity=True, condition=right)
    _sign(signer, key)


def cross_account_assume_role_needs_trust_and_permission(moto: Moto) -> None:
    iam_owner = moto.client("iam", **admin(OWNER))
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role = iam_owner.create_role(RoleName="Partner", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    iam_other = moto.client("iam", **admin(OTHER))
    keys = {}
    for user, allowed in (("allowed", True), ("refused", False)):
        iam_other.create_user(UserName=user)
        if allowed:
            iam_other.put_user_policy(
                UserName=user,
                PolicyName="AssumePartner",
                PolicyDocument=json.dumps(
                    {
                        "Version": "2012-10-17",
                        "Statement": [
                            {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role}
                        ],
                    }
                ),
            )
        k = iam_other.create_access_key(UserName=user)["AccessKey"]
        keys[user] = moto.client(
            "sts", aws_access_key_id=k["AccessKeyId"], aws_secret_access_key=k["SecretAccessKey"]
        )
    session = keys["allowed"].assume_role(RoleArn=role, RoleSessionName="tests")
    assert session["AssumedRoleUser"]["Arn"] == f"arn:aws:sts::{OWNER}:assumed-role/Partner/tests"
    refused = lambda: keys["refused"].assume_role(RoleArn=role, RoleSessionName="tests")  # noqa: E731
    assert code(refused) == "AccessDenied"


def role_policies_update_in_place(moto: Moto) -> None:
    from local_endpoint.deploy import deploy_template

    cfn = moto.client("cloudformation")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OWNER}:root"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role: dict[str, Any] = {
        "Type": "AWS::IAM::Role",
        "Properties": {"RoleName": "Party", "AssumeRolePolicyDocument": trust},
    }
    deploy_template(cfn, "S", {"Resources": {"R": role}})
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "kms:Sign", "Resource": "*"}],
    }
    role["Properties"]["Policies"] = [{"PolicyName": "Use", "PolicyDocument": document}]
    role["Properties"]["MaxSessionDuration"] = 7200
    deploy_template(cfn, "S", {"Resources": {"R": role}})
    iam = moto.client("iam")
    assert iam.list_role_policies(RoleName="Party")["PolicyNames"] == ["Use"]
    created = {**role, "Properties": {**role["Properties"], "RoleName": "Created"}}
    deploy_template(cfn, "C", {"Resources": {"R": created}})
    answer = iam.get_role_policy(RoleName="Created", PolicyName="Use")["PolicyDocument"]
    assert answer == document  # JSON, as IAM answers it (boto3 decodes it)
    assert iam.get_role(RoleName="Party")["Role"]["MaxSessionDuration"] == 7200
    del role["Properties"]["Policies"]
    deploy_template(cfn, "S", {"Resources": {"R": role}})
    assert iam.list_role_policies(RoleName="Party")["PolicyNames"] == []
