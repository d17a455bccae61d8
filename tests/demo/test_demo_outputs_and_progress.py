"""Outputs appear whole or not at all; the progress display shows only for slow work."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest

from kms_sign_encrypt.errors import UsageError
from kms_sign_encrypt.files import StagedOutputs, read_input, staged_outputs
from kms_sign_encrypt.progress import Progress


def test_outputs_appear_only_when_the_block_succeeds(tmp_path: Path) -> None:
    with staged_outputs() as outputs:
        outputs.write(tmp_path / "a", b"A")
        outputs.write(tmp_path / "b", b"B")
        assert not (tmp_path / "a").exists()
    assert (tmp_path / "a").read_bytes() == b"A"
    assert (tmp_path / "b").read_bytes() == b"B"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_outputs_are_private(tmp_path: Path) -> None:
    with staged_outputs() as outputs:
        outputs.write(tmp_path / "plain", b"secret")
    assert stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o600


def _fail_half_way(outputs: StagedOutputs, tmp_path: Path) -> None:
    outputs.write(tmp_path / "a", b"A")
    with outputs.open(tmp_path / "b") as handle:
        handle.write(b"half")
        raise RuntimeError("failed half-way")


def test_an_error_leaves_nothing_behind(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), staged_outputs() as outputs:
        _fail_half_way(outputs, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_without_staging_a_failure_would_leave_a_partial_file(tmp_path: Path) -> None:
    """Breaks the property on purpose: a direct write leaves the half-written file."""

    def write_directly() -> None:
        with (tmp_path / "b").open("wb") as handle:
            handle.write(b"half")
            raise RuntimeError("failed half-way")

    with pytest.raises(RuntimeError):
        write_directly()
    assert (tmp_path / "b").read_bytes() == b"half"


def test_existing_outputs_are_kept_unless_forced(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"old")
    with (
        pytest.raises(UsageError, match="already exists: remove it or allow replacing it"),
        staged_outputs() as outputs,
    ):
        outputs.write(tmp_path / "a", b"new")
    assert (tmp_path / "a").read_bytes() == b"old"
    with staged_outputs(force=True) as outputs:
        outputs.write(tmp_path / "a", b"new")
    assert (tmp_path / "a").read_bytes() == b"new"


def test_a_missing_output_directory_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"output directory .* does not exist"):
        StagedOutputs(force=False).check_free(tmp_path / "missing" / "a")


def test_read_input_is_bounded_and_explains(tmp_path: Path) -> None:
    (tmp_path / "big").write_bytes(b"x" * 11)
    with pytest.raises(UsageError, match="larger than 10 bytes"):
        read_input(tmp_path / "big", limit=10)
    with pytest.raises(UsageError, match="not found"):
        read_input(tmp_path / "missing")
    with pytest.raises(UsageError, match="is a directory"):
        read_input(tmp_path)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fast_work_shows_no_progress() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress("sealing", 100, stream=stream, clock=clock)
    clock.now = 0.9
    progress.advance(100)
    progress.finish()
    assert stream.getvalue() == ""


def test_slow_work_shows_progress_after_a_second_and_ends_with_a_line() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress("sealing", 4 * 1024 * 1024, stream=stream, clock=clock)
    clock.now = 1.5
    progress.advance(1024 * 1024)
    clock.now = 1.6  # too soon to redraw (not a terminal: every 2 s)
    progress.advance(1024 * 1024)
    clock.now = 4.0
    progress.advance(2 * 1024 * 1024)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines[0] == "sealing:  25.0% 1.0/4.0 MiB 0.7 MiB/s 1.5 s"
    assert lines[1] == "sealing: 100.0% 4.0/4.0 MiB 1.0 MiB/s 4.0 s"
    assert lines[-1] == lines[1]
    assert len(lines) == 3


def test_disabled_progress_stays_silent() -> None:
    clock, stream = Clock(), io.StringIO()
    progress = Progress("sealing", 10, stream=stream, clock=clock, enabled=False)
    clock.now = 10.0
    progress.advance(10)
    progress.finish()
    assert stream.getvalue() == ""


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_progress_redraws_in_place_and_a_failure_ends_the_line() -> None:
    clock, stream = Clock(), Terminal()
    progress = Progress("opening", 2 * 1024 * 1024, stream=stream, clock=clock)
    clock.now = 1.2
    progress.advance(1024 * 1024)
    clock.now = 1.4
    progress.advance(512 * 1024)
    progress.abort()
    text = stream.getvalue()
    assert text.startswith("\ropening:  50.0% 1.0/2.0 MiB")
    assert "\ropening:  75.0% 1.5/2.0 MiB" in text
    assert text.count("\n") == 1
    assert text.endswith("\n")


def test_a_display_that_never_showed_stays_silent_on_failure() -> None:
    stream = Terminal()
    progress = Progress("opening", 10, stream=stream, clock=Clock())
    progress.advance(10)
    progress.abort()
    assert stream.getvalue() == ""
