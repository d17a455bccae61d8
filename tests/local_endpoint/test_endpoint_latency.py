"""The endpoint's injected latency (for bench.latency): every request is held, in its own
thread, so concurrent requests still overlap."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from local_endpoint.server import _parse_args, main, with_latency


def _app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [])
    return [b"ok"]


def test_no_latency_is_the_app_itself() -> None:
    assert with_latency(_app, 0) is _app


def test_each_request_is_held_and_requests_overlap() -> None:
    delayed = with_latency(_app, 0.2)
    results: list[list[bytes]] = []
    began = time.monotonic()
    threads = [
        threading.Thread(target=lambda: results.append(delayed({}, lambda *a: None)))
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    assert results == [[b"ok"]] * 4
    assert elapsed >= 0.2  # held
    assert elapsed < 0.8  # not one after the other (4 x 0.2 s)


def test_the_option_parses_and_an_absurd_value_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert _parse_args(["--latency", "0.05"]).latency == 0.05
    assert main(["--latency", "-1"]) == 1
    assert '"ready": false' in capsys.readouterr().out
