"""The endpoint process: moto's server with this project's patches, on a loopback port.

Run as ``python -m local_endpoint.server [--port N] [--disable PATCH ...] [--latency S]``.
It binds first (port 0 picks a free port), installs the patches, then prints one JSON line
to stdout, ``{"ready": true, "url": "http://127.0.0.1:PORT", "pid": PID}``, and serves
until SIGTERM, SIGINT, or (with ``--exit-on-stdin-eof``) until its parent closes our stdin:
a parent that dies never leaves an orphan server behind. ``--latency S`` holds every request
S seconds before answering it (a network round trip, for the latency benchmarks); requests
still run in parallel, one thread each.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

LOOPBACK = "127.0.0.1"


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local_endpoint.server")
    parser.add_argument("--host", default=LOOPBACK)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument(
        "--disable",
        action="append",
        default=[],
        metavar="PATCH",
        help="leave one fidelity patch out (for tests that pin moto's unpatched behaviour)",
    )
    parser.add_argument(
        "--principal-propagation-seconds",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="new IAM roles and users stay invisible to policy validation this long "
        "(reproduces IAM's propagation delay; default 0)",
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="hold every request this long before answering (a simulated round trip)",
    )
    parser.add_argument("--exit-on-stdin-eof", action="store_true")
    return parser.parse_args(argv)


def _exit_when_stdin_closes(stop: threading.Event) -> None:
    try:
        while sys.stdin.buffer.read(4096):
            pass
    finally:
        stop.set()


def with_latency(app: Callable[..., Iterable[bytes]], seconds: float) -> Any:
    """The WSGI ``app``, each request held ``seconds`` first (per request, in its thread)."""
    if seconds <= 0:
        return app

    def delayed(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        time.sleep(seconds)
        return app(environ, start_response)

    return delayed


def build_server(host: str, port: int, disabled: Sequence[str], latency: float = 0.0) -> Any:
    """Bind, install the patches and return a werkzeug server that is not serving yet."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    from local_endpoint import cloudtrail, patches

    installation = patches.REGISTRY.install(disabled=disabled, preload=patches.PRELOADED)
    app = DomainDispatcherApplication(installation.wrap_app_factory(create_backend_app))
    app = cloudtrail.recording(app)  # the audit trail and LookupEvents
    return make_server(
        host, port, with_latency(app, latency), threaded=True, request_handler=MotoRequestHandler
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    from local_endpoint import principals

    principals.propagation_seconds = args.principal_propagation_seconds
    try:
        if not 0 <= args.latency <= 60:
            raise ValueError(f"--latency must be 0-60 seconds, got {args.latency}")
        server = build_server(args.host, args.port, args.disable, args.latency)
    except (OSError, ValueError) as error:
        print(json.dumps({"ready": False, "error": str(error)}), flush=True)
        return 1
    host, port = server.server_address[:2]
    stop = threading.Event()

    def _stop(*_: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.exit_on_stdin_eof:
        threading.Thread(target=_exit_when_stdin_closes, args=(stop,), daemon=True).start()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(json.dumps({"ready": True, "url": f"http://{host}:{port}"}), flush=True)
    # From here on, anything moto prints goes to our log (stderr): nobody reads stdout.
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    stop.wait()
    # All state is in memory and is meant to go: exit now rather than tear moto down.
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
