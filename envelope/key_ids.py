"""Key ids: how the envelope names a key (docs/FORMAT.md, "Key ids").

A key id is one of exactly two forms, each validated strictly:

* a KMS key ARN, ``arn:<partition>:kms:<region>:<12-digit account>:key/<key id>``, where the
  key id is a UUID or a multi-Region ``mrk-`` id (lowercase hex), for keys held by AWS KMS;
* a fingerprint, ``sha256:`` and 64 lowercase hex digits: the SHA-256 of the key's
  SubjectPublicKeyInfo DER, for a key with no ARN (a partner's own PEM key).

Anything else (an alias, a bare key id, an upper-case fingerprint) is refused, so two
spellings never name one key and a comparison byte for byte is a comparison of keys.
"""

from __future__ import annotations

import hashlib
import re

FINGERPRINT_PREFIX = "sha256:"
KEY_ID_MAX = 512
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_ARN = re.compile(
    rf"arn:aws(?:-[a-z]{{1,16}}){{0,3}}:kms:[a-z]{{2}}(?:-[a-z]{{1,16}}){{1,4}}-[0-9]{{1,2}}"
    rf":[0-9]{{12}}:key/(?:{_UUID}|mrk-[0-9a-f]{{32}})"
)
_FINGERPRINT = re.compile(r"sha256:[0-9a-f]{64}")


def fingerprint(spki_der: bytes) -> str:
    """``sha256:<64 hex>``: the key id of a public key with no ARN (its SPKI DER's SHA-256)."""
    return FINGERPRINT_PREFIX + hashlib.sha256(bytes(spki_der)).hexdigest()


def is_fingerprint(key_id: str) -> bool:
    return isinstance(key_id, str) and _FINGERPRINT.fullmatch(key_id) is not None


def key_id_problem(key_id: object) -> str | None:
    """Why ``key_id`` cannot name a key in an envelope, or None if it can."""
    if not isinstance(key_id, str):
        return f"must be a str, got {type(key_id).__name__}"
    if key_id.isascii() and (_ARN.fullmatch(key_id) or _FINGERPRINT.fullmatch(key_id)):
        return None
    return (
        "must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<key id>) or a "
        "fingerprint sha256:<64 lowercase hex>"
    )


__all__ = ["FINGERPRINT_PREFIX", "fingerprint", "is_fingerprint", "key_id_problem"]
