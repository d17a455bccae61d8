"""The partner demo (`make demo-partner`): a partner with no AWS at all, in both directions.

Written only against the public library API (``kms_sign_encrypt``). Our side is the deployed
stack's SenderRole and ReceiverRole; the partner side runs each of its steps in a child
process whose environment has no AWS credentials, no config files, and an AWS endpoint URL
on a port that refuses connections: any AWS call there would fail the step.

    python -m demo.partner --outputs-file .local/cdk-outputs.json \\
        --sender-profile sender-workload --receiver-profile receiver-workload

It checks, by attempted operations, that an envelope signed by an untrusted partner key is
refused and that an envelope for recipient A cannot be opened by recipient B's key. Exit 0 if
every check passed, 4 if one failed, 1 on any other error (one line).
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import boto3

from kms_sign_encrypt import (
    AuthenticationError,
    Deployment,
    InputRefusedError,
    KmsSignEncryptError,
    PartnerReceiver,
    PartnerSender,
    Receiver,
    Sender,
    TrustedSenders,
    generate_partner_keys,
)

EXIT_OK, EXIT_ERROR, EXIT_EXPECTATION = 0, 1, 4
INVOICE = b'{"invoice": "ACME-2026-0042", "amount": "1200.00 EUR"}\n'
ORDER = b'{"order": "PO-7731", "items": 3}\n'


def say(text: str = "") -> None:
    print(text, flush=True)


# -- the partner's side: a child process with no AWS ----------------------------------------------


def no_aws_environment(home: Path) -> dict[str, str]:
    """The environment of a partner that has no AWS: no AWS_* variable but an endpoint URL on
    a port nothing listens on, no config files, no instance metadata."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{port}",
        AWS_CONFIG_FILE=str(home / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(home / "no-aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
        HOME=str(home),
    )
    return env


def as_partner(home: Path, step: str, **values: str) -> dict[str, str]:
    """Run one partner step (below) in a child process without AWS; its JSON answer."""
    command = [sys.executable, "-m", "demo.partner", "--partner-step", step, json.dumps(values)]
    done = subprocess.run(  # noqa: S603 (our own interpreter and module)
        command, env=no_aws_environment(home), capture_output=True, text=True, check=False
    )
    if done.returncode != 0 or not done.stdout.strip():
        raise KmsSignEncryptError(f"partner step {step} failed: {done.stderr.strip()[:300]}")
    return json.loads(done.stdout)


def partner_step(step: str, values: dict[str, str]) -> dict[str, str]:
    """One step as the partner: only local keys, never a session."""
    if step == "send":
        sender = PartnerSender(Path(values["signing_key"]).read_bytes())
        sent = sender.send(
            [values["input"]],
            values["output"],
            recipients=[Path(values["recipient"]).read_bytes()],
        )
        return {"sender": sent.sender_key_id, "recipients": ",".join(sent.recipients)}
    if step == "receive":
        receiver = PartnerReceiver(
            Path(values["encryption_key"]).read_bytes(),
            trusted_senders=TrustedSenders.from_pems(Path(values["trusted"]).read_bytes()),
        )
        try:
            got = receiver.receive(values["input"], values["out_dir"])
        except InputRefusedError as refused:
            return {"refused": str(refused)}
        return {"sender": got.sender_key_id, "files": ",".join(str(p) for p in got.files)}
    raise KmsSignEncryptError(f"unknown partner step {step!r}")


# -- our side, and the story -----------------------------------------------------------------------


def run(args: argparse.Namespace) -> int:
    deployment = Deployment.from_outputs_file(args.outputs_file)
    sender = Sender(
        boto3.Session(profile_name=args.sender_profile, region_name=deployment.region), deployment
    )
    receiver = Receiver(
        boto3.Session(profile_name=args.receiver_profile, region_name=deployment.region), deployment
    )
    with tempfile.TemporaryDirectory(prefix="kms-sign-encrypt-partner-") as directory:
        return _story(sender, receiver, Path(directory))


def _story(sender: Sender, receiver: Receiver, work: Path) -> int:
    acme, globex, mallory = (work / n for n in ("acme", "globex", "mallory"))
    checks: list[tuple[str, bool]] = []

    say("Partner demo: Acme has no AWS account; we have the deployed stack.")
    say(f"  work directory: {work}")
    say("\n1. Keys. Each partner makes its own (kms-sign-encrypt keygen, or plain openssl):")
    keys = {}
    for name, home in (("Acme", acme), ("Globex", globex), ("Mallory", mallory)):
        home.mkdir()
        keys[name] = generate_partner_keys(home)
        say(f"  {name}: signing {keys[name].signing_key_id}")
        say(f"  {' ' * len(name)}  encryption {keys[name].encryption_key_id}")
    say("  We export our public keys (GetPublicKey as SenderRole and ReceiverRole), each")
    say("  naming its KMS key by ARN on a key-id line, and hand them to Acme:")
    (acme / "our-encryption.pem").write_bytes(sender.encryption_public_key_pem())
    (acme / "our-signing.pem").write_bytes(receiver.signing_public_key_pem())
    for name in ("our-encryption.pem", "our-signing.pem"):
        say(f"    {name}: {(acme / name).read_text().splitlines()[0]}")

    say("\n2. Acme -> us. Acme signs with its own key and wraps to our encryption key's PEM,")
    say("   in a process with no AWS credentials and an endpoint that refuses connections:")
    (acme / "invoice.json").write_bytes(INVOICE)
    # Each step is one partner command with its own options (shape-only repeats, duplicates D2).
    sent = as_partner(
        acme,
        "send",
        signing_key=str(keys["Acme"].signing_private),
        input=str(acme / "invoice.json"),
        output=str(work / "from-acme.enc"),
        recipient=str(acme / "our-encryption.pem"),
    )
    say(f"   sealed from-acme.enc: sender {sent['sender']}, for {sent['recipients']}")
    inbox = work / "our-inbox"
    inbox.mkdir()
    trust_file = work / "trusted-partners.txt"  # a trust file of named keys
    trust_file.write_bytes(b"name: acme\n" + keys["Acme"].signing_public.read_bytes())
    acme_trust = TrustedSenders.from_trust_file(trust_file)
    got = receiver.receive(work / "from-acme.enc", inbox, trusted_senders=acme_trust)
    say(f"   we received it as ReceiverRole: {dict(got.calls)}")
    say(f"   signed by {got.sender_key_arn} (trusted as {got.sender_name!r}); wrote {got.files[0]}")
    checks.append(
        ("Acme's envelope opens for us and verifies", got.files[0].read_bytes() == INVOICE)
    )

    say("\n3. Us -> Acme. We sign with KMS and wrap to Acme's own public key (0 Encrypt):")
    (work / "order.json").write_bytes(ORDER)
    ours = sender.send(
        [work / "order.json"],
        work / "to-acme.enc",
        recipients=[keys["Acme"].encryption_public.read_bytes()],
    )
    say(
        f"   sealed to-acme.enc as SenderRole: {dict(ours.calls)}; for {', '.join(ours.recipients)}"
    )
    (acme / "inbox").mkdir()
    opened = as_partner(
        acme,
        "receive",
        encryption_key=str(keys["Acme"].encryption_private),
        trusted=str(acme / "our-signing.pem"),
        input=str(work / "to-acme.enc"),
        out_dir=str(acme / "inbox"),
    )
    say(
        f"   Acme opened it with no AWS: signed by {opened.get('sender')}, "
        f"wrote {opened.get('files')}"
    )
    checks.append(
        (
            "Acme opens our envelope with no AWS",
            (acme / "inbox" / "order.json").read_bytes() == ORDER,
        )
    )

    say("\n4. Check: an envelope signed by an untrusted partner key is refused.")
    (mallory / "invoice.json").write_bytes(INVOICE)
    as_partner(
        mallory,
        "send",
        signing_key=str(keys["Mallory"].signing_private),
        input=str(mallory / "invoice.json"),
        output=str(work / "from-mallory.enc"),
        recipient=str(acme / "our-encryption.pem"),
    )
    mallory_inbox = work / "mallory-inbox"
    mallory_inbox.mkdir()
    try:
        receiver.receive(work / "from-mallory.enc", mallory_inbox, trusted_senders=acme_trust)
        refused = False
        say("   FAIL: our receiver accepted Mallory's envelope")
    except AuthenticationError as error:
        refused = not any(mallory_inbox.iterdir())
        say(f"   refused: {error}; nothing written")
    checks.append(("an untrusted partner key is refused", refused))

    say("\n5. Check: the envelope for Acme cannot be opened by Globex's key.")
    (globex / "inbox").mkdir()
    tried = as_partner(
        globex,
        "receive",
        encryption_key=str(keys["Globex"].encryption_private),
        trusted=str(acme / "our-signing.pem"),
        input=str(work / "to-acme.enc"),
        out_dir=str(globex / "inbox"),
    )
    say(f"   {tried.get('refused', 'NOT REFUSED')}")
    checks.append(
        (
            "recipient B cannot open A's envelope",
            "refused" in tried and not any((globex / "inbox").iterdir()),
        )
    )

    say("\nSummary:")
    for what, passed in checks:
        say(f"  {'PASS' if passed else 'FAIL'}  {what}")
    return EXIT_OK if all(passed for _, passed in checks) else EXIT_EXPECTATION


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.partner", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--outputs-file", type=Path)
    parser.add_argument("--sender-profile")
    parser.add_argument("--receiver-profile")
    parser.add_argument("--partner-step", help=argparse.SUPPRESS)
    parser.add_argument("values", nargs="?", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.partner_step:
            print(json.dumps(partner_step(args.partner_step, json.loads(args.values or "{}"))))
            return EXIT_OK
        if args.outputs_file is None:
            parser.error("--outputs-file is required (cdk deploy --outputs-file)")
        return run(args)
    except KmsSignEncryptError as error:
        print(f"demo-partner: error: {error}", file=sys.stderr)
        return error.exit_code if error.exit_code != EXIT_OK else EXIT_ERROR


if __name__ == "__main__":
    sys.exit(main())
