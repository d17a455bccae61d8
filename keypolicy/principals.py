"""Principals: parse the caller's ARN and the Principal/NotPrincipal elements, and match them.

A statement's principal matches a caller in one of two ways:
- `DIRECT`: the statement names the caller (its user, role, session, `*`, or the root user
  itself), so the key policy alone decides;
- `ACCOUNT`: the statement names the caller's account (`arn:aws:iam::ACCT:root` or `ACCT`),
  which delegates to IAM: the caller also needs an identity policy that allows the request.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

from .errors import PolicyError
from .wildcard import has_wildcard

_ACCOUNT = r"(?P<account>\d{12})"
_PARTITION = r"(?P<partition>aws|aws-cn|aws-us-gov|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc)"
_PATH_NAME = r"(?P<path>/(?:[\x21-\x7e]*/)?)?(?P<name>[\w+=,.@-]{1,128})"
_IAM_ROOT = re.compile(rf"arn:{_PARTITION}:iam::{_ACCOUNT}:root")
_IAM_ROLE = re.compile(rf"arn:{_PARTITION}:iam::{_ACCOUNT}:role{_PATH_NAME}")
_IAM_USER = re.compile(rf"arn:{_PARTITION}:iam::{_ACCOUNT}:user{_PATH_NAME}")
_STS_SESSION = re.compile(
    rf"arn:{_PARTITION}:sts::{_ACCOUNT}:assumed-role/(?P<name>[\w+=,.@-]{{1,64}})"
    r"/(?P<session>[\w+=,.@-]{2,64})"
)
_STS_FEDERATED = re.compile(rf"arn:{_PARTITION}:sts::{_ACCOUNT}:federated-user/[\w+=,.@-]{{2,32}}")
_BARE_ACCOUNT = re.compile(_ACCOUNT)
_SERVICE = re.compile(r"[a-z0-9][a-z0-9.-]*\.amazonaws\.com(?:\.cn)?")
# What a key policy shows after a named user or role was deleted: matches no caller.
_UNIQUE_ID = re.compile(r"A(?:ROA|IDA)[A-Z0-9]{12,}")

ANYONE = "*"
"""The caller that only a `Principal: "*"` statement names (the matrix's "any principal" row)."""

SUPPORTED_PRINCIPAL_TYPES = ("AWS", "Service")


class Match(enum.Enum):
    DIRECT = "direct"
    ACCOUNT = "account"


@dataclass(frozen=True, slots=True)
class Caller:
    """The principal that makes a request, parsed from its ARN."""

    arn: str
    kind: str  # root | user | role | session | federated | service | anyone
    partition: str | None = None
    account: str | None = None
    role_name: str | None = None  # for role and session

    @property
    def principal_arn(self) -> str | None:
        """The value AWS puts in `aws:PrincipalArn` (a session's role, without its path: pass
        `aws:PrincipalArn` in the context, from `role_arn_of_session(arn, path)`, when the
        role has one)."""
        if self.kind == "session":
            return role_arn_of_session(self.arn)
        if self.kind in ("service", "anyone"):
            return None
        return self.arn


def parse_caller(principal: str) -> Caller:
    """Parse the caller's ARN (or service principal, or `ANYONE`); anything else is an error."""
    if not isinstance(principal, str):
        raise PolicyError(f"the caller must be an ARN string, got {principal!r}")
    return _parse_caller(principal)


@lru_cache(maxsize=1024)
def _parse_caller(principal: str) -> Caller:
    if principal == ANYONE:
        return Caller(arn=principal, kind="anyone")
    for kind, pattern in (
        ("root", _IAM_ROOT),
        ("user", _IAM_USER),
        ("role", _IAM_ROLE),
        ("session", _STS_SESSION),
        ("federated", _STS_FEDERATED),
    ):
        m = pattern.fullmatch(principal)
        if m:
            role_name = m.group("name") if kind in ("role", "session") else None
            return Caller(principal, kind, m.group("partition"), m.group("account"), role_name)
    if _SERVICE.fullmatch(principal):
        return Caller(arn=principal, kind="service")
    raise PolicyError(f"caller {principal!r} is not an IAM user, role, session or root ARN")


@dataclass(frozen=True, slots=True)
class _Entry:
    """One principal named in a statement."""

    kind: str  # anyone | account | role | exact | service | deleted
    value: str  # account id, role key, exact ARN or service name
    partition: str | None = None

    def match(self, caller: Caller) -> Match | None:
        if self.kind == "anyone":
            return Match.DIRECT
        if caller.kind == "anyone":
            return None
        if self.kind == "account":
            if caller.account != self.value or not _same_partition(self.partition, caller):
                return None
            return Match.DIRECT if caller.kind == "root" else Match.ACCOUNT
        if self.kind == "role":
            if caller.kind in ("role", "session") and _role_key(caller) == self.value:
                return Match.DIRECT
            return None
        if self.kind in ("exact", "service"):
            return Match.DIRECT if caller.arn == self.value else None
        return None  # deleted principal

    def names_part_of(self, caller: Caller) -> set[str]:
        """Which links of the caller's identity chain this entry lists (for NotPrincipal)."""
        if self.kind == "anyone":
            return {"*"}
        if caller.kind == "anyone":
            return set()
        found: set[str] = set()
        if (
            self.kind == "account"
            and caller.account == self.value
            and _same_partition(self.partition, caller)
        ):
            found.add("account")
        if (
            self.kind == "role"
            and caller.kind in ("role", "session")
            and _role_key(caller) == self.value
        ):
            found.add("role")
        if self.kind in ("exact", "service") and caller.arn == self.value:
            found.add("self")
        return found


def _same_partition(partition: str | None, caller: Caller) -> bool:
    return partition is None or partition == caller.partition


def _role_key(caller: Caller) -> str:
    return f"{caller.partition}:{caller.account}:{caller.role_name}"


def _parse_aws_entry(value: object) -> _Entry:
    if not isinstance(value, str) or not value:
        raise PolicyError(f"an AWS principal must be a non-empty string, got {value!r}")
    if value == "*":
        return _Entry("anyone", "*")
    if has_wildcard(value):
        raise PolicyError(
            f"principal {value!r}: wildcards are not allowed in a principal ARN "
            "(only a bare '*' is); use the aws:PrincipalArn condition key instead"
        )
    if _BARE_ACCOUNT.fullmatch(value):
        return _Entry("account", value)
    m = _IAM_ROOT.fullmatch(value)
    if m:
        return _Entry("account", m.group("account"), m.group("partition"))
    m = _IAM_ROLE.fullmatch(value)
    if m:
        key = f"{m.group('partition')}:{m.group('account')}:{m.group('name')}"
        return _Entry("role", key)
    if _IAM_USER.fullmatch(value) or _STS_SESSION.fullmatch(value):
        return _Entry("exact", value)
    if _STS_FEDERATED.fullmatch(value):
        return _Entry("exact", value)
    if _UNIQUE_ID.fullmatch(value):
        return _Entry("deleted", value)
    raise PolicyError(f"principal {value!r} is not an account, IAM user, role or session ARN")


def _parse_service_entry(value: object) -> _Entry:
    if not isinstance(value, str) or not _SERVICE.fullmatch(value):
        raise PolicyError(f"service principal {value!r} is not like 'service.amazonaws.com'")
    return _Entry("service", value)


def _as_list(value: object, what: str) -> list[object]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value:
        return value
    raise PolicyError(f"{what} must be a string or a non-empty list, got {value!r}")


@dataclass(frozen=True, slots=True)
class PrincipalSpec:
    """A statement's Principal or NotPrincipal element, parsed."""

    entries: tuple[_Entry, ...]

    def match(self, caller: Caller) -> Match | None:
        """The strongest way the element names the caller: DIRECT beats ACCOUNT."""
        best: Match | None = None
        for entry in self.entries:
            found = entry.match(caller)
            if found is Match.DIRECT:
                return found
            best = best or found
        return best

    def excludes(self, caller: Caller) -> bool:
        """NotPrincipal: the caller is left out only if every link of its chain is listed.

        AWS may check the account, then the role, then the session (IAM NotPrincipal docs), so
        a caller counts as excluded only when its account, its role (for roles and sessions)
        and the caller itself are all listed.
        """
        listed: set[str] = set()
        for entry in self.entries:
            listed |= entry.names_part_of(caller)
        if "*" in listed:
            return True
        if caller.kind == "anyone":
            return False
        if caller.kind == "service":
            return "self" in listed
        needed = {"account"}
        if caller.kind in ("role", "session"):
            needed.add("role")
        if caller.kind in ("user", "session", "federated"):
            needed.add("self")
        return needed <= listed


def parse_principal(element: object, name: str) -> PrincipalSpec:
    """Parse `Principal` / `NotPrincipal`: `"*"` or a map of principal type to values."""
    if element == "*":
        return PrincipalSpec((_Entry("anyone", "*"),))
    if not isinstance(element, Mapping) or not element:
        raise PolicyError(f"{name} must be '*' or a non-empty map, got {element!r}")
    entries: list[_Entry] = []
    for principal_type, values in element.items():
        if principal_type == "AWS":
            entries += [_parse_aws_entry(v) for v in _as_list(values, f"{name}.AWS")]
        elif principal_type == "Service":
            entries += [_parse_service_entry(v) for v in _as_list(values, f"{name}.Service")]
        else:
            raise PolicyError(
                f"{name} type {principal_type!r} is not supported "
                f"(supported: {', '.join(SUPPORTED_PRINCIPAL_TYPES)})"
            )
    return PrincipalSpec(tuple(entries))


def role_arn_of_session(session_arn: str, path: str = "/") -> str:
    """The role ARN of an assumed-role session ARN: what `aws:PrincipalArn` holds for it.

    The one place this conversion is written. A session ARN carries only the role's name, so
    a role with a path (for example `/aws-reserved/sso.amazonaws.com/eu-west-1/` for an IAM
    Identity Center permission set) needs `path`, which IAM knows (GetRole, or the role ARN
    that AssumeRole was called with). A caller that is not a session is returned unchanged.
    """
    m = _STS_SESSION.fullmatch(session_arn) if isinstance(session_arn, str) else None
    if m is None:
        return session_arn
    if not (path.startswith("/") and path.endswith("/")):
        raise PolicyError(f"a role path starts and ends with '/', got {path!r}")
    return f"arn:{m.group('partition')}:iam::{m.group('account')}:role{path}{m.group('name')}"


def role_path(role_arn: str) -> str:
    """The path of a role ARN (`/` when it has none)."""
    m = _IAM_ROLE.fullmatch(role_arn)
    if not m:
        raise PolicyError(f"{role_arn!r} is not an IAM role ARN")
    return m.group("path") or "/"


MATRIX_SESSION_NAME = "access-matrix"


def uncovered_callers(spec: PrincipalSpec, callers: Iterable[Caller]) -> list[tuple[str, str]]:
    """For each principal `spec` names that none of `callers` stands for: a label and an ARN.

    A role is represented by one of its sessions, an account by a role in it: the callers a
    request would actually come from. A caller stands for an account when it is a principal of
    that account other than the root user.
    """
    known = list(callers)
    found: list[tuple[str, str]] = []
    for entry in spec.entries:
        if entry.kind in ("anyone", "deleted"):
            continue
        wanted = Match.ACCOUNT if entry.kind == "account" else Match.DIRECT
        if any(entry.match(c) is wanted for c in known):
            continue
        if entry.kind == "role":
            partition, account, name = entry.value.split(":", 2)
            session = f"arn:{partition}:sts::{account}:assumed-role/{name}/{MATRIX_SESSION_NAME}"
            found.append((f"{account}:role/{name}", session))
        elif entry.kind == "account":
            partition = entry.partition or "aws"
            role = f"arn:{partition}:iam::{entry.value}:role/AnyRoleInAccount"
            found.append((f"{entry.value}:any principal", role))
        elif entry.kind == "exact":
            found.append((entry.value.split(":", 4)[-1], entry.value))
        else:
            found.append((entry.value, entry.value))
    return found


def session_for(role_arn: str, session_name: str = MATRIX_SESSION_NAME) -> str:
    """The ARN of a session of `role_arn` (sessions carry no role path)."""
    m = _IAM_ROLE.fullmatch(role_arn)
    if not m:
        raise PolicyError(f"{role_arn!r} is not an IAM role ARN")
    return (
        f"arn:{m.group('partition')}:sts::{m.group('account')}:assumed-role/"
        f"{m.group('name')}/{session_name}"
    )
