"""`stacks.KmsSignEncrypt` outside this project's stack: same policies, validated settings, and
the docs/STACK.md example runs as written."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, CfnElement, Stack
from aws_cdk.assertions import Template

from stacks import ConfigError, KmsSignEncrypt, StackConfig
from stacks.app import cdk_json_context
from stacks.config import CONTEXT_PREFIX
from stacks.outputs import OUTPUT_NAMES
from tests.stacks.conftest import Synthesized

REPO = Path(__file__).resolve().parents[2]
PREFIX = "team-"


def _policies(stack: Stack, construct: KmsSignEncrypt) -> dict[str, Any]:
    """Every key policy, trust policy and role policy, by construct path relative to the
    construct; each reference to another resource is rewritten to that resource's path, so two
    builds compare equal when only their logical IDs differ."""
    doc = Template.from_stack(stack).to_json()
    base = construct.node.path + "/"
    paths = {
        stack.get_logical_id(child): child.node.path.removeprefix(base)
        for child in construct.node.find_all()
        if isinstance(child, CfnElement)
    }
    text = json.dumps(doc)
    for logical_id, path in paths.items():
        text = re.sub(rf'"{logical_id}"', json.dumps(path), text)
    found = {}
    for path, resource in json.loads(text)["Resources"].items():
        properties = resource.get("Properties", {})
        for name in ("KeyPolicy", "AssumeRolePolicyDocument", "PolicyDocument", "Policies"):
            if name in properties:
                found[f"{path}:{name}"] = properties[name]
    return found


def _build(stack_id: str, construct_id: str, config: StackConfig) -> tuple[Stack, KmsSignEncrypt]:
    # Another app, with this project's feature flags but none of its `sample:*` settings. (The
    # flags are an app's choice; without them the CDK orders the topic key's admin actions as
    # written instead of sorted, and nothing else changes.)
    flags = {k: v for k, v in cdk_json_context().items() if not k.startswith(CONTEXT_PREFIX)}
    app = App(context=flags)
    stack = Stack(app, stack_id)
    return stack, KmsSignEncrypt(stack, construct_id, config=config)


def test_construct_in_an_unrelated_stack_has_the_stacks_exact_policies(synth):
    project: Synthesized = synth({"sample:namePrefix": PREFIX})
    stack, construct = _build("PlatformStack", "PartnerExchange", StackConfig(name_prefix=PREFIX))

    theirs = _policies(stack, construct)
    ours = _policies(project.stack, project.stack.resources)
    key_policies = [k for k in ours if k.endswith(":KeyPolicy")]
    trust_policies = [k for k in ours if k.endswith(":AssumeRolePolicyDocument")]
    assert {"EncryptionKey/Key/Resource:KeyPolicy", "SigningKey/Key/Resource:KeyPolicy"} <= set(
        key_policies
    )
    assert len(trust_policies) == 2
    assert theirs == ours
    # The names in them carry the prefix, not the construct id.
    assert f"role/{PREFIX}SenderWorkload" in json.dumps(theirs)
    assert "PartnerExchange" not in json.dumps(theirs)


def test_construct_ids_carry_its_id_and_its_outputs_are_named_as_documented():
    stack, construct = _build("PlatformStack", "PartnerExchange", StackConfig())
    doc = Template.from_stack(stack).to_json()
    assert sorted(doc["Outputs"]) == sorted(
        stack.get_logical_id(construct.outputs[name].node.default_child or construct.outputs[name])
        for name in OUTPUT_NAMES
    )
    keys = [k for k, v in doc["Resources"].items() if v["Type"] == "AWS::KMS::Key"]
    assert all(k.startswith("PartnerExchange") for k in keys), keys


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            StackConfig(pending_window_days=3),
            "pending_window_days must be a whole number of days from 7 to 30; got 3",
        ),
        (
            StackConfig(name_prefix="9lives"),
            "name_prefix must be empty, or up to 32 letters, digits and hyphens starting with "
            "a letter; got '9lives'",
        ),
        (
            StackConfig(signing_key_alias="alias/sample-encrypt-decrypt-key"),
            "signing_key_alias must be different from encryption_key_alias; "
            "got 'alias/sample-encrypt-decrypt-key'",
        ),
    ],
)
def test_construct_refuses_a_bad_setting_in_one_line_naming_the_field(config, message):
    stack = Stack(App(), "PlatformStack")
    with pytest.raises(ConfigError) as raised:
        KmsSignEncrypt(stack, "PartnerExchange", config=config)
    assert str(raised.value) == message
    assert "\n" not in str(raised.value)


def test_the_docs_example_runs_and_builds_the_construct(tmp_path, monkeypatch):
    text = (REPO / "docs" / "STACK.md").read_text(encoding="utf-8")
    (block,) = re.findall(r"<!-- construct-example:.*?-->\n```python\n(.*?)```", text, re.S)
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, Any] = {}
    exec(compile(block, "docs/STACK.md", "exec"), namespace)
    exchange = namespace["exchange"]
    assert isinstance(exchange, KmsSignEncrypt)
    trust = Template.from_stack(namespace["platform"]).find_resources("AWS::IAM::Role")
    assert "arn:aws:iam::111122223333:role/PartnerReader" in json.dumps(trust)
    assert "partner-4f1c" in json.dumps(trust)
