"""The stack's configuration: read from CDK context once, validated once, then immutable.

Every setting is a `sample:*` context key. `cdk.json` holds the defaults; `-c key=value`
overrides arrive as strings, so each parser accepts both the JSON type and its string form.
A bad value raises `ConfigError`, whose message names the setting, what is allowed and the
value received. Nothing downstream re-validates: the stack trusts a `StackConfig`.
"""

from __future__ import annotations

import enum
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

CONTEXT_PREFIX: Final = "sample:"

STACK_BASE_NAME: Final = "KmsSignEncryptStack"

PENDING_WINDOW_MIN_DAYS: Final = 7
PENDING_WINDOW_MAX_DAYS: Final = 30

NAME_PREFIX_MAX_LENGTH: Final = 32
ROLE_NAME_MAX_LENGTH: Final = 64
ALIAS_NAME_MAX_LENGTH: Final = 256
EXTERNAL_ID_MIN_LENGTH: Final = 2
EXTERNAL_ID_MAX_LENGTH: Final = 1224
TAG_KEY_MAX_LENGTH: Final = 128
TAG_VALUE_MAX_LENGTH: Final = 256
MAX_TAGS: Final = 50

# The name prefix lands in a stack name, two role names and two alias names: only characters
# valid in all three, starting with a letter (stack names must).
_NAME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9-]*")
# KMS CreateAlias: AliasName pattern, minus the reserved `alias/aws/` namespace.
_ALIAS_NAME = re.compile(r"alias/[A-Za-z0-9/_-]+")
_RESERVED_ALIAS_PREFIX: Final = "alias/aws/"
# IAM CreateRole: RoleName pattern.
_ROLE_NAME = re.compile(r"[\w+=,.@-]+", re.ASCII)
# A principal a key policy or trust policy can name: an account root, role or user ARN.
_PRINCIPAL_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov)?:iam::\d{12}:(?:root|(?:role|user)/[\w+=,.@/-]{1,512})", re.ASCII
)
# STS AssumeRole: ExternalId pattern.
_EXTERNAL_ID = re.compile(r"[\w+=,.@:/-]+", re.ASCII)
# Resource tags (KMS TagResource and IAM TagRole accept the same set).
_TAG_TEXT = re.compile(r"[\w\s.:/=+@-]*")
_RESERVED_TAG_PREFIX: Final = "aws:"


class ConfigError(ValueError):
    """A context value is invalid. The message names the setting, what is allowed and the value."""

    def __init__(
        self, setting: str, allowed: str, received: object, *, message: str | None = None
    ) -> None:
        self.setting = setting
        self.allowed = allowed
        self.received = received
        super().__init__(message or f"{setting} must be {allowed}; got {received!r}")


class KeyRemoval(enum.Enum):
    """What `cdk destroy` (or removing a key from the stack) does to a key."""

    RETAIN = "retain"
    """The key stays in the account, enabled, under its key policy; only the stack forgets it."""
    DESTROY = "destroy"
    """The key is scheduled for deletion after the pending window (for sandboxes)."""


# -- issue 11: role naming -----------------------------------------------------------------------


class RoleNames(enum.Enum):
    """How the two roles are named. IAM role names are global to an account (every region)."""

    FIXED = "fixed"
    """`{namePrefix}SenderRole`/`{namePrefix}ReceiverRole`: the seed's names, one deployment
    per account and prefix (a second region needs another prefix)."""
    GENERATED = "generated"
    """No RoleName: CloudFormation generates a unique name (`{stack}-SenderRole...-<suffix>`),
    so the same prefix can be deployed in several regions of one account."""


def _parse_role_names(setting: str, value: object) -> RoleNames:
    for option in RoleNames:
        if value == option.value:
            return option
    raise ConfigError(setting, "fixed or generated", value)


# -- end of issue 11 block -------------------------------------------------------------------------


@dataclass(frozen=True)
class StackConfig:
    """Validated settings of one deployment of the stack. Build it with `from_context`."""

    name_prefix: str = ""
    encryption_key_alias: str = "alias/sample-encrypt-decrypt-key"
    signing_key_alias: str = "alias/sample-sign-verify-key"
    sender_role_name: str = "SenderRole"
    receiver_role_name: str = "ReceiverRole"
    sender_principals: tuple[PartyPrincipal, ...] = ()
    """Who may assume the sender role; empty means the default sender workload role."""
    receiver_principals: tuple[PartyPrincipal, ...] = ()
    """Who may assume the receiver role; empty means the default receiver workload role."""
    admin_principals: tuple[str, ...] = ()
    """Principal ARNs that administer the keys; empty means this account (its root)."""
    key_removal: KeyRemoval = KeyRemoval.RETAIN
    pending_window_days: int = PENDING_WINDOW_MAX_DAYS
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    bootstrapless: bool = False
    # -- issue 11: role naming (IAM role names are account-global) --
    role_names: RoleNames = RoleNames.FIXED
    alarm_email: str | None = None  # issue 15: who the key-change alarms e-mail
    # issue 15: the keys' generations, oldest first, the last current (see the block at the end)
    encryption_key_generations: tuple[KeyGeneration, ...] = field(
        default_factory=lambda: DEFAULT_GENERATIONS
    )
    signing_key_generations: tuple[KeyGeneration, ...] = field(
        default_factory=lambda: DEFAULT_GENERATIONS
    )

    @property
    def stack_name(self) -> str:
        return f"{self.name_prefix}{STACK_BASE_NAME}"

    @property
    def encryption_key_alias_name(self) -> str:
        """The encryption key's alias with the name prefix applied."""
        return _prefixed_alias(self.name_prefix, self.encryption_key_alias)

    @property
    def signing_key_alias_name(self) -> str:
        """The signing key's alias with the name prefix applied."""
        return _prefixed_alias(self.name_prefix, self.signing_key_alias)

    @property
    def sender_role_physical_name(self) -> str | None:
        """The sender role's RoleName, or None to let CloudFormation generate a unique one."""
        return self.sender_role_full_name if self.role_names is RoleNames.FIXED else None

    @property
    def receiver_role_physical_name(self) -> str | None:
        """The receiver role's RoleName, or None to let CloudFormation generate a unique one."""
        return self.receiver_role_full_name if self.role_names is RoleNames.FIXED else None

    @property
    def sender_role_full_name(self) -> str:
        return f"{self.name_prefix}{self.sender_role_name}"

    @property
    def receiver_role_full_name(self) -> str:
        return f"{self.name_prefix}{self.receiver_role_name}"

    @property
    def sender_workload_role_name(self) -> str:
        """The default sender principal's role name (trusted when sample:senderPrincipals is [])."""
        return f"{self.name_prefix}{DEFAULT_SENDER_WORKLOAD}"

    @property
    def receiver_workload_role_name(self) -> str:
        """The default receiver principal's role name (when sample:receiverPrincipals is [])."""
        return f"{self.name_prefix}{DEFAULT_RECEIVER_WORKLOAD}"

    @classmethod
    def from_context(cls, context: Mapping[str, object]) -> StackConfig:
        """Parse and validate every `sample:*` key of `context`; raise `ConfigError` on the first
        bad one. Keys absent from `context` take the dataclass defaults."""
        _reject_removed_settings(context)
        unknown = sorted(k for k in context if k.startswith(CONTEXT_PREFIX) and k not in _SETTINGS)
        if unknown:
            # Most likely a typo, which would otherwise be silently ignored.
            setting, known = unknown[0], ", ".join(_SETTINGS)
            received = context[setting]
            raise ConfigError(
                setting,
                f"one of {known}",
                received,
                message=f"{setting} is not a setting (the settings are {known}); got {received!r}",
            )
        values = {
            attribute: parse(key, context[key])
            for key, (attribute, parse) in _SETTINGS.items()
            if key in context
        }
        config = cls(**values)
        config._check_combined()
        return config

    def to_context(self) -> dict[str, object]:
        """The `sample:*` context that `from_context` turns back into this configuration."""
        values: dict[str, object] = {}
        for key, (attribute, _parse) in _SETTINGS.items():
            value = getattr(self, attribute)
            if isinstance(value, enum.Enum):
                value = value.value
            elif isinstance(value, tuple):
                value = [_principal_context(item) for item in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            elif value is None:
                value = ""  # sample:alarmEmail: no subscription
            values[key] = value
        return values

    def validated(self) -> StackConfig:
        """This configuration checked as `from_context` checks context, for code that builds a
        `StackConfig` itself (the `KmsSignEncrypt` construct). The `ConfigError` names the
        field (`pending_window_days`), not the context key."""
        try:
            return StackConfig.from_context(self.to_context())
        except ConfigError as error:
            fields = {key: attribute for key, (attribute, _parse) in _SETTINGS.items()}

            def field_name(match: re.Match[str]) -> str:
                return fields.get(match.group(0), match.group(0))

            raise ConfigError(
                fields.get(error.setting, error.setting),
                error.allowed,
                error.received,
                message=_SETTING_NAME.sub(field_name, str(error)),
            ) from None

    def _check_combined(self) -> None:
        """Checks on the names the prefix produces, which no single setting can do alone."""
        for setting, name in (
            ("sample:senderRoleName", self.sender_role_full_name),
            ("sample:receiverRoleName", self.receiver_role_full_name),
        ):
            if len(name) > ROLE_NAME_MAX_LENGTH:
                raise ConfigError(
                    setting,
                    f"at most {ROLE_NAME_MAX_LENGTH} characters including sample:namePrefix",
                    name,
                )
        for setting, name in (
            ("sample:encryptionKeyAlias", self.encryption_key_alias_name),
            ("sample:signingKeyAlias", self.signing_key_alias_name),
        ):
            if len(name) > ALIAS_NAME_MAX_LENGTH:
                raise ConfigError(
                    setting,
                    f"at most {ALIAS_NAME_MAX_LENGTH} characters including sample:namePrefix",
                    name,
                )
        if self.sender_role_name == self.receiver_role_name:
            raise ConfigError(
                "sample:receiverRoleName",
                "different from sample:senderRoleName",
                self.receiver_role_name,
            )
        if self.encryption_key_alias == self.signing_key_alias:
            raise ConfigError(
                "sample:signingKeyAlias",
                "different from sample:encryptionKeyAlias",
                self.signing_key_alias,
            )
        _check_parties_disjoint(self.sender_principals, self.receiver_principals)
        _check_not_a_party_role(
            (self.sender_role_full_name, self.receiver_role_full_name),
            {
                "sample:senderPrincipals": self.sender_principals,
                "sample:receiverPrincipals": self.receiver_principals,
            },
        )


_SETTING_NAME = re.compile(r"sample:[A-Za-z]+")


def _principal_context(item: object) -> object:
    """A principal as context gives it: an ARN, or {"arn", "externalId"} (a typo stays as is,
    for the parser to refuse)."""
    if isinstance(item, PartyPrincipal):
        if item.external_id is None:
            return item.arn
        return {"arn": item.arn, "externalId": item.external_id}
    return item


def _prefixed_alias(prefix: str, alias: str) -> str:
    head = "alias/"
    return f"{head}{prefix}{alias.removeprefix(head)}"


# --- one parser per setting ------------------------------------------------------------------


def _parse_name_prefix(setting: str, value: object) -> str:
    allowed = (
        f"empty, or up to {NAME_PREFIX_MAX_LENGTH} letters, digits and hyphens "
        "starting with a letter"
    )
    if not isinstance(value, str):
        raise ConfigError(setting, allowed, value)
    if value and not (_NAME_PREFIX.fullmatch(value) and len(value) <= NAME_PREFIX_MAX_LENGTH):
        raise ConfigError(setting, allowed, value)
    return value


def _parse_alias(setting: str, value: object) -> str:
    allowed = (
        "an alias name like alias/my-key (letters, digits, /, _ and -), "
        f"not in the reserved {_RESERVED_ALIAS_PREFIX} namespace"
    )
    if (
        not isinstance(value, str)
        or not _ALIAS_NAME.fullmatch(value)
        or value.startswith(_RESERVED_ALIAS_PREFIX)
    ):
        raise ConfigError(setting, allowed, value)
    return value


def _parse_role_name(setting: str, value: object) -> str:
    allowed = f"an IAM role name of 1-{ROLE_NAME_MAX_LENGTH} characters from A-Z a-z 0-9 +=,.@_-"
    if (
        not isinstance(value, str)
        or not _ROLE_NAME.fullmatch(value)
        or len(value) > ROLE_NAME_MAX_LENGTH
    ):
        raise ConfigError(setting, allowed, value)
    return value


def _parse_principals(setting: str, value: object) -> tuple[str, ...]:
    allowed = (
        "a list of IAM principal ARNs (arn:aws:iam::123456789012:root, :role/NAME or :user/NAME), "
        "as JSON or comma-separated"
    )
    items = _parse_list(value)
    if items is None:
        raise ConfigError(setting, allowed, value)
    for item in items:
        if not isinstance(item, str) or not _PRINCIPAL_ARN.fullmatch(item):
            raise ConfigError(setting, allowed, item)
    if len(set(items)) != len(items):
        raise ConfigError(setting, "a list without duplicates", value)
    return tuple(items)


def _parse_list(value: object) -> list[object] | None:
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        return None
    text = value.strip()
    if text.startswith("["):
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, list) else None
    return [part.strip() for part in text.split(",")] if text else []


def _parse_key_removal(setting: str, value: object) -> KeyRemoval:
    allowed = " or ".join(repr(member.value) for member in KeyRemoval)
    try:
        return KeyRemoval(value)
    except ValueError:
        raise ConfigError(setting, allowed, value) from None


def _parse_pending_window(setting: str, value: object) -> int:
    allowed = f"a whole number of days from {PENDING_WINDOW_MIN_DAYS} to {PENDING_WINDOW_MAX_DAYS}"
    days: object = value
    if isinstance(value, str) and re.fullmatch(r"\d{1,3}", value.strip()):
        days = int(value.strip())
    if (
        isinstance(days, bool)
        or not isinstance(days, int)
        or not PENDING_WINDOW_MIN_DAYS <= days <= PENDING_WINDOW_MAX_DAYS
    ):
        raise ConfigError(setting, allowed, value)
    return days


def json_context(setting: str, allowed: str, value: object) -> object:
    """A context value that may be JSON text (`-c key='[...]'`) or already a JSON value
    (cdk.json); text that does not parse is a `ConfigError` naming the setting."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        raise ConfigError(setting, allowed, value) from None


def _parse_tags(setting: str, value: object) -> Mapping[str, str]:
    allowed = (
        f"a JSON object of up to {MAX_TAGS} string tags (keys 1-{TAG_KEY_MAX_LENGTH} characters, "
        f"values up to {TAG_VALUE_MAX_LENGTH}, letters, digits, spaces and _.:/=+-@; "
        f"keys not starting with {_RESERVED_TAG_PREFIX})"
    )
    tags = json_context(setting, allowed, value)
    if not isinstance(tags, dict) or len(tags) > MAX_TAGS:
        raise ConfigError(setting, allowed, value)
    for key, tag_value in tags.items():
        if (
            not isinstance(tag_value, str)
            or not 1 <= len(key) <= TAG_KEY_MAX_LENGTH
            or len(tag_value) > TAG_VALUE_MAX_LENGTH
            or not _TAG_TEXT.fullmatch(key)
            or not _TAG_TEXT.fullmatch(tag_value)
            or key.lower().startswith(_RESERVED_TAG_PREFIX)
        ):
            raise ConfigError(setting, allowed, {key: tag_value})
    return MappingProxyType(dict(sorted(tags.items())))


def _parse_bool(setting: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("true", "false"):
        return value == "true"
    raise ConfigError(setting, "true or false", value)


# --- the two parties' principals (issue 10): who may assume SenderRole and ReceiverRole ----

DEFAULT_SENDER_WORKLOAD: Final = "SenderWorkload"
"""The role name the sender role trusts by default (with the name prefix)."""
DEFAULT_RECEIVER_WORKLOAD: Final = "ReceiverWorkload"
"""The role name the receiver role trusts by default (with the name prefix)."""

# Principals that an account's administrators can assume or act as at will: trusting one of
# them hands the party's key rights to every administrator. Refused at synth; what cannot be
# recognised by name is flagged by the access matrix instead.
_ADMIN_ASSUMABLE_ROLES = (
    re.compile(r"role/aws-reserved/sso\.amazonaws\.com/(?:[\w-]+/)?AWSReservedSSO_"),
    re.compile(r"role/(?:.*/)?OrganizationAccountAccessRole$"),
    re.compile(r"role/(?:.*/)?AWSControlTowerExecution$"),
    re.compile(
        r"role/(?:.*/)?cdk-[a-z0-9]+-(?:cfn-exec|deploy|file-publishing|image-publishing|lookup)-role-"
    ),
)
_REMOVED_SETTINGS: Final = {
    "sample:trustedPrincipals": (
        "sample:trustedPrincipals is replaced by sample:senderPrincipals and "
        "sample:receiverPrincipals (one trust per party, disjoint lists); got {value!r}"
    ),
    "sample:externalId": (
        "sample:externalId is replaced by a per-principal externalId in sample:senderPrincipals "
        'and sample:receiverPrincipals, e.g. [{{"arn": "...", "externalId": "..."}}]; got {value!r}'
    ),
}
_PARTY_ALLOWED = (
    "a list of IAM role or user ARNs (arn:aws:iam::123456789012:role/NAME or :user/NAME, not an "
    'account root), each a string or {"arn": ARN, "externalId": ID}, as JSON or comma-separated'
)


@dataclass(frozen=True)
class PartyPrincipal:
    """One principal a party's role trusts, with the external id it must present (if any)."""

    arn: str
    external_id: str | None = None

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


def _reject_removed_settings(context: Mapping[str, object]) -> None:
    for setting, message in _REMOVED_SETTINGS.items():
        if setting in context:
            value = context[setting]
            raise ConfigError(
                setting,
                "sample:senderPrincipals and sample:receiverPrincipals",
                value,
                message=message.format(value=value),
            )


def _parse_party_principals(setting: str, value: object) -> tuple[PartyPrincipal, ...]:
    items = _parse_list(value)
    if items is None:
        raise ConfigError(setting, _PARTY_ALLOWED, value)
    parsed: list[PartyPrincipal] = []
    for item in items:
        if isinstance(item, str):
            arn, external_id = item, None
        elif isinstance(item, dict) and set(item) <= {"arn", "externalId"} and "arn" in item:
            arn, external_id = item["arn"], item.get("externalId")
        else:
            raise ConfigError(setting, _PARTY_ALLOWED, item)
        if not isinstance(arn, str) or not _PRINCIPAL_ARN.fullmatch(arn) or arn.endswith(":root"):
            raise ConfigError(setting, _PARTY_ALLOWED, item)
        for pattern in _ADMIN_ASSUMABLE_ROLES:
            if pattern.search(arn):
                raise ConfigError(
                    setting,
                    "principals that administrators cannot assume at will (not an SSO "
                    "permission-set role, OrganizationAccountAccessRole, AWSControlTowerExecution "
                    "or a CDK bootstrap role)",
                    arn,
                )
        if external_id is not None:
            external_id = _parse_external_id(f"{setting} externalId", external_id)
        parsed.append(PartyPrincipal(arn, external_id))
    arns = [p.arn for p in parsed]
    if len(set(arns)) != len(arns):
        raise ConfigError(setting, "a list without duplicate ARNs", value)
    return tuple(parsed)


def _check_parties_disjoint(
    senders: tuple[PartyPrincipal, ...], receivers: tuple[PartyPrincipal, ...]
) -> None:
    """Separation of duties: nobody may be both the sender and the receiver."""
    sender_arns = {p.arn for p in senders}
    for principal in receivers:
        if principal.arn in sender_arns:
            raise ConfigError(
                "sample:receiverPrincipals",
                "disjoint from sample:senderPrincipals (separation of duties: one principal "
                "holding both roles could forge the sender's signature)",
                principal.arn,
            )


def _check_not_a_party_role(
    role_names: tuple[str, str], parties: Mapping[str, tuple[PartyPrincipal, ...]]
) -> None:
    """A party role may not trust a party role (itself, or the other: that joins the parties)."""
    for setting, principals in parties.items():
        for principal in principals:
            if ":role/" in principal.arn and principal.arn.rsplit("/", 1)[-1] in role_names:
                raise ConfigError(
                    setting,
                    f"principals other than the stack's own {' and '.join(role_names)} (a party "
                    "role trusting a party role joins the parties)",
                    principal.arn,
                )


def _parse_external_id(setting: str, value: object) -> str | None:
    allowed = (
        f"absent (no external id), or {EXTERNAL_ID_MIN_LENGTH}-{EXTERNAL_ID_MAX_LENGTH} "
        "characters from A-Z a-z 0-9 +=,.@:/_-"
    )
    if (
        not isinstance(value, str)
        or not _EXTERNAL_ID.fullmatch(value)
        or not EXTERNAL_ID_MIN_LENGTH <= len(value) <= EXTERNAL_ID_MAX_LENGTH
    ):
        raise ConfigError(setting, allowed, value)
    return value


# --- end of the parties' principals ---------------------------------------------------------


_Parser = Callable[[str, object], object]

# setting -> (StackConfig field, parser). The parser gets the setting's name for its message.
_SETTINGS: Final[dict[str, tuple[str, _Parser]]] = {
    "sample:namePrefix": ("name_prefix", _parse_name_prefix),
    "sample:encryptionKeyAlias": ("encryption_key_alias", _parse_alias),
    "sample:signingKeyAlias": ("signing_key_alias", _parse_alias),
    "sample:senderRoleName": ("sender_role_name", _parse_role_name),
    "sample:receiverRoleName": ("receiver_role_name", _parse_role_name),
    "sample:senderPrincipals": ("sender_principals", _parse_party_principals),
    "sample:receiverPrincipals": ("receiver_principals", _parse_party_principals),
    "sample:adminPrincipals": ("admin_principals", _parse_principals),
    "sample:keyRemoval": ("key_removal", _parse_key_removal),
    "sample:pendingWindowDays": ("pending_window_days", _parse_pending_window),
    "sample:tags": ("tags", _parse_tags),
    "sample:bootstrapless": ("bootstrapless", _parse_bool),
    "sample:roleNames": ("role_names", _parse_role_names),  # issue 11
}


# --- key lifecycle settings (issue 15) --------------------------------------------------------

EMAIL_MAX_LENGTH: Final = 254
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+", re.ASCII)


def _parse_alarm_email(setting: str, value: object) -> str | None:
    allowed = (
        f"empty (no subscription) or one e-mail address of up to {EMAIL_MAX_LENGTH} characters"
    )
    if not isinstance(value, str):
        raise ConfigError(setting, allowed, value)
    if value == "":
        return None
    if len(value) > EMAIL_MAX_LENGTH or not _EMAIL.fullmatch(value):
        raise ConfigError(setting, allowed, value)
    return value


_SETTINGS["sample:alarmEmail"] = ("alarm_email", _parse_alarm_email)


# --- key generations (issue 15, part D) -------------------------------------------------------
#
# Each of the two lists names the generations of one key, oldest first; the last one is
# current. An entry is `NAME` (active), `NAME:retired` (the key is disabled and kept) or
# `NAME:deleted` (a tombstone: the key left the stack, the name stays so it is never reused
# and the first entry stays first). Lists are append-only: an entry is never removed, only its
# state moves forward, active -> retired -> deleted (docs/ROTATION.md).

GENERATION_NAME_MAX_LENGTH: Final = 32
DEFAULT_GENERATION: Final = "1"
_GENERATION_NAME = re.compile(r"[A-Za-z0-9]+", re.ASCII)


class GenerationState(enum.Enum):
    """Where a key generation is in its life; states only move forward, in this order."""

    ACTIVE = "active"
    """Usable: the receiver decrypts or verifies with it (the sender too, if it is current)."""
    RETIRED = "retired"
    """Disabled (CloudFormation `Enabled: false`) and kept: nobody can use it, it can come back."""
    DELETED = "deleted"
    """Out of the stack (what `sample:keyRemoval` says then happens to the key); a tombstone."""


@dataclass(frozen=True)
class KeyGeneration:
    """One generation of a key: its name and its state."""

    name: str
    state: GenerationState = GenerationState.ACTIVE

    @property
    def entry(self) -> str:
        """The generation as the context list writes it: `NAME` or `NAME:STATE`."""
        if self.state is GenerationState.ACTIVE:
            return self.name
        return f"{self.name}:{self.state.value}"


DEFAULT_GENERATIONS: Final = (KeyGeneration(DEFAULT_GENERATION),)

_GENERATIONS_ALLOWED = (
    "a list of key generations, oldest first, the last one current, each NAME, NAME:retired or "
    f"NAME:deleted (NAME: 1-{GENERATION_NAME_MAX_LENGTH} letters and digits), as JSON or "
    "comma-separated"
)
_STATE_ORDER: Final = {state: index for index, state in enumerate(GenerationState)}


def _parse_generation(setting: str, item: object) -> KeyGeneration:
    if isinstance(item, KeyGeneration):  # `StackConfig.validated` passes them back in
        item = item.entry
    if not isinstance(item, str):
        raise ConfigError(setting, _GENERATIONS_ALLOWED, item)
    name, _, state_text = item.partition(":")
    if not (_GENERATION_NAME.fullmatch(name) and len(name) <= GENERATION_NAME_MAX_LENGTH):
        raise ConfigError(
            setting,
            f"generation names of 1-{GENERATION_NAME_MAX_LENGTH} letters and digits "
            "(NAME, NAME:retired or NAME:deleted)",
            item,
        )
    if ":" not in item:
        return KeyGeneration(name)
    states = [s for s in GenerationState if s is not GenerationState.ACTIVE]
    for state in states:
        if state_text == state.value:
            return KeyGeneration(name, state)
    raise ConfigError(
        setting,
        "NAME, or NAME with one of the states " + ", ".join(f":{s.value}" for s in states),
        item,
    )


def _parse_generations(setting: str, value: object) -> tuple[KeyGeneration, ...]:
    items = _parse_list(value)
    if items is None:
        raise ConfigError(setting, _GENERATIONS_ALLOWED, value)
    if not items:
        raise ConfigError(setting, "a list of at least one key generation (the current one)", [])
    generations = tuple(_parse_generation(setting, item) for item in items)
    seen: set[str] = set()
    for generation in generations:
        if generation.name in seen:
            raise ConfigError(
                setting,
                "a list naming each generation once (one entry per key, its state after the name)",
                generation.entry,
            )
        seen.add(generation.name)
    current = generations[-1]
    if current.state is not GenerationState.ACTIVE:
        raise ConfigError(
            setting,
            "a list whose last generation, the current one, is active: add its successor "
            "first and make that one current",
            current.entry,
        )
    from itertools import pairwise  # (here, not at the top: keeps this block self-contained)

    for older, newer in pairwise(generations):
        if _STATE_ORDER[older.state] < _STATE_ORDER[newer.state]:
            raise ConfigError(
                setting,
                "generations retired and deleted oldest first (no generation further on in its "
                f"life than an older one: {older.entry} comes before it)",
                newer.entry,
            )
    return generations


_SETTINGS["sample:encryptionKeyGenerations"] = (
    "encryption_key_generations",
    _parse_generations,
)
_SETTINGS["sample:signingKeyGenerations"] = ("signing_key_generations", _parse_generations)
