"""Received files land directly in the output directory, whatever the platform's path rules.

The format's name rules (no '/', '\\', control characters, '.', '..') make a name a single
component on POSIX. On Windows a name like 'C:evil' is drive-relative and would leave the
output directory; the reader checks each target with the platform's own path rules before
linking it into place. The Windows rules are exercised here through PureWindowsPath.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath, PureWindowsPath

import pytest

import envelope
from envelope.sealing import PlainFile
from envelope.unsealing import output_target
from tests.envelope.envelope_testkit import Parties


@pytest.mark.parametrize("name", ["C:evil.txt", "c:..", "CON", "nul.txt", "a.txt:stream"])
def test_names_that_leave_or_break_a_windows_directory_are_refused(name: str):
    with pytest.raises(envelope.EnvelopeUsageError, match=r"cannot be written .* on this system"):
        output_target(PureWindowsPath("C:/Users/bob/out"), name)


@pytest.mark.parametrize("name", ["C:evil.txt", "a.txt:stream", "report 2026-11-28T22:00.txt"])
def test_the_same_names_are_plain_names_on_posix(name: str):
    out = PurePosixPath("/home/bob/out")
    assert output_target(out, name) == out / name


@pytest.mark.parametrize("name", ["report.txt", "é.txt", ".hidden"])
def test_ordinary_names_pass_on_both(name: str):
    for out in (PureWindowsPath("C:/Users/bob/out"), PurePosixPath("/home/bob/out")):
        assert output_target(out, name) == out / name


def test_unseal_checks_every_target_before_linking_any(
    tmp_path: Path, parties: Parties, monkeypatch
):
    """Break the check for one name: nothing at all is written, and the error is precise."""
    import envelope.unsealing as unsealing_module

    for name in ("a.txt", "b.txt"):
        (tmp_path / name).write_text(name)
    envelope.seal(
        [PlainFile(tmp_path / "a.txt", "a.txt"), PlainFile(tmp_path / "b.txt", "b.txt")],
        tmp_path / "m.env",
        signer=parties.signer,
        wrapper=parties.wrapper,
    )
    real = unsealing_module.output_target

    def refuse_b(out_dir, name):
        if name == "b.txt":
            raise envelope.EnvelopeUsageError("file name 'b.txt' cannot be written on this system")
        return real(out_dir, name)

    monkeypatch.setattr(unsealing_module, "output_target", refuse_b)
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(envelope.EnvelopeUsageError, match=r"b\.txt"):
        envelope.unseal(
            tmp_path / "m.env", out, unwrapper=parties.unwrapper, verifier=parties.verifier
        )
    assert os.listdir(out) == []
