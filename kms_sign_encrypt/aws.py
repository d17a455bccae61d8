"""The thin AWS layer: sessions, clients, AssumeRole, call counting and error translation.

The same code serves AWS and the local endpoint: boto3 reads ``AWS_ENDPOINT_URL`` itself, so
nothing here knows which one it talks to. Every client uses botocore's ``standard`` retry
mode with a bounded number of attempts and bounded timeouts, so throttling waits a little
and then fails with one clear line instead of hanging.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import boto3
import botocore.exceptions as bce
from botocore.config import Config
from botocore.parsers import ResponseParserError

from kms_sign_encrypt.errors import (
    AccessDeniedError,
    AuthenticationError,
    AwsServiceError,
    CredentialsError,
    KmsSignEncryptError,
    NotDeployedError,
    ThrottledError,
)

RETRY_MODES = ("standard", "adaptive")
DEFAULT_MAX_ATTEMPTS = 5
MAX_ATTEMPTS_RANGE = (1, 10)
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 30.0
APP_ID = "kms-sign-encrypt-demo"
SESSION_SECONDS = 3600

THROTTLING_CODES = frozenset(
    {"ThrottlingException", "Throttling", "RequestLimitExceeded", "TooManyRequestsException"}
)
DENIED_CODES = frozenset({"AccessDeniedException", "AccessDenied"})
REJECTED_CREDENTIAL_CODES = frozenset(
    {
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "ExpiredToken",
        "ExpiredTokenException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidSignatureException",
    }
)
# KMS answers a wrong ciphertext or signature with these; both mean "cannot be authenticated".
AUTHENTICATION_CODES = frozenset(
    {"InvalidCiphertextException", "KMSInvalidSignatureException", "IncorrectKeyException"}
)
# The key-policy condition each crypto action carries in this project's stack.
ACTION_CONDITIONS: Mapping[str, tuple[str, str]] = {
    "kms:Encrypt": ("kms:EncryptionAlgorithm", "RSAES_OAEP_SHA_256"),
    "kms:Decrypt": ("kms:EncryptionAlgorithm", "RSAES_OAEP_SHA_256"),
    "kms:Sign": ("kms:SigningAlgorithm", "ECDSA_SHA_512"),
    "kms:Verify": ("kms:SigningAlgorithm", "ECDSA_SHA_512"),
}

CONFIG_REMEDY = (
    "fix that file, or point AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE at good ones"
)
CREDENTIALS_REMEDY = (
    "renew or replace them (aws sso login, aws configure, or fresh AWS_ACCESS_KEY_ID, "
    "AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN), or pick another profile"
)
_ASSUMED_ROLE = re.compile(r"^arn:(aws[\w-]*):sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[^/]+$")
_DENIED_PRINCIPAL = re.compile(r"User: (arn:\S+) is not authorized")


@dataclass(frozen=True)
class ClientSettings:
    """How every client retries and times out."""

    retry_mode: str = "standard"
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT

    def __post_init__(self) -> None:
        if self.retry_mode not in RETRY_MODES:
            raise ValueError(
                f"retry mode must be one of {', '.join(RETRY_MODES)}, got {self.retry_mode!r}"
            )
        low, high = MAX_ATTEMPTS_RANGE
        if not low <= self.max_attempts <= high:
            raise ValueError(f"max attempts must be {low}-{high}, got {self.max_attempts}")

    def botocore_config(self) -> Config:
        return Config(
            retries={"mode": self.retry_mode, "total_max_attempts": self.max_attempts},
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            user_agent_appid=APP_ID,
        )


@dataclass
class CallMetrics:
    """API calls, HTTP attempts and wire bytes, counted with botocore event hooks."""

    calls: Counter[str] = field(default_factory=Counter)
    # Each KMS call's request ID, as CloudTrail records it (requestID): the thread to the trail.
    kms_requests: list[dict[str, Any]] = field(default_factory=list)
    attempts: int = 0
    bytes_sent: int = 0
    bytes_received: int = 0

    def attach(self, session: boto3.Session) -> None:
        """Register on a session; clients created afterwards copy the hooks."""
        session.events.register("before-call", self._on_call)
        session.events.register("before-send", self._on_send)
        session.events.register("response-received", self._on_response)
        session.events.register("after-call.kms", self._on_kms_answer)

    def count(self, service: str) -> int:
        prefix = f"{service}:"
        return sum(n for action, n in self.calls.items() if action.startswith(prefix))

    def snapshot(self) -> dict[str, Any]:
        return {
            "calls": dict(sorted(self.calls.items())),
            "kms_calls": self.count("kms"),
            "sts_calls": self.count("sts"),
            "http_attempts": self.attempts,
            "wire_bytes_sent": self.bytes_sent,
            "wire_bytes_received": self.bytes_received,
            "kms_requests": list(self.kms_requests),
        }

    def _on_kms_answer(self, http_response: Any, parsed: Any, model: Any, **_: Any) -> None:
        metadata = parsed.get("ResponseMetadata", {}) if isinstance(parsed, dict) else {}
        self.kms_requests.append(
            {
                "operation": model.name,
                "request_id": metadata.get("RequestId"),
                "status": getattr(http_response, "status_code", None),
                "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            }
        )

    def _on_call(self, model: Any, **_: Any) -> None:
        prefix = model.service_model.signing_name or model.service_model.endpoint_prefix
        self.calls[f"{prefix}:{model.name}"] += 1

    def _on_send(self, request: Any, **_: Any) -> None:
        self.attempts += 1
        body = request.body
        if isinstance(body, bytes | str):
            self.bytes_sent += len(body)

    def _on_response(self, response_dict: Any = None, **_: Any) -> None:
        if response_dict is not None:
            body = response_dict.get("body") or b""
            self.bytes_received += len(body)


@dataclass
class AwsSession:
    """A boto3 session for one party (administrator, sender or receiver)."""

    session: boto3.Session
    party: str
    settings: ClientSettings
    metrics: CallMetrics
    principal: str | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def region(self) -> str:
        return self.session.region_name or ""

    def client(self, service: str) -> Any:
        if service not in self._clients:
            self._clients[service] = self.session.client(
                service, config=self.settings.botocore_config()
            )
        return self._clients[service]


def open_caller_session(
    *,
    profile: str | None,
    region: str | None,
    settings: ClientSettings,
    metrics: CallMetrics,
) -> AwsSession:
    """The caller's own session from the standard credential chain, profile and region.

    Region: ``region``, else ``AWS_REGION`` (which the AWS CLI v2 and the other SDKs read
    but botocore does not), else botocore's own ``AWS_DEFAULT_REGION`` and profile.
    """
    region = region or os.environ.get("AWS_REGION") or None
    try:
        session = boto3.Session(profile_name=profile, region_name=region)
        session_region = session.region_name
    except bce.ProfileNotFound as exc:
        raise CredentialsError(
            f"AWS profile {exc.kwargs.get('profile', profile)!r} not found in the AWS config "
            "files: check the profile name or AWS_PROFILE",
            setting="profile",
        ) from None
    except bce.ConfigParseError as exc:
        raise CredentialsError(f"{exc}: {CONFIG_REMEDY}") from None
    if not session_region:
        raise CredentialsError(
            "no AWS region configured: name a region or set AWS_REGION (the region the stack "
            "was deployed to)",
            setting="region",
        )
    try:
        credentials = session.get_credentials()
    except bce.BotoCoreError as exc:
        raise CredentialsError(f"cannot load AWS credentials: {exc}: {CONFIG_REMEDY}") from None
    if credentials is None:
        raise CredentialsError(
            "no AWS credentials found: configure the AWS CLI (aws configure or aws sso login), "
            "name a profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
            setting="profile",
        )
    metrics.attach(session)
    return AwsSession(session=session, party="administrator", settings=settings, metrics=metrics)


def assume_role(
    caller: AwsSession,
    role_arn: str,
    *,
    party: str,
    external_id: str | None = None,
) -> AwsSession:
    """AssumeRole from the caller's credentials; the result is a session for that role."""
    params: dict[str, Any] = {
        "RoleArn": role_arn,
        "RoleSessionName": f"{APP_ID}-{party}",
        "DurationSeconds": SESSION_SECONDS,
    }
    if external_id:
        params["ExternalId"] = external_id
    with translated(caller, "sts:AssumeRole", role_arn):
        answer = caller.client("sts").assume_role(**params)
    creds = answer["Credentials"]
    session = boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=caller.region,
        profile_name=caller.session.profile_name if _has_profile(caller.session) else None,
    )
    caller.metrics.attach(session)
    return AwsSession(
        session=session,
        party=party,
        settings=caller.settings,
        metrics=caller.metrics,
        principal=answer["AssumedRoleUser"]["Arn"],
    )


def _has_profile(session: boto3.Session) -> bool:
    name = session.profile_name
    return bool(name) and name in session.available_profiles


# A session ARN drops its role's path, but IAM and KMS need the role ARN with it. Paths that
# AWS itself gives roles (IAM Identity Center's permission-set roles; IAM User Guide, "IAM
# identifiers" and the IAM Identity Center guide, "Referencing permission sets"):
_KNOWN_ROLE_PATHS = (("AWSReservedSSO_", "aws-reserved/sso.amazonaws.com/"),)


def role_of(principal: str, path: str | None = None) -> str:
    """An assumed-role session ARN as its role ARN (what a key policy names); else unchanged.

    ``path`` is the role's path (``team/`` for ``/team/``), when known; otherwise a path AWS
    gives that kind of role (``aws-reserved/sso.amazonaws.com/`` for SSO roles), or none.
    Ask IAM for the real one with :func:`role_arn_with_path`. The conversion itself is
    ``keypolicy.role_arn_of_session``, written once.
    """
    from keypolicy import role_arn_of_session

    match = _ASSUMED_ROLE.match(principal)
    if not match:
        return principal
    if path is None:
        role = match.group(3)
        path = next((p for prefix, p in _KNOWN_ROLE_PATHS if role.startswith(prefix)), "")
    path = path.strip("/")
    return role_arn_of_session(principal, f"/{path}/" if path else "/")


def role_arn_with_path(session: AwsSession, principal: str) -> str:
    """The role ARN of a session, path included, from iam:GetRole when the caller may ask."""
    match = _ASSUMED_ROLE.match(principal)
    if not match:
        return principal
    try:
        return str(session.client("iam").get_role(RoleName=match.group(3))["Role"]["Arn"])
    except (bce.ClientError, bce.BotoCoreError, ResponseParserError, KeyError):
        return role_of(principal)


def statement_needed(principal: str, action: str, role_arn: str | None = None) -> str:
    """The key-policy statement that would allow ``principal`` to call ``action``.

    ``role_arn`` is the session's role ARN with its path, when known (role_arn_with_path).
    """
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": role_arn or role_of(principal)},
        "Action": action,
        "Resource": "*",
    }
    if action in ACTION_CONDITIONS:
        key, value = ACTION_CONDITIONS[action]
        statement["Condition"] = {"StringEquals": {key: value}}
    return json.dumps(statement, separators=(", ", ": "))


@contextmanager
def translated(session: AwsSession, action: str, resource: str) -> Iterator[None]:
    """Turn botocore exceptions raised inside into the demo's domain errors."""
    try:
        yield
    except KmsSignEncryptError:
        raise
    except bce.ClientError as exc:
        raise _from_client_error(session, action, resource, exc) from None
    except (
        bce.NoCredentialsError,
        bce.PartialCredentialsError,
        bce.CredentialRetrievalError,  # credential_process, an assume-role profile
        bce.SSOError,  # an expired or missing SSO login
        bce.TokenRetrievalError,
    ) as exc:
        raise CredentialsError(
            f"no usable AWS credentials for {action}: {exc}; {CREDENTIALS_REMEDY}"
        ) from None
    except bce.InvalidRegionError as exc:
        raise CredentialsError(
            f"{exc.kwargs.get('region_name', session.region)!r} is not an AWS region name: name "
            "(or set AWS_REGION) the region the stack was deployed to, like us-east-1",
            setting="region",
        ) from None
    except bce.NoRegionError:
        raise CredentialsError(
            "no AWS region configured: name a region or set AWS_REGION", setting="region"
        ) from None
    except bce.EndpointConnectionError as exc:
        where = os.environ.get("AWS_ENDPOINT_URL")
        hint = (
            f"is the local endpoint at {where} running?"
            if where
            else f"is the region name {session.region!r} right?"
        )
        raise AwsServiceError(
            f"cannot reach AWS for {action} ({exc.kwargs.get('endpoint_url', '')}): {hint}"
        ) from None
    except (bce.ConnectTimeoutError, bce.ReadTimeoutError) as exc:
        raise AwsServiceError(f"{action} timed out: {exc}") from None
    except ResponseParserError:
        raise AwsServiceError(
            f"{action}: the answer was not an AWS response (is AWS_ENDPOINT_URL right?)"
        ) from None
    except bce.ParamValidationError as exc:
        raise AwsServiceError(f"{action}: invalid parameters: {exc}") from None
    except bce.BotoCoreError as exc:
        raise AwsServiceError(f"{action} failed: {exc}") from None


def _from_client_error(
    session: AwsSession, action: str, resource: str, exc: bce.ClientError
) -> KmsSignEncryptError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")).strip()
    attempts = exc.response.get("ResponseMetadata", {}).get("RetryAttempts", 0) + 1
    if code in DENIED_CODES:
        return _access_denied(session, action, resource, message)
    if code in THROTTLING_CODES:
        return ThrottledError(
            f"{action} was throttled ({code}) and still refused after {attempts} attempts with "
            f"{session.settings.retry_mode} retries: KMS request quotas are per account and "
            "region (ECC 300/s, RSA 500/s); try again later or allow more attempts",
            setting="max_attempts",
        )
    if code in AUTHENTICATION_CODES:
        return AuthenticationError()
    if code in REJECTED_CREDENTIAL_CODES:
        return CredentialsError(
            f"AWS rejected the credentials for {action} ({code}): {message.rstrip('.')}; "
            f"{CREDENTIALS_REMEDY}"
        )
    if code == "NotFoundException" and "alias/" in resource:
        # Issue 13: an alias (name or ARN of the caller's account) resolves only in the
        # caller's own account; a key in another account must be named by its key ARN.
        return NotDeployedError(
            f"{resource} not found in region {session.region} of the caller's account: an "
            "alias names a key only in its own account, so a key in another account must be "
            "named by its key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID, from the key-owner "
            "stack's outputs); use the key ARN",
            setting="key",
        )
    if code == "NotFoundException":
        return NotDeployedError(
            f"{resource} not found in region {session.region}: deploy the stack first, or check "
            "the region and the keys named",
            setting="region",
        )
    if code == "ValidationError" and "does not exist" in message:
        return NotDeployedError(
            f"stack {resource!r} not found in region {session.region}: deploy it first "
            "(cdk deploy), or name another stack, region or outputs file",
            setting="stack",
        )
    return AwsServiceError(f"{action} failed ({code}): {message}")


def _access_denied(
    session: AwsSession, action: str, resource: str, message: str
) -> KmsSignEncryptError:
    principal = session.principal
    if principal is None:
        found = _DENIED_PRINCIPAL.search(message)
        principal = found.group(1) if found else f"the {session.party}'s credentials"
    role_arn = role_arn_with_path(session, principal) if ":assumed-role/" in principal else None
    if action == "sts:AssumeRole":
        need = (
            f"the trust policy of {resource} must allow sts:AssumeRole for "
            f"{role_arn or role_of(principal)} (sample:senderPrincipals or "
            "sample:receiverPrincipals), and the caller's IAM policy "
            "must allow it too"
        )
    elif action.startswith("kms:"):
        need = f"the key policy would need: {statement_needed(principal, action, role_arn)}"
    else:
        need = f"an IAM policy allowing {action} on {resource} is needed"
    return AccessDeniedError(
        f"access denied: {principal} may not call {action} on {resource}; {need}",
        principal=principal,
        action=action,
        resource=resource,
    )
