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

from kms_sign_encrypt import kms
from kms_sign_encrypt.aws import AwsSession, assume_role
from kms_sign_encrypt.errors import AccessDeniedError, AuthenticationError, KmsSignEncryptError
from kms_sign_encrypt.stack import Resources

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
    enc, sig = resources.encryption_key, resources.signing_key
    probe_key = os.urandom(32)
    results = [
        expect_denied("sender cannot Decrypt", lambda: kms.decrypt(sender, enc, ciphertext)),
        expect_denied("sender cannot Verify", lambda: kms.verify(sender, sig, signed, signature)),
        expect_denied("receiver cannot Encrypt", lambda: kms.encrypt(receiver, enc, probe_key)),
        expect_denied("receiver cannot Sign", lambda: kms.sign(receiver, sig, signed)),
        expect_denied("administrator cannot Decrypt", lambda: kms.decrypt(admin, enc, ciphertext)),
        expect_denied("administrator cannot Sign", lambda: kms.sign(admin, sig, signed)),
        expect_denied(
            "Encrypt with RSAES_OAEP_SHA_1 is refused (key-policy condition)",
            lambda: kms.encrypt(sender, enc, probe_key, kms.WEAK_ENCRYPTION_ALGORITHM),
        ),
        expect_unauthenticated(
            "a tampered message fails verification",
            lambda: kms.verify(receiver, sig, flip_bit(signed), signature),
        ),
        expect_unauthenticated(
            "a tampered ciphertext fails decryption",
            lambda: kms.decrypt(receiver, enc, flip_bit(ciphertext)),
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
