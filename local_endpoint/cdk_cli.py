"""Run the project's pinned CDK CLI (and its Node.js 22) against the local endpoint."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NODE_BIN = PROJECT_ROOT / "node_modules" / ".bin"
VENV_BIN = PROJECT_ROOT / ".venv" / "bin"
BOOTSTRAPLESS = ("-c", "sample:bootstrapless=true")
# No notices fetched from the internet; the version check is off in the environment.
QUIET = ("--no-notices",)


class CdkError(RuntimeError):
    """The CDK CLI is missing or failed."""


def cdk_env(endpoint_env: Mapping[str, str], base: Mapping[str, str] | None = None) -> dict:
    """``base`` + the endpoint's variables, with the project's Node.js and venv first on PATH.

    The `app` in cdk.json is `python3 app.py`: the venv's python3 must win over the system's.
    """
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith(("AWS_", "CDK_"))}
    env.update(endpoint_env)
    env["PATH"] = os.pathsep.join([str(NODE_BIN), str(VENV_BIN), base.get("PATH", "")])
    env["CDK_DISABLE_VERSION_CHECK"] = "1"
    return env


def deploy_command(outputs_file: Path, app: Path | None = None) -> list[str]:
    """`cdk deploy`; ``app`` (a synthesized cloud assembly) skips synthesis."""
    command = [
        *_cdk(),
        "deploy",
        "--require-approval",
        "never",
        *BOOTSTRAPLESS,
        "--outputs-file",
        str(outputs_file),
        *QUIET,
    ]
    if app is not None:
        command += ["--app", str(app)]
    return command


def synth_command(outdir: Path) -> list[str]:
    """`cdk synth` into ``outdir`` (the preflight reads the template, the deploy reuses it)."""
    return [*_cdk(), "synth", *BOOTSTRAPLESS, "--output", str(outdir), "--quiet", *QUIET]


def diff_command(app: Path | None = None) -> list[str]:
    """`cdk diff`; ``app`` (a cloud assembly directory such as cdk.out) skips synthesis."""
    command = [*_cdk(), "diff", *BOOTSTRAPLESS, *QUIET]
    if app is not None:
        command += ["--app", str(app)]
    return command


def run(command: Sequence[str], env: Mapping[str, str], *, capture: bool = False) -> str:
    """Run a CDK CLI command in the project root; raise CdkError with its last line if it fails.

    With ``capture``, return its output (stdout, then stderr, where the CLI reports progress).
    """
    completed = subprocess.run(  # noqa: S603 - our own fixed command line
        list(command),
        env=dict(env),
        cwd=PROJECT_ROOT,
        text=True,
        capture_output=capture,
        check=False,
    )
    if completed.returncode != 0:
        output = (completed.stderr or "") + (completed.stdout or "") if capture else ""
        last = output.strip().splitlines()[-1] if output.strip() else "see the output above"
        raise CdkError(f"`cdk {command[2]}` exited with {completed.returncode}: {last}")
    return (completed.stdout or "") + (completed.stderr or "") if capture else ""


def _cdk() -> list[str]:
    """The pinned CLI, node_modules/.bin/cdk (what `npx cdk` runs), on the project's Node.js."""
    cdk = NODE_BIN / "cdk"
    if not cdk.exists():
        raise CdkError("the CDK CLI is not installed: run `make setup` (npm ci)")
    node = NODE_BIN / "node"
    return [str(node if node.exists() else "node"), str(cdk)]
