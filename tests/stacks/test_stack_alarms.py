"""The key-change alarms in the template: two EventBridge rules -> one encrypted, TLS-only topic.

`alarm_problems` states the design once and is run on the real templates (no problem) and on
copies broken the ways an edit would break them (each caught). The rules' matching, evaluated
as EventBridge evaluates it, is in tests/local_endpoint/test_endpoint_event_patterns.py.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

KEY_EVENTS = ["DisableKey", "ScheduleKeyDeletion", "PutKeyPolicy", "CreateGrant"]
ALIAS_EVENTS = ["DeleteAlias", "UpdateAlias"]
DETAIL_TYPE = ["AWS API Call via CloudTrail"]


def _of_type(doc: dict[str, Any], cfn_type: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in doc["Resources"].items() if v["Type"] == cfn_type}


def _get_att(logical_id: str) -> dict[str, Any]:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def alarm_problems(doc: dict[str, Any], aliases: list[str]) -> list[str]:
    """Every way the template's alarms differ from the design, one line each."""
    problems: list[str] = []
    keys = _of_type(doc, "AWS::KMS::Key")
    asymmetric = sorted(k for k, v in keys.items() if "KeySpec" in v["Properties"])
    (topic_id, topic), *more = _of_type(doc, "AWS::SNS::Topic").items()
    if more:
        problems.append("more than one topic")
    topic_key_id = topic["Properties"].get("KmsMasterKeyId", {}).get("Fn::GetAtt", [None])[0]
    if topic_key_id not in keys or topic_key_id in asymmetric:
        problems.append(f"topic not encrypted with its own symmetric key: {topic_key_id}")
    else:
        key = keys[topic_key_id]["Properties"]
        if key.get("EnableKeyRotation") is not True:
            problems.append("topic key not rotated")
        for statement in key["KeyPolicy"]["Statement"]:
            principal = statement["Principal"]
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            if principal == {"Service": "events.amazonaws.com"}:
                if sorted(actions) != ["kms:Decrypt", "kms:GenerateDataKey*"]:
                    problems.append(f"EventBridge may {actions} with the topic key")
            elif "Fn::GetAtt" in str(principal) or principal == "*":
                problems.append(f"topic key names {principal}")
            elif any(not a.startswith(ADMIN_PREFIXES) for a in actions):
                problems.append(f"topic key grants {actions} to {principal}")
    rules = _of_type(doc, "AWS::Events::Rule")
    patterns = [
        (r["Properties"]["EventPattern"], r["Properties"]["Targets"]) for r in rules.values()
    ]
    wanted_key = {
        "source": ["aws.kms"],
        "detail-type": DETAIL_TYPE,
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": KEY_EVENTS,
            "resources": {"ARN": [_get_att(k) for k in asymmetric]},
        },
    }
    wanted_alias = {
        "source": ["aws.kms"],
        "detail-type": DETAIL_TYPE,
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": ALIAS_EVENTS,
            "requestParameters": {"aliasName": aliases},
        },
    }
    found = [pattern for pattern, _ in patterns]
    for name, wanted in (("key", wanted_key), ("alias", wanted_alias)):
        if wanted not in found:
            problems.append(f"no {name} rule with pattern {wanted}; found {found}")
    for _, targets in patterns:
        if [t["Arn"] for t in targets] != [{"Ref": topic_id}]:
            problems.append(f"a rule targets {targets}, not the topic alone")
    (policy,) = _of_type(doc, "AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    tls = {
        "Action": "sns:Publish",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        "Effect": "Deny",
        "Principal": "*",
        "Resource": {"Ref": topic_id},
    }
    if not any({k: v for k, v in s.items() if k != "Sid"} == tls for s in statements):
        problems.append("the topic does not refuse requests without TLS")
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        source = statement.get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn")
        rule_arns = sorted([_get_att(r) for r in rules], key=str)
        if (
            statement["Principal"] != {"Service": "events.amazonaws.com"}
            or sorted(source or [], key=str) != rule_arns
        ):
            problems.append(f"the topic lets {statement['Principal']} publish, not only the rules")
    return problems


ADMIN_PREFIXES = tuple(
    f"kms:{verb}"
    for verb in (
        "CancelKeyDeletion",
        "CreateAlias",
        "DeleteAlias",
        "DescribeKey",
        "DisableKey",
        "EnableKey",
        "GetKeyPolicy",
        "GetKeyRotationStatus",
        "ListGrants",
        "ListKeyPolicies",
        "ListResourceTags",
        "PutKeyPolicy",
        "RevokeGrant",
        "ScheduleKeyDeletion",
        "TagResource",
        "UntagResource",
        "UpdateAlias",
        "UpdateKeyDescription",
        "EnableKeyRotation",
        "DisableKeyRotation",
    )
)


def test_the_default_template_has_the_alarms(default) -> None:
    aliases = ["alias/sample-encrypt-decrypt-key", "alias/sample-sign-verify-key"]
    assert alarm_problems(default.doc, aliases) == []


def test_the_configured_template_watches_its_prefixed_aliases(configured) -> None:
    assert alarm_problems(configured.doc, ["alias/dev-team/encrypt", "alias/dev-team/sign"]) == []


def _topic_key(doc: dict[str, Any]) -> dict[str, Any]:
    return next(
        v["Properties"]
        for v in _of_type(doc, "AWS::KMS::Key").values()
        if "KeySpec" not in v["Properties"]
    )


def _rule(doc: dict[str, Any], event: str) -> dict[str, Any]:
    return next(
        v["Properties"]
        for v in _of_type(doc, "AWS::Events::Rule").values()
        if event in v["Properties"]["EventPattern"]["detail"]["eventName"]
    )


def _policy(doc: dict[str, Any]) -> list[dict[str, Any]]:
    (policy,) = _of_type(doc, "AWS::SNS::TopicPolicy").values()
    return policy["Properties"]["PolicyDocument"]["Statement"]


BREAKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "the topic is not encrypted": lambda d: next(iter(_of_type(d, "AWS::SNS::Topic").values()))[
        "Properties"
    ].pop("KmsMasterKeyId"),
    "the topic key is not rotated": lambda d: _topic_key(d).update(EnableKeyRotation=False),
    "the sender may use the topic key": lambda d: _topic_key(d)["KeyPolicy"]["Statement"].append(
        {
            "Effect": "Allow",
            "Principal": {"AWS": _get_att("SenderRole098C32F0")},
            "Action": "kms:Decrypt",
            "Resource": "*",
        }
    ),
    "the account may use the topic key": lambda d: _topic_key(d)["KeyPolicy"]["Statement"][0][
        "Action"
    ].append("kms:Decrypt"),
    "EventBridge may do anything with the topic key": lambda d: _topic_key(d)["KeyPolicy"][
        "Statement"
    ][1].update(Action="kms:*"),
    "DisableKey is not watched": lambda d: _rule(d, "DisableKey")["EventPattern"]["detail"][
        "eventName"
    ].remove("DisableKey"),
    "CreateGrant is not watched": lambda d: _rule(d, "CreateGrant")["EventPattern"]["detail"][
        "eventName"
    ].remove("CreateGrant"),
    "the signing key is not watched": lambda d: _rule(d, "DisableKey")["EventPattern"]["detail"][
        "resources"
    ]["ARN"].pop(),
    "an alias is not watched": lambda d: _rule(d, "UpdateAlias")["EventPattern"]["detail"][
        "requestParameters"
    ]["aliasName"].pop(),
    "TLS is not enforced": lambda d: _policy(d).pop(0),
    "anyone may publish": lambda d: _policy(d)[1].update(Principal={"AWS": "*"}),
    "any rule may publish": lambda d: _policy(d)[1].pop("Condition"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_each_check_catches_its_break(default, name) -> None:
    doc = copy.deepcopy(default.doc)
    BREAKS[name](doc)
    aliases = ["alias/sample-encrypt-decrypt-key", "alias/sample-sign-verify-key"]
    assert alarm_problems(doc, aliases), f"{name} went unnoticed"


def test_no_subscription_unless_configured(default, synth) -> None:
    assert _of_type(default.doc, "AWS::SNS::Subscription") == {}
    subscribed = synth({"sample:alarmEmail": "security@example.com"})
    (subscription,) = _of_type(subscribed.doc, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "security@example.com"
    (topic_id,) = _of_type(subscribed.doc, "AWS::SNS::Topic")
    assert subscription["Properties"]["TopicArn"] == {"Ref": topic_id}


def test_the_subscribed_template_passes_cdk_nag_without_acknowledgement(synth) -> None:
    from cdk_nag import AwsSolutionsChecks

    subscribed = synth({"sample:alarmEmail": "security@example.com"})
    assert AwsSolutionsChecks().validate_scope(subscribed.app).violations == []
