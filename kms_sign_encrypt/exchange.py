"""What sending and receiving produce, and which format a file is in.

Sending signs as SenderRole and encrypts to the receiver's key; receiving decrypts as
ReceiverRole, verifies, and only then writes anything. Two formats, one module each:

* ``envelope`` (docs/FORMAT.md, ``kms_sign_encrypt.envelope_transfer``): any size, recipient-bound,
  streamed; the default.
* ``seed`` (``kms_sign_encrypt.seed_transfer``): the blog post's tar.gz + one RSA-OAEP
  Encrypt, at most 446 bytes.

``detect`` tells them apart by the first bytes (``envelope.sniff``), before any AWS call.
The seed format binds no recipient (anyone holding a seed message signed by the sender can
re-encrypt it to any receiver), so it is read only when asked for: ``accept_seed=True``
(``accept_seed=True``); otherwise a seed-format file is refused as one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import envelope
from kms_sign_encrypt import seed
from kms_sign_encrypt.errors import SeedNotAcceptedError, UsageError, WrongFormatError
from kms_sign_encrypt.files import opened_input

Format = Literal["envelope", "seed"]
FORMATS: tuple[Format, ...] = ("envelope", "seed")
SNIFF_BYTES = 512 + 1
SEED_BINDS_NO_RECIPIENT = (
    "the seed format binds no recipient: anyone holding a seed message signed by this "
    "sender could have re-encrypted it to you"
)


@dataclass(frozen=True)
class Sent:
    """What one send made. (A frozen record of typed fields: duplicates pairs its shape with
    envelope.sealing's _Job; nothing is shared but the shape.)"""

    format: Format
    inputs: tuple[Path, ...]
    output: Path
    bytes_in: int
    bytes_out: int
    signed: bytes  # what was signed: message.json (seed) or the statement (envelope)
    signature: bytes
    ciphertext_for_checks: bytes  # a real KMS ciphertext: message.enc or the wrapped data key

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "inputs": [str(p) for p in self.inputs],
            "output": str(self.output),
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "signature_bytes": len(self.signature),
        }


@dataclass(frozen=True)
class Received:
    format: Format
    source: Path
    outputs: tuple[Path, ...]
    bytes_in: int
    bytes_out: int
    signed: bytes
    signature: bytes
    files: tuple[tuple[str, Path, int], ...] = field(default=())
    evidence: tuple[Path, ...] = field(default=())
    sender_key_id: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": self.format,
            "source": str(self.source),
            "outputs": [str(p) for p in self.outputs],
            "bytes_in": self.bytes_in,
            "bytes_out": self.bytes_out,
            "signature_bytes": len(self.signature),
            "evidence": [str(p) for p in self.evidence],
            "verified_with": self.sender_key_id,
            "valid": True,
        }


def key_arn(arn: str | None, option: str, alias: str) -> str:
    """The envelope names keys by ARN (it signs them); an alias alone is not enough."""
    if not arn:
        raise UsageError(
            f"the envelope format names keys by ARN, but only {alias!r} is known: give the key "
            "ARN, or the stack or outputs file that has it",
            setting=option,
        )
    return arn


def detect(source: Path, *, accept_seed: bool = False) -> Format:
    """Which format ``source`` is in, from its size and first bytes; refuses anything else,
    and a seed-format message unless ``accept_seed`` (it binds no recipient: a downgrade).

    The input must be a regular file: its type is checked on a non-blocking open, so a FIFO
    with no writer, a device or a socket is refused at once instead of hanging.
    """
    with opened_input(source) as handle:
        size = os.fstat(handle.fileno()).st_size
        head = handle.read(SNIFF_BYTES)
    if size == 0:
        raise WrongFormatError(f"{source} is empty: not an encrypted message")
    kind = envelope.sniff(head, size)
    first_line = head[: len(envelope.MAGIC)]
    if (
        kind != "envelope"
        and first_line.startswith(b"kms-envelope/")
        and first_line.endswith(b"\n")
    ):
        raise WrongFormatError(
            f"{source}: unsupported envelope version "
            f"{first_line.decode('ascii', 'replace').strip()!r}; this reader implements "
            f"{envelope.FORMAT_ID}"
        )
    if kind == "unknown":
        raise WrongFormatError(
            f"{source} is neither an envelope (starts with {envelope.MAGIC!r}) nor a "
            f"seed-format message (exactly {seed.SEED_CIPHERTEXT_SIZE} bytes); it has "
            f"{size} bytes"
        )
    if kind == "seed" and not accept_seed:
        raise SeedNotAcceptedError(
            f"{source} is a seed-format message (a bare {seed.SEED_CIPHERTEXT_SIZE}-byte "
            "RSA-OAEP ciphertext), which binds no recipient and is not read by default: "
            "accept the seed format explicitly if you expect one from this sender",
            setting="format",
        )
    return kind
