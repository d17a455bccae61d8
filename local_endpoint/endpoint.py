"""Start and stop the local AWS endpoint: a patched moto server in a child process.

    with LocalEndpoint() as endpoint:            # or: endpoint = LocalEndpoint.start()
        kms = endpoint.client("kms")
        subprocess.run([...], env=endpoint.subprocess_env())   # AWS CLI, CDK CLI, the demo
    # stopped here, by PID; the next endpoint starts with empty state

The child binds 127.0.0.1 on a free port and tells us its URL once the patches are installed.
The credentials in :attr:`LocalEndpoint.env` are AWS's documented example keys; the endpoint
treats them as the deploying account's administrator (see docs/LOCAL-ENDPOINT.md).
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
# AWS's documentation example key pair: not a credential anywhere.
ADMIN_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
ADMIN_SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"  # noqa: S105
# -- several accounts (issue 13) --
# Each simulated account has an administrator of its own, known by its access key (moto
# derives the account from the key: local_endpoint.patches.accounts). 123456789012 is the
# default; the others are documentation-style IDs (AWS's docs use all four), never real ones.
KEY_OWNER_ACCOUNT = ACCOUNT_ID
SENDER_ACCOUNT = "111122223333"
RECEIVER_ACCOUNT = "444455556666"
SECOND_RECEIVER_ACCOUNT = "777788889999"
ADMINISTRATOR_KEYS: dict[str, tuple[str, str]] = {
    ACCOUNT_ID: (ADMIN_ACCESS_KEY_ID, ADMIN_SECRET_ACCESS_KEY),
    **{
        account: (f"AKIA{account}EXMP", f"local-endpoint/{account}/administrator/EXAMPLEKEY")
        for account in (SENDER_ACCOUNT, RECEIVER_ACCOUNT, SECOND_RECEIVER_ACCOUNT)
    },
}
"""account -> (access key ID, secret access key) of that account's administrator."""
ACCOUNT_OF_ADMINISTRATOR_KEY: dict[str, str] = {
    key: account for account, (key, _secret) in ADMINISTRATOR_KEYS.items()
}
STARTUP_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0

_PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Variables that would point an SDK or CLI somewhere else, or at other credentials.
_LEAKY_PREFIXES = ("AWS_", "CDK_")


class EndpointError(RuntimeError):
    """The endpoint did not start, or was used before it started."""


class _StartMethod:
    """``LocalEndpoint.start(**options)`` makes and starts one; ``endpoint.start()`` starts it."""

    def __get__(self, instance: LocalEndpoint | None, owner: type[LocalEndpoint]) -> Any:
        if instance is None:
            return lambda **options: owner(**options)._start()
        return instance._start


class LocalEndpoint:
    """A patched moto server on a free loopback port, owned by this object.

    ``disabled_patches`` leaves named fidelity patches out (tests pin moto's own behaviour
    with it; authorization is ``kms_key_policy_enforced``, ``cfn_kms_calls_enforced``,
    ``sts_credentials_recognized`` and ``sts_trust_policy_enforced``).
    ``latency`` (seconds) holds every request that long in the server: a network round trip
    for the latency benchmarks (bench/latency.py).
    """

    def __init__(
        self,
        *,
        disabled_patches: Iterable[str] = (),
        region: str = REGION,
        startup_timeout: float = STARTUP_TIMEOUT_SECONDS,
        principal_propagation_seconds: float = 0.0,
        latency: float = 0.0,
    ) -> None:
        self.disabled_patches = tuple(disabled_patches)
        # New roles and users stay invisible to policy validation this long (the IAM race).
        self.principal_propagation_seconds = principal_propagation_seconds
        self.latency = latency
        self.region = region
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._url: str | None = None
        self._log_path: Path | None = None
        self.startup_seconds: float | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    start = _StartMethod()

    def _start(self) -> LocalEndpoint:
        """Start the server and wait until it answers; return ``self``."""
        if self._process is not None:
            raise EndpointError("the endpoint is already running")
        log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - lives as long as the server
            prefix="local-endpoint-", suffix=".log", delete=False
        )
        self._log_path = Path(log.name)
        command = [sys.executable, "-m", "local_endpoint.server", "--exit-on-stdin-eof"]
        for name in self.disabled_patches:
            command += ["--disable", name]
        if self.principal_propagation_seconds:
            command += ["--principal-propagation-seconds", str(self.principal_propagation_seconds)]
        if self.latency:
            command += ["--latency", repr(float(self.latency))]
        began = time.monotonic()
        self._process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            env=self._server_env(),
            cwd=_PROJECT_ROOT,
        )
        log.close()
        try:
            announcement = self._read_announcement()
        except EndpointError:
            self.stop()
            raise
        self._url = announcement["url"]
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop the server by its PID (SIGTERM, then SIGKILL); safe to call twice."""
        process, self._process = self._process, None
        self._url = None
        if process is None:
            return
        if process.poll() is None:
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.kill(process.pid, signal.SIGKILL)
                process.wait()
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
        if self._log_path is not None:
            self._log_path.unlink(missing_ok=True)

    def __enter__(self) -> LocalEndpoint:
        return self if self._process is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what clients need ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int:
        if self._process is None:
            raise EndpointError("the endpoint is not running; call start() first")
        return self._process.pid

    @property
    def url(self) -> str:
        if self._url is None:
            raise EndpointError("the endpoint is not running; call start() first")
        return self._url

    @property
    def env(self) -> dict[str, str]:
        """Environment variables that point boto3, the AWS CLI and the CDK CLI here."""
        return endpoint_env(self.url, self.region)

    def subprocess_env(self, base: Mapping[str, str] | None = None) -> dict[str, str]:
        """``base`` (default: this process's environment) without any AWS_*/CDK_* variable
        it had, plus :attr:`env`: a child process then talks to this endpoint and nothing else.
        """
        base = os.environ if base is None else base
        kept = {k: v for k, v in base.items() if not k.startswith(_LEAKY_PREFIXES)}
        return kept | self.env

    def session(self, *, account: str = ACCOUNT_ID, **credentials: str) -> Any:
        """A boto3 session with the administrator's keys of ``account`` (default: the
        deploying account), or the ``credentials`` given (``aws_access_key_id``,
        ``aws_secret_access_key``, ``aws_session_token``)."""
        import boto3

        key, secret = ADMINISTRATOR_KEYS[account]
        credentials = {"aws_access_key_id": key, "aws_secret_access_key": secret} | credentials
        return boto3.session.Session(region_name=self.region, **credentials)

    def client(self, service: str, *, account: str = ACCOUNT_ID, **credentials: str) -> Any:
        """A boto3 client for ``service`` on this endpoint (``account``'s administrator by
        default)."""
        from botocore.config import Config

        config = Config(retries={"mode": "standard", "max_attempts": 2})
        session = self.session(account=account, **credentials)
        return session.client(service, endpoint_url=self.url, config=config)

    def account_env(self, account: str) -> dict[str, str]:
        """:attr:`env` with ``account``'s administrator credentials (issue 13)."""
        return endpoint_env(self.url, self.region, account=account)

    # -- internals -----------------------------------------------------------------------------

    def _server_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "MOTO_"))}
        path = env.get("PYTHONPATH")
        env["PYTHONPATH"] = f"{_PROJECT_ROOT}{os.pathsep}{path}" if path else str(_PROJECT_ROOT)
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def _read_announcement(self) -> dict[str, Any]:
        assert self._process is not None
        stdout = self._process.stdout
        assert stdout is not None
        deadline = time.monotonic() + self.startup_timeout
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            line = b""
            while not line.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not selector.select(remaining):
                    raise EndpointError(
                        f"the endpoint did not start within {self.startup_timeout:.0f} s"
                        f"{self._log_tail()}"
                    )
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    raise EndpointError(f"the endpoint exited while starting{self._log_tail()}")
                line += chunk
        try:
            announcement = json.loads(line)
        except ValueError as error:
            raise EndpointError(f"the endpoint announced {line[:200]!r}") from error
        if not announcement.get("ready"):
            raise EndpointError(f"the endpoint did not start: {announcement.get('error')}")
        return announcement

    def _log_tail(self) -> str:
        if self._log_path is None or not self._log_path.exists():
            return ""
        lines = self._log_path.read_text(errors="replace").strip().splitlines()
        return f": {lines[-1]}" if lines else ""


def endpoint_env(url: str, region: str = REGION, *, account: str = ACCOUNT_ID) -> dict[str, str]:
    """The variables that send boto3, the AWS CLI (v1 and v2) and the CDK CLI to ``url``, as
    ``account``'s administrator."""
    key, secret = ADMINISTRATOR_KEYS[account]
    return {
        "AWS_ENDPOINT_URL": url,
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
        # No ~/.aws profile, no instance metadata look-ups, no pager: only this endpoint.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_PAGER": "",
        # The CDK CLI: no telemetry, no notices or version checks over the internet.
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DEFAULT_ACCOUNT": account,
        "CDK_DEFAULT_REGION": region,
    }
