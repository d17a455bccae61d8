"""Fixtures for the stack's assertions: each configuration is synthesized once per session."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from stacks.app import create_app
from stacks.kms_sign_encrypt_stack import KmsSignEncryptStack

# Every setting changed from its default, to check that each one reaches the template.
CONFIGURED: Mapping[str, object] = {
    "sample:namePrefix": "dev-",
    "sample:encryptionKeyAlias": "alias/team/encrypt",
    "sample:signingKeyAlias": "alias/team/sign",
    "sample:senderRoleName": "Sender",
    "sample:receiverRoleName": "Receiver",
    "sample:trustedPrincipals": (
        "arn:aws:iam::123456789012:role/Partner,arn:aws:iam::123456789012:user/alice"
    ),
    "sample:externalId": "partner-4f1c",
    "sample:adminPrincipals": '["arn:aws:iam::123456789012:role/KeyAdmin",'
    ' "arn:aws:iam::123456789012:role/cdk-hnb659fds-cfn-exec-role-123456789012-eu-west-1"]',
    "sample:keyRemoval": "destroy",
    "sample:pendingWindowDays": "7",
    "sample:tags": '{"team": "platform", "cost-center": "42"}',
    "sample:bootstrapless": "true",
}


@dataclass(frozen=True)
class Synthesized:
    app: App
    stack: Stack
    template: Template
    doc: dict[str, Any]

    def resources(self, cfn_type: str) -> dict[str, dict[str, Any]]:
        """Logical id -> resource, for every resource of `cfn_type`."""
        return {k: v for k, v in self.doc["Resources"].items() if v["Type"] == cfn_type}

    def logical_id(self, path: str) -> str:
        """Logical id of the CloudFormation resource under the construct at `path`
        (relative to the stack, e.g. "SenderRole/Role")."""
        construct = self.stack.node.find_child(path.split("/")[0])
        for part in path.split("/")[1:]:
            construct = construct.node.find_child(part)
        return self.stack.get_logical_id(construct.node.default_child)

    def key_policy(self, key_path: str) -> dict[str, Any]:
        return self.doc["Resources"][self.logical_id(f"{key_path}/Key")]["Properties"]["KeyPolicy"]


def synthesize(context: Mapping[str, object] | None = None) -> Synthesized:
    app = create_app(context)
    (stack,) = (child for child in app.node.children if isinstance(child, Stack))
    template = Template.from_stack(stack)
    # Shared by the whole session: a test that breaks a property works on a copy.deepcopy.
    return Synthesized(app, stack, template, json.loads(json.dumps(template.to_json())))


@pytest.fixture(scope="session")
def synth() -> Callable[[Mapping[str, object] | None], Synthesized]:
    """Synthesize a configuration, at most once per session."""
    cache: dict[str, Synthesized] = {}

    def get(context: Mapping[str, object] | None = None) -> Synthesized:
        key = json.dumps(dict(context or {}), sort_keys=True)
        if key not in cache:
            cache[key] = synthesize(context)
        return cache[key]

    return get


@pytest.fixture(scope="session")
def default(synth: Callable[..., Synthesized]) -> Synthesized:
    """The stack as `npx cdk synth` builds it from cdk.json alone."""
    return synth()


@pytest.fixture(scope="session")
def configured(synth: Callable[..., Synthesized]) -> Synthesized:
    """The stack with every setting changed from its default."""
    return synth(CONFIGURED)


@pytest.fixture(scope="session")
def tampered() -> Synthesized:
    """The default stack broken on purpose, the ways a well-meaning edit would break it:
    a CDK grant helper, an extra key-policy statement, a managed policy, and a key left with
    CDK's default key policy. Each check must catch its part."""
    app = create_app()
    (stack,) = (child for child in app.node.children if isinstance(child, KmsSignEncryptStack))
    stack.encryption_key.key.grant_decrypt(stack.receiver_role)
    stack.signing_key.key.add_to_resource_policy(
        iam.PolicyStatement(
            sid="ReceiverSign",
            principals=[stack.receiver_role],
            actions=["kms:Sign"],
            resources=["*"],
        )
    )
    stack.sender_role.add_managed_policy(
        iam.ManagedPolicy.from_aws_managed_policy_name("AWSKeyManagementServicePowerUser")
    )
    kms.Key(
        stack,
        "DefaultPolicyKey",
        key_spec=kms.KeySpec.RSA_4096,
        key_usage=kms.KeyUsage.ENCRYPT_DECRYPT,
    )
    template = Template.from_stack(stack)
    return Synthesized(app, stack, template, json.loads(json.dumps(template.to_json())))
