"""Key files: public-key PEMs that may say which key id names them, and trust files of them.

A public key that KMS holds is named in envelopes by its ARN; any other key by its
fingerprint, ``sha256:<64 hex>`` of its SubjectPublicKeyInfo DER (docs/FORMAT.md, "Key ids").
A PEM carries no ARN, so the PEMs that ``public-keys`` exports say it on a line before the
PEM block (text there is ignored by OpenSSL and ``cryptography`` alike)::

    key-id: arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab
    -----BEGIN PUBLIC KEY-----
    ...
    -----END PUBLIC KEY-----

A PEM without a ``key-id:`` line is named by its fingerprint; a ``key-id: sha256:...`` line
must equal the key's fingerprint (a pin). A trust file is several such blocks, each with a
``name:`` line; ``#`` comments and blank lines are ignored, anything else is refused.

The key id a file gives is part of the trust anchor: it comes from whoever handed over the
key, over the same authenticated channel as the key (docs/SECURITY.md, "Key files").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from envelope import partner_keys
from envelope.key_ids import is_fingerprint, key_id_problem
from envelope.keys import (
    KeyMaterialError,
    PrivateKeySigner,
    PrivateKeyUnwrapper,
    PublicKeyVerifier,
    PublicKeyWrapper,
)
from kms_sign_encrypt.errors import KeyFileError

KEY_ID_FIELD = "key-id"
NAME_FIELD = "name"
MAX_KEY_FILE = 256 * 1024
MAX_TRUSTED_SENDERS = 64
_FIELDS = (KEY_ID_FIELD, NAME_FIELD)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}")
_BEGIN = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----")
_END = "-----END {}-----"
T = TypeVar("T")


@dataclass(frozen=True)
class KeyBlock:
    """One PEM block of a key file, with the fields written above it."""

    pem: bytes
    kind: str  # the PEM label: "PUBLIC KEY", "PRIVATE KEY", ...
    key_id: str | None
    name: str | None
    line: int  # where the block begins (1-based), for error messages


def parse_key_file(data: bytes, what: str) -> list[KeyBlock]:
    """The PEM blocks of ``data`` and their ``key-id:``/``name:`` fields; strict."""
    if len(data) > MAX_KEY_FILE:
        raise KeyFileError(f"{what} is larger than {MAX_KEY_FILE} bytes: not a key file")
    try:
        text = bytes(data).decode("ascii")
    except UnicodeDecodeError:
        raise KeyFileError(
            f"{what} is not a PEM text file (a DER key? convert it with openssl pkey -outform PEM)"
        ) from None
    if "-----BEGIN " not in text:
        raise KeyFileError(f"{what} holds no PEM key (no -----BEGIN ... line)")
    blocks: list[KeyBlock] = []
    fields: dict[str, str] = {}
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index].strip()
        number = index + 1
        index += 1
        if not line or line.startswith("#"):
            continue
        begin = _BEGIN.fullmatch(line)
        if begin:
            end = _END.format(begin.group(1))
            body = [line]
            while index < len(lines) and lines[index].strip() != end:
                body.append(lines[index].strip())
                index += 1
            if index == len(lines):
                raise KeyFileError(f"{what}, line {number}: the PEM block has no {end} line")
            body.append(end)
            index += 1
            blocks.append(
                KeyBlock(
                    pem=("\n".join(body) + "\n").encode("ascii"),
                    kind=begin.group(1),
                    key_id=fields.get(KEY_ID_FIELD),
                    name=fields.get(NAME_FIELD),
                    line=number,
                )
            )
            fields = {}
            continue
        field, sep, value = line.partition(":")
        field, value = field.strip().lower(), value.strip()
        if not sep or field not in _FIELDS:
            raise KeyFileError(
                f"{what}, line {number}: expected a PEM block, '{KEY_ID_FIELD}: ...' or "
                f"'{NAME_FIELD}: ...' (or a # comment), got {line[:40]!r}"
            )
        if field in fields:
            raise KeyFileError(f"{what}, line {number}: '{field}:' is given twice for one key")
        fields[field] = value
    if fields:
        raise KeyFileError(f"{what}: '{next(iter(fields))}:' is not followed by a PEM block")
    if not blocks:
        raise KeyFileError(f"{what} holds no PEM key")
    return blocks


def _only_block(data: bytes, what: str) -> KeyBlock:
    blocks = parse_key_file(data, what)
    if len(blocks) != 1:
        raise KeyFileError(
            f"{what} holds {len(blocks)} PEM blocks; give one key per file (several trusted "
            "senders go into a trust file)"
        )
    return blocks[0]


def _label(block: KeyBlock, what: str) -> str | None:
    """The ``key-id:`` of the block, checked for form (an ARN or a fingerprint), or None."""
    if block.key_id is None:
        return None
    problem = key_id_problem(block.key_id)
    if problem is not None:
        raise KeyFileError(f"{what}, line {block.line}: {KEY_ID_FIELD} {problem}")
    return block.key_id


def _pinned(label: str | None, actual: str, what: str) -> None:
    """A ``key-id: sha256:...`` line is a pin: it must be the key's own fingerprint."""
    if label is not None and is_fingerprint(label) and label != actual:
        raise KeyFileError(
            f"{what}: {KEY_ID_FIELD} {label} is not the key's fingerprint {actual}; the file "
            "was changed or holds another key"
        )


def _keyed(make: Callable[[], T], what: str) -> T:
    try:
        return make()
    except partner_keys.EncryptedKeyError as exc:
        raise KeyFileError(f"{what}: {exc}", setting="passphrase") from None
    except KeyMaterialError as exc:
        raise KeyFileError(f"{what}: {exc}") from None


@dataclass(frozen=True)
class TrustedSender:
    """A sender key the receiver trusts: its key id, a name for people, and the verifier."""

    key_id: str
    name: str
    verifier: PublicKeyVerifier

    @property
    def public_key_pem(self) -> bytes:
        return self.verifier.public_key_pem()


def _trusted(block: KeyBlock, what: str, name: str) -> TrustedSender:
    label = _label(block, what)
    plain = _keyed(lambda: partner_keys.load_signing_public_key(block.pem), what)
    _pinned(label, plain.key_id, what)
    verifier = plain
    if label is not None and not is_fingerprint(label):  # a KMS key, named by its ARN
        verifier = PublicKeyVerifier(label, plain.public_key_pem())
    if not _NAME.fullmatch(name):
        raise KeyFileError(
            f"{what}, line {block.line}: {NAME_FIELD} must be 1-64 letters, digits or ._@+- "
            f"(starting with a letter or digit), got {name[:64]!r}"
        )
    return TrustedSender(key_id=verifier.key_id, name=name, verifier=verifier)


def trusted_sender_from_pem(
    data: bytes, what: str = "the sender public key", default_name: str = "sender"
) -> TrustedSender:
    """One trusted sender from a public-key PEM (``key-id:`` line or fingerprint), called by
    its ``name:`` line, else ``default_name`` (if that is a valid name), else "sender"."""
    block = _only_block(data, what)
    name = block.name or (default_name if _NAME.fullmatch(default_name) else "sender")
    return _trusted(block, what, name)


def trusted_senders_from_file(data: bytes, what: str = "the trust file") -> list[TrustedSender]:
    """Every key of a trust file; each block must be named (``name: ...``)."""
    blocks = parse_key_file(data, what)
    if len(blocks) > MAX_TRUSTED_SENDERS:
        raise KeyFileError(f"{what} holds {len(blocks)} keys, more than {MAX_TRUSTED_SENDERS}")
    senders = []
    for block in blocks:
        if block.name is None:
            raise KeyFileError(
                f"{what}, line {block.line}: each key of a trust file needs a "
                f"'{NAME_FIELD}: ...' line above it"
            )
        senders.append(_trusted(block, f"{what} (key {block.name!r})", block.name))
    return senders


def check_trusted(senders: Sequence[TrustedSender]) -> list[TrustedSender]:
    """No key id and no name twice: one key id must mean one key, one name one sender."""
    if not senders:
        raise KeyFileError("no trusted sender keys: the receiver must be told whom it trusts")
    if len(senders) > MAX_TRUSTED_SENDERS:
        raise KeyFileError(f"{len(senders)} trusted sender keys, more than {MAX_TRUSTED_SENDERS}")
    by_id: dict[str, TrustedSender] = {}
    names: set[str] = set()
    unique: list[TrustedSender] = []
    for sender in senders:
        earlier = by_id.get(sender.key_id)
        if earlier is not None:
            if earlier.public_key_pem != sender.public_key_pem:
                raise KeyFileError(
                    f"two different trusted keys are both named {sender.key_id}: one key id "
                    "must name one key"
                )
            continue  # the same key given twice: keep one
        if sender.name in names:
            raise KeyFileError(f"two different trusted sender keys are both called {sender.name!r}")
        by_id[sender.key_id] = sender
        names.add(sender.name)
        unique.append(sender)
    return unique


def recipient_from_pem(data: bytes, what: str = "the recipient public key") -> PublicKeyWrapper:
    """A recipient from its public-key PEM: named by its ``key-id:`` ARN, else fingerprint
    (RSA-4096 then; a KMS key's PEM may be RSA 2048-4096)."""
    block = _only_block(data, what)
    label = _label(block, what)
    if label is None or is_fingerprint(label):
        wrapper = _keyed(lambda: partner_keys.load_encryption_public_key(block.pem), what)
        _pinned(label, wrapper.key_id, what)
        return wrapper
    return _keyed(lambda: partner_keys.load_encryption_public_key(block.pem, key_id=label), what)


def labelled_pem(pem: bytes, key_id: str, name: str | None = None) -> bytes:
    """A public-key PEM with the ``key-id:`` (and ``name:``) lines above it."""
    problem = key_id_problem(key_id)
    if problem is not None:
        raise KeyFileError(f"{KEY_ID_FIELD} {problem}")
    head = f"{KEY_ID_FIELD}: {key_id}\n" + (f"{NAME_FIELD}: {name}\n" if name else "")
    return head.encode("ascii") + bytes(pem)


def signer_from_pem(
    data: bytes, passphrase: bytes | None = None, what: str = "the signing private key"
) -> PrivateKeySigner:
    """A partner's P-521 signing key (PKCS#8 or SEC1 PEM, or DER), named by its fingerprint."""
    return _keyed(lambda: partner_keys.load_signing_private_key(data, passphrase=passphrase), what)


def unwrapper_from_pem(
    data: bytes, passphrase: bytes | None = None, what: str = "the recipient private key"
) -> PrivateKeyUnwrapper:
    """A partner's RSA-4096 encryption key (PKCS#8 or PKCS#1), named by its fingerprint."""
    return _keyed(
        lambda: partner_keys.load_encryption_private_key(data, passphrase=passphrase), what
    )
