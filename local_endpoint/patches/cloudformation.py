"""CloudFormation: AWS::KMS::Key as the resource provider builds it, change sets, rollback, and
CloudFormation's own KMS calls authorized as its identity."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import JsonRESTError, ServiceException

from local_endpoint import (
    authorization,
    cloudformation_enforcement,
    kms_operations,
    messages,
)
from local_endpoint.patches import wire
from local_endpoint.patches.registry import (
    CFN_MODELS,
    CFN_RESPONSES,
    IAM_MODELS,
    KMS_MODELS,
    REGISTRY,
)
from local_endpoint.patching import Patcher


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


# These properties cannot change: the provider's update handler fails (BaseHandlerStd.
# validateResourceModel, CFN_INVALID_REQUEST_MESSAGE), whatever UpdateReplacePolicy says.
_IMMUTABLE_KEY_PROPERTIES = ("KeySpec", "KeyUsage", "MultiRegion", "Origin")
IMMUTABLE_KEY_MESSAGE = messages.IMMUTABLE_KEY.text


@REGISTRY.patch("cfn_kms_key_properties", module=KMS_MODELS)
def cfn_kms_key_properties(patcher: Patcher) -> None:
    """CloudFormation AWS::KMS::Key keeps KeySpec, KeyUsage, KeyPolicy and Tags.

    AWS::KMS::Key (CloudFormation User Guide) creates the key with the template's KeySpec and
    KeyUsage (defaults SYMMETRIC_DEFAULT and ENCRYPT_DECRYPT), stores KeyPolicy as the key policy
    document, and updates KeyPolicy, Description, Enabled and Tags in place. A change of
    KeySpec, KeyUsage, MultiRegion or Origin fails the update with "You cannot change the
    values of the KeySpec, KeyUsage, Origin, or MultiRegion properties of an AWS::KMS::Key
    resource." (the KMS resource provider's update handler); deleting the resource schedules
    the key's deletion after PendingWindowInDays (default 30). moto 5.2.5 makes every key
    SYMMETRIC_DEFAULT, stores the policy as a dict (DescribeKey then answers HTTP 500), rejects
    CloudFormation's Key/Value tags, cannot update a key and deletes keys at once. Fn::GetAtt
    supports Arn and KeyId.
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
        key.cfn_pending_window_days = int(properties.get("PendingWindowInDays", 30))
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
        if any(current[p] != wanted[p] for p in _IMMUTABLE_KEY_PROPERTIES):
            raise cloudformation_enforcement.HandlerError("InvalidRequest", IMMUTABLE_KEY_MESSAGE)
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
        old.cfn_pending_window_days = int(properties.get("PendingWindowInDays", 30))
        return old

    def delete(self: Any, account_id: str, region_name: str) -> None:
        backend = models.kms_backends[account_id][region_name]
        if self.key_state != "PendingDeletion":
            backend.schedule_key_deletion(self.id, getattr(self, "cfn_pending_window_days", 30))

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
    patcher.replace(models.Key, "delete", delete)


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


@REGISTRY.patch("cfn_unknown_change_set_not_found", module=CFN_MODELS)
def cfn_unknown_change_set_not_found(patcher: Patcher) -> None:
    """DescribeChangeSet of a change set that does not exist answers ChangeSetNotFound.

    CloudFormation API reference, DescribeChangeSet, Errors: "ChangeSetNotFound: The
    specified change set name or ID doesn't exit." (HTTP 404). The CDK CLI deletes its old
    change set before each deploy of a changed stack and waits until DescribeChangeSet says
    ChangeSetNotFoundException. moto 5.2.5 answers ValidationError "Stack with id
    cdk-deploy-change-set does not exist", so every `cdk deploy` that changes a deployed
    stack (adding a key generation, retiring one) failed.
    """
    from moto.cloudformation import models

    class ChangeSetNotFound(ServiceException):
        code = "ChangeSetNotFoundException"  # the model's shape: query code ChangeSetNotFound

    def describe_change_set(self: Any, change_set_name: str) -> Any:
        for change_set_id, change_set in self.change_sets.items():
            if change_set_name in (change_set_id, change_set.change_set_name):
                return change_set
        raise ChangeSetNotFound(f"ChangeSet [{change_set_name}] does not exist")

    patcher.replace(models.CloudFormationBackend, "describe_change_set", describe_change_set)


@REGISTRY.patch("cfn_stack_failures_roll_back", module=CFN_MODELS)
def cfn_stack_failures_roll_back(patcher: Patcher) -> None:
    """A failed resource handler fails the stack operation; RetainExceptOnCreate is honoured.

    CloudFormation User Guide, "Stack status codes" and DeletionPolicy: when a resource fails,
    ExecuteChangeSet still succeeds and the stack rolls back: a first create ends in
    ROLLBACK_COMPLETE with its resources deleted (RetainExceptOnCreate ones included, Retain
    ones kept), an update in UPDATE_ROLLBACK_COMPLETE, a delete in DELETE_FAILED; the
    resource's event carries "Resource handler returned message: ... (HandlerErrorCode: ...)".
    DeleteStack keeps RetainExceptOnCreate resources as it keeps Retain ones. moto 5.2.5 turns
    a handler's error into an error of the API call, leaves the stack CREATE_IN_PROGRESS, and
    deletes RetainExceptOnCreate resources with the stack.
    """
    from moto.cloudformation import models, parsing

    original_execute = models.CloudFormationBackend.execute_change_set
    original_delete = parsing.ResourceMap.delete

    def execute_change_set(self: Any, change_set_name: str, stack_name: str | None = None) -> Any:
        change_set = self.change_sets.get(change_set_name) or next(
            (c for c in self.change_sets.values() if c.change_set_name == change_set_name), None
        )
        try:
            return original_execute(self, change_set_name, stack_name)
        except (cloudformation_enforcement.HandlerError, ServiceException, JsonRESTError) as error:
            if change_set is None:
                raise
            failure = _handler_error(error)
            stack = change_set.stack
            creating = change_set.change_set_type == "CREATE"
            stack._add_stack_event(
                "CREATE_FAILED" if creating else "UPDATE_FAILED",
                resource_status_reason=failure.reason,
            )
            if creating:
                _roll_back_create(stack.resource_map)
            stack.status = "ROLLBACK_COMPLETE" if creating else "UPDATE_ROLLBACK_COMPLETE"
            stack._add_stack_event(stack.status, resource_status_reason=failure.reason)
            change_set.execution_status = "EXECUTE_FAILED"
            authorization.log(f"stack {stack.name}: {stack.status}: {failure.reason}")
            return None

    def delete(self: Any) -> None:
        json_map = self._resource_json_map
        self._resource_json_map = {
            name: _retained_on_delete(resource) for name, resource in json_map.items()
        }
        try:
            original_delete(self)
        finally:
            self._resource_json_map = json_map

    original_delete_stack = models.CloudFormationBackend.delete_stack

    def delete_stack(self: Any, name_or_stack_id: str) -> None:
        stack = next(
            (s for s in self.stacks.values() if name_or_stack_id in (s.name, s.stack_id)), None
        )
        try:
            original_delete_stack(self, name_or_stack_id)
        except (cloudformation_enforcement.HandlerError, ServiceException, JsonRESTError) as error:
            if stack is None:
                raise
            failure = _handler_error(error)
            self.stacks[stack.stack_id] = stack
            self.deleted_stacks.pop(stack.stack_id, None)
            stack.status = "DELETE_FAILED"
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=failure.reason)
            authorization.log(f"stack {stack.name}: DELETE_FAILED: {failure.reason}")

    patcher.replace(models.CloudFormationBackend, "execute_change_set", execute_change_set)
    patcher.replace(models.CloudFormationBackend, "delete_stack", delete_stack)
    patcher.replace(parsing.ResourceMap, "delete", delete)


def _handler_error(error: Exception) -> cloudformation_enforcement.HandlerError:
    """A resource handler's failure; a service error (IAM CreateRole, ...) as InvalidRequest."""
    if isinstance(error, cloudformation_enforcement.HandlerError):
        return error
    code = getattr(error, "code", "Error")
    message = getattr(error, "message", str(error))
    return cloudformation_enforcement.HandlerError(
        "InvalidRequest", f"{message} (Error Code: {code}; Status Code: 400)"
    )


def _retained_on_delete(resource: Any) -> Any:
    """DeleteStack treats RetainExceptOnCreate as Retain (moto only knows Retain)."""
    if isinstance(resource, dict) and resource.get("DeletionPolicy") == "RetainExceptOnCreate":
        return {**resource, "DeletionPolicy": "Retain"}
    return resource


def _roll_back_create(resource_map: Any) -> None:
    """Delete what a failed first create made, except DeletionPolicy Retain resources."""
    for logical_id, resource in reversed(list(resource_map._parsed_resources.items())):
        definition = resource_map._resource_json_map.get(logical_id, {})
        retained = definition.get("DeletionPolicy") == "Retain"
        if isinstance(resource, str) or resource is None or retained:
            continue
        try:
            resource_map._delete_resource(resource, definition)
            resource_map._parsed_resources.pop(logical_id, None)
        except Exception as error:  # a rollback deletes what it can, as AWS does
            authorization.log(f"rollback could not delete {logical_id}: {error}")


@REGISTRY.patch("cfn_kms_calls_enforced", module=CFN_RESPONSES)
def cfn_kms_calls_enforced(patcher: Patcher) -> None:
    """CloudFormation's own KMS calls pass key-policy enforcement as CloudFormation's identity.

    CloudFormation User Guide, "CloudFormation service role": with a RoleARN (the CDK default
    synthesizer passes the bootstrap execution role) CloudFormation calls other services as
    that role, otherwise with the caller's credentials. The AWS::KMS::Key handlers'
    calls (local_endpoint.cloudformation_enforcement.PROVIDER_CALLS, from the provider's
    source) are authorized like any request: a key policy without kms:ScheduleKeyDeletion
    makes the delete fail, one without kms:TagResource a tag update, with AccessDenied.
    moto 5.2.5 runs them inside the endpoint, past every key policy.
    """
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.kms import models

    enforcement = cloudformation_enforcement
    original_call_action = CloudFormationResponse.call_action

    def call_action(self: Any) -> Any:
        try:
            caller = wire.authenticate(self)
        except authorization.UnrecognizedCredentialsError:
            return original_call_action(self)
        identity = enforcement.identity_for(caller, _stack_role_arn(self))
        with enforcement.acting_as(identity):
            return original_call_action(self)

    original_create = models.Key.create_from_cloudformation_json
    original_update = models.Key.update_from_cloudformation_json
    original_delete = models.Key.delete

    def create_from_cloudformation_json(
        cls: type,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        *args: Any,
        **kw: Any,
    ) -> Any:
        identity = enforcement.current_identity(account_id)
        properties = cloudformation_json.get("Properties", {})
        enforcement.authorize(identity, "kms:CreateKey", None)
        if properties.get("Tags"):
            enforcement.authorize(identity, "kms:TagResource", None)
        key = original_create(resource_name, cloudformation_json, account_id, *args, **kw)
        for action in enforcement.create_calls(properties):
            enforcement.authorize(identity, action, key)
        return key

    def update_from_cloudformation_json(cls: type, **kwargs: Any) -> Any:
        key = kwargs["original_resource"]
        identity = enforcement.current_identity(kwargs["account_id"])
        new = kwargs["cloudformation_json"].get("Properties", {})
        view: Any = key
        for action in enforcement.update_calls(_key_properties(key), new):
            if action in enforcement.ASYMMETRIC_ROTATION and kms_operations.is_asymmetric(key):
                continue
            enforcement.authorize(identity, action, view)
            if action == "kms:PutKeyPolicy":  # later calls meet the new policy
                view = _PolicyView(key.arn, json.dumps(new["KeyPolicy"]))
        return original_update(**kwargs)

    def delete(self: Any, account_id: str, region_name: str) -> None:
        identity = enforcement.current_identity(account_id)
        enforcement.authorize(identity, "kms:ScheduleKeyDeletion", self)
        original_delete(self, account_id, region_name)

    patcher.replace(CloudFormationResponse, "call_action", call_action)
    patcher.replace(
        models.Key, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json)
    )
    patcher.replace(
        models.Key, "update_from_cloudformation_json", classmethod(update_from_cloudformation_json)
    )
    patcher.replace(models.Key, "delete", delete)


@dataclass(frozen=True)
class _PolicyView:
    """A key as the authorizer sees it after PutKeyPolicy: its ARN and its new policy."""

    arn: str
    policy: str


def _key_properties(key: Any) -> dict[str, Any]:
    """A key's current state as AWS::KMS::Key properties (what the update compares against)."""
    from moto.kms import models

    backend = models.kms_backends[key.account_id][key.region]
    tags = backend.tagger.list_tags_for_resource(key.id).get("Tags", [])
    policy = key.policy
    return {
        "Description": key.description,
        "KeyPolicy": json.loads(policy) if isinstance(policy, str) else policy,
        "Enabled": key.key_state != "Disabled",
        "EnableKeyRotation": bool(key.key_rotation_status),
        "Tags": [{"Key": t["TagKey"], "Value": t["TagValue"]} for t in tags],
    }


def _stack_role_arn(response: Any) -> str | None:
    """The service role the request's stack operation runs as (RoleARN), if any."""
    role = response._get_param("RoleARN")
    if role:
        return role
    backend = response.cloudformation_backend
    name = response._get_param("StackName")
    if response._get_action() == "ExecuteChangeSet":
        wanted = response._get_param("ChangeSetName")
        for change_set in reversed(list(backend.change_sets.values())):  # the newest first
            if wanted == change_set.change_set_id or (
                wanted == change_set.change_set_name and name in (None, change_set.stack_name)
            ):
                return change_set.role_arn or change_set.stack.role_arn
    for stack in backend.stacks.values():
        if name in (stack.name, stack.stack_id):
            return stack.role_arn
    return None


@REGISTRY.patch("cfn_iam_role_inline_policies", module=IAM_MODELS)
def cfn_iam_role_inline_policies(patcher: Patcher) -> None:
    """AWS::IAM::Role stores its inline policies as JSON documents, and an update changes its
    trust policy, inline policies, description and maximum session duration in place.

    CloudFormation User Guide, AWS::IAM::Role: AssumeRolePolicyDocument, Policies,
    Description and MaxSessionDuration update with "No interruption". Issue 13's party stacks
    depend on it: their second deploy adds the cross-account key rights to the role.
    moto 5.2.5 ignores every change but the description, and resets MaxSessionDuration to
    3600 (it reads the non-existent property RoleDescription); on create it stores each inline
    policy as a Python dict, so GetRolePolicy answers its repr, not JSON.
    """
    from moto.iam import models

    original_create = models.Role.create_from_cloudformation_json.__func__

    def create_from_cloudformation_json(
        cls: Any, resource_name: str, cloudformation_json: dict[str, Any], *a: Any, **k: Any
    ) -> Any:
        properties = dict(cloudformation_json["Properties"])
        properties["Policies"] = [
            {
                **policy,
                "PolicyDocument": policy["PolicyDocument"]
                if isinstance(policy["PolicyDocument"], str)
                else json.dumps(policy["PolicyDocument"]),
            }
            for policy in properties.get("Policies", [])
        ]
        resource = {**cloudformation_json, "Properties": properties}
        return original_create(cls, resource_name, resource, *a, **k)

    patcher.replace(
        models.Role, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json)
    )

    def update_from_cloudformation_json(
        cls: Any,
        original_resource: Any,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Any:
        backend = models.iam_backends[account_id][models.get_partition(region_name)]
        properties = cloudformation_json["Properties"]
        role_name = properties.get("RoleName", original_resource.name)
        trust = properties["AssumeRolePolicyDocument"]
        if not isinstance(trust, str):
            trust = json.dumps(trust)
        backend.update_assume_role_policy(role_name, trust)
        role = backend.update_role(
            role_name,
            properties.get("Description", ""),
            properties.get("MaxSessionDuration", 3600),
        )
        wanted = {p["PolicyName"]: p["PolicyDocument"] for p in properties.get("Policies", [])}
        for name in list(role.policies):
            if name not in wanted:
                role.delete_policy(name)
        for name, document in wanted.items():
            role.put_policy(name, document if isinstance(document, str) else json.dumps(document))
        return role

    patcher.replace(
        models.Role,
        "update_from_cloudformation_json",
        classmethod(update_from_cloudformation_json),
    )
