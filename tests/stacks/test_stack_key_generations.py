"""Key generations (issue 15, part D): one key per generation, the alias and the sender on the
current one, the receiver on every active one, a retired one disabled and kept.

The upgrade test is the promise to existing deployments: going from the default (one
generation) to two keeps the first key's logical ID and every property CloudFormation would
replace it for, and keeps the alias's logical ID (an UpdateAlias, not a second alias).
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stacks.config import ConfigError, StackConfig
from tests.stacks import stack_checks

ENCRYPTION = "sample:encryptionKeyGenerations"
SIGNING = "sample:signingKeyGenerations"
TWO = {ENCRYPTION: ["2026", "2027"], SIGNING: ["2026", "2027"]}
RETIRED = {ENCRYPTION: ["2026:retired", "2027"], SIGNING: ["2026:retired", "2027"]}
DELETED = {ENCRYPTION: ["2026:deleted", "2027:retired", "2028"], SIGNING: ["2026", "2027"]}
# What CloudFormation replaces an AWS::KMS::Key for (the KMS resource provider's schema:
# createOnlyProperties), besides the logical ID itself.
REPLACING_PROPERTIES = ("KeySpec", "KeyUsage", "MultiRegion", "Origin")

ALLOWED = (
    "a list of key generations, oldest first, the last one current, each NAME, NAME:retired or "
    "NAME:deleted (NAME: 1-32 letters and digits), as JSON or comma-separated"
)
NAMES = "generation names of 1-32 letters and digits (NAME, NAME:retired or NAME:deleted)"
CURRENT = (
    "a list whose last generation, the current one, is active: add its successor first and "
    "make that one current"
)
BAD = {
    "empty list": (
        [],
        f"{ENCRYPTION} must be a list of at least one key generation (the current one); got []",
    ),
    "empty name": (["2026", ""], f"{ENCRYPTION} must be {NAMES}; got ''"),
    "name with a hyphen": (["2026-1"], f"{ENCRYPTION} must be {NAMES}; got '2026-1'"),
    "name too long": (["a" * 33], f"{ENCRYPTION} must be {NAMES}; got '{'a' * 33}'"),
    "duplicate name": (
        ["2026", "2027", "2026:retired"],
        f"{ENCRYPTION} must be a list naming each generation once (one entry per key, its "
        "state after the name); got '2026:retired'",
    ),
    "unknown state": (
        ["2026:disabled", "2027"],
        f"{ENCRYPTION} must be NAME, or NAME with one of the states :retired, :deleted; "
        "got '2026:disabled'",
    ),
    "current retired": (
        ["2026", "2027:retired"],
        f"{ENCRYPTION} must be {CURRENT}; got '2027:retired'",
    ),
    "only one, retired": (["2026:retired"], f"{ENCRYPTION} must be {CURRENT}; got '2026:retired'"),
    "current deleted": (
        ["2026", "2027:deleted"],
        f"{ENCRYPTION} must be {CURRENT}; got '2027:deleted'",
    ),
    "deleted before retired": (
        ["2025:retired", "2026:deleted", "2027"],
        f"{ENCRYPTION} must be generations retired and deleted oldest first (no generation "
        "further on in its life than an older one: 2025:retired comes before it); got "
        "'2026:deleted'",
    ),
    "retired after active": (
        ["2025", "2026:retired", "2027"],
        f"{ENCRYPTION} must be generations retired and deleted oldest first (no generation "
        "further on in its life than an older one: 2025 comes before it); got '2026:retired'",
    ),
    "not a list": (7, f"{ENCRYPTION} must be {ALLOWED}; got 7"),
}


@pytest.mark.parametrize("case", BAD)
def test_a_bad_generation_list_fails_synth_with_one_line(case):
    value, message = BAD[case]
    with pytest.raises(ConfigError) as caught:
        StackConfig.from_context({ENCRYPTION: value})
    assert str(caught.value) == message
    assert "\n" not in message
    assert caught.value.setting == ENCRYPTION


def test_command_line_strings_are_read_like_json_lists():
    config = StackConfig.from_context({SIGNING: "2026:retired,2027", ENCRYPTION: '["a", "b"]'})
    assert [g.entry for g in config.signing_key_generations] == ["2026:retired", "2027"]
    assert [g.entry for g in config.encryption_key_generations] == ["a", "b"]
    assert config.validated() == config


def test_the_construct_validates_generations_naming_the_field():
    from stacks.config import GenerationState, KeyGeneration

    bad = StackConfig(
        signing_key_generations=(KeyGeneration("1", GenerationState.RETIRED),),
    )
    with pytest.raises(ConfigError, match=r"^signing_key_generations must be a list whose last"):
        bad.validated()


def _keys(synthesized) -> dict[str, dict[str, Any]]:
    return synthesized.resources("AWS::KMS::Key")


def _by_prefix(synthesized, prefix: str, cfn_type: str = "AWS::KMS::Key") -> str:
    (logical_id,) = [k for k in synthesized.resources(cfn_type) if k.startswith(prefix)]
    return logical_id


def _sids(resource: dict[str, Any]) -> list[str]:
    return [s["Sid"] for s in resource["Properties"]["KeyPolicy"]["Statement"]]


def test_the_default_has_no_generation_outputs(default):
    assert "EncryptionKeyGenerations" not in default.doc["Outputs"]
    assert not [k for k in default.doc["Outputs"] if "Generation" in k]


def test_upgrading_to_two_generations_replaces_nothing(default, synth):
    two = synth(TWO)
    for key in ("EncryptionKey", "SigningKey"):
        first = default.logical_id(f"{key}/Key")
        before, after = default.doc["Resources"][first], two.doc["Resources"].get(first)
        assert after is not None, f"{key}'s first generation changed its logical ID"
        for prop in REPLACING_PROPERTIES:
            assert after["Properties"].get(prop) == before["Properties"].get(prop), prop
        for prop in set(before["Properties"]) - {"KeyPolicy"}:
            assert after["Properties"][prop] == before["Properties"][prop], prop
        assert {k: v for k, v in after.items() if k != "Properties"} == {
            k: v for k, v in before.items() if k != "Properties"
        }
        assert "Enabled" not in after["Properties"]
        alias = default.logical_id(f"{key}/Alias")
        assert (
            two.doc["Resources"][alias]["Properties"]["AliasName"]
            == (default.doc["Resources"][alias]["Properties"]["AliasName"])
        )
    # Every resource of the default keeps its logical ID and type: only new ones are added.
    for logical_id, resource in default.doc["Resources"].items():
        assert two.doc["Resources"][logical_id]["Type"] == resource["Type"]
    added = sorted(set(two.doc["Resources"]) - set(default.doc["Resources"]))
    assert [two.doc["Resources"][k]["Type"] for k in added] == ["AWS::KMS::Key"] * 2
    # The current outputs keep their names, now naming the new keys.
    outputs = two.doc["Outputs"]
    new_encryption = _by_prefix(two, "EncryptionKey2027Key")
    assert outputs["EncryptionKeyArn"]["Value"] == {"Fn::GetAtt": [new_encryption, "Arn"]}
    assert outputs["EncryptionKeyGeneration2026Arn"]["Value"] == {
        "Fn::GetAtt": [default.logical_id("EncryptionKey/Key"), "Arn"]
    }
    assert outputs["EncryptionKeyGenerations"]["Value"] == "2026 2027"


def test_the_alias_names_the_current_generation(synth):
    two = synth(TWO)
    for key in ("EncryptionKey", "SigningKey"):
        alias = two.doc["Resources"][two.logical_id(f"{key}/Alias")]
        assert alias["Properties"]["TargetKeyId"] == {
            "Fn::GetAtt": [_by_prefix(two, f"{key}2027Key"), "Arn"]
        }
    assert len(two.resources("AWS::KMS::Alias")) == 2


def test_the_sender_is_on_the_current_generation_only_the_receiver_on_every_active(synth):
    two = synth(TWO)
    resources = two.doc["Resources"]
    old_e, new_e = two.logical_id("EncryptionKey/Key"), _by_prefix(two, "EncryptionKey2027Key")
    old_s, new_s = two.logical_id("SigningKey/Key"), _by_prefix(two, "SigningKey2027Key")
    assert _sids(resources[old_e]) == ["KeyAdministration", "ReceiverDecrypt"]
    assert _sids(resources[new_e]) == [
        "KeyAdministration",
        "SenderEncrypt",
        "SenderGetPublicKey",
        "ReceiverDecrypt",
    ]
    assert _sids(resources[old_s]) == [
        "KeyAdministration",
        "ReceiverVerify",
        "ReceiverGetPublicKey",
    ]
    assert _sids(resources[new_s]) == [
        "KeyAdministration",
        "SenderSign",
        "ReceiverVerify",
        "ReceiverGetPublicKey",
    ]
    for logical_id in (old_e, new_e, old_s, new_s):
        stack_checks.check_key_retained(resources[logical_id])


def test_a_retired_generation_is_disabled_kept_and_usable_by_nobody(synth):
    retired = synth(RETIRED)
    resources = retired.doc["Resources"]
    for key in ("EncryptionKey", "SigningKey"):
        old = resources[retired.logical_id(f"{key}/Key")]
        assert old["Properties"]["Enabled"] is False
        assert _sids(old) == ["KeyAdministration"]
        stack_checks.check_admin_statement(old["Properties"]["KeyPolicy"]["Statement"][0])
        stack_checks.check_key_retained(old)
        assert "Enabled" not in resources[_by_prefix(retired, f"{key}2027Key")]["Properties"]
    assert retired.doc["Outputs"]["SigningKeyGenerations"]["Value"] == "2026:retired 2027"
    assert "SigningKeyGeneration2026Arn" in retired.doc["Outputs"]


def test_a_deleted_generation_leaves_the_stack_and_the_alias_stays_put(default, synth):
    deleted = synth(DELETED)
    resources = deleted.doc["Resources"]
    first = default.logical_id("EncryptionKey/Key")
    assert first not in resources
    assert resources[_by_prefix(deleted, "EncryptionKey2027Key")]["Properties"]["Enabled"] is False
    alias = default.logical_id("EncryptionKey/Alias")
    assert resources[alias]["Properties"]["TargetKeyId"] == {
        "Fn::GetAtt": [_by_prefix(deleted, "EncryptionKey2028Key"), "Arn"]
    }
    outputs = deleted.doc["Outputs"]
    assert outputs["EncryptionKeyGenerations"]["Value"] == "2026:deleted 2027:retired 2028"
    assert "EncryptionKeyGeneration2026Arn" not in outputs
    assert "EncryptionKeyGeneration2027Arn" in outputs


def test_every_generation_is_watched_by_the_key_change_alarm(synth):
    retired = synth(RETIRED)
    (rule,) = [
        r
        for r in retired.resources("AWS::Events::Rule").values()
        if "DisableKey" in str(r["Properties"]["EventPattern"])
    ]
    watched = str(rule["Properties"]["EventPattern"])
    for logical_id in _keys(retired):
        if not logical_id.startswith("KeyChangeAlarms"):
            assert logical_id in watched, f"{logical_id} is not watched"


def test_the_generation_template_passes_the_template_checks(synth):
    doc = copy.deepcopy(synth(RETIRED).doc)
    stack_checks.check_no_identity_policies(doc)


@pytest.mark.parametrize("context", [TWO, RETIRED, DELETED], ids=["two", "retired", "deleted"])
def test_cdk_nag_and_cfn_lint_pass_with_generations(synth, background, context):
    from cdk_nag import AwsSolutionsChecks

    synthesized = synth(context)
    report = AwsSolutionsChecks().validate_scope(synthesized.app)
    assert sorted(v.rule_name for v in report.violations) == []
    assert background.cfn_lint.result(timeout=120)(synthesized.doc) == []
