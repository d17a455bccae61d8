"""One workload per function; each runs in its own subprocess (see ``bench.worker``).

A workload function prepares (loads keys, builds keyrings, allocates its buffers) and returns
the call to time. Preparing is not timed: loading the RSA-4096 private key alone takes about
0.36 s here (OpenSSL checks the key), which a real sender never pays and which is not
throughput. What is timed is what a send or receive costs once the keys are in hand.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

import envelope
from bench.keys import load_keys
from bench.sdk import sdk_decryptor, sdk_encryptor

DR_RECIPIENT_KEY_ARN = "arn:aws:kms:us-west-2:123456789012:key/2222abcd-12ab-34cd-56ef-1234567890ab"

CHUNK = 64 * 1024
PRIMITIVE_BUFFER = 8 << 20  # the primitives run over one 8 MiB buffer in memory

Timed = Callable[[], object]


def aes_gcm(size: int, keys: str, work: Path) -> Timed:
    """Raw AES-256-GCM, 64 KiB chunks, in memory (the cipher's ceiling)."""
    aead = AESGCM(AESGCM.generate_key(bit_length=256))
    plain = memoryview(os.urandom(PRIMITIVE_BUFFER))
    sealed = memoryview(bytearray(CHUNK + 16))

    def run() -> None:
        counter = 0
        done = 0
        while done < size:
            for offset in range(0, PRIMITIVE_BUFFER, CHUNK):
                nonce = counter.to_bytes(12, "big")
                aead.encrypt_into(nonce, plain[offset : offset + CHUNK], None, sealed)
                counter += 1
            done += PRIMITIVE_BUFFER

    return run


def sha512(size: int, keys: str, work: Path) -> Timed:
    """hashlib SHA-512, in memory, one thread (the hash's ceiling: the baseline)."""
    plain = memoryview(os.urandom(PRIMITIVE_BUFFER))

    def run() -> None:
        hasher = hashlib.sha512()
        done = 0
        while done < size:
            hasher.update(plain[: min(PRIMITIVE_BUFFER, size - done)])
            done += PRIMITIVE_BUFFER

    return run


def send(size: int, keys: str, work: Path) -> Timed:
    """envelope.seal with offline keys: public-key wrap, local P-521 sign."""
    signer, unwrapper = load_keys(keys)
    wrapper = unwrapper.wrapper()

    def run() -> None:
        envelope.seal([work / "plain.bin"], work / "message.env", signer=signer, wrapper=wrapper)

    return run


def send_3_recipients(size: int, keys: str, work: Path) -> Timed:
    """envelope.seal to three recipients (two ARN-named, one fingerprint-named): 3 wraps."""
    signer, unwrapper = load_keys(keys)
    der = unwrapper.public_key_der()
    wrappers = [
        unwrapper.wrapper(),
        envelope.PublicKeyWrapper(DR_RECIPIENT_KEY_ARN, der),
        envelope.PublicKeyWrapper(None, der),  # a partner key, named by its fingerprint
    ]

    def run() -> None:
        envelope.seal([work / "plain.bin"], work / "message3.env", signer=signer, wrappers=wrappers)

    return run


def receive(size: int, keys: str, work: Path) -> Timed:
    """envelope.unseal with offline keys: local RSA unwrap, public-key verify."""
    signer, unwrapper = load_keys(keys)
    verifier = signer.verifier()
    out = work / "received"

    def run() -> None:
        out.mkdir()
        envelope.unseal(work / "message.env", out, unwrapper=unwrapper, verifier=verifier)

    return run


def sdk_send(size: int, keys: str, work: Path) -> Timed:
    return sdk_encryptor(keys, work / "plain.bin", work / "message.sdk")


def sdk_receive(size: int, keys: str, work: Path) -> Timed:
    return sdk_decryptor(keys, work / "message.sdk", work / "plain.sdk.out")


WORKLOADS: dict[str, Callable[[int, str, Path], Timed]] = {
    "aes-256-gcm": aes_gcm,
    "sha-512": sha512,
    "sdk-send": sdk_send,
    "sdk-receive": sdk_receive,
    "send": send,
    "send-3-recipients": send_3_recipients,
    "receive": receive,
}
