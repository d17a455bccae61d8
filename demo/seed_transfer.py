"""The seed format on files: sign, tar.gz, one KMS Encrypt; and back, safely."""

from __future__ import annotations

from pathlib import Path

from demo import kms, seed
from demo.aws import AwsSession
from demo.errors import AuthenticationError, InputRefusedError, OversizedError, WrongFormatError
from demo.exchange import Received, Sent
from demo.files import read_input, staged_outputs
from demo.stack import Resources


def send_seed(
    sender: AwsSession, resources: Resources, message_path: Path, output: Path, *, force: bool
) -> Sent:
    """Sign message.json, tar.gz it with message.sig, one KMS Encrypt: the seed's steps."""
    if message_path.is_file() and message_path.stat().st_size > seed.MAX_MESSAGE_BYTES:
        too_large = seed.SeedTooLargeError(message_path.stat().st_size, "the message alone is")
        raise OversizedError(str(too_large))
    message = read_input(message_path, limit=seed.MAX_MESSAGE_BYTES)
    try:
        seed.precheck(message)
    except seed.SeedFormatError as exc:
        raise OversizedError(str(exc)) from None
    with staged_outputs(force=force) as outputs:
        outputs.check_free(output)
        signature = kms.sign(sender, resources.signing_key, message)
        try:
            archive = seed.check_fits(seed.bundle(message, signature))
        except seed.SeedFormatError as exc:
            raise OversizedError(str(exc)) from None
        ciphertext = kms.encrypt(sender, resources.encryption_key, archive)
        outputs.write(output, ciphertext)
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


def open_seed(receiver: AwsSession, resources: Resources, ciphertext: bytes) -> seed.SeedBundle:
    """Decrypt, unpack safely and verify with KMS; returns only a verified bundle."""
    if len(ciphertext) != seed.SEED_CIPHERTEXT_SIZE:
        raise WrongFormatError(
            f"a seed-format message is exactly {seed.SEED_CIPHERTEXT_SIZE} bytes, "
            f"got {len(ciphertext)}"
        )
    archive = kms.decrypt(receiver, resources.encryption_key, ciphertext)
    try:
        bundle = seed.unbundle(archive)
    except seed.SeedFormatError as exc:
        raise InputRefusedError(f"refused: {exc}") from None
    if not kms.verify(receiver, resources.signing_key, bundle.message, bundle.signature):
        raise AuthenticationError()
    return bundle


def receive_seed(
    receiver: AwsSession, resources: Resources, source: Path, out_dir: Path, *, force: bool
) -> Received:
    ciphertext = read_input(source, limit=seed.SEED_CIPHERTEXT_SIZE + 1)
    with staged_outputs(force=force) as outputs:
        message_out = out_dir / seed.MESSAGE_MEMBER
        signature_out = out_dir / seed.SIGNATURE_MEMBER
        outputs.check_free(message_out)
        outputs.check_free(signature_out)
        bundle = open_seed(receiver, resources, ciphertext)
        outputs.write(message_out, bundle.message)
        outputs.write(signature_out, bundle.signature)
    return Received(
        format="seed",
        source=source,
        outputs=(message_out, signature_out),
        bytes_in=len(ciphertext),
        bytes_out=len(bundle.message),
        signed=bundle.message,
        signature=bundle.signature,
        files=((seed.MESSAGE_MEMBER, message_out, len(bundle.message)),),
        sender_key_id=resources.signing_key_arn or resources.signing_key,
    )
