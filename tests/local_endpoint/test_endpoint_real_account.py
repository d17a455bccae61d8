"""Issue 11 on the endpoint: what a real account does to the app, reproduced.

Role names are global to an account (a second region collides unless CloudFormation
generates them), and KMS refuses a key policy whose roles it cannot see yet (IAM
propagation): the first create then rolls back and, with RetainExceptOnCreate, leaves no key.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from local_endpoint import LocalEndpoint
from local_endpoint.deploy import DeployError, deploy_template


def cloudformation(endpoint: LocalEndpoint, region: str) -> Any:
    return endpoint.session().client(
        "cloudformation", region_name=region, endpoint_url=endpoint.url
    )


def generated_names(template: dict[str, Any]) -> dict[str, Any]:
    """The template as sample:roleNames=generated synthesizes it (tests/stacks checks that)."""
    copied = copy.deepcopy(template)
    for resource in copied["Resources"].values():
        if resource["Type"] == "AWS::IAM::Role":
            del resource["Properties"]["RoleName"]
    return copied


def test_a_second_region_collides_on_role_names_unless_they_are_generated(deployed_stack) -> None:
    template = deployed_stack.template
    with LocalEndpoint() as endpoint:
        first = deploy_template(
            cloudformation(endpoint, "us-east-1"), "KmsSignEncryptStack", template
        )
        with pytest.raises(DeployError) as caught:
            deploy_template(cloudformation(endpoint, "eu-west-1"), "KmsSignEncryptStack", template)
        assert "ROLLBACK_COMPLETE" in str(caught.value)
        assert "Role with name SenderRole already exists" in str(caught.value) or (
            "ReceiverRole already exists" in str(caught.value)
        )
        second = deploy_template(
            cloudformation(endpoint, "eu-west-1"), "GeneratedStack", generated_names(template)
        )
    assert first.outputs["SenderRoleArn"].endswith(":role/SenderRole")
    assert second.outputs["SenderRoleArn"] != first.outputs["SenderRoleArn"]
    assert ":kms:eu-west-1:" in second.outputs["EncryptionKeyArn"]


def test_iam_propagation_race_rolls_back_cleanly(deployed_stack) -> None:
    """The mitigation: the failed first create leaves neither keys nor roles; deploy again."""
    with LocalEndpoint(principal_propagation_seconds=600) as endpoint:
        client = endpoint.client("cloudformation")
        with pytest.raises(DeployError) as caught:
            deploy_template(client, "KmsSignEncryptStack", deployed_stack.template)
        message = str(caught.value)
        assert "ROLLBACK_COMPLETE" in message
        assert "Policy contains a statement with one or more invalid principals." in message
        assert "HandlerErrorCode: InvalidRequest" in message
        kms, iam = endpoint.client("kms"), endpoint.client("iam")
        states = [
            kms.describe_key(KeyId=k["KeyId"])["KeyMetadata"]["KeyState"]
            for k in kms.list_keys()["Keys"]
        ]
        assert all(state == "PendingDeletion" for state in states)  # no orphaned, billed key
        assert kms.list_aliases()["Aliases"] == [] or all(
            not a["AliasName"].startswith("alias/sample-") for a in kms.list_aliases()["Aliases"]
        )
        assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == []
