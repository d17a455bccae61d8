"""The operator commands `audit` and `preflight`: options in, library calls, lines out."""

from __future__ import annotations

import argparse
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kms_sign_encrypt.audit import (
    DEFAULT_WINDOW,
    LOOKBACK_LIMIT,
    SIGN_WINDOW,
    iso_time,
    key_generations,
    lookup,
    parse_time,
    sign_events_for,
    table,
    with_key_arns,
)
from kms_sign_encrypt.aws import CallMetrics, ClientSettings, open_caller_session
from kms_sign_encrypt.errors import EXIT_ERROR, UsageError
from kms_sign_encrypt.files import read_input
from kms_sign_encrypt.preflight import Target, load_template, report, run_checks
from kms_sign_encrypt.stack import DEFAULT_STACK_NAME, ResourceOptions, discover, stack_name_for
from kms_sign_encrypt_cli.commands import Result

# -- the command ----------------------------------------------------------------------------


def audit_command(args: argparse.Namespace) -> Result:

    if args.statement is not None:
        return _statement_audit(args)
    now = datetime.now(UTC)
    since = parse_time(args.since, "--since", now=now) if args.since else now - DEFAULT_WINDOW
    until = parse_time(args.until, "--until", now=now) if args.until else None
    if now - since > LOOKBACK_LIMIT:
        raise UsageError(f"--since {args.since!r} is more than 90 days ago: CloudTrail keeps 90")
    metrics = CallMetrics()
    caller = open_caller_session(
        profile=args.profile,
        region=args.region,
        settings=ClientSettings(retry_mode=args.retry_mode, max_attempts=args.max_attempts),
        metrics=metrics,
    )
    options = ResourceOptions(
        stack_name=args.stack_name,
        outputs_file=args.outputs_file,
        encryption_key=args.encryption_key,
        signing_key=args.signing_key,
    )
    resources = discover(options, caller, ("encryption_key", "signing_key"))
    keys = key_generations(with_key_arns(caller, resources))
    entries = lookup(caller, keys, since=since, until=until)
    window = f"{iso_time(since)} to {iso_time(until) if until else 'now'}"
    if not args.json:
        print(f"Cryptographic calls on {len(keys)} keys from {window} (CloudTrail LookupEvents):")
        for line in table(entries):
            print(line)
    return Result(
        {
            "since": iso_time(since),
            "until": iso_time(until) if until else None,
            "keys": keys,
            "events": [entry.as_dict() for entry in entries],
        }
    )


def _statement_audit(args: argparse.Namespace) -> Result:
    """`audit --statement FILE`: the Sign calls on the statement's sender key near its time."""

    data = read_input(args.statement, limit=64 * 1024)
    try:
        statement = json.loads(data)
    except ValueError:
        raise UsageError(
            f"{args.statement} is not JSON: pass the evidence's statement.json"
        ) from None
    if not isinstance(statement, dict):
        raise UsageError(f"{args.statement} is not a statement: pass the evidence's statement.json")
    # Each operator command opens its own caller session (shape-only, duplicates D38).
    caller = open_caller_session(
        profile=args.profile,
        region=args.region,
        settings=ClientSettings(retry_mode=args.retry_mode, max_attempts=args.max_attempts),
        metrics=CallMetrics(),
    )
    entries = sign_events_for(caller, statement)
    digest = hashlib.sha512(data).hexdigest()
    if not args.json:
        print(
            f"Sign calls on {statement['sender']} within {int(SIGN_WINDOW.total_seconds() // 60)} "
            f"minutes of the statement's created {statement['created']} (statement SHA-512 "
            f"{digest[:16]}...):"
        )
        for line in table(entries):
            print(line)
    return Result(
        {
            "statement_sha512": digest,
            "sender_key": statement["sender"],
            "created": statement["created"],
            "sign_events": [e.as_dict() for e in entries],
        }
    )


def add_audit_parser(sub: Any, parents: list[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser(
        "audit",
        parents=parents,
        help="who signed, verified, encrypted and decrypted with the keys (CloudTrail)",
        description="List Sign, Verify, Encrypt, Decrypt and GetPublicKey calls on the "
        "deployment's keys from CloudTrail LookupEvents: time, caller (role session, source "
        "identity), key generation, algorithm and outcome, refusals included.",
    )
    audit.add_argument("--since", help="ISO 8601 time or age like 2h (default: 24h)")
    audit.add_argument("--until", help="ISO 8601 time or age like 15m (default: now)")
    audit.add_argument(
        "--statement",
        type=Path,
        help="statement.json from received evidence: list the Sign calls that may have made it",
    )
    audit.set_defaults(handler=audit_command)


def preflight_command(args: argparse.Namespace) -> Result:
    """The CLI's `preflight`: run the checks, one line each; exit 1 if one failed."""

    options = ResourceOptions(stack_name=args.stack_name, name_prefix=args.name_prefix)
    stack_name = stack_name_for(options) or DEFAULT_STACK_NAME
    template_path = args.template or Path("cdk.out") / f"{stack_name}.template.json"
    target = Target(stack_name, load_template(template_path), local=args.local)
    session = open_caller_session(
        profile=args.profile,
        region=args.region,
        settings=ClientSettings(retry_mode=args.retry_mode, max_attempts=args.max_attempts),
        metrics=CallMetrics(),
    )
    checks = run_checks(session, target)
    if args.json:
        ok = not any(c.outcome == "FAIL" for c in checks)
        document = {"stack": stack_name, "checks": [c.__dict__ for c in checks], "ok": ok}
        return Result(document, None if ok else EXIT_ERROR)
    ok = report(checks, lambda text: print(text, flush=True))
    return Result(None, None if ok else EXIT_ERROR)
