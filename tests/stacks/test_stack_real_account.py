"""Issue 11: what would break on a real account, checked on the template.

Role names are account-global (sample:roleNames), a failed first create must not orphan the
keys (RetainExceptOnCreate), and the keys wait for the roles their policies name.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from stacks.config import ConfigError, RoleNames, StackConfig


def _roles(synthesized) -> dict[str, dict]:
    return synthesized.resources("AWS::IAM::Role")


def test_role_names_default_to_the_seeds(default) -> None:
    names = sorted(r["Properties"].get("RoleName") for r in _roles(default).values())
    assert names == ["ReceiverRole", "SenderRole"]


def test_generated_role_names_leave_the_name_to_cloudformation(synth: Callable) -> None:
    generated = synth({"sample:roleNames": "generated", "sample:namePrefix": "dev-"})
    roles = _roles(generated)
    assert len(roles) == 2
    assert all("RoleName" not in r["Properties"] for r in roles.values())
    # The logical IDs (and so the outputs and key policies that reference them) do not change.
    assert set(roles) == set(_roles(synth()))
    outputs = generated.doc["Outputs"]
    assert outputs["SenderRoleArn"]["Value"] == {
        "Fn::GetAtt": [generated.logical_id("SenderRole/Role"), "Arn"]
    }


def test_role_names_setting_is_validated() -> None:
    assert StackConfig.from_context({"sample:roleNames": "generated"}).role_names is (
        RoleNames.GENERATED
    )
    with pytest.raises(ConfigError) as caught:
        StackConfig.from_context({"sample:roleNames": "random"})
    assert str(caught.value) == "sample:roleNames must be fixed or generated; got 'random'"


def test_keys_are_retained_except_when_their_first_create_rolls_back(default) -> None:
    keys = default.resources("AWS::KMS::Key")
    assert len(keys) == 3  # the two asymmetric keys and the alarm topic's key
    for key in keys.values():
        assert key["DeletionPolicy"] == "RetainExceptOnCreate"
        assert key["UpdateReplacePolicy"] == "Retain"


def test_destroy_setting_still_deletes(synth: Callable) -> None:
    for key in synth({"sample:keyRemoval": "destroy"}).resources("AWS::KMS::Key").values():
        assert key["DeletionPolicy"] == "Delete"


def test_keys_are_created_after_the_roles_their_policies_name(default) -> None:
    """CloudFormation orders by reference: a key policy naming a role by Fn::GetAtt waits for
    the role (cfn-lint W3005 calls an extra DependsOn obsolete)."""
    import json

    roles = set(_roles(default))
    keys = default.resources("AWS::KMS::Key").values()
    asymmetric = [key for key in keys if "KeySpec" in key["Properties"]]
    assert len(asymmetric) == 2  # the alarm topic's key names no role
    for key in asymmetric:
        policy = json.dumps(key["Properties"]["KeyPolicy"])
        for role in roles:
            assert json.dumps({"Fn::GetAtt": [role, "Arn"]}) in policy
