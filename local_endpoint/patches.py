"""Every change this project makes to moto 5.2.5, one small named patch each.

Each patch restores one behaviour that AWS documents and moto 5.2.5 lacks (measured gaps:
shared/notes/kms-facts.md; AWS references in each docstring). Each is registered under a name,
so a test can run the endpoint with that patch left out and watch the gap come back. Drop a
patch once moto fixes the gap upstream: its test then passes without it.

The crypto and authorization logic lives in :mod:`local_endpoint.kms_crypto` and
:mod:`local_endpoint.authorization`; this module only wires it into moto.
"""

from __future__ import annotations

import json
from typing import Any

from local_endpoint.patching import Patcher, Registry

REGISTRY = Registry()

KMS_MODELS = "moto.kms.models"
KMS_RESPONSES = "moto.kms.responses"
CFN_MODELS = "moto.cloudformation.models"
CFN_RESPONSES = "moto.cloudformation.responses"
STS_RESPONSES = "moto.sts.responses"


# -- CloudFormation ----------------------------------------------------------------------------


def _cfn_key_arguments(properties: dict[str, Any]) -> dict[str, Any]:
    """AWS::KMS::Key properties as KmsBackend.create_key arguments (AWS defaults filled in)."""
    policy = properties.get("KeyPolicy")
    return {
        "policy": json.dumps(policy) if isinstance(policy, dict) else policy,
        "key_usage": properties.get("KeyUsage", "ENCRYPT_DECRYPT"),
        "key_spec": properties.get("KeySpec", "SYMMETRIC_DEFAULT"),
        "description": properties.get("Description", ""),
        "tags": [{"TagKey": t["Key"], "TagValue": t["Value"]} for t in properties.get("Tags", [])],
        "multi_region": bool(properties.get("MultiRegion", False)),
        "origin": properties.get("Origin", "AWS_KMS"),
    }


# A change to these properties replaces the key (AWS::KMS::Key reference, "Update requires").
_KEY_REPLACEMENT_PROPERTIES = ("KeySpec", "KeyUsage", "MultiRegion", "Origin")


@REGISTRY.patch("cfn_kms_key_properties", module=KMS_MODELS)
def cfn_kms_key_properties(patcher: Patcher) -> None:
    """CloudFormation AWS::KMS::Key keeps KeySpec, KeyUsage, KeyPolicy and Tags.

    AWS::KMS::Key (CloudFormation User Guide) creates the key with the template's KeySpec and
    KeyUsage (defaults SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT), stores KeyPolicy as the key policy
    document, and updates KeyPolicy, Description, Enabled and Tags in place; KeySpec, KeyUsage,
    MultiRegion and Origin require replacement. moto 5.2.5 makes every key SYMMETRIC_DEFAULT,
    stores the policy as a dict (DescribeKey then answers HTTP 500), rejects CloudFormation's
    Key/Value tags and cannot update a key. Fn::GetAtt supports Arn and KeyId.
    """
    from moto.kms import models

    def create_from_cloudformation_json(
        cls: type,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Any:
        backend = models.kms_backends[account_id][region_name]
        properties = cloudformation_json["Properties"]
        key = backend.create_key(**_cfn_key_arguments(properties))
        key.key_rotation_status = bool(properties.get("EnableKeyRotation", False))
        if not properties.get("Enabled", True):
            backend.disable_key(key.id)
        return key

    def update_from_cloudformation_json(
        cls: type,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        region_name: str,
    ) -> Any:
        properties = cloudformation_json["Properties"]
        arguments = _cfn_key_arguments(properties)
        old = original_resource
        current = {
            "KeySpec": old.key_spec,
            "KeyUsage": old.key_usage,
            "MultiRegion": old.multi_region,
            "Origin": old.origin,
        }
        wanted = {
            "KeySpec": arguments["key_spec"],
            "KeyUsage": arguments["key_usage"],
            "MultiRegion": arguments["multi_region"],
            "Origin": arguments["origin"],
        }
        if any(current[p] != wanted[p] for p in _KEY_REPLACEMENT_PROPERTIES):
            return create_from_cloudformation_json(
                cls, new_resource_name, cloudformation_json, account_id, region_name
            )
        backend = models.kms_backends[account_id][region_name]
        if arguments["policy"] is not None:
            old.policy = arguments["policy"]
        old.description = arguments["description"]
        old.key_rotation_status = bool(properties.get("EnableKeyRotation", False))
        if properties.get("Enabled", True):
            backend.enable_key(old.id)
        else:
            backend.disable_key(old.id)
        backend.tagger.delete_all_tags_for_resource(old.id)
        if arguments["tags"]:
            backend.tagger.tag_resource(old.id, arguments["tags"])
        return old

    def has_cfn_attr(cls: type, attribute: str) -> bool:
        return attribute in ("Arn", "KeyId")

    original_get_attribute = models.Key.get_cfn_attribute

    def get_cfn_attribute(self: Any, attribute: str) -> Any:
        if attribute == "KeyId":
            return self.id
        return original_get_attribute(self, attribute)

    patcher.replace(
        models.Key, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json)
    )
    patcher.replace(
        models.Key, "update_from_cloudformation_json", classmethod(update_from_cloudformation_json)
    )
    patcher.replace(models.Key, "has_cfn_attr", classmethod(has_cfn_attr))
    patcher.replace(models.Key, "get_cfn_attribute", get_cfn_attribute)


@REGISTRY.patch("cfn_change_set_outputs", module=CFN_MODELS)
def cfn_change_set_outputs(patcher: Patcher) -> None:
    """A stack created or updated by a change set has the template's Outputs and Description.

    ExecuteChangeSet (CloudFormation API reference) updates the stack "using the input
    information that was provided when the specified change set was created": its template,
    hence its Outputs. `cdk deploy` deploys with change sets and reads the Outputs afterwards.
    moto 5.2.5 applies the resources but keeps the outputs of the empty template it started with.
    """
    from moto.cloudformation import models

    original_apply = models.ChangeSet.apply

    def apply(self: Any) -> None:
        original_apply(self)
        stack = self.stack
        stack.template = self.template
        stack._parse_template()
        stack.description = stack.template_dict.get("Description")
        stack.output_map = stack._create_output_map()
        if self.parameters:
            stack.parameters = self.parameters

    patcher.replace(models.ChangeSet, "apply", apply)


@REGISTRY.patch("cfn_delete_change_set_if_exists", module=CFN_MODELS)
def cfn_delete_change_set_if_exists(patcher: Patcher) -> None:
    """DeleteChangeSet of a change set that does not exist succeeds.

    The CDK CLI deletes its change set "if it exists" before each `cdk diff` and `cdk deploy`
    and relies on CloudFormation answering success while the stack exists. moto 5.2.5 raises
    an unhandled error (HTTP 500), and the SDK's retries made `cdk diff` take 51 s.
    """
    from moto.cloudformation import models

    def delete_change_set(self: Any, change_set_name: str) -> None:
        for change_set_id, change_set in list(self.change_sets.items()):
            if change_set_name in (change_set_id, change_set.change_set_name):
                del self.change_sets[change_set_id]

    patcher.replace(models.CloudFormationBackend, "delete_change_set", delete_change_set)


# -- KMS API -------------------------------------------------------------------------------------


@REGISTRY.patch("kms_policy_name_optional", module=KMS_RESPONSES)
def kms_policy_name_optional(patcher: Patcher) -> None:
    """GetKeyPolicy and PutKeyPolicy take an optional PolicyName that defaults to "default".

    KMS API reference, GetKeyPolicy and PutKeyPolicy: "PolicyName ... If no policy name is
    specified, the default value is default. Required: No". moto 5.2.5 answers
    NotFoundException "No such policy exists" when the name is left out.
    """
    from moto.kms import responses

    original = responses._assert_default_policy

    def assert_default_policy(policy_name: str | None) -> None:
        original("default" if policy_name is None else policy_name)

    patcher.replace(responses, "_assert_default_policy", assert_default_policy)
