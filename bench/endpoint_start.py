"""`python -m bench.endpoint_start`: how fast the local AWS endpoint is ready to answer.

Not a test (machines here are noisy). It starts the endpoint several times and reports the best
start, next to a baseline measured in the same run: the same server with every fidelity patch
left out, i.e. moto as it comes. The ratio is the patches' cost; the verdict is issue 4's
budget (ready within 2 s).
"""

from __future__ import annotations

import argparse

from local_endpoint import LocalEndpoint
from local_endpoint.patches import REGISTRY

READY_BUDGET_SECONDS = 2.0


def best_start(disabled_patches: tuple[str, ...], rounds: int) -> float:
    """Best seconds from starting the server to its first answer, over ``rounds`` starts."""
    timings = []
    for _ in range(rounds):
        with LocalEndpoint(disabled_patches=disabled_patches) as endpoint:
            assert endpoint.startup_seconds is not None
            timings.append(endpoint.startup_seconds)
    return min(timings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.endpoint_start")
    parser.add_argument("--rounds", type=int, default=5, help="starts of each (default 5)")
    args = parser.parse_args(argv)
    baseline = best_start(tuple(REGISTRY.names), args.rounds)
    patched = best_start((), args.rounds)
    print(f"endpoint start, best of {args.rounds}")
    print("| server | seconds | vs moto |")
    print("| --- | ---: | ---: |")
    print(f"| moto, no patches | {baseline:.2f} | 1.00x |")
    print(f"| local endpoint (all patches) | {patched:.2f} | {patched / baseline:.2f}x |")
    verdict = "PASS" if patched < READY_BUDGET_SECONDS else "FAIL"
    print(f"{verdict}  ready in {patched:.2f} s (budget {READY_BUDGET_SECONDS:.0f} s)")
    return 0 if verdict == "PASS" else 1


if __name__ == "__main__":
    raise SystemExit(main())
