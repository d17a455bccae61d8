"""`python -m demo.accounts`: the exchange across accounts (issue 13), then the checks.

The key-owner account holds the keys (a signing key, one encryption key per receiver); the
sender and two receivers act in their own accounts, each through its own workload profile
(its SDK assumes the workload role, the library assumes the party role). The parties use
only the public library API (`kms_sign_encrypt.__all__`): each reads its own party stack's
outputs, where keys are named by ARN. The checks are attempted calls, made the way an
attacker would make them (boto3, straight to KMS and STS), and each must be refused:

- the sender account's administrator cannot decrypt;
- a receiver (its role, and its account's administrator) cannot sign;
- receiver B cannot open an envelope sealed to receiver A's key: the library refuses it
  (wrong recipient), and KMS refuses B's Decrypt with A's key even when B names it;
- the key-owner account's administrator cannot decrypt or sign;
- an alias from another account is not found, and the library says to use the key ARN.

Then the transitive access matrix across the four accounts, from the deployed key policies
and each account's iam:GetAccountAuthorizationDetails. Exit 0 when every step and check
passed, 1 otherwise, 2 on bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from botocore.exceptions import ClientError

from kms_sign_encrypt import (
    AccessDeniedError,
    Deployment,
    InputRefusedError,
    KmsSignEncryptError,
    NotDeployedError,
    Receiver,
    Sender,
    UsageError,
    reach_rows,
)

KEY_OWNER_STACK = "KmsSignEncryptKeyOwnerStack"
SENDER_STACK = "KmsSignEncryptSenderStack"
RECEIVERS = ("A", "B")
MESSAGE = {"message": "The Magic Words are Squeamish Ossifrage", "to": "receiver {name}"}
EXIT_FAILED = 1
EXIT_USAGE = 2


def receiver_stack(name: str) -> str:
    return f"KmsSignEncryptReceiver{name}Stack"


@dataclass
class Checks:
    passed: int = 0
    failed: int = 0

    def expect_refused(
        self,
        what: str,
        call: Callable[[], object],
        codes: Sequence[str] = (),
        library_errors: tuple[type[KmsSignEncryptError], ...] = (),
    ) -> None:
        """PASS if ``call`` raises a ClientError with one of ``codes``, or one of the library's
        ``library_errors``: refused for the reason expected, not for another one."""
        try:
            call()
        except ClientError as error:
            code = error.response["Error"]["Code"]
            if code in codes:
                self._line(True, f"{what} -> refused ({code})")
            else:
                self._line(False, f"{what} -> failed for another reason ({code})")
            return
        except KmsSignEncryptError as error:
            ok = isinstance(error, library_errors)
            detail = f"{type(error).__name__}: {str(error)[:160]}"
            self._line(
                ok, f"{what} -> {'refused' if ok else 'failed for another reason'} ({detail})"
            )
            return
        self._line(False, f"{what} -> it was allowed")

    def _line(self, ok: bool, text: str) -> None:
        if ok:
            self.passed += 1
        else:
            self.failed += 1
        print(f"  {'PASS' if ok else 'FAIL'} {text}", flush=True)


def _outputs(directory: Path, stack: str) -> dict[str, str]:
    path = (
        directory / f"{stack}.outputs.json"
        if stack != KEY_OWNER_STACK
        else (directory / "key-owner.json")
    )
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))[stack])
    except (OSError, ValueError, KeyError):
        raise NotDeployedError(
            f"no outputs of {stack} in {path}: deploy the topology first (make demo-accounts)"
        ) from None


def sender_deployment(outputs: dict[str, str], receiver: str) -> Deployment:
    """The sender's deployment addressed to one receiver (its key and role, by ARN)."""
    key = outputs[f"EncryptionKeyArn{receiver}"]
    addressed = {
        **outputs,
        "EncryptionKeyArn": key,
        "EncryptionKeyAlias": key,
        "ReceiverRoleArn": outputs[f"ReceiverRoleArn{receiver}"],
    }
    return Deployment.from_outputs(addressed, SENDER_STACK)


def _role_client(session: boto3.Session, role_arn: str, service: str = "kms") -> Any:
    """A client of ``role_arn``'s session, assumed with ``session`` (an attacker's own path)."""
    answer = session.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="probe")
    c = answer["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=c["AccessKeyId"],
        aws_secret_access_key=c["SecretAccessKey"],
        aws_session_token=c["SessionToken"],
        region_name=session.region_name,
    ).client(service)


def _sign(kms: Any, key: str) -> Any:
    return kms.sign(
        KeyId=key, Message=b"forged", MessageType="RAW", SigningAlgorithm="ECDSA_SHA_512"
    )


def _decrypt(kms: Any, key: str, ciphertext: bytes) -> Any:
    return kms.decrypt(
        KeyId=key, CiphertextBlob=ciphertext, EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )


def run(args: argparse.Namespace) -> int:
    began = time.monotonic()
    directory: Path = args.outputs_dir
    region = args.region
    owner = _outputs(directory, KEY_OWNER_STACK)
    sender_outputs = _outputs(directory, SENDER_STACK)
    receiver_outputs = {name: _outputs(directory, receiver_stack(name)) for name in RECEIVERS}
    accounts = {
        "key owner": owner["SigningKeyArn"].split(":")[4],
        "sender": sender_outputs["SenderRoleArn"].split(":")[4],
        **{
            f"receiver {n}": o["ReceiverRoleArn"].split(":")[4] for n, o in receiver_outputs.items()
        },
    }

    def profile(name: str) -> boto3.Session:
        return boto3.session.Session(profile_name=name, region_name=region)

    def admin(account: str) -> boto3.Session:
        return profile(f"admin-{account}")

    print("Accounts:")
    for party, account in accounts.items():
        print(f"  {party:<11} {account}")
    print(f"Keys (key-owner account {accounts['key owner']}):")
    print(f"  {'signing key':<16} {owner['SigningKeyArn']}")
    for name in RECEIVERS:
        print(f"  {f'receiver {name} key':<16} {owner[f'EncryptionKeyArn{name}']}")

    work = Path(tempfile.mkdtemp(prefix="kms-sign-encrypt-accounts-"))
    sender_session = profile(args.sender_profile)
    envelopes: dict[str, Path] = {}
    print(
        f"\n==> The sender ({accounts['sender']}, profile {args.sender_profile}) seals one "
        "envelope per receiver, each to that receiver's key only"
    )
    for name in RECEIVERS:
        message = work / f"message-for-{name.lower()}.json"
        message.write_text(json.dumps({**MESSAGE, "to": f"receiver {name}"}) + "\n")
        envelope = work / f"for-{name.lower()}.enc"
        result = Sender(sender_session, sender_deployment(sender_outputs, name)).send(
            [message], envelope
        )
        envelopes[name] = envelope
        print(
            f"  {envelope.name}: {result.bytes_out} bytes, as {result.principal}, "
            f"calls {dict(result.calls)}"
        )

    print("\n==> Each receiver opens its own envelope in its own account, with its own profile")
    for name in RECEIVERS:
        session = profile(args.receiver_profiles[name])
        deployment = Deployment.from_outputs(receiver_outputs[name], receiver_stack(name))
        out = work / f"received-{name.lower()}"
        out.mkdir()
        result = Receiver(session, deployment).receive(envelopes[name], out)
        (placed,) = result.files
        print(
            f"  receiver {name} ({accounts[f'receiver {name}']}) as {result.principal}: "
            f"{placed.name} = {placed.read_text().strip()}"
        )

    print("\n==> Checks: attempted calls that must be refused")
    checks = Checks()
    key_a = owner["EncryptionKeyArnA"]
    signing = owner["SigningKeyArn"]
    # A ciphertext really made with receiver A's key (the sender may encrypt to it).
    sender_kms = _role_client(sender_session, sender_outputs["SenderRoleArn"])
    probe = sender_kms.encrypt(
        KeyId=key_a, Plaintext=b"probe", EncryptionAlgorithm="RSAES_OAEP_SHA_256"
    )["CiphertextBlob"]
    sender_admin = admin(accounts["sender"])
    checks.expect_refused(
        f"sender account's administrator ({accounts['sender']}) decrypts with A's key",
        lambda: _decrypt(sender_admin.client("kms"), key_a, probe),
        ["AccessDeniedException"],
    )
    checks.expect_refused(
        "sender account's administrator assumes receiver A's role",
        lambda: sender_admin.client("sts").assume_role(
            RoleArn=receiver_outputs["A"]["ReceiverRoleArn"], RoleSessionName="probe"
        ),
        ["AccessDenied"],
    )
    checks.expect_refused(
        "the sender role itself decrypts with A's key",
        lambda: _decrypt(sender_kms, key_a, probe),
        ["AccessDeniedException"],
    )
    receiver_a = profile(args.receiver_profiles["A"])
    receiver_a_kms = _role_client(receiver_a, receiver_outputs["A"]["ReceiverRoleArn"])
    checks.expect_refused(
        "receiver A's role signs with the signing key",
        lambda: _sign(receiver_a_kms, signing),
        ["AccessDeniedException"],
    )
    checks.expect_refused(
        f"receiver A's account administrator ({accounts['receiver A']}) signs",
        lambda: _sign(admin(accounts["receiver A"]).client("kms"), signing),
        ["AccessDeniedException"],
    )
    receiver_b = profile(args.receiver_profiles["B"])
    deployment_b = Deployment.from_outputs(receiver_outputs["B"], receiver_stack("B"))
    for stolen in ("stolen-1", "stolen-2"):
        (work / stolen).mkdir()
    checks.expect_refused(
        "receiver B opens the envelope sealed to A (library: wrong recipient)",
        lambda: Receiver(receiver_b, deployment_b).receive(envelopes["A"], work / "stolen-1"),
        library_errors=(InputRefusedError,),
    )
    forged = Deployment.from_outputs(
        {**receiver_outputs["B"], "EncryptionKeyArn": key_a, "EncryptionKeyAlias": key_a},
        receiver_stack("B"),
    )
    checks.expect_refused(
        "receiver B opens it naming A's key itself (KMS decides)",
        lambda: Receiver(receiver_b, forged).receive(envelopes["A"], work / "stolen-2"),
        library_errors=(AccessDeniedError,),
    )
    receiver_b_kms = _role_client(receiver_b, receiver_outputs["B"]["ReceiverRoleArn"])
    checks.expect_refused(
        "receiver B's role decrypts with A's key (KMS Decrypt)",
        lambda: _decrypt(receiver_b_kms, key_a, probe),
        ["AccessDeniedException"],
    )
    owner_kms = admin(accounts["key owner"]).client("kms")
    checks.expect_refused(
        f"key-owner account's administrator ({accounts['key owner']}) decrypts with A's key",
        lambda: _decrypt(owner_kms, key_a, probe),
        ["AccessDeniedException"],
    )
    checks.expect_refused(
        "key-owner account's administrator signs",
        lambda: _sign(owner_kms, signing),
        ["AccessDeniedException"],
    )
    checks.expect_refused(
        "the sender role signs with the key's alias name (aliases are per account)",
        lambda: _sign(sender_kms, owner["SigningKeyAlias"]),
        ["NotFoundException"],
    )
    alias = owner["SigningKeyAlias"]  # alias/sample-sign-verify-key, in the key-owner account
    by_alias = Deployment.from_outputs(
        {
            **sender_outputs,
            "EncryptionKeyArn": key_a,
            "ReceiverRoleArn": receiver_outputs["A"]["ReceiverRoleArn"],
            "SigningKeyArn": alias,
            "SigningKeyAlias": alias,
        },
        SENDER_STACK,
    )
    checks.expect_refused(
        "the library across accounts with the signing key's alias (it needs key ARNs)",
        lambda: Sender(sender_session, by_alias).send(
            [work / "message-for-a.json"], work / "alias.enc"
        ),
        library_errors=(UsageError, NotDeployedError),
    )

    print("\n==> The transitive access matrix across the accounts (deployed policies)")
    print(live_matrix_text(admin, accounts, owner))

    print(f"Checks: {checks.passed}/{checks.passed + checks.failed} passed")
    print(f"demo.accounts: done in {time.monotonic() - began:.0f} s")
    return 0 if checks.failed == 0 else EXIT_FAILED


def live_matrix_text(
    admin: Callable[[str], boto3.Session], accounts: dict[str, str], owner: dict[str, str]
) -> str:
    from keypolicy import accounts as account_matrix
    from keypolicy import reach

    kms = admin(accounts["key owner"]).client("kms")
    keys = {}
    for label, output in (
        ("signing key", "SigningKeyArn"),
        *((f"receiver {n}'s key", f"EncryptionKeyArn{n}") for n in RECEIVERS),
    ):
        arn = owner[output]
        keys[label] = (arn, kms.get_key_policy(KeyId=arn, PolicyName="default")["Policy"])
    details = {}
    for account in dict.fromkeys(accounts.values()):
        iam = admin(account).client("iam")
        pages = iam.get_paginator("get_account_authorization_details").paginate()
        merged: dict[str, list[Any]] = {}
        for page in pages:
            for field in ("UserDetailList", "RoleDetailList", "GroupDetailList", "Policies"):
                merged.setdefault(field, []).extend(page.get(field, []))
        details[account] = merged
    return reach.render_text(
        account_matrix.from_account_details(keys, details, standard_rows=reach_rows)
    )


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="python -m demo.accounts", description=__doc__.split("\n")[0]
    )
    main.add_argument(
        "--outputs-dir",
        type=Path,
        required=True,
        help="the directory with the stacks' outputs files (key-owner.json, ...)",
    )
    main.add_argument("--region", default="us-east-1")
    main.add_argument("--sender-profile", default="sender-workload")
    main.add_argument("--receiver-a-profile", default="receiver-a-workload")
    main.add_argument("--receiver-b-profile", default="receiver-b-workload")
    return main


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as stop:
        return EXIT_USAGE if stop.code else 0
    args.receiver_profiles = {"A": args.receiver_a_profile, "B": args.receiver_b_profile}
    try:
        return run(args)
    except KmsSignEncryptError as error:
        print(f"demo.accounts: error: {error}", file=sys.stderr)
        return EXIT_FAILED
    except ClientError as error:
        e = error.response["Error"]
        print(f"demo.accounts: error: {e.get('Code')}: {e.get('Message')}", file=sys.stderr)
        return EXIT_FAILED


if __name__ == "__main__":
    raise SystemExit(main())
