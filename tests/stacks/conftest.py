"""Fixtures for the stack's assertions: each configuration is synthesized once per session.

Every synth here skips the CDK's built-in CloudFormation validation (`cdk synth` runs it): it
costs about 8 s of CPU per process, more than half this suite's budget, and cfn-lint checks the
same templates. `app.py` itself (cdk-nag included, as `cdk synth` runs it) runs in a subprocess.

Slow, independent work starts in the background when the session starts, so it overlaps with
the in-process synthesis (which keeps one core busy in the jsii Node.js process): `python app.py`
with the default context, `python app.py` with a bad context value, and cfn-lint's start-up
(importing it and loading its rules takes longer than linting).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Template

from stacks.app import create_app
from stacks.construct import HIDDEN_ID
from stacks.kms_sign_encrypt_stack import KmsSignEncryptStack

REPO = Path(__file__).resolve().parents[2]
LINT_REGIONS = ["us-east-1", "eu-west-1"]
# What `npx cdk synth -c sample:pendingWindowDays=3` hands a fresh `python3 app.py`.
BAD_CLI_CONTEXT = {"sample:pendingWindowDays": "3"}

# Every setting changed from its default, to check that each one reaches the template.
CONFIGURED: Mapping[str, object] = {
    "sample:namePrefix": "dev-",
    "sample:encryptionKeyAlias": "alias/team/encrypt",
    "sample:signingKeyAlias": "alias/team/sign",
    "sample:senderRoleName": "Sender",
    "sample:receiverRoleName": "Receiver",
    "sample:senderPrincipals": (
        '[{"arn": "arn:aws:iam::111122223333:role/PartnerSender", "externalId": "partner-4f1c"},'
        ' "arn:aws:iam::123456789012:user/alice"]'
    ),
    "sample:receiverPrincipals": '["arn:aws:iam::123456789012:role/path/Reader"]',
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
        parts = path.split("/")
        # Under the stack itself (a tampering test's addition), else in the KmsSignEncrypt
        # construct (hidden id: it adds nothing to the logical IDs or to these paths).
        construct = self.stack.node.try_find_child(parts[0]) or self.stack.node.find_child(
            HIDDEN_ID
        ).node.find_child(parts[0])
        for part in parts[1:]:
            construct = construct.node.find_child(part)
        return self.stack.get_logical_id(construct.node.default_child)

    def key_policy(self, key_path: str) -> dict[str, Any]:
        return self.doc["Resources"][self.logical_id(f"{key_path}/Key")]["Properties"]["KeyPolicy"]


def synthesize(context: Mapping[str, object] | None = None) -> Synthesized:
    app = create_app(context, builtin_validation=False)
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


# Key generations (issue 15): later generations' logical IDs are promises too.
GENERATIONS: Mapping[str, object] = {
    "sample:encryptionKeyGenerations": ["2026:deleted", "2027:retired", "2028"],
    "sample:signingKeyGenerations": ["2026:retired", "2027", "2028"],
}


@pytest.fixture(scope="session")
def generations(synth: Callable[..., Synthesized]) -> Synthesized:
    """The stack with a deleted, a retired, an older active and a current generation."""
    return synth(GENERATIONS)


@pytest.fixture(scope="session")
def tampered() -> Synthesized:
    """The default stack broken on purpose, the ways a well-meaning edit would break it:
    a CDK grant helper, an extra key-policy statement, a managed policy, and a key left with
    CDK's default key policy. Each check must catch its part."""
    app = create_app(builtin_validation=False)
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


@dataclass(frozen=True)
class Background:
    cli_run: subprocess.Popen[str]
    """`python app.py` as the CDK CLI runs it, writing the cloud assembly to `cli_outdir`."""
    cli_outdir: Path
    bad_cli_run: subprocess.Popen[str]
    """`python app.py` with BAD_CLI_CONTEXT in CDK_CONTEXT_JSON."""
    cfn_lint: Future[Callable[[dict[str, Any]], list[str]]]
    """Lints a template for LINT_REGIONS; the list of findings as text."""


def _start_cfn_lint() -> Callable[[dict[str, Any]], list[str]]:
    from cfnlint.config import ConfigMixIn
    from cfnlint.runner.cli import Runner

    runner = Runner(ConfigMixIn(regions=LINT_REGIONS))
    return lambda doc: [str(match) for match in runner.validate_template(doc)]


def _run_app(context: Mapping[str, object], outdir: Path) -> subprocess.Popen[str]:
    # The CDK CLI passes its context in CDK_CONTEXT_JSON and the output directory in CDK_OUTDIR;
    # the jsii runtime reads them when it starts, so only a fresh process shows what users see.
    env = {
        **os.environ,
        "CDK_CONTEXT_JSON": json.dumps(dict(context)),
        "CDK_OUTDIR": str(outdir),
        "CDK_VALIDATION": "false",  # the CDK's built-in validation; see the module docstring
    }
    return subprocess.Popen(
        [sys.executable, "app.py"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture(scope="session", autouse=True)
def background(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Background]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    runs = [
        _run_app({}, outdir),
        _run_app(BAD_CLI_CONTEXT, tmp_path_factory.mktemp("bad-cdk.out")),
    ]
    with ThreadPoolExecutor(max_workers=1) as pool:
        try:
            yield Background(runs[0], outdir, runs[1], pool.submit(_start_cfn_lint))
        finally:
            for run in runs:
                if run.poll() is None:
                    run.kill()
                run.communicate()
