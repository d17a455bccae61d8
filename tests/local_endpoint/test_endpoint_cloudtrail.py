"""The endpoint's audit trail: a CloudTrail-shaped event for each KMS and STS call, denied ones
included, and cloudtrail:LookupEvents answering from it (boto3 and the AWS CLI).

Each test runs against its own endpoint (module scope): the trail only grows, so counts are
exact. The role, key and policies are made here, not by the stack, so that the shape of each
event can be pinned without a deployment.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from local_endpoint import LocalEndpoint

ACCOUNT = "123456789012"
ROLE_NAME = "AuditedSigner"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE_NAME}"
AWS_CLI = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "aws"
ECDSA = "ECDSA_SHA_512"
SECRET_MESSAGE = b"never in the trail"


def _key_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "Admin",
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "kms:*",
                    "Resource": "*",
                },
                {
                    "Sid": "RoleSigns",
                    "Effect": "Allow",
                    "Principal": {"AWS": ROLE_ARN},
                    "Action": "kms:Sign",
                    "Resource": "*",
                },
            ],
        }
    )


def _trust_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": ["sts:AssumeRole", "sts:SetSourceIdentity"],
                }
            ],
        }
    )


@pytest.fixture(scope="module")
def audited():
    """An endpoint where a role session signed once, was denied once, and an AssumeRole of a
    role that does not exist was refused."""
    with LocalEndpoint() as endpoint:
        endpoint.client("iam").create_role(
            RoleName=ROLE_NAME, AssumeRolePolicyDocument=_trust_policy()
        )
        kms = endpoint.client("kms")
        key_arn = kms.create_key(
            KeySpec="ECC_NIST_P521", KeyUsage="SIGN_VERIFY", Policy=_key_policy()
        )["KeyMetadata"]["Arn"]
        sts = endpoint.client("sts")
        credentials = sts.assume_role(
            RoleArn=ROLE_ARN, RoleSessionName="auditor-test", SourceIdentity="alice@example.com"
        )["Credentials"]
        session = endpoint.client(
            "kms",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
        signed = session.sign(KeyId=key_arn, Message=SECRET_MESSAGE, SigningAlgorithm=ECDSA)
        with pytest.raises(ClientError) as denied:
            session.verify(
                KeyId=key_arn,
                Message=SECRET_MESSAGE,
                Signature=signed["Signature"],
                SigningAlgorithm=ECDSA,
            )
        with pytest.raises(ClientError):
            sts.assume_role(RoleArn=f"arn:aws:iam::{ACCOUNT}:role/Missing", RoleSessionName="xx")
        yield {
            "endpoint": endpoint,
            "key_arn": key_arn,
            "access_key": credentials["AccessKeyId"],
            "sign_request_id": signed["ResponseMetadata"]["RequestId"],
            "verify_request_id": denied.value.response["ResponseMetadata"]["RequestId"],
        }


def _events(endpoint: LocalEndpoint, **request) -> list[dict]:
    trail = endpoint.client("cloudtrail")
    pages = trail.get_paginator("lookup_events").paginate(**request)
    return [event for page in pages for event in page["Events"]]


def _record(event: dict) -> dict:
    return json.loads(event["CloudTrailEvent"])


def _only(endpoint: LocalEndpoint, name: str) -> dict:
    events = _events(
        endpoint, LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]
    )
    assert len(events) == 1, [e["EventName"] for e in events]
    return events[0]


def test_a_sign_by_a_role_session_is_recorded_as_cloudtrail_records_it(audited) -> None:
    event = _only(audited["endpoint"], "Sign")
    record = _record(event)
    assert record["eventSource"] == "kms.amazonaws.com"
    assert record["requestID"] == audited["sign_request_id"]  # what the caller got back
    assert record["requestParameters"] == {
        "keyId": audited["key_arn"],
        "signingAlgorithm": ECDSA,
    }
    assert record["resources"] == [
        {"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": audited["key_arn"]}
    ]
    identity = record["userIdentity"]
    assert identity["type"] == "AssumedRole"
    assert identity["arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE_NAME}/auditor-test"
    assert identity["accessKeyId"] == audited["access_key"]
    assert identity["sessionContext"]["sessionIssuer"]["arn"] == ROLE_ARN
    assert identity["sessionContext"]["sourceIdentity"] == "alice@example.com"
    assert "errorCode" not in record
    assert event["Username"] == "auditor-test"
    assert event["Resources"] == [
        {"ResourceType": "AWS::KMS::Key", "ResourceName": audited["key_arn"]}
    ]


def test_a_denied_kms_call_is_recorded_with_its_error(audited) -> None:
    record = _record(_only(audited["endpoint"], "Verify"))
    assert record["errorCode"] == "AccessDenied"
    assert "is not authorized to perform: kms:Verify" in record["errorMessage"]
    assert record["requestID"] == audited["verify_request_id"]
    assert record["resources"][0]["ARN"] == audited["key_arn"]


def test_sts_calls_are_recorded_refused_ones_with_their_error(audited) -> None:
    events = _events(
        audited["endpoint"],
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": "AssumeRole"}],
    )
    refused, allowed = (_record(e) for e in events)  # newest first
    assert allowed["eventSource"] == "sts.amazonaws.com"
    assert allowed["requestParameters"]["roleArn"] == ROLE_ARN
    assert allowed["requestParameters"]["sourceIdentity"] == "alice@example.com"
    assert allowed["responseElements"]["credentials"]["accessKeyId"] == audited["access_key"]
    assert allowed["userIdentity"]["type"] == "IAMUser"
    assert refused["errorCode"] == "AccessDenied"
    assert refused["requestID"] != allowed["requestID"]


def test_no_message_plaintext_or_signature_is_recorded(audited) -> None:
    everything = json.dumps([_record(e) for e in _events(audited["endpoint"])])
    assert "signature" not in everything.lower().replace("signingalgorithm", "")
    assert SECRET_MESSAGE.decode() not in everything
    assert "bmV2ZXIgaW4gdGhlIHRyYWls" not in everything  # the message, base64


def test_lookup_events_pages_with_next_token_newest_first(audited) -> None:
    trail = audited["endpoint"].client("cloudtrail")
    every = _events(audited["endpoint"])
    first = trail.lookup_events(MaxResults=2)
    assert len(first["Events"]) == 2
    assert first["NextToken"]
    second = trail.lookup_events(MaxResults=2, NextToken=first["NextToken"])
    ids = [e["EventId"] for e in first["Events"] + second["Events"]]
    assert ids == [e["EventId"] for e in every[:4]]
    times = [e["EventTime"] for e in every]
    assert times == sorted(times, reverse=True)
    names = [e["EventName"] for e in every]
    assert names.index("Verify") < names.index("Sign") < names.index("CreateKey")


def test_a_next_token_is_good_only_for_the_request_that_issued_it(audited) -> None:
    trail = audited["endpoint"].client("cloudtrail")
    token = trail.lookup_events(MaxResults=1)["NextToken"]
    for request in (
        {"NextToken": "not-a-token"},
        {"NextToken": token, "StartTime": 0},
    ):
        with pytest.raises(ClientError) as caught:
            trail.lookup_events(**request)
        assert caught.value.response["Error"]["Code"] == "InvalidNextTokenException"


def test_lookup_events_filters_by_time_as_cloudtrail_does(audited) -> None:
    endpoint, now = audited["endpoint"], time.time()
    assert _events(endpoint, StartTime=now + 60) == []
    assert len(_events(endpoint, EndTime=now + 60)) == len(_events(endpoint))
    assert _events(endpoint, EndTime=now - 3600) == []
    with pytest.raises(ClientError) as caught:
        _events(endpoint, StartTime=now, EndTime=now - 60)
    assert caught.value.response["Error"]["Code"] == "InvalidTimeRangeException"


def test_lookup_attributes_one_at_a_time(audited) -> None:
    endpoint = audited["endpoint"]
    by_key = _events(
        endpoint,
        LookupAttributes=[{"AttributeKey": "ResourceName", "AttributeValue": audited["key_arn"]}],
    )
    assert {e["EventName"] for e in by_key} == {"CreateKey", "Sign", "Verify"}
    by_session = _events(
        endpoint,
        LookupAttributes=[{"AttributeKey": "AccessKeyId", "AttributeValue": audited["access_key"]}],
    )
    assert [e["EventName"] for e in by_session] == ["Verify", "Sign"]
    with pytest.raises(ClientError) as caught:
        _events(
            endpoint,
            LookupAttributes=[
                {"AttributeKey": "EventName", "AttributeValue": "Sign"},
                {"AttributeKey": "EventName", "AttributeValue": "Verify"},
            ],
        )
    assert caught.value.response["Error"]["Code"] == "InvalidLookupAttributesException"


def test_a_role_without_an_iam_policy_may_not_look_up_events(audited) -> None:
    endpoint = audited["endpoint"]
    credentials = endpoint.client("sts").assume_role(RoleArn=ROLE_ARN, RoleSessionName="peek")[
        "Credentials"
    ]
    trail = endpoint.client(
        "cloudtrail",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    with pytest.raises(ClientError) as caught:
        trail.lookup_events()
    assert caught.value.response["Error"]["Code"] == "AccessDeniedException"


def test_the_aws_cli_sees_the_same_events_page_by_page(audited) -> None:
    endpoint = audited["endpoint"]
    answer = subprocess.run(
        [
            str(AWS_CLI),
            *("cloudtrail", "lookup-events", "--page-size", "1", "--output", "json"),
            *("--lookup-attributes", "AttributeKey=EventSource,AttributeValue=kms.amazonaws.com"),
        ],
        env=endpoint.subprocess_env(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    events = json.loads(answer.stdout)["Events"]
    names = [e["EventName"] for e in events]
    assert names[:3] == ["Verify", "Sign", "CreateKey"]
    assert _record(events[0])["errorCode"] == "AccessDenied"
