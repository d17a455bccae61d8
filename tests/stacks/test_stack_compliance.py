"""cdk-nag's AwsSolutions pack and cfn-lint: zero findings and zero acknowledgements."""

from __future__ import annotations

import copy
import importlib.util
from pathlib import Path

import pytest
from aws_cdk import Acknowledgment, Validations
from aws_cdk import aws_iam as iam
from cdk_nag import AwsSolutionsChecks

from stacks.app import create_app

REPO = Path(__file__).resolve().parents[2]


def _nag_findings(app):
    report = AwsSolutionsChecks().validate_scope(app)
    return sorted(v.rule_name for v in report.violations)


def _acknowledgements(app):
    return [
        (construct.node.path, entry.data)
        for construct in app.node.find_all()
        for entry in construct.node.metadata
        if entry.type == Validations.ACKNOWLEDGED_RULES_METADATA_KEY
    ]


@pytest.fixture(scope="module")
def cfn_lint(background):
    return background.cfn_lint.result(timeout=120)


@pytest.fixture(scope="module")
def cdk_entry():
    """app.py, loaded as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("cdk_entry", REPO / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("fixture", ["default", "configured"])
def test_aws_solutions_pack_finds_nothing(request, fixture):
    assert _nag_findings(request.getfixturevalue(fixture).app) == []


@pytest.mark.parametrize("fixture", ["default", "configured"])
def test_nothing_is_acknowledged(request, fixture):
    synthesized = request.getfixturevalue(fixture)
    assert _acknowledgements(synthesized.app) == []
    for resource in synthesized.doc["Resources"].values():
        assert "cdk_nag" not in resource.get("Metadata", {})


@pytest.mark.parametrize("fixture", ["default", "configured"])
def test_cfn_lint_finds_nothing(request, cfn_lint, fixture):
    assert cfn_lint(request.getfixturevalue(fixture).doc) == []


# --- the checks catch what they guard --------------------------------------------------------


def test_aws_solutions_pack_catches_a_managed_policy(tampered):
    policy = "arn:<AWS::Partition>:iam::aws:policy/AWSKeyManagementServicePowerUser"
    assert f"AwsSolutions-IAM4[Policy::{policy}]" in _nag_findings(tampered.app)


def test_app_py_fails_synth_on_a_finding_with_one_line(cdk_entry, capsys):
    app = create_app(builtin_validation=False)
    (stack,) = app.node.children[:1]
    stack.receiver_role.add_to_policy(iam.PolicyStatement(actions=["kms:*"], resources=["*"]))
    assert cdk_entry.synthesize(app) == 1
    err_lines = capsys.readouterr().err.splitlines()
    assert "error: synth stopped: cdk-nag AwsSolutions findings (see the report above)" in err_lines
    assert not any(line.startswith("Traceback") for line in err_lines)


def test_acknowledgement_check_catches_an_acknowledgement():
    app = create_app(builtin_validation=False)
    Validations.of(app.node.children[0]).acknowledge(
        Acknowledgment(id="AwsSolutions::AwsSolutions-IAM4", reason="would hide a finding")
    )
    assert _acknowledgements(app) == [
        ("KmsSignEncryptStack", {"AwsSolutions::AwsSolutions-IAM4": "would hide a finding"})
    ]


def test_cfn_lint_catches_an_out_of_range_pending_window(default, cfn_lint):
    doc = copy.deepcopy(default.doc)
    key = default.logical_id("SigningKey/Key")
    doc["Resources"][key]["Properties"]["PendingWindowInDays"] = 3
    assert cfn_lint(doc) == [
        "[E3034: Check if a number is between min and max] (3 is less than the minimum of 7)"
        " matched 1"
    ]
