"""The envelope header: constants, encoding, parsing and the key schedule (docs/FORMAT.md).

Pure bytes. Parsing checks every length against its allowed range and returns before any
key operation, so a malformed or absurd header never costs a KMS call.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from envelope.errors import MalformedHeaderError, NotAnEnvelopeError, UnsupportedVersionError

FORMAT_ID = "kms-envelope/v1"
MAGIC = b"kms-envelope/v1\n"
MAGIC_FAMILY = b"kms-envelope/"
MAGIC_SIZE = len(MAGIC)  # 16

LENGTH_SIZE = 2  # every header length field is an unsigned 16-bit big-endian integer
KEY_ID_MIN, KEY_ID_MAX = 1, 512
WRAPPED_KEY_SIZES = (256, 384, 512)  # RSA_2048, RSA_3072, RSA_4096 OAEP ciphertexts
SALT_SIZE = 32
DATA_KEY_SIZE = 32

PAYLOAD_KEY_INFO = b"kms-envelope/v1 payload key"

# At most 2^32 chunks of 64 KiB (2^48 bytes, 256 TiB) under one payload key: 2^44 AES blocks,
# far inside AES-GCM's bound (NIST SP 800-38D; about 2^64 blocks is where it breaks down).
MAX_CHUNKS = 1 << 32

SEED_MESSAGE_SIZE = 512  # the seed: a bare RSA_4096 OAEP ciphertext of a tar.gz

Kind = Literal["envelope", "seed", "unknown"]


@dataclass(frozen=True)
class Header:
    """A parsed header. ``raw`` is the exact bytes read, which the key schedule binds."""

    recipient_key_id: str
    wrapped_data_key: bytes
    salt: bytes
    raw: bytes


def _check_key_id(key_id: str) -> bytes:
    if not isinstance(key_id, str) or not key_id.isascii():
        raise MalformedHeaderError("recipient key id must be printable ASCII without spaces")
    encoded = key_id.encode("ascii")
    if not KEY_ID_MIN <= len(encoded) <= KEY_ID_MAX:
        raise MalformedHeaderError(
            f"recipient key id must be {KEY_ID_MIN}-{KEY_ID_MAX} bytes, got {len(encoded)}"
        )
    if not all(0x21 <= b <= 0x7E for b in encoded):
        raise MalformedHeaderError("recipient key id must be printable ASCII without spaces")
    return encoded


def encode_header(recipient_key_id: str, wrapped_data_key: bytes, salt: bytes) -> bytes:
    key_id = _check_key_id(recipient_key_id)
    if len(wrapped_data_key) not in WRAPPED_KEY_SIZES:
        raise MalformedHeaderError(
            f"wrapped data key must be one of {WRAPPED_KEY_SIZES} bytes, "
            f"got {len(wrapped_data_key)}"
        )
    if len(salt) != SALT_SIZE:
        raise MalformedHeaderError(f"salt must be {SALT_SIZE} bytes, got {len(salt)}")
    return b"".join(
        (
            MAGIC,
            len(key_id).to_bytes(LENGTH_SIZE, "big"),
            key_id,
            len(wrapped_data_key).to_bytes(LENGTH_SIZE, "big"),
            bytes(wrapped_data_key),
            bytes(salt),
        )
    )


def sniff(first_bytes: bytes, total_size: int | None = None) -> Kind:
    """Tell an envelope from a seed-format message by its first bytes.

    An envelope starts with the 16-byte magic; a seed message is exactly 512 bytes of RSA-OAEP
    ciphertext, which starts with the magic with probability 2^-128. ``total_size`` (the file
    size) lets a 512-byte file be recognized as a seed message from its first bytes alone.
    """
    if bytes(first_bytes[:MAGIC_SIZE]) == MAGIC:
        return "envelope"
    size = len(first_bytes) if total_size is None else total_size
    if size == SEED_MESSAGE_SIZE:
        return "seed"
    return "unknown"


def _read_up_to(source: BinaryIO, size: int) -> bytes:
    """Read ``size`` bytes, or fewer only at the end of the input: a pipe or socket returns
    whatever has arrived, which is not an end."""
    data = bytearray()
    while len(data) < size:
        piece = source.read(size - len(data))
        if not piece:
            break
        data += piece
    return bytes(data)


def _read_exact(source: BinaryIO, size: int, field: str) -> bytes:
    data = _read_up_to(source, size)
    if len(data) != size:
        raise MalformedHeaderError(
            f"header truncated in {field}: needed {size} bytes, got {len(data)}"
        )
    return data


def read_header(source: BinaryIO) -> Header:
    """Read and validate the header; consumes exactly the header bytes."""
    magic = _read_up_to(source, MAGIC_SIZE)
    if magic != MAGIC:
        if not magic:
            raise NotAnEnvelopeError("empty")
        if magic.startswith(MAGIC_FAMILY) and magic.endswith(b"\n"):
            raise UnsupportedVersionError(
                f"unsupported envelope version {magic.decode('ascii', 'replace').strip()!r}; "
                f"this reader implements {FORMAT_ID}"
            )
        rest = _read_up_to(source, SEED_MESSAGE_SIZE + 1 - len(magic))
        kind = sniff(magic + rest, len(magic) + len(rest))
        raise NotAnEnvelopeError("seed" if kind == "seed" else "unknown")
    key_id_len = int.from_bytes(_read_exact(source, LENGTH_SIZE, "recipient key id length"))
    if not KEY_ID_MIN <= key_id_len <= KEY_ID_MAX:
        raise MalformedHeaderError(
            f"recipient key id length must be {KEY_ID_MIN}-{KEY_ID_MAX}, got {key_id_len}"
        )
    key_id_raw = _read_exact(source, key_id_len, "recipient key id")
    if not all(0x21 <= b <= 0x7E for b in key_id_raw):
        raise MalformedHeaderError("recipient key id must be printable ASCII without spaces")
    wrapped_len = int.from_bytes(_read_exact(source, LENGTH_SIZE, "wrapped data key length"))
    if wrapped_len not in WRAPPED_KEY_SIZES:
        raise MalformedHeaderError(
            f"wrapped data key length must be one of {WRAPPED_KEY_SIZES}, got {wrapped_len}"
        )
    wrapped = _read_exact(source, wrapped_len, "wrapped data key")
    salt = _read_exact(source, SALT_SIZE, "salt")
    raw = b"".join(
        (
            MAGIC,
            key_id_len.to_bytes(LENGTH_SIZE, "big"),
            key_id_raw,
            wrapped_len.to_bytes(LENGTH_SIZE, "big"),
            wrapped,
            salt,
        )
    )
    return Header(key_id_raw.decode("ascii"), wrapped, salt, raw)


def derive_payload_key(data_key: bytes, header: bytes, salt: bytes) -> bytes:
    """payload key = HKDF-SHA-256(IKM=data key, salt=salt, info=label || SHA-256(header))."""
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"data key must be {DATA_KEY_SIZE} bytes, got {len(data_key)}")
    info = PAYLOAD_KEY_INFO + hashlib.sha256(header).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(data_key)
