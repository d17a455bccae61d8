"""An audit trail for the endpoint: a CloudTrail-shaped event for every KMS and STS call.

AWS CloudTrail records each KMS and STS API call as an event (CloudTrail User Guide,
"CloudTrail record contents"; KMS developer guide, "Logging AWS KMS API calls with AWS
CloudTrail"): who called (``userIdentity``, with the role session and its ``sourceIdentity``),
what (``eventName``, ``requestParameters`` without plaintext, ciphertext, message or signature),
on what (``resources``: the key ARN), when (``eventTime``), the outcome (``errorCode`` and
``errorMessage`` for a refusal; KMS's AccessDeniedException is recorded as ``AccessDenied``),
and the ``requestID`` the caller got back. ``cloudtrail:LookupEvents`` answers from that record
as CloudTrail does: newest first, at most 50 per page with a ``NextToken``, filtered by
``StartTime``/``EndTime`` and one ``LookupAttributes`` item.

moto 5.2.5's CloudTrail has trails but no events and no LookupEvents (its responses module has
no ``lookup_events``), so this is a WSGI layer in front of moto rather than a moto patch: it
sees every request and its answer, denials by the enforcement patches included.
:func:`recording` wraps the server's application (see :mod:`local_endpoint.server`).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import itertools
import json
import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

EVENT_VERSION = "1.08"
KMS_TARGET_PREFIX = "TrentService."
CLOUDTRAIL_TARGET_PREFIX = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."
MAX_RESULTS = 50
# Request parameters CloudTrail never records (secrets and bulk data).
_UNLOGGED_PARAMETERS = frozenset(
    {"Plaintext", "CiphertextBlob", "Message", "Signature", "EncryptedKeyMaterial", "ImportToken"}
)
_READ_ONLY_KMS = frozenset(
    {"Encrypt", "Decrypt", "Sign", "Verify", "GetPublicKey", "ReEncrypt", "GenerateRandom"}
)
# LookupAttributes keys (CloudTrail API reference, LookupAttribute).
LOOKUP_KEYS = (
    "EventId",
    "EventName",
    "ReadOnly",
    "Username",
    "ResourceType",
    "ResourceName",
    "EventSource",
    "AccessKeyId",
)
# The request ID the STS enforcement patches put in their error answers: made unique here.
_FIXED_REQUEST_ID = "local-endpoint"
_CREDENTIAL_SCOPE = re.compile(r"Credential=([^/,\s]+)/\d{8}/([\w-]+)/([\w-]+)/aws4_request")


# -- the record -----------------------------------------------------------------------------------


@dataclass
class Trail:
    """Every recorded event, oldest first, and what each role session said about itself."""

    events: list[dict[str, Any]] = field(default_factory=list)
    source_identities: dict[str, str] = field(default_factory=dict)  # session key -> identity
    session_created: dict[str, datetime] = field(default_factory=dict)  # session key -> time
    _sequence: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, event: dict[str, Any]) -> None:
        with self._lock:
            event["_sequence"] = next(self._sequence)
            self.events.append(event)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.events)


TRAIL = Trail()


class LookupRefusedError(Exception):
    """A LookupEvents request CloudTrail would refuse: its error code and message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# -- the WSGI layer -------------------------------------------------------------------------------


def recording(app: Callable[..., Any], trail: Trail = TRAIL) -> Callable[..., Any]:
    """Wrap a WSGI app: record KMS and STS calls, answer CloudTrail LookupEvents."""

    def application(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        scope = _CREDENTIAL_SCOPE.search(authorization)
        service = scope.group(3) if scope else ""
        if target.startswith(CLOUDTRAIL_TARGET_PREFIX):
            return _serve_cloudtrail(environ, start_response, target, trail)
        if not (target.startswith(KMS_TARGET_PREFIX) or service == "sts"):
            return app(environ, start_response)
        body = _read_body(environ)
        call = _Call.from_request(environ, body, target, scope)
        call.before()
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            captured["status"], captured["headers"] = status, list(headers)
            return lambda data: captured.setdefault("written", []).append(data)

        chunks = app(environ, capture)
        try:
            answer = b"".join(captured.pop("written", [])) + b"".join(chunks)
        finally:
            if hasattr(chunks, "close"):
                chunks.close()
        headers = captured["headers"]
        request_id = _header(headers, "x-amzn-RequestId") or _request_id_in_xml(answer)
        if not request_id or request_id == _FIXED_REQUEST_ID:
            request_id = str(uuid.uuid4())
            answer = answer.replace(
                f"<RequestId>{_FIXED_REQUEST_ID}</RequestId>".encode(),
                f"<RequestId>{request_id}</RequestId>".encode(),
            )
            headers = [(k, v) for k, v in headers if k.lower() != "x-amzn-requestid"]
            headers.append(("x-amzn-RequestId", request_id))
        try:
            trail.add(call.event(int(captured["status"].split()[0]), answer, request_id, trail))
        except Exception as error:  # the call itself must still be answered
            _log(f"cannot record {call.event_name}: {type(error).__name__}: {error}")
        headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
        headers.append(("Content-Length", str(len(answer))))
        start_response(captured["status"], headers)
        return [answer]

    return application


def _read_body(environ: dict[str, Any]) -> bytes:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((v for k, v in headers if k.lower() == name.lower()), None)


def _request_id_in_xml(answer: bytes) -> str | None:
    found = re.search(rb"<RequestId>([^<]+)</RequestId>", answer)
    return found.group(1).decode() if found else None


def _log(message: str) -> None:
    from local_endpoint import authorization

    authorization.log(message)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- one call -------------------------------------------------------------------------------------


@dataclass
class _Call:
    """One KMS or STS request on its way through, and what the trail needs to know of it."""

    source: str  # kms.amazonaws.com | sts.amazonaws.com
    event_name: str
    params: dict[str, Any]
    access_key: str
    session_token: str | None
    region: str
    account: str
    source_ip: str
    user_agent: str
    time: datetime = field(default_factory=_now)
    identity: dict[str, Any] = field(default_factory=dict)
    resources: list[dict[str, str]] = field(default_factory=list)

    @classmethod
    def from_request(
        cls, environ: dict[str, Any], body: bytes, target: str, scope: re.Match[str] | None
    ) -> _Call:
        from moto.iam.models import get_account_id_from

        access_key = scope.group(1) if scope else ""
        region = scope.group(2) if scope else "us-east-1"
        if target.startswith(KMS_TARGET_PREFIX):
            try:
                params = json.loads(body) if body else {}
            except ValueError:
                params = {}
            source, name = "kms.amazonaws.com", target[len(KMS_TARGET_PREFIX) :]
        else:
            query = parse_qs(body.decode("utf-8", "replace"))
            query.update(parse_qs(environ.get("QUERY_STRING", "")))
            params = {k: v[0] for k, v in query.items()}
            source, name = "sts.amazonaws.com", str(params.pop("Action", "Unknown"))
            params.pop("Version", None)
        return cls(
            source=source,
            event_name=name,
            params=params if isinstance(params, dict) else {},
            access_key=access_key,
            session_token=environ.get("HTTP_X_AMZ_SECURITY_TOKEN"),
            region=region,
            account=get_account_id_from(access_key),
            source_ip=environ.get("REMOTE_ADDR", ""),
            user_agent=environ.get("HTTP_USER_AGENT", ""),
        )

    def before(self) -> None:
        """What must be read before moto acts: the caller, and the keys named (DeleteAlias
        removes its alias, so the key it pointed at is found now)."""
        self.identity = self._user_identity()
        if self.source == "kms.amazonaws.com":
            self.resources = self._kms_resources()
        elif self.event_name == "AssumeRole" and self.params.get("RoleArn"):
            self.resources = [
                {"accountId": self.account, "type": "AWS::IAM::Role", "ARN": self.params["RoleArn"]}
            ]

    def event(self, status: int, answer: bytes, request_id: str, trail: Trail) -> dict[str, Any]:
        error_code, error_message, response = None, None, None
        if status >= 400:
            error_code, error_message = _error_of(answer)
        elif self.source == "sts.amazonaws.com":
            response = self._sts_response(answer, trail)
        elif self.event_name == "CreateKey":
            metadata = json.loads(answer).get("KeyMetadata", {})
            response = {"keyMetadata": {"keyId": metadata.get("KeyId"), "arn": metadata.get("Arn")}}
            if metadata.get("Arn"):
                self.resources = [self._key_resource(metadata["Arn"])]
        if self.identity.get("type") == "AssumedRole":
            context = self.identity["sessionContext"]
            created = trail.session_created.get(self.access_key)
            if created is not None:
                context["attributes"]["creationDate"] = _iso(created)
            source_identity = trail.source_identities.get(self.access_key)
            if source_identity:
                context["sourceIdentity"] = source_identity
        event: dict[str, Any] = {
            "eventVersion": EVENT_VERSION,
            "userIdentity": self.identity,
            "eventTime": _iso(self.time),
            "eventSource": self.source,
            "eventName": self.event_name,
            "awsRegion": self.region,
            "sourceIPAddress": self.source_ip,
            "userAgent": self.user_agent,
        }
        if error_code is not None:
            event["errorCode"] = error_code
            event["errorMessage"] = error_message
        event.update(
            {
                "requestParameters": self._request_parameters(),
                "responseElements": response,
                "requestID": request_id,
                "eventID": str(uuid.uuid4()),
                "readOnly": self._read_only(),
                "resources": self.resources,
                "eventType": "AwsApiCall",
                "managementEvent": True,
                "recipientAccountId": self.account,
                "eventCategory": "Management",
            }
        )
        return event

    # -- parts ---------------------------------------------------------------------------------

    def _user_identity(self) -> dict[str, Any]:
        from local_endpoint import authorization

        try:
            caller = authorization.identify(
                self.access_key, self.account, session_token=self.session_token
            )
        except authorization.UnrecognizedCredentialsError:
            return {"type": "Unknown", "accessKeyId": self.access_key}
        base = {"arn": caller.arn, "accountId": caller.account, "accessKeyId": self.access_key}
        if caller.role_arn is not None:
            role = authorization.find_role(caller.account, caller.role_arn)
            role_id = getattr(role, "id", "AROAUNKNOWN")
            session_name = caller.arn.rsplit("/", 1)[-1]
            return {
                "type": "AssumedRole",
                "principalId": f"{role_id}:{session_name}",
                **base,
                "sessionContext": {
                    "sessionIssuer": {
                        "type": "Role",
                        "principalId": role_id,
                        "arn": caller.role_arn,
                        "accountId": caller.account,
                        "userName": caller.role_arn.rsplit("/", 1)[-1],
                    },
                    "attributes": {"mfaAuthenticated": "false"},
                },
            }
        from local_endpoint.patches import ADMINISTRATOR_USER_ID

        name = caller.user_name or authorization.ADMINISTRATOR_NAME
        principal_id = ADMINISTRATOR_USER_ID if caller.is_administrator else name
        return {"type": "IAMUser", "principalId": principal_id, **base, "userName": name}

    def _kms_resources(self) -> list[dict[str, str]]:
        from moto.kms.models import kms_backends

        backend = kms_backends[self.account][self.region]
        references = [self.params.get(name) for name in ("KeyId", "TargetKeyId", "SourceKeyId")]
        references += [self.params.get("DestinationKeyId")]
        alias = self.params.get("AliasName")
        resources: list[dict[str, str]] = []
        if isinstance(alias, str) and alias.startswith("alias/"):
            resources.append(
                {
                    "accountId": self.account,
                    "type": "AWS::KMS::Alias",
                    "ARN": f"arn:aws:kms:{self.region}:{self.account}:{alias}",
                }
            )
            references.insert(0, alias)
        for reference in references:
            if not isinstance(reference, str) or not reference:
                continue
            try:
                key = backend.describe_key(reference)
            except Exception:  # noqa: S112 - an unknown key: moto answers NotFound itself
                continue
            arn = getattr(key, "arn", None)
            if arn and all(r["ARN"] != arn for r in resources):
                resources.append(self._key_resource(arn))
        return resources

    def _key_resource(self, arn: str) -> dict[str, str]:
        return {"accountId": self.account, "type": "AWS::KMS::Key", "ARN": arn}

    def _request_parameters(self) -> dict[str, Any] | None:
        kept = {
            name[0].lower() + name[1:]: value
            for name, value in self.params.items()
            if name not in _UNLOGGED_PARAMETERS
        }
        if "durationSeconds" in kept:
            with contextlib.suppress(TypeError, ValueError):
                kept["durationSeconds"] = int(kept["durationSeconds"])
        return kept or None

    def _read_only(self) -> bool:
        name = self.event_name
        if self.source == "sts.amazonaws.com":
            return True
        return name in _READ_ONLY_KMS or name.startswith(("Get", "List", "Describe"))

    def _sts_response(self, answer: bytes, trail: Trail) -> dict[str, Any] | None:
        if self.event_name != "AssumeRole":
            return None
        text = answer.decode("utf-8", "replace")
        access_key = _xml_value(text, "AccessKeyId")
        response: dict[str, Any] = {
            "credentials": {
                "accessKeyId": access_key,
                "expiration": _xml_value(text, "Expiration"),
            },
            "assumedRoleUser": {
                "assumedRoleId": _xml_value(text, "AssumedRoleId"),
                "arn": _xml_value(text, "Arn"),
            },
        }
        if access_key:
            trail.session_created[access_key] = self.time
        source_identity = self.params.get("SourceIdentity")
        if source_identity and access_key:
            trail.source_identities[access_key] = source_identity
            response["sourceIdentity"] = source_identity
        return response


def _xml_value(text: str, element: str) -> str | None:
    found = re.search(rf"<{element}>([^<]*)</{element}>", text)
    return found.group(1) if found else None


def _error_of(answer: bytes) -> tuple[str, str]:
    """The error code and message of a JSON (KMS) or XML (STS) error answer."""
    text = answer.decode("utf-8", "replace")
    try:
        document = json.loads(text)
        code = str(document.get("__type", "Unknown")).rsplit("#", 1)[-1]
        message = str(document.get("message") or document.get("Message") or "")
    except ValueError:
        code = _xml_value(text, "Code") or "Unknown"
        message = _xml_value(text, "Message") or ""
    if code == "AccessDeniedException":
        code = "AccessDenied"  # how CloudTrail records KMS's refusal
    return code, message


# -- LookupEvents ---------------------------------------------------------------------------------


def _serve_cloudtrail(
    environ: dict[str, Any], start_response: Callable[..., Any], target: str, trail: Trail
) -> list[bytes]:
    operation = target[len(CLOUDTRAIL_TARGET_PREFIX) :]
    body = _read_body(environ)
    request_id = str(uuid.uuid4())
    status, document = 200, None
    try:
        _authorize_lookup(environ)
        if operation != "LookupEvents":
            raise LookupRefusedError(
                "UnsupportedOperationException",
                f"The local endpoint's CloudTrail answers LookupEvents only, not {operation}.",
            )
        request = json.loads(body) if body else {}
        if not isinstance(request, dict):
            raise LookupRefusedError(
                "InvalidParameterException", "The request must be a JSON object."
            )
        document = lookup_events(trail.snapshot(), request)
    except LookupRefusedError as error:
        status = 403 if error.code == "AccessDeniedException" else 400
        document = {"__type": error.code, "message": error.message}
    except ValueError:
        status, document = 400, {"__type": "SerializationException", "message": "Bad JSON."}
    answer = json.dumps(document).encode()
    headers = [
        ("Content-Type", "application/x-amz-json-1.1"),
        ("x-amzn-RequestId", request_id),
        ("Content-Length", str(len(answer))),
    ]
    if status != 200:
        headers.append(("x-amzn-ErrorType", document["__type"]))
    start_response(f"{status} {'OK' if status == 200 else 'Bad Request'}", headers)
    return [answer]


def _authorize_lookup(environ: dict[str, Any]) -> None:
    """The caller needs cloudtrail:LookupEvents in its IAM policies (the administrator has)."""
    from moto.iam.models import get_account_id_from

    from local_endpoint import authorization

    scope = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    access_key = scope.group(1) if scope else ""
    try:
        caller = authorization.identify(
            access_key,
            get_account_id_from(access_key),
            session_token=environ.get("HTTP_X_AMZ_SECURITY_TOKEN"),
        )
    except authorization.UnrecognizedCredentialsError as error:
        raise LookupRefusedError(error.code, error.message) from None
    action = "cloudtrail:LookupEvents"
    if not authorization.identity_policies_allow(caller, action, "*"):
        message = authorization.Denial(
            caller, action, "*", f"because no identity-based policy allows the {action} action"
        ).message
        raise LookupRefusedError("AccessDeniedException", message)


def lookup_events(events: list[dict[str, Any]], request: dict[str, Any]) -> dict[str, Any]:
    """CloudTrail LookupEvents over ``events`` (oldest first): newest first, one page."""
    start, end = _time(request, "StartTime"), _time(request, "EndTime")
    if start is not None and end is not None and start > end:
        raise LookupRefusedError(
            "InvalidTimeRangeException", "Start time must be less than or equal to end time."
        )
    max_results = request.get("MaxResults", MAX_RESULTS)
    if not isinstance(max_results, int) or not 1 <= max_results <= MAX_RESULTS:
        raise LookupRefusedError(
            "InvalidMaxResultsException", f"MaxResults must be between 1 and {MAX_RESULTS}."
        )
    attributes = request.get("LookupAttributes") or []
    if not isinstance(attributes, list) or len(attributes) > 1:
        raise LookupRefusedError(
            "InvalidLookupAttributesException", "Only one LookupAttribute may be specified."
        )
    attribute = attributes[0] if attributes else None
    if attribute is not None and (
        not isinstance(attribute, dict) or attribute.get("AttributeKey") not in LOOKUP_KEYS
    ):
        raise LookupRefusedError(
            "InvalidLookupAttributesException",
            f"AttributeKey must be one of {', '.join(LOOKUP_KEYS)}.",
        )
    category = request.get("EventCategory")
    if category not in (None, "insight"):
        raise LookupRefusedError("InvalidEventCategoryException", "EventCategory must be insight.")
    fingerprint = _fingerprint(request)
    before = _from_token(request.get("NextToken"), fingerprint)
    matching = [
        event
        for event in reversed(events)
        if (before is None or event["_sequence"] < before)
        and category is None
        and _in_range(event, start, end)
        and (attribute is None or _has_attribute(event, attribute))
    ]
    page = matching[:max_results]
    answer: dict[str, Any] = {"Events": [_lookup_event(event) for event in page]}
    if len(matching) > max_results:
        answer["NextToken"] = _to_token(page[-1]["_sequence"], fingerprint)
    return answer


def _time(request: dict[str, Any], name: str) -> float | None:
    value = request.get(name)
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise LookupRefusedError("InvalidTimeRangeException", f"{name} is not a time.") from None


def _event_time(event: dict[str, Any]) -> float:
    moment = datetime.strptime(event["eventTime"], "%Y-%m-%dT%H:%M:%SZ")
    return moment.replace(tzinfo=UTC).timestamp()


def _in_range(event: dict[str, Any], start: float | None, end: float | None) -> bool:
    moment = _event_time(event)
    return (start is None or moment >= start) and (end is None or moment <= end)


def _username(event: dict[str, Any]) -> str | None:
    identity = event["userIdentity"]
    if identity.get("type") == "AssumedRole":
        return identity["arn"].rsplit("/", 1)[-1]  # the role session name
    return identity.get("userName")


def _has_attribute(event: dict[str, Any], attribute: dict[str, Any]) -> bool:
    key, value = attribute["AttributeKey"], attribute.get("AttributeValue")
    if key == "ResourceType":
        return any(r.get("type") == value for r in event["resources"])
    if key == "ResourceName":
        return any(r.get("ARN") == value for r in event["resources"])
    actual = {
        "EventId": event["eventID"],
        "EventName": event["eventName"],
        "ReadOnly": str(event["readOnly"]).lower(),
        "Username": _username(event),
        "EventSource": event["eventSource"],
        "AccessKeyId": event["userIdentity"].get("accessKeyId"),
    }[key]
    return actual == value


def _lookup_event(event: dict[str, Any]) -> dict[str, Any]:
    record = {k: v for k, v in event.items() if not k.startswith("_")}
    answer: dict[str, Any] = {
        "EventId": event["eventID"],
        "EventName": event["eventName"],
        "ReadOnly": str(event["readOnly"]).lower(),
        "EventTime": _event_time(event),
        "EventSource": event["eventSource"],
        "Resources": [
            {"ResourceType": r["type"], "ResourceName": r["ARN"]} for r in event["resources"]
        ],
        "CloudTrailEvent": json.dumps(record),
    }
    access_key = event["userIdentity"].get("accessKeyId")
    if access_key:
        answer["AccessKeyId"] = access_key
    username = _username(event)
    if username:
        answer["Username"] = username
    return answer


def _fingerprint(request: dict[str, Any]) -> str:
    """The request's filters: a NextToken is only good for the request that issued it."""
    filters = {k: v for k, v in request.items() if k not in ("NextToken", "MaxResults")}
    return hashlib.sha256(json.dumps(filters, sort_keys=True).encode()).hexdigest()[:16]


def _to_token(sequence: int, fingerprint: str) -> str:
    return base64.urlsafe_b64encode(f"{fingerprint}:{sequence}".encode()).decode()


def _from_token(token: Any, fingerprint: str) -> int | None:
    if token is None:
        return None
    try:
        issued_for, _, sequence = base64.urlsafe_b64decode(str(token)).decode().partition(":")
        if issued_for == fingerprint:
            return int(sequence)
    except ValueError:
        pass
    raise LookupRefusedError("InvalidNextTokenException", "Invalid NextToken.")
