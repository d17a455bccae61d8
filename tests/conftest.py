"""Shared fixtures: one local AWS endpoint per test session, with the app deployed into it.

``local_endpoint`` (session)
    A running :class:`local_endpoint.LocalEndpoint`: ``.url``, ``.env`` (the AWS_* variables
    for boto3, the AWS CLI and the CDK CLI), ``.subprocess_env()`` (this process's environment
    without its own AWS_*/CDK_* variables, plus ``.env``), ``.client(service, **credentials)``
    (a boto3 client; administrator unless credentials are given). Stopped at session end.

``deployed_stack`` (session)
    The CDK app, synthesized in process with ``{"sample:bootstrapless": True}`` and created in
    ``local_endpoint`` with a CloudFormation change set, as ``cdk deploy`` does:

    - ``.stack_name``   e.g. ``"KmsSignEncryptStack"``
    - ``.outputs``      ``{"EncryptionKeyArn": ..., "EncryptionKeyAlias": ..., "SigningKeyArn":
      ..., "SigningKeyAlias": ..., "SenderRoleArn": ..., "ReceiverRoleArn": ...}``
    - ``.outputs_file`` a ``pathlib.Path`` to a JSON file like ``cdk deploy --outputs-file``
      writes: ``{stack_name: outputs}``
    - ``.template``     the synthesized CloudFormation template (dict)
    - ``.assembly_dir`` the synthesized cloud assembly (``cdk deploy --app DIR`` reuses it)
    - ``.env``          the same as ``local_endpoint.env``
    - ``.endpoint``     the ``local_endpoint`` it lives in
    - ``.profiles``     the two party workloads (``local_endpoint.workloads``): AWS profiles
      ``sender-workload`` and ``receiver-workload`` in ``.profiles.config_file`` /
      ``.credentials_file``; ``.profiles.env`` points the SDK at them. The default trust lets
      only these assume SenderRole / ReceiverRole, never the administrator.

Tests that change state (key policies, key state) must not use these shared fixtures: start a
``LocalEndpoint()`` of their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local_endpoint import LocalEndpoint
from local_endpoint.deploy import deploy_template, write_outputs_file
from local_endpoint.workloads import WorkloadProfiles, create_party_workloads

BOOTSTRAPLESS = {"sample:bootstrapless": True}
PROJECT_ROOT = Path(__file__).resolve().parent.parent

# jsii (in-process synthesis) and the CDK CLI run on the project's own Node.js 22, as under
# `make`: the machine's Node.js may be end-of-life and print warnings.
_NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"
if _NODE_BIN.is_dir() and not os.environ.get("PATH", "").startswith(str(_NODE_BIN)):
    os.environ["PATH"] = f"{_NODE_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


@dataclass(frozen=True)
class DeployedApp:
    """The app deployed into the session's endpoint (see the module docstring)."""

    stack_name: str
    outputs: dict[str, str]
    outputs_file: Path
    template: dict[str, Any]
    endpoint: LocalEndpoint
    assembly_dir: Path
    profiles: WorkloadProfiles

    @property
    def env(self) -> dict[str, str]:
        return self.endpoint.env

    @property
    def party_env(self) -> dict[str, str]:
        """The workloads' profile files, and the demo CLI's defaults naming each party's
        profile (so `send` runs as the sender workload, `receive` as the receiver's)."""
        sender, receiver = self.profiles.sender.profile, self.profiles.receiver.profile
        return self.profiles.env | {
            "KMS_SIGN_ENCRYPT_SENDER_PROFILE": sender,
            "KMS_SIGN_ENCRYPT_RECEIVER_PROFILE": receiver,
            "SEED_SENDER_PROFILE": sender,  # scripts/seed-walkthrough.sh
            "SEED_RECEIVER_PROFILE": receiver,
        }

    def party_credentials(self, role_output: str, session: str = "tests") -> dict[str, str]:
        """boto3 credentials of a session of the party role `role_output` (SenderRoleArn or
        ReceiverRoleArn), assumed the only way its trust admits: by that party's workload
        (user -> workload role -> party role)."""
        workload = (
            self.profiles.sender if role_output == "SenderRoleArn" else self.profiles.receiver
        )
        credentials = {
            "aws_access_key_id": workload.access_key_id,
            "aws_secret_access_key": workload.secret_access_key,
        }
        for role_arn in (workload.role_arn, self.outputs[role_output]):
            sts = self.endpoint.client("sts", **credentials)
            c = sts.assume_role(RoleArn=role_arn, RoleSessionName=session)["Credentials"]
            credentials = {
                "aws_access_key_id": c["AccessKeyId"],
                "aws_secret_access_key": c["SecretAccessKey"],
                "aws_session_token": c["SessionToken"],
            }
        return credentials

    def subprocess_env(self) -> dict[str, str]:
        """A child process's environment: the endpoint, and the party workloads."""
        return self.endpoint.subprocess_env() | self.party_env


def synthesize_assembly(context: dict[str, object] | None = None) -> Any:
    """Synthesize the app in process (bootstrapless); return the cloud assembly.

    Without the CDK's built-in CloudFormation validation (about 8 s of CPU per process): the
    stack tests lint the same template with cfn-lint, and `cdk synth`/`cdk deploy` still run it.
    """
    from stacks.app import create_app

    app = create_app({**BOOTSTRAPLESS, **(context or {})}, builtin_validation=False)
    return app.synth()


def synthesize_stack(context: dict[str, object] | None = None) -> tuple[str, dict[str, Any]]:
    """Synthesize the app in process; return its only stack's name and template."""
    (stack,) = synthesize_assembly(context).stacks
    return stack.stack_name, dict(stack.template)


@pytest.fixture(scope="session")
def local_endpoint() -> Iterator[LocalEndpoint]:
    with LocalEndpoint() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def deployed_stack(
    local_endpoint: LocalEndpoint, tmp_path_factory: pytest.TempPathFactory
) -> DeployedApp:
    assembly = synthesize_assembly()
    (stack,) = assembly.stacks
    stack_name, template = stack.stack_name, dict(stack.template)
    deployed = deploy_template(local_endpoint.client("cloudformation"), stack_name, template)
    outputs_file = write_outputs_file(
        tmp_path_factory.mktemp("cdk") / "outputs.json", {stack_name: deployed.outputs}
    )
    profiles = create_party_workloads(
        local_endpoint.client("iam"),
        deployed.outputs,
        tmp_path_factory.mktemp("workloads"),
        region=local_endpoint.region,
    )
    return DeployedApp(
        stack_name=stack_name,
        outputs=deployed.outputs,
        outputs_file=outputs_file,
        template=template,
        endpoint=local_endpoint,
        assembly_dir=Path(assembly.directory),
        profiles=profiles,
    )
