"""The two party workloads of the local demo: a sender and a receiver, distinct identities.

On AWS a party's workload is whatever runs its code (an ECS task, a Lambda function, a CI
job) with its own role, named `SenderWorkload` / `ReceiverWorkload` by the stack's default
trust (`stacks/config.py`). In the endpoint nothing runs as a role by itself, so each workload
is an IAM user (standing for the compute's own credentials) that may assume only its workload
role, and the workload role may assume only its party's role:

    user sender-workload  -> role SenderWorkload  -> SenderRole   (sign, encrypt)
    user receiver-workload -> role ReceiverWorkload -> ReceiverRole (decrypt, verify)

Each identity policy allows sts:AssumeRole on exactly one role and nothing else; each workload
role's trust names its one user. The administrator is none of them. `write_profiles` writes an
AWS config and credentials file whose profiles `sender-workload` / `receiver-workload` make the
SDK do the first hop itself (`role_arn` + `source_profile`), as a workload's SDK does on AWS.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from stacks.config import DEFAULT_RECEIVER_WORKLOAD, DEFAULT_SENDER_WORKLOAD
from stacks.outputs import RECEIVER_ROLE_ARN, SENDER_ROLE_ARN

SENDER_PROFILE: Final = "sender-workload"
RECEIVER_PROFILE: Final = "receiver-workload"
_POLICY_NAME: Final = "AssumeOnlyItsOwnRole"


@dataclass(frozen=True)
class Workload:
    profile: str
    user_arn: str
    role_arn: str
    party_role_arn: str
    access_key_id: str
    secret_access_key: str


@dataclass(frozen=True)
class WorkloadProfiles:
    config_file: Path
    credentials_file: Path
    sender: Workload
    receiver: Workload

    @property
    def env(self) -> dict[str, str]:
        """The variables that point the SDK at the profiles (the administrator's keys stay the
        default credentials)."""
        return {
            "AWS_CONFIG_FILE": str(self.config_file),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.credentials_file),
        }


def _assume_only(role_arn: str) -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
        }
    )


def create_workload(
    iam: Any, *, account: str, user_name: str, role_name: str, party_role_arn: str, profile: str
) -> Workload:
    """One workload: its user (with an access key) and its role, each allowed one AssumeRole."""
    user_arn = iam.create_user(UserName=user_name)["User"]["Arn"]
    role_arn = f"arn:aws:iam::{account}:role/{role_name}"
    iam.put_user_policy(
        UserName=user_name, PolicyName=_POLICY_NAME, PolicyDocument=_assume_only(role_arn)
    )
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}
        ],
    }
    iam.create_role(
        RoleName=role_name,
        AssumeRolePolicyDocument=json.dumps(trust),
        Description=f"the {profile} of the local demo",
        MaxSessionDuration=3600,
    )
    iam.put_role_policy(
        RoleName=role_name, PolicyName=_POLICY_NAME, PolicyDocument=_assume_only(party_role_arn)
    )
    key = iam.create_access_key(UserName=user_name)["AccessKey"]
    return Workload(
        profile,
        user_arn,
        role_arn,
        party_role_arn,
        key["AccessKeyId"],
        key["SecretAccessKey"],
    )


def create_party_workloads(
    iam: Any,
    outputs: dict[str, str],
    directory: Path,
    *,
    region: str,
    name_prefix: str = "",
) -> WorkloadProfiles:
    """Both workloads for the deployed stack's roles (`outputs`), and their profile files."""
    account = outputs[SENDER_ROLE_ARN].split(":")[4]
    sender, receiver = (
        create_workload(
            iam,
            account=account,
            user_name=f"{name_prefix}{profile}",
            role_name=f"{name_prefix}{workload_role}",
            party_role_arn=outputs[role_output],
            profile=profile,
        )
        for profile, workload_role, role_output in (
            (SENDER_PROFILE, DEFAULT_SENDER_WORKLOAD, SENDER_ROLE_ARN),
            (RECEIVER_PROFILE, DEFAULT_RECEIVER_WORKLOAD, RECEIVER_ROLE_ARN),
        )
    )
    return write_profiles(directory, (sender, receiver), region=region)


def profile_sections(workloads: Sequence[Workload], *, region: str) -> tuple[list[str], list[str]]:
    """The AWS config and credentials file lines for ``workloads``: each a profile that
    assumes its party role from the workload's own access key."""
    # The AWS CLI caches role credentials by role and session name, not by endpoint: a name of
    # its own per endpoint keeps it from reusing a previous endpoint's (now unknown) keys.
    run = secrets.token_hex(4)
    config: list[str] = []
    credentials: list[str] = []
    for workload in workloads:
        source = f"{workload.profile}-credentials"
        config += [
            f"[profile {workload.profile}]",
            f"role_arn = {workload.role_arn}",
            f"source_profile = {source}",
            f"role_session_name = {workload.profile}-{run}",
            f"region = {region}",
            "",
        ]
        credentials += [
            f"[{source}]",
            f"aws_access_key_id = {workload.access_key_id}",
            f"aws_secret_access_key = {workload.secret_access_key}",
            "",
        ]
    return config, credentials


def write_profiles(
    directory: Path, workloads: tuple[Workload, Workload], *, region: str
) -> WorkloadProfiles:
    directory.mkdir(parents=True, exist_ok=True)
    config, credentials = profile_sections(workloads, region=region)
    config_file = directory / "aws-config"
    credentials_file = directory / "aws-credentials"
    config_file.write_text("\n".join(config), encoding="utf-8")
    credentials_file.touch(mode=0o600)
    credentials_file.write_text("\n".join(credentials), encoding="utf-8")
    sender, receiver = workloads
    return WorkloadProfiles(config_file, credentials_file, sender, receiver)
