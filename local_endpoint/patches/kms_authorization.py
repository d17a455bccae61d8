"""KMS authorization: credentials, then validation, then the key policy (the flow itself is
`local_endpoint.authorization.authorize_request`); this module only wires it into moto."""

from __future__ import annotations

from typing import Any

from local_endpoint import (
    authorization,
    validation,
)
from local_endpoint.patches import wire
from local_endpoint.patches.registry import (
    KMS_RESPONSES,
    REGISTRY,
)
from local_endpoint.patching import Patcher


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
        params = wire.json_params(self)
        if params is None:
            return original_call_action(self)  # moto answers the malformed request
        request = authorization.KmsRequest(operation, params)
        try:
            caller = wire.authenticate(self)
        except authorization.UnrecognizedCredentialsError as error:
            return wire.json_error(self, 400, error.code, error.message)
        ciphertext_key = None
        if operation in ("Decrypt", "ReEncrypt"):
            # A symmetric ciphertext names its key (moto's format: the key ID comes first).
            ciphertext_key = wire.key_id_in_symmetric_ciphertext(params.get("CiphertextBlob"))
            if ciphertext_key not in self.kms_backend.keys:
                ciphertext_key = None
        refusal = authorization.authorize_request(
            request,
            caller,
            account=self.current_account,
            region=self.region,
            find_key=lambda key_ref: wire.existing_key(self, key_ref),
            ciphertext_key=ciphertext_key,
        )
        if refusal is not None:
            return wire.json_error(self, refusal.status, refusal.code, refusal.message)
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
        params = wire.json_params(self)
        if params is None:
            return original_call_action(self)
        try:
            wire.authenticate(self)
        except authorization.UnrecognizedCredentialsError as error:
            return wire.json_error(self, 400, error.code, error.message)
        problem = validation.validation_problem(self._get_action(), params)
        if problem is not None:
            return wire.json_error(self, 400, "ValidationException", problem)
        return original_call_action(self)

    patcher.replace(KmsResponse, "call_action", call_action)
