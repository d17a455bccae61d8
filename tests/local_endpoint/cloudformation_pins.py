"""Pins for the CloudFormation patches of issue 11 (used by test_endpoint_fidelity.PINS).

Each check asserts what AWS CloudFormation and its KMS resource provider do; see the patch
docstrings and local_endpoint.cloudformation_enforcement for the sources.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from local_endpoint.patches import IMMUTABLE_KEY_MESSAGE
from tests.local_endpoint.patched_moto import ROOT, Moto

STACK = "Stack"
ADMIN_ACTIONS = [
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:PutKeyPolicy",
    "kms:ListResourceTags",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:UpdateKeyDescription",
    "kms:ScheduleKeyDeletion",
]


def admin_policy(actions: list[str] | None = None, principal: str = ROOT) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Admin",
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": list(ADMIN_ACTIONS if actions is None else actions),
                "Resource": "*",
            }
        ],
    }


def key_resource(
    policy: dict[str, Any], *, description: str = "signing", spec: str = "ECC_NIST_P521"
) -> dict[str, Any]:
    return {
        "Type": "AWS::KMS::Key",
        "DeletionPolicy": "Delete",
        "Properties": {
            "KeySpec": spec,
            "KeyUsage": "SIGN_VERIFY",
            "KeyPolicy": policy,
            "Description": description,
            "PendingWindowInDays": 7,
            "Tags": [{"Key": "project", "Value": "tests"}],
        },
    }


def template(**resources: dict[str, Any]) -> dict[str, Any]:
    outputs = {
        f"{name}Arn": {"Value": {"Fn::GetAtt": [name, "Arn"]}}
        for name, resource in resources.items()
        if resource["Type"] == "AWS::KMS::Key"
    }
    return {"Resources": resources, "Outputs": outputs}


def change_set(moto: Moto, body: dict[str, Any], name: str, **extra: Any) -> dict[str, Any]:
    """Create and execute a change set as `cdk deploy` does; return the stack afterwards."""
    cloudformation = moto.client("cloudformation")
    try:
        cloudformation.describe_stacks(StackName=STACK)
        kind = "UPDATE"
    except Exception:  # botocore ClientError: no such stack
        kind = "CREATE"
    cloudformation.create_change_set(
        StackName=STACK,
        ChangeSetName=name,
        ChangeSetType=kind,
        TemplateBody=json.dumps(body),
        **extra,
    )
    cloudformation.execute_change_set(StackName=STACK, ChangeSetName=name)
    return cloudformation.describe_stacks(StackName=STACK)["Stacks"][0]


def reasons(moto: Moto) -> str:
    events = moto.client("cloudformation").describe_stack_events(StackName=STACK)["StackEvents"]
    return " | ".join(e.get("ResourceStatusReason") or "" for e in events)


def key_state(moto: Moto, arn: str) -> str:
    return moto.client("kms").describe_key(KeyId=arn)["KeyMetadata"]["KeyState"]


# -- item 7: KeySpec and friends cannot change ----------------------------------------------------


def key_spec_change_fails_the_update(moto: Moto) -> None:
    first = change_set(moto, template(Key=key_resource(admin_policy())), "one")
    arn = first["Outputs"][0]["OutputValue"]
    second = change_set(
        moto, template(Key=key_resource(admin_policy(), spec="ECC_NIST_P384")), "two"
    )
    assert second["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert IMMUTABLE_KEY_MESSAGE in reasons(moto)
    metadata = moto.client("kms").describe_key(KeyId=arn)["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyState"]) == ("ECC_NIST_P521", "Enabled")
    assert len(moto.client("kms").list_keys()["Keys"]) == 1  # no replacement key


# -- item 2 on the endpoint: a failed first create rolls back ---------------------------------


def failed_first_create_rolls_back(moto: Moto) -> None:
    ghost = admin_policy()
    ghost["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/Ghost"},
            "Action": "kms:Sign",
            "Resource": "*",
        }
    )
    kept = key_resource(admin_policy(), description="kept")
    kept["DeletionPolicy"] = "Retain"
    rolled_back = key_resource(admin_policy(), description="rolled back")
    rolled_back["DeletionPolicy"] = "RetainExceptOnCreate"
    bad = key_resource(ghost, description="bad")
    bad["DependsOn"] = ["Kept", "RolledBack"]
    stack = change_set(moto, template(Kept=kept, RolledBack=rolled_back, Bad=bad), "one")
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "one or more invalid principals" in reasons(moto)
    assert "HandlerErrorCode: InvalidRequest" in reasons(moto)
    kms = moto.client("kms")
    states = {}
    for entry in kms.list_keys()["Keys"]:
        metadata = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
        states[metadata["Description"]] = metadata["KeyState"]
    assert states == {"kept": "Enabled", "rolled back": "PendingDeletion"}


def delete_stack_keeps_retain_except_on_create(moto: Moto) -> None:
    retained = key_resource(admin_policy())
    retained["DeletionPolicy"] = "RetainExceptOnCreate"
    stack = change_set(moto, template(Key=retained), "one")
    arn = stack["Outputs"][0]["OutputValue"]
    moto.client("cloudformation").delete_stack(StackName=STACK)
    assert key_state(moto, arn) == "Enabled"


def stack_failures_roll_back(moto: Moto) -> None:
    failed_first_create_rolls_back(moto)
    moto.client("cloudformation").delete_stack(StackName=STACK)
    delete_stack_keeps_retain_except_on_create(moto)


# -- item 6: CloudFormation's KMS calls meet the key policy ------------------------------------


def cloudformation_kms_calls_are_authorized(moto: Moto) -> None:
    without_description = [a for a in ADMIN_ACTIONS if a != "kms:UpdateKeyDescription"]
    stack = change_set(moto, template(Key=key_resource(admin_policy(without_description))), "one")
    arn = stack["Outputs"][0]["OutputValue"]
    changed = template(
        Key=key_resource(admin_policy(without_description), description="new description")
    )
    assert change_set(moto, changed, "two")["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    assert "kms:UpdateKeyDescription" in reasons(moto)
    assert "HandlerErrorCode: AccessDenied" in reasons(moto)
    kms = moto.client("kms")
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["Description"] == "signing"
    # Delete needs kms:ScheduleKeyDeletion.
    cloudformation = moto.client("cloudformation")
    narrowed = [a for a in without_description if a != "kms:ScheduleKeyDeletion"]
    policy = admin_policy(narrowed)
    kms.put_key_policy(KeyId=arn, Policy=json.dumps(policy))
    cloudformation.delete_stack(StackName=STACK)
    (after,) = cloudformation.describe_stacks(StackName=STACK)["Stacks"]
    assert after["StackStatus"] == "DELETE_FAILED"
    assert "kms:ScheduleKeyDeletion" in reasons(moto)
    assert key_state(moto, arn) == "Enabled"
    kms.put_key_policy(KeyId=arn, Policy=json.dumps(admin_policy()))
    cloudformation.delete_stack(StackName=STACK)
    assert key_state(moto, arn) == "PendingDeletion"  # the provider schedules the deletion


def service_role_is_cloudformations_identity(moto: Moto) -> None:
    """With RoleARN, the lockout check and every call are judged for the role, not the caller."""
    iam = moto.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "cloudformation.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    role_arn = iam.create_role(RoleName="cfn-exec", AssumeRolePolicyDocument=json.dumps(trust))[
        "Role"
    ]["Arn"]
    iam.put_role_policy(
        RoleName="cfn-exec",
        PolicyName="kms",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "kms:*", "Resource": "*"}],
            }
        ),
    )
    # Administration for the deploying user only: fine without a role, a lockout with one.
    user_only = admin_policy(principal="arn:aws:iam::123456789012:user/local-admin")
    with_role = change_set(
        moto, template(Key=key_resource(user_only)), "role-one", RoleARN=role_arn
    )
    assert with_role["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "will not allow you to update the key policy in the future" in reasons(moto)
    moto.client("cloudformation").delete_stack(StackName=STACK)
    assert change_set(moto, template(Key=key_resource(user_only)), "role-two")["StackStatus"] == (
        "CREATE_COMPLETE"
    )
    moto.client("cloudformation").delete_stack(StackName=STACK)
    # The account root delegates to IAM: the role's identity policy allows it.
    root_admin = copy.deepcopy(admin_policy())
    stack = change_set(moto, template(Key=key_resource(root_admin)), "role-three", RoleARN=role_arn)
    assert stack["StackStatus"] == "CREATE_COMPLETE"


def cloudformation_enforcement(moto: Moto) -> None:
    cloudformation_kms_calls_are_authorized(moto)
    service_role_is_cloudformations_identity(moto)


# -- item 8: principals must exist, path included -------------------------------------------------


def trust_policy_principals_must_exist(moto: Moto) -> None:
    from moto.iam.models import iam_backends

    iam = moto.client("iam")
    iam.create_role(
        RoleName="Real",
        Path="/team/",
        AssumeRolePolicyDocument=json.dumps(trust_of(ROOT)),
    )
    real = "arn:aws:iam::123456789012:role/team/Real"
    iam_backends["111122223333"]  # the endpoint now knows this account's IAM
    for missing in (
        "arn:aws:iam::123456789012:role/Ghost",
        "arn:aws:iam::123456789012:role/Real",  # the path left out
        "arn:aws:iam::111122223333:role/Missing",  # a known account without that role
    ):
        error = refusal(
            lambda m=missing: iam.create_role(
                RoleName="Trusting", AssumeRolePolicyDocument=json.dumps(trust_of(m))
            )
        )
        assert "MalformedPolicyDocument" in error, missing
        assert f'Invalid principal in policy: "AWS":"{missing}"' in error
    iam.create_role(RoleName="Trusting", AssumeRolePolicyDocument=json.dumps(trust_of(real)))
    update = lambda: iam.update_assume_role_policy(  # noqa: E731
        RoleName="Trusting", PolicyDocument=json.dumps(trust_of(real + "x"))
    )
    assert "MalformedPolicyDocument" in refusal(update)
    # An account the endpoint knows nothing of cannot be checked; a condition is never checked.
    iam.create_role(
        RoleName="Partner",
        AssumeRolePolicyDocument=json.dumps(trust_of("arn:aws:iam::444455556666:role/Any")),
    )


def key_policy_principals_must_exist_with_their_path(moto: Moto) -> None:
    iam = moto.client("iam")
    iam.create_role(
        RoleName="Pathed", Path="/team/", AssumeRolePolicyDocument=json.dumps(trust_of(ROOT))
    )
    kms = moto.client("kms")
    for principal, accepted in (
        ("arn:aws:iam::123456789012:role/Pathed", False),
        ("arn:aws:iam::123456789012:role/team/Pathed", True),
    ):
        policy = admin_policy()
        policy["Statement"].append(
            {
                "Effect": "Allow",
                "Principal": {"AWS": principal},
                "Action": "kms:Sign",
                "Resource": "*",
            }
        )
        error = refusal(
            lambda p=policy: kms.create_key(
                KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Policy=json.dumps(p)
            )
        )
        if accepted:
            assert error == "", error
        else:
            assert "MalformedPolicyDocumentException" in error, principal
            assert "one or more invalid principals" in error


def refusal(call: Any) -> str:
    """The error a call answers ("" if it succeeds)."""
    try:
        call()
    except Exception as error:  # botocore ClientError
        return str(error)
    return ""


def trust_of(principal: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "sts:AssumeRole"}
        ],
    }
