"""Deploy a synthesized CloudFormation template into the endpoint, the way `cdk deploy` does.

`cdk deploy` creates a change set, executes it and waits; this module does the same with
boto3, so tests can deploy the app they synthesized in process without starting Node.js.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHANGE_SET_NAME = "local-endpoint-deploy"
DEPLOY_TIMEOUT_SECONDS = 120.0
_POLL_SECONDS = 0.1
_NO_CHANGES = "didn't contain changes"
_DONE = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
_FAILED_SUFFIXES = ("_FAILED", "ROLLBACK_COMPLETE", "ROLLBACK_IN_PROGRESS")


class DeployError(RuntimeError):
    """CloudFormation did not reach CREATE_COMPLETE/UPDATE_COMPLETE."""


@dataclass(frozen=True)
class DeployedStack:
    """A stack as the endpoint reports it after a deploy."""

    stack_name: str
    outputs: dict[str, str]
    template: dict[str, Any]


def deploy_template(
    cloudformation: Any,
    stack_name: str,
    template: Mapping[str, Any],
    *,
    timeout: float = DEPLOY_TIMEOUT_SECONDS,
) -> DeployedStack:
    """Create or update ``stack_name`` from ``template`` with a change set; return its outputs."""
    change_set_type = "UPDATE" if _stack_exists(cloudformation, stack_name) else "CREATE"
    cloudformation.create_change_set(
        StackName=stack_name,
        ChangeSetName=CHANGE_SET_NAME,
        ChangeSetType=change_set_type,
        TemplateBody=json.dumps(template),
        Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
    )
    change_set = cloudformation.describe_change_set(
        StackName=stack_name, ChangeSetName=CHANGE_SET_NAME
    )
    if change_set["Status"] == "FAILED" and _NO_CHANGES in change_set.get("StatusReason", ""):
        # Like `cdk deploy`: an unchanged stack is a successful no-op.
        cloudformation.delete_change_set(StackName=stack_name, ChangeSetName=CHANGE_SET_NAME)
    else:
        cloudformation.execute_change_set(StackName=stack_name, ChangeSetName=CHANGE_SET_NAME)
    stack = _wait_until_done(cloudformation, stack_name, timeout)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
    return DeployedStack(stack_name=stack_name, outputs=outputs, template=dict(template))


def write_outputs_file(path: Path, stacks: Mapping[str, Mapping[str, str]]) -> Path:
    """Write ``{stack name: {output key: value}}`` as `cdk deploy --outputs-file` does."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(stacks, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path


def _stack_exists(cloudformation: Any, stack_name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        stacks = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    except ClientError as error:
        if error.response["Error"]["Code"] == "ValidationError":
            return False
        raise
    return any(s["StackStatus"] != "REVIEW_IN_PROGRESS" for s in stacks)


def _wait_until_done(cloudformation: Any, stack_name: str, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        stack = cloudformation.describe_stacks(StackName=stack_name)["Stacks"][0]
        status = stack["StackStatus"]
        if status in _DONE:
            return stack
        if status.endswith(_FAILED_SUFFIXES):
            reason = stack.get("StackStatusReason") or _failure_reason(cloudformation, stack_name)
            raise DeployError(f"stack {stack_name} is {status}: {reason}")
        if time.monotonic() > deadline:
            raise DeployError(f"stack {stack_name} still {status} after {timeout:.0f} s")
        time.sleep(_POLL_SECONDS)


def _failure_reason(cloudformation: Any, stack_name: str) -> str:
    """The newest stack event's reason that a resource handler gave (as `cdk deploy` shows)."""
    events = cloudformation.describe_stack_events(StackName=stack_name).get("StackEvents", [])
    for event in events:
        reason = event.get("ResourceStatusReason") or ""
        if "Resource handler returned message" in reason:
            return reason
    return "no reason given"
