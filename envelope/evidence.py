"""Export non-repudiation evidence that a third party checks with openssl and sha512sum.

The evidence directory holds the files, ``statement.json`` (the exact signed bytes),
``statement.sig`` (the DER ECDSA_SHA_512 signature), ``manifest.sha512`` (whose SHA-512 the
statement names), ``sender.pem`` (if the sender's public key is given) and ``VERIFY.txt``.
No AWS access and none of this project's code are needed to check it.
"""

from __future__ import annotations

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
Evidence for a message sealed in the kms-envelope/v1 format (see docs/FORMAT.md).

1. The sender's key signed statement.json (ECDSA_SHA_512 over the raw bytes):
     openssl dgst -sha512 -verify sender.pem -signature statement.sig statement.json
2. The statement names the manifest's SHA-512 ("manifest_sha512"):
     sha512sum manifest.sha512
3. The manifest names each file's SHA-512:
     sha512sum -c manifest.sha512

sender.pem must be the sender's public key obtained independently (for example, KMS
GetPublicKey for the "sender" key ARN in statement.json, converted with
openssl pkey -pubin -inform DER -in sender.der -out sender.pem).
"""


def export_evidence(
    unsealed: Unsealed, evidence_dir: Path, *, sender_public_key: bytes | None = None
) -> list[Path]:
    """Write the evidence into ``evidence_dir`` (created if missing; existing files are never
    overwritten). Files already in ``evidence_dir`` are not copied again. Returns the paths."""
    evidence_dir = Path(evidence_dir)
    evidence_dir.mkdir(parents=True, exist_ok=True)
    pem = None
    if sender_public_key is not None:
        verifier = PublicKeyVerifier(unsealed.statement.sender, sender_public_key)
        if not verifier.verify(unsealed.statement_bytes, unsealed.signature):
            raise EnvelopeUsageError("sender_public_key does not verify this statement")
        pem = verifier.public_key_pem()
    contents: dict[str, bytes] = {
        STATEMENT_FILE: unsealed.statement_bytes,
        SIGNATURE_FILE: unsealed.signature,
        MANIFEST_FILE: unsealed.manifest,
        INSTRUCTIONS_FILE: INSTRUCTIONS.encode(),
    }
    if pem is not None:
        contents[SENDER_KEY_FILE] = pem
    written: list[Path] = []
    copies = [f for f in unsealed.files if f.path.resolve() != (evidence_dir / f.name).resolve()]
    for name in [*contents, *(f.name for f in copies)]:
        if (evidence_dir / name).exists():
            raise OutputExistsError(f"evidence file {str(evidence_dir / name)!r} already exists")
    for name, data in contents.items():
        path = evidence_dir / name
        with open(path, "xb") as out:
            out.write(data)
        written.append(path)
    for received in copies:
        target = evidence_dir / received.name
        shutil.copyfile(received.path, target)
        written.append(target)
    return written
