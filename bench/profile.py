"""`python -m bench.profile`: where a send's (or receive's) time goes, stage by stage.

Not a test. It seals (with ``--receive``: seals once, then unseals) a random file with offline
keys while timers wrap every stage of the pipeline: the main thread's ``readinto``, AES-GCM
(``encrypt_into``/``decrypt_into``), ``write`` and fence waits, and the hash thread's updates
(wall time, and CPU time from ``time.thread_time``), and the hash thread's gaps: the time from
the end of one update to the start of the next, which is what each hand-off (queue, fence,
GIL) costs the hash. A hash thread whose CPU time is well below its wall time was off its
core; a main thread that waits on fences is waiting for the hash. Run it next to
`py-spy record --threads --idle -- python -m bench.profile` for the same picture from samples.
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
import envelope.unsealing as unsealing
import envelope.workers as workers
from bench.keys import export_keys, load_keys

STAGES = ("read", "aes", "write", "fence", "hash wall", "hash cpu", "hash gaps")


def _instrument(totals: dict[str, float]) -> None:
    """Wrap each stage in a timer (monkeypatching the envelope modules, for this process)."""
    real_open = builtins.open
    real_write_all = workers.write_all
    real_write_all_fd = workers.write_all_fd
    real_advance = workers.Rotation.advance
    real_aesgcm = stream.AESGCM
    real_counting_readinto = unsealing._CountingSource.readinto
    last_end: dict[int, float] = {}

    def timed(stage: str, call: Any, *args: Any) -> Any:
        start = time.perf_counter()
        try:
            return call(*args)
        finally:
            totals[stage] += time.perf_counter() - start

    class TimedFile:
        def __init__(self, inner: Any) -> None:
            self._inner = inner

        def readinto(self, view: memoryview) -> int:
            return timed("read", self._inner.readinto, view)

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
            timed("aes", self._inner.encrypt_into, *args)

        def decrypt_into(self, *args: Any) -> None:
            timed("aes", self._inner.decrypt_into, *args)

    class TimedHash:
        def __init__(self, data: bytes = b"") -> None:
            self._inner = hashlib.sha512(data)

        def update(self, view: Any) -> None:
            start, cpu = time.perf_counter(), time.thread_time()
            previous = last_end.get(id(self))
            if previous is not None:
                totals["hash gaps"] += start - previous
            self._inner.update(view)
            last_end[id(self)] = end = time.perf_counter()
            totals["hash wall"] += end - start
            totals["hash cpu"] += time.thread_time() - cpu

        def hexdigest(self) -> str:
            return self._inner.hexdigest()

    class TimedHashlib:
        sha512 = TimedHash

    def write_all(output: Any, view: memoryview) -> None:
        timed("write", real_write_all, output, view)

    def write_all_fd(fd: int, view: memoryview) -> None:
        timed("write", real_write_all_fd, fd, view)

    def advance(self: workers.Rotation) -> bytearray:
        return timed("fence", real_advance, self)

    def counting_readinto(self: Any, view: memoryview) -> int:
        return timed("read", real_counting_readinto, self, view)

    sealing.open = lambda *a, **k: TimedFile(real_open(*a, **k))  # type: ignore[attr-defined]
    sealing.hashlib = TimedHashlib  # type: ignore[assignment]
    unsealing.hashlib = TimedHashlib  # type: ignore[assignment]
    sealing.write_all = write_all
    stream.write_all = write_all
    unsealing.write_all_fd = write_all_fd
    unsealing._CountingSource.readinto = counting_readinto  # type: ignore[method-assign]
    stream.AESGCM = TimedAead  # type: ignore[assignment,misc]
    workers.Rotation.advance = advance  # type: ignore[method-assign]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--receive", action="store_true", help="profile unseal, not seal")
    parser.add_argument("--dir", type=Path, default=None, help="work directory (default: temp)")
    args = parser.parse_args(argv)
    signer, unwrapper = load_keys(json.dumps(export_keys()))
    wrapper, verifier = unwrapper.wrapper(), signer.verifier()
    totals = dict.fromkeys(STAGES, 0.0)
    size = args.size_mib << 20
    with tempfile.TemporaryDirectory(prefix="kms-envelope-profile-", dir=args.dir) as tmp:
        plain, sealed = Path(tmp) / "plain.bin", Path(tmp) / "message.env"
        block = os.urandom(1 << 20)
        with open(plain, "wb") as out:
            for _ in range(args.size_mib):
                out.write(block)
        if args.receive:
            envelope.seal([plain], sealed, signer=signer, wrapper=wrapper)
        _instrument(totals)
        what = "receive" if args.receive else "send"
        print(f"{what} of {args.size_mib} MiB, seconds per stage; load average {os.getloadavg()}")
        print("| round | MB/s | wall | process cpu | " + " | ".join(STAGES) + " |")
        print("| ---: " * (4 + len(STAGES)) + "|")
        for round_number in range(1, args.rounds + 1):
            for stage in STAGES:
                totals[stage] = 0.0
            received = Path(tmp) / f"received-{round_number}"
            if args.receive:
                received.mkdir()
            else:
                sealed.unlink(missing_ok=True)
            cpu, start = time.process_time(), time.perf_counter()
            if args.receive:
                envelope.unseal(sealed, received, unwrapper=unwrapper, verifier=verifier)
            else:
                envelope.seal([plain], sealed, signer=signer, wrapper=wrapper)
            wall, cpu = time.perf_counter() - start, time.process_time() - cpu
            if args.receive:
                (received / "plain.bin").unlink()
            cells = " | ".join(f"{totals[stage]:.3f}" for stage in STAGES)
            print(
                f"| {round_number} | {size / wall / 1e6:,.0f} | {wall:.3f} | {cpu:.3f} | {cells} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
