"""The Condition element: parse it once, then test it against each request's context.

Follows the IAM condition logic (IAM User Guide: condition operators; multiple context keys
or values):
- operators AND together, keys within an operator AND together;
- several policy values for a key OR together; for a negated operator (`...Not...`) they NOR;
- a key missing from the context makes a positive operator false and a negated one true,
  except with the `IfExists` suffix (true when missing) and `Null` (tests presence);
- `ForAnyValue:` / `ForAllValues:` compare a multivalued context key as a set (ForAnyValue is
  false on a missing or empty key, ForAllValues true).
Context key names are case-insensitive; values compare as each operator says.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .errors import PolicyError
from .wildcard import compile_wildcard

# Condition keys a KMS key policy can use (KMS condition keys; IAM global condition keys).
_KMS_KEYS = (
    "kms:BypassPolicyLockoutSafetyCheck",
    "kms:CallerAccount",
    "kms:CustomerMasterKeySpec",
    "kms:CustomerMasterKeyUsage",
    "kms:DataKeyPairSpec",
    "kms:EncryptionAlgorithm",
    "kms:EncryptionContextKeys",
    "kms:ExpirationModel",
    "kms:GrantConstraintType",
    "kms:GrantIsForAWSResource",
    "kms:GrantOperations",
    "kms:GranteePrincipal",
    "kms:KeyAgreementAlgorithm",
    "kms:KeyOrigin",
    "kms:KeySpec",
    "kms:KeyUsage",
    "kms:MacAlgorithm",
    "kms:MessageType",
    "kms:MultiRegion",
    "kms:MultiRegionKeyType",
    "kms:PrimaryRegion",
    "kms:ReEncryptOnSameKey",
    "kms:ReplicaRegion",
    "kms:RequestAlias",
    "kms:ResourceAliases",
    "kms:RetiringPrincipal",
    "kms:RotationPeriodInDays",
    "kms:ScheduleKeyDeletionPendingWindowInDays",
    "kms:SigningAlgorithm",
    "kms:ValidTo",
    "kms:ViaService",
    "kms:WrappingAlgorithm",
    "kms:WrappingKeySpec",
)
_GLOBAL_KEYS = (
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalType",
    "aws:Referer",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:TagKeys",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
)
# Condition keys an sts:AssumeRole / sts:TagSession request carries (STS condition keys).
_STS_KEYS = (
    "sts:ExternalId",
    "sts:RoleSessionName",
    "sts:SourceIdentity",
    "sts:TransitiveTagKeys",
)
KNOWN_CONDITION_KEYS = frozenset(k.lower() for k in _KMS_KEYS + _GLOBAL_KEYS)
TRUST_CONDITION_KEYS = frozenset(k.lower() for k in _STS_KEYS + _GLOBAL_KEYS)
# Keys with a free-form part after a prefix (an encryption context key, a tag key).
_KEY_PREFIXES = (
    "kms:encryptioncontext:",
    "kms:recipientattestation:",
    "aws:principaltag/",
    "aws:requesttag/",
    "aws:resourcetag/",
)


def normalize_key(key: object) -> str:
    """The canonical form of a condition key.

    Condition key names are not case-sensitive, the free-form part included: KMS documents
    that `kms:EncryptionContext:AppName` also matches an `appname` encryption context key.
    """
    if not isinstance(key, str) or not key:
        raise PolicyError(f"a condition key must be a non-empty string, got {key!r}")
    return key.lower()


def check_policy_key(key: object, service: str = "kms") -> str:
    """The normalized key, if a policy of `service` (kms: key policy, sts: trust policy) can
    use it; a key that never occurs in such a request is an error, not a silent false."""
    normalized = normalize_key(key)
    known = KNOWN_CONDITION_KEYS if service == "kms" else TRUST_CONDITION_KEYS
    if normalized in known:
        return normalized
    prefixes = _KEY_PREFIXES if service == "kms" else _KEY_PREFIXES[2:]
    if any(normalized.startswith(p) and len(normalized) > len(p) for p in prefixes):
        return normalized
    noun = "a KMS" if service == "kms" else "an STS"
    raise PolicyError(f"condition key {key!r} is not {noun} or global condition key")


# --- value comparison -------------------------------------------------------------------------

_ARN_PARTS = 6


def _string_equals(policy: str, value: str) -> bool:
    return policy == value


def _string_equals_ignore_case(policy: str, value: str) -> bool:
    return policy.casefold() == value.casefold()


def _string_like(policy: str, value: str) -> bool:
    return compile_wildcard(policy).fullmatch(value) is not None


def _arn_like(policy: str, value: str) -> bool:
    """ARN matching: the six colon-separated parts match one by one, with wildcards."""
    policy_parts = policy.split(":", _ARN_PARTS - 1)
    value_parts = value.split(":", _ARN_PARTS - 1)
    if len(policy_parts) != _ARN_PARTS or len(value_parts) != _ARN_PARTS:
        return False
    return all(
        compile_wildcard(p).fullmatch(v) is not None
        for p, v in zip(policy_parts, value_parts, strict=True)
    )


def _bool(policy: str, value: str) -> bool:
    return policy.lower() == value.lower()


@dataclass(frozen=True, slots=True)
class _Operator:
    compare: Callable[[str, str], bool]
    negated: bool
    kind: str  # string | arn | bool | null


_OPERATORS: dict[str, _Operator] = {
    "StringEquals": _Operator(_string_equals, False, "string"),
    "StringNotEquals": _Operator(_string_equals, True, "string"),
    "StringEqualsIgnoreCase": _Operator(_string_equals_ignore_case, False, "string"),
    "StringNotEqualsIgnoreCase": _Operator(_string_equals_ignore_case, True, "string"),
    "StringLike": _Operator(_string_like, False, "string"),
    "StringNotLike": _Operator(_string_like, True, "string"),
    "ArnEquals": _Operator(_arn_like, False, "arn"),
    "ArnLike": _Operator(_arn_like, False, "arn"),
    "ArnNotEquals": _Operator(_arn_like, True, "arn"),
    "ArnNotLike": _Operator(_arn_like, True, "arn"),
    "Bool": _Operator(_bool, False, "bool"),
    "Null": _Operator(_bool, False, "null"),
}
SUPPORTED_OPERATORS = tuple(_OPERATORS)
_QUALIFIERS = ("ForAnyValue", "ForAllValues")
_IF_EXISTS = "IfExists"
_BOOL_VALUES = frozenset({"true", "false"})
_POLICY_VARIABLE = re.compile(r"\$\{")


@dataclass(frozen=True, slots=True)
class Clause:
    """One `operator: {key: values}` pair of a Condition element."""

    operator_name: str  # as written in the policy
    key: str  # normalized
    key_as_written: str
    values: tuple[str, ...]
    operator: _Operator
    qualifier: str | None
    if_exists: bool

    def holds(self, context: Mapping[str, tuple[str, ...]]) -> bool:
        present = context.get(self.key)
        if self.operator.kind == "null":
            missing = present is None or len(present) == 0
            return (self.values[0].lower() == "true") == missing
        if self.if_exists and not present:
            return True
        if self.qualifier == "ForAnyValue":
            if not present:
                return False
            return any(self._single(v) for v in present)
        if self.qualifier == "ForAllValues":
            if not present:
                return True
            return all(self._single(v) for v in present)
        if present is None:
            return self.operator.negated
        if len(present) != 1:
            raise PolicyError(
                f"context key {self.key_as_written!r} has {len(present)} values; a single-valued "
                f"operator needs ForAnyValue: or ForAllValues: ({self.operator_name})"
            )
        return self._single(present[0])

    def describe(self) -> str:
        """The clause in words, e.g. `kms:EncryptionAlgorithm = RSAES_OAEP_SHA_256`."""
        base = self.operator_name.split(":")[-1].removesuffix(_IF_EXISTS)
        values = self.values[0] if len(self.values) == 1 else f"({', '.join(self.values)})"
        if base == "StringEquals" and len(self.values) == 1:
            text = f"{self.key_as_written} = {values}"
        elif base == "StringEquals":
            text = f"{self.key_as_written} in {values}"
        elif base == "StringNotEquals" and len(self.values) == 1:
            text = f"{self.key_as_written} != {values}"
        elif base == "StringNotEquals":
            text = f"{self.key_as_written} not in {values}"
        elif base == "Null":
            text = f"{self.key_as_written} {'absent' if values.lower() == 'true' else 'present'}"
        else:
            text = f"{self.key_as_written} {base} {values}"
        if self.qualifier:
            text = f"{self.qualifier}({text})"
        if self.if_exists:
            text += " (if present)"
        return text

    def _single(self, value: str) -> bool:
        matched = any(self.operator.compare(p, value) for p in self.values)
        return not matched if self.operator.negated else matched


def _parse_operator(name: object) -> tuple[_Operator, str | None, bool]:
    if not isinstance(name, str):
        raise PolicyError(f"a condition operator must be a string, got {name!r}")
    qualifier: str | None = None
    base = name
    if ":" in base:
        qualifier, _, base = base.partition(":")
        if qualifier not in _QUALIFIERS:
            raise PolicyError(f"condition operator {name!r}: unknown qualifier {qualifier!r}")
    if_exists = base.endswith(_IF_EXISTS) and base != _IF_EXISTS
    if if_exists:
        base = base[: -len(_IF_EXISTS)]
    operator = _OPERATORS.get(base)
    if operator is None:
        raise PolicyError(
            f"condition operator {name!r} is not supported "
            f"(supported: {', '.join(SUPPORTED_OPERATORS)}, with IfExists and "
            "ForAnyValue:/ForAllValues:)"
        )
    if operator.kind == "null" and (if_exists or qualifier):
        raise PolicyError(f"condition operator {name!r}: Null takes no IfExists or qualifier")
    return operator, qualifier, if_exists


def _parse_values(
    operator_name: str, operator: _Operator, key: str, raw: object
) -> tuple[str, ...]:
    items = raw if isinstance(raw, list) else [raw]
    if not items:
        raise PolicyError(f"condition {operator_name} {key!r} has an empty list of values")
    values: list[str] = []
    for item in items:
        if isinstance(item, bool):
            item = "true" if item else "false"
        elif isinstance(item, int | float) and operator.kind in ("string", "arn"):
            item = str(item)
        if not isinstance(item, str):
            raise PolicyError(f"condition {operator_name} {key!r}: value {item!r} is not a string")
        if operator.kind in ("bool", "null") and item.lower() not in _BOOL_VALUES:
            raise PolicyError(
                f"condition {operator_name} {key!r}: value {item!r} is not 'true' or 'false'"
            )
        values.append(item)
    if operator.kind == "null" and len(values) != 1:
        raise PolicyError(f"condition {operator_name} {key!r} takes exactly one value")
    return tuple(values)


def parse_condition(element: object, version: str, service: str = "kms") -> tuple[Clause, ...]:
    """Parse a statement's Condition element into clauses that all must hold."""
    if not isinstance(element, Mapping):
        raise PolicyError(f"Condition must be a map of operators, got {element!r}")
    clauses: list[Clause] = []
    for operator_name, block in element.items():
        operator, qualifier, if_exists = _parse_operator(operator_name)
        if not isinstance(block, Mapping) or not block:
            raise PolicyError(f"condition {operator_name} must map keys to values, got {block!r}")
        for key, raw in block.items():
            normalized = check_policy_key(key, service)
            values = _parse_values(operator_name, operator, key, raw)
            if version == "2012-10-17" and any(_POLICY_VARIABLE.search(v) for v in values):
                raise PolicyError(
                    f"condition {operator_name} {key!r}: policy variables (${{...}}) are not "
                    "supported"
                )
            clauses.append(
                Clause(operator_name, normalized, key, values, operator, qualifier, if_exists)
            )
    return tuple(clauses)


def normalize_context(context: Mapping[str, object] | None) -> dict[str, tuple[str, ...]]:
    """The request context with normalized keys, every value a tuple of strings."""
    normalized: dict[str, tuple[str, ...]] = {}
    if context is None:
        return normalized
    if not isinstance(context, Mapping):
        raise PolicyError(f"the request context must be a mapping, got {type(context).__name__}")
    for key, value in context.items():
        name = normalize_key(key)
        if name in normalized:
            raise PolicyError(f"context key {key!r} is given twice (keys are case-insensitive)")
        items = list(value) if isinstance(value, list | tuple | set | frozenset) else [value]
        converted: list[str] = []
        for item in items:
            if isinstance(item, bool):
                converted.append("true" if item else "false")
            elif isinstance(item, str | int):
                converted.append(str(item))
            else:
                raise PolicyError(f"context key {key!r}: value {item!r} is not a string")
        normalized[name] = tuple(converted)
    return normalized
