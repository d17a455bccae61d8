"""No unauthenticated plaintext is left on disk, whatever signal ends a `receive` (issue 9).

The real CLI runs in a subprocess against the session's local endpoint and receives a large
envelope; the test watches how far the process has read its input (``/proc/PID/fdinfo``)
and sends the signal at several points of the payload, all before the end record and the
signature could have been checked. Afterwards no file may remain anywhere under the output
directory: SIGTERM, SIGHUP and SIGINT run the cleanup (the CLI turns them into exceptions);
SIGKILL runs nothing, and the O_TMPFILE temp files, which never had a name, vanish with the
process. The named-temp-file fallback (no O_TMPFILE) is run too, for the signals it handles.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import envelope.unsealing

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SIZE = 128 * 1024 * 1024
POINTS = (0.2, 0.5, 0.9)
RUN_CLI = "import sys; from kms_sign_encrypt_cli.cli import main; sys.exit(main(sys.argv[1:]))"
NO_O_TMPFILE = "import envelope.unsealing as u; u._O_TMPFILE = 0; " + RUN_CLI
NO_HANDLERS = "import kms_sign_encrypt_cli.cli as c; c.TERMINATING_SIGNALS = (); " + NO_O_TMPFILE
HANDLED = {
    signal.SIGTERM: (143, "terminated by SIGTERM; no partial output was left behind"),
    signal.SIGHUP: (129, "terminated by SIGHUP; no partial output was left behind"),
    signal.SIGINT: (130, "interrupted; no partial output was left behind"),
}


def _sigint_as_a_terminal_sends_it() -> None:
    """The child gets SIGINT's default disposition, even when this suite was started in the
    background (`cmd &` in a script ignores SIGINT, and children inherit that)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.fixture(scope="module")
def large_envelope(deployed_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("signals")
    (work / "large.bin").write_bytes(os.urandom(SIZE))
    done = subprocess.run(
        [sys.executable, "-c", RUN_CLI, "send", str(work / "large.bin"), "-o",
         str(work / "large.enc"), "--no-progress", "--outputs-file",
         str(deployed_stack.outputs_file)],
        cwd=ROOT, env=deployed_stack.subprocess_env(), capture_output=True, text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (work / "large.bin").unlink()
    return work / "large.enc"


def _read_position(pid: int, source: Path) -> int | None:
    """How far process ``pid`` has read ``source``, or None while it has it not open."""
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != str(source):
                    continue
                info = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
            except OSError:
                continue
            return int(info.split("pos:")[1].split()[0])
    except OSError:
        return None
    return None


def _receive_and_signal(
    deployed_stack: Any, source: Path, out: Path, signum: int, point: float, prelude: str
) -> subprocess.CompletedProcess[str]:
    out.mkdir()
    command = [sys.executable, "-c", prelude, "receive", str(source), "-o", str(out),
               "--no-progress", "--outputs-file", str(deployed_stack.outputs_file)]  # fmt: skip
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env=deployed_stack.subprocess_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_sigint_as_a_terminal_sends_it,
    )
    target = int(source.stat().st_size * point)
    deadline = time.monotonic() + 120
    try:
        while True:
            assert child.poll() is None, "the receive ended before the signal point"
            assert time.monotonic() < deadline, "the receive never got to the signal point"
            position = _read_position(child.pid, source)
            if position is not None and position >= target:
                break
            time.sleep(0.0005)
        child.send_signal(signum)
        stdout, stderr = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
    return subprocess.CompletedProcess(command, child.returncode, stdout, stderr)


def _files_under(directory: Path) -> list[str]:
    return sorted(
        str(Path(root, name).relative_to(directory))
        for root, _, names in os.walk(directory)
        for name in names
    )


def _dirs_under(directory: Path) -> list[str]:
    return sorted(
        str(Path(root, name).relative_to(directory))
        for root, names, _ in os.walk(directory)
        for name in names
    )


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("signum", list(HANDLED), ids=lambda s: signal.Signals(s).name)
def test_a_handled_signal_leaves_nothing(
    deployed_stack: Any, large_envelope: Path, tmp_path: Path, signum: int, point: float
) -> None:
    out = tmp_path / "out"
    done = _receive_and_signal(deployed_stack, large_envelope, out, signum, point, RUN_CLI)
    code, line = HANDLED[signum]
    assert done.returncode == code, done.stderr
    assert done.stderr.splitlines() == [f"kms-sign-encrypt: error: {line}"]
    assert _files_under(out) == []
    assert _dirs_under(out) == []  # the staging directory went too


@pytest.mark.parametrize("point", POINTS)
def test_sigkill_leaves_no_file_at_all(
    deployed_stack: Any, large_envelope: Path, tmp_path: Path, point: float
) -> None:
    """SIGKILL runs no cleanup: with O_TMPFILE no file ever had a name. What remains, as
    docs/SECURITY.md says, is the empty private staging directory."""
    assert envelope.unsealing._open_anonymous(tmp_path) is not None, "no O_TMPFILE here"
    out = tmp_path / "out"
    done = _receive_and_signal(deployed_stack, large_envelope, out, signal.SIGKILL, point, RUN_CLI)
    assert done.returncode == -signal.SIGKILL
    assert _files_under(out) == []
    (staging,) = _dirs_under(out)[:1]
    assert staging.startswith(".kms-sign-encrypt-")
    assert _dirs_under(out) == [staging, f"{staging}/files"]
    assert (out / staging).stat().st_mode & 0o777 == 0o700


@pytest.mark.parametrize("signum", list(HANDLED), ids=lambda s: signal.Signals(s).name)
def test_without_o_tmpfile_the_handlers_still_clean_up(
    deployed_stack: Any, large_envelope: Path, tmp_path: Path, signum: int
) -> None:
    """The fallback for systems without O_TMPFILE: named temp files, removed on the signal."""
    out = tmp_path / "out"
    done = _receive_and_signal(deployed_stack, large_envelope, out, signum, 0.5, NO_O_TMPFILE)
    assert done.returncode == HANDLED[signum][0], done.stderr
    assert _files_under(out) == []


def test_without_o_tmpfile_sigkill_leaves_named_plaintext(
    deployed_stack: Any, large_envelope: Path, tmp_path: Path
) -> None:
    """Measured for docs/SECURITY.md: the fallback cannot survive SIGKILL, which is why
    O_TMPFILE is used wherever it exists. This shows the test above can fail."""
    out = tmp_path / "out"
    done = _receive_and_signal(
        deployed_stack, large_envelope, out, signal.SIGKILL, 0.5, NO_O_TMPFILE
    )
    assert done.returncode == -signal.SIGKILL
    (leftover,) = _files_under(out)
    assert Path(leftover).name.startswith(".kms-envelope-")
    assert (out / leftover).stat().st_size > 0
    assert (out / leftover).stat().st_mode & 0o777 == 0o600


def test_without_the_handlers_sigterm_would_leave_named_plaintext(
    deployed_stack: Any, large_envelope: Path, tmp_path: Path
) -> None:
    """Breaks the property on purpose (the state before issue 9: no O_TMPFILE, no handlers):
    SIGTERM kills the process and the named temp file with unverified plaintext stays."""
    out = tmp_path / "out"
    done = _receive_and_signal(
        deployed_stack, large_envelope, out, signal.SIGTERM, 0.5, NO_HANDLERS
    )
    assert done.returncode == -signal.SIGTERM
    (leftover,) = _files_under(out)
    assert Path(leftover).name.startswith(".kms-envelope-")
