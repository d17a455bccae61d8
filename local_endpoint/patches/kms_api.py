"""KMS API fidelity: algorithms, message types, key usage, key state, key-policy safety checks."""

from __future__ import annotations

import base64
import json
from typing import Any

from moto.core.exceptions import JsonRESTError

from local_endpoint import (
    authorization,
    cloudformation_enforcement,
    kms_operations,
    messages,
)
from local_endpoint.patches import wire
from local_endpoint.patches.registry import (
    KMS_MODELS,
    KMS_RESPONSES,
    REGISTRY,
)
from local_endpoint.patching import Patcher


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
        key = wire.requested_key(self)
        algorithm = self._get_param("EncryptionAlgorithm")
        if key is None or not kms_operations.is_rsa(key) or algorithm not in OAEP:
            return original_encrypt(self)
        ciphertext = kms_operations.rsa_encrypt(key, algorithm, self._get_param("Plaintext"))
        return json.dumps(
            {
                "CiphertextBlob": wire.b64(ciphertext),
                "KeyId": key.arn,
                "EncryptionAlgorithm": algorithm,
            }
        )

    def decrypt(self: Any) -> str:
        key = wire.requested_key(self)
        algorithm = self._get_param("EncryptionAlgorithm")
        if key is None or not kms_operations.is_rsa(key) or algorithm not in OAEP:
            return original_decrypt(self)
        plaintext = kms_operations.rsa_decrypt(key, algorithm, self._get_param("CiphertextBlob"))
        return json.dumps(
            {"Plaintext": wire.b64(plaintext), "KeyId": key.arn, "EncryptionAlgorithm": algorithm}
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
            key = wire.requested_key(self, parameter)
            named = wire.key_id_in_ciphertext(self._get_param("CiphertextBlob") or b"")
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
            key = wire.requested_key(self)
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
        key = wire.requested_key(self)
        if key is None or key.key_usage != kms_operations.SIGN_VERIFY:
            return original_sign(self)
        algorithm = kms_operations.require_signing_algorithm(
            key, self._get_param("SigningAlgorithm")
        )
        message_type = self._get_param("MessageType")
        signature = kms_operations.sign(key, algorithm, message_of(self), message_type)
        return json.dumps(
            {"KeyId": key.arn, "Signature": wire.b64(signature), "SigningAlgorithm": algorithm}
        )

    def verify(self: Any) -> Any:
        key = wire.requested_key(self)
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
            key = wire.requested_key(self)
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
        key = wire.requested_key(self)
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
            key = wire.requested_key(self)
            if key is not None and key.key_state in errors:
                code, message = errors[key.key_state]
                raise JsonRESTError(code, message.format(arn=key.arn))
            return original(self)

        return handler

    for method in ("encrypt", "decrypt", "sign", "verify", "get_public_key", "generate_data_key"):
        patcher.replace(KmsResponse, method, enforced(getattr(KmsResponse, method)))


@REGISTRY.patch("kms_key_state_calls_take_key_arns", module=KMS_MODELS)
def kms_key_state_calls_take_key_arns(patcher: Patcher) -> None:
    """DisableKey, EnableKey, ScheduleKeyDeletion and CancelKeyDeletion take a key ARN too.

    KMS API reference, each of these operations: "KeyId ... Specify the key ID or key ARN of
    the KMS key." moto 5.2.5 looks the KeyId up as a bare key id, so a key ARN answers HTTP 500
    (KeyError in the backend): disabling a retired key generation by its ARN, as the rotation
    runbook does, fails.
    """
    from moto.kms.models import KmsBackend

    def by_key_id(original: Any) -> Any:
        def method(self: Any, key_id: str, *args: Any, **kwargs: Any) -> Any:
            return original(self, self.get_key_id(key_id), *args, **kwargs)

        return method

    for name in ("disable_key", "enable_key", "schedule_key_deletion", "cancel_key_deletion"):
        patcher.replace(KmsBackend, name, by_key_id(getattr(KmsBackend, name)))


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

    def check(policy: Any, caller: authorization.AuthenticatedCaller, bypass: Any) -> None:
        if policy is None or bypass is True:
            return
        text = policy if isinstance(policy, str) else json.dumps(policy)
        problem = authorization.new_key_policy_problem(text, caller)
        if problem is not None:
            raise JsonRESTError("MalformedPolicyDocumentException", problem)

    def from_request(original: Any) -> Any:
        def handler(self: Any) -> Any:
            try:
                caller = wire.authenticate(self)
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

    # The same signature as cloudformation.py's wrapper of this classmethod (both mirror moto's):
    # each patch wraps it for its own reason, so that either can be left out alone.
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
