"""Issue 9: AWS's order of checks, one pinned case per class of error.

Order (local_endpoint.validation): credentials, parameter validation, the key exists,
authorization, key state, key suitability. Each case sends a request that fails two checks and
asserts the earlier one answers.
"""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError

from tests.local_endpoint.patched_moto import ROOT, Moto, trust_account_root

ADMIN_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    ],
}


def answer(call: Any) -> tuple[str, str]:
    try:
        call()
    except ClientError as error:
        return error.response["Error"]["Code"], error.response["Error"].get("Message", "")
    return "OK", ""


def outsider(moto: Moto) -> Any:
    """A KMS client for a role session that no key policy names (every key refuses it)."""
    role = moto.create_role("Outsider", trust_account_root())
    return moto.client("kms", **moto.assume(role))


def unauthorized_oversized_raw_sign_is_a_validation_error(moto: Moto) -> None:
    key = moto.create_key("ECC_NIST_P521", "SIGN_VERIFY", policy=ADMIN_ONLY)
    kms = outsider(moto)
    code, message = answer(
        lambda: kms.sign(
            KeyId=key, Message=b"m" * 5000, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_512"
        )
    )
    assert code == "ValidationException", (code, message)
    assert message == (
        "1 validation error detected: Value at 'message' failed to satisfy constraint: "
        "Member must have length less than or equal to 4096"
    )
    # Any other class of bad parameter too: an unknown algorithm.
    code, message = answer(lambda: kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="MD5"))
    assert code == "ValidationException", (code, message)
    assert "Member must satisfy enum value set" in message


def check_order(moto: Moto) -> None:
    """One case per boundary between two classes of error."""
    key = moto.create_key("ECC_NIST_P521", "SIGN_VERIFY", policy=ADMIN_ONLY)
    kms = outsider(moto)
    big = b"m" * 5000
    # 1 before 2: unknown credentials with a malformed request.
    stranger = moto.client(
        "kms", aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x"
    )
    code, _ = answer(
        lambda: stranger.sign(KeyId=key, Message=big, SigningAlgorithm="ECDSA_SHA_512")
    )
    assert code == "UnrecognizedClientException"
    # 2 before 3: a malformed request naming a key that does not exist.
    missing = key.rsplit("/", 1)[0] + "/11111111-2222-3333-4444-555555555555"
    code, _ = answer(lambda: kms.sign(KeyId=missing, Message=big, SigningAlgorithm="ECDSA_SHA_512"))
    assert code == "ValidationException"
    # 3 before 4: an unauthorized caller naming a key that does not exist.
    code, _ = answer(
        lambda: kms.sign(KeyId=missing, Message=b"m", SigningAlgorithm="ECDSA_SHA_512")
    )
    assert code == "NotFoundException"
    # 4 before 5: an unauthorized caller and a disabled key.
    admin = moto.client("kms")
    admin.disable_key(KeyId=key.split("/")[-1])
    code, _ = answer(lambda: kms.sign(KeyId=key, Message=b"m", SigningAlgorithm="ECDSA_SHA_512"))
    assert code == "AccessDeniedException"
    # 5 before 6: the administrator, a disabled key and an algorithm the key cannot use.
    code, _ = answer(
        lambda: admin.sign(KeyId=key, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    )
    assert code == "DisabledException"
    admin.enable_key(KeyId=key.split("/")[-1])
    code, _ = answer(
        lambda: admin.sign(KeyId=key, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")
    )
    assert code == "InvalidKeyUsageException"
    json.dumps(ADMIN_ONLY)  # the policy stays JSON-serializable (used by create_key)
