"""The command line: `python -m demo ...` or `kms-sign-encrypt ...`.

Thin by design: parse, call the library, print. Every domain error becomes one line on
stderr and a non-zero exit code here, and only here; nothing below prints a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import envelope
from kms_sign_encrypt.aws import DEFAULT_MAX_ATTEMPTS, MAX_ATTEMPTS_RANGE, RETRY_MODES
from kms_sign_encrypt.errors import EXIT_ERROR, EXIT_OK, KmsSignEncryptError
from kms_sign_encrypt.exchange import FORMATS
from kms_sign_encrypt.stack import DEFAULT_STACK_NAME
from kms_sign_encrypt_cli import commands, operator_commands

PROG = "kms-sign-encrypt"
DEBUG_VARIABLE = "KMS_SIGN_ENCRYPT_DEBUG"
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE, what a shell reports for `cmd | head`
TERMINATING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Terminated(BaseException):
    """SIGTERM or SIGHUP, raised in the main thread like KeyboardInterrupt for SIGINT, so
    every ``except BaseException``/``finally`` cleanup runs: staged and temporary files are
    removed before the process exits (the default action would kill it on the spot)."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def _terminate(signum: int, _frame: object) -> None:
    for other in TERMINATING_SIGNALS:  # a second signal must not interrupt the cleanup
        signal.signal(other, signal.SIG_IGN)
    raise Terminated(signum)


@contextmanager
def _signals_clean_up() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {signum: signal.signal(signum, _terminate) for signum in TERMINATING_SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in one line (argparse prints the whole usage first)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _attempts(text: str) -> int:
    low, high = MAX_ATTEMPTS_RANGE
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number {low}-{high}") from None
    if not low <= value <= high:
        raise argparse.ArgumentTypeError(f"must be {low}-{high}, got {value}")
    return value


def _limit(what: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number of {what}") from None
        if value < 1:
            raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
        return value

    return parse


def _aws_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("AWS")
    group.add_argument("--profile", help="AWS profile of the calling credentials")
    group.add_argument("--region", help="AWS region of the stack (else AWS_REGION / profile)")
    group.add_argument(
        "--max-attempts",
        type=_attempts,
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"attempts per AWS call, with backoff (default {DEFAULT_MAX_ATTEMPTS})",
    )
    group.add_argument(
        "--retry-mode", choices=RETRY_MODES, default="standard", help="botocore retry mode"
    )
    return parent


def _stack_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("stack (defaults for the key and role options)")
    group.add_argument(
        "--stack-name",
        default=None,
        help="read outputs with DescribeStacks (default: {--name-prefix}"
        f"{DEFAULT_STACK_NAME}, or the only stack in --outputs-file)",
    )
    group.add_argument(
        "--name-prefix",
        default=None,
        metavar="PREFIX",
        help="the deployment's sample:namePrefix: the stack is PREFIX" + DEFAULT_STACK_NAME,
    )
    group.add_argument(
        "--outputs-file", type=Path, help="read outputs from `cdk deploy --outputs-file` JSON"
    )
    return parent


def _key_options(*keys: str) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("keys (default: the stack outputs)")
    if "encryption" in keys:
        group.add_argument("--encryption-key", help="encryption key ARN or alias/NAME")
    if "signing" in keys:
        group.add_argument("--signing-key", help="signing key ARN or alias/NAME")
    return parent


SENDER_PROFILE_VARIABLE = "KMS_SIGN_ENCRYPT_SENDER_PROFILE"
RECEIVER_PROFILE_VARIABLE = "KMS_SIGN_ENCRYPT_RECEIVER_PROFILE"
BOTH = ("sender", "receiver")


def _role_options(*parties: str, workloads: bool = True) -> argparse.ArgumentParser:
    """The role ARNs of ``parties``; with ``workloads``, how each party gets its role."""
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("roles (default: the stack outputs)")
    if "sender" in parties:
        group.add_argument("--sender-role-arn", help="role that signs and encrypts")
    if "receiver" in parties:
        group.add_argument("--receiver-role-arn", help="role that decrypts and verifies")
    if not workloads:
        return parent
    group.add_argument("--external-id", help="sts:ExternalId, if the roles' trust requires one")
    if "sender" in parties:
        group.add_argument(
            "--sender-profile",
            default=os.environ.get(SENDER_PROFILE_VARIABLE) or None,
            help="AWS profile of the sender workload, which assumes SenderRole (default: "
            f"${SENDER_PROFILE_VARIABLE}, else the calling credentials)",
        )
    if "receiver" in parties:
        group.add_argument(
            "--receiver-profile",
            default=os.environ.get(RECEIVER_PROFILE_VARIABLE) or None,
            help="AWS profile of the receiver workload, which assumes ReceiverRole (default: "
            f"${RECEIVER_PROFILE_VARIABLE}, else the calling credentials)",
        )
    group.add_argument(
        "--no-assume-role",
        action="store_true",
        help="use the calling credentials as they are (already the sender or receiver)",
    )
    return parent


def _output_options(*, force: bool = True, progress: bool = True) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("output")
    group.add_argument("--json", action="store_true", help="print one JSON document on stdout")
    if force:
        group.add_argument("--force", action="store_true", help="replace existing output files")
    if progress:
        group.add_argument(
            "--no-progress", action="store_true", help="no progress display on stderr"
        )
    return parent


def _passphrase_option(group: argparse._ArgumentGroup) -> None:
    group.add_argument(
        "--passphrase-file",
        type=Path,
        metavar="FILE",
        help="the passphrase of an encrypted private-key PEM, read from FILE (default: "
        f"${commands.PASSPHRASE_VARIABLE}); never on the command line",
    )


def build_parser() -> argparse.ArgumentParser:
    # Each command gets only the options it reads.
    aws, stack = _aws_options(), _stack_options()
    both_keys = _key_options("encryption", "signing")
    parser = _Parser(
        prog=PROG,
        description="Sign and encrypt with AWS KMS asymmetric keys: the seed's sender and "
        "receiver flow, done right. Works the same against AWS and the local endpoint "
        "(AWS_ENDPOINT_URL).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser(
        "run",
        parents=[aws, stack, both_keys, _role_options(*BOTH), _output_options(progress=False)],
        help="the whole walkthrough, with least-privilege checks and a summary",
        description="Find the stack, sign as SenderRole (assumed by the sender workload), "
        "encrypt, decrypt and verify as ReceiverRole (assumed by the receiver workload), check "
        "least privilege, print a summary and the access matrix. Exits 4 if any expectation "
        "fails.",
    )
    run.add_argument("--format", choices=FORMATS, default=commands.DEFAULT_FORMAT)
    run.add_argument("--workdir", type=Path, help="directory for the files (default: new temp)")
    run.set_defaults(handler=commands.run_command)

    send = sub.add_parser(
        "send",
        parents=[aws, stack, both_keys, _role_options("sender"), _output_options()],
        help="sign and encrypt files as SenderRole",
        description="Sign and encrypt INPUT (several files: envelope format only) into "
        "OUTPUT as SenderRole.",
    )
    send.add_argument("inputs", nargs="+", type=Path, metavar="INPUT")
    send.add_argument("-o", "--output", type=Path, required=True, help="encrypted file")
    send.add_argument("--format", choices=FORMATS, default=commands.DEFAULT_FORMAT)
    partner = send.add_argument_group(
        "recipients and partner keys (envelope; docs/DEMO.md, Partners without AWS)"
    )
    partner.add_argument(
        "--recipient-public-key",
        type=Path,
        action="append",
        metavar="PEM",
        help="a recipient's public key, repeatable: ours from public-keys (named by the ARN "
        "on its key-id line) or a partner's (named by its fingerprint); wraps offline, 0 "
        "KMS Encrypt",
    )
    partner.add_argument(
        "--recipient-key",
        action="append",
        metavar="ARN",
        help="a recipient KMS key ARN, repeatable: 1 KMS Encrypt each (default, with no "
        "recipient option: the stack's encryption key)",
    )
    partner.add_argument(
        "--signing-private-key",
        type=Path,
        metavar="PEM",
        help="sign with this local ECC P-521 private key instead of KMS: no stack, no AWS "
        "(unless a --recipient-key needs KMS Encrypt)",
    )
    _passphrase_option(partner)
    send.set_defaults(handler=commands.send_command)

    receive = sub.add_parser(
        "receive",
        parents=[aws, stack, both_keys, _role_options("receiver"), _output_options()],
        help="decrypt and verify a file as ReceiverRole (envelope; seed with --format seed)",
        description="Decrypt and verify INPUT (a regular file) as ReceiverRole; write the "
        "verified files into OUT_DIR only after everything verified. A seed-format file is "
        "read only with --format seed: that format binds no recipient.",
    )
    receive.add_argument("input", type=Path, metavar="INPUT")
    receive.add_argument(
        "--format",
        choices=FORMATS,
        default=commands.DEFAULT_FORMAT,
        help="envelope (default), or seed to accept the seed format, which binds no recipient",
    )
    receive.add_argument(
        "--max-bytes",
        type=_limit("bytes"),
        default=envelope.DEFAULT_MAX_BYTES,
        help=f"refuse an envelope holding more file data (default {envelope.DEFAULT_MAX_BYTES})",
    )
    receive.add_argument(
        "--max-files",
        type=_limit("files"),
        default=envelope.DEFAULT_MAX_FILES,
        help=f"refuse an envelope holding more files (default {envelope.DEFAULT_MAX_FILES})",
    )
    receive.add_argument("-o", "--out-dir", type=Path, default=Path("."), help="default: .")
    receive.add_argument(
        "--evidence",
        type=Path,
        help="export third-party evidence here (envelope; default OUT_DIR/evidence)",
    )
    receive.add_argument("--no-evidence", action="store_true", help="do not export evidence")
    trust = receive.add_argument_group(
        "trusted senders and partner keys (envelope; docs/DEMO.md, Partners without AWS)"
    )
    trust.add_argument(
        "--sender-public-key",
        type=Path,
        action="append",
        metavar="PEM",
        help="trust this sender key, repeatable: ours from public-keys (by the ARN on its "
        "key-id line) or a partner's (by fingerprint); verifies offline, 0 KMS Verify. Only "
        "the keys given are trusted (default: the stack's signing key)",
    )
    trust.add_argument(
        "--trusted-senders",
        type=Path,
        action="append",
        metavar="FILE",
        help="a trust file of named sender keys (name: and key-id: lines above each PEM), "
        "repeatable",
    )
    trust.add_argument(
        "--recipient-private-key",
        type=Path,
        metavar="PEM",
        help="open with this local RSA-4096 private key instead of KMS: no stack, no AWS; "
        "needs --sender-public-key or --trusted-senders",
    )
    _passphrase_option(trust)
    # argparse declarations repeat their shape per option (duplicates D6): one option each.
    receive.add_argument(
        "--no-cache",
        action="store_true",
        help="no cached sender public key: KMS Verify every time (envelope; see SECURITY.md)",
    )
    receive.set_defaults(handler=commands.receive_command)

    public = sub.add_parser(
        "public-keys",
        parents=[aws, stack, both_keys, _role_options(*BOTH), _output_options(progress=False)],
        help="export both public keys as PEM (GetPublicKey)",
        description="Export the public keys with KMS GetPublicKey: the encryption key as "
        "SenderRole, the signing key as ReceiverRole (what the key policies allow).",
    )
    public.add_argument("-o", "--out-dir", type=Path, default=Path("."), help="default: .")
    public.set_defaults(handler=commands.public_keys_command)

    keygen = sub.add_parser(
        "keygen",
        parents=[_output_options(force=False, progress=False)],
        help="make a partner's own keys: P-521 signing and RSA-4096 encryption pairs (no AWS)",
        description="Write partner-signing.pem and partner-encryption.pem (private, mode "
        "0600) and their public PEMs (.pub.pem) into DIR, and print the fingerprints, the key "
        "ids the envelope names them by. Never replaces a file. No AWS.",
    )
    keygen.add_argument("directory", type=Path, metavar="DIR")
    keygen.set_defaults(handler=commands.keygen_command)

    verify = sub.add_parser(
        "verify",
        parents=[
            aws,
            stack,
            _key_options("signing"),
            _role_options("receiver"),
            _output_options(force=False),
        ],
        help="check a signature, with KMS Verify or --offline with a PEM key",
        description="Check SIGNATURE over FILE (ECDSA_SHA_512). --offline needs no AWS and "
        "agrees with `openssl dgst -sha512 -verify KEY -signature SIGNATURE FILE`.",
    )
    verify.add_argument("file", type=Path, metavar="FILE")
    verify.add_argument("-s", "--signature", type=Path, required=True)
    verify.add_argument("--offline", action="store_true", help="no AWS: use --public-key")
    verify.add_argument("--public-key", type=Path, help="signing key PEM (from public-keys)")
    verify.set_defaults(handler=commands.verify_command)

    access = sub.add_parser(
        "access",
        parents=[
            aws,
            stack,
            both_keys,
            _role_options(*BOTH, workloads=False),
            _output_options(force=False, progress=False),
        ],
        help="the access matrix: who may do what with each key",
        description="Build the access matrix from the deployed key policies (GetKeyPolicy, "
        "as the calling administrator) or from a synthesized template (--template), and the "
        "transitive matrix: who reaches each key action through sts:AssumeRole chains (live: "
        "iam:GetAccountAuthorizationDetails).",
    )
    access.add_argument("--template", type=Path, help="a synthesized template: no AWS call")
    access.add_argument("--account", default="123456789012", help="account for --template")
    access.add_argument(
        "--mermaid",
        action="store_true",
        help="print the transitive paths (principal -> role -> key action) as a Mermaid flowchart",
    )
    access.set_defaults(handler=commands.access_command)

    preflight_parser = sub.add_parser(
        "preflight",
        parents=[aws, stack, _output_options(force=False, progress=False)],
        help="read-only checks before a deploy to this account and region",
        description="Check, without changing anything, that `cdk deploy` of the synthesized "
        "template can succeed here: bootstrap, free names, permissions, principals, key-policy "
        "size, region and leftover local-endpoint exports. One PASS/FAIL/SKIP line each.",
    )
    preflight_parser.add_argument(
        "--template", type=Path, help="synthesized template [cdk.out/<stack>.template.json]"
    )
    preflight_parser.add_argument(
        "--local", action="store_true", help="the target is the local endpoint, not AWS"
    )
    preflight_parser.set_defaults(handler=operator_commands.preflight_command)
    operator_commands.add_audit_parser(
        sub, [aws, stack, both_keys, _output_options(force=False, progress=False)]
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], Any] = args.handler
    try:
        with _signals_clean_up():
            result = handler(args)
    except Terminated as exc:
        _error(f"terminated by {exc}; no partial output was left behind")
        return 128 + exc.signum
    except KmsSignEncryptError as exc:
        _error(with_option_hint(exc))
        return exc.exit_code
    except BrokenPipeError:
        return _reader_gone()
    except KeyboardInterrupt:
        _error("interrupted; no partial output was left behind")
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: still one line, the traceback only on request
        if os.environ.get(DEBUG_VARIABLE):
            raise
        _error(f"internal error ({type(exc).__name__}: {exc}); set {DEBUG_VARIABLE}=1 for details")
        return EXIT_ERROR
    try:
        if args.json and result.document is not None:
            print(json.dumps(result.document, indent=2, sort_keys=False))
        sys.stdout.flush()
    except BrokenPipeError:
        return _reader_gone()
    return result.exit_code if result.exit_code is not None else EXIT_OK


def _reader_gone() -> int:
    """stdout's reader left (``... | head``): end quietly, as a SIGPIPE'd program does.
    stdout goes to /dev/null so that the interpreter's final flush cannot fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return EXIT_BROKEN_PIPE


# The library names the caller's choice behind an error (``KmsSignEncryptError.setting``) in
# neutral words; here, and only here, it becomes the option that makes that choice.
OPTION_FOR_SETTING = {
    "overwrite": "--force",
    "profile": "--profile",
    "region": "--region",
    "max_attempts": "--max-attempts",
    "stack": "--stack-name or --name-prefix",
    "outputs_file": "--outputs-file",
    "format": "--format",
    "evidence_dir": "--evidence DIR or --no-evidence",
    "limits": "--max-bytes, --max-files",
    "signing_key": "--signing-key",
    "encryption_key": "--encryption-key",
    "recipient_public_key": "--recipient-public-key",
    "sender_public_key": "--sender-public-key",
    "recipients": "--recipient-public-key, --recipient-key",
    "trusted_senders": "--sender-public-key, --trusted-senders",
    "signing_private_key": "--signing-private-key",
    "recipient_private_key": "--recipient-private-key",
    "passphrase": "--passphrase-file or $KMS_SIGN_ENCRYPT_PASSPHRASE",
    "keygen_dir": "DIR",
    "window": "--since, --until",
}


def with_option_hint(error: KmsSignEncryptError) -> str:
    """The library's message, with the option behind its ``setting`` (if any)."""
    option = OPTION_FOR_SETTING.get(error.setting or "")
    return f"{error} (option {option})" if option else str(error)


def _error(message: str) -> None:
    line = " ".join(message.split())
    print(f"{PROG}: error: {line}", file=sys.stderr)
