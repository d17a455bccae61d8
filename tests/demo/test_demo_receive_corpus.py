"""The bad-input corpus through the real `receive` command: every case gets the exact
documented exit code (3, input refused), exactly one line on stderr, and nothing written.

Header faults get a precise line; everything after the KMS Decrypt gets the one opaque line.
The hostile envelopes are made as an attacker would: encrypted to the deployed receiver key
with its public key alone, carrying inner bytes the real sealer never writes.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

import envelope
from kms_sign_encrypt import kms
from kms_sign_encrypt.aws import CallMetrics, ClientSettings, assume_role, open_caller_session
from kms_sign_encrypt.errors import EXIT_REFUSED
from kms_sign_encrypt_cli.cli import main
from tests.demo.test_demo_cli_errors import OPAQUE, PREFIX, listing
from tests.envelope.envelope_testkit import build_envelope, inner_plaintext
from tests.envelope.test_envelope_corpus import ABSURD_INNER
from tests.envelope.test_envelope_statement_bounds import HOSTILE

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def wrapper(deployed_stack: Any) -> envelope.PublicKeyWrapper:
    """Mallory's tool: the receiver's public key (anyone may hold it)."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in (deployed_stack.env | deployed_stack.party_env).items():
            patch.setenv(name, value)
        caller = open_caller_session(
            profile=deployed_stack.profiles.sender.profile,
            region="us-east-1",
            settings=ClientSettings(),
            metrics=CallMetrics(),
        )
        sender = assume_role(caller, deployed_stack.outputs["SenderRoleArn"], party="sender")
        arn = deployed_stack.outputs["EncryptionKeyArn"]
        return envelope.PublicKeyWrapper(arn, kms.get_public_key(sender, arn).pem())


def _receive(capsys: pytest.CaptureFixture[str], data: bytes, tmp_path: Path) -> str:
    source, out = tmp_path / "in.enc", tmp_path / "out"
    source.write_bytes(data)
    out.mkdir()
    # --no-progress: on a slow machine (over 1 s) the progress line would be a second line
    code = main(["receive", str(source), "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED, err
    assert err.count("\n") == 1, err
    assert err.startswith(PREFIX), err
    assert err.endswith("\n")
    assert listing(out) == []
    return err[len(PREFIX) : -1]


OPAQUE_CASES = {f"inner: {k}": v for k, v in ABSURD_INNER.items()} | {
    f"statement: {k}": inner_plaintext([("a.txt", b"a")], v[:4096], b"s" * 139)
    for k, v in HOSTILE.items()
    if v
}


@pytest.mark.usefixtures("endpoint_env")
@pytest.mark.parametrize("case", sorted(OPAQUE_CASES))
def test_after_decrypt_every_fault_is_the_one_opaque_line(
    wrapper: Any, case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = build_envelope(wrapper.key_id, wrapper, OPAQUE_CASES[case])
    assert _receive(capsys, data, tmp_path) == OPAQUE


@pytest.mark.usefixtures("endpoint_env")
@pytest.mark.parametrize("fault", ["garbage wrapped key", "bit flip", "truncated", "trailing"])
def test_ciphertext_faults_are_the_one_opaque_line(
    wrapper: Any, fault: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inner = inner_plaintext([("a.txt", os.urandom(200_000))], b"{}", b"s" * 8)
    data = bytearray(build_envelope(wrapper.key_id, wrapper, inner))
    header = 16 + 2 + len(wrapper.key_id) + 2
    if fault == "garbage wrapped key":
        data[header : header + 512] = os.urandom(512)
    elif fault == "bit flip":
        data[-100] ^= 1
    elif fault == "truncated":
        del data[-1]
    else:
        data += b"\x00"
    assert _receive(capsys, bytes(data), tmp_path) == OPAQUE


HEADER_CASES = {
    "key id length 0": (b"kms-envelope/v1\n\x00\x00" + os.urandom(600), "recipient key id length"),
    "truncated header": (b"kms-envelope/v1\n\x00\x05arn:a", "header truncated"),
    "a future version": (b"kms-envelope/v9\n" + os.urandom(600), "unsupported envelope version"),
    "not an envelope": (b"PK\x03\x04" + os.urandom(600), "is neither an envelope"),
    "a seed message": (os.urandom(512), "is a seed-format message"),
    "empty": (b"", "is empty"),
}


@pytest.mark.usefixtures("endpoint_env")
@pytest.mark.parametrize("case", sorted(HEADER_CASES))
def test_header_faults_are_one_precise_line(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data, reason = HEADER_CASES[case]
    assert reason in _receive(capsys, data, tmp_path)


@pytest.mark.usefixtures("endpoint_env")
def test_an_envelope_for_another_key_is_one_precise_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = "arn:aws:kms:us-east-1:111122223333:key/aaaaaaaa-1111-2222-3333-444444444444"
    header = envelope.format.encode_header(other, os.urandom(512), os.urandom(32))
    data = header + os.urandom(100)  # rejected on the header alone, before KMS
    assert "this envelope is addressed to key" in _receive(capsys, data, tmp_path)
