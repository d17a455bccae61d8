"""The deployed app's key policies and trust policies, enforced by the endpoint as AWS does.

Each denial here is a least-privilege property of the stack; the fidelity tests show that
the same checks pass without enforcement (so these tests would catch a missing enforcement).
"""

from __future__ import annotations

import base64

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

OAEP_256 = "RSAES_OAEP_SHA_256"
ECDSA = "ECDSA_SHA_512"


def assume(deployed_stack, role_output: str, session: str = "tests") -> dict[str, str]:
    """A session of the role, assumed by its party's workload (the only one its trust admits)."""
    return deployed_stack.party_credentials(role_output, session)


@pytest.fixture(scope="module")
def sender(deployed_stack):
    return deployed_stack.endpoint.client("kms", **assume(deployed_stack, "SenderRoleArn"))


@pytest.fixture(scope="module")
def receiver(deployed_stack):
    return deployed_stack.endpoint.client("kms", **assume(deployed_stack, "ReceiverRoleArn"))


@pytest.fixture(scope="module")
def admin(deployed_stack):
    return deployed_stack.endpoint.client("kms")


@pytest.fixture(scope="module")
def keys(deployed_stack) -> tuple[str, str]:
    return deployed_stack.outputs["EncryptionKeyArn"], deployed_stack.outputs["SigningKeyArn"]


def denial(call) -> ClientError:
    with pytest.raises(ClientError) as caught:
        call()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    return caught.value


def test_sender_and_receiver_can_do_their_jobs(sender, receiver, keys) -> None:
    encryption_key, signing_key = keys
    signature = sender.sign(KeyId=signing_key, Message=b"m", SigningAlgorithm=ECDSA)["Signature"]
    ciphertext = sender.encrypt(KeyId=encryption_key, Plaintext=b"m", EncryptionAlgorithm=OAEP_256)
    plaintext = receiver.decrypt(
        KeyId=encryption_key,
        CiphertextBlob=ciphertext["CiphertextBlob"],
        EncryptionAlgorithm=OAEP_256,
    )["Plaintext"]
    assert plaintext == b"m"
    verified = receiver.verify(
        KeyId=signing_key, Message=b"m", Signature=signature, SigningAlgorithm=ECDSA
    )
    assert verified["SignatureValid"] is True


def test_sender_cannot_decrypt_and_the_message_names_principal_action_and_key(sender, keys) -> None:
    encryption_key, _ = keys
    ciphertext = sender.encrypt(KeyId=encryption_key, Plaintext=b"m", EncryptionAlgorithm=OAEP_256)
    error = denial(
        lambda: sender.decrypt(
            KeyId=encryption_key,
            CiphertextBlob=ciphertext["CiphertextBlob"],
            EncryptionAlgorithm=OAEP_256,
        )
    )
    assert error.response["Error"]["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/SenderRole/tests is not authorized to "
        f"perform: kms:Decrypt on resource: {encryption_key} because no resource-based policy "
        "allows the kms:Decrypt action"
    )


def test_encrypt_with_oaep_sha_1_is_denied_by_the_condition(sender, keys) -> None:
    encryption_key, _ = keys
    denial(
        lambda: sender.encrypt(
            KeyId=encryption_key, Plaintext=b"m", EncryptionAlgorithm="RSAES_OAEP_SHA_1"
        )
    )


def test_sender_cannot_verify(sender, keys) -> None:
    _, signing_key = keys
    signature = sender.sign(KeyId=signing_key, Message=b"m", SigningAlgorithm=ECDSA)["Signature"]
    denial(
        lambda: sender.verify(
            KeyId=signing_key, Message=b"m", Signature=signature, SigningAlgorithm=ECDSA
        )
    )


def test_receiver_cannot_encrypt_or_sign(receiver, keys) -> None:
    encryption_key, signing_key = keys
    denial(
        lambda: receiver.encrypt(KeyId=encryption_key, Plaintext=b"m", EncryptionAlgorithm=OAEP_256)
    )
    denial(lambda: receiver.sign(KeyId=signing_key, Message=b"m", SigningAlgorithm=ECDSA))


def test_administrator_cannot_decrypt_or_sign_but_can_administer(admin, sender, keys) -> None:
    encryption_key, signing_key = keys
    ciphertext = sender.encrypt(KeyId=encryption_key, Plaintext=b"m", EncryptionAlgorithm=OAEP_256)
    error = denial(
        lambda: admin.decrypt(
            KeyId=encryption_key,
            CiphertextBlob=ciphertext["CiphertextBlob"],
            EncryptionAlgorithm=OAEP_256,
        )
    )
    assert "User: arn:aws:iam::123456789012:user/local-admin " in str(error)
    denial(lambda: admin.sign(KeyId=signing_key, Message=b"m", SigningAlgorithm=ECDSA))
    assert admin.describe_key(KeyId=encryption_key)["KeyMetadata"]["KeySpec"] == "RSA_4096"
    assert admin.get_key_policy(KeyId=signing_key)["Policy"]


def test_roles_cannot_create_keys(sender) -> None:
    error = denial(lambda: sender.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY"))
    assert "because no identity-based policy allows the kms:CreateKey action" in str(error)


def test_offline_ciphertext_from_the_published_public_key_decrypts(sender, receiver, keys) -> None:
    encryption_key, _ = keys
    der = sender.get_public_key(KeyId=encryption_key)["PublicKey"]
    public_key = serialization.load_der_public_key(der)
    oaep = padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=None)
    ciphertext = public_key.encrypt(b"from a partner without AWS", oaep)
    plaintext = receiver.decrypt(
        KeyId=encryption_key, CiphertextBlob=ciphertext, EncryptionAlgorithm=OAEP_256
    )["Plaintext"]
    assert plaintext == b"from a partner without AWS"
    assert base64.b64encode(der)  # what `aws kms get-public-key --output text` prints


def test_a_role_session_cannot_assume_the_other_role(deployed_stack) -> None:
    sts = deployed_stack.endpoint.client("sts", **assume(deployed_stack, "SenderRoleArn"))
    receiver_role = deployed_stack.outputs["ReceiverRoleArn"]
    with pytest.raises(ClientError) as caught:
        sts.assume_role(RoleArn=receiver_role, RoleSessionName="hop")
    assert caught.value.response["Error"]["Code"] == "AccessDenied"
    assert caught.value.response["Error"]["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/SenderRole/tests is not authorized to "
        f"perform: sts:AssumeRole on resource: {receiver_role}"
    )


def spellings(deployed_stack, key_output: str, alias_output: str) -> list[str]:
    """A key as the caller may name it: key ARN, key ID, alias name, alias ARN."""
    arn, alias = deployed_stack.outputs[key_output], deployed_stack.outputs[alias_output]
    prefix = arn.split(":key/")[0]
    return [arn, arn.split("/")[-1], alias, f"{prefix}:{alias}"]


def test_every_way_of_naming_a_key_is_judged_on_that_key(deployed_stack, sender) -> None:
    signing = spellings(deployed_stack, "SigningKeyArn", "SigningKeyAlias")
    encryption = spellings(deployed_stack, "EncryptionKeyArn", "EncryptionKeyAlias")
    for name in signing:
        answer = sender.sign(KeyId=name, Message=b"m", SigningAlgorithm=ECDSA)
        assert answer["KeyId"] == signing[0]
    ciphertext = sender.encrypt(KeyId=encryption[0], Plaintext=b"m", EncryptionAlgorithm=OAEP_256)
    for name in encryption:
        error = denial(
            lambda n=name: sender.decrypt(
                KeyId=n, CiphertextBlob=ciphertext["CiphertextBlob"], EncryptionAlgorithm=OAEP_256
            )
        )
        assert f"kms:Decrypt on resource: {encryption[0]} because" in str(error)
