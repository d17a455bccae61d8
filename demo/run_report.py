"""What `run` prints and returns: steps as they happen, then the summary (or one JSON)."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from demo.checks import CheckResult
from kms_sign_encrypt import AccessReport, AuditEntry, CallMetrics, audit_table


@dataclass
class StepRecord:
    number: str
    title: str
    seconds: float = 0.0
    kms_calls: int = 0
    sts_calls: int = 0
    details: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "step": self.number,
            "title": self.title,
            "seconds": round(self.seconds, 4),
            "kms_calls": self.kms_calls,
            "sts_calls": self.sts_calls,
            "details": self.details,
        }


class Reporter:
    """Prints each step as it happens (text), or stays quiet and keeps it all (JSON)."""

    def __init__(self, stream: TextIO, metrics: CallMetrics, *, as_json: bool) -> None:
        self.stream = stream
        self.metrics = metrics
        self.as_json = as_json
        self.steps: list[StepRecord] = []

    def say(self, text: str = "") -> None:
        if not self.as_json:
            print(text, file=self.stream, flush=True)

    @contextmanager
    def step(self, number: str, title: str) -> Iterator[StepRecord]:
        record = StepRecord(number, title)
        self.steps.append(record)
        self.say(f"Step {number}. {title}")
        kms_before, sts_before = self.metrics.count("kms"), self.metrics.count("sts")
        start = time.perf_counter()
        try:
            yield record
        finally:
            record.seconds = time.perf_counter() - start
            record.kms_calls = self.metrics.count("kms") - kms_before
            record.sts_calls = self.metrics.count("sts") - sts_before

    def detail(self, record: StepRecord, text: str) -> None:
        record.details.append(text)
        self.say(f"        {text}")


@dataclass
class RunReport:
    workdir: Path
    format: str
    steps: list[StepRecord]
    checks: list[CheckResult]
    metrics: dict[str, Any]
    bytes_in: int
    bytes_out: int
    message: str
    matrix: AccessReport | None
    audit: list[AuditEntry] | None = None  # this run's calls in CloudTrail

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    def as_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "format": self.format,
            "workdir": str(self.workdir),
            "message": self.message,
            "steps": [s.as_dict() for s in self.steps],
            "checks": [c.as_dict() for c in self.checks],
            "summary": {
                "seconds": round(sum(s.seconds for s in self.steps), 4),
                "bytes_in": self.bytes_in,
                "bytes_out": self.bytes_out,
                **self.metrics,
            },
            "access_matrix": self.matrix.as_json() if self.matrix else None,
            "audit": [e.as_dict() for e in self.audit] if self.audit is not None else None,
        }


def print_summary(out: Reporter, report: RunReport) -> None:
    m = report.metrics
    out.say("")
    out.say(f"{'step':<5} {'seconds':>8} {'KMS':>4} {'STS':>4}  title")
    for step in report.steps:
        out.say(
            f"{step.number:<5} {step.seconds:8.3f} {step.kms_calls:4d} {step.sts_calls:4d}  "
            f"{step.title}"
        )
    total = sum(step.seconds for step in report.steps)
    out.say(f"{'total':<5} {total:8.3f} {m['kms_calls']:4d} {m['sts_calls']:4d}")
    calls = ", ".join(f"{name} {n}" for name, n in m["calls"].items())
    out.say(f"API calls: {calls}")
    out.say(
        f"HTTP attempts {m['http_attempts']}; wire bytes sent {m['wire_bytes_sent']}, "
        f"received {m['wire_bytes_received']}"
    )
    out.say(
        f"message bytes in {report.bytes_in}; encrypted bytes out {report.bytes_out} "
        f"({report.format} format)"
    )
    if report.matrix is not None:
        out.say("")
        out.say("Access matrix (from the deployed key policies):")
        out.say(report.matrix.table())
    passed = sum(c.passed for c in report.checks)
    out.say("")
    verdict = "all expectations met" if report.passed else "EXPECTATIONS FAILED"
    out.say(f"Checks: {passed}/{len(report.checks)} passed: {verdict}")


def print_session_audit(
    say: Any, entries: Sequence[AuditEntry] | None, problem: str | None
) -> None:
    say("")
    if entries is None:
        say(f"Audit of this run unavailable: {problem}")
        return
    say(
        "Audit of this run (CloudTrail LookupEvents; on AWS, events appear there 5 to 15 "
        "minutes after the call: rerun `kms-sign-encrypt audit --since 1h` then):"
    )
    for line in audit_table(entries):
        say(f"  {line}")
