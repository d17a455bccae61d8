"""The seed format: message.json + message.sig as tar.gz, encrypted by one KMS Encrypt.

This is the blog post's format, kept so that messages made with its AWS CLI steps can be
received, and so the demo can write messages those steps read. RSA_4096 with
RSAES_OAEP_SHA_256 encrypts at most 446 bytes, so the whole archive must fit in 446 bytes; a
larger message needs the envelope format.

The decrypted archive is not authenticated until the signature verifies (anyone allowed to
Encrypt can make one), so unpacking trusts nothing: the archive must be exactly one gzip
stream of at most ``MAX_TAR_BYTES``, holding exactly the two expected regular-file members
within their size caps, and every member must also pass ``tarfile``'s ``data`` filter. Members
are read into memory; nothing is extracted to disk by ``tarfile``.
"""

from __future__ import annotations

import gzip
import io
import tarfile
import zlib
from dataclasses import dataclass

from envelope.keys import MAX_SIGNED_MESSAGE
from envelope.statement import is_statement_like

SEED_PLAINTEXT_LIMIT = 446  # RSA_4096 OAEP with SHA-256: 512 - 2 * 32 - 2 bytes
SEED_CIPHERTEXT_SIZE = 512  # RSA_4096: the ciphertext is always the modulus size
MESSAGE_MEMBER = "message.json"
SIGNATURE_MEMBER = "message.sig"
# The seed signs message.json RAW, and KMS signs at most 4096 bytes RAW.
MAX_MESSAGE_BYTES = MAX_SIGNED_MESSAGE
# A DER ECDSA P-521 signature: SEQUENCE of two INTEGERs of at most 66 bytes each.
MAX_SIGNATURE_BYTES = 139
# The tar stream of two such members, padded to tar's 10240-byte record, is far below this;
# the cap stops a decompression bomb (gzip reaches about 1000:1).
MAX_TAR_BYTES = 64 * 1024
MEMBER_CAPS = {MESSAGE_MEMBER: MAX_MESSAGE_BYTES, SIGNATURE_MEMBER: MAX_SIGNATURE_BYTES}
# The seed's `tar -czvf message.tar.gz message.sig message.json` order.
MEMBER_ORDER = (SIGNATURE_MEMBER, MESSAGE_MEMBER)
_FILTER_DESTINATION = "/nonexistent/seed-extraction"

__all__ = [  # public as ``kms_sign_encrypt.seed`` (docs/LIBRARY.md, "Step by step")
    "MAX_MESSAGE_BYTES",
    "MESSAGE_MEMBER",
    "SEED_CIPHERTEXT_SIZE",
    "SEED_PLAINTEXT_LIMIT",
    "SIGNATURE_MEMBER",
    "SeedBundle",
    "SeedFormatError",
    "SeedTooLargeError",
    "bundle",
    "unbundle",
]


class SeedFormatError(ValueError):
    """A seed-format archive that is malformed or unsafe; the message says what and why."""


class SeedTooLargeError(SeedFormatError):
    """The archive does not fit one RSA-OAEP Encrypt."""

    def __init__(self, size: int, what: str = "message and signature make a tar.gz of") -> None:
        self.size = size
        super().__init__(
            f"the seed format holds at most {SEED_PLAINTEXT_LIMIT} bytes of tar.gz (one "
            f"RSA_4096 RSAES_OAEP_SHA_256 Encrypt), but {what} {size} bytes: use "
            "the envelope format, which handles any size"
        )


@dataclass(frozen=True)
class SeedBundle:
    message: bytes
    signature: bytes


def bundle(message: bytes, signature: bytes) -> bytes:
    """The tar.gz the seed's `tar -czvf message.tar.gz message.sig message.json` makes.

    Deterministic (mtime 0, no owner names) so the same input gives the same bytes.
    """
    if is_statement_like(message):
        raise StatementLikeMessageError()
    if len(message) > MAX_MESSAGE_BYTES:
        raise SeedFormatError(
            f"{MESSAGE_MEMBER} must be at most {MAX_MESSAGE_BYTES} bytes (KMS RAW signing), "
            f"got {len(message)}: use the envelope format"
        )
    if len(signature) > MAX_SIGNATURE_BYTES:
        raise SeedFormatError(
            f"{SIGNATURE_MEMBER} must be at most {MAX_SIGNATURE_BYTES} bytes, got {len(signature)}"
        )
    contents = {MESSAGE_MEMBER: message, SIGNATURE_MEMBER: signature}
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for name in MEMBER_ORDER:
            info = tarfile.TarInfo(name)
            info.size = len(contents[name])
            info.mode = 0o644
            info.mtime = 0
            tar.addfile(info, io.BytesIO(contents[name]))
    return gzip.compress(raw.getvalue(), compresslevel=9, mtime=0)


def check_fits(archive: bytes) -> bytes:
    if len(archive) > SEED_PLAINTEXT_LIMIT:
        raise SeedTooLargeError(len(archive))
    return archive


class StatementLikeMessageError(SeedFormatError):
    """message.json starts like an envelope statement: one signing key signs both formats, so
    a seed message may never be readable as a statement (docs/SECURITY.md)."""

    def __init__(self) -> None:
        super().__init__(
            f"{MESSAGE_MEMBER} starts like a kms-envelope/v1 statement (a '{{', a newline, "
            'two spaces, "bytes"); the seed format refuses such messages so that the '
            "sender's signatures in one format mean nothing in the other: reformat the "
            "message (for example, another first member) or use the envelope format"
        )


def precheck(message: bytes) -> None:
    """Refuse before any KMS call what cannot fit even with an empty signature, and a message
    that starts like an envelope statement (cross-protocol separation)."""
    if is_statement_like(message):
        raise StatementLikeMessageError()
    if len(message) > MAX_MESSAGE_BYTES:
        raise SeedTooLargeError(len(message), "the message alone is")
    archive = bundle(message, b"")
    if len(archive) > SEED_PLAINTEXT_LIMIT:
        raise SeedTooLargeError(len(archive), "even without its signature the message makes")


def _gunzip(archive: bytes) -> bytes:
    """Exactly one complete gzip stream, decompressed to at most MAX_TAR_BYTES."""
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(archive, MAX_TAR_BYTES + 1)
    except zlib.error:
        raise SeedFormatError("the decrypted seed message is not a gzip stream") from None
    if len(data) > MAX_TAR_BYTES:
        raise SeedFormatError(
            f"the decrypted archive expands beyond {MAX_TAR_BYTES} bytes: refused as a "
            "decompression bomb"
        )
    if not inflater.eof:
        raise SeedFormatError("the decrypted gzip stream is truncated")
    if inflater.unused_data:
        raise SeedFormatError("the decrypted gzip stream is followed by trailing bytes")
    return data


def _check_member(member: tarfile.TarInfo, seen: set[str]) -> None:
    shown = member.name[:80]
    try:
        filtered = tarfile.data_filter(member, _FILTER_DESTINATION)
    except tarfile.FilterError as exc:
        raise SeedFormatError(f"unsafe archive member {shown!r}: {exc}") from None
    if filtered is None or filtered.name != member.name:
        # The filter strips a leading "/" rather than refusing; a seed archive never has one.
        raise SeedFormatError(f"unsafe archive member {shown!r}: absolute path")
    if member.name not in MEMBER_CAPS:
        raise SeedFormatError(
            f"unexpected archive member {shown!r}: a seed message holds only "
            f"{MESSAGE_MEMBER} and {SIGNATURE_MEMBER}"
        )
    if not member.isreg() or member.issparse():
        raise SeedFormatError(f"archive member {shown!r} must be a regular file")
    if member.name in seen:
        raise SeedFormatError(f"archive member {shown!r} appears twice")
    cap = MEMBER_CAPS[member.name]
    if member.size > cap:
        raise SeedFormatError(
            f"archive member {shown!r} is {member.size} bytes, over its cap of {cap}"
        )


def unbundle(archive: bytes) -> SeedBundle:
    """Message and signature from a decrypted seed archive, checked member by member."""
    check_fits(archive)
    data = _gunzip(archive)
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:") as tar:
            while (member := tar.next()) is not None:
                _check_member(member, set(found))
                extracted = tar.extractfile(member)
                content = extracted.read(member.size + 1) if extracted else b""
                if len(content) != member.size:
                    raise SeedFormatError(f"archive member {member.name!r} is truncated")
                found[member.name] = content
    except tarfile.TarError as exc:
        raise SeedFormatError(
            f"the decrypted seed message is not a valid tar archive: {exc}"
        ) from None
    missing = [name for name in MEMBER_ORDER if name not in found]
    if missing:
        raise SeedFormatError(
            f"the seed archive lacks {' and '.join(missing)}: it must hold exactly "
            f"{MESSAGE_MEMBER} and {SIGNATURE_MEMBER}"
        )
    if is_statement_like(found[MESSAGE_MEMBER]):
        raise StatementLikeMessageError()
    return SeedBundle(message=found[MESSAGE_MEMBER], signature=found[SIGNATURE_MEMBER])
