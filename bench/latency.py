"""`python -m bench.latency`: KMS round trips per small send and receive, and many small files.

Not a test. It starts the local endpoint with a per-request latency (``--latency``, default
50 ms, held in the server for every request) and creates an RSA_4096 and an ECC_NIST_P521 key
there. The round trip (RT) is measured in the same run: one KMS call, the mean of the best
wall times of one Encrypt, one Sign and one Decrypt (interleaved with the rest; the server's
own work differs between them, RSA-4096 decryption most). Then, best of ``--rounds``:

* send 1 KiB: ``envelope.seal`` with KMS Encrypt and KMS Sign (target <= 1.3 RT: the wrap
  runs beside hashing and Sign);
* receive 1 KiB with KMS Verify: Decrypt, then Verify (target <= 2.3 RT);
* receive 1 KiB with the sender's public key cached: Decrypt only (target <= 1.3 RT); and
  with an empty cache: Decrypt beside GetPublicKey (reported).

Many small messages, on a second endpoint with no injected latency: 1,000 files of 1 KiB as
one envelope (1 Sign, 1 Encrypt) and as 1,000 envelopes, with the same seal done with local
keys as the I/O-only baseline; the one envelope must spend most of its time on I/O (target:
the sealing thread waits for KMS at most a quarter of its wall time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import envelope
from bench.keys import load_keys
from kms_sign_encrypt import aws, kms
from kms_sign_encrypt.public_key_cache import CachingVerifier, PublicKeyCache
from local_endpoint import LocalEndpoint

SEND_TARGET = 1.3
RECEIVE_VERIFY_TARGET = 2.3
RECEIVE_CACHED_TARGET = 1.3
KMS_SHARE_LIMIT = 0.25
SMALL = 1024
MANY = 1000


def _best(call: Callable[[], Any], rounds: int) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best


class _Keys:
    """An RSA_4096 and an ECC_NIST_P521 key on ``endpoint``, and the demo's KMS objects."""

    def __init__(self, endpoint: LocalEndpoint) -> None:
        os.environ.update(endpoint.env)
        self.session = aws.open_caller_session(
            profile=None, region=None, settings=aws.ClientSettings(), metrics=aws.CallMetrics()
        )
        client = self.session.client("kms")
        self.encryption = client.create_key(
            KeySpec="RSA_4096", KeyUsage="ENCRYPT_DECRYPT", Description="bench recipient"
        )["KeyMetadata"]["Arn"]
        self.signing = client.create_key(
            KeySpec="ECC_NIST_P521", KeyUsage="SIGN_VERIFY", Description="bench sender"
        )["KeyMetadata"]["Arn"]
        self.signer = kms.KmsSigner(self.session, self.signing, self.signing)
        self.wrapper = kms.KmsKeyWrapper(self.session, self.encryption, self.encryption)
        self.unwrapper = kms.KmsKeyUnwrapper(self.session, self.encryption, self.encryption)
        self.verifier = kms.KmsVerifier(self.session, self.signing, self.signing)
        self.cache = PublicKeyCache()  # memory only
        self.cache.put(self.signing, kms.get_public_key(self.session, self.signing).der)

    def cached_verifier(self) -> CachingVerifier:
        return CachingVerifier(self.session, self.signing, self.signing, self.cache)

    def cold_verifier(self) -> CachingVerifier:
        return CachingVerifier(self.session, self.signing, self.signing, PublicKeyCache())


def _fresh(path: Path) -> Path:
    if path.is_dir():
        shutil.rmtree(path)
    path.unlink(missing_ok=True)
    return path


def latency_section(latency: float, rounds: int, work: Path) -> tuple[list[str], list[Any]]:
    with LocalEndpoint(latency=latency) as endpoint:
        keys = _Keys(endpoint)
        plain = work / "small.bin"
        plain.write_bytes(os.urandom(SMALL))
        sealed = work / "small.env"

        def send() -> None:
            envelope.seal([plain], _fresh(sealed), signer=keys.signer, wrapper=keys.wrapper)

        def receive(make_verifier: Callable[[], Any]) -> Callable[[], None]:
            def run() -> None:
                out = _fresh(work / "small.out")
                out.mkdir()
                envelope.unseal(sealed, out, unwrapper=keys.unwrapper, verifier=make_verifier())

            return run

        send()  # warm: connections open, the envelope exists
        data_key = os.urandom(32)
        wrapped = keys.wrapper.wrap(data_key)
        timings: dict[str, float] = {}
        workloads: dict[str, Callable[[], Any]] = {
            "one KMS Encrypt": lambda: keys.wrapper.wrap(data_key),
            "one KMS Sign": lambda: keys.signer.sign(b"statement"),
            "one KMS Decrypt": lambda: keys.unwrapper.unwrap(wrapped),
            "send 1 KiB": send,
            "receive 1 KiB, KMS Verify": receive(lambda: keys.verifier),
            "receive 1 KiB, cached public key": receive(keys.cached_verifier),
            "receive 1 KiB, empty cache (GetPublicKey beside Decrypt)": receive(keys.cold_verifier),
        }
        for _ in range(rounds):  # interleaved rounds, best of each
            for name, call in workloads.items():
                seconds = _best(call, 1)
                timings[name] = min(timings.get(name, seconds), seconds)
    singles = ("one KMS Encrypt", "one KMS Sign", "one KMS Decrypt")
    rt = sum(timings[name] for name in singles) / len(singles)
    lines = [
        f"1 KiB messages, KMS on the local endpoint with {latency * 1000:.0f} ms injected per "
        f"request; best of {rounds} interleaved rounds",
        f"round trip (RT) = one KMS call, the mean of the best Encrypt, Sign and Decrypt = "
        f"{rt * 1000:.1f} ms",
        "",
        "| workload | ms | round trips |",
        "| --- | ---: | ---: |",
    ]
    for name, seconds in timings.items():
        lines.append(f"| {name} | {seconds * 1000:.1f} | {seconds / rt:.2f} |")
    verdicts = [
        ("send 1 KiB", timings["send 1 KiB"] / rt, SEND_TARGET),
        (
            "receive 1 KiB with KMS Verify",
            timings["receive 1 KiB, KMS Verify"] / rt,
            RECEIVE_VERIFY_TARGET,
        ),
        (
            "receive 1 KiB with a cached public key",
            timings["receive 1 KiB, cached public key"] / rt,
            RECEIVE_CACHED_TARGET,
        ),
    ]
    return lines, verdicts


def many_section(work: Path, keys_text: str | None) -> tuple[list[str], list[Any]]:
    files = work / "many"
    files.mkdir()
    paths = []
    for i in range(MANY):
        path = files / f"file-{i:04d}.bin"
        path.write_bytes(os.urandom(SMALL))
        paths.append(path)
    out = work / "many.out"
    out.mkdir()
    signer_local, unwrapper_local = load_keys(keys_text) if keys_text else _local_keys()
    wrapper_local = unwrapper_local.wrapper()
    with LocalEndpoint() as endpoint:
        keys = _Keys(endpoint)
        envelope.seal(paths[:1], out / "warm.env", signer=keys.signer, wrapper=keys.wrapper)

        def one_envelope_local() -> None:
            target = _fresh(out / "local.env")
            envelope.seal(paths, target, signer=signer_local, wrapper=wrapper_local)

        timed_signer, timed_wrapper = _Timed(keys.signer, "sign"), _Timed(keys.wrapper, "wrap")

        def one_envelope() -> float:
            """Seal all files once; return the seconds the sealing thread waited for KMS."""
            timed_signer.seconds = timed_wrapper.seconds = 0.0
            target = _fresh(out / "all.env")
            envelope.seal(paths, target, signer=timed_signer, wrapper=timed_wrapper)
            # The main thread waits for KMS during Sign, then for the wrap if it is not back.
            return timed_signer.seconds + max(0.0, timed_wrapper.ended - timed_signer.ended)

        def many_envelopes() -> None:
            for i, path in enumerate(paths):
                target = _fresh(out / f"{i:04d}.env")
                envelope.seal([path], target, signer=keys.signer, wrapper=keys.wrapper)

        local = one = float("inf")
        kms_seconds = 0.0
        for _ in range(5):  # interleaved, best of 5
            local = min(local, _best(one_envelope_local, 1))
            start = time.perf_counter()
            in_kms = one_envelope()
            wall = time.perf_counter() - start
            if wall < one:
                one, kms_seconds = wall, in_kms
        many = _best(many_envelopes, 1)
        rt = _best(lambda: keys.signer.sign(b"statement"), 5)
    share = kms_seconds / one
    lines = [
        f"{MANY:,} files of {SMALL:,} bytes, KMS on the local endpoint (no injected latency, "
        f"one KMS call = {rt * 1000:.1f} ms here)",
        "",
        "| workload | KMS calls | seconds | per file |",
        "| --- | ---: | ---: | ---: |",
        f"| one envelope, local keys (I/O and crypto only) | 0 | {local:.3f} | "
        f"{local / MANY * 1000:.2f} ms |",
        f"| one envelope | 1 Sign + 1 Encrypt | {one:.3f} | {one / MANY * 1000:.2f} ms |",
        f"| {MANY:,} envelopes | {MANY:,} Sign + {MANY:,} Encrypt | {many:.3f} | "
        f"{many / MANY * 1000:.2f} ms |",
        "",
        f"one envelope: it waited {kms_seconds * 1000:.1f} ms for KMS (Sign, then whatever of "
        f"Encrypt was still in flight), {share:.0%} of its wall time; I/O and crypto the rest; "
        f"{MANY:,} envelopes ran at {MANY / many:,.0f} Sign/s "
        f"(the ECC quota is 300 Sign/s per account)",
    ]
    verdicts = [("one envelope's wait for KMS, share of its wall time", share, KMS_SHARE_LIMIT)]
    return lines, verdicts


class _Timed:
    """A signer or wrapper that adds up the seconds its KMS calls take."""

    def __init__(self, inner: Any, method: str) -> None:
        self._call = getattr(inner, method)
        self.key_id = inner.key_id
        self.seconds = 0.0
        self.ended = 0.0
        setattr(self, method, self._timed)

    def _timed(self, data: bytes) -> bytes:
        start = time.perf_counter()
        try:
            return self._call(data)
        finally:
            self.ended = time.perf_counter()
            self.seconds += self.ended - start


def _local_keys() -> Any:
    import json

    from bench.keys import export_keys

    return load_keys(json.dumps(export_keys()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds (default 0.05)")
    parser.add_argument("--rounds", type=int, default=15, help="best of N (default 15)")
    parser.add_argument("--skip-many", action="store_true", help="no 1,000-file section")
    args = parser.parse_args(argv)
    saved = dict(os.environ)
    ok = True
    try:
        with tempfile.TemporaryDirectory(prefix="kms-envelope-latency-") as tmp:
            work = Path(tmp)
            lines, verdicts = latency_section(args.latency, args.rounds, work)
            print("\n".join(lines))
            print()
            for text, ratio, target in verdicts:
                passed = ratio <= target
                ok &= passed
                print(
                    f"{'PASS' if passed else 'FAIL'}  {text}: {ratio:.2f} RT "
                    f"(target <= {target} RT)"
                )
            if not args.skip_many:
                print()
                lines, verdicts = many_section(work, None)
                print("\n".join(lines))
                print()
                for text, share, limit in verdicts:
                    passed = share <= limit
                    ok &= passed
                    print(
                        f"{'PASS' if passed else 'FAIL'}  {text}: {share:.0%} "
                        f"(limit {limit:.0%}: dominated by I/O)"
                    )
    finally:
        os.environ.clear()
        os.environ.update(saved)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
