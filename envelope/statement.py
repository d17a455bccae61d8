"""The signed statement and the manifest it covers (docs/FORMAT.md, "Statement")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Statement:
    """What the sender signs, RAW, with ECDSA_SHA_512 (at most 4096 bytes as JSON)."""

    format: str
    sender: str  # the sender's signing key ARN
    recipient: str  # the recipient's encryption key ARN
    created: str  # RFC 3339 UTC, seconds precision, e.g. "2026-11-28T22:00:00Z"
    files: int
    bytes: int  # total plaintext bytes over all files
    manifest_sha512: str  # lowercase hex SHA-512 of the manifest (sha512sum -c format)
