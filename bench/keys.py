"""Fixed local keys for the benchmark, and the offline key operations built from them."""

from __future__ import annotations

import base64
import json
from functools import cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from envelope import PrivateKeySigner, PrivateKeyUnwrapper

RECIPIENT_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SENDER_KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321"


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=4096)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP521R1())


def export_keys() -> dict[str, str]:
    """PEM private keys, so each measurement subprocess uses the same pair."""
    pkcs8 = serialization.PrivateFormat.PKCS8
    none = serialization.NoEncryption()
    pem = serialization.Encoding.PEM
    return {
        "rsa": rsa_key().private_bytes(pem, pkcs8, none).decode(),
        "ec": ec_key().private_bytes(pem, pkcs8, none).decode(),
    }


def load_keys(text: str) -> tuple[PrivateKeySigner, PrivateKeyUnwrapper]:
    keys = json.loads(text)
    signer = PrivateKeySigner(SENDER_KEY_ARN, keys["ec"].encode())
    unwrapper = PrivateKeyUnwrapper(RECIPIENT_KEY_ARN, keys["rsa"].encode())
    return signer, unwrapper


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
