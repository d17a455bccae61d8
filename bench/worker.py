"""Run one workload in this process and print its time and peak RSS growth as JSON.

Usage: python -m bench.worker WORKLOAD SIZE WORKDIR < keys.json
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def _peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux: KiB


def main(argv: list[str]) -> int:
    name, size_text, work = argv
    keys = sys.stdin.read()
    # Import everything first, so the baseline holds the libraries and only the work grows.
    import aws_cryptographic_material_providers.mpl  # noqa: F401
    import aws_encryption_sdk  # noqa: F401

    from bench.keys import load_keys
    from bench.workloads import WORKLOADS

    load_keys(keys)
    before = _peak_rss_bytes()
    start = time.perf_counter()
    WORKLOADS[name](int(size_text), keys, Path(work))
    seconds = time.perf_counter() - start
    after = _peak_rss_bytes()
    print(json.dumps({"seconds": seconds, "rss_growth": max(0, after - before)}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
