"""Export non-repudiation evidence that a third party checks with openssl and sha512sum."""

from __future__ import annotations

from pathlib import Path

from envelope.unseal import Unsealed


def export_evidence(
    unsealed: Unsealed, evidence_dir: Path, *, sender_public_key: bytes | None = None
) -> list[Path]:
    """Write statement.json, statement.sig, manifest.sha512, the files, sender.pem (if given)
    and VERIFY.txt into ``evidence_dir``; returns the paths written."""
    raise NotImplementedError
