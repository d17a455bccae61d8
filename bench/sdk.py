"""The baseline: AWS Encryption SDK 4.0.7 streaming with the KMS RSA keyring.

Encryption wraps with the recipient's public key (no KMS call, like the envelope's public-key
wrapper). Decryption calls KMS Decrypt once; a real boto3 KMS client answers it locally from
the RSA private key through a botocore ``before-call`` hook, because moto does not implement
RSA-OAEP. Algorithm suite: AES-256-GCM with key commitment and no signature (the RSA keyring
refuses signing suites), 64 KiB frames, the same chunk size as the envelope.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import boto3
from botocore.awsrequest import AWSResponse
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from bench.keys import RECIPIENT_KEY_ARN

FRAME = 64 * 1024
READ = 1 << 20


def _rsa_private(keys: str):
    return serialization.load_pem_private_key(json.loads(keys)["rsa"].encode(), password=None)


def _local_kms_client(keys: str):
    """A boto3 KMS client whose Decrypt is answered locally (never leaves the process)."""
    private = _rsa_private(keys)
    client = boto3.client(
        "kms",
        region_name="us-east-1",
        aws_access_key_id="AKIAIOSFODNN7EXAMPLE",
        aws_secret_access_key="bench-not-a-secret",
    )

    def answer_decrypt(params, **_):
        body = json.loads(params["body"])
        blob = base64.b64decode(body["CiphertextBlob"])
        oaep = padding.OAEP(
            mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None
        )
        plaintext = private.decrypt(blob, oaep)
        http = AWSResponse("https://kms.local", 200, {}, None)
        parsed = {
            "KeyId": body["KeyId"],
            "Plaintext": plaintext,
            "EncryptionAlgorithm": body["EncryptionAlgorithm"],
            "ResponseMetadata": {"HTTPStatusCode": 200},
        }
        return http, parsed

    def refuse(**_):
        raise RuntimeError("the benchmark answers only KMS Decrypt locally")

    client.meta.events.register("before-call.kms.Decrypt", answer_decrypt)
    client.meta.events.register("before-send.kms", refuse)
    return client


def _keyring(keys: str, *, with_client: bool):
    from aws_cryptographic_material_providers.mpl import AwsCryptographicMaterialProviders
    from aws_cryptographic_material_providers.mpl.config import MaterialProvidersConfig
    from aws_cryptographic_material_providers.mpl.models import CreateAwsKmsRsaKeyringInput

    mpl = AwsCryptographicMaterialProviders(config=MaterialProvidersConfig())
    public_pem = (
        _rsa_private(keys)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return mpl.create_aws_kms_rsa_keyring(
        input=CreateAwsKmsRsaKeyringInput(
            public_key=public_pem,
            kms_key_id=RECIPIENT_KEY_ARN,
            encryption_algorithm="RSAES_OAEP_SHA_256",
            kms_client=_local_kms_client(keys) if with_client else None,
        )
    )


def _client():
    import aws_encryption_sdk
    from aws_encryption_sdk.identifiers import CommitmentPolicy

    return aws_encryption_sdk.EncryptionSDKClient(
        commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
    )


def sdk_encryptor(keys: str, source: Path, destination: Path) -> Callable[[], None]:
    """The keyring built (untimed); the returned call streams ``source`` to ``destination``."""
    from aws_encryption_sdk.identifiers import AlgorithmSuite

    keyring = _keyring(keys, with_client=False)
    client = _client()

    def run() -> None:
        with (
            open(source, "rb") as plain,
            open(destination, "wb") as out,
            client.stream(
                mode="e",
                source=plain,
                keyring=keyring,
                algorithm=AlgorithmSuite.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
                frame_length=FRAME,
            ) as encryptor,
        ):
            while chunk := encryptor.read(READ):
                out.write(chunk)

    return run


def sdk_decryptor(keys: str, source: Path, destination: Path) -> Callable[[], None]:
    """The keyring and its local KMS client built (untimed); the call decrypts ``source``."""
    keyring = _keyring(keys, with_client=True)
    client = _client()

    def run() -> None:
        with (
            open(source, "rb") as sealed,
            open(destination, "wb") as out,
            client.stream(mode="d", source=sealed, keyring=keyring) as decryptor,
        ):
            while chunk := decryptor.read(READ):
                out.write(chunk)

    return run
