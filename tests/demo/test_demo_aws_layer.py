"""The AWS layer: sessions, bounded retries, call counting and error translation.

Every request here is answered in process by a botocore ``before-send`` hook, which sits
inside botocore's retry loop: what is tested is botocore's real retry behaviour.
"""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import botocore.exceptions
import pytest

from kms_sign_encrypt import aws, kms
from kms_sign_encrypt.errors import (
    AccessDeniedError,
    AuthenticationError,
    AwsServiceError,
    CredentialsError,
    ThrottledError,
)
from tests.demo.demo_testkit import aws_error

SENDER_SESSION = "arn:aws:sts::123456789012:assumed-role/SenderRole/kms-sign-encrypt-demo-sender"
KEY = "alias/sample-encrypt-decrypt-key"


def session(max_attempts: int = 3, principal: str | None = SENDER_SESSION) -> aws.AwsSession:
    caller = aws.open_caller_session(
        profile=None,
        region=None,
        settings=aws.ClientSettings(max_attempts=max_attempts),
        metrics=aws.CallMetrics(),
    )
    caller.principal = principal
    return caller


def answer_with(s: aws.AwsSession, handler: object) -> None:
    """Answer every request of ``s`` with ``handler``. Registered on the boto3 session before
    ``s`` made any client, so every client it makes carries it."""
    s.session.events.register("before-send", handler)


@pytest.mark.usefixtures("fake_aws_env")
def test_throttling_is_retried_a_bounded_number_of_times_then_one_clear_error(
    no_sleep: list[float],
) -> None:
    s = session(max_attempts=3)
    answer_with(s, aws_error("ThrottlingException", "Rate exceeded"))
    with pytest.raises(ThrottledError) as caught:
        kms.encrypt(s, KEY, b"k" * 32)
    assert s.metrics.attempts == 3
    assert s.metrics.calls["kms:Encrypt"] == 1
    assert len(no_sleep) == 2  # backoff between attempts, none after the last
    assert all(0 <= delay <= 20 for delay in no_sleep)
    message = str(caught.value)
    assert "kms:Encrypt was throttled (ThrottlingException)" in message
    assert "after 3 attempts" in message
    assert "allow more attempts" in message
    assert caught.value.setting == "max_attempts"


@pytest.mark.usefixtures("fake_aws_env")
def test_one_attempt_means_no_retry(no_sleep: list[float]) -> None:
    s = session(max_attempts=1)
    answer_with(s, aws_error("ThrottlingException", "Rate exceeded"))
    with pytest.raises(ThrottledError):
        kms.encrypt(s, KEY, b"k" * 32)
    assert s.metrics.attempts == 1
    assert no_sleep == []


@pytest.mark.usefixtures("fake_aws_env")
def test_access_denied_names_principal_action_and_the_statement_that_would_allow_it() -> None:
    s = session()
    answer_with(s, aws_error("AccessDeniedException", "no resource-based policy allows it"))
    with pytest.raises(AccessDeniedError) as caught:
        kms.decrypt(s, KEY, b"\0" * 512)
    error = caught.value
    assert error.principal == SENDER_SESSION
    assert error.action == "kms:Decrypt"
    assert error.resource == KEY
    assert str(error) == (
        f"access denied: {SENDER_SESSION} may not call kms:Decrypt on {KEY}; the key policy "
        'would need: {"Effect": "Allow", "Principal": {"AWS": '
        '"arn:aws:iam::123456789012:role/SenderRole"}, "Action": "kms:Decrypt", '
        '"Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionAlgorithm": '
        '"RSAES_OAEP_SHA_256"}}}'
    )


@pytest.mark.usefixtures("fake_aws_env")
def test_access_denied_for_an_unknown_caller_takes_the_principal_from_the_aws_message() -> None:
    s = session(principal=None)
    admin = "arn:aws:iam::123456789012:user/admin"
    answer_with(
        s,
        aws_error("AccessDeniedException", f"User: {admin} is not authorized to perform: kms:Sign"),
    )
    with pytest.raises(AccessDeniedError) as caught:
        kms.sign(s, "alias/sample-sign-verify-key", b"m")
    assert caught.value.principal == admin
    assert '"kms:SigningAlgorithm": "ECDSA_SHA_512"' in str(caught.value)


@pytest.mark.usefixtures("fake_aws_env")
def test_assume_role_denied_points_at_the_trust_policy() -> None:
    s = session(principal="arn:aws:iam::123456789012:user/admin")
    answer_with(s, aws_error("AccessDenied", "not authorized", 403, xml=True))
    with pytest.raises(AccessDeniedError) as caught:
        aws.assume_role(s, "arn:aws:iam::123456789012:role/SenderRole", party="sender")
    assert "sts:AssumeRole" in str(caught.value)
    assert "trust policy of arn:aws:iam::123456789012:role/SenderRole" in str(caught.value)


@pytest.mark.usefixtures("fake_aws_env")
@pytest.mark.parametrize("code", ["InvalidCiphertextException", "KMSInvalidSignatureException"])
def test_kms_authentication_failures_become_one_opaque_error(code: str) -> None:
    s = session()
    answer_with(s, aws_error(code, "details an attacker should not learn"))
    with pytest.raises(AuthenticationError) as caught:
        kms.decrypt(s, KEY, b"\0" * 512)
    assert "details" not in str(caught.value)
    assert "cannot be authenticated" in str(caught.value)


@pytest.mark.usefixtures("fake_aws_env")
def test_an_invalid_signature_is_false_not_an_error() -> None:
    s = session()
    answer_with(s, aws_error("KMSInvalidSignatureException", ""))
    assert kms.verify(s, "alias/sample-sign-verify-key", b"m", b"s") is False


@pytest.mark.usefixtures("fake_aws_env")
@pytest.mark.parametrize("code", ["UnrecognizedClientException", "ExpiredTokenException"])
def test_rejected_credentials_say_so(code: str) -> None:
    s = session()
    answer_with(s, aws_error(code, "The security token included in the request is invalid"))
    with pytest.raises(CredentialsError) as caught:
        kms.encrypt(s, KEY, b"k")
    assert str(caught.value) == (
        f"AWS rejected the credentials for kms:Encrypt ({code}): The security token included in "
        f"the request is invalid; {aws.CREDENTIALS_REMEDY}"
    )


@pytest.mark.usefixtures("fake_aws_env")
def test_an_expired_sso_login_says_what_to_do() -> None:
    s = session()

    def expired(**_: object) -> None:
        raise botocore.exceptions.UnauthorizedSSOTokenError()

    answer_with(s, expired)
    with pytest.raises(CredentialsError) as caught:
        kms.encrypt(s, KEY, b"k")
    assert str(caught.value).startswith("no usable AWS credentials for kms:Encrypt: ")
    assert str(caught.value).endswith(aws.CREDENTIALS_REMEDY)


@pytest.mark.usefixtures("fake_aws_env")
def test_metrics_count_calls_attempts_and_wire_bytes() -> None:
    s = session()
    answer_with(s, aws_error("KMSInvalidSignatureException", ""))
    kms.verify(s, "alias/sample-sign-verify-key", b"m", b"s")
    kms.verify(s, "alias/sample-sign-verify-key", b"m", b"s")
    snapshot = s.metrics.snapshot()
    assert snapshot["calls"] == {"kms:Verify": 2}
    assert snapshot["kms_calls"] == 2
    assert snapshot["sts_calls"] == 0
    assert snapshot["http_attempts"] == 2
    assert snapshot["wire_bytes_sent"] > 0
    assert snapshot["wire_bytes_received"] > 0


@pytest.mark.usefixtures("fake_aws_env")
def test_an_unreachable_endpoint_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    s = session(max_attempts=1)
    with pytest.raises(AwsServiceError, match=r"is the local endpoint at http://127\.0\.0\.1:9"):
        kms.encrypt(s, KEY, b"k")


@pytest.mark.usefixtures("clean_aws_env")
def test_no_credentials_is_a_credentials_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with pytest.raises(CredentialsError, match="no AWS credentials found"):
        session()


def test_no_region_is_a_credentials_error(
    fake_aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_REGION")
    with pytest.raises(CredentialsError, match="no AWS region configured: name a region"):
        session()


def test_a_malformed_region_says_what_to_pass(
    fake_aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "us east 1")
    with pytest.raises(CredentialsError, match=r"^'us east 1' is not an AWS region name: name"):
        kms.encrypt(session(), KEY, b"k")


@pytest.mark.parametrize("broken", ["no-config", "no-credentials"])
def test_an_unreadable_aws_config_file_is_named(
    fake_aws_env: Path, monkeypatch: pytest.MonkeyPatch, broken: str
) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name)
    (fake_aws_env / broken).write_text("[default\nregion = us-east-1\n")
    with pytest.raises(CredentialsError) as caught:
        session()
    assert str(caught.value).endswith(
        f"Unable to parse config file: {fake_aws_env / broken}: {aws.CONFIG_REMEDY}"
    )


@pytest.mark.usefixtures("fake_aws_env")
def test_an_unknown_profile_is_named() -> None:
    with pytest.raises(CredentialsError, match="AWS profile 'nobody' not found"):
        aws.open_caller_session(
            profile="nobody",
            region="us-east-1",
            settings=aws.ClientSettings(),
            metrics=aws.CallMetrics(),
        )


def test_profile_and_region_come_from_the_config_files(
    clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (clean_aws_env / "no-config").write_text("[profile demo]\nregion = eu-west-1\n")
    (clean_aws_env / "no-credentials").write_text(
        "[demo]\naws_access_key_id = AKIAIOSFODNN7EXAMPLE\naws_secret_access_key = x\n"
    )
    s = aws.open_caller_session(
        profile="demo", region=None, settings=aws.ClientSettings(), metrics=aws.CallMetrics()
    )
    assert s.region == "eu-west-1"
    overridden = aws.open_caller_session(
        profile="demo", region="us-west-2", settings=aws.ClientSettings(), metrics=aws.CallMetrics()
    )
    assert overridden.region == "us-west-2"


def test_client_settings_bound_retries_and_timeouts() -> None:
    config = aws.ClientSettings(retry_mode="adaptive", max_attempts=4).botocore_config()
    assert config.retries == {"mode": "adaptive", "total_max_attempts": 4}
    assert config.connect_timeout == aws.DEFAULT_CONNECT_TIMEOUT
    assert config.read_timeout == aws.DEFAULT_READ_TIMEOUT


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"retry_mode": "legacy"}, "retry mode must be one of standard, adaptive, got 'legacy'"),
        ({"max_attempts": 0}, "max attempts must be 1-10, got 0"),
        ({"max_attempts": 11}, "max attempts must be 1-10, got 11"),
    ],
)
def test_client_settings_refuse_unbounded_values(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        aws.ClientSettings(**kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("principal", "role"),
    [
        (SENDER_SESSION, "arn:aws:iam::123456789012:role/SenderRole"),
        (
            "arn:aws-us-gov:sts::123456789012:assumed-role/R/s1",
            "arn:aws-us-gov:iam::123456789012:role/R",
        ),
        ("arn:aws:iam::123456789012:user/admin", "arn:aws:iam::123456789012:user/admin"),
        (  # an IAM Identity Center role keeps the path AWS gives it
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123456789abcdef/jane",
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/"
            "AWSReservedSSO_Admin_0123456789abcdef",
        ),
    ],
)
def test_role_of_maps_an_assumed_role_session_to_its_role(principal: str, role: str) -> None:
    assert aws.role_of(principal) == role


def test_role_hints_take_the_path_iam_reports() -> None:
    """A session ARN has no path; the hint asks IAM (GetRole) for the ARN a policy must name."""
    from botocore.stub import Stubber

    session = aws.AwsSession(
        session=boto3.Session(
            region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x"
        ),
        party="caller",
        settings=aws.ClientSettings(),
        metrics=aws.CallMetrics(),
    )
    pathed = "arn:aws:iam::123456789012:role/teams/payments/Sender"
    with Stubber(session.client("iam")) as stub:
        stub.add_response(
            "get_role",
            {
                "Role": {
                    "Path": "/teams/payments/",
                    "RoleName": "Sender",
                    "RoleId": "AROAEXAMPLEEXAMPLE01",
                    "Arn": pathed,
                    "CreateDate": "2026-01-01T00:00:00Z",
                    "AssumeRolePolicyDocument": "{}",
                }
            },
            {"RoleName": "Sender"},
        )
        found = aws.role_arn_with_path(session, "arn:aws:sts::123456789012:assumed-role/Sender/s")
    assert found == pathed
    assert json.loads(aws.statement_needed("x", "kms:Sign", found))["Principal"] == {"AWS": pathed}
