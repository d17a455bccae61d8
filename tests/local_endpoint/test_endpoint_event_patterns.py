"""The alarm rules, evaluated as EventBridge evaluates them: TestEventPattern on the endpoint.

The stack is deployed into an endpoint of this module's own (the tests disable a key and move
an alias). The rule's pattern is read back from EventBridge (DescribeRule), so the key ARNs are
the deployed ones; the events are the endpoint's own CloudTrail records of real calls, wrapped
as EventBridge delivers them ("AWS API Call via CloudTrail").
"""

from __future__ import annotations

import json
import uuid

import pytest
from botocore.exceptions import ClientError

from local_endpoint import LocalEndpoint, event_patterns
from local_endpoint.deploy import deploy_template

ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def deployed():
    from stacks.app import create_app

    app = create_app({"sample:bootstrapless": True}, builtin_validation=False)
    (stack,) = app.synth().stacks
    name, template = stack.stack_name, dict(stack.template)
    with LocalEndpoint() as endpoint:
        outputs = deploy_template(endpoint.client("cloudformation"), name, template).outputs
        yield endpoint, outputs, template


def _rule_pattern(endpoint: LocalEndpoint, description_start: str) -> str:
    events = endpoint.client("events")
    for rule in events.list_rules()["Rules"]:
        if (
            events.describe_rule(Name=rule["Name"])
            .get("Description", "")
            .startswith(description_start)
        ):
            return rule["EventPattern"]
    raise LookupError(description_start)


def _last_record(endpoint: LocalEndpoint, name: str) -> dict:
    (event, *_) = endpoint.client("cloudtrail").lookup_events(
        LookupAttributes=[{"AttributeKey": "EventName", "AttributeValue": name}]
    )["Events"]
    return json.loads(event["CloudTrailEvent"])


def _as_delivered(record: dict) -> str:
    """A CloudTrail record as EventBridge delivers it."""
    return json.dumps(
        {
            "version": "0",
            "id": str(uuid.uuid4()),
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.kms",
            "account": ACCOUNT,
            "time": record["eventTime"],
            "region": record["awsRegion"],
            "resources": [],
            "detail": record,
        }
    )


def _matches(endpoint: LocalEndpoint, pattern: str, event: str) -> bool:
    return endpoint.client("events").test_event_pattern(EventPattern=pattern, Event=event)["Result"]


def test_the_disable_key_pattern_matches_this_key_and_not_another(deployed) -> None:
    endpoint, outputs, _ = deployed
    kms = endpoint.client("kms")
    pattern = _rule_pattern(endpoint, "DisableKey, ScheduleKeyDeletion")
    assert outputs["EncryptionKeyArn"] in pattern  # DescribeRule: the deployed ARNs

    # By key ID (moto 5.2.5's DisableKey fails on an ARN): the rule matches on the ARN that
    # CloudTrail puts in resources, however the caller named the key.
    key_id = outputs["EncryptionKeyArn"].rsplit("/", 1)[1]
    kms.disable_key(KeyId=key_id)
    ours = _last_record(endpoint, "DisableKey")
    assert ours["requestParameters"] == {"keyId": key_id}
    assert _matches(endpoint, pattern, _as_delivered(ours))

    other = kms.create_key(Description="not this deployment's")["KeyMetadata"]
    kms.disable_key(KeyId=other["KeyId"])
    theirs = _last_record(endpoint, "DisableKey")
    assert theirs["resources"][0]["ARN"] == other["Arn"]
    assert not _matches(endpoint, pattern, _as_delivered(theirs))
    kms.enable_key(KeyId=key_id)


def test_a_cryptographic_call_is_not_an_alarm(deployed) -> None:
    endpoint, outputs, _ = deployed
    pattern = _rule_pattern(endpoint, "DisableKey, ScheduleKeyDeletion")
    endpoint.client("kms").describe_key(KeyId=outputs["SigningKeyArn"])
    record = _last_record(endpoint, "DescribeKey")
    assert record["resources"][0]["ARN"] == outputs["SigningKeyArn"]
    assert not _matches(endpoint, pattern, _as_delivered(record))


def test_a_policy_rewrite_of_the_signing_key_matches(deployed) -> None:
    endpoint, outputs, _ = deployed
    kms = endpoint.client("kms")
    pattern = _rule_pattern(endpoint, "DisableKey, ScheduleKeyDeletion")
    policy = kms.get_key_policy(KeyId=outputs["SigningKeyArn"])["Policy"]
    kms.put_key_policy(KeyId=outputs["SigningKeyArn"], Policy=policy)
    assert _matches(endpoint, pattern, _as_delivered(_last_record(endpoint, "PutKeyPolicy")))


def test_moving_the_alias_matches_the_alias_rule(deployed) -> None:
    endpoint, outputs, _ = deployed
    kms = endpoint.client("kms")
    pattern = _rule_pattern(endpoint, "DeleteAlias or UpdateAlias")
    alias = outputs["EncryptionKeyAlias"]
    elsewhere = kms.create_key(KeySpec="RSA_4096", KeyUsage="ENCRYPT_DECRYPT")["KeyMetadata"]
    kms.update_alias(AliasName=alias, TargetKeyId=elsewhere["Arn"])
    kms.update_alias(AliasName=alias, TargetKeyId=outputs["EncryptionKeyArn"])
    assert _matches(endpoint, pattern, _as_delivered(_last_record(endpoint, "UpdateAlias")))
    kms.create_alias(AliasName="alias/someone-elses", TargetKeyId=elsewhere["Arn"])
    kms.delete_alias(AliasName="alias/someone-elses")
    assert not _matches(endpoint, pattern, _as_delivered(_last_record(endpoint, "DeleteAlias")))


def test_the_rules_target_the_encrypted_topic(deployed) -> None:
    endpoint, _, _ = deployed
    events, sns = endpoint.client("events"), endpoint.client("sns")
    (topic,) = sns.list_topics()["Topics"]
    for rule in events.list_rules()["Rules"]:
        (target,) = events.list_targets_by_rule(Rule=rule["Name"])["Targets"]
        assert target["Arn"] == topic["TopicArn"]
    attributes = sns.get_topic_attributes(TopicArn=topic["TopicArn"])["Attributes"]
    assert attributes["KmsMasterKeyId"].startswith(f"arn:aws:kms:us-east-1:{ACCOUNT}:key/")


# -- the matcher, on EventBridge's documented cases ---------------------------------------------


EVENT = {
    "id": "1",
    "account": ACCOUNT,
    "source": "aws.kms",
    "time": "2026-12-01T00:00:00Z",
    "region": "us-east-1",
    "resources": [],
    "detail-type": "AWS API Call via CloudTrail",
    "detail": {
        "eventName": "DisableKey",
        "resources": [{"ARN": "arn:a"}, {"ARN": "arn:b"}],
        "count": 5,
        "tags": ["x", "y"],
        "empty": None,
    },
}


@pytest.mark.parametrize(
    ("detail_pattern", "expected"),
    [
        ({"resources": {"ARN": ["arn:b"]}}, True),  # through an array of objects
        ({"resources": {"ARN": ["arn:c"]}}, False),
        ({"eventName": ["DisableKey", "EnableKey"]}, True),
        ({"eventName": ["disablekey"]}, False),  # case-sensitive
        ({"eventName": [{"equals-ignore-case": "disablekey"}]}, True),
        ({"eventName": [{"prefix": "Disable"}]}, True),
        ({"eventName": [{"suffix": "Key"}]}, True),
        ({"eventName": [{"anything-but": ["DisableKey"]}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "Enable"}}]}, True),
        ({"eventName": [{"wildcard": "Dis*Key"}]}, True),
        ({"tags": ["y"]}, True),  # arrays of values flatten
        ({"count": [5.0]}, True),
        ({"count": [{"numeric": [">", 1, "<=", 5]}]}, True),
        ({"count": [{"numeric": [">", 5]}]}, False),
        ({"empty": [None]}, True),
        ({"missing": [None]}, False),  # an absent field is not null
        ({"missing": [{"exists": False}]}, True),
        ({"eventName": [{"exists": True}]}, True),
        ({"eventName": ["DisableKey"], "count": [6]}, False),  # every field must match
        ({"$or": [{"count": [6]}, {"tags": ["x"]}]}, True),
    ],
)
def test_the_matcher_follows_eventbridge(detail_pattern, expected) -> None:
    assert event_patterns.matches({"detail": detail_pattern}, EVENT) is expected


@pytest.mark.parametrize(
    "pattern",
    ['{"source": "aws.kms"}', '{"source": []}', "[]", "{}", '{"a": [{"regex": "x"}]}'],
)
def test_a_bad_pattern_is_refused_as_eventbridge_refuses_it(deployed, pattern) -> None:
    endpoint, _, _ = deployed
    with pytest.raises(ClientError) as caught:
        endpoint.client("events").test_event_pattern(EventPattern=pattern, Event=json.dumps(EVENT))
    assert caught.value.response["Error"]["Code"] == "InvalidEventPatternException"


def test_an_event_without_its_envelope_is_refused(deployed) -> None:
    endpoint, _, _ = deployed
    with pytest.raises(ClientError) as caught:
        endpoint.client("events").test_event_pattern(
            EventPattern='{"source": ["aws.kms"]}', Event=json.dumps(EVENT["detail"])
        )
    assert caught.value.response["Error"]["Code"] == "ValidationException"


def test_without_the_patch_moto_cannot_answer() -> None:
    with LocalEndpoint(disabled_patches=["events_test_event_pattern"]) as endpoint:
        answer = endpoint.client("events").test_event_pattern(
            EventPattern='{"source": ["aws.kms"]}', Event=json.dumps(EVENT)
        )
    assert "Result" not in answer
