# ruff: noqa: F811 - the fixtures imported from test_demo_cli_errors are used by name
"""`receive` hardening (issue 9): the seed format only when asked for, one error after
Decrypt, no cross-protocol use of the sender's signatures, private modes, inputs that cannot
hang it, and limits on what it writes before the signature is checked."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import pytest

from envelope.format import read_header
from kms_sign_encrypt import kms, seed
from kms_sign_encrypt.aws import CallMetrics, ClientSettings, assume_role, open_caller_session
from kms_sign_encrypt.errors import EXIT_REFUSED, EXIT_USAGE
from tests.demo.test_demo_cli_errors import (  # noqa: F401 - fixtures, used by name
    OPAQUE,
    PREFIX,
    cli,
    envelope_file,
    listing,
    one_line,
    seed_file,
    work,
)

ROOT = Path(__file__).resolve().parents[2]


def _as(deployed_stack: Any, party: str) -> Any:
    workload = (
        deployed_stack.profiles.sender if party == "sender" else deployed_stack.profiles.receiver
    )
    caller = open_caller_session(
        profile=workload.profile,
        region="us-east-1",
        settings=ClientSettings(),
        metrics=CallMetrics(),
    )
    role = deployed_stack.outputs["SenderRoleArn" if party == "sender" else "ReceiverRoleArn"]
    return assume_role(caller, role, party=party)


# ------------------------------------------------------------------- 1. the seed downgrade


def test_a_seed_file_without_the_opt_in_is_refused_and_writes_nothing(
    seed_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The downgrade: anyone holding a seed message signed by the sender can re-encrypt it to
    this receiver; without --format seed it is refused, in one line, before any AWS call."""
    code, err = cli(capsys, "receive", str(seed_file), "-o", str(work / "out"), "--json")
    assert code == EXIT_REFUSED
    assert one_line(err) == (
        f"{seed_file} is a seed-format message (a bare 512-byte RSA-OAEP ciphertext), which "
        "binds no recipient and is not read by default: accept the seed format explicitly if you "
        "expect one from this sender (option --format)"
    )
    assert listing(work / "out") == []
    assert capsys.readouterr().out == ""


def test_with_the_opt_in_the_output_says_the_format_binds_no_recipient(
    seed_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = cli(capsys, "receive", "--format", "seed", str(seed_file), "-o", str(work / "out"))
    assert code == 0, err
    assert listing(work / "out") == ["message.json", "message.sig"]


def test_the_warning_is_printed(seed_file: Path, work: Path, capsys: pytest.CaptureFixture[str]):
    from kms_sign_encrypt_cli.cli import main

    assert main(["receive", "--format", "seed", str(seed_file), "-o", str(work / "out")]) == 0
    printed = capsys.readouterr().out
    assert "(seed format)" in printed
    assert "warning: the seed format binds no recipient" in printed


def test_format_seed_on_an_envelope_is_refused(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = cli(
        capsys, "receive", "--format", "seed", str(envelope_file), "-o", str(work / "out")
    )
    assert code == EXIT_REFUSED
    assert (
        one_line(err)
        == f"{envelope_file} is an envelope, not a seed-format message: drop --format seed"
    )
    assert listing(work / "out") == []


def test_the_library_needs_the_flag_too(endpoint_env: Any, seed_file: Path, work: Path) -> None:
    from kms_sign_encrypt import seed_transfer
    from kms_sign_encrypt.errors import SeedNotAcceptedError
    from kms_sign_encrypt.stack import ResourceOptions, discover

    receiver = _as(endpoint_env, "receiver")
    resources = discover(ResourceOptions(outputs_file=endpoint_env.outputs_file), receiver)
    with pytest.raises(SeedNotAcceptedError, match="binds no recipient"):
        seed_transfer.receive_seed(receiver, resources, seed_file, work / "out", force=False)
    assert listing(work / "out") == []
    done = seed_transfer.receive_seed(
        receiver, resources, seed_file, work / "out", force=False, accept_seed_format=True
    )
    assert done.format == "seed"


# ------------------------------------------------------- 2. one error after a good Decrypt


def test_a_wrapped_data_key_as_a_seed_message_is_the_same_error_as_garbage(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The 512-byte wrapped key decrypts (to 32 random bytes); garbage does not. The receiver
    must not say which: once it said "not a gzip stream", an oracle on its own key."""
    with envelope_file.open("rb") as handle:
        wrapped = read_header(handle).wrapped_data_key
    assert len(wrapped) == 512
    (work / "wrapped.enc").write_bytes(wrapped)
    (work / "garbage.enc").write_bytes(os.urandom(512))
    answers = []
    for name in ("wrapped.enc", "garbage.enc"):
        out = work / f"out-{name}"
        out.mkdir()
        code, err = cli(capsys, "receive", "--format", "seed", str(work / name), "-o", str(out))
        answers.append((code, err))
        assert listing(out) == []
    assert answers[0] == answers[1]
    assert answers[0] == (EXIT_REFUSED, PREFIX + OPAQUE + "\n")


def _encrypt_archive(deployed_stack: Any, archive: bytes, target: Path) -> None:
    sender = _as(deployed_stack, "sender")
    target.write_bytes(kms.encrypt(sender, deployed_stack.outputs["EncryptionKeyArn"], archive))


def _tar_gz(members: dict[str, bytes]) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


@pytest.mark.parametrize(
    "members",
    [
        {"message.json": b"x"},  # lacks message.sig
        {"message.sig": b"s", "message.json": b"x", "extra": b"e"},
        {"message.sig": b"s", "../message.json": b"x"},
    ],
    ids=["missing member", "extra member", "traversal"],
)
def test_every_unpacking_failure_after_decrypt_is_the_opaque_error(
    endpoint_env: Any, work: Path, members: dict[str, bytes], capsys: pytest.CaptureFixture[str]
) -> None:
    _encrypt_archive(endpoint_env, _tar_gz(members), work / "bad.enc")
    code, err = cli(
        capsys, "receive", "--format", "seed", str(work / "bad.enc"), "-o", str(work / "out")
    )
    assert (code, one_line(err)) == (EXIT_REFUSED, OPAQUE)
    assert listing(work / "out") == []


# ------------------------------------------------------------------ cross-protocol use


STATEMENT_LIKE = b'{\n  "bytes": 1,\n  "note": "pay 10 EUR"\n}\n'


def test_a_whole_statement_does_not_even_fit_a_seed_message(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mallory's attempt: an envelope's statement and signature repackaged as a seed message.
    RSA_4096 OAEP holds 446 bytes, and the statement with its signature makes about 600
    bytes of tar.gz, so the seed reader could never receive it: measured here."""
    from kms_sign_encrypt_cli.cli import main

    (work / "got").mkdir()
    assert main(["receive", str(envelope_file), "-o", str(work / "got")]) == 0
    capsys.readouterr()
    evidence = work / "got" / "evidence"
    statement = (evidence / "statement.json").read_bytes()
    signature = (evidence / "statement.sig").read_bytes()
    archive = _tar_gz({"message.sig": signature, "message.json": statement})
    assert len(archive) > seed.SEED_PLAINTEXT_LIMIT


@pytest.fixture
def statement_as_seed_message(endpoint_env: Any, work: Path) -> Path:
    """A genuinely signed message.json that starts like a statement, as the AWS CLI steps of
    the blog post (which do not check) would sign it, sent in the seed format."""
    sender = _as(endpoint_env, "sender")
    signature = kms.sign(sender, endpoint_env.outputs["SigningKeyArn"], STATEMENT_LIKE)
    archive = _tar_gz({"message.sig": signature, "message.json": STATEMENT_LIKE})
    assert len(archive) <= seed.SEED_PLAINTEXT_LIMIT
    _encrypt_archive(endpoint_env, archive, work / "cross.enc")
    return work / "cross.enc"


def test_an_envelope_statement_is_not_a_seed_message(
    statement_as_seed_message: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, err = cli(
        capsys,
        "receive",
        "--format",
        "seed",
        str(statement_as_seed_message),
        "-o",
        str(work / "out"),
    )
    assert (code, one_line(err)) == (EXIT_REFUSED, OPAQUE)
    assert listing(work / "out") == []


def test_without_the_separation_the_statement_would_verify_as_a_seed_message(
    statement_as_seed_message: Path,
    work: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Breaks the check on purpose: the signature is genuine, so only the check stops it."""
    monkeypatch.setattr(seed, "is_statement_like", lambda _message: False)
    code, err = cli(
        capsys,
        "receive",
        "--format",
        "seed",
        str(statement_as_seed_message),
        "-o",
        str(work / "out"),
    )
    assert code == 0, err
    assert listing(work / "out") == ["message.json", "message.sig"]


def test_the_seed_sender_refuses_to_sign_a_statement_like_message(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (work / "like.json").write_bytes(STATEMENT_LIKE)
    code, err = cli(
        capsys, "send", "--format", "seed", str(work / "like.json"), "-o", str(work / "m.enc")
    )
    assert code == EXIT_REFUSED
    assert one_line(err).startswith("message.json starts like a kms-envelope/v1 statement")
    assert not (work / "m.enc").exists()


# ------------------------------------------------------------------------------- 4. modes


def test_every_file_and_directory_receive_writes_is_private(
    envelope_file: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kms_sign_encrypt_cli.cli import main

    out = work / "out"
    (work / "out2").mkdir()
    assert (
        main(["receive", str(envelope_file), "-o", str(out), "--evidence", str(work / "ev")]) == 0
    )
    assert main(["receive", str(envelope_file), "-o", str(work / "out2")]) == 0  # OUT_DIR/evidence
    written = [out, work / "ev", work / "out2"]
    modes = {}
    for top in written:
        for root, dirs, files in os.walk(top):
            for name in dirs:
                modes[os.path.join(root, name)] = (
                    "dir",
                    os.stat(os.path.join(root, name)).st_mode & 0o777,
                )
            for name in files:
                modes[os.path.join(root, name)] = (
                    "file",
                    os.stat(os.path.join(root, name)).st_mode & 0o777,
                )
    assert len(modes) >= 12  # message.json x3, 5-6 evidence files x2, the evidence dirs
    assert {
        path: mode for path, mode in modes.items() if mode not in {("dir", 0o700), ("file", 0o600)}
    } == {}


# --------------------------------------------------------------------------- 6. a FIFO


@pytest.mark.usefixtures("clean_aws_env")
@pytest.mark.parametrize("kind", ["fifo", "device", "directory"])
def test_a_non_regular_input_is_refused_at_once(tmp_path: Path, kind: str) -> None:
    """A FIFO with no writer used to hang `receive` forever: the real CLI, with a timeout."""
    if kind == "fifo":
        source = tmp_path / "in.fifo"
        os.mkfifo(source)
        what = "is a FIFO (named pipe), not a regular file"
    elif kind == "device":
        source, what = Path("/dev/zero"), "is a character device, not a regular file"
    else:
        source, what = tmp_path, "is a directory, not a regular file"
    (tmp_path / "out").mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "demo", "receive", str(source), "-o", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE
    assert done.stderr.splitlines() == [f"{PREFIX}input {source} {what}"]
    assert listing(tmp_path / "out") == []


# ------------------------------------------------------------------------------ limits


def test_max_files_and_max_bytes_refuse_and_leave_nothing(
    endpoint_env: Any, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from kms_sign_encrypt_cli.cli import main

    for name in ("a", "b"):
        (work / name).write_bytes(os.urandom(300_000))
    assert main(["send", str(work / "a"), str(work / "b"), "-o", str(work / "two.enc")]) == 0
    capsys.readouterr()
    code, err = cli(
        capsys, "receive", str(work / "two.enc"), "-o", str(work / "out"), "--max-files", "1"
    )
    assert code == EXIT_REFUSED
    assert one_line(err) == (
        "refused: the envelope holds more than 1 files, the limit for one receive "
        "(option --max-bytes, --max-files)"
    )
    code, err = cli(
        capsys, "receive", str(work / "two.enc"), "-o", str(work / "out"), "--max-bytes", "400000"
    )
    assert code == EXIT_REFUSED
    assert "more than 400000 bytes of files" in one_line(err)
    assert listing(work / "out") == []
    with pytest.raises(SystemExit) as caught:
        cli(capsys, "receive", str(work / "two.enc"), "-o", str(work / "out"), "--max-bytes", "0")
    assert caught.value.code == EXIT_USAGE
    assert capsys.readouterr().err == (
        "kms-sign-encrypt receive: error: argument --max-bytes: must be at least 1, got 0 "
        "(see kms-sign-encrypt receive --help)\n"
    )
