"""Sender public keys fetched from KMS, cached by key ARN: in memory, and in a user-only file.

A receiver that has the sender's public key verifies a signature locally, with no KMS call.
``CachingVerifier`` (an ``envelope.keys.SignatureVerifier``) takes the key from the cache, or
fetches it with GetPublicKey in a background thread started at once (so the fetch overlaps
the Decrypt of the data key), checks it is the expected ECC_NIST_P521 signing key and stores
it. Only if GetPublicKey is refused does it use KMS Verify, as before.

The file store is ``$XDG_CACHE_HOME/kms-sign-encrypt/public-keys`` (else ``~/.cache/...``):
the directory mode 0700, each entry mode 0600, both owned by this user and checked on every
read; an entry that fails any check (mode, owner, symlink, size, JSON, ARN, key type, age)
is ignored and fetched again. Entries expire after ``DEFAULT_MAX_AGE`` seconds, which bounds
how long a disabled key keeps verifying here. Why this is sound: docs/SECURITY.md, "Caching
the sender's public key".
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path

from envelope.keys import KeyMaterialError, PublicKeyVerifier
from kms_sign_encrypt import kms
from kms_sign_encrypt.aws import AwsSession
from kms_sign_encrypt.errors import AccessDeniedError

DEFAULT_MAX_AGE = 15 * 60
"""Seconds an entry is used before it is fetched again (a disabled key stops verifying then)."""

ENTRY_FORMAT = "kms-sign-encrypt/public-key-cache/v1"
SIGNING_KEY_SPEC = "ECC_NIST_P521"
SIGNING_KEY_USAGE = "SIGN_VERIFY"
MAX_ENTRY_BYTES = 16 * 1024
CLOCK_SKEW = 60.0


def default_directory() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kms-sign-encrypt" / "public-keys"


@dataclass(frozen=True)
class _Entry:
    der: bytes
    fetched: float


class PublicKeyCache:
    """Public keys by key ARN; ``directory=None`` keeps them in memory only (the library)."""

    def __init__(
        self,
        directory: Path | None = None,
        *,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.directory = directory
        self.max_age = max_age
        self._clock = clock
        self._memory: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    @classmethod
    def user_default(cls) -> PublicKeyCache:
        return cls(default_directory())

    def get(self, key_arn: str) -> bytes | None:
        """The cached DER public key of ``key_arn``, or None (absent, expired or refused)."""
        with self._lock:
            entry = self._memory.get(key_arn)
        if entry is None and self.directory is not None:
            entry = self._read_file(key_arn)
        if entry is None or not self._fresh(entry):
            return None
        with self._lock:
            self._memory[key_arn] = entry
        return entry.der

    def put(self, key_arn: str, der: bytes) -> None:
        entry = _Entry(bytes(der), self._clock())
        with self._lock:
            self._memory[key_arn] = entry
        if self.directory is not None:
            self._write_file(key_arn, entry)

    def forget(self, key_arn: str) -> None:
        with self._lock:
            self._memory.pop(key_arn, None)
        if self.directory is not None:
            self.entry_path(key_arn).unlink(missing_ok=True)

    def entry_path(self, key_arn: str) -> Path:
        assert self.directory is not None
        name = hashlib.sha256(key_arn.encode("utf-8")).hexdigest()[:40]
        return self.directory / f"{name}.json"

    # -- the file store --------------------------------------------------------------------------

    def _fresh(self, entry: _Entry) -> bool:
        age = self._clock() - entry.fetched
        return -CLOCK_SKEW <= age <= self.max_age

    def _directory_usable(self, *, create: bool) -> bool:
        assert self.directory is not None
        if create and not self.directory.exists():
            try:
                self.directory.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                self.directory.mkdir(mode=0o700, exist_ok=True)
            except OSError:
                return False
        try:
            info = os.lstat(self.directory)
        except OSError:
            return False
        return (
            stat.S_ISDIR(info.st_mode)
            and info.st_uid == os.getuid()
            and stat.S_IMODE(info.st_mode) & 0o077 == 0
        )

    def _read_file(self, key_arn: str) -> _Entry | None:
        if not self._directory_usable(create=False):
            return None
        try:
            fd = os.open(self.entry_path(key_arn), os.O_RDONLY | os.O_NOFOLLOW)
        except OSError:
            return None
        try:
            info = os.fstat(fd)
            if (
                not stat.S_ISREG(info.st_mode)
                or info.st_uid != os.getuid()
                or stat.S_IMODE(info.st_mode) & 0o077
                or info.st_size > MAX_ENTRY_BYTES
            ):
                return None
            raw = os.read(fd, MAX_ENTRY_BYTES + 1)
        except OSError:
            return None
        finally:
            os.close(fd)
        return _parse_entry(raw, key_arn)

    def _write_file(self, key_arn: str, entry: _Entry) -> None:
        """Atomically replace the entry (0600); a cache that cannot be written is skipped."""
        if not self._directory_usable(create=True):
            return
        assert self.directory is not None
        body = json.dumps(
            {
                "format": ENTRY_FORMAT,
                "key_arn": key_arn,
                "key_spec": SIGNING_KEY_SPEC,
                "key_usage": SIGNING_KEY_USAGE,
                "public_key": base64.b64encode(entry.der).decode("ascii"),
                "fetched": int(entry.fetched),
            },
            sort_keys=True,
        ).encode("ascii")
        try:
            fd, tmp = tempfile.mkstemp(prefix=".entry-", dir=self.directory)  # mode 0600
        except OSError:
            return
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(body)
            os.replace(tmp, self.entry_path(key_arn))
        except OSError:
            Path(tmp).unlink(missing_ok=True)


def _parse_entry(raw: bytes, key_arn: str) -> _Entry | None:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict) or set(data) != {
            "format",
            "key_arn",
            "key_spec",
            "key_usage",
            "public_key",
            "fetched",
        }:
            return None
        if (
            data["format"] != ENTRY_FORMAT
            or data["key_arn"] != key_arn
            or data["key_spec"] != SIGNING_KEY_SPEC
            or data["key_usage"] != SIGNING_KEY_USAGE
            or not isinstance(data["fetched"], int)
            or isinstance(data["fetched"], bool)
        ):
            return None
        der = base64.b64decode(data["public_key"], validate=True)
        PublicKeyVerifier(key_arn, der)  # an ECC_NIST_P521 public key, or KeyMaterialError
    except (ValueError, TypeError, KeyMaterialError):
        return None
    return _Entry(der, float(data["fetched"]))


class CachingVerifier:
    """``envelope.keys.SignatureVerifier``: local verification with the cached or freshly
    fetched public key of ``key_id``; KMS Verify only if GetPublicKey is refused."""

    def __init__(self, session: AwsSession, key: str, key_id: str, cache: PublicKeyCache) -> None:
        self.session = session
        self.key = key
        self.key_id = key_id
        self.cache = cache
        self._future: Future[bytes | None] = Future()
        cached = cache.get(key_id)
        if cached is not None:
            self._future.set_result(cached)
        else:
            session.client("kms")  # create the client here: boto3 sessions are not thread-safe
            threading.Thread(target=self._fetch, name="public-key-fetch", daemon=True).start()

    def _fetch(self) -> None:
        try:
            public = kms.get_public_key(self.session, self.key)
        except AccessDeniedError:
            self._future.set_result(None)  # the policy refuses GetPublicKey: KMS Verify
            return
        except BaseException as exc:
            self._future.set_exception(exc)
            return
        if (
            public.key_id != self.key_id
            or public.key_spec != SIGNING_KEY_SPEC
            or public.key_usage != SIGNING_KEY_USAGE
        ):
            self._future.set_result(None)  # not the expected signing key: let KMS decide
            return
        self.cache.put(self.key_id, public.der)
        self._future.set_result(public.der)

    def public_key_der(self) -> bytes | None:
        """The sender's DER public key (waits for the fetch), or None if KMS refused it."""
        return self._future.result()

    def verify(self, message: bytes, signature: bytes) -> bool:
        der = self.public_key_der()
        if der is None:
            return kms.verify(self.session, self.key, message, signature)
        return PublicKeyVerifier(self.key_id, der).verify(message, signature)
