"""The envelope header: constants, encoding, parsing and the key schedule (docs/FORMAT.md).

Pure bytes. Parsing checks every length against its allowed range and returns before any
key operation, so a malformed or absurd header never costs a KMS call.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import BinaryIO, Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from envelope.errors import MalformedHeaderError, NotAnEnvelopeError, UnsupportedVersionError
from envelope.key_ids import key_id_problem

FORMAT_ID = "kms-envelope/v2"
MAGIC = b"kms-envelope/v2\n"
MAGIC_V1 = b"kms-envelope/v1\n"  # single recipient; refused (docs/FORMAT.md, "Version 1")
MAGIC_FAMILY = b"kms-envelope/"
MAGIC_SIZE = len(MAGIC)  # 16
MAX_RECIPIENTS = 16
"""The most recipients one envelope names: keeps the header under 17 KiB and the statement
within the 4,096 bytes KMS signs RAW (16 ARNs of 75-90 characters take about 1.6 KB)."""

LENGTH_SIZE = 2  # every header length field is an unsigned 16-bit big-endian integer
KEY_ID_MIN, KEY_ID_MAX = 1, 512
WRAPPED_KEY_SIZES = (256, 384, 512)  # RSA_2048, RSA_3072, RSA_4096 OAEP ciphertexts
SALT_SIZE = 32
DATA_KEY_SIZE = 32

PAYLOAD_KEY_INFO = b"kms-envelope/v2 payload key"

# At most 2^32 chunks of 64 KiB (2^48 bytes, 256 TiB) under one payload key: 2^44 AES blocks,
# far inside AES-GCM's bound (NIST SP 800-38D; about 2^64 blocks is where it breaks down).
MAX_CHUNKS = 1 << 32

SEED_MESSAGE_SIZE = 512  # the seed: a bare RSA_4096 OAEP ciphertext of a tar.gz

Kind = Literal["envelope", "seed", "unknown"]


@dataclass(frozen=True)
class Header:
    """A parsed header. ``raw`` is the exact bytes read, which the key schedule binds.

    ``recipients`` is ``(key id, wrapped data key)`` for each recipient, in strictly
    ascending key id order (no duplicates).
    """

    recipients: tuple[tuple[str, bytes], ...]
    salt: bytes
    raw: bytes

    @property
    def recipient_key_ids(self) -> tuple[str, ...]:
        return tuple(key_id for key_id, _ in self.recipients)

    @property
    def recipient_key_id(self) -> str:
        """The first recipient's key id (the only one in a single-recipient envelope)."""
        return self.recipients[0][0]

    @property
    def wrapped_data_key(self) -> bytes:
        """The first recipient's wrapped data key (the only one for a single recipient)."""
        return self.recipients[0][1]

    def wrapped_for(self, key_id: str) -> bytes | None:
        """The data key wrapped for ``key_id``, or None if it is not a recipient."""
        return dict(self.recipients).get(key_id)


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
    problem = key_id_problem(key_id)
    if problem is not None:
        raise MalformedHeaderError(f"recipient key id {problem}")
    return encoded


def _entry(key_id: str, wrapped_data_key: bytes) -> bytes:
    encoded = _check_key_id(key_id)
    if len(wrapped_data_key) not in WRAPPED_KEY_SIZES:
        raise MalformedHeaderError(
            f"wrapped data key must be one of {WRAPPED_KEY_SIZES} bytes, "
            f"got {len(wrapped_data_key)}"
        )
    return b"".join(
        (
            len(encoded).to_bytes(LENGTH_SIZE, "big"),
            encoded,
            len(wrapped_data_key).to_bytes(LENGTH_SIZE, "big"),
            bytes(wrapped_data_key),
        )
    )


def encode_recipients_header(recipients: Sequence[tuple[str, bytes]], salt: bytes) -> bytes:
    """magic || one entry per recipient, ascending by key id || u16 0 || salt."""
    if not 1 <= len(recipients) <= MAX_RECIPIENTS:
        raise MalformedHeaderError(
            f"a header names 1-{MAX_RECIPIENTS} recipients, got {len(recipients)}"
        )
    ids = [key_id for key_id, _ in recipients]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise MalformedHeaderError("recipient key ids must be unique and in ascending order")
    if len(salt) != SALT_SIZE:
        raise MalformedHeaderError(f"salt must be {SALT_SIZE} bytes, got {len(salt)}")
    entries = b"".join(_entry(key_id, wrapped) for key_id, wrapped in recipients)
    return MAGIC + entries + (0).to_bytes(LENGTH_SIZE, "big") + bytes(salt)


def encode_header(recipient_key_id: str, wrapped_data_key: bytes, salt: bytes) -> bytes:
    """A single-recipient header (``encode_recipients_header`` with one entry)."""
    return encode_recipients_header([(recipient_key_id, wrapped_data_key)], salt)


def sniff(first_bytes: bytes, total_size: int | None = None) -> Kind:
    """Tell an envelope from a seed-format message by its first bytes.

    An envelope starts with the 16-byte magic; a seed message is exactly 512 bytes of RSA-OAEP
    ciphertext, which starts with the magic with probability 2^-128. ``total_size`` (the file
    size) lets a 512-byte file be recognized as a seed message from its first bytes alone.
    """
    if bytes(first_bytes[:MAGIC_SIZE]) in (MAGIC, MAGIC_V1):
        return "envelope"  # v1 too: ``read_header`` says precisely why it is refused
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
    """Read and validate the header; consumes exactly the header bytes.

    A version 1 header is read to its end (so a malformed one is reported precisely) and
    then refused with ``UnsupportedVersionError``: v1 names one recipient and this reader
    implements only v2 (docs/FORMAT.md, "Version 1").
    """
    magic = _read_up_to(source, MAGIC_SIZE)
    if magic not in (MAGIC, MAGIC_V1):
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
    if magic == MAGIC_V1:
        _read_entry(source, _read_key_id_length(source))
        _read_exact(source, SALT_SIZE, "salt")
        raise UnsupportedVersionError(
            "this is a kms-envelope/v1 envelope (one recipient, no recipient list); this "
            f"reader implements {FORMAT_ID} only: ask the sender to send it again"
        )
    recipients: list[tuple[str, bytes]] = []
    raw = bytearray(MAGIC)
    while True:
        key_id_len = _read_key_id_length(source, allow_end=bool(recipients))
        raw += key_id_len.to_bytes(LENGTH_SIZE, "big")
        if key_id_len == 0:
            break
        if len(recipients) == MAX_RECIPIENTS:
            raise MalformedHeaderError(
                f"the header names more than {MAX_RECIPIENTS} recipients, the format's limit"
            )
        key_id, wrapped, entry = _read_entry(source, key_id_len)
        if recipients and key_id <= recipients[-1][0]:
            raise MalformedHeaderError("recipient key ids must be unique and in ascending order")
        recipients.append((key_id, wrapped))
        raw += entry
    salt = _read_exact(source, SALT_SIZE, "salt")
    return Header(tuple(recipients), salt, bytes(raw + salt))


def _read_key_id_length(source: BinaryIO, allow_end: bool = False) -> int:
    key_id_len = int.from_bytes(_read_exact(source, LENGTH_SIZE, "recipient key id length"))
    if key_id_len == 0 and allow_end:
        return 0
    if not KEY_ID_MIN <= key_id_len <= KEY_ID_MAX:
        raise MalformedHeaderError(
            f"recipient key id length must be {KEY_ID_MIN}-{KEY_ID_MAX}, got {key_id_len}"
        )
    return key_id_len


def _read_entry(source: BinaryIO, key_id_len: int) -> tuple[str, bytes, bytes]:
    """One recipient entry after its key id length: (key id, wrapped key, the bytes read)."""
    key_id_raw = _read_exact(source, key_id_len, "recipient key id")
    if not all(0x21 <= b <= 0x7E for b in key_id_raw):
        raise MalformedHeaderError("recipient key id must be printable ASCII without spaces")
    key_id = key_id_raw.decode("ascii")
    wrapped_len = int.from_bytes(_read_exact(source, LENGTH_SIZE, "wrapped data key length"))
    if wrapped_len not in WRAPPED_KEY_SIZES:
        raise MalformedHeaderError(
            f"wrapped data key length must be one of {WRAPPED_KEY_SIZES}, got {wrapped_len}"
        )
    wrapped = _read_exact(source, wrapped_len, "wrapped data key")
    problem = key_id_problem(key_id)
    if problem is not None:
        raise MalformedHeaderError(f"recipient key id {problem}, got {key_id!r:.80}")
    entry = key_id_raw + wrapped_len.to_bytes(LENGTH_SIZE, "big") + wrapped
    return key_id, wrapped, entry


def derive_payload_key(data_key: bytes, header: bytes, salt: bytes) -> bytes:
    """payload key = HKDF-SHA-256(IKM=data key, salt=salt, info=label || SHA-256(header))."""
    if len(data_key) != DATA_KEY_SIZE:
        raise ValueError(f"data key must be {DATA_KEY_SIZE} bytes, got {len(data_key)}")
    info = PAYLOAD_KEY_INFO + hashlib.sha256(header).digest()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(data_key)
