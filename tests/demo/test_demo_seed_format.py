"""The seed format: bundling, the 446-byte limit, and safe extraction of hostile archives."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from kms_sign_encrypt import seed

MESSAGE = b'{"message": "The Magic Words are Squeamish Ossifrage", "sender": "Sender Principal"}\n'
SIGNATURE = bytes([0x30, 0x81, 0x88]) + os.urandom(136)  # DER-shaped, 139 bytes


def make_archive(
    members: list[tuple[tarfile.TarInfo, bytes | None]], *, fmt: int = tarfile.GNU_FORMAT
) -> bytes:
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=fmt) as tar:
        for info, data in members:
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return gzip.compress(raw.getvalue(), mtime=0)


def regular(name: str, data: bytes) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    return info, data


def special(name: str, kind: bytes, linkname: str = "") -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = linkname
    return info, None


GOOD = [regular("message.sig", SIGNATURE), regular("message.json", MESSAGE)]


def test_bundle_round_trip() -> None:
    archive = seed.bundle(MESSAGE, SIGNATURE)
    assert len(archive) <= seed.SEED_PLAINTEXT_LIMIT
    assert seed.unbundle(archive) == seed.SeedBundle(MESSAGE, SIGNATURE)


def test_bundle_is_deterministic_and_in_the_seeds_member_order() -> None:
    archive = seed.bundle(MESSAGE, SIGNATURE)
    assert archive == seed.bundle(MESSAGE, SIGNATURE)
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        assert tar.getnames() == ["message.sig", "message.json"]


def test_a_message_too_large_for_one_rsa_oaep_encrypt_is_refused_naming_the_limit() -> None:
    incompressible = os.urandom(200).hex().encode()
    with pytest.raises(seed.SeedTooLargeError) as caught:
        seed.check_fits(seed.bundle(incompressible, SIGNATURE))
    message = str(caught.value)
    assert "at most 446 bytes" in message
    assert "use the envelope format" in message
    assert caught.value.size > seed.SEED_PLAINTEXT_LIMIT


def test_precheck_refuses_before_any_kms_call_what_cannot_fit() -> None:
    with pytest.raises(seed.SeedTooLargeError):
        seed.precheck(os.urandom(400).hex().encode())
    seed.precheck(MESSAGE)  # fits: no error


def test_precheck_refuses_more_than_kms_raw_signing_takes() -> None:
    with pytest.raises(seed.SeedTooLargeError):
        seed.precheck(b" " * (seed.MAX_MESSAGE_BYTES + 1))


HOSTILE: dict[str, tuple[Callable[[], bytes], str]] = {
    "dot-dot traversal": (
        lambda: make_archive([*GOOD, regular("../evil.sh", b"x")]),
        "unsafe archive member '../evil.sh'",
    ),
    "traversal disguised by the expected name": (
        lambda: make_archive([regular("../message.json", MESSAGE), GOOD[0]]),
        "unsafe archive member '../message.json'",
    ),
    "absolute path": (
        lambda: make_archive([regular("/etc/cron.d/evil", b"x"), *GOOD]),
        "unsafe archive member '/etc/cron.d/evil'",
    ),
    "symlink named like a member": (
        lambda: make_archive([special("message.json", tarfile.SYMTYPE, "/etc/passwd"), GOOD[0]]),
        "unsafe archive member 'message.json'",
    ),
    "relative symlink inside": (
        lambda: make_archive([special("message.json", tarfile.SYMTYPE, "message.sig"), GOOD[0]]),
        "must be a regular file",
    ),
    "hardlink": (
        lambda: make_archive([GOOD[0], special("message.json", tarfile.LNKTYPE, "message.sig")]),
        "must be a regular file",
    ),
    "hardlink outside": (
        lambda: make_archive([GOOD[0], special("message.json", tarfile.LNKTYPE, "/etc/shadow")]),
        "unsafe archive member 'message.json'",
    ),
    "directory": (
        lambda: make_archive([special("message.json", tarfile.DIRTYPE), GOOD[0]]),
        "must be a regular file",
    ),
    "fifo": (
        lambda: make_archive([special("message.json", tarfile.FIFOTYPE), GOOD[0]]),
        "unsafe archive member 'message.json'",
    ),
    "device": (
        lambda: make_archive([special("message.json", tarfile.CHRTYPE), GOOD[0]]),
        "unsafe archive member 'message.json'",
    ),
    "extra member": (
        lambda: make_archive([*GOOD, regular("README", b"hi")]),
        "unexpected archive member 'README'",
    ),
    "prefixed name": (
        lambda: make_archive([regular("./message.json", MESSAGE), GOOD[0]]),
        "unexpected archive member './message.json'",
    ),
    "duplicate member": (
        lambda: make_archive([*GOOD, regular("message.json", b"{}")]),
        "appears twice",
    ),
    "signature over its cap": (
        lambda: make_archive([regular("message.sig", b"\0" * 140), GOOD[1]]),
        "is 140 bytes, over its cap of 139",
    ),
    "message over its cap": (
        lambda: make_archive([GOOD[0], regular("message.json", b" " * 4097)]),
        "is 4097 bytes, over its cap of 4096",
    ),
    "missing signature": (
        lambda: make_archive([GOOD[1]]),
        "lacks message.sig",
    ),
    "empty archive": (lambda: make_archive([]), "lacks message.sig and message.json"),
    "decompression bomb": (
        lambda: gzip.compress(b"\0" * (seed.MAX_TAR_BYTES + 1), compresslevel=9),
        "refused as a decompression bomb",
    ),
    "trailing bytes after gzip": (
        lambda: seed.bundle(MESSAGE, SIGNATURE) + b"junk",
        "followed by trailing bytes",
    ),
    "truncated gzip": (lambda: seed.bundle(MESSAGE, SIGNATURE)[:-12], "truncated"),
    "not gzip": (lambda: b"PK\x03\x04 not a tar.gz", "not a gzip stream"),
    "gzip of something else": (lambda: gzip.compress(b"hello"), "not a valid tar archive"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archives_are_refused_with_a_precise_reason(case: str) -> None:
    build, reason = HOSTILE[case]
    archive = build()
    assert len(archive) <= seed.SEED_PLAINTEXT_LIMIT  # so the member checks are what refuse
    with pytest.raises(seed.SeedFormatError) as caught:
        seed.unbundle(archive)
    assert reason in str(caught.value)


def test_a_member_whose_data_is_cut_short_is_refused() -> None:
    info, _ = regular("message.json", MESSAGE)
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        tar.addfile(*regular("message.sig", SIGNATURE)[:1], io.BytesIO(SIGNATURE))
        tar.addfile(info, io.BytesIO(MESSAGE))
    cut = tar_bytes.getvalue()[: 512 * 3 + 10]  # second header, then 10 bytes of its data
    with pytest.raises(seed.SeedFormatError):
        seed.unbundle(gzip.compress(cut, mtime=0))


def test_an_archive_over_the_rsa_oaep_limit_is_refused_before_decompression() -> None:
    with pytest.raises(seed.SeedTooLargeError):
        seed.unbundle(b"\x1f\x8b" + b"\0" * seed.SEED_PLAINTEXT_LIMIT)


@pytest.mark.parametrize(
    "case", ["dot-dot traversal", "absolute path", "extra member", "duplicate member"]
)
def test_without_the_member_checks_hostile_archives_get_through(
    case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Breaks the property on purpose: the member checks are what stop these archives."""
    monkeypatch.setattr(seed, "_check_member", lambda member, seen: None)
    build, _ = HOSTILE[case]
    try:
        seed.unbundle(build())
    except seed.SeedFormatError as exc:
        assert "must hold exactly" not in str(exc)  # noqa: PT017 - the reason must differ
        pytest.fail(f"still refused without the checks: {exc}")


def test_without_the_size_cap_a_bomb_expands(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(seed, "MAX_TAR_BYTES", 10 * 1024 * 1024)
    build, _ = HOSTILE["decompression bomb"]
    with pytest.raises(seed.SeedFormatError) as caught:
        seed.unbundle(build())
    assert "bomb" not in str(caught.value)  # got past the cap, failed later as a non-tar


def test_gnu_tar_made_archive_is_accepted(tmp_path: Path) -> None:
    """What the seed's `tar -czvf message.tar.gz message.sig message.json` produces."""
    (tmp_path / "message.json").write_bytes(MESSAGE)
    (tmp_path / "message.sig").write_bytes(SIGNATURE)
    subprocess.run(
        ["tar", "-czf", "message.tar.gz", "message.sig", "message.json"],
        cwd=tmp_path,
        check=True,
    )
    archive = (tmp_path / "message.tar.gz").read_bytes()
    assert seed.unbundle(archive) == seed.SeedBundle(MESSAGE, SIGNATURE)


def test_our_archive_extracts_with_the_seeds_corrected_tar_command(tmp_path: Path) -> None:
    (tmp_path / "message.tar.gz").write_bytes(seed.bundle(MESSAGE, SIGNATURE))
    subprocess.run(["tar", "-xzf", "message.tar.gz"], cwd=tmp_path, check=True)
    assert (tmp_path / "message.json").read_bytes() == MESSAGE
    assert (tmp_path / "message.sig").read_bytes() == SIGNATURE
