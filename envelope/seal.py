"""Sender side: seal files into one envelope (1 Sign + 1 wrap)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from envelope.keys import KeyWrapper, Signer
from envelope.statement import Statement


@dataclass(frozen=True)
class PlainFile:
    """One input: ``path`` is read; the receiver writes it as ``name`` (a base name)."""

    path: Path
    name: str


@dataclass(frozen=True)
class SealResult:
    statement: Statement
    statement_bytes: bytes
    signature: bytes
    envelope_size: int


def seal(
    files: Sequence[Path | PlainFile],
    destination: Path,
    *,
    signer: Signer,
    wrapper: KeyWrapper,
    created: datetime | None = None,
) -> SealResult:
    """Sign-then-encrypt ``files`` to ``wrapper``'s key into the new file ``destination``."""
    raise NotImplementedError
