"""The wire format of moto requests and AWS answers, shared by the patches: reading a request's
caller and key, and writing AWS JSON-protocol and query-protocol errors."""

from __future__ import annotations

import base64
import json
import struct
from typing import Any
from xml.sax.saxutils import escape as xml_escape

from moto.core.exceptions import JsonRESTError

from local_endpoint import (
    authorization,
    messages,
)


def null_message(parameter: str) -> str:
    """AWS's wording for a required parameter left out (``KeyId`` is called ``keyId``)."""
    name = parameter[0].lower() + parameter[1:]
    return (
        f"1 validation error detected: Value null at '{name}' failed to satisfy constraint: "
        "Member must not be null"
    )


def existing_key(response: Any, key_ref: str) -> Any | None:
    """moto's key for a key ID, key ARN, alias name or alias ARN; None if there is none."""
    try:
        return response.kms_backend.describe_key(key_ref)
    except (KeyError, AttributeError, JsonRESTError):  # moto: KeyError, or None for an alias
        return None


def not_found(response: Any, key_ref: str) -> tuple[int, dict, str]:
    """NotFoundException worded as AWS KMS words it for a key or an alias."""
    account, region = response.current_account, response.region
    if key_ref.startswith("alias/") or ":alias/" in key_ref:
        name = "alias/" + key_ref.split("alias/", 1)[1]
        return json_error(
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
    return json_error(
        response, 400, "NotFoundException", messages.NOT_FOUND_KEY.format(arn=key_arn)
    )


def authenticate(response: Any) -> Any:
    """The caller behind the request's credentials (raises UnrecognizedCredentialsError)."""
    return authorization.identify(
        response.get_access_key(),
        response.current_account,
        session_token=response.headers.get("X-Amz-Security-Token"),
    )


def key_id_in_symmetric_ciphertext(blob: str | None) -> str | None:
    """The key ID a base64 symmetric ciphertext (as in a request body) names, if any."""
    try:
        return key_id_in_ciphertext(base64.b64decode(blob or ""))
    except (ValueError, TypeError):
        return None


def key_id_in_ciphertext(blob: bytes) -> str | None:
    """The key ID moto's symmetric ciphertext format puts first; None for other bytes."""
    from moto.kms.utils import _deserialize_ciphertext_blob

    try:
        return _deserialize_ciphertext_blob(blob).key_id
    except (ValueError, TypeError, UnicodeDecodeError, struct.error):
        return None


def json_error(response: Any, status: int, code: str, message: str) -> tuple[int, dict, str]:
    """An AWS JSON-protocol error: {"__type": code, "message": ...} with x-amzn-ErrorType."""
    headers = dict(response.response_headers)
    headers.update({"Content-Type": "application/x-amz-json-1.1", "x-amzn-ErrorType": code})
    return status, headers, json.dumps({"__type": code, "message": message})


def query_error(status: int, code: str, message: str) -> tuple[str, dict[str, Any]]:
    """An AWS query-protocol (XML) error, as STS sends it."""
    body = (
        '<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
        f"<Type>Sender</Type><Code>{code}</Code><Message>{xml_escape(message)}</Message>"
        "</Error><RequestId>local-endpoint</RequestId></ErrorResponse>"
    )
    return body, {"status": status, "Content-Type": "text/xml"}


def requested_key(response: Any, parameter: str = "KeyId") -> Any | None:
    """The key a KMS request names (by ID, ARN, alias or alias ARN); None if it names none.

    An unknown key raises moto's NotFoundException, as moto's own handlers do.
    """
    key_id = response._get_param(parameter)
    if not key_id:
        return None
    response._validate_key_id(key_id)
    return response.kms_backend.describe_key(key_id)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
