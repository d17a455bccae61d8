"""Receiver side: open an envelope; nothing is written until everything has verified."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from envelope.keys import KeyUnwrapper, SignatureVerifier
from envelope.statement import Statement


@dataclass(frozen=True)
class ReceivedFile:
    name: str
    path: Path
    size: int
    sha512: str


@dataclass(frozen=True)
class Unsealed:
    statement: Statement
    statement_bytes: bytes
    signature: bytes
    manifest: bytes
    files: tuple[ReceivedFile, ...]


def unseal(
    source: Path,
    out_dir: Path,
    *,
    unwrapper: KeyUnwrapper,
    verifier: SignatureVerifier,
) -> Unsealed:
    """Decrypt and verify ``source`` into ``out_dir``.

    Checks, in order: header (no KMS call), the header's recipient equals ``unwrapper.key_id``,
    1 unwrap, every chunk and the final flag, the statement names ``unwrapper.key_id`` as
    recipient and ``verifier.key_id`` as sender, the manifest digest, 1 verify. Only then are
    the files renamed into ``out_dir``. Raises ``EnvelopeUsageError`` subclasses for misuse and
    ``EnvelopeAuthenticationError`` for anything that could be tampering.
    """
    raise NotImplementedError
