"""The receiver's cache of sender public keys: hits skip KMS, the files are user-only, and a
file that is not exactly what the cache wrote is ignored (fetched again), never trusted."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from kms_sign_encrypt.public_key_cache import PublicKeyCache, default_directory
from kms_sign_encrypt_cli.cli import main

ARN = "arn:aws:kms:us-east-1:123456789012:key/0987dcba-09fe-87dc-65ba-ab0987654321"
MESSAGE = b'{"order": 7, "item": "cached keys"}\n'


def _der(key: ec.EllipticCurvePrivateKey | None = None) -> bytes:
    key = key or ec.generate_private_key(ec.SECP521R1())
    return key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def cli_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert main([*args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


# -- the cache on its own -------------------------------------------------------------------------


def test_entries_are_user_only_files_in_a_user_only_directory(tmp_path: Path) -> None:
    cache = PublicKeyCache(tmp_path / "cache" / "public-keys")
    der = _der()
    cache.put(ARN, der)
    assert stat.S_IMODE(os.stat(tmp_path / "cache" / "public-keys").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache.entry_path(ARN)).st_mode) == 0o600
    assert PublicKeyCache(cache.directory).get(ARN) == der  # a new process reads the file


def test_the_default_directory_follows_xdg_cache_home(private_cache_home: Path) -> None:
    assert default_directory() == private_cache_home / "kms-sign-encrypt" / "public-keys"


def test_an_entry_expires(tmp_path: Path) -> None:
    now = [1_000_000.0]
    cache = PublicKeyCache(tmp_path / "keys", max_age=900, clock=lambda: now[0])
    cache.put(ARN, _der())
    now[0] += 899
    assert PublicKeyCache(tmp_path / "keys", max_age=900, clock=lambda: now[0]).get(ARN)
    now[0] += 2
    assert PublicKeyCache(tmp_path / "keys", max_age=900, clock=lambda: now[0]).get(ARN) is None
    assert cache.get(ARN) is None  # the memory copy expires too


def test_memory_only_for_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    cache = PublicKeyCache()
    cache.put(ARN, _der())
    assert cache.get(ARN) is not None
    assert list(tmp_path.iterdir()) == []


def _tamper_cases() -> dict[str, Any]:
    def garbage(path: Path) -> None:
        path.write_bytes(b"not json at all")

    def other_arn(path: Path) -> None:
        entry = json.loads(path.read_bytes())
        entry["key_arn"] = ARN.replace("0987dcba", "11111111")
        path.write_text(json.dumps(entry))

    def not_p521(path: Path) -> None:
        entry = json.loads(path.read_bytes())
        p256 = ec.generate_private_key(ec.SECP256R1()).public_key()
        entry["public_key"] = (
            __import__("base64")
            .b64encode(
                p256.public_bytes(
                    serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
            .decode()
        )
        path.write_text(json.dumps(entry))

    def extra_member(path: Path) -> None:
        entry = json.loads(path.read_bytes())
        entry["trusted"] = True
        path.write_text(json.dumps(entry))

    def from_the_future(path: Path) -> None:
        entry = json.loads(path.read_bytes())
        entry["fetched"] += 10 * 365 * 86400  # would never expire
        path.write_text(json.dumps(entry))

    def readable_by_others(path: Path) -> None:
        path.chmod(0o644)

    def writable_by_group(path: Path) -> None:
        path.chmod(0o620)

    def a_symlink(path: Path) -> None:
        real = path.with_name("elsewhere.json")
        path.rename(real)
        path.symlink_to(real)

    def loose_directory(path: Path) -> None:
        path.parent.chmod(0o755)

    return {
        f.__name__: f
        for f in (
            garbage,
            other_arn,
            not_p521,
            extra_member,
            from_the_future,
            readable_by_others,
            writable_by_group,
            a_symlink,
            loose_directory,
        )
    }


@pytest.mark.parametrize("tamper", sorted(_tamper_cases()))
def test_a_tampered_or_exposed_entry_is_ignored(tmp_path: Path, tamper: str) -> None:
    cache = PublicKeyCache(tmp_path / "keys")
    cache.put(ARN, _der())
    _tamper_cases()[tamper](cache.entry_path(ARN))
    assert PublicKeyCache(tmp_path / "keys").get(ARN) is None


def test_an_ignored_entry_is_replaced_by_the_next_fetch(tmp_path: Path) -> None:
    cache = PublicKeyCache(tmp_path / "keys")
    cache.put(ARN, _der())
    cache.entry_path(ARN).write_bytes(b"{")
    der = _der()
    PublicKeyCache(tmp_path / "keys").put(ARN, der)
    assert PublicKeyCache(tmp_path / "keys").get(ARN) == der
    assert stat.S_IMODE(os.stat(cache.entry_path(ARN)).st_mode) == 0o600


# -- the receiver, against the local endpoint ----------------------------------------------------


@pytest.fixture
def sent(tmp_path: Path, capsys: pytest.CaptureFixture[str], endpoint_env: Any) -> Path:
    (tmp_path / "order.json").write_bytes(MESSAGE)
    cli_json(capsys, "send", str(tmp_path / "order.json"), "-o", str(tmp_path / "m.enc"))
    return tmp_path / "m.enc"


def _receive(capsys: pytest.CaptureFixture[str], message: Path, name: str, *extra: str) -> Any:
    out = message.parent / name
    out.mkdir()
    return cli_json(capsys, "receive", str(message), "-o", str(out), *extra)


def test_a_cache_hit_costs_no_get_public_key_and_no_verify(
    sent: Path, capsys: pytest.CaptureFixture[str], private_cache_home: Path
) -> None:
    first = _receive(capsys, sent, "first")
    assert first["calls"].get("kms:GetPublicKey") == 1
    assert "kms:Verify" not in first["calls"]
    second = _receive(capsys, sent, "second")
    assert second["calls"] == {
        "cloudformation:DescribeStacks": 1,
        "kms:Decrypt": 1,
        "sts:AssumeRole": 2,  # the receiver workload's profile hop, then ReceiverRole
    }
    assert (sent.parent / "second" / "order.json").read_bytes() == MESSAGE
    # The evidence still carries the sender's public key, from the cache.
    assert (
        (sent.parent / "second" / "evidence" / "sender.pem")
        .read_bytes()
        .startswith(b"-----BEGIN PUBLIC KEY-----")
    )
    directory = private_cache_home / "kms-sign-encrypt" / "public-keys"
    (entry,) = directory.iterdir()
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(entry).st_mode) == 0o600


def test_no_cache_verifies_with_kms_and_writes_no_cache(
    sent: Path, capsys: pytest.CaptureFixture[str], private_cache_home: Path
) -> None:
    for name in ("first", "second"):
        received = _receive(capsys, sent, name, "--no-cache")
        assert received["calls"]["kms:Verify"] == 1
    assert not private_cache_home.exists()


def test_a_cached_key_that_is_not_the_senders_refuses_the_envelope(
    sent: Path, capsys: pytest.CaptureFixture[str], endpoint_env: Any
) -> None:
    """Swap the cached key (same user, valid file): a genuine envelope no longer verifies,
    so the cache is consulted for real and a wrong key fails closed, with nothing written."""
    _receive(capsys, sent, "first")
    arn = endpoint_env.outputs["SigningKeyArn"]
    PublicKeyCache.user_default().put(arn, _der())
    out = sent.parent / "second"
    out.mkdir()
    assert main(["receive", str(sent), "-o", str(out)]) != 0
    assert list(out.iterdir()) == []


def test_a_tampered_cache_file_is_fetched_again_and_the_receive_works(
    sent: Path, capsys: pytest.CaptureFixture[str], private_cache_home: Path
) -> None:
    _receive(capsys, sent, "first")
    (entry,) = (private_cache_home / "kms-sign-encrypt" / "public-keys").iterdir()
    entry.write_bytes(b'{"format": "something else"}')
    received = _receive(capsys, sent, "second")
    assert received["calls"]["kms:GetPublicKey"] == 1
    assert (sent.parent / "second" / "order.json").read_bytes() == MESSAGE
    assert json.loads(entry.read_bytes())["format"].endswith("/v1")
