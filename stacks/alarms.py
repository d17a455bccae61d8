"""Alarms on dangerous changes to the deployment's keys and aliases: EventBridge -> SNS.

CloudTrail delivers every KMS management event to EventBridge as an "AWS API Call via
CloudTrail" event (source ``aws.kms``; the CloudTrail record is the ``detail``). Two rules send
the dangerous ones to one SNS topic:

- key changes, matched on the key ARN in ``detail.resources``: DisableKey, ScheduleKeyDeletion,
  PutKeyPolicy and CreateGrant (a grant can hand out any cryptographic use);
- alias changes, matched on ``detail.requestParameters.aliasName``: DeleteAlias and UpdateAlias
  (pointing the alias elsewhere moves every sender that uses it).

ImportKeyMaterial and DeleteImportedKeyMaterial are not applicable: these keys are ``AWS_KMS``
origin, and KMS refuses both for them. The topic is encrypted with its own symmetric key (the
AWS managed ``alias/aws/sns`` key cannot be used by EventBridge), rotated yearly, whose policy
lets only the administrators manage it and only EventBridge use it; the topic policy refuses
any request without TLS. An e-mail subscription is added when ``sample:alarmEmail`` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import jsii
from aws_cdk import RemovalPolicy
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from constructs import Construct

from stacks import key_policy

KEY_EVENTS: Final[tuple[str, ...]] = (
    "DisableKey",
    "ScheduleKeyDeletion",
    "PutKeyPolicy",
    "CreateGrant",
)
ALIAS_EVENTS: Final[tuple[str, ...]] = ("DeleteAlias", "UpdateAlias")
CLOUDTRAIL_DETAIL_TYPE: Final = "AWS API Call via CloudTrail"


def key_change_pattern(key_arns: Sequence[str]) -> dict[str, object]:
    """The EventBridge pattern for KEY_EVENTS on ``key_arns`` (plain dict, as in the template)."""
    return {
        "source": ["aws.kms"],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": list(KEY_EVENTS),
            "resources": {"ARN": list(key_arns)},
        },
    }


def alias_change_pattern(alias_names: Sequence[str]) -> dict[str, object]:
    """The EventBridge pattern for ALIAS_EVENTS on ``alias_names`` (``alias/...``)."""
    return {
        "source": ["aws.kms"],
        "detail-type": [CLOUDTRAIL_DETAIL_TYPE],
        "detail": {
            "eventSource": ["kms.amazonaws.com"],
            "eventName": list(ALIAS_EVENTS),
            "requestParameters": {"aliasName": list(alias_names)},
        },
    }


def _pattern(pattern: dict[str, object]) -> events.EventPattern:
    return events.EventPattern(
        source=pattern["source"],  # type: ignore[arg-type]
        detail_type=pattern["detail-type"],  # type: ignore[arg-type]
        detail=pattern["detail"],  # type: ignore[arg-type]
    )


@jsii.implements(events.IRuleTarget)
class _TopicTarget:
    """The topic as a rule target, without aws-events-targets' grants.

    ``aws_events_targets.SnsTopic`` would also grant ``kms:GenerateDataKey*`` (every data-key
    operation) to EventBridge in the topic key's policy and allow any rule to publish; here the
    key policy comes only from ``stacks.key_policy`` and the topic policy names the two rules.
    """

    def __init__(self, topic: sns.ITopic) -> None:
        self._topic = topic

    def bind(self, rule: events.IRule, id: str | None = None) -> events.RuleTargetConfig:
        return events.RuleTargetConfig(arn=self._topic.topic_arn)


class KeyChangeAlarms(Construct):
    """The alarm topic, its key, and the two rules for ``keys`` and ``alias_names``."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        keys: Sequence[kms.IKey],
        alias_names: Sequence[str],
        admins: Sequence[iam.IPrincipal],
        email: str | None,
        removal: RemovalPolicy,
    ) -> None:
        super().__init__(scope, construct_id)
        self.topic_key = kms.Key(
            self,
            "TopicKey",
            description="Encrypts the key-change alarm topic; only EventBridge may use it",
            enable_key_rotation=True,
            policy=iam.PolicyDocument(statements=key_policy.alarm_topic_key_statements(admins)),
            removal_policy=removal,
        )
        self.topic = sns.Topic(
            self,
            "Topic",
            display_name="KMS sign/encrypt: dangerous key change",
            master_key=self.topic_key,
            enforce_ssl=True,
        )
        target = _TopicTarget(self.topic)
        self.key_rule = events.Rule(
            self,
            "KeyChangeRule",
            description="DisableKey, ScheduleKeyDeletion, PutKeyPolicy or CreateGrant on a key",
            event_pattern=_pattern(key_change_pattern([key.key_arn for key in keys])),
            targets=[target],
        )
        self.alias_rule = events.Rule(
            self,
            "AliasChangeRule",
            description="DeleteAlias or UpdateAlias on an alias of the deployment",
            event_pattern=_pattern(alias_change_pattern(alias_names)),
            targets=[target],
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="EventBridgeRulesPublish",
                principals=[iam.ServicePrincipal(key_policy.EVENTBRIDGE_SERVICE)],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "ArnEquals": {
                        "aws:SourceArn": [self.key_rule.rule_arn, self.alias_rule.rule_arn]
                    }
                },
            )
        )
        if email:
            self.topic.add_subscription(subscriptions.EmailSubscription(email))
