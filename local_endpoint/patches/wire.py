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
)


def json_params(response: Any) -> dict[str, Any] | None:
    """A JSON-protocol request's parameters; None for a body that is not a JSON object."""
    try:
        params = json.loads(response.body) if response.body else {}
    except ValueError:
        return None
    return params if isinstance(params, dict) else None


def existing_key(response: Any, key_ref: str) -> Any | None:
    """moto's key for a key ID, key ARN, alias name or alias ARN; None if there is none."""
    try:
        return response.kms_backend.describe_key(key_ref)
    except (KeyError, AttributeError, JsonRESTError):  # moto: KeyError, or None for an alias
        return None


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
