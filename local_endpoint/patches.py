"""Every change this project makes to moto 5.2.5, one small named patch each.

Each patch restores one behaviour that AWS documents and moto 5.2.5 lacks (measured gaps:
shared/notes/kms-facts.md; AWS references in each docstring). Each is registered under a name,
so a test can run the endpoint with that patch left out and watch the gap come back. Drop a
patch once moto fixes the gap upstream: its test then passes without it.

The crypto and authorization logic lives in :mod:`local_endpoint.kms_crypto` and
:mod:`local_endpoint.authorization`; this module only wires it into moto.
"""

from __future__ import annotations

import base64
import json
import struct
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from moto.core.exceptions import JsonRESTError, ServiceException

import keypolicy
from local_endpoint import (
    authorization,
    cloudformation_enforcement,
    kms_operations,
    messages,
    validation,
)
from local_endpoint.patching import Patcher, Registry

REGISTRY = Registry()

KMS_MODELS = "moto.kms.models"
KMS_RESPONSES = "moto.kms.responses"
CFN_MODELS = "moto.cloudformation.models"
CFN_RESPONSES = "moto.cloudformation.responses"
STS_MODELS = "moto.sts.models"
STS_RESPONSES = "moto.sts.responses"
IAM_MODELS = "moto.iam.models"
# Cheap to import (about 0.1 s together): the server loads them before installing, so every
# patch but the CloudFormation ones applies at start-up, in registry order. CloudFormation
# costs about 2 s to import and is patched when its first request arrives.
PRELOADED = (KMS_MODELS, KMS_RESPONSES, STS_MODELS, STS_RESPONSES)


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
            caller = _authenticate(self)
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


def _requested_key(response: Any, parameter: str = "KeyId") -> Any | None:
    """The key a KMS request names (by ID, ARN, alias or alias ARN); None if it names none.

    An unknown key raises moto's NotFoundException, as moto's own handlers do.
    """
    key_id = response._get_param(parameter)
    if not key_id:
        return None
    response._validate_key_id(key_id)
    return response.kms_backend.describe_key(key_id)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@REGISTRY.patch("kms_rsa_oaep", module=KMS_RESPONSES)
def kms_rsa_oaep(patcher: Patcher) -> None:
    """RSA Encrypt and Decrypt are RSAES-OAEP (SHA-1 or SHA-256), with OAEP's plaintext limit.

    KMS API reference, Encrypt: an RSA key encrypts with RSAES_OAEP_SHA_1 or RSAES_OAEP_SHA_256,
    so "ciphertext that was encrypted by using the public key ... outside of AWS KMS" decrypts
    with Decrypt; the plaintext limit for RSA_4096 is 446 bytes (SHA-256) or 470 (SHA-1), and
    the ciphertext is the modulus length (512 bytes). moto 5.2.5 uses its own symmetric format
    (106- or 510-byte ciphertexts) and has no limit, so offline ciphertexts fail to decrypt.
    """
    from moto.kms.responses import KmsResponse

    original_encrypt = KmsResponse.encrypt
    original_decrypt = KmsResponse.decrypt

    def encrypt(self: Any) -> str:
        key = _requested_key(self)
        algorithm = self._get_param("EncryptionAlgorithm")
        if key is None or not kms_operations.is_rsa(key) or algorithm not in OAEP:
            return original_encrypt(self)
        ciphertext = kms_operations.rsa_encrypt(key, algorithm, self._get_param("Plaintext"))
        return json.dumps(
            {"CiphertextBlob": _b64(ciphertext), "KeyId": key.arn, "EncryptionAlgorithm": algorithm}
        )

    def decrypt(self: Any) -> str:
        key = _requested_key(self)
        algorithm = self._get_param("EncryptionAlgorithm")
        if key is None or not kms_operations.is_rsa(key) or algorithm not in OAEP:
            return original_decrypt(self)
        plaintext = kms_operations.rsa_decrypt(key, algorithm, self._get_param("CiphertextBlob"))
        return json.dumps(
            {"Plaintext": _b64(plaintext), "KeyId": key.arn, "EncryptionAlgorithm": algorithm}
        )

    patcher.replace(KmsResponse, "encrypt", encrypt)
    patcher.replace(KmsResponse, "decrypt", decrypt)


OAEP = tuple(kms_operations.OAEP_HASHES)

INCORRECT_KEY_MESSAGE = messages.INCORRECT_KEY.text


@REGISTRY.patch("kms_decrypt_incorrect_key", module=KMS_RESPONSES)
def kms_decrypt_incorrect_key(patcher: Patcher) -> None:
    """Decrypt or ReEncrypt naming another key than the one a symmetric ciphertext was made
    with answers IncorrectKeyException.

    KMS API reference, Decrypt and ReEncrypt errors: IncorrectKeyException, "The KeyId in a
    Decrypt request and the SourceKeyId in a ReEncrypt request must identify the same KMS key
    that was used to encrypt the ciphertext". moto 5.2.5 answers Decrypt with an empty
    AccessDeniedException and ignores ReEncrypt's SourceKeyId (it decrypts with whatever key
    the ciphertext names).
    """
    from moto.kms.responses import KmsResponse

    def checked(original: Any, parameter: str) -> Any:
        def handler(self: Any) -> Any:
            key = _requested_key(self, parameter)
            named = _key_id_in_ciphertext(self._get_param("CiphertextBlob") or b"")
            if key is not None and named in self.kms_backend.keys and named != key.id:
                raise JsonRESTError("IncorrectKeyException", INCORRECT_KEY_MESSAGE)
            return original(self)

        return handler

    for method, parameter in (("decrypt", "KeyId"), ("re_encrypt", "SourceKeyId")):
        patcher.replace(KmsResponse, method, checked(getattr(KmsResponse, method), parameter))


@REGISTRY.patch("kms_encryption_algorithm_checked", module=KMS_RESPONSES)
def kms_encryption_algorithm_checked(patcher: Patcher) -> None:
    """EncryptionAlgorithm must suit the key: RSA keys need RSAES_OAEP_SHA_1 or _SHA_256.

    KMS API reference, Encrypt and Decrypt: EncryptionAlgorithm defaults to SYMMETRIC_DEFAULT,
    "the only supported algorithm that is valid for symmetric encryption KMS keys"; an RSA key
    refuses it with InvalidKeyUsageException ("Algorithm SYMMETRIC_DEFAULT is incompatible with
    key spec RSA_4096."). moto 5.2.5 ignores the parameter.
    """
    from moto.kms.responses import KmsResponse

    def checked(original: Any) -> Any:
        def handler(self: Any) -> Any:
            key = _requested_key(self)
            if key is not None and key.key_usage == kms_operations.ENCRYPT_DECRYPT:
                algorithm = self._get_param("EncryptionAlgorithm")
                kms_operations.require_encryption_algorithm(key, algorithm)
            return original(self)

        return handler

    for operation in ("encrypt", "decrypt"):
        patcher.replace(KmsResponse, operation, checked(getattr(KmsResponse, operation)))


@REGISTRY.patch("kms_sign_verify_message_types", module=KMS_RESPONSES)
def kms_sign_verify_message_types(patcher: Patcher) -> None:
    """Sign and Verify: RAW messages up to 4096 bytes, DIGEST is not hashed again.

    KMS API reference, Sign: "To sign a message of up to 4096 bytes, use RAW"; larger messages
    are hashed by the caller and sent as MessageType DIGEST, which KMS signs as given (a digest
    of the algorithm's hash length), so the signature verifies offline against the original
    message. Verify answers KMSInvalidSignatureException for a signature that does not verify.
    RSASSA-PSS uses a salt as long as the digest. moto 5.2.5 accepts RAW messages of any size,
    hashes a DIGEST again, and answers SignatureValid false.
    """
    from moto.kms.responses import KmsResponse

    original_sign = KmsResponse.sign
    original_verify = KmsResponse.verify

    def message_of(self: Any) -> bytes:
        message = self._get_param("Message")
        if not message:
            raise kms_operations.validation_error(
                "1 validation error detected: Value at 'message' failed to satisfy constraint: "
                "Member must have length greater than or equal to 1"
            )
        return message

    def sign(self: Any) -> Any:
        key = _requested_key(self)
        if key is None or key.key_usage != kms_operations.SIGN_VERIFY:
            return original_sign(self)
        algorithm = kms_operations.require_signing_algorithm(
            key, self._get_param("SigningAlgorithm")
        )
        message_type = self._get_param("MessageType")
        signature = kms_operations.sign(key, algorithm, message_of(self), message_type)
        return json.dumps(
            {"KeyId": key.arn, "Signature": _b64(signature), "SigningAlgorithm": algorithm}
        )

    def verify(self: Any) -> Any:
        key = _requested_key(self)
        if key is None or key.key_usage != kms_operations.SIGN_VERIFY:
            return original_verify(self)
        algorithm = kms_operations.require_signing_algorithm(
            key, self._get_param("SigningAlgorithm")
        )
        signature = base64.b64decode(self._get_param("Signature") or "")
        message_type = self._get_param("MessageType")
        kms_operations.verify(key, algorithm, message_of(self), signature, message_type)
        return json.dumps({"KeyId": key.arn, "SignatureValid": True, "SigningAlgorithm": algorithm})

    patcher.replace(KmsResponse, "sign", sign)
    patcher.replace(KmsResponse, "verify", verify)


@REGISTRY.patch("kms_key_usage_enforced", module=KMS_RESPONSES)
def kms_key_usage_enforced(patcher: Patcher) -> None:
    """A key is used only as its KeyUsage says: no Encrypt with a SIGN_VERIFY key, and so on.

    KMS developer guide, "Key usage": an asymmetric key is for encryption or for signing,
    never both; other operations answer InvalidKeyUsageException ("ARN key usage is SIGN_VERIFY
    which is not valid for Encrypt."). moto 5.2.5 encrypts with a SIGN_VERIFY key.
    """
    from moto.kms.responses import KmsResponse

    required = {
        "encrypt": ("Encrypt", kms_operations.ENCRYPT_DECRYPT),
        "decrypt": ("Decrypt", kms_operations.ENCRYPT_DECRYPT),
        "generate_data_key": ("GenerateDataKey", kms_operations.ENCRYPT_DECRYPT),
        "sign": ("Sign", kms_operations.SIGN_VERIFY),
        "verify": ("Verify", kms_operations.SIGN_VERIFY),
    }

    def enforced(original: Any, operation: str, usage: str) -> Any:
        def handler(self: Any) -> Any:
            key = _requested_key(self)
            if key is not None:
                kms_operations.require_usage(key, usage, operation)
            return original(self)

        return handler

    for method, (operation, usage) in required.items():
        original = getattr(KmsResponse, method)
        patcher.replace(KmsResponse, method, enforced(original, operation, usage))


@REGISTRY.patch("kms_get_public_key_metadata", module=KMS_RESPONSES)
def kms_get_public_key_metadata(patcher: Patcher) -> None:
    """GetPublicKey returns the key ARN, KeySpec, KeyUsage and the usage's algorithms.

    KMS API reference, GetPublicKey response: KeyId (the key ARN), PublicKey, KeySpec,
    CustomerMasterKeySpec (deprecated), KeyUsage, and EncryptionAlgorithms or
    SigningAlgorithms; a symmetric key has no public key (UnsupportedOperationException).
    moto 5.2.5 omits KeySpec, answers the bare key ID, and invents an RSA public key for
    symmetric keys.
    """
    from moto.kms.responses import KmsResponse

    def get_public_key(self: Any) -> str:
        key = _requested_key(self)
        if not kms_operations.is_asymmetric(key):
            raise JsonRESTError(
                "UnsupportedOperationException",
                f"{key.arn} key spec is {key.key_spec} which is not valid for GetPublicKey.",
            )
        key, public_key = self.kms_backend.get_public_key(key.id)
        return json.dumps(kms_operations.public_key_response(key, public_key))

    patcher.replace(KmsResponse, "get_public_key", get_public_key)


@REGISTRY.patch("kms_key_state_enforced", module=KMS_RESPONSES)
def kms_key_state_enforced(patcher: Patcher) -> None:
    """A disabled key, or one pending deletion, refuses cryptographic operations.

    KMS developer guide, "Key states of AWS KMS keys": cryptographic operations on a Disabled
    key answer DisabledException, and on a key pending deletion KMSInvalidStateException.
    moto 5.2.5 keeps encrypting, decrypting and signing with them.
    """
    from moto.kms.responses import KmsResponse

    errors = {
        "Disabled": ("DisabledException", messages.DISABLED.text),
        "PendingDeletion": ("KMSInvalidStateException", messages.PENDING_DELETION.text),
    }

    def enforced(original: Any) -> Any:
        def handler(self: Any) -> Any:
            key = _requested_key(self)
            if key is not None and key.key_state in errors:
                code, message = errors[key.key_state]
                raise JsonRESTError(code, message.format(arn=key.arn))
            return original(self)

        return handler

    for method in ("encrypt", "decrypt", "sign", "verify", "get_public_key", "generate_data_key"):
        patcher.replace(KmsResponse, method, enforced(getattr(KmsResponse, method)))


@REGISTRY.patch("kms_key_policy_safety_checks", module=KMS_MODELS)
def kms_key_policy_safety_checks(patcher: Patcher) -> None:
    """CreateKey, PutKeyPolicy and AWS::KMS::Key refuse a policy that would lock the caller out.

    KMS developer guide, "Default key policy" and KMS API, CreateKey/PutKeyPolicy: unless
    BypassPolicyLockoutSafetyCheck is true, the new policy must allow the caller to call
    PutKeyPolicy later, and the IAM principals it names must exist; otherwise
    MalformedPolicyDocumentException ("The new key policy will not allow you to update the key
    policy in the future."). CloudFormation applies it with the deploying credentials.
    moto 5.2.5 stores any policy, even one that no principal could ever change.
    """
    from moto.kms import models
    from moto.kms.responses import KmsResponse

    def check(policy: Any, caller: authorization.Caller, bypass: Any) -> None:
        if policy is None or bypass is True:
            return
        text = policy if isinstance(policy, str) else json.dumps(policy)
        problem = authorization.new_key_policy_problem(text, caller)
        if problem is not None:
            raise JsonRESTError("MalformedPolicyDocumentException", problem)

    def from_request(original: Any) -> Any:
        def handler(self: Any) -> Any:
            try:
                caller = _authenticate(self)
            except authorization.UnrecognizedCredentialsError as error:
                raise JsonRESTError(error.code, error.message) from None
            bypass = self._get_param("BypassPolicyLockoutSafetyCheck")
            check(self._get_param("Policy"), caller, bypass)
            return original(self)

        return handler

    def check_template(cloudformation_json: Any, account: str) -> None:
        # CloudFormation calls CreateKey/PutKeyPolicy as the stack's role or its caller.
        properties = cloudformation_json.get("Properties", {})
        identity = cloudformation_enforcement.current_identity(account)
        bypass = properties.get("BypassPolicyLockoutSafetyCheck") in (True, "true")
        try:
            check(properties.get("KeyPolicy"), identity, bypass)
        except JsonRESTError as error:  # the provider maps it to a terminal InvalidRequest
            raise cloudformation_enforcement.HandlerError(
                "InvalidRequest", f"{error.message} (Service: Kms, Status Code: 400)"
            ) from None

    original_create = models.Key.create_from_cloudformation_json
    original_update = models.Key.update_from_cloudformation_json

    def create_from_cloudformation_json(
        cls: type,
        resource_name: str,
        cloudformation_json: Any,
        account_id: str,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        check_template(cloudformation_json, account_id)
        return original_create(resource_name, cloudformation_json, account_id, *args, **kwargs)

    def update_from_cloudformation_json(cls: type, **kwargs: Any) -> Any:
        check_template(kwargs["cloudformation_json"], kwargs["account_id"])
        return original_update(**kwargs)

    for method in ("create_key", "put_key_policy"):
        patcher.replace(KmsResponse, method, from_request(getattr(KmsResponse, method)))
    patcher.replace(
        models.Key, "create_from_cloudformation_json", classmethod(create_from_cloudformation_json)
    )
    patcher.replace(
        models.Key, "update_from_cloudformation_json", classmethod(update_from_cloudformation_json)
    )


# -- authorization ------------------------------------------------------------------------------


@REGISTRY.patch("kms_key_policy_enforced", module=KMS_RESPONSES)
def kms_key_policy_enforced(patcher: Patcher) -> None:
    """Every KMS request is authorized against the key's policy for the calling principal.

    KMS developer guide, "Key policies": "Every KMS key must have exactly one key policy";
    it is the primary way to control access, and a role ARN in it covers that role's sessions.
    A refusal is AccessDeniedException (HTTP 400, JSON), naming principal, action and key.
    moto 5.2.5 only honours an explicit Deny of DescribeKey, and its IAM mode ignores key
    policies and answers KMS denials as XML.
    """
    from moto.kms.responses import KmsResponse

    original_call_action = KmsResponse.call_action

    def call_action(self: Any) -> Any:
        operation = self._get_action()
        try:
            params = json.loads(self.body) if self.body else {}
        except ValueError:
            return original_call_action(self)  # moto answers the malformed request
        if not isinstance(params, dict):
            return original_call_action(self)
        request = authorization.KmsRequest(operation, params)
        try:
            caller = _authenticate(self)
        except authorization.UnrecognizedCredentialsError as error:
            return _json_error(self, 400, error.code, error.message)
        alias_arn = authorization.alias_arn_of(request, self.current_account, self.region)
        if alias_arn is not None:
            denial = authorization.authorize_alias(caller, request.action, alias_arn)
            if denial is not None:
                authorization.log(f"denied: {denial.message}")
                return _json_error(self, 400, "AccessDeniedException", denial.message)
        ciphertext_key = None
        if operation in ("Decrypt", "ReEncrypt"):
            # A symmetric ciphertext names its key (moto's format: the key ID comes first).
            ciphertext_key = _key_id_in_symmetric_ciphertext(params.get("CiphertextBlob"))
            if ciphertext_key not in self.kms_backend.keys:
                ciphertext_key = None
        for check in authorization.key_checks(request, ciphertext_key=ciphertext_key):
            if check.key_ref is None and check.action in ("kms:Decrypt", "kms:ReEncryptFrom"):
                return original_call_action(self)  # moto answers the bad ciphertext
            if check.key_ref is None and check.key_required:
                return _json_error(self, 400, "ValidationException", _null_message(check.parameter))
            key = None
            if check.key_ref:
                key = _existing_key(self, check.key_ref)
                if key is None:
                    return _not_found(self, check.key_ref)
            try:
                denial = authorization.authorize_kms(request, caller, key, check)
            except keypolicy.PolicyError as error:
                authorization.log(f"cannot evaluate the key policy of {check.key_ref}: {error}")
                return _json_error(
                    self,
                    500,
                    "KMSInternalException",
                    messages.POLICY_NOT_EVALUATED.format(reason=str(error)),
                )
            if denial is not None:
                authorization.log(f"denied: {denial.message}")
                return _json_error(self, 400, "AccessDeniedException", denial.message)
        return original_call_action(self)

    patcher.replace(KmsResponse, "call_action", call_action)


@REGISTRY.patch("kms_validation_before_authorization", module=KMS_RESPONSES)
def kms_validation_before_authorization(patcher: Patcher) -> None:
    """Parameters are validated before authorization: a malformed request is a
    ValidationException whoever sends it.

    KMS API reference, each operation's Request Parameters (Length Constraints, Valid Values)
    and Common Errors: AWS authenticates, then validates the request, then authorizes; an
    unauthorized 5,000-byte RAW Sign answers "1 validation error detected: Value at 'message'
    failed to satisfy constraint: Member must have length less than or equal to 4096". The
    order is in local_endpoint.validation. moto 5.2.5 (with the key-policy patch) answers
    AccessDeniedException first, and accepts RAW messages of any size.
    """
    from moto.kms.responses import KmsResponse

    original_call_action = KmsResponse.call_action

    def call_action(self: Any) -> Any:
        try:
            params = json.loads(self.body) if self.body else {}
        except ValueError:
            return original_call_action(self)
        if not isinstance(params, dict):
            return original_call_action(self)
        try:
            _authenticate(self)
        except authorization.UnrecognizedCredentialsError as error:
            return _json_error(self, 400, error.code, error.message)
        problem = validation.validation_problem(self._get_action(), params)
        if problem is not None:
            return _json_error(self, 400, "ValidationException", problem)
        return original_call_action(self)

    patcher.replace(KmsResponse, "call_action", call_action)


def _null_message(parameter: str) -> str:
    """AWS's wording for a required parameter left out (``KeyId`` is called ``keyId``)."""
    name = parameter[0].lower() + parameter[1:]
    return (
        f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: "
        "Member must not be null"
    )


def _existing_key(response: Any, key_ref: str) -> Any | None:
    """moto's key for a key ID, key ARN, alias name or alias ARN; None if there is none."""
    try:
        return response.kms_backend.describe_key(key_ref)
    except (KeyError, AttributeError, JsonRESTError):  # moto: KeyError, or None for an alias
        return None


def _not_found(response: Any, key_ref: str) -> tuple[int, dict, str]:
    """NotFoundException worded as AWS KMS words it for a key or an alias."""
    account, region = response.current_account, response.region
    if key_ref.startswith("alias/") or ":alias/" in key_ref:
        name = "alias/" + key_ref.split("alias/", 1)[1]
        return _json_error(
            response,
            400,
            "NotFoundException",
            messages.NOT_FOUND_ALIAS.format(
                arn=f"arn:{authorization.PARTITION}:kms:{region}:{account}:{name}"
            ),
        )
    key_arn = key_ref
    if not key_ref.startswith("arn:"):
        key_arn = f"arn:{authorization.PARTITION}:kms:{region}:{account}:key/{key_ref}"
    return _json_error(
        response, 400, "NotFoundException", messages.NOT_FOUND_KEY.format(arn=key_arn)
    )


def _authenticate(response: Any) -> Any:
    """The caller behind the request's credentials (raises UnrecognizedCredentialsError)."""
    return authorization.identify(
        response.get_access_key(),
        response.current_account,
        session_token=response.headers.get("X-Amz-Security-Token"),
    )


def _key_id_in_symmetric_ciphertext(blob: str | None) -> str | None:
    """The key ID a base64 symmetric ciphertext (as in a request body) names, if any."""
    try:
        return _key_id_in_ciphertext(base64.b64decode(blob or ""))
    except (ValueError, TypeError):
        return None


def _key_id_in_ciphertext(blob: bytes) -> str | None:
    """The key ID moto's symmetric ciphertext format puts first; None for other bytes."""
    from moto.kms.utils import _deserialize_ciphertext_blob

    try:
        return _deserialize_ciphertext_blob(blob).key_id
    except (ValueError, TypeError, UnicodeDecodeError, struct.error):
        return None


def _json_error(response: Any, status: int, code: str, message: str) -> tuple[int, dict, str]:
    """An AWS JSON-protocol error: {"__type": code, "message": ...} with x-amzn-ErrorType."""
    headers = dict(response.response_headers)
    headers.update({"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})
    return status, headers, json.dumps({"__type": code, "message": message})


@REGISTRY.patch("sts_caller_identity_is_iam_user", module=STS_MODELS)
def sts_caller_identity_is_iam_user(patcher: Patcher) -> None:
    """GetCallerIdentity for the deploying credentials answers an IAM user ARN.

    STS API reference, GetCallerIdentity: an IAM user's Arn is arn:aws:iam::ACCOUNT:user/NAME
    and its UserId starts with AIDA. moto 5.2.5 answers arn:aws:sts::ACCOUNT:user/moto (not an
    ARN AWS issues) with an access key as UserId for keys it did not issue. Here those keys are
    the administrator, arn:aws:iam::123456789012:user/local-admin, in every message.
    """
    from moto.sts import models

    original = models.STSBackend.get_caller_identity

    def get_caller_identity(self: Any, access_key_id: str, region: str) -> tuple[str, str, str]:
        user_id, arn, account = original(self, access_key_id, region)
        if arn == f"arn:aws:sts::{self.account_id}:user/moto":
            return ADMINISTRATOR_USER_ID, authorization.administrator_arn(account), account
        return user_id, arn, account

    patcher.replace(models.STSBackend, "get_caller_identity", get_caller_identity)


ADMINISTRATOR_USER_ID = "AIDAEXAMPLELOCALADMIN"


@REGISTRY.patch("sts_trust_policy_enforced", module=STS_RESPONSES)
def sts_trust_policy_enforced(patcher: Patcher) -> None:
    """AssumeRole honours the role's trust policy, sts:ExternalId conditions included.

    IAM User Guide, "Role trust policies" and STS API reference, AssumeRole: the role must
    exist and its trust policy must allow the caller (an account principal delegates to the
    caller's IAM policies); otherwise AccessDenied, "User: ARN is not authorized to perform:
    sts:AssumeRole on resource: ROLE_ARN". moto 5.2.5 issues credentials for any role ARN, even
    one that does not exist.
    """
    from moto.sts.responses import TokenResponse

    from local_endpoint import trust_policy

    original = TokenResponse.assume_role

    def assume_role(self: Any) -> Any:
        role_arn = self._get_param("RoleArn")
        caller = _authenticate(self)
        role = authorization.find_role(caller.account, role_arn or "")
        try:
            denial = authorization.authorize_assume_role(
                caller,
                role,
                role_arn,
                self._get_param("ExternalId"),
                self._get_param("RoleSessionName"),
            )
        except trust_policy.TrustPolicyError as error:
            authorization.log(f"cannot evaluate the trust policy of {role_arn}: {error}")
            return _query_error(
                403, "AccessDenied", messages.TRUST_NOT_UNDERSTOOD.format(reason=str(error))
            )
        if denial is not None:
            authorization.log(f"denied: {denial.message}")
            return _query_error(403, "AccessDenied", denial.message)
        return original(self)

    patcher.replace(TokenResponse, "assume_role", assume_role)


@REGISTRY.patch("iam_trust_policy_principals_exist", module=IAM_MODELS)
def iam_trust_policy_principals_exist(patcher: Patcher) -> None:
    """CreateRole and UpdateAssumeRolePolicy refuse a trust policy naming a missing principal.

    IAM API reference, CreateRole and UpdateAssumeRolePolicy (MalformedPolicyDocument): a
    trust policy's Principal must name principals that exist, path included; otherwise
    'Invalid principal in policy: "AWS":"ARN"' (HTTP 400). The check is
    local_endpoint.principals.missing_principals, the one the key policies use. moto 5.2.5
    stores any principal.
    """
    from moto.iam import models
    from moto.iam.exceptions import MalformedPolicyDocument

    from local_endpoint import principals

    def checked(document: Any, account: str) -> None:
        try:
            parsed = json.loads(document) if isinstance(document, str) else document
        except ValueError:
            return  # moto's own validator answers a malformed document
        missing = principals.missing_principals(parsed, account)
        if missing:
            raise MalformedPolicyDocument(principals.invalid_principal_message(missing))

    original_create = models.IAMBackend.create_role
    original_update = models.IAMBackend.update_assume_role_policy

    def create_role(self: Any, role_name: str, assume_role_policy_document: str, *a: Any, **k: Any):  # type: ignore[no-untyped-def]
        checked(assume_role_policy_document, self.account_id)
        return original_create(self, role_name, assume_role_policy_document, *a, **k)

    def update_assume_role_policy(self: Any, role_name: str, policy_document: str) -> None:
        checked(policy_document, self.account_id)
        original_update(self, role_name, policy_document)

    patcher.replace(models.IAMBackend, "create_role", create_role)
    patcher.replace(models.IAMBackend, "update_assume_role_policy", update_assume_role_policy)


# STS's codes for credentials it does not recognize (STS API reference, "Common Errors").
_STS_CREDENTIAL_ERRORS = {
    "UnrecognizedClientException": (403, "InvalidClientTokenId"),
    "ExpiredTokenException": (400, "ExpiredToken"),
}


@REGISTRY.patch("sts_credentials_recognized", module=STS_RESPONSES)
def sts_credentials_recognized(patcher: Patcher) -> None:
    """GetCallerIdentity and AssumeRole refuse credentials that STS never issued.

    STS API reference, "Common Errors": an unknown access key, or a session key without its
    session token, answers InvalidClientTokenId (HTTP 403, "The security token included in the
    request is invalid."); an expired session answers ExpiredToken. moto 5.2.5 answers any
    access key, calling it arn:aws:sts::ACCOUNT:user/moto, and issues role sessions to it.
    """
    from moto.sts.responses import TokenResponse

    def authenticated(original: Any) -> Any:
        def handler(self: Any) -> Any:
            try:
                _authenticate(self)
            except authorization.UnrecognizedCredentialsError as error:
                status, code = _STS_CREDENTIAL_ERRORS[error.code]
                return _query_error(status, code, error.message)
            return original(self)

        return handler

    for method in ("get_caller_identity", "assume_role"):
        patcher.replace(TokenResponse, method, authenticated(getattr(TokenResponse, method)))


def _query_error(status: int, code: str, message: str) -> tuple[str, dict[str, Any]]:
    """An AWS query-protocol (XML) error, as STS sends it."""
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{xml_escape(message)}</Message>"
        "</Error><RequestId>local-endpoint</RequestId></ErrorResponse>"
    )
    return body, {"status": status, "Content-Type": "text/xml"}


# -- EventBridge ----------------------------------------------------------------------------------

EVENTS_RESPONSES = "moto.events.responses"


@REGISTRY.patch("events_test_event_pattern", module=EVENTS_RESPONSES)
def events_test_event_pattern(patcher: Patcher) -> None:
    """TestEventPattern answers whether the event matches, as EventBridge matches patterns.

    EventBridge API reference, TestEventPattern: {"Result": true|false}; a bad pattern is
    InvalidEventPatternException, an event without id, account, source, time, region,
    resources and detail-type is ValidationException. moto 5.2.5 answers an empty body, and its
    own matcher does not see fields of objects inside arrays (a CloudTrail event's
    detail.resources.ARN). The matcher is local_endpoint.event_patterns.
    """
    from moto.events.responses import EventsHandler

    from local_endpoint import event_patterns

    def test_event_pattern(self: Any) -> Any:
        try:
            result = event_patterns.test_event_pattern(
                self._get_param("EventPattern") or "", self._get_param("Event") or ""
            )
        except event_patterns.PatternError as error:
            raise JsonRESTError("InvalidEventPatternException", str(error)) from None
        except ValueError as error:
            raise JsonRESTError("ValidationException", str(error)) from None
        return json.dumps({"Result": result})

    patcher.replace(EventsHandler, "test_event_pattern", test_event_pattern)
