"""Fixtures for the demo's tests: a clean AWS environment and canned AWS answers."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

FAKE_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
    "AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
}


@pytest.fixture
def clean_aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No AWS variable, no config files, no instance metadata: nothing leaks in."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return tmp_path


@pytest.fixture(autouse=True)
def private_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Each test has its own empty $XDG_CACHE_HOME (the receiver's public-key cache)."""
    home = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


@pytest.fixture
def fake_aws_env(clean_aws_env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Credentials and a region, for tests that answer every request themselves."""
    for name, value in FAKE_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    return clean_aws_env


@pytest.fixture
def endpoint_env(monkeypatch: pytest.MonkeyPatch, clean_aws_env: Path, deployed_stack: Any) -> Any:
    """This process talks to the session's local endpoint, as the administrator; the party
    workloads are the profiles `sender-workload` and `receiver-workload`."""
    for name, value in (deployed_stack.env | deployed_stack.party_env).items():
        monkeypatch.setenv(name, value)
    return deployed_stack


@pytest.fixture
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's retry sleeps, recorded instead of slept."""
    import botocore.endpoint

    slept: list[float] = []
    monkeypatch.setattr(botocore.endpoint.time, "sleep", slept.append)
    return slept


_ENDPOINT_FIXTURES = frozenset({"endpoint_env", "deployed_stack", "local_endpoint"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests here that use the local endpoint are `integration` tests, marked or not."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents and _ENDPOINT_FIXTURES & set(
            getattr(item, "fixturenames", ())
        ):
            item.add_marker(pytest.mark.integration)
