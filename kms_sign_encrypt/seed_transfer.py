"""The seed format on files: sign, tar.gz, one KMS Encrypt; and back, safely.

Each step of the blog post is one function, so `run` can time and print them one by one and
`send` / `receive` chain them; both share the same checks and the same error translation.
"""

from __future__ import annotations

from pathlib import Path

from kms_sign_encrypt import kms, seed
from kms_sign_encrypt.aws import AwsSession
from kms_sign_encrypt.errors import (
    AuthenticationError,
    OversizedError,
    SeedNotAcceptedError,
    WrongFormatError,
)
from kms_sign_encrypt.exchange import Received, Sent
from kms_sign_encrypt.files import check_free, read_input, staged_outputs
from kms_sign_encrypt.stack import Resources

__all__ = [  # public as ``kms_sign_encrypt.seed_transfer`` (docs/LIBRARY.md, "Step by step")
    "bundle_and_encrypt",
    "decrypt_and_unbundle",
    "receive_seed",
    "received",
    "send_seed",
    "sent",
    "sign_message",
    "verify_bundle",
    "write_verified",
]


def sign_message(sender: AwsSession, resources: Resources, message: bytes) -> bytes:
    """KMS Sign of message.json, after refusing what cannot fit the format at all."""
    try:
        seed.precheck(message)
    except seed.StatementLikeMessageError as exc:
        raise WrongFormatError(str(exc), setting="format") from None
    except seed.SeedFormatError as exc:
        raise OversizedError(str(exc), setting="format") from None
    return kms.sign(sender, resources.signing_key, message)


def bundle_and_encrypt(
    sender: AwsSession, resources: Resources, message: bytes, signature: bytes
) -> tuple[bytes, bytes]:
    """The tar.gz of message.sig + message.json, and its one KMS Encrypt: (archive, ciphertext)."""
    try:
        archive = seed.check_fits(seed.bundle(message, signature))
    except seed.SeedFormatError as exc:
        raise OversizedError(str(exc), setting="format") from None
    return archive, kms.encrypt(sender, resources.encryption_key, archive)


def decrypt_and_unbundle(
    receiver: AwsSession, resources: Resources, ciphertext: bytes
) -> seed.SeedBundle:
    """KMS Decrypt and safe unpacking in memory. NOT yet authenticated: verify next.

    Every failure after the Decrypt is the one opaque ``AuthenticationError``, the same as a
    ciphertext that does not decrypt: anyone can encrypt to the receiver, so a precise reason
    ("not a gzip stream") would make the receiver an oracle on its own key (issue 9). That
    includes a message.json that starts like an envelope statement (cross-protocol use).
    """
    if len(ciphertext) != seed.SEED_CIPHERTEXT_SIZE:
        raise WrongFormatError(
            f"a seed-format message is exactly {seed.SEED_CIPHERTEXT_SIZE} bytes, "
            f"got {len(ciphertext)}"
        )
    archive = kms.decrypt(receiver, resources.encryption_key, ciphertext)
    try:
        return seed.unbundle(archive)
    except seed.SeedFormatError:
        raise AuthenticationError() from None


def verify_bundle(receiver: AwsSession, resources: Resources, bundle: seed.SeedBundle) -> None:
    """KMS Verify of message.json; the one opaque error if the signature does not hold."""
    if not kms.verify(receiver, resources.signing_key, bundle.message, bundle.signature):
        raise AuthenticationError()


def sent(
    message_path: Path, output: Path, message: bytes, signature: bytes, ciphertext: bytes
) -> Sent:
    return Sent(
        format="seed",
        inputs=(message_path,),
        output=output,
        bytes_in=len(message),
        bytes_out=len(ciphertext),
        signed=message,
        signature=signature,
        ciphertext_for_checks=ciphertext,
    )


def received(
    resources: Resources, source: Path, out_dir: Path, ciphertext: bytes, bundle: seed.SeedBundle
) -> Received:
    message_out = out_dir / seed.MESSAGE_MEMBER
    return Received(
        format="seed",
        source=source,
        outputs=(message_out, out_dir / seed.SIGNATURE_MEMBER),
        bytes_in=len(ciphertext),
        bytes_out=len(bundle.message),
        signed=bundle.message,
        signature=bundle.signature,
        files=((seed.MESSAGE_MEMBER, message_out, len(bundle.message)),),
        sender_key_id=resources.signing_key_arn or resources.signing_key,
    )


def write_verified(out_dir: Path, bundle: seed.SeedBundle, *, force: bool) -> tuple[Path, Path]:
    """message.json and message.sig, both or neither. Call only after ``verify_bundle``."""
    message_out = out_dir / seed.MESSAGE_MEMBER
    signature_out = out_dir / seed.SIGNATURE_MEMBER
    with staged_outputs(force=force) as outputs:
        outputs.write(message_out, bundle.message)
        outputs.write(signature_out, bundle.signature)
    return message_out, signature_out


def send_seed(
    sender: AwsSession, resources: Resources, message_path: Path, output: Path, *, force: bool
) -> Sent:
    """Sign message.json, tar.gz it with message.sig, one KMS Encrypt: the seed's steps."""
    if message_path.is_file() and message_path.stat().st_size > seed.MAX_MESSAGE_BYTES:
        too_large = seed.SeedTooLargeError(message_path.stat().st_size, "the message alone is")
        raise OversizedError(str(too_large), setting="format")
    message = read_input(message_path, limit=seed.MAX_MESSAGE_BYTES)
    check_free(output, force=force)
    with staged_outputs(force=force) as outputs:
        signature = sign_message(sender, resources, message)
        _, ciphertext = bundle_and_encrypt(sender, resources, message, signature)
        outputs.write(output, ciphertext)
    return sent(message_path, output, message, signature, ciphertext)


def open_seed(receiver: AwsSession, resources: Resources, ciphertext: bytes) -> seed.SeedBundle:
    """Decrypt, unpack safely and verify with KMS; returns only a verified bundle."""
    bundle = decrypt_and_unbundle(receiver, resources, ciphertext)
    verify_bundle(receiver, resources, bundle)
    return bundle


def receive_seed(
    receiver: AwsSession,
    resources: Resources,
    source: Path,
    out_dir: Path,
    *,
    force: bool,
    accept_seed_format: bool = False,
) -> Received:
    """Decrypt, verify and write message.json + message.sig. The seed format binds no
    recipient, so the caller must say it accepts that: ``accept_seed_format=True``."""
    if not accept_seed_format:
        raise SeedNotAcceptedError(
            "the seed format binds no recipient (anyone holding a seed message signed by the "
            "sender can re-encrypt it to you): accept the seed format explicitly "
            "to read it anyway",
            setting="format",
        )
    ciphertext = read_input(source, limit=seed.SEED_CIPHERTEXT_SIZE + 1)
    for name in seed.MEMBER_ORDER:  # an existing output fails before any KMS call
        check_free(out_dir / name, force=force)
    bundle = open_seed(receiver, resources, ciphertext)
    write_verified(out_dir, bundle, force=force)
    return received(resources, source, out_dir, ciphertext, bundle)
