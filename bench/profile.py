"""`python -m bench.profile`: where a send's time goes, stage by stage (bench/README.md).

Not a test. It seals a random file with offline keys while timers wrap every stage of the
pipeline: the main thread's ``readinto``, ``encrypt_into``, ``write`` and fence waits, and the
hash thread's updates (wall time, and CPU time from ``time.thread_time``). A hash thread whose
CPU time is well below its wall time was off its core; a main thread that waits on fences is
waiting for the hash. Run it next to `py-spy record --threads --idle -- python -m bench.profile`
for the same picture from samples.
"""

from __future__ import annotations

import argparse
import builtins
import hashlib
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import envelope
import envelope.sealing as sealing
import envelope.stream as stream
import envelope.workers as workers
from bench.keys import export_keys, load_keys

STAGES = ("read", "aes", "write", "fence", "hash wall", "hash cpu")


def _instrument(totals: dict[str, float]) -> None:
    """Wrap each stage in a timer (monkeypatching the envelope modules, for this process)."""
    real_open = builtins.open
    real_write_all = workers.write_all
    real_advance = workers.Rotation.advance
    real_aesgcm = stream.AESGCM

    class TimedFile:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def readinto(self, view: memoryview) -> int:
            start = time.perf_counter()
            try:
                return self._inner.readinto(view)
            finally:
                totals["read"] += time.perf_counter() - start

        def __getattr__(self, name: str) -> Any:
            return getattr(self._inner, name)

        def __enter__(self) -> TimedFile:
            return self

        def __exit__(self, *exc: object) -> None:
            self._inner.close()

    class TimedAead:
        def __init__(self, key: bytes) -> None:
            self._inner = real_aesgcm(key)

        def encrypt_into(self, *args: Any) -> None:
            start = time.perf_counter()
            self._inner.encrypt_into(*args)
            totals["aes"] += time.perf_counter() - start

    class TimedHash:
        def __init__(self, data: bytes = b"") -> None:
            self._inner = hashlib.sha512(data)

        def update(self, view: Any) -> None:
            start, cpu = time.perf_counter(), time.thread_time()
            self._inner.update(view)
            totals["hash wall"] += time.perf_counter() - start
            totals["hash cpu"] += time.thread_time() - cpu

        def hexdigest(self) -> str:
            return self._inner.hexdigest()

    class TimedHashlib:
        sha512 = TimedHash

    def write_all(output: Any, view: memoryview) -> None:
        start = time.perf_counter()
        real_write_all(output, view)
        totals["write"] += time.perf_counter() - start

    def advance(self: workers.Rotation) -> bytearray:
        start = time.perf_counter()
        try:
            return real_advance(self)
        finally:
            totals["fence"] += time.perf_counter() - start

    sealing.open = lambda *a, **k: TimedFile(real_open(*a, **k))  # type: ignore[attr-defined]
    sealing.hashlib = TimedHashlib  # type: ignore[assignment]
    sealing.write_all = write_all
    stream.write_all = write_all
    stream.AESGCM = TimedAead  # type: ignore[assignment,misc]
    workers.Rotation.advance = advance  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args(argv)
    signer, unwrapper = load_keys(json.dumps(export_keys()))
    totals = dict.fromkeys(STAGES, 0.0)
    _instrument(totals)
    size = args.size_mib << 20
    with tempfile.TemporaryDirectory(prefix="kms-envelope-profile-", dir=args.dir) as tmp:
        plain, sealed = Path(tmp) / "plain.bin", Path(tmp) / "message.env"
        block = os.urandom(1 << 20)
        with open(plain, "wb") as out:
            for _ in range(args.size_mib):
                out.write(block)
        print(f"send of {args.size_mib} MiB, seconds per stage; load average {os.getloadavg()}")
        print("| round | MB/s | wall | process cpu | " + " | ".join(STAGES) + " |")
        print("| ---: " * (4 + len(STAGES)) + "|")
        for round_number in range(1, args.rounds + 1):
            for stage in STAGES:
                totals[stage] = 0.0
            sealed.unlink(missing_ok=True)
            cpu, start = time.process_time(), time.perf_counter()
            envelope.seal([plain], sealed, signer=signer, wrapper=unwrapper.wrapper())
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            cells = " | ".join(f"{totals[stage]:.3f}" for stage in STAGES)
            print(
                f"| {round_number} | {size / wall / 1e6:,.0f} | {wall:.3f} | {cpu:.3f} | {cells} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
