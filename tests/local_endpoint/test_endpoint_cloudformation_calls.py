"""Issue 6: CloudFormation's own KMS calls meet the shipped key policies, as on AWS."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

import keypolicy
from keypolicy import Outcome
from local_endpoint import LocalEndpoint
from local_endpoint.cloudformation_enforcement import ASYMMETRIC_ROTATION, PROVIDER_CALLS
from local_endpoint.deploy import deploy_template

ADMINISTRATOR = "arn:aws:iam::123456789012:user/local-admin"
EXECUTION_ROLE = (
    "arn:aws:sts::123456789012:assumed-role/cdk-hnb659fds-cfn-exec-role/AWSCloudFormation"
)


def keys(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::KMS::Key"}


@pytest.mark.parametrize("handler", sorted(PROVIDER_CALLS))
@pytest.mark.parametrize("identity", [ADMINISTRATOR, EXECUTION_ROLE])
def test_every_provider_call_passes_the_shipped_key_policies(
    deployed_stack: Any, handler: str, identity: str
) -> None:
    """Bootstrapless: the deploying user; default synthesizer: the execution role. Both reach
    the administration statement through the account root (IAM decides, and both have it)."""
    from keypolicy.template import extract_key_policies

    resolved = extract_key_policies(
        deployed_stack.template, account="123456789012", region="us-east-1"
    )
    assert len(resolved) == 3  # the two asymmetric keys and the alarm topic's key
    resources = deployed_stack.template["Resources"]
    for logical_id, key in resolved.items():
        policy = json.dumps(key.policy)
        asymmetric = "KeySpec" in resources[logical_id]["Properties"]
        for call in PROVIDER_CALLS[handler]:
            if not call.on_key or (asymmetric and call.action in ASYMMETRIC_ROTATION):
                continue  # CreateKey is IAM's; asymmetric keys never rotate
            decision = keypolicy.decide(
                policy,
                identity,
                call.action,
                {"kms:CallerAccount": "123456789012", "aws:PrincipalArn": identity},
                resource="*",
            )
            assert decision.outcome in (Outcome.ALLOW, Outcome.VIA_IAM), (
                logical_id,
                call.action,
            )


def without_action(template: dict[str, Any], action: str) -> dict[str, Any]:
    """The template with ``action`` dropped from both keys' administration statements."""
    copied = copy.deepcopy(template)
    for key in keys(copied).values():
        for statement in key["Properties"]["KeyPolicy"]["Statement"]:
            actions = statement.get("Action")
            if isinstance(actions, list) and action in actions:
                statement["Action"] = [a for a in actions if a != action]
    return copied


def destroyable(template: dict[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(template)
    for key in keys(copied).values():
        key["DeletionPolicy"] = key["UpdateReplacePolicy"] = "Delete"
    return copied


def retagged(template: dict[str, Any]) -> dict[str, Any]:
    copied = copy.deepcopy(template)
    for key in keys(copied).values():
        key["Properties"]["Tags"] = [*key["Properties"].get("Tags", []), {"Key": "k", "Value": "v"}]
    return copied


def status(endpoint: LocalEndpoint, name: str) -> str:
    return endpoint.client("cloudformation").describe_stacks(StackName=name)["Stacks"][0][
        "StackStatus"
    ]


def test_the_shipped_policies_let_cloudformation_update_and_delete(deployed_stack: Any) -> None:
    template = destroyable(deployed_stack.template)
    with LocalEndpoint() as endpoint:
        client = endpoint.client("cloudformation")
        first = deploy_template(client, "S", template)
        deploy_template(client, "S", retagged(template))  # TagResource, ListResourceTags
        client.delete_stack(StackName="S")
        kms = endpoint.client("kms")
        for output in ("EncryptionKeyArn", "SigningKeyArn"):
            metadata = kms.describe_key(KeyId=first.outputs[output])["KeyMetadata"]
            assert metadata["KeyState"] == "PendingDeletion"


@pytest.mark.parametrize(
    ("action", "operation"),
    [("kms:TagResource", "update"), ("kms:ScheduleKeyDeletion", "delete")],
)
def test_dropping_one_admin_action_breaks_the_operation_that_needs_it(
    deployed_stack: Any, action: str, operation: str
) -> None:
    template = without_action(destroyable(deployed_stack.template), action)
    with LocalEndpoint() as endpoint:
        client = endpoint.client("cloudformation")
        deploy_template(client, "S", template)
        if operation == "update":
            client.create_change_set(
                StackName="S",
                ChangeSetName="retag",
                ChangeSetType="UPDATE",
                TemplateBody=json.dumps(retagged(template)),
                Capabilities=["CAPABILITY_NAMED_IAM"],
            )
            client.execute_change_set(StackName="S", ChangeSetName="retag")
            assert status(endpoint, "S") == "UPDATE_ROLLBACK_COMPLETE"
        else:
            client.delete_stack(StackName="S")
            assert status(endpoint, "S") == "DELETE_FAILED"
        events = client.describe_stack_events(StackName="S")["StackEvents"]
        reasons = " ".join(e.get("ResourceStatusReason") or "" for e in events)
        assert f"is not authorized to perform: {action}" in reasons
        assert "HandlerErrorCode: AccessDenied" in reasons
