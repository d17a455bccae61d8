"""The benchmark's workloads still run and round-trip (sizes tiny; `make bench` times them)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import paired_shares, parse_size, report
from bench.workloads import WORKLOADS
from tests.envelope.envelope_testkit import key_bytes


@pytest.fixture(scope="module")
def keys() -> str:
    # The committed test keys: generating RSA-4096 as `make bench` does takes seconds.
    return json.dumps(
        {
            "rsa": key_bytes("fast_recipient.rsa2048.pem").decode(),
            "ec": key_bytes("sender.p521.pem").decode(),
        }
    )


def test_every_workload_runs_and_both_formats_round_trip(tmp_path: Path, keys: str):
    data = bytes(range(256)) * 1000
    (tmp_path / "plain.bin").write_bytes(data)
    names = ("aes-256-gcm", "sha-512", "sdk-send", "sdk-receive", "send", "receive")
    for name in (*names, "send-3-recipients"):
        WORKLOADS[name](len(data), keys, tmp_path)()  # prepare (untimed), then run
    assert (tmp_path / "message3.env").stat().st_size > (tmp_path / "message.env").stat().st_size
    assert (tmp_path / "plain.sdk.out").read_bytes() == data
    assert (tmp_path / "received" / "plain.bin").read_bytes() == data


def test_a_target_is_paired_with_the_sha512_runs_next_to_it_in_its_round():
    def run(seconds: float) -> dict[str, float]:
        return {"seconds": seconds}

    shares = paired_shares(
        [
            ("sha-512", run(1.0)),
            ("send", run(2.0)),
            ("sha-512", run(3.0)),
            ("receive", run(4.0)),
            ("aes-256-gcm", run(0.1)),
        ]
    )
    assert shares == {"send": 1.0, "receive": 0.75}


def test_the_workload_timer_excludes_preparing(tmp_path: Path, keys: str):
    """Loading keys (0.36 s for RSA-4096) is done before the call that is timed."""
    import bench.workloads as workloads

    loaded = []
    real = workloads.load_keys
    workloads.load_keys = lambda text: loaded.append(1) or real(text)
    try:
        (tmp_path / "plain.bin").write_bytes(b"x" * 1000)
        run = WORKLOADS["send"](1000, keys, tmp_path)
        assert loaded == [1]
        run()
        assert loaded == [1]
    finally:
        workloads.load_keys = real
    assert (tmp_path / "message.env").exists()


@pytest.mark.parametrize(
    ("text", "size"), [("1GiB", 1 << 30), ("256MiB", 256 << 20), ("10kib", 10240), ("7", 7)]
)
def test_sizes(text: str, size: int):
    assert parse_size(text) == size


def test_report_shows_ratios_and_verdicts():
    timing = {"seconds": 1.0, "rss_growth": 1 << 20}
    best = {
        name: dict(timing)
        for name in ("aes-256-gcm", "sha-512", "sdk-send", "send", "sdk-receive", "receive")
    }
    best["send"]["seconds"] = 0.5
    best["send"]["busiest_cpu"] = 0.8
    best["sha-512"]["busiest_cpu"] = 0.9
    text = report(1 << 30, 1, best, {"send": [1.9, 2.1, 1.5], "receive": [1.0]})
    assert "| send | 2,147 | 200% | 190% | 112% | 2.00x | 1.0 MiB |" in text
    assert "| receive | 1,074 | 100% | 100% |  | 1.00x | 1.0 MiB |" in text
    assert "sha-512 runs just before and after it, per round: 190%, 210%, 150%" in text
    assert "PASS  send is 200% of single-core sha-512 (target >= 85%)" in text
    assert "PASS  receive is 100% of single-core sha-512 (target >= 85%)" in text
    assert "PASS  send is 2.00x the SDK's sdk-send (target >= 1.2x)" in text
    assert "FAIL  receive is 1.00x the SDK's sdk-receive (target >= 1.2x)" in text


def test_report_fails_a_send_below_85_percent_of_sha512():
    best = {
        name: {"seconds": 1.0, "rss_growth": 1 << 20}
        for name in ("aes-256-gcm", "sha-512", "sdk-send", "send", "sdk-receive", "receive")
    }
    best["send"]["seconds"] = 1.0 / 0.84
    assert "FAIL  send is 84% of single-core sha-512 (target >= 85%)" in report(1 << 30, 1, best)


@pytest.mark.parametrize("mode", [[], ["--receive"]], ids=["send", "receive"])
def test_the_stage_profile_runs_and_accounts_for_each_stage(tmp_path: Path, mode: list[str]):
    """In a subprocess: the profile rewires the envelope modules' timers for its process."""
    import subprocess
    import sys

    command = [sys.executable, "-m", "bench.profile", "--size-mib", "3", "--rounds", "1", *mode]
    result = subprocess.run(
        [*command, "--dir", str(tmp_path)], capture_output=True, text=True, check=True
    )
    lines = result.stdout.splitlines()
    assert "| read | aes | write | fence | hash wall | hash cpu | hash gaps |" in lines[1]
    cells = [float(c.replace(",", "")) for c in lines[3].strip("| ").split(" | ")]
    read, aes, write, _fence, hash_wall, hash_cpu, gaps = cells[4:]
    assert min(read, aes, write, gaps) >= 0  # printed to the ms: 3 MiB of reading may show 0.000
    assert hash_wall > 0
    assert hash_cpu > 0


def test_work_files_go_to_tmpfs_only_when_it_has_room(monkeypatch, tmp_path: Path):
    import bench.__main__ as bench_main

    monkeypatch.setattr(bench_main, "SHM", tmp_path)
    assert bench_main.default_dir(1 << 20) == tmp_path
    assert bench_main.default_dir(1 << 60) is None  # no file system has 4 EiB free
    monkeypatch.setattr(bench_main, "SHM", tmp_path / "missing")
    assert bench_main.default_dir(1 << 20) is None


def test_the_worker_reports_the_hash_threads_cpu_as_the_busiest(tmp_path: Path, keys: str):
    """A send's busiest thread is one of its threads, not more than the process's CPU."""
    import subprocess
    import sys

    (tmp_path / "plain.bin").write_bytes(bytes(range(256)) * 40_000)  # > 1 MiB: streaming
    result = subprocess.run(
        [sys.executable, "-m", "bench.worker", "send", str(10_240_000), str(tmp_path)],
        input=keys,
        capture_output=True,
        text=True,
        check=True,
    )
    measured = json.loads(result.stdout)
    assert "envelope-sha512" in measured["threads"]  # its CPU time was counted
    assert 0 < measured["main_cpu"] <= measured["busiest_cpu"] <= measured["cpu"] + 0.01
    assert measured["seconds"] > 0
