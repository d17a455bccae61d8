"""The real CDK CLI deploys into the endpoint: no bootstrap, outputs file, no-op redeploy, diff.

Reuses the session's synthesized cloud assembly (`--app DIR`), so the test times the CLI and
the endpoint rather than a second synthesis.
"""

from __future__ import annotations

import json

import pytest

from local_endpoint import LocalEndpoint, cdk_cli

# No skip when the CLI is missing: `make test` installs it (npm ci), and a missing install step
# must fail here, not pass unnoticed. (cdk_cli says "run `make setup`" when it is absent.)
pytestmark = pytest.mark.integration


def with_app(command: list[str], assembly_dir) -> list[str]:
    return [*command, "--app", str(assembly_dir)]


def test_cdk_deploy_then_unchanged_redeploy_then_diff(deployed_stack, tmp_path) -> None:
    outputs_file = tmp_path / "outputs.json"
    with LocalEndpoint() as endpoint:
        env = cdk_cli.cdk_env(endpoint.env)
        deploy = with_app(cdk_cli.deploy_command(outputs_file), deployed_stack.assembly_dir)
        cdk_cli.run(deploy, env, capture=True)
        outputs = json.loads(outputs_file.read_text())[deployed_stack.stack_name]
        assert set(outputs) == set(deployed_stack.outputs)
        kms = endpoint.client("kms")
        spec = kms.describe_key(KeyId=outputs["EncryptionKeyArn"])["KeyMetadata"]["KeySpec"]
        assert spec == "RSA_4096"

        again = cdk_cli.run(deploy, env, capture=True)
        assert json.loads(outputs_file.read_text())[deployed_stack.stack_name] == outputs
        assert "(no changes)" in again

        # `cdk diff` once took 51 s of SDK retries on moto's HTTP 500 for DeleteChangeSet; the
        # fidelity test of that patch pins the cause, this checks the whole command answers.
        diff = cdk_cli.run(cdk_cli.diff_command(deployed_stack.assembly_dir), env, capture=True)
        assert "There were no differences" in diff
