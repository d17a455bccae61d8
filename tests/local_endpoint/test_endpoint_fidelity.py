"""Each fidelity patch pins one documented AWS behaviour, and its check fails without it.

Every check below asserts what AWS does (the patch docstrings cite the AWS reference). The
table ``PINS`` names the patch that makes each check pass on moto 5.2.5; the second test runs
the check with that patch left out and expects it to fail, so a patch that stops mattering
(moto fixed upstream) or a check that stops testing anything shows up here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding

from local_endpoint.patches import REGISTRY
from tests.local_endpoint import accounts_pins, cloudformation_pins, validation_order_pins
from tests.local_endpoint.patched_moto import ROOT, Moto, holds, patched_moto, trust_account_root

RSA_ENCRYPT = ("RSA_2048", "ENCRYPT_DECRYPT")
ECC_SIGN = ("ECC_NIST_P521", "SIGN_VERIFY")


def error_code(call: Callable[[], object]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    return caught.value.response["Error"]["Code"]


def oaep(hash_type: type[hashes.HashAlgorithm]) -> padding.OAEP:
    return padding.OAEP(mgf=padding.MGF1(hash_type()), algorithm=hash_type(), label=None)


# -- KMS ---------------------------------------------------------------------------------------


def offline_ciphertext_decrypts(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key(*RSA_ENCRYPT)
    der = kms.get_public_key(KeyId=key)["PublicKey"]
    public_key = serialization.load_der_public_key(der)
    for algorithm, hash_type in (
        ("RSAES_OAEP_SHA_256", hashes.SHA256),
        ("RSAES_OAEP_SHA_1", hashes.SHA1),
    ):
        ciphertext = public_key.encrypt(b"made offline", oaep(hash_type))
        answer = kms.decrypt(KeyId=key, CiphertextBlob=ciphertext, EncryptionAlgorithm=algorithm)
        assert answer["Plaintext"] == b"made offline"
        assert answer["EncryptionAlgorithm"] == algorithm
        online = kms.encrypt(KeyId=key, Plaintext=b"x", EncryptionAlgorithm=algorithm)
        assert len(online["CiphertextBlob"]) == 256  # the modulus length
        wrong = "RSAES_OAEP_SHA_1" if algorithm.endswith("256") else "RSAES_OAEP_SHA_256"
        assert (
            error_code(
                lambda c=ciphertext, w=wrong: kms.decrypt(
                    KeyId=key, CiphertextBlob=c, EncryptionAlgorithm=w
                )
            )
            == "InvalidCiphertextException"
        )


def rsa_4096_plaintext_limits(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key("RSA_4096", "ENCRYPT_DECRYPT")
    for algorithm, limit in (("RSAES_OAEP_SHA_256", 446), ("RSAES_OAEP_SHA_1", 470)):
        at_limit = kms.encrypt(KeyId=key, Plaintext=b"a" * limit, EncryptionAlgorithm=algorithm)
        assert len(at_limit["CiphertextBlob"]) == 512
        over = lambda a=algorithm, n=limit: kms.encrypt(  # noqa: E731
            KeyId=key, Plaintext=b"a" * (n + 1), EncryptionAlgorithm=a
        )
        assert error_code(over) == "ValidationException"


def rsa_needs_an_encryption_algorithm(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key(*RSA_ENCRYPT)
    with pytest.raises(ClientError) as caught:
        kms.encrypt(KeyId=key, Plaintext=b"x")
    assert caught.value.response["Error"]["Code"] == "InvalidKeyUsageException"
    assert "SYMMETRIC_DEFAULT is incompatible with key spec RSA_2048" in str(caught.value)


def key_usage_is_enforced(moto: Moto) -> None:
    kms = moto.client("kms")
    signing = moto.create_key(*ECC_SIGN)
    encryption = moto.create_key(*RSA_ENCRYPT)
    assert (
        error_code(
            lambda: kms.encrypt(
                KeyId=signing, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256"
            )
        )
        == "InvalidKeyUsageException"
    )
    assert (
        error_code(
            lambda: kms.sign(KeyId=encryption, Message=b"x", SigningAlgorithm="RSASSA_PSS_SHA_256")
        )
        == "InvalidKeyUsageException"
    )


def raw_sign_is_limited_to_4096_bytes(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key(*ECC_SIGN)
    kms.sign(KeyId=key, Message=b"m" * 4096, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_512")
    assert (
        error_code(
            lambda: kms.sign(
                KeyId=key, Message=b"m" * 4097, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_512"
            )
        )
        == "ValidationException"
    )


def digest_signature_verifies_offline(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key(*ECC_SIGN)
    message = b"a message larger than we would send" * 200
    signature = kms.sign(
        KeyId=key,
        Message=hashlib.sha512(message).digest(),
        MessageType="DIGEST",
        SigningAlgorithm="ECDSA_SHA_512",
    )["Signature"]
    public_key = serialization.load_der_public_key(kms.get_public_key(KeyId=key)["PublicKey"])
    public_key.verify(signature, message, ec.ECDSA(hashes.SHA512()))  # raises if not
    assert (
        error_code(
            lambda: kms.sign(
                KeyId=key,
                Message=b"\0" * 32,
                MessageType="DIGEST",
                SigningAlgorithm="ECDSA_SHA_512",
            )
        )
        == "ValidationException"
    )


def invalid_signature_is_an_error(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key(*ECC_SIGN)
    signature = kms.sign(KeyId=key, Message=b"signed", SigningAlgorithm="ECDSA_SHA_512")[
        "Signature"
    ]
    valid = kms.verify(
        KeyId=key, Message=b"signed", Signature=signature, SigningAlgorithm="ECDSA_SHA_512"
    )
    assert valid["SignatureValid"] is True
    assert (
        error_code(
            lambda: kms.verify(
                KeyId=key, Message=b"changed", Signature=signature, SigningAlgorithm="ECDSA_SHA_512"
            )
        )
        == "KMSInvalidSignatureException"
    )


def get_public_key_has_key_spec(moto: Moto) -> None:
    key = moto.create_key(*ECC_SIGN)
    answer = moto.client("kms").get_public_key(KeyId=key)
    assert answer["KeySpec"] == "ECC_NIST_P521"
    assert answer["KeyUsage"] == "SIGN_VERIFY"
    assert answer["KeyId"] == key
    assert answer["SigningAlgorithms"] == ["ECDSA_SHA_512"]
    assert "EncryptionAlgorithms" not in answer
    symmetric = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    kms = moto.client("kms")
    assert error_code(lambda: kms.get_public_key(KeyId=symmetric)) == (
        "UnsupportedOperationException"
    )


def key_policy_name_is_optional(moto: Moto) -> None:
    key = moto.create_key(*ECC_SIGN)
    policy = json.loads(moto.client("kms").get_key_policy(KeyId=key)["Policy"])
    assert policy["Statement"]


def key_policy_safety_checks(moto: Moto) -> None:
    kms = moto.client("kms")
    role = moto.create_role("User", trust_account_root())
    use_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": "kms:DescribeKey",
                "Resource": "*",
            },
            {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:Sign", "Resource": "*"},
        ],
    }
    with pytest.raises(ClientError) as caught:
        kms.create_key(KeySpec="ECC_NIST_P256", KeyUsage="SIGN_VERIFY", Policy=json.dumps(use_only))
    assert caught.value.response["Error"]["Code"] == "MalformedPolicyDocumentException"
    assert "will not allow you to update the key policy in the future" in str(caught.value)
    moto.create_key("ECC_NIST_P256", "SIGN_VERIFY", policy=use_only)  # with the bypass: allowed
    ghost = json.loads(json.dumps(KEY_POLICY))
    ghost["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:role/Ghost"},
            "Action": "kms:Sign",
            "Resource": "*",
        }
    )
    admin_key = moto.create_key("ECC_NIST_P256", "SIGN_VERIFY")
    assert (
        error_code(lambda: kms.put_key_policy(KeyId=admin_key, Policy=json.dumps(ghost)))
        == "MalformedPolicyDocumentException"
    )
    kms.put_key_policy(KeyId=admin_key, Policy=json.dumps(KEY_POLICY))


def disabled_and_deleted_keys_refuse_to_work(moto: Moto) -> None:
    kms = moto.client("kms")
    key = moto.create_key(*ECC_SIGN).split("/")[-1]  # moto's DisableKey takes key IDs only
    kms.disable_key(KeyId=key)
    sign = lambda: kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_512")  # noqa: E731
    assert error_code(sign) == "DisabledException"
    assert error_code(lambda: kms.get_public_key(KeyId=key)) == "DisabledException"
    kms.enable_key(KeyId=key)
    kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_512")
    kms.schedule_key_deletion(KeyId=key, PendingWindowInDays=7)
    assert error_code(sign) == "KMSInvalidStateException"


def key_state_calls_take_key_arns(moto: Moto) -> None:
    """As the rotation runbook calls them: by key ARN (and the states hold, as by key id)."""
    kms = moto.client("kms")
    arn = moto.create_key(*ECC_SIGN)
    kms.disable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"
    kms.enable_key(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Enabled"
    kms.schedule_key_deletion(KeyId=arn, PendingWindowInDays=7)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "PendingDeletion"
    kms.cancel_key_deletion(KeyId=arn)
    assert kms.describe_key(KeyId=arn)["KeyMetadata"]["KeyState"] == "Disabled"


# -- CloudFormation ----------------------------------------------------------------------------

KEY_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "Admin",
            "Effect": "Allow",
            "Principal": {"AWS": ROOT},
            "Action": "kms:*",
            "Resource": "*",
        }
    ],
}


def key_template(policy: dict, description: str = "signing") -> dict:
    return {
        "Resources": {
            "Key": {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeySpec": "ECC_NIST_P521",
                    "KeyUsage": "SIGN_VERIFY",
                    "KeyPolicy": policy,
                    "Description": description,
                    "Tags": [{"Key": "project", "Value": "tests"}],
                },
            }
        },
        "Outputs": {
            "KeyArn": {"Value": {"Fn::GetAtt": ["Key", "Arn"]}},
            "KeyId": {"Value": {"Fn::GetAtt": ["Key", "KeyId"]}},
        },
    }


def deploy(moto: Moto, template: dict, change_set: str = "cs") -> dict[str, str]:
    cloudformation = moto.client("cloudformation")
    try:
        cloudformation.describe_stacks(StackName="Stack")
        kind = "UPDATE"
    except ClientError:
        kind = "CREATE"
    cloudformation.create_change_set(
        StackName="Stack",
        ChangeSetName=change_set,
        ChangeSetType=kind,
        TemplateBody=json.dumps(template),
    )
    cloudformation.execute_change_set(StackName="Stack", ChangeSetName=change_set)
    (stack,) = cloudformation.describe_stacks(StackName="Stack")["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def cfn_key_keeps_spec_usage_policy_and_tags(moto: Moto) -> None:
    cloudformation = moto.client("cloudformation")
    cloudformation.create_stack(
        StackName="Stack", TemplateBody=json.dumps(key_template(KEY_POLICY))
    )
    resource = cloudformation.describe_stack_resource(StackName="Stack", LogicalResourceId="Key")
    key_id = resource["StackResourceDetail"]["PhysicalResourceId"]
    kms = moto.client("kms")
    metadata = kms.describe_key(KeyId=key_id)["KeyMetadata"]
    assert (metadata["KeySpec"], metadata["KeyUsage"]) == ECC_SIGN
    assert (
        json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"]) == KEY_POLICY
    )
    assert kms.list_resource_tags(KeyId=key_id)["Tags"] == [
        {"TagKey": "project", "TagValue": "tests"}
    ]


def change_set_deploy_has_outputs(moto: Moto) -> None:
    outputs = deploy(moto, key_template(KEY_POLICY))
    assert outputs["KeyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert outputs["KeyArn"].endswith(outputs["KeyId"])


def deleting_an_unknown_change_set_succeeds(moto: Moto) -> None:
    deploy(moto, key_template(KEY_POLICY))
    cloudformation = moto.client("cloudformation")
    cloudformation.delete_change_set(StackName="Stack", ChangeSetName="cdk-deploy-change-set")


def describing_an_unknown_change_set_is_not_found(moto: Moto) -> None:
    """What the CDK CLI waits for after deleting its old change set, before each update."""
    deploy(moto, key_template(KEY_POLICY))
    cloudformation = moto.client("cloudformation")
    cloudformation.delete_change_set(StackName="Stack", ChangeSetName="cdk-deploy-change-set")
    with pytest.raises(ClientError) as caught:
        cloudformation.describe_change_set(StackName="Stack", ChangeSetName="cdk-deploy-change-set")
    error = caught.value.response
    assert error["Error"]["Code"] == "ChangeSetNotFound"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 404


def key_update_changes_the_policy_in_place(moto: Moto) -> None:
    first = deploy(moto, key_template(KEY_POLICY))
    narrower = json.loads(json.dumps(KEY_POLICY))
    narrower["Statement"][0]["Action"] = ["kms:DescribeKey", "kms:GetKeyPolicy", "kms:PutKeyPolicy"]
    second = deploy(moto, key_template(narrower, description="changed"), change_set="cs2")
    assert second == first  # same key: policy and description update in place
    kms = moto.client("kms")
    assert json.loads(kms.get_key_policy(KeyId=first["KeyId"])["Policy"]) == narrower
    assert kms.describe_key(KeyId=first["KeyId"])["KeyMetadata"]["Description"] == "changed"


# -- STS and authorization -----------------------------------------------------------------------


def caller_identity_is_an_iam_user(moto: Moto) -> None:
    identity = moto.client("sts").get_caller_identity()
    assert identity["Arn"] == "arn:aws:iam::123456789012:user/local-admin"
    assert identity["UserId"].startswith("AIDA")


def assume_role_honours_the_trust_policy(moto: Moto) -> None:
    sts = moto.client("sts")
    open_role = moto.create_role("Open", trust_account_root())
    guarded = moto.create_role(
        "Guarded", trust_account_root(StringEquals={"sts:ExternalId": "the-secret"})
    )
    session = moto.assume(open_role)  # the administrator has IAM permissions: allowed
    assert (
        error_code(
            lambda: moto.client("sts", **session).assume_role(
                RoleArn=guarded, RoleSessionName="s2", ExternalId="the-secret"
            )
        )
        == "AccessDenied"
    )  # a role without identity policies cannot use the account delegation
    assert (
        error_code(lambda: sts.assume_role(RoleArn=guarded, RoleSessionName="s1")) == "AccessDenied"
    )
    assert (
        error_code(
            lambda: sts.assume_role(RoleArn=guarded, RoleSessionName="s1", ExternalId="guess")
        )
        == "AccessDenied"
    )
    moto.assume(guarded, ExternalId="the-secret")
    missing = "arn:aws:iam::123456789012:role/Missing"
    assert (
        error_code(lambda: sts.assume_role(RoleArn=missing, RoleSessionName="s1")) == "AccessDenied"
    )


def key_policy_is_enforced(moto: Moto) -> None:
    role = moto.create_role("Sender", trust_account_root())
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "Admin",
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": ["kms:DescribeKey", "kms:GetPublicKey"],
                "Resource": "*",
            },
            {
                "Sid": "SenderEncrypt",
                "Effect": "Allow",
                "Principal": {"AWS": role},
                "Action": "kms:Encrypt",
                "Resource": "*",
                "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": "RSAES_OAEP_SHA_256"}},
            },
        ],
    }
    key = moto.create_key(*RSA_ENCRYPT, policy=policy)
    sender = moto.client("kms", **moto.assume(role))
    sender.encrypt(KeyId=key, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
    with pytest.raises(ClientError) as caught:
        sender.encrypt(KeyId=key, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert caught.value.response["Error"]["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/Sender/tests is not authorized to "
        f"perform: kms:Encrypt on resource: {key} because no resource-based policy allows the "
        "kms:Encrypt action"
    )
    admin = moto.client("kms")
    admin.describe_key(KeyId=key)  # the account root statement delegates to IAM
    assert (
        error_code(
            lambda: admin.encrypt(
                KeyId=key, Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256"
            )
        )
        == "AccessDeniedException"
    )
    assert error_code(lambda: sender.describe_key(KeyId=key)) == "AccessDeniedException"
    assert error_code(lambda: sender.create_key()) == "AccessDeniedException"
    # A symmetric ciphertext names its key: Decrypt without KeyId is judged on that key.
    symmetric_policy = json.loads(json.dumps(policy))
    symmetric_policy["Statement"][1]["Condition"] = {}
    symmetric = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", policy=symmetric_policy)
    blob = sender.encrypt(KeyId=symmetric, Plaintext=b"x")["CiphertextBlob"]
    with pytest.raises(ClientError) as caught:
        sender.decrypt(CiphertextBlob=blob)
    assert f"kms:Decrypt on resource: {symmetric} because" in str(caught.value)


def two_symmetric_keys(moto: Moto) -> tuple[str, str, str, dict[str, str]]:
    """Key A the administrator may only encrypt with, key B a role may do anything with."""
    role = moto.create_role("Holder", trust_account_root())
    admin_only = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": ROOT},
                "Action": ["kms:DescribeKey", "kms:Encrypt", "kms:CreateAlias", "kms:PutKeyPolicy"],
                "Resource": "*",
            }
        ],
    }
    own = json.loads(json.dumps(admin_only))
    own["Statement"][0]["Action"].append("kms:UpdateAlias")
    own["Statement"].append(
        {"Effect": "Allow", "Principal": {"AWS": role}, "Action": "kms:*", "Resource": "*"}
    )
    a = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", policy=admin_only)
    b = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT", policy=own)
    return a, b, role, moto.assume(role)


def re_encrypt_needs_the_source_key_too(moto: Moto) -> None:
    a, b, _, session = two_symmetric_keys(moto)
    blob = moto.client("kms").encrypt(KeyId=a, Plaintext=b"secret")["CiphertextBlob"]
    holder = moto.client("kms", **session)
    with pytest.raises(ClientError) as caught:
        holder.re_encrypt(CiphertextBlob=blob, DestinationKeyId=b)
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"
    assert f"kms:ReEncryptFrom on resource: {a} because" in str(caught.value)
    with pytest.raises(ClientError) as caught:  # naming its own key as the source: no help
        holder.re_encrypt(CiphertextBlob=blob, SourceKeyId=b, DestinationKeyId=b)
    assert f"kms:ReEncryptFrom on resource: {a} because" in str(caught.value)
    mine = holder.encrypt(KeyId=b, Plaintext=b"mine")["CiphertextBlob"]
    holder.re_encrypt(CiphertextBlob=mine, DestinationKeyId=b)  # both sides allowed


def update_alias_needs_the_alias_and_both_keys(moto: Moto) -> None:
    a, b, _, session = two_symmetric_keys(moto)
    kms = moto.client("kms")
    kms.create_alias(AliasName="alias/shared", TargetKeyId=a)
    holder = moto.client("kms", **session)
    with pytest.raises(ClientError) as caught:
        holder.update_alias(AliasName="alias/shared", TargetKeyId=b)
    assert caught.value.response["Error"]["Message"] == (
        "User: arn:aws:sts::123456789012:assumed-role/Holder/tests is not authorized to perform: "
        "kms:UpdateAlias on resource: arn:aws:kms:us-east-1:123456789012:alias/shared because no "
        "identity-based policy allows the kms:UpdateAlias action"
    )
    aliases = {x["AliasName"]: x.get("TargetKeyId") for x in kms.list_aliases()["Aliases"]}
    assert a.endswith(aliases["alias/shared"])
    # The administrator may update aliases (IAM) and point them at key B (its key policy),
    # but key A's policy does not let it take the alias away from A.
    with pytest.raises(ClientError) as caught:
        kms.update_alias(AliasName="alias/shared", TargetKeyId=b)
    assert f"kms:UpdateAlias on resource: {a} because" in str(caught.value)


def unknown_credentials_are_refused(moto: Moto) -> None:
    rogue = {"aws_access_key_id": "AKIAI44QH8DHBEXAMPLE", "aws_secret_access_key": "x"}
    with pytest.raises(ClientError) as caught:
        moto.client("kms", **rogue).list_keys()
    assert caught.value.response["Error"]["Code"] == "UnrecognizedClientException"
    assert caught.value.response["Error"]["Message"] == (
        "The security token included in the request is invalid."
    )
    role = moto.create_role("Someone", trust_account_root())
    session = moto.assume(role)
    tokenless = {k: v for k, v in session.items() if k != "aws_session_token"}
    assert error_code(lambda: moto.client("kms", **tokenless).list_keys()) == (
        "UnrecognizedClientException"
    )
    assert error_code(lambda: moto.client("kms", **session).list_keys()) == (
        "AccessDeniedException"  # recognized, and without IAM permissions
    )


def unknown_credentials_are_refused_by_sts(moto: Moto) -> None:
    rogue = {"aws_access_key_id": "AKIAI44QH8DHBEXAMPLE", "aws_secret_access_key": "x"}
    sts = moto.client("sts", **rogue)
    with pytest.raises(ClientError) as caught:
        sts.get_caller_identity()
    assert caught.value.response["Error"]["Code"] == "InvalidClientTokenId"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    role = moto.create_role("Open", trust_account_root())
    assert error_code(lambda: sts.assume_role(RoleArn=role, RoleSessionName="rogue")) == (
        "InvalidClientTokenId"
    )


def decrypt_with_another_key_is_incorrect_key(moto: Moto) -> None:
    kms = moto.client("kms")
    a = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    b = moto.create_key("SYMMETRIC_DEFAULT", "ENCRYPT_DECRYPT")
    blob = kms.encrypt(KeyId=a, Plaintext=b"x")["CiphertextBlob"]
    assert error_code(lambda: kms.decrypt(KeyId=b, CiphertextBlob=blob)) == (
        "IncorrectKeyException"
    )
    assert kms.decrypt(KeyId=a, CiphertextBlob=blob)["Plaintext"] == b"x"
    re_encrypt = lambda: kms.re_encrypt(  # noqa: E731
        CiphertextBlob=blob, SourceKeyId=b, DestinationKeyId=a
    )
    assert error_code(re_encrypt) == "IncorrectKeyException"


def event_pattern_sees_objects_in_arrays(moto: Moto) -> None:
    events = moto.client("events")
    pattern = json.dumps({"detail": {"resources": {"ARN": ["arn:aws:kms:us-east-1:1:key/a"]}}})
    event = {
        "id": "1",
        "account": "123456789012",
        "source": "aws.kms",
        "time": "2026-12-01T00:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail-type": "AWS API Call via CloudTrail",
        "detail": {"resources": [{"ARN": "arn:aws:kms:us-east-1:1:key/a"}]},
    }
    assert events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]
    event["detail"]["resources"] = [{"ARN": "arn:aws:kms:us-east-1:1:key/b"}]
    assert not events.test_event_pattern(EventPattern=pattern, Event=json.dumps(event))["Result"]


PINS: dict[str, tuple[Callable[[Moto], None], str]] = {
    "offline RSA-OAEP ciphertext decrypts": (offline_ciphertext_decrypts, "kms_rsa_oaep"),
    "RSA_4096 plaintext limits 446/470": (rsa_4096_plaintext_limits, "kms_rsa_oaep"),
    "RSA keys need EncryptionAlgorithm": (
        rsa_needs_an_encryption_algorithm,
        "kms_encryption_algorithm_checked",
    ),
    "key usage is enforced": (key_usage_is_enforced, "kms_key_usage_enforced"),
    "key state is enforced": (disabled_and_deleted_keys_refuse_to_work, "kms_key_state_enforced"),
    "key state calls take key ARNs": (
        key_state_calls_take_key_arns,
        "kms_key_state_calls_take_key_arns",
    ),
    "RAW Sign up to 4096 bytes": (
        raw_sign_is_limited_to_4096_bytes,
        "kms_validation_before_authorization",
    ),
    "validation before authorization": (
        validation_order_pins.unauthorized_oversized_raw_sign_is_a_validation_error,
        "kms_validation_before_authorization",
    ),
    "DIGEST signature verifies offline": (
        digest_signature_verifies_offline,
        "kms_sign_verify_message_types",
    ),
    "invalid signature is an error": (
        invalid_signature_is_an_error,
        "kms_sign_verify_message_types",
    ),
    "GetPublicKey has KeySpec": (get_public_key_has_key_spec, "kms_get_public_key_metadata"),
    "PolicyName is optional": (key_policy_name_is_optional, "kms_policy_name_optional"),
    "key policy lockout safety check": (key_policy_safety_checks, "kms_key_policy_safety_checks"),
    "CFN key keeps spec, usage, policy": (
        cfn_key_keeps_spec_usage_policy_and_tags,
        "cfn_kms_key_properties",
    ),
    "CFN key policy updates in place": (
        key_update_changes_the_policy_in_place,
        "cfn_kms_key_properties",
    ),
    "CFN KeySpec change fails update": (
        cloudformation_pins.key_spec_change_fails_the_update,
        "cfn_kms_key_properties",
    ),
    "CFN failed create rolls back": (
        cloudformation_pins.stack_failures_roll_back,
        "cfn_stack_failures_roll_back",
    ),
    "trust policy principals exist": (
        cloudformation_pins.trust_policy_principals_must_exist,
        "iam_trust_policy_principals_exist",
    ),
    "key policy principals' paths": (
        cloudformation_pins.key_policy_principals_must_exist_with_their_path,
        "kms_key_policy_safety_checks",
    ),
    "CFN KMS calls are authorized": (
        cloudformation_pins.cloudformation_enforcement,
        "cfn_kms_calls_enforced",
    ),
    "change-set deploy has Outputs": (change_set_deploy_has_outputs, "cfn_change_set_outputs"),
    "DeleteChangeSet of unknown name": (
        deleting_an_unknown_change_set_succeeds,
        "cfn_delete_change_set_if_exists",
    ),
    "DescribeChangeSet of unknown name": (
        describing_an_unknown_change_set_is_not_found,
        "cfn_unknown_change_set_not_found",
    ),
    "caller identity is an IAM user": (
        caller_identity_is_an_iam_user,
        "sts_caller_identity_is_iam_user",
    ),
    "AssumeRole honours trust policy": (
        assume_role_honours_the_trust_policy,
        "sts_trust_policy_enforced",
    ),
    "key policy is enforced": (key_policy_is_enforced, "kms_key_policy_enforced"),
    "ReEncrypt needs ReEncryptFrom": (
        re_encrypt_needs_the_source_key_too,
        "kms_key_policy_enforced",
    ),
    "UpdateAlias needs alias and keys": (
        update_alias_needs_the_alias_and_both_keys,
        "kms_key_policy_enforced",
    ),
    "KMS refuses unknown credentials": (unknown_credentials_are_refused, "kms_key_policy_enforced"),
    "STS refuses unknown credentials": (
        unknown_credentials_are_refused_by_sts,
        "sts_credentials_recognized",
    ),
    "Decrypt with another key": (
        decrypt_with_another_key_is_incorrect_key,
        "kms_decrypt_incorrect_key",
    ),
    "TestEventPattern answers": (
        event_pattern_sees_objects_in_arrays,
        "events_test_event_pattern",
    ),
    # -- several accounts (issue 13) --
    "CFN role updates in place": (
        accounts_pins.role_policies_update_in_place,
        "cfn_iam_role_inline_policies",
    ),
    "each account its administrator": (
        accounts_pins.each_account_has_its_administrator,
        "accounts_by_administrator_key",
    ),
    "keys across accounts by ARN only": (
        accounts_pins.keys_are_used_across_accounts_by_arn_only,
        "kms_cross_account_key_lookup",
    ),
    "cross-account KMS needs identity": (
        accounts_pins.cross_account_kms_needs_the_identity_policy,
        "kms_cross_account_needs_identity_policy",
    ),
    "kms:CallerAccount is evaluated": (
        accounts_pins.caller_account_is_evaluated,
        "kms_key_policy_enforced",
    ),
    "cross-account AssumeRole rules": (
        accounts_pins.cross_account_assume_role_needs_trust_and_permission,
        "sts_cross_account_assume_role",
    ),
}


@pytest.mark.parametrize("name", PINS)
def test_aws_behaviour_holds_with_the_patches(name: str) -> None:
    check, _ = PINS[name]
    with patched_moto() as moto:
        check(moto)


@pytest.mark.parametrize("name", PINS)
def test_behaviour_is_lost_without_its_patch(name: str) -> None:
    check, patch = PINS[name]
    assert not holds(check, disabled=[patch]), f"{name} holds without {patch}: drop the patch?"


def test_every_patch_is_pinned_and_documented() -> None:
    pinned = {patch for _, patch in PINS.values()}
    assert pinned == set(REGISTRY.names)
    guide = (Path(__file__).resolve().parents[2] / "docs" / "LOCAL-ENDPOINT.md").read_text()
    assert [name for name in REGISTRY.names if f"`{name}`" not in guide] == []
    for patch in REGISTRY:
        assert patch.summary, f"{patch.name} has no docstring"
        assert "moto 5.2.5" in (patch.installer.__doc__ or ""), patch.name


def test_unknown_keys_and_aliases_are_not_found_as_aws_words_it() -> None:
    with patched_moto() as moto:
        kms = moto.client("kms")
        for name in ("alias/missing", "arn:aws:kms:us-east-1:123456789012:alias/missing"):
            with pytest.raises(ClientError) as caught:
                kms.describe_key(KeyId=name)
            assert caught.value.response["Error"] == {
                "Code": "NotFoundException",
                "Message": "Alias arn:aws:kms:us-east-1:123456789012:alias/missing is not found.",
            }
        missing = "1234abcd-12ab-34cd-56ef-1234567890ab"
        with pytest.raises(ClientError) as caught:
            kms.encrypt(KeyId=missing, Plaintext=b"x")
        assert caught.value.response["Error"]["Message"] == (
            f"Key 'arn:aws:kms:us-east-1:123456789012:key/{missing}' does not exist"
        )


def test_an_expired_session_is_refused() -> None:
    import datetime

    from moto.sts.models import sts_backends

    with patched_moto() as moto:
        session = moto.assume(moto.create_role("Brief", trust_account_root()))
        (assumed,) = sts_backends["123456789012"]["aws"].assumed_roles
        assumed.expiration -= datetime.timedelta(hours=2)
        with pytest.raises(ClientError) as caught:
            moto.client("kms", **session).list_keys()
        assert caught.value.response["Error"]["Code"] == "ExpiredTokenException"
        with pytest.raises(ClientError) as caught:
            moto.client("sts", **session).get_caller_identity()
        assert caught.value.response["Error"]["Code"] == "ExpiredToken"


def test_a_request_without_its_key_is_a_validation_error() -> None:
    import boto3
    from botocore.config import Config

    from local_endpoint.endpoint import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY

    unchecked = Config(parameter_validation=False, retries={"max_attempts": 1})
    administrator = {
        "aws_access_key_id": ADMIN_ACCESS_KEY_ID,
        "aws_secret_access_key": ADMIN_SECRET_ACCESS_KEY,
    }
    with patched_moto() as moto:
        session = moto.assume(moto.create_role("NoKey", trust_account_root()))
        for credentials in (administrator, session):  # a role session alike: not a denial
            kms = boto3.client("kms", region_name="us-east-1", config=unchecked, **credentials)
            with pytest.raises(ClientError) as caught:
                kms.sign(Message=b"m", SigningAlgorithm="ECDSA_SHA_512")
            assert caught.value.response["Error"] == {
                "Code": "ValidationException",
                "Message": "1 validation error detected: Value null at 'keyId' failed to "
                "satisfy constraint: Member must not be null",
            }


def test_rsa_encrypt_of_nothing_is_a_validation_error() -> None:
    with patched_moto() as moto:
        key = moto.create_key(*RSA_ENCRYPT)
        kms = moto.client("kms")
        with pytest.raises(ClientError) as caught:
            kms.encrypt(KeyId=key, Plaintext=b"", EncryptionAlgorithm="RSAES_OAEP_SHA_256")
        assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_checks_run_in_aws_order_one_case_per_class() -> None:
    with patched_moto() as moto:
        validation_order_pins.check_order(moto)
