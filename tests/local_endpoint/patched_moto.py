"""Run moto in this process with the endpoint's patches, all of them or all but some.

The fidelity tests use this instead of a server: the same patch code, no process start, and a
patch can be left out to show that its test then fails.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.config import Config
from moto import mock_aws

from local_endpoint.endpoint import ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY, REGION
from local_endpoint.patches import REGISTRY

ACCOUNT = "123456789012"
ROOT = f"arn:aws:iam::{ACCOUNT}:root"


@dataclass
class Moto:
    """Clients on the in-process moto, administrator credentials unless given others."""

    def client(self, service: str, **credentials: str) -> Any:
        credentials = {
            "aws_access_key_id": ADMIN_ACCESS_KEY_ID,
            "aws_secret_access_key": ADMIN_SECRET_ACCESS_KEY,
        } | credentials
        return boto3.client(
            service,
            region_name=REGION,
            config=Config(retries={"max_attempts": 1}),
            **credentials,
        )

    def create_key(self, spec: str, usage: str, policy: dict[str, Any] | None = None) -> str:
        arguments: dict[str, Any] = {"KeySpec": spec, "KeyUsage": usage}
        if policy is not None:
            arguments["Policy"] = json.dumps(policy)
            arguments["BypassPolicyLockoutSafetyCheck"] = True
        return self.client("kms").create_key(**arguments)["KeyMetadata"]["Arn"]

    def create_role(self, name: str, trust: dict[str, Any]) -> str:
        role = self.client("iam").create_role(
            RoleName=name, AssumeRolePolicyDocument=json.dumps(trust)
        )
        return role["Role"]["Arn"]

    def assume(self, role_arn: str, **arguments: str) -> dict[str, str]:
        """Credentials (as client keyword arguments) for a session of ``role_arn``."""
        response = self.client("sts").assume_role(
            RoleArn=role_arn, RoleSessionName="tests", **arguments
        )
        c = response["Credentials"]
        return {
            "aws_access_key_id": c["AccessKeyId"],
            "aws_secret_access_key": c["SecretAccessKey"],
            "aws_session_token": c["SessionToken"],
        }


def trust_account_root(**condition: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": {"AWS": ROOT},
        "Action": "sts:AssumeRole",
    }
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


@contextlib.contextmanager
def patched_moto(disabled: Iterable[str] = ()) -> Iterator[Moto]:
    """moto with every patch but ``disabled`` installed; all undone afterwards."""
    installation = REGISTRY.install(disabled=disabled, eager=True)
    try:
        with pytest.MonkeyPatch.context() as env:
            for name in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "AWS_SESSION_TOKEN"):
                env.delenv(name, raising=False)
            with mock_aws():
                yield Moto()
    finally:
        installation.undo()


def holds(check: Callable[[Moto], None], disabled: Iterable[str] = ()) -> bool:
    """Whether ``check`` passes on moto patched with everything but ``disabled``."""
    with patched_moto(disabled) as moto:
        try:
            check(moto)
        except (Exception, pytest.fail.Exception):  # any failure: the behaviour is not there
            return False
    return True
