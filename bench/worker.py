"""Run one workload in this process and print its time, CPU and peak RSS growth as JSON.

Usage: python -m bench.worker WORKLOAD SIZE WORKDIR < keys.json

Besides the wall time it reports CPU seconds per thread: the main thread's, and the busiest
other thread's (for send and receive, the SHA-512 thread). On two free cores a pipeline's
wall time cannot be shorter than its busiest thread's CPU time, and it is that long when the
threads overlap; so ``sha-512 seconds / busiest thread's CPU seconds`` is the share this code
reaches on an idle machine, whatever the load was during the run (bench/README.md).
"""

from __future__ import annotations

import json
import resource
import sys
import threading
import time
from pathlib import Path


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def _account_thread_cpu(cpu: dict[str, float]) -> None:
    """Record each thread's CPU seconds (``time.thread_time``) when its ``run`` returns."""
    real_run = threading.Thread.run

    def run(self: threading.Thread) -> None:
        try:
            real_run(self)
        finally:
            cpu[self.name] = cpu.get(self.name, 0.0) + time.thread_time()

    threading.Thread.run = run  # type: ignore[method-assign]


def main(argv: list[str]) -> int:
    name, size_text, work = argv
    keys = sys.stdin.read()
    # Import everything first, so the baseline holds the libraries and only the work grows.
    import aws_cryptographic_material_providers.mpl  # noqa: F401
    import aws_encryption_sdk  # noqa: F401

    from bench.keys import load_keys
    from bench.workloads import WORKLOADS

    load_keys(keys)
    run = WORKLOADS[name](int(size_text), keys, Path(work))  # keys loaded, buffers made: untimed
    threads: dict[str, float] = {}
    _account_thread_cpu(threads)
    before = _peak_rss_bytes()
    main_cpu, cpu, start = time.thread_time(), time.process_time(), time.perf_counter()
    run()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    main_cpu = time.thread_time() - main_cpu
    after = _peak_rss_bytes()
    result = {
        "seconds": seconds,
        "cpu": cpu,
        "main_cpu": main_cpu,
        "busiest_cpu": max([main_cpu, *threads.values()]),
        "threads": sorted(threads),
        "rss_growth": max(0, after - before),
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
