"""Deploy the multi-account topology into the endpoint with the real CDK CLI (issue 13).

Each stack goes into its own account with that account's administrator credentials, in the
order the accounts depend on each other:

1. the party stacks, roles only (a key policy may name only roles that exist: KMS refuses
   a policy naming a missing principal, and so does the endpoint);
2. the key-owner stack (the keys, whose key policies name the party roles), writing its
   outputs to `key-owner.json`;
3. the party stacks again with `-c sample:keyOwnerOutputs=key-owner.json`: each role's
   identity policy now names the key ARNs; each party's outputs go to its own file.

Then each party account gets its workload (user -> workload role -> party role, each allowed
one sts:AssumeRole), and an AWS config with one profile per party.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from local_endpoint import cdk_cli
from local_endpoint.endpoint import (
    ADMINISTRATOR_KEYS,
    KEY_OWNER_ACCOUNT,
    RECEIVER_ACCOUNT,
    SECOND_RECEIVER_ACCOUNT,
    SENDER_ACCOUNT,
    LocalEndpoint,
)
from local_endpoint.workloads import Workload, create_workload, profile_sections
from stacks.config import DEFAULT_RECEIVER_WORKLOAD, DEFAULT_SENDER_WORKLOAD

RECEIVERS: Final = (("A", RECEIVER_ACCOUNT), ("B", SECOND_RECEIVER_ACCOUNT))
TOPOLOGY: Final[dict[str, str]] = {
    "sample:keyOwnerAccount": KEY_OWNER_ACCOUNT,
    "sample:senderAccount": SENDER_ACCOUNT,
    "sample:senderPrincipal": "SenderRole",
    "sample:receivers": json.dumps(
        [{"name": n, "account": a, "principal": "ReceiverRole"} for n, a in RECEIVERS]
    ),
}
KEY_OWNER_STACK: Final = "KmsSignEncryptKeyOwnerStack"
SENDER_STACK: Final = "KmsSignEncryptSenderStack"
SENDER_PROFILE: Final = "sender-workload"


def receiver_stack(name: str) -> str:
    return f"KmsSignEncryptReceiver{name}Stack"


def admin_profile(account: str) -> str:
    return f"admin-{account}"


def receiver_profile(name: str) -> str:
    return f"receiver-{name.lower()}-workload"


@dataclass(frozen=True)
class AccountsLayout:
    """The files the deploy writes and the demo reads, under one directory."""

    directory: Path

    @property
    def key_owner_outputs(self) -> Path:
        return self.directory / "key-owner.json"

    def party_outputs(self, stack: str) -> Path:
        return self.directory / f"{stack}.outputs.json"

    @property
    def config_file(self) -> Path:
        return self.directory / "aws-config"

    @property
    def credentials_file(self) -> Path:
        return self.directory / "aws-credentials"

    @property
    def topology_file(self) -> Path:
        return self.directory / "topology.json"


def parties() -> list[tuple[str, str, str, str]]:
    """(stack, account, profile, workload role name) of every party."""
    return [
        (SENDER_STACK, SENDER_ACCOUNT, SENDER_PROFILE, DEFAULT_SENDER_WORKLOAD),
        *(
            (receiver_stack(n), a, receiver_profile(n), DEFAULT_RECEIVER_WORKLOAD)
            for n, a in RECEIVERS
        ),
    ]


def context_args(context: Mapping[str, str]) -> list[str]:
    args: list[str] = []
    for key, value in context.items():
        args += ["-c", f"{key}={value}"]
    return args


def deploy_topology(
    endpoint: LocalEndpoint,
    layout: AccountsLayout,
    *,
    step: Callable[[str], None] = lambda _title: None,
) -> None:
    """Synthesize and deploy every stack into its account (the three rounds above)."""
    layout.directory.mkdir(parents=True, exist_ok=True)
    for stale in layout.directory.glob("*.json"):
        stale.unlink()
    topology = context_args(TOPOLOGY)
    roles_only = layout.directory / "cdk.out.roles"
    full = layout.directory / "cdk.out"

    def env(account: str) -> dict[str, str]:
        return cdk_cli.cdk_env(endpoint.account_env(account))

    step("Synthesizing the party stacks, roles only: cdk synth " + " ".join(topology))
    cdk_cli.run([*cdk_cli.synth_command(roles_only), *topology], env(KEY_OWNER_ACCOUNT))
    step(
        "Deploying the party stacks (roles only), each into its account as its administrator, "
        "side by side: " + ", ".join(f"{stack} -> {account}" for stack, account, *_ in parties())
    )
    _deploy_parties(layout, roles_only, env)
    step(f"Deploying {KEY_OWNER_STACK} into {KEY_OWNER_ACCOUNT} as its administrator")
    cdk_cli.run(
        [*_deploy(layout.key_owner_outputs, roles_only), KEY_OWNER_STACK],
        env(KEY_OWNER_ACCOUNT),
    )
    with_keys = [*topology, "-c", f"sample:keyOwnerOutputs={layout.key_owner_outputs}"]
    step(
        "Synthesizing the party stacks with the key ARNs: cdk synth ... -c "
        f"sample:keyOwnerOutputs={layout.key_owner_outputs.name}"
    )
    cdk_cli.run([*cdk_cli.synth_command(full), *with_keys], env(KEY_OWNER_ACCOUNT))
    step("Deploying the party stacks again, now with their cross-account key rights")
    _deploy_parties(layout, full, env)
    layout.topology_file.write_text(json.dumps(TOPOLOGY, indent=2) + "\n", encoding="utf-8")


def _deploy_parties(
    layout: AccountsLayout, assembly: Path, env: Callable[[str], dict[str, str]]
) -> None:
    """`cdk deploy` of every party stack at once, each with its account's credentials (the
    accounts are independent); each CLI's output is printed after it ends, one at a time."""
    from concurrent.futures import ThreadPoolExecutor

    def deploy(party: tuple[str, str, str, str]) -> str:
        stack, account, _profile, _workload = party
        command = [*_deploy(layout.party_outputs(stack), assembly), stack]
        return cdk_cli.run(command, env(account), capture=True)

    with ThreadPoolExecutor(max_workers=len(parties())) as pool:
        futures = [pool.submit(deploy, party) for party in parties()]
        for future in futures:
            for line in future.result().splitlines():
                if line.startswith(("✅", "Outputs:", "arn:", "Kms")) and "|" not in line:
                    print(f"    {line}", flush=True)


def _deploy(outputs_file: Path, assembly: Path) -> list[str]:
    return cdk_cli.deploy_command(outputs_file, app=assembly)


def create_workloads(endpoint: LocalEndpoint, layout: AccountsLayout) -> list[Workload]:
    """Each party account's workload, and the profiles (one per party) that play them."""
    workloads = []
    for stack, account, profile, workload_role in parties():
        (outputs,) = json.loads(layout.party_outputs(stack).read_text(encoding="utf-8")).values()
        role_output = "SenderRoleArn" if stack == SENDER_STACK else "ReceiverRoleArn"
        workloads.append(
            create_workload(
                endpoint.client("iam", account=account),
                account=account,
                user_name=profile,
                role_name=workload_role,
                party_role_arn=outputs[role_output],
                profile=profile,
            )
        )
    _write_profiles(layout, workloads, endpoint.region)
    return workloads


def _write_profiles(layout: AccountsLayout, workloads: list[Workload], region: str) -> None:
    config, credentials = profile_sections(workloads, region=region)
    # Each account's administrator, for the demo's checks (what the administrators cannot do).
    for account, (key, secret) in ADMINISTRATOR_KEYS.items():
        config += [f"[profile {admin_profile(account)}]", f"region = {region}", ""]
        credentials += [
            f"[{admin_profile(account)}]",
            f"aws_access_key_id = {key}",
            f"aws_secret_access_key = {secret}",
            "",
        ]
    layout.config_file.write_text("\n".join(config), encoding="utf-8")
    layout.credentials_file.touch(mode=0o600)
    layout.credentials_file.write_text("\n".join(credentials), encoding="utf-8")


def profile_env(layout: AccountsLayout) -> dict[str, Any]:
    return {
        "AWS_CONFIG_FILE": str(layout.config_file),
        "AWS_SHARED_CREDENTIALS_FILE": str(layout.credentials_file),
    }
