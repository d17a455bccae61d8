"""`python -m bench` (`make bench`): envelope send/receive vs single-core SHA-512 and the SDK.

Every workload runs in a fresh subprocess (peak RSS via ``resource.getrusage``) on the same
random file; keys are loaded and buffers made before the timer starts. Rounds interleave the
workloads, and every round runs sha-512 just before and just after send and receive, so the
baseline is measured under the load of the moment. Targets (issue 16): send and receive each
at least 85% of the single-core SHA-512 throughput measured in the same run (the best round
of each), every byte having to pass through SHA-512; peak RSS growth at most 64 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.keys import export_keys

UNITS = {"": 1, "B": 1, "KIB": 1 << 10, "MIB": 1 << 20, "GIB": 1 << 30}
SDK_RATIO_TARGET = 1.2
SHA512_SHARE_TARGET = 0.85
RSS_GROWTH_LIMIT = 64 << 20
ORDER = (
    "aes-256-gcm",
    "sha-512",
    "sdk-send",
    "send",
    "send-3-recipients",
    "sdk-receive",
    "receive",
)
# One round: each target between two sha-512 runs (the pairing), then the rest.
ROUND = (
    "sha-512",
    "send",
    "sha-512",
    "receive",
    "sha-512",
    "aes-256-gcm",
    "send-3-recipients",
    "sdk-send",
    "sdk-receive",
)
OUTPUTS = {
    "send": "message.env",
    "send-3-recipients": "message3.env",
    "receive": "received",
    "sdk-send": "message.sdk",
    "sdk-receive": "plain.sdk.out",
}
BASELINE = {"send": "sdk-send", "receive": "sdk-receive"}
THREADED = ("send", "send-3-recipients", "receive")
SHM = Path("/dev/shm")
WORK_FILES = 4  # plain, envelope, received, SDK message and its output: about 4 x size


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([KMG]iB|B)?\s*", text, flags=re.IGNORECASE)
    if not match:
        raise argparse.ArgumentTypeError(f"size must look like 1GiB, 256MiB or 1048576: {text!r}")
    return int(match.group(1)) * UNITS[(match.group(2) or "").upper()]


def _write_random_file(path: Path, size: int) -> None:
    block = os.urandom(1 << 20)
    with open(path, "wb") as out:
        remaining = size
        while remaining:
            n = min(remaining, len(block))
            out.write(block[:n])
            remaining -= n


def default_dir(size: int) -> Path | None:
    """/dev/shm when it is there with room for the work files (no disk in the loop)."""
    try:
        info = os.statvfs(SHM)
    except OSError:
        return None
    room = info.f_bavail * info.f_frsize
    if not os.access(SHM, os.W_OK) or room < WORK_FILES * size + (256 << 20):
        return None
    return SHM


def _file_system(path: Path) -> str:
    """The mount's file system type, from /proc/mounts (the longest matching mount point)."""
    try:
        mounts = Path("/proc/mounts").read_text().splitlines()
    except OSError:
        return "unknown"
    best, kind = "", "unknown"
    resolved = str(path.resolve())
    for line in mounts:
        fields = line.split()
        inside = len(fields) >= 3 and (resolved + "/").startswith(fields[1].rstrip("/") + "/")
        if inside and len(fields[1]) >= len(best):
            best, kind = fields[1], fields[2]
    return kind


def _run(name: str, size: int, work: Path, keys: str) -> dict[str, float]:
    output = work / OUTPUTS[name] if name in OUTPUTS else None
    if output is not None and output.is_dir():
        shutil.rmtree(output)
    elif output is not None:
        output.unlink(missing_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "bench.worker", name, str(size), str(work)],
        input=keys,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"bench: workload {name} failed:\n{result.stderr.strip()}")
    return json.loads(result.stdout)


def paired_shares(round_runs: list[tuple[str, dict[str, float]]]) -> dict[str, float]:
    """Each target's share of the sha-512 runs right before and after it in one round."""
    shares = {}
    for i, (name, measured) in enumerate(round_runs):
        if name not in BASELINE:
            continue
        around = [
            round_runs[j][1]["seconds"]
            for j in (i - 1, i + 1)
            if 0 <= j < len(round_runs) and round_runs[j][0] == "sha-512"
        ]
        if around:
            shares[name] = statistics.fmean(around) / measured["seconds"]
    return shares


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="default 1GiB")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    parser.add_argument(
        "--dir", type=Path, default=None, help="work directory (default: /dev/shm if it has room)"
    )
    args = parser.parse_args(argv)
    size = args.size
    keys = json.dumps(export_keys())
    best: dict[str, dict[str, float]] = {}
    paired: dict[str, list[float]] = {name: [] for name in BASELINE}
    parent = args.dir if args.dir is not None else default_dir(size)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="kms-envelope-bench-", dir=parent) as tmp:
        work = Path(tmp)
        where = f"work files in {work.parent} ({_file_system(work)})"
        _write_random_file(work / "plain.bin", size)
        for _ in range(args.rounds):
            round_runs = []
            for name in ROUND:
                measured = _run(name, size, work, keys)
                round_runs.append((name, measured))
                previous = best.get(name)
                if previous is None or measured["seconds"] < previous["seconds"]:
                    best[name] = dict(measured)
                best[name]["rss_growth"] = max(
                    measured["rss_growth"], previous["rss_growth"] if previous else 0
                )
                best[name]["busiest_cpu"] = min(
                    measured["busiest_cpu"], previous["busiest_cpu"] if previous else 1e300
                )
            for name, share in paired_shares(round_runs).items():
                paired[name].append(share)
        received = work / "received" / "plain.bin"
        if received.stat().st_size != size:
            raise SystemExit("bench: the received file has the wrong size")
    context = (
        f"{where}; cpu count {os.cpu_count()}; load average (1, 5, 15 min) "
        f"{_load(load_before)} at the start, {_load(os.getloadavg())} at the end"
    )
    print(report(size, args.rounds, best, paired, context))
    verdicts = _verdicts(size, best)
    return 0 if all(ok for _, ok in verdicts) else 1


def _load(load: tuple[float, float, float]) -> str:
    return "/".join(f"{x:.2f}" for x in load)


def _rate(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def report(
    size: int,
    rounds: int,
    best: dict[str, dict[str, float]],
    paired: dict[str, list[float]] | None = None,
    context: str = "",
) -> str:
    paired = paired or {}
    lines = [
        f"file size {size:,} bytes; {rounds} interleaved round(s), best of each; {context}".rstrip(
            "; "
        ),
        "MB/s is absolute (this machine, this load); the other columns are ratios",
        "",
        "| workload | MB/s | share of sha-512 | paired share, median | on two free cores "
        "| vs SDK | peak RSS growth |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    sha = best["sha-512"]["seconds"]
    for name in (n for n in ORDER if n in best):
        m = best[name]
        baseline = BASELINE.get(name, "sdk-send" if name not in BASELINE.values() else name)
        ratio = m["seconds"] and best[baseline]["seconds"] / m["seconds"]
        share = sha / m["seconds"]
        median = f"{statistics.median(paired[name]):.0%}" if paired.get(name) else ""
        busiest, sha_cpu = m.get("busiest_cpu"), best["sha-512"].get("busiest_cpu")
        free_cores = f"{sha_cpu / busiest:.0%}" if name in THREADED and busiest and sha_cpu else ""
        lines.append(
            f"| {name} | {_rate(size, m['seconds']):,.0f} | {share:.0%} | {median} | "
            f"{free_cores} | {ratio:.2f}x | {m['rss_growth'] / (1 << 20):.1f} MiB |"
        )
    lines.append("")
    for name, shares in paired.items():
        if shares:
            lines.append(
                f"paired: {name} against the sha-512 runs just before and after it, per round: "
                + ", ".join(f"{s:.0%}" for s in shares)
            )
    lines.append(
        "on two free cores: sha-512's CPU time over the busiest thread's CPU time, the least "
        "of each over the rounds (with a core to itself, each thread's wall time is its CPU "
        "time; a pipeline is as fast as its busiest thread; bench/README.md)"
    )
    lines.append("")
    for text, ok in _verdicts(size, best):
        lines.append(f"{'PASS' if ok else 'FAIL'}  {text}")
    return "\n".join(lines)


def _verdicts(size: int, best: dict[str, dict[str, float]]) -> list[tuple[str, bool]]:
    verdicts = []
    for name, baseline in BASELINE.items():
        share = best["sha-512"]["seconds"] / best[name]["seconds"]
        verdicts.append(
            (
                f"{name} is {share:.0%} of single-core sha-512 "
                f"(target >= {SHA512_SHARE_TARGET:.0%})",
                share >= SHA512_SHARE_TARGET,
            )
        )
        ratio = best[baseline]["seconds"] / best[name]["seconds"]
        verdicts.append(
            (
                f"{name} is {ratio:.2f}x the SDK's {baseline} (target >= {SDK_RATIO_TARGET}x)",
                ratio >= SDK_RATIO_TARGET,
            )
        )
        growth = best[name]["rss_growth"]
        verdicts.append(
            (
                f"{name} peak RSS growth {growth / (1 << 20):.1f} MiB "
                f"(limit {RSS_GROWTH_LIMIT >> 20} MiB)",
                growth <= RSS_GROWTH_LIMIT,
            )
        )
    return verdicts


if __name__ == "__main__":
    sys.exit(main())
