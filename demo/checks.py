"""The least-privilege checks of `run`: each is one expectation and its observed outcome.

A check passes only if KMS refuses for the expected reason: access denied for the wrong
party or algorithm, an invalid signature for a changed message, an invalid ciphertext for a
changed ciphertext. Anything else (success, throttling, a network error) fails the check.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from envelope import ENCRYPTION_ALGORITHM
from kms_sign_encrypt import (
    AccessDeniedError,
    AuthenticationError,
    AwsSession,
    KmsKeyUnwrapper,
    KmsKeyWrapper,
    KmsSignEncryptError,
    KmsSigner,
    KmsVerifier,
    Resources,
    assume_role,
)

WEAK_ENCRYPTION_ALGORITHM = "RSAES_OAEP_SHA_1"  # the key policy must refuse it
Probe = Callable[[], object]


@dataclass(frozen=True)
class CheckResult:
    expectation: str
    outcome: str
    passed: bool

    def line(self) -> str:
        mark = "PASS" if self.passed else "FAIL"
        return f"{mark}  {self.expectation:<64} -> {self.outcome}"

    def as_dict(self) -> dict[str, Any]:
        return {"expectation": self.expectation, "outcome": self.outcome, "passed": self.passed}


def expect_denied(expectation: str, probe: Probe) -> CheckResult:
    try:
        probe()
    except AccessDeniedError as exc:
        return CheckResult(expectation, f"denied ({exc.action})", True)
    except KmsSignEncryptError as exc:
        return CheckResult(expectation, f"unexpected error: {exc}", False)
    return CheckResult(expectation, "ALLOWED", False)


def expect_unauthenticated(expectation: str, probe: Callable[[], bool | object]) -> CheckResult:
    """The probe must fail authentication: raise AuthenticationError or return False."""
    try:
        answer = probe()
    except AuthenticationError:
        return CheckResult(expectation, "refused (cannot be authenticated)", True)
    except KmsSignEncryptError as exc:
        return CheckResult(expectation, f"unexpected error: {exc}", False)
    if answer is False:
        return CheckResult(expectation, "refused (signature invalid)", True)
    return CheckResult(expectation, "ACCEPTED", False)


def flip_bit(data: bytes, index: int | None = None) -> bytes:
    position = len(data) // 2 if index is None else index
    changed = bytearray(data)
    changed[position] ^= 0x01
    return bytes(changed)


@dataclass(frozen=True)
class _KeyOperations:
    """One KMS call per method on the deployment's keys, as the session given, through the
    library's key objects (the ones the envelope signs, wraps and unwraps with)."""

    resources: Resources

    def sign(self, session: AwsSession, message: bytes) -> bytes:
        r = self.resources
        return KmsSigner(session, r.signing_key, r.signing_key_arn or r.signing_key).sign(message)

    def verify(self, session: AwsSession, message: bytes, signature: bytes) -> bool:
        r = self.resources
        verifier = KmsVerifier(session, r.signing_key, r.signing_key_arn or r.signing_key)
        return verifier.verify(message, signature)

    def encrypt(
        self, session: AwsSession, plaintext: bytes, algorithm: str = ENCRYPTION_ALGORITHM
    ) -> bytes:
        r = self.resources
        key_id = r.encryption_key_arn or r.encryption_key
        return KmsKeyWrapper(session, r.encryption_key, key_id, algorithm).wrap(plaintext)

    def decrypt(self, session: AwsSession, ciphertext: bytes) -> bytes:
        r = self.resources
        unwrapper = KmsKeyUnwrapper(
            session, r.encryption_key, r.encryption_key_arn or r.encryption_key
        )
        try:
            return unwrapper.unwrap(ciphertext)
        except ValueError:  # the key protocol's "does not decrypt": a failed authentication
            raise AuthenticationError() from None


def least_privilege_checks(
    *,
    admin: AwsSession,
    sender: AwsSession,
    receiver: AwsSession,
    resources: Resources,
    signed: bytes,
    signature: bytes,
    ciphertext: bytes,
    extra: list[tuple[str, Callable[[], bool | object]]] | None = None,
) -> list[CheckResult]:
    """The issue's checks, run with real artifacts so only access or tampering can fail them."""
    keys = _KeyOperations(resources)
    probe_key = os.urandom(32)
    results = [
        expect_denied("sender cannot Decrypt", lambda: keys.decrypt(sender, ciphertext)),
        expect_denied("sender cannot Verify", lambda: keys.verify(sender, signed, signature)),
        expect_denied("receiver cannot Encrypt", lambda: keys.encrypt(receiver, probe_key)),
        expect_denied("receiver cannot Sign", lambda: keys.sign(receiver, signed)),
        expect_denied("administrator cannot Decrypt", lambda: keys.decrypt(admin, ciphertext)),
        expect_denied("administrator cannot Sign", lambda: keys.sign(admin, signed)),
        expect_denied(
            "Encrypt with RSAES_OAEP_SHA_1 is refused (key-policy condition)",
            lambda: keys.encrypt(sender, probe_key, WEAK_ENCRYPTION_ALGORITHM),
        ),
        expect_unauthenticated(
            "a tampered message fails verification",
            lambda: keys.verify(receiver, flip_bit(signed), signature),
        ),
        expect_unauthenticated(
            "a tampered ciphertext fails decryption",
            lambda: keys.decrypt(receiver, flip_bit(ciphertext)),
        ),
    ]
    for expectation, probe in extra or []:
        results.append(expect_unauthenticated(expectation, probe))
    return results


def assume_role_checks(
    *,
    admin: AwsSession,
    sender_workload: AwsSession,
    receiver_workload: AwsSession,
    resources: Resources,
    external_id: str | None = None,
) -> list[CheckResult]:
    """The AssumeRole refusals (issue 10), each a real sts:AssumeRole call: nobody but a
    party's own workload becomes its role, so least privilege holds end to end."""

    def attempt(caller: AwsSession, role_arn: str) -> Probe:
        return lambda: assume_role(caller, role_arn, party="probe", external_id=external_id)

    sender_role, receiver_role = resources.sender_role_arn, resources.receiver_role_arn
    return [
        expect_denied("administrator cannot assume ReceiverRole", attempt(admin, receiver_role)),
        expect_denied("administrator cannot assume SenderRole", attempt(admin, sender_role)),
        expect_denied(
            "receiver workload cannot assume SenderRole", attempt(receiver_workload, sender_role)
        ),
        expect_denied(
            "sender workload cannot assume ReceiverRole", attempt(sender_workload, receiver_role)
        ),
    ]
