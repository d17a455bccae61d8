"""`python -m bench` (`make bench`): envelope send/receive vs single-core SHA-512 and the SDK.

Every workload runs in a fresh subprocess (peak RSS via ``resource.getrusage``) on the same
random file. Rounds interleave the workloads; the best round of each is reported. Targets
(issue 16): send and receive each at least 85% of the single-core SHA-512 throughput measured
in the same run, every byte having to pass through SHA-512; peak RSS growth at most 64 MiB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
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
OUTPUTS = {
    "send": "message.env",
    "send-3-recipients": "message3.env",
    "receive": "received",
    "sdk-send": "message.sdk",
    "sdk-receive": "plain.sdk.out",
}
BASELINE = {"send": "sdk-send", "receive": "sdk-receive"}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--size", type=parse_size, default=1 << 30, help="default 1GiB")
    parser.add_argument("--rounds", type=int, default=3, help="best of N rounds (default 3)")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args(argv)
    size = args.size
    keys = json.dumps(export_keys())
    best: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="kms-envelope-bench-", dir=args.dir) as tmp:
        work = Path(tmp)
        _write_random_file(work / "plain.bin", size)
        for _ in range(args.rounds):
            for name in ORDER:
                measured = _run(name, size, work, keys)
                previous = best.get(name)
                if previous is None or measured["seconds"] < previous["seconds"]:
                    best[name] = {
                        **measured,
                        "rss_growth": max(
                            measured["rss_growth"], previous["rss_growth"] if previous else 0
                        ),
                    }
        received = work / "received" / "plain.bin"
        if received.stat().st_size != size:
            raise SystemExit("bench: the received file has the wrong size")
    print(report(size, args.rounds, best))
    verdicts = _verdicts(size, best)
    return 0 if all(ok for _, ok in verdicts) else 1


def _rate(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def report(size: int, rounds: int, best: dict[str, dict[str, float]]) -> str:
    lines = [
        f"file size {size:,} bytes; best of {rounds} round(s); cpu count {os.cpu_count()}",
        "",
        "| workload | MB/s | share of sha-512 | vs SDK | peak RSS growth |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in (n for n in ORDER if n in best):
        m = best[name]
        baseline = BASELINE.get(name, "sdk-send" if name not in BASELINE.values() else name)
        ratio = m["seconds"] and best[baseline]["seconds"] / m["seconds"]
        share = best["sha-512"]["seconds"] / m["seconds"]
        lines.append(
            f"| {name} | {_rate(size, m['seconds']):,.0f} | {share:.0%} | {ratio:.2f}x | "
            f"{m['rss_growth'] / (1 << 20):.1f} MiB |"
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
