"""Export non-repudiation evidence that a third party checks with openssl and sha512sum.

The evidence directory holds the files, ``statement.json`` (the exact signed bytes),
``statement.sig`` (the DER ECDSA_SHA_512 signature), ``manifest.sha512`` (whose SHA-512 the
statement names), ``sender.pem`` (if the sender's public key is given) and ``VERIFY.txt``.
No AWS access and none of this project's code are needed to check it.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from envelope.errors import EnvelopeUsageError, OutputExistsError
from envelope.keys import PublicKeyVerifier
from envelope.unsealing import Unsealed

STATEMENT_FILE = "statement.json"
SIGNATURE_FILE = "statement.sig"
MANIFEST_FILE = "manifest.sha512"
SENDER_KEY_FILE = "sender.pem"
INSTRUCTIONS_FILE = "VERIFY.txt"

INSTRUCTIONS = """\
Evidence for a message sealed in the kms-envelope/v2 format (see docs/FORMAT.md).

1. The sender's key signed statement.json (ECDSA_SHA_512 over the raw bytes):
     openssl dgst -sha512 -verify sender.pem -signature statement.sig statement.json
2. The statement names the manifest's SHA-512 ("manifest_sha512"):
     sha512sum manifest.sha512
   or, in one step that prints "manifest OK":
     grep -qF "\\"manifest_sha512\\": \\"$(sha512sum manifest.sha512 | cut -c1-128)\\"" \\
       statement.json && echo manifest OK
3. The manifest names each file's SHA-512:
     sha512sum -c manifest.sha512
4. Read what was signed: "sender" is the signing key id, "recipients" every encryption key
   the files were sent to (a key id is a KMS key ARN, or sha256:<hex> = the SHA-256 of the
   key's SubjectPublicKeyInfo DER), "created" the sender's own claim of the time:
     cat statement.json

sender.pem must be the sender's public key obtained independently (for example, KMS
GetPublicKey for the "sender" key ARN in statement.json, converted with
openssl pkey -pubin -inform DER -in sender.der -out sender.pem). For a sha256: sender,
openssl pkey -pubin -in sender.pem -outform DER | sha256sum prints its fingerprint.
"""


EVIDENCE_NAMES = frozenset(
    {STATEMENT_FILE, SIGNATURE_FILE, MANIFEST_FILE, SENDER_KEY_FILE, INSTRUCTIONS_FILE}
)
"""Reserved even when a file is not written (no sender key given): a received file with one of
these names would pose as part of the bundle, e.g. a sender's own ``sender.pem``."""

COPY_BLOCK = 1 << 20


FILE_MODE = 0o600  # the evidence holds copies of the received plaintext: as private as they
DIR_MODE = 0o700


def _write_new(path: Path, data: bytes | Path) -> None:
    """Create ``path`` exclusively (O_EXCL: never overwrites, never follows a symlink)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, FILE_MODE)
    except FileExistsError:
        raise OutputExistsError(f"evidence file {str(path)!r} already exists") from None
    with os.fdopen(fd, "wb") as out:
        if isinstance(data, Path):
            with open(data, "rb") as source:
                shutil.copyfileobj(source, out, COPY_BLOCK)
        else:
            out.write(data)


def export_evidence(
    unsealed: Unsealed, evidence_dir: Path, *, sender_public_key: bytes | None = None
) -> list[Path]:
    """Write the evidence into ``evidence_dir`` (created, mode 0700, if missing). Every file
    is created new, mode 0600 like the received files it copies: nothing is overwritten and no
    symlink is followed; on failure the files written so far are removed. Received files
    already in ``evidence_dir`` are not copied again. Returns the paths."""
    evidence_dir = Path(evidence_dir)
    for received in unsealed.files:
        if received.name in EVIDENCE_NAMES:
            raise EnvelopeUsageError(
                f"a received file is named {received.name!r}, a name reserved for the evidence "
                "files; export the evidence by hand"
            )
    pem = None
    if sender_public_key is not None:
        verifier = PublicKeyVerifier(unsealed.statement.sender, sender_public_key)
        if not verifier.verify(unsealed.statement_bytes, unsealed.signature):
            raise EnvelopeUsageError("sender_public_key does not verify this statement")
        pem = verifier.public_key_pem()
    if not evidence_dir.exists():
        evidence_dir.parent.mkdir(parents=True, exist_ok=True)
        evidence_dir.mkdir(mode=DIR_MODE)
    contents: dict[str, bytes | Path] = {
        STATEMENT_FILE: unsealed.statement_bytes,
        SIGNATURE_FILE: unsealed.signature,
        MANIFEST_FILE: unsealed.manifest,
        INSTRUCTIONS_FILE: INSTRUCTIONS.encode(),
    }
    if pem is not None:
        contents[SENDER_KEY_FILE] = pem
    for f in unsealed.files:
        if f.path.resolve() != (evidence_dir / f.name).resolve():
            contents[f.name] = f.path
    for name in contents:
        if os.path.lexists(evidence_dir / name):
            raise OutputExistsError(f"evidence file {str(evidence_dir / name)!r} already exists")
    written: list[Path] = []
    try:
        for name, data in contents.items():
            path = evidence_dir / name
            _write_new(path, data)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise
    return written
