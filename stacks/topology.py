"""Parties in their own AWS accounts (issue 13): the topology settings, validated once.

With `sample:keyOwnerAccount` empty (the default) the app is the seed's single-account stack,
unchanged. With it set, the app holds one stack per account:

- the key-owner stack (`{prefix}KmsSignEncryptKeyOwnerStack`, in the key-owner account): the
  signing key and one encryption key per receiver, whose key policies name the parties' role
  ARNs exactly (never an account root);
- one party stack per party (`{prefix}KmsSignEncryptSenderStack`,
  `{prefix}KmsSignEncryptReceiver{Name}Stack`, each in its party's account): the party's role,
  whose identity policy allows exactly its cross-account KMS actions on the key ARNs.

The key ARNs reach the party stacks through `sample:keyOwnerOutputs`: the key-owner stack's
outputs (a `cdk deploy --outputs-file` file, or a JSON object of them). Without it the party
stacks hold only their roles, which the key policies need to exist first (KMS refuses a key
policy naming a missing role): deploy party stacks, key-owner stack, party stacks again.

Settings (CDK context; a bad value raises `ConfigError` naming the setting, what is allowed
and the value received):

- `sample:keyOwnerAccount`: "" or a 12-digit account ID;
- `sample:senderAccount`, `sample:senderPrincipal` (a role name, or a role ARN in the sender
  account);
- `sample:receivers`: a JSON list of `{"name", "account", "principal"}` (name: letters and
  digits, it names the receiver's key, outputs and stack);
- `sample:allowSharedAccounts`: true lets one account hold several parties (and the keys).
  One principal as two parties is refused whatever it says: separation of duties.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from stacks.config import ROLE_NAME_MAX_LENGTH, ConfigError, json_context

KEY_OWNER_ACCOUNT: Final = "sample:keyOwnerAccount"
SENDER_ACCOUNT: Final = "sample:senderAccount"
# One Final constant per setting, as stacks/outputs.py does for outputs (duplicates D18).
SENDER_PRINCIPAL: Final = "sample:senderPrincipal"
RECEIVERS: Final = "sample:receivers"
ALLOW_SHARED_ACCOUNTS: Final = "sample:allowSharedAccounts"
KEY_OWNER_OUTPUTS: Final = "sample:keyOwnerOutputs"
RECEIVER_DEPLOYMENT: Final = "sample:receiverDeployment"
STACKS: Final = "stacks"
STACKSET: Final = "stackset"

SETTINGS: Final = (
    KEY_OWNER_ACCOUNT,
    SENDER_ACCOUNT,
    SENDER_PRINCIPAL,
    RECEIVERS,
    ALLOW_SHARED_ACCOUNTS,
    KEY_OWNER_OUTPUTS,
    RECEIVER_DEPLOYMENT,
)
"""The topology's context keys: `stacks.app` hands them here, the rest to `StackConfig`."""

KEY_OWNER_STACK: Final = "KmsSignEncryptKeyOwnerStack"
RECEIVER_STACKSET_STACK: Final = "KmsSignEncryptReceiverStackSet"
SENDER_STACK: Final = "KmsSignEncryptSenderStack"
RECEIVER_NAME_MAX_LENGTH: Final = 32
MAX_RECEIVERS: Final = 16  # the envelope's recipient limit (envelope.MAX_RECIPIENTS)

_ACCOUNT = re.compile(r"\d{12}", re.ASCII)
_RECEIVER_NAME = re.compile(r"[A-Z][A-Za-z0-9]*", re.ASCII)
_ROLE_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
_ROLE_ARN = re.compile(
    r"arn:(aws|aws-cn|aws-us-gov):iam::(\d{12}):role/((?:[\w+=,.@-]+/)*)([\w+=,.@-]+)", re.ASCII
)
_KEY_ARN = re.compile(
    r"arn:(?:aws|aws-cn|aws-us-gov):kms:[a-z0-9-]+:(\d{12}):key/[0-9a-f-]{36}", re.ASCII
)

# The key-owner stack's output names (stacks.key_owner_stack writes them).
SIGNING_KEY_ARN_OUTPUT: Final = "SigningKeyArn"


def encryption_key_arn_output(receiver: str) -> str:
    return f"EncryptionKeyArn{receiver}"


@dataclass(frozen=True)
class Party:
    """One party: its account, and the role there that acts for it."""

    account: str
    role_name: str
    role_path: str = "/"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account}:role{self.role_path}{self.role_name}"


@dataclass(frozen=True)
class Receiver(Party):
    name: str = ""


@dataclass(frozen=True)
class KeyArns:
    """The key-owner stack's keys, as its outputs name them."""

    signing_key: str
    encryption_keys: Mapping[str, str]  # receiver name -> key ARN


@dataclass(frozen=True)
class Topology:
    key_owner_account: str
    sender: Party
    receivers: tuple[Receiver, ...]
    allow_shared_accounts: bool = False
    key_arns: KeyArns | None = None
    receiver_stackset: bool = False
    """`sample:receiverDeployment=stackset`: one receiver template for CloudFormation
    StackSets (key ARNs as parameters) instead of a stack per receiver."""

    def stack_name(self, prefix: str, party: Party | None = None) -> str:
        """The stack of the key owner (`party` None), the sender or a receiver."""
        if party is None:
            return f"{prefix}{KEY_OWNER_STACK}"
        if isinstance(party, Receiver) and not party.name:
            return f"{prefix}{RECEIVER_STACKSET_STACK}"
        if isinstance(party, Receiver):
            return f"{prefix}KmsSignEncryptReceiver{party.name}Stack"
        return f"{prefix}{SENDER_STACK}"

    @classmethod
    def from_context(cls, context: Mapping[str, object], prefix: str = "") -> Topology | None:
        """None for the single-account default; else the validated topology."""
        owner = context.get(KEY_OWNER_ACCOUNT, "")
        if owner == "":
            given = [k for k in SETTINGS if k in context and context[k] not in ("", None, [])]
            given = [k for k in given if k != ALLOW_SHARED_ACCOUNTS]
            if given:
                raise ConfigError(
                    given[0],
                    f"set only together with {KEY_OWNER_ACCOUNT}",
                    context[given[0]],
                    message=(
                        f"{given[0]} needs {KEY_OWNER_ACCOUNT} (the parties' topology); "
                        f"got {context[given[0]]!r} with no key-owner account"
                    ),
                )
            return None
        owner_account = _parse_account(KEY_OWNER_ACCOUNT, owner)
        sender_account = _parse_account(SENDER_ACCOUNT, context.get(SENDER_ACCOUNT, ""))
        sender = _parse_principal(
            SENDER_PRINCIPAL, context.get(SENDER_PRINCIPAL, ""), sender_account, "sender"
        )
        receivers = _parse_receivers(context.get(RECEIVERS, []))
        shared = _parse_bool(ALLOW_SHARED_ACCOUNTS, context.get(ALLOW_SHARED_ACCOUNTS, False))
        deployment = context.get(RECEIVER_DEPLOYMENT, STACKS)
        if deployment not in (STACKS, STACKSET):
            raise ConfigError(RECEIVER_DEPLOYMENT, f"{STACKS} or {STACKSET}", deployment)
        topology = cls(owner_account, sender, receivers, shared)
        topology._check_separation()
        key_arns = None
        outputs = context.get(KEY_OWNER_OUTPUTS, "")
        if outputs not in ("", None):
            key_arns = _parse_key_outputs(outputs, topology, topology.stack_name(prefix))
        stackset = deployment == STACKSET
        if stackset and len({(r.role_path, r.role_name) for r in receivers}) != 1:
            raise ConfigError(
                RECEIVERS,
                f"principals of one role name in every receiver account with "
                f"{RECEIVER_DEPLOYMENT}={STACKSET} (one template for all)",
                [r.role_arn for r in receivers],
            )
        return cls(owner_account, sender, receivers, shared, key_arns, stackset)

    def stackset_receiver(self) -> Receiver:
        """The receiver of the StackSets template: the receivers' one role, in whichever
        account a stack instance lands (the account is `AWS::AccountId` there)."""
        first = self.receivers[0]
        return Receiver("", first.role_name, first.role_path, name="")

    def _check_separation(self) -> None:
        parties: list[tuple[str, Party]] = [(SENDER_PRINCIPAL, self.sender)]
        parties += [(f"{RECEIVERS} {r.name}", r) for r in self.receivers]
        arns: dict[str, str] = {}
        accounts: dict[str, str] = {}
        for setting, party in parties:
            if party.role_arn in arns:
                raise ConfigError(
                    setting,
                    f"a principal other than {arns[party.role_arn]}'s (separation of duties: "
                    "one principal as two parties holds both parties' key rights)",
                    party.role_arn,
                )
            arns[party.role_arn] = setting
            if not self.allow_shared_accounts:
                if party.account in accounts:
                    raise ConfigError(
                        setting,
                        f"an account other than {accounts[party.account]}'s (each party in its "
                        f"own account; set {ALLOW_SHARED_ACCOUNTS}=true to share one)",
                        party.account,
                    )
                if party.account == self.key_owner_account:
                    raise ConfigError(
                        setting,
                        f"an account other than {KEY_OWNER_ACCOUNT} (whose administrators "
                        f"manage the keys; set {ALLOW_SHARED_ACCOUNTS}=true to share it)",
                        party.account,
                    )
                accounts[party.account] = setting


def _parse_account(setting: str, value: object) -> str:
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise ConfigError(setting, "a 12-digit AWS account ID", value)
    return value


def _parse_bool(setting: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ConfigError(setting, "true or false", value)


def _parse_principal(setting: str, value: object, account: str, party: str) -> Party:
    allowed = (
        f"a role name (1-{ROLE_NAME_MAX_LENGTH} characters from A-Z a-z 0-9 +=,.@_-) or a role "
        f"ARN in the {party}'s account {account} (arn:aws:iam::{account}:role/NAME)"
    )
    if not isinstance(value, str) or not value:
        raise ConfigError(setting, allowed, value)
    if value.startswith("arn:"):
        match = _ROLE_ARN.fullmatch(value)
        if match is None:
            raise ConfigError(setting, allowed, value)
        if match.group(2) != account:
            raise ConfigError(
                setting,
                f"a role in the {party}'s account {account}",
                value,
                message=(
                    f"{setting} must be a role in the {party}'s account {account} (the "
                    f"principal acts in its own account); got {value!r}"
                ),
            )
        name, path = match.group(4), "/" + match.group(3)
    else:
        name, path = value, "/"
    if not _ROLE_NAME.fullmatch(name) or len(name) > ROLE_NAME_MAX_LENGTH:
        raise ConfigError(setting, allowed, value)
    return Party(account, name, path)


def _parse_receivers(value: object) -> tuple[Receiver, ...]:
    allowed = (
        f"a JSON list of 1-{MAX_RECEIVERS} receivers, each "
        '{"name": "A", "account": "444455556666", "principal": "ReceiverRole"} (name: a capital '
        f"letter, then letters and digits, up to {RECEIVER_NAME_MAX_LENGTH})"
    )
    items = json_context(RECEIVERS, allowed, value)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_RECEIVERS:
        raise ConfigError(RECEIVERS, allowed, value)
    receivers: list[Receiver] = []
    for item in items:
        if not isinstance(item, dict) or set(item) != {"name", "account", "principal"}:
            raise ConfigError(RECEIVERS, allowed, item)
        name = item["name"]
        if (
            not isinstance(name, str)
            or not _RECEIVER_NAME.fullmatch(name)
            or len(name) > RECEIVER_NAME_MAX_LENGTH
        ):
            raise ConfigError(f"{RECEIVERS} name", allowed, name)
        if any(r.name == name for r in receivers):
            raise ConfigError(RECEIVERS, "receivers with distinct names", name)
        setting = f"{RECEIVERS} {name}"
        account = _parse_account(f"{setting} account", item["account"])
        party = _parse_principal(f"{setting} principal", item["principal"], account, "receiver")
        receivers.append(Receiver(party.account, party.role_name, party.role_path, name=name))
    return tuple(receivers)


def _parse_key_outputs(value: object, topology: Topology, stack_name: str) -> KeyArns:
    """The key ARNs from the key-owner stack's outputs: a JSON object of outputs, or the path
    of a `cdk deploy --outputs-file` file holding the key-owner stack."""
    setting = KEY_OWNER_OUTPUTS
    allowed = (
        f"the key-owner stack's outputs: a `cdk deploy --outputs-file` file holding {stack_name}, "
        "or a JSON object of its outputs"
    )
    outputs: object = value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            outputs = json.loads(value)
        except json.JSONDecodeError:
            raise ConfigError(setting, allowed, value) from None
    elif isinstance(value, str):
        try:
            document = json.loads(Path(value).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            raise ConfigError(setting, allowed, value) from None
        if not isinstance(document, dict) or stack_name not in document:
            raise ConfigError(setting, allowed, value)
        outputs = document[stack_name]
    if not isinstance(outputs, dict):
        raise ConfigError(setting, allowed, value)
    names = [
        SIGNING_KEY_ARN_OUTPUT,
        *(encryption_key_arn_output(r.name) for r in topology.receivers),
    ]
    arns: dict[str, str] = {}
    for name in names:
        arn = outputs.get(name)
        match = _KEY_ARN.fullmatch(arn) if isinstance(arn, str) else None
        if match is None or match.group(1) != topology.key_owner_account:
            raise ConfigError(
                f"{setting} {name}",
                f"a KMS key ARN in the key-owner account {topology.key_owner_account}",
                arn,
            )
        arns[name] = arn
    return KeyArns(
        signing_key=arns[SIGNING_KEY_ARN_OUTPUT],
        encryption_keys={
            r.name: arns[encryption_key_arn_output(r.name)] for r in topology.receivers
        },
    )
