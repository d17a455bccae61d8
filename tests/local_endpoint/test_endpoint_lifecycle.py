"""The endpoint process: starts fast on a free loopback port, stops by PID, starts empty."""

from __future__ import annotations

import os
import urllib.parse

import pytest

from local_endpoint import EndpointError, LocalEndpoint
from local_endpoint.patches import CFN_MODELS, CFN_RESPONSES, PRELOADED, REGISTRY
from local_endpoint.patching import UnknownPatchError

# How fast it starts is measured by `python -m bench.endpoint_start` (make bench), not asserted
# here: a wall-clock budget in a test fails on a busy machine, not on a slow endpoint.


def test_reports_how_long_it_took_to_answer() -> None:
    with LocalEndpoint() as endpoint:
        assert endpoint.startup_seconds is not None
        assert endpoint.startup_seconds > 0


def test_starts_on_loopback_and_stops_by_pid() -> None:
    endpoint = LocalEndpoint.start()  # the class-level spelling of docs/ARCHITECTURE.md
    try:
        pid = endpoint.pid
        url = urllib.parse.urlsplit(endpoint.url)
        assert url.hostname == "127.0.0.1"
        assert url.port
        identity = endpoint.client("sts").get_caller_identity()
        assert identity["Account"] == "123456789012"
    finally:
        endpoint.stop()
    assert not endpoint.running
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_each_endpoint_starts_with_empty_state() -> None:
    with LocalEndpoint() as first:
        first.client("kms").create_key(Description="left behind")
        assert first.client("kms").list_keys()["Keys"]
    with LocalEndpoint() as second:
        assert second.client("kms").list_keys()["Keys"] == []


def test_env_points_every_client_at_the_endpoint_and_nothing_else(
    local_endpoint: LocalEndpoint,
) -> None:
    env = local_endpoint.env
    assert env["AWS_ENDPOINT_URL"] == local_endpoint.url
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} <= env.keys()
    assert env["AWS_CONFIG_FILE"] == env["AWS_SHARED_CREDENTIALS_FILE"] == os.devnull
    leaky = {"AWS_PROFILE": "prod", "AWS_SESSION_TOKEN": "x", "CDK_DEBUG": "1", "HOME": "/h"}
    child = local_endpoint.subprocess_env(leaky)
    assert "AWS_PROFILE" not in child
    assert "AWS_SESSION_TOKEN" not in child
    assert "CDK_DEBUG" not in child
    assert child["HOME"] == "/h"


def test_unknown_patch_name_is_refused_before_anything_starts() -> None:
    with pytest.raises(EndpointError, match="no_such_patch"):
        LocalEndpoint(disabled_patches=["no_such_patch"]).start()
    with pytest.raises(UnknownPatchError):
        REGISTRY.check_names(["no_such_patch"])


def test_url_before_start_is_a_precise_error() -> None:
    with pytest.raises(EndpointError, match="call start"):
        _ = LocalEndpoint().url


def test_the_server_applies_every_patch_but_cloudformations_at_start_in_order() -> None:
    installation = REGISTRY.install(preload=PRELOADED)
    try:
        assert {p.module for p in installation.pending} <= {CFN_MODELS, CFN_RESPONSES}
        assert installation.applied == [n for n in REGISTRY.names if n in installation.applied]
    finally:
        installation.undo()


def test_the_server_dies_with_its_parent() -> None:
    """A parent killed without clean-up (SIGKILL) leaves no server behind: its stdin closes."""
    import signal
    import subprocess
    import sys
    import time

    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from local_endpoint import LocalEndpoint; "
            "e = LocalEndpoint.start(); print(e.pid, flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    try:
        assert parent.stdout is not None
        server_pid = int(parent.stdout.readline())
        os.kill(server_pid, 0)  # running
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not _alive(server_pid):
            return
        time.sleep(0.05)
    os.kill(server_pid, signal.SIGKILL)
    pytest.fail("the server outlived its parent by 5 s")


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (an exited process nobody has reaped yet does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_the_start_benchmark_runs_its_baseline_and_the_endpoint(capsys) -> None:
    from bench import endpoint_start

    assert endpoint_start.main(["--rounds", "1"]) in (0, 1)
    out = capsys.readouterr().out
    assert "| moto, no patches |" in out
    assert "| local endpoint (all patches) |" in out
    assert "ready in" in out


def test_patches_stack_in_the_order_the_patches_package_states():
    """local_endpoint.patches states the order patches stack on one KMS request; the one
    registered (so applied) last runs first."""
    names = REGISTRY.names
    outermost_first = [
        "kms_validation_before_authorization",
        "kms_key_policy_enforced",
        "kms_key_policy_safety_checks",
        "kms_key_state_enforced",
        "kms_key_usage_enforced",
        "kms_encryption_algorithm_checked",
        "kms_decrypt_incorrect_key",
        "kms_rsa_oaep",
    ]
    positions = [names.index(name) for name in outermost_first]
    assert positions == sorted(positions, reverse=True)
    assert names.index("sts_credentials_recognized") > names.index("sts_trust_policy_enforced")
