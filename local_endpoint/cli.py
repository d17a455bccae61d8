"""`python -m local_endpoint serve | demo`: the endpoint on its own, or the whole story.

serve  start the endpoint, print how to use it (AWS CLI, boto3, CDK), serve until Ctrl-C.
demo   start the endpoint, deploy the app with the real CDK CLI, run the demo as its own
       process (it ends with the access matrix), stop the endpoint. `make demo` runs this.

Every failure is one line on stderr and a non-zero exit; work files go under .local/.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from botocore.exceptions import BotoCoreError, ClientError

from local_endpoint import cdk_cli
from local_endpoint.endpoint import EndpointError, LocalEndpoint
from local_endpoint.workloads import (
    RECEIVER_PROFILE,
    SENDER_PROFILE,
    WorkloadProfiles,
    create_party_workloads,
)

WORK_DIR = cdk_cli.PROJECT_ROOT / ".local"
OUTPUTS_FILE = WORK_DIR / "cdk-outputs.json"
STACK_NAME = "KmsSignEncryptStack"
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


StepsFor = Callable[[str, Path], list[tuple[str, list[str], str]]]


class PhaseError(RuntimeError):
    """A demo phase failed; the message is the one-line reason."""


# -- serve ----------------------------------------------------------------------------------------


def usage_text(endpoint: LocalEndpoint) -> str:
    """What to paste into a shell to use the endpoint, and how each tool picks it up."""
    exports = "\n".join(
        f"  export {name}={shlex.quote(value)}" for name, value in endpoint.env.items()
    )
    return f"""Local AWS endpoint listening on {endpoint.url} (pid {endpoint.pid})

Paste into another shell to use it:
{exports}

Then:
  AWS CLI   .venv/bin/aws sts get-caller-identity
            (AWS CLI v1 and v2 read AWS_ENDPOINT_URL; --endpoint-url {endpoint.url} also works)
  boto3     boto3.client("kms") reads the same variables
  CDK       PATH=$PWD/node_modules/.bin:$PWD/.venv/bin:$PATH \\
            cdk deploy --require-approval never -c sample:bootstrapless=true \\
              --outputs-file .local/cdk-outputs.json
  demo      .venv/bin/python -m demo run --outputs-file .local/cdk-outputs.json

The credentials above are the account administrator (arn:aws:iam::123456789012:user/local-admin).
State lives in memory and is gone when the endpoint stops. Ctrl-C stops it."""


def serve(_: argparse.Namespace) -> int:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with LocalEndpoint() as endpoint:
        print(usage_text(endpoint), flush=True)
        try:
            while not stop.wait(0.5):
                if not endpoint.running:
                    raise EndpointError("the endpoint process exited")
        except KeyboardInterrupt:
            pass
    print("\nLocal AWS endpoint stopped.", flush=True)
    return 0


# -- demo -----------------------------------------------------------------------------------------


@dataclass
class Phases:
    """Prints each phase as it starts and how long it took."""

    total: int
    done: int = 0
    started: float = 0.0

    def start(self, title: str) -> None:
        self.done += 1
        self.started = time.monotonic()
        print(f"\n==> [{self.done}/{self.total}] {title}", flush=True)

    def note(self, text: str) -> None:
        print(f"    {text} ({time.monotonic() - self.started:.1f} s)", flush=True)


def _run_step(command: Sequence[str], env: dict[str, str], what: str) -> None:
    completed = subprocess.run(list(command), env=env, cwd=cdk_cli.PROJECT_ROOT, check=False)  # noqa: S603
    if completed.returncode != 0:
        raise PhaseError(f"{what} exited with {completed.returncode} (see its output above)")


def demo(
    args: argparse.Namespace, steps: StepsFor | None = None, *, target: str = "make demo"
) -> int:
    began = time.monotonic()
    outputs_file = OUTPUTS_FILE
    assembly = WORK_DIR / "cdk.out"
    demo_steps = (steps or _demo_steps)(sys.executable, outputs_file)
    # Start the endpoint, synthesize, preflight, deploy, create the party workloads, the demo
    # steps, stop the endpoint.
    phases = Phases(total=len(demo_steps) + 6)
    WORK_DIR.mkdir(exist_ok=True)
    outputs_file.unlink(missing_ok=True)
    current = "starting the local AWS endpoint"
    try:
        phases.start("Starting the local AWS endpoint (moto, patched to behave like AWS KMS)")
        with LocalEndpoint() as endpoint:
            phases.note(f"ready at {endpoint.url}")

            current = "synthesizing with the CDK CLI"
            env = cdk_cli.cdk_env(endpoint.env)
            phases.start(
                "Synthesizing the CDK app: cdk synth -c sample:bootstrapless=true --output "
                f"{_shown(assembly)}"
            )
            cdk_cli.run(cdk_cli.synth_command(assembly), env)
            phases.note("synthesized")

            current = "running the preflight (python -m demo preflight)"
            template = assembly / f"{STACK_NAME}.template.json"
            phases.start(
                "Preflight, read-only, before the deploy: python -m demo preflight --local "
                f"--template {_shown(template)}"
            )
            _run_step(_preflight_command(sys.executable, template), env, "the preflight")
            phases.note("passed")

            current = "deploying with the CDK CLI"
            deploy = cdk_cli.deploy_command(outputs_file, app=assembly)
            phases.start(
                "Deploying the CDK app with the CDK CLI (no bootstrap needed): cdk deploy "
                f"--require-approval never -c sample:bootstrapless=true --outputs-file "
                f"{_shown(outputs_file)} --app {_shown(assembly)}"
            )
            cdk_cli.run(deploy, env)
            if not outputs_file.exists():
                raise PhaseError(f"cdk deploy wrote no outputs file at {outputs_file}")
            phases.note("deployed")

            current = "creating the sender and receiver workloads"
            phases.start(
                "Creating the two party workloads (IAM identities of their own: the sender's may "
                "assume only SenderRole, the receiver's only ReceiverRole)"
            )
            profiles = _create_workloads(endpoint, outputs_file)
            env.update(profiles.env)
            for workload in (profiles.sender, profiles.receiver):
                print(
                    f"    {workload.profile}: {workload.user_arn} -> {workload.role_arn} -> "
                    f"{workload.party_role_arn}",
                    flush=True,
                )
            phases.note("created")

            for title, command, what in demo_steps:
                current = what
                phases.start(title)
                _run_step(command, env, what)
                phases.note("done")

            current = "stopping the local AWS endpoint"
            phases.start("Stopping the local AWS endpoint")
        phases.note("stopped; its state is gone")
    except KeyboardInterrupt:
        print(f"\n{target}: interrupted; the endpoint is stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (EndpointError, cdk_cli.CdkError, PhaseError, OSError) as error:
        print(f"\n{target}: failed while {current}: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"\n{target}: all phases passed in {time.monotonic() - began:.0f} s.")
    return 0


def _create_workloads(endpoint: LocalEndpoint, outputs_file: Path) -> WorkloadProfiles:
    try:
        (outputs,) = json.loads(outputs_file.read_text(encoding="utf-8")).values()
        return create_party_workloads(
            endpoint.client("iam"), outputs, WORK_DIR / "workloads", region=endpoint.region
        )
    except (ValueError, KeyError) as error:
        raise PhaseError(f"cannot read the stack outputs in {outputs_file}: {error}") from None
    except (BotoCoreError, ClientError) as error:
        raise PhaseError(f"the endpoint refused to create the workloads: {error}") from None


def _preflight_command(python: str, template: Path) -> list[str]:
    """The read-only preflight on the synthesized template; it prints one line per check."""
    return [python, "-m", "demo", "preflight", "--local", "--template", str(template)]


def _demo_steps(python: str, outputs_file: Path) -> list[tuple[str, list[str], str]]:
    """The demo itself, each party played by its own workload; `run` ends with the access
    matrix from the deployed key policies and the account's principals."""
    relative = _shown(outputs_file)
    parties = ["--sender-profile", SENDER_PROFILE, "--receiver-profile", RECEIVER_PROFILE]
    return [
        (
            "Running the demo: the sender workload as SenderRole, the receiver workload as "
            f"ReceiverRole, then the access matrix: python -m demo run --outputs-file {relative} "
            + " ".join(parties),
            [python, "-m", "demo", "run", "--outputs-file", str(outputs_file), *parties],
            "running the demo (python -m demo run)",
        ),
    ]


def demo_partner(args: argparse.Namespace) -> int:
    """`make demo`'s endpoint and deploy, then the partner demo (demo/partner.py)."""
    return demo(args, _partner_steps, target="make demo-partner")


def _partner_steps(python: str, outputs_file: Path) -> list[tuple[str, list[str], str]]:
    parties = ["--sender-profile", SENDER_PROFILE, "--receiver-profile", RECEIVER_PROFILE]
    command = [python, "-m", "demo.partner", "--outputs-file", str(outputs_file), *parties]
    return [
        (
            "Running the partner demo: a partner with no AWS credentials sends to our "
            "receiver and receives from our sender: python -m demo.partner --outputs-file "
            f"{_shown(outputs_file)} " + " ".join(parties),
            command,
            "running the partner demo (python -m demo.partner)",
        ),
    ]


def _shown(path: Path) -> Path:
    """``path`` relative to the project root when it is inside it (shorter to read)."""
    try:
        return path.relative_to(cdk_cli.PROJECT_ROOT)
    except ValueError:
        return path


# -- demo-accounts (issue 13) --------------------------------------------------------------------


def demo_accounts(_: argparse.Namespace) -> int:
    """The endpoint with four accounts, the topology deployed account by account with the CDK
    CLI, the party workloads, then `python -m demo.accounts` (the exchange, the checks and the
    access matrix across accounts)."""
    from local_endpoint import account_deploy

    began = time.monotonic()
    layout = account_deploy.AccountsLayout(WORK_DIR / "accounts")
    phases = Phases(total=10)
    current = "starting the local AWS endpoint"
    try:
        phases.start("Starting the local AWS endpoint with four accounts, each its administrator")
        with LocalEndpoint() as endpoint:
            phases.note(f"ready at {endpoint.url}")
            current = "deploying the topology"

            def step(title: str) -> None:
                if phases.done > 1:
                    phases.note("done")
                phases.start(title)

            account_deploy.deploy_topology(endpoint, layout, step=step)
            phases.note("done")
            current = "creating the party workloads"
            phases.start(
                "Creating each party's workload in its own account (user -> workload role -> "
                "party role, each allowed one sts:AssumeRole)"
            )
            for workload in account_deploy.create_workloads(endpoint, layout):
                print(
                    f"    {workload.profile}: {workload.user_arn} -> {workload.role_arn} -> "
                    f"{workload.party_role_arn}",
                    flush=True,
                )
            phases.note("created")
            current = "running python -m demo.accounts"
            command = [
                sys.executable,
                "-m",
                "demo.accounts",
                "--outputs-dir",
                str(layout.directory),
                "--region",
                endpoint.region,
            ]
            phases.start(
                "Sending, receiving, the checks and the matrix across accounts: python -m "
                f"demo.accounts --outputs-dir {_shown(layout.directory)}"
            )
            env = cdk_cli.cdk_env(endpoint.env) | account_deploy.profile_env(layout)
            _run_step(command, env, "python -m demo.accounts")
            phases.note("done")
            current = "running the CLI as the parties"
            phases.start(
                "The CLI across accounts: each party with its own stack's outputs file and "
                "profile (key ARNs, never aliases)"
            )
            for title, cli_command, expect_ok in _cli_steps(sys.executable, layout):
                print(f"    $ {title}", flush=True)
                done = subprocess.run(  # noqa: S603 - our own interpreter and module
                    cli_command,
                    env=env,
                    cwd=cdk_cli.PROJECT_ROOT,
                    check=False,
                    text=True,
                    capture_output=True,
                )
                shown = (done.stdout + done.stderr).strip().splitlines()
                for line in shown[-3:]:
                    print(f"      {line}", flush=True)
                if (done.returncode == 0) != expect_ok:
                    raise PhaseError(f"`{title}` exited with {done.returncode}")
                if not expect_ok and "use the key ARN" not in done.stderr:
                    raise PhaseError(f"`{title}` did not say to use the key ARN")
            phases.note("done")
            current = "stopping the local AWS endpoint"
            phases.start("Stopping the local AWS endpoint")
        phases.note("stopped; its state is gone")
    except KeyboardInterrupt:
        print("\nmake demo-accounts: interrupted; the endpoint is stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (EndpointError, cdk_cli.CdkError, PhaseError, OSError) as error:
        print(f"\nmake demo-accounts: failed while {current}: {error}", file=sys.stderr)
        return EXIT_FAILED
    except (BotoCoreError, ClientError) as error:
        print(f"\nmake demo-accounts: failed while {current}: {error}", file=sys.stderr)
        return EXIT_FAILED
    print(f"\nmake demo-accounts: all phases passed in {time.monotonic() - began:.0f} s.")
    return 0


def _cli_steps(python: str, layout: object) -> list[tuple[str, list[str], bool]]:
    """Send to receiver B and receive as B with the CLI, then a refused alias (seed format,
    so the alias reaches KMS in the sender's account: NotFoundException, "use the key ARN")."""
    from local_endpoint import account_deploy

    assert isinstance(layout, account_deploy.AccountsLayout)
    sender = layout.party_outputs(account_deploy.SENDER_STACK)
    receiver = layout.party_outputs(account_deploy.receiver_stack("B"))
    outputs = json.loads(sender.read_text(encoding="utf-8"))[account_deploy.SENDER_STACK]
    key_b = outputs["EncryptionKeyArnB"]
    message = layout.directory / "cli-message.txt"
    message.write_text("sent with the CLI, across accounts\n", encoding="utf-8")
    sealed = layout.directory / "cli-for-b.enc"
    received = layout.directory / "cli-received-b"
    shutil.rmtree(received, ignore_errors=True)  # a previous run's (ours, under .local/)
    received.mkdir()
    # The demo's CLI steps spell out each party's command line (shape-only, duplicates D16).
    cli = [python, "-m", "demo"]
    send = [
        *cli,
        "send",
        "--outputs-file",
        str(sender),
        "--encryption-key",
        key_b,
        "--sender-profile",
        account_deploy.SENDER_PROFILE,
        "--force",
        "--no-progress",
        "-o",
        str(sealed),
        str(message),
    ]
    receive = [
        *cli,
        "receive",
        "--outputs-file",
        str(receiver),
        "--receiver-profile",
        account_deploy.receiver_profile("B"),
        "--force",
        "--no-progress",
        "-o",
        str(received),
        str(sealed),
    ]
    alias = [
        *cli,
        "send",
        "--format",
        "seed",
        "--outputs-file",
        str(sender),
        "--signing-key",
        "alias/sample-sign-verify-key",
        "--encryption-key",
        key_b,
        "--sender-profile",
        account_deploy.SENDER_PROFILE,
        "--force",
        "--no-progress",
        "-o",
        str(layout.directory / "cli-alias.enc"),
        str(message),
    ]

    def shown(command: list[str]) -> str:
        return " ".join(["python", *command[1:]]).replace(str(cdk_cli.PROJECT_ROOT) + "/", "")

    return [
        (shown(send), send, True),
        (shown(receive), receive, True),
        (shown(alias), alias, False),
    ]


# -- entry point ----------------------------------------------------------------------------------

COMMANDS: dict[str, tuple[Callable[[argparse.Namespace], int], str]] = {
    "serve": (serve, "start the endpoint and serve until Ctrl-C (make endpoint)"),
    "demo": (demo, "endpoint, CDK deploy, demo, access matrix, stop (make demo)"),
    "demo-partner": (
        demo_partner,
        "endpoint, CDK deploy, the partner demo, stop (make demo-partner)",
    ),
    "demo-accounts": (
        demo_accounts,
        "endpoint with four accounts, a stack per account, the demo across accounts "
        "(make demo-accounts)",
    ),
}


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def parser() -> argparse.ArgumentParser:
    main = _Parser(
        prog="python -m local_endpoint",
        description="A local AWS endpoint (moto, patched to behave like AWS for this project).",
    )
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        commands.add_parser(name, help=help_text, description=help_text)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    handler, _ = COMMANDS[args.command]
    try:
        return handler(args)
    except EndpointError as error:
        print(f"local endpoint: {error}", file=sys.stderr)
        return EXIT_FAILED
