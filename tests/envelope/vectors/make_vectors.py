"""Regenerate the committed test vectors (run from the repository root):

    .venv/bin/python -m tests.envelope.vectors.make_vectors

Fixed keys (keys/*.pem) and fixed inputs. RSA-OAEP and ECDSA are randomized, so the bytes
change on every run: the committed files are the vectors, this script only documents how they
were made. Each vector is text header lines, a blank line, then the raw input bytes.
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import envelope
from envelope.format import encode_recipients_header
from tests.envelope.envelope_testkit import (
    OTHER_RECIPIENT,
    OTHER_SENDER,
    RECIPIENT,
    SENDER,
    build_envelope,
    build_raw,
    decrypt_inner,
    inner_plaintext,
    key_bytes,
    pattern,
)

CREATED = datetime(2026, 11, 28, 22, 0, 0, tzinfo=UTC)
SIGNER = envelope.PrivateKeySigner(SENDER, key_bytes("sender.p521.pem"))
OTHER_SIGNER = envelope.PrivateKeySigner(OTHER_SENDER, key_bytes("other_sender.p521.pem"))
BOB = envelope.PrivateKeyUnwrapper(RECIPIENT, key_bytes("recipient.rsa4096.pem"))
CAROL = envelope.PrivateKeyUnwrapper(OTHER_RECIPIENT, key_bytes("other_recipient.rsa4096.pem"))
# The same kinds of key named by fingerprint (sha256: of the SPKI DER): a partner's own keys.
PARTNER_SIGNER = envelope.PrivateKeySigner(None, key_bytes("other_sender.p521.pem"))
DAVE = envelope.PrivateKeyUnwrapper(None, key_bytes("fast_recipient.rsa2048.pem"))
KEY_FILES = {
    RECIPIENT: "recipient.rsa4096.pem",
    OTHER_RECIPIENT: "other_recipient.rsa4096.pem",
    SENDER: "sender.p521.pem",
    OTHER_SENDER: "other_sender.p521.pem",
    PARTNER_SIGNER.key_id: "other_sender.p521.pem",
    DAVE.key_id: "fast_recipient.rsa2048.pem",
}

HERE = Path(__file__).parent


def seal(files: list[tuple[str, bytes]], *, signer=SIGNER, to=BOB, also=()) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        paths = []
        for name, data in files:
            path = Path(tmp) / name
            path.write_bytes(data)
            paths.append(path)
        out = Path(tmp) / "out.vec"
        wrappers = [to.wrapper(), *(u.wrapper() for u in also)]
        envelope.seal(paths, out, signer=signer, wrappers=wrappers, created=CREATED)
        return out.read_bytes()


def write(
    name: str, expect: str, comment: str, data: bytes, *, files=(), reader=BOB, sender=SENDER
) -> None:
    lines = [
        f"expect: {expect}",
        f"recipient: {reader.key_id}",
        f"recipient key: {KEY_FILES[reader.key_id]}",
        f"sender: {sender}",
        f"sender key: {KEY_FILES[sender]}",
    ]
    lines += [f"file: {hashlib.sha512(body).hexdigest()}  {fname}" for fname, body in files]
    lines.append(f"comment: {comment}")
    (HERE / name).write_bytes("\n".join(lines).encode() + b"\n\n" + data)


def non_canonical() -> None:
    """Alice's real signature over a statement with the right values, but not in canonical
    form (compact JSON): readers must reject it."""
    hello = [("hello.txt", b"Hello, Bob! This is Alice.\n")]
    canonical = json.loads(envelope_statement(hello))
    compact = json.dumps(canonical, sort_keys=True, separators=(",", ":")).encode()
    inner = inner_plaintext(hello, compact, SIGNER.sign(compact))
    write(
        "non-canonical-statement.vec",
        "authentication failure",
        "validly signed statement with the right values, as compact rather than canonical JSON",
        build_envelope(RECIPIENT, BOB.wrapper(), inner),
    )


def nested_statement() -> None:
    """Alice's real signature over 4,096 bytes of "[": a general JSON parser recurses until it
    crashes; readers must give the authentication failure, not crash (issue 9)."""
    hello = [("hello.txt", b"Hello, Bob! This is Alice.\n")]
    nested = b"[" * 4096
    inner = inner_plaintext(hello, nested, SIGNER.sign(nested))
    write(
        "nested-statement.vec",
        "authentication failure",
        "validly signed statement of 4096 nested '[': a bounded parser rejects it",
        build_envelope(RECIPIENT, BOB.wrapper(), inner),
    )


def envelope_statement(files: list[tuple[str, bytes]]) -> bytes:
    manifest = b"".join(
        f"{hashlib.sha512(body).hexdigest()}  {name}\n".encode() for name, body in files
    )
    return envelope.Statement(
        format=envelope.FORMAT_ID,
        sender=SENDER,
        recipients=(RECIPIENT,),
        created="2026-11-28T22:00:00Z",
        files=len(files),
        bytes=sum(len(body) for _, body in files),
        manifest_sha512=hashlib.sha512(manifest).hexdigest(),
    ).to_json()


def main() -> None:
    hello = [("hello.txt", b"Hello, Bob! This is Alice.\n")]
    write("hello.vec", "success", "one small file", seal(hello), files=hello)
    empty = [("empty", b"")]
    write("empty-file.vec", "success", "one zero-byte file", seal(empty), files=empty)
    block = [("block.bin", pattern(65536, seed=1))]
    write(
        "one-chunk-of-data.vec",
        "success",
        "a 64 KiB file: the payload spans two chunks",
        seal(block),
        files=block,
    )
    two = [("a.txt", b"first\n"), ("b.bin", pattern(3 * 65536 + 5, seed=2))]
    write(
        "two-files.vec",
        "success",
        "two files under one statement and one signature",
        seal(two),
        files=two,
    )

    good = seal(hello)
    write(
        "truncated-final-chunk.vec",
        "authentication failure",
        "hello.vec with its last byte removed",
        good[:-1],
    )
    write("trailing-byte.vec", "authentication failure", "hello.vec plus one byte", good + b"\x00")
    flipped = bytearray(good)
    flipped[-40] ^= 0x01
    write(
        "bit-flip.vec",
        "authentication failure",
        "one bit flipped in the only chunk",
        bytes(flipped),
    )
    write(
        "wrong-recipient.vec",
        "wrong recipient",
        "addressed to another recipient key",
        seal(hello, to=CAROL),
    )
    forwarded = build_envelope(CAROL.key_id, CAROL.wrapper(), decrypt_inner(good, BOB))
    write(
        "forwarded.vec",
        "authentication failure",
        "Bob re-encrypted Alice's signed content to Carol (surreptitious forwarding)",
        forwarded,
        reader=CAROL,
    )
    write(
        "unexpected-sender.vec",
        "authentication failure",
        "validly signed by another sender key than the expected one",
        seal(hello, signer=OTHER_SIGNER),
    )
    no_final = build_envelope(
        RECIPIENT, BOB.wrapper(), inner_plaintext(hello, b"{}", b"s" * 64), final_flag=False
    )
    write(
        "no-final-chunk.vec",
        "authentication failure",
        "the last chunk lacks the final flag",
        no_final,
    )
    absurd = bytearray(good)
    absurd[16:18] = (0xFFFF).to_bytes(2, "big")
    write(
        "absurd-key-id-length.vec", "header failure", "recipient key id length 65535", bytes(absurd)
    )
    write("empty.vec", "not an envelope", "an empty file", b"")
    write(
        "seed-format.vec",
        "not an envelope",
        "a seed-format message: a bare 512-byte RSA-OAEP ciphertext",
        BOB.wrapper().wrap(b"\x1f\x8b\x08\x00 pretend tar.gz"),
    )
    non_canonical()
    nested_statement()
    key_ids_and_recipients(hello)


def key_ids_and_recipients(hello: list[tuple[str, bytes]]) -> None:
    """Fingerprint key ids, three recipients, and the attacks on the recipient list."""
    write(
        "fingerprint-key-ids.vec",
        "success",
        "a partner's P-521 key named sha256:<fingerprint> sends to a fingerprint-named RSA key",
        seal(hello, signer=PARTNER_SIGNER, to=DAVE),
        files=hello,
        reader=DAVE,
        sender=PARTNER_SIGNER.key_id,
    )
    three = seal(hello, also=(CAROL, DAVE))
    for reader, name in ((BOB, "bob"), (CAROL, "carol"), (DAVE, "dave")):
        write(
            f"three-recipients-{name}.vec",
            "success",
            "one envelope to two ARN-named keys and one fingerprint-named key, read by "
            + name.capitalize(),
            three,
            files=hello,
            reader=reader,
        )
    fourth = envelope.PrivateKeyUnwrapper(None, key_bytes("recipient.rsa4096.pem"))
    KEY_FILES[fourth.key_id] = "recipient.rsa4096.pem"
    write(
        "three-recipients-fourth-key.vec",
        "wrong recipient",
        "the three-recipient envelope offered to a key it does not list",
        three,
        reader=fourth,
    )
    # Bob (a listed recipient) re-encrypts the signed content with the same data key to a
    # header that lists only himself: the statement's recipient list no longer matches.
    inner = decrypt_inner(three, BOB)
    write(
        "recipient-removed.vec",
        "authentication failure",
        "Bob dropped Carol and Dave from the header; the signed statement still lists them",
        build_envelope(RECIPIENT, BOB.wrapper(), inner),
    )
    header = encode_recipients_header(
        sorted(
            [
                (RECIPIENT, BOB.wrapper().wrap(b"k" * 32)),
                (fourth.key_id, fourth.wrapper().wrap(b"k" * 32)),
            ]
        ),
        b"s" * 32,
    )
    write(
        "recipient-added.vec",
        "authentication failure",
        "Bob forwarded to an unlisted key by adding it to the header (same data key)",
        build_raw(header, inner, b"k" * 32),
        reader=fourth,
    )
    v1 = bytearray(seal(hello))
    v1[:16] = b"kms-envelope/v1\n"
    del v1[16 + 2 + len(RECIPIENT) + 2 + 512 : 16 + 2 + len(RECIPIENT) + 2 + 512 + 2]
    write(
        "version-1.vec",
        "unsupported version",
        "a kms-envelope/v1 header (one recipient, no list): refused with a precise error",
        bytes(v1),
    )


if __name__ == "__main__":
    if sys.argv[1:] == ["non-canonical"]:  # add that vector without regenerating the others
        non_canonical()
    elif sys.argv[1:] == ["nested-statement"]:
        nested_statement()
    else:
        main()
