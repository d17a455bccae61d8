"""The partner paths' bad-input corpus (issue 14, "Bad input"): each case through the real
command, with no AWS at all, gets its documented exit code (2 usage, 3 refused), exactly one
line on stderr that says what is wrong, and writes nothing."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from kms_sign_encrypt import PartnerKeys, generate_partner_keys
from kms_sign_encrypt.errors import EXIT_REFUSED, EXIT_USAGE
from kms_sign_encrypt_cli.cli import main
from tests.demo.test_demo_cli_errors import PREFIX
from tests.envelope.envelope_testkit import build_envelope, decrypt_inner

MESSAGE = b'{"message": "bad input"}\n'
OPENSSL = shutil.which("openssl") or "openssl"
PEM, SPKI = serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo


@dataclass(frozen=True)
class Keys:
    alice: PartnerKeys  # the sender
    bob: PartnerKeys  # a recipient
    carol: PartnerKeys  # another recipient
    extra: Path  # a directory of odd key files


def _private(key: object, path: Path) -> Path:
    path.write_bytes(
        key.private_bytes(  # type: ignore[attr-defined]
            PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return path


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    root = tmp_path_factory.mktemp("partner-keys")
    made = {}
    for name in ("alice", "bob", "carol"):
        (root / name).mkdir()
        made[name] = generate_partner_keys(root / name)
    extra = root / "extra"
    extra.mkdir()
    p256 = ec.generate_private_key(ec.SECP256R1())
    _private(p256, extra / "p256.pem")
    (extra / "p256.pub.pem").write_bytes(p256.public_key().public_bytes(PEM, SPKI))
    rsa2048 = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    _private(rsa2048, extra / "rsa2048.pem")
    (extra / "rsa2048.pub.pem").write_bytes(rsa2048.public_key().public_bytes(PEM, SPKI))
    encrypt = ["-aes-256-cbc", "-passout", "pass:secret", "-out", str(extra / "encrypted.pem")]
    subprocess.run(
        [OPENSSL, "pkey", "-in", str(made["alice"].signing_private), *encrypt],
        check=True,
        capture_output=True,
    )
    (extra / "garbage.pem").write_bytes(b"this is not a key\n")
    (extra / "empty-pass.txt").write_bytes(b"\n")
    alice_pub = made["alice"].signing_public.read_bytes()
    bob_pub = made["bob"].signing_public.read_bytes()
    (extra / "two-blocks.pem").write_bytes(alice_pub + bob_pub)
    (extra / "unnamed.trust").write_bytes(alice_pub)
    (extra / "same-name.trust").write_bytes(b"name: a\n" + alice_pub + b"name: a\n" + bob_pub)
    (extra / "junk-line.trust").write_bytes(b"name: a\nsomething else\n" + alice_pub)
    pin = made["bob"].signing_key_id
    (extra / "wrong-pin.pem").write_bytes(f"key-id: {pin}\n".encode() + alice_pub)
    return Keys(made["alice"], made["bob"], made["carol"], extra)


@pytest.fixture
def work(tmp_path: Path, keys: Keys, clean_aws_env: Path) -> Path:
    (tmp_path / "message.json").write_bytes(MESSAGE)
    (tmp_path / "inbox").mkdir()
    args = ["send", str(tmp_path / "message.json"), "-o", str(tmp_path / "good.enc")]
    args += ["--signing-private-key", str(keys.alice.signing_private)]
    args += ["--recipient-public-key", str(keys.bob.encryption_public)]
    args += ["--recipient-public-key", str(keys.carol.encryption_public)]
    assert main(args) == 0
    return tmp_path


def send(keys: Keys, work: Path, *extra: str, signing: Path | None = None) -> list[str]:
    args = ["send", str(work / "message.json"), "-o", str(work / "out.enc")]
    return [*args, "--signing-private-key", str(signing or keys.alice.signing_private), *extra]


def to(path: Path) -> list[str]:
    return ["--recipient-public-key", str(path)]


def receive(keys: Keys, work: Path, *extra: str, private: Path | None = None) -> list[str]:
    args = ["receive", str(work / "good.enc"), "-o", str(work / "inbox")]
    return [*args, "--recipient-private-key", str(private or keys.bob.encryption_private), *extra]


def trust(path: Path) -> list[str]:
    return ["--sender-public-key", str(path)]


Case = Callable[[Keys, Path], list[str]]
CASES: dict[str, tuple[Case, int, str]] = {
    "signing key on the wrong curve (P-256)": (
        lambda k, w: send(k, w, *to(k.bob.encryption_public), signing=k.extra / "p256.pem"),
        EXIT_USAGE,
        "must be on curve P-521",
    ),
    "signing key of the wrong kind (RSA)": (
        lambda k, w: send(k, w, *to(k.bob.encryption_public), signing=k.bob.encryption_private),
        EXIT_USAGE,
        "must be an EC P-521 key",
    ),
    "encrypted signing key without a passphrase option": (
        lambda k, w: send(k, w, *to(k.bob.encryption_public), signing=k.extra / "encrypted.pem"),
        EXIT_USAGE,
        "encrypted; give its passphrase (option --passphrase-file",
    ),
    "empty passphrase file": (
        lambda k, w: send(
            k,
            w,
            *to(k.bob.encryption_public),
            "--passphrase-file",
            str(k.extra / "empty-pass.txt"),
            signing=k.extra / "encrypted.pem",
        ),
        EXIT_USAGE,
        "is empty",
    ),
    "public key where the signing private key is needed": (
        lambda k, w: send(k, w, *to(k.bob.encryption_public), signing=k.alice.signing_public),
        EXIT_USAGE,
        "this is a public key; a private key is needed here (option --signing-private-key)",
    ),
    "private key where a recipient public key is needed": (
        lambda k, w: send(k, w, *to(k.bob.encryption_private)),
        EXIT_USAGE,
        "this is a private key; a public key is needed here (option --recipient-public-key)",
    ),
    "recipient key of the wrong size (RSA-2048)": (
        lambda k, w: send(k, w, *to(k.extra / "rsa2048.pub.pem")),
        EXIT_USAGE,
        "must be RSA-4096, got RSA-2048",
    ),
    "recipient key of the wrong kind (EC)": (
        lambda k, w: send(k, w, *to(k.bob.signing_public)),
        EXIT_USAGE,
        "must be an RSA-4096 key",
    ),
    "not a key at all": (
        lambda k, w: send(k, w, *to(k.extra / "garbage.pem")),
        EXIT_USAGE,
        "holds no PEM key",
    ),
    "duplicate recipients": (
        lambda k, w: send(k, w, *to(k.bob.encryption_public), *to(k.bob.encryption_public)),
        EXIT_USAGE,
        "recipient {bob} is given twice",
    ),
    "more recipients than the maximum": (
        lambda k, w: send(k, w, *(to(k.bob.encryption_public) * 17)),
        EXIT_USAGE,
        "17 recipients, more than the format's maximum of 16",
    ),
    "an empty recipient list": (
        lambda k, w: send(k, w),
        EXIT_USAGE,
        "no recipients: give at least one recipient key",
    ),
    "a recipient KMS key that is not an ARN": (
        lambda k, w: send(k, w, "--recipient-key", "alias/some-key"),
        EXIT_USAGE,
        "must be a KMS key ARN",
    ),
    "partner keys with the seed format": (
        lambda k, w: [*send(k, w, *to(k.bob.encryption_public)), "--format", "seed"],
        EXIT_USAGE,
        "--format envelope",
    ),
    "public key where the recipient private key is needed": (
        lambda k, w: receive(k, w, *trust(k.alice.signing_public), private=k.bob.encryption_public),
        EXIT_USAGE,
        "this is a public key; a private key is needed here (option --recipient-private-key)",
    ),
    "recipient private key of the wrong kind (EC)": (
        lambda k, w: receive(k, w, *trust(k.alice.signing_public), private=k.bob.signing_private),
        EXIT_USAGE,
        "must be an RSA-4096 key",
    ),
    "private key where a sender public key is needed": (
        lambda k, w: receive(k, w, *trust(k.alice.signing_private)),
        EXIT_USAGE,
        "this is a private key; a public key is needed here (option --sender-public-key)",
    ),
    "sender public key on the wrong curve": (
        lambda k, w: receive(k, w, *trust(k.extra / "p256.pub.pem")),
        EXIT_USAGE,
        "must be on curve P-521",
    ),
    "no trusted sender keys": (
        lambda k, w: receive(k, w),
        EXIT_USAGE,
        "needs the trusted sender keys",
    ),
    "two keys in one sender public key file": (
        lambda k, w: receive(k, w, *trust(k.extra / "two-blocks.pem")),
        EXIT_USAGE,
        "holds 2 PEM blocks",
    ),
    "a fingerprint pin that is not the key's": (
        lambda k, w: receive(k, w, *trust(k.extra / "wrong-pin.pem")),
        EXIT_USAGE,
        "is not the key's fingerprint",
    ),
    "a trust file key without a name": (
        lambda k, w: receive(k, w, "--trusted-senders", str(k.extra / "unnamed.trust")),
        EXIT_USAGE,
        "needs a 'name: ...' line",
    ),
    "a trust file with one name twice": (
        lambda k, w: receive(k, w, "--trusted-senders", str(k.extra / "same-name.trust")),
        EXIT_USAGE,
        "both called 'a'",
    ),
    "a trust file line that is neither a field nor PEM": (
        lambda k, w: receive(k, w, "--trusted-senders", str(k.extra / "junk-line.trust")),
        EXIT_USAGE,
        "line 2: expected a PEM block",
    ),
    "an envelope for another recipient's key": (
        lambda k, w: receive(
            k, w, *trust(k.alice.signing_public), private=k.alice.encryption_private
        ),
        EXIT_REFUSED,
        "is addressed to",
    ),
    "a valid envelope signed by an untrusted key": (
        lambda k, w: receive(k, w, *trust(k.carol.signing_public)),
        EXIT_REFUSED,
        "cannot be authenticated",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_bad_input_is_one_line_a_documented_code_and_nothing_written(
    case: str, keys: Keys, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build, expected_code, expected_text = CASES[case]
    capsys.readouterr()
    before = sorted(p.name for p in work.iterdir())
    code = main(build(keys, work))
    err = capsys.readouterr().err
    assert code == expected_code, err
    assert err.count("\n") == 1, err
    assert err.startswith(PREFIX), err
    assert "Traceback" not in err
    assert expected_text.replace("{bob}", keys.bob.encryption_key_id) in err
    assert sorted(p.name for p in work.iterdir()) == before
    assert list((work / "inbox").iterdir()) == []


def test_a_statement_naming_another_recipient_set_than_the_header_is_refused(
    keys: Keys, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bob drops Carol from the header of a Bob+Carol envelope; the signed statement still
    names both: the sets differ, refused (3, the opaque line), nothing written."""
    from envelope.keys import PrivateKeyUnwrapper

    bob = PrivateKeyUnwrapper(None, keys.bob.encryption_private.read_bytes())
    inner = decrypt_inner((work / "good.enc").read_bytes(), bob)
    (work / "good.enc").write_bytes(build_envelope(bob.key_id, bob.wrapper(), inner))
    capsys.readouterr()
    code = main(receive(keys, work, *trust(keys.alice.signing_public)))
    err = capsys.readouterr().err
    assert code == EXIT_REFUSED
    assert err.count("\n") == 1
    assert "cannot be authenticated" in err
    assert list((work / "inbox").iterdir()) == []


def test_several_sender_keys_with_one_file_name_are_told_apart(
    keys: Keys, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--sender-public-key is repeatable: carol/partner-signing.pub.pem and
    alice/partner-signing.pub.pem are both trusted, named partner-signing-1 and -2."""
    capsys.readouterr()
    code = main(
        receive(keys, work, *trust(keys.carol.signing_public), *trust(keys.alice.signing_public))
    )
    out = capsys.readouterr().out
    assert code == 0
    assert f"signed by {keys.alice.signing_key_id} (partner-signing-2)" in out
    assert (work / "inbox" / "message.json").read_bytes() == MESSAGE
