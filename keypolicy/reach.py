"""The transitive access matrix: who reaches each key action, directly or by sts:AssumeRole.

A key policy alone answers "which principal may call Decrypt". It does not answer "who can
become that principal". This module follows every chain of sts:AssumeRole steps from each
principal to each key action, judging each step with the one evaluator:

- a trust policy step with `keypolicy.trust` (`compile_policy(..., service="sts")`), the key
  step with the key policy, both through `matrix.permission`, so conditions on the caller's
  own keys (`aws:PrincipalArn`, `aws:PrincipalAccount`) are evaluated for the principal and
  the others (`sts:ExternalId`, `kms:EncryptionAlgorithm`) are carried as the path's conditions;
- where a policy delegates to the account (`VIA_IAM`), the principal's identity policies decide
  (`keypolicy.identity`); where those are unknown (a principal outside the template), the step
  holds only "if its IAM policies allow" and the path says so.

Administrative paths are listed apart: whoever may call kms:PutKeyPolicy or kms:CreateGrant on
a key, iam:UpdateAssumeRolePolicy on a role of a path, or iam:CreateRole of a principal name a
trust policy names can give themselves any of the uses. Latent grants are identity policies
allowing sts:AssumeRole on a role whose trust policy refuses them today (they become live the
moment the trust is widened). The separation-of-duties line says whether any principal reaches
both kms:Sign and kms:Decrypt.

Inputs: `build_reach(keys, roles, principals)`; `roles_from_template(template, ...)` reads a
synthesized template's roles and trust policies, `from_authorization_details(details, keys,
rows=...)` a deployed account's (iam:GetAccountAuthorizationDetails). Which rows to ask about
is the caller's choice: this project's are in `kms_sign_encrypt.access_rows`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .actions import ASSUME_ROLE, GRANTING_ACTIONS
from .conditions import normalize_key
from .evaluator import CompiledPolicy, Outcome, compile_policy
from .identity import ADMINISTRATOR_ACCESS, identity_allows, load_document
from .matrix import permission
from .principals import ANYONE, parse_caller, session_for
from .template import Resolver
from .trust import compile_trust_policy

USE_ACTIONS: tuple[str, ...] = (
    "kms:Encrypt",
    "kms:Decrypt",
    "kms:ReEncryptFrom",
    "kms:ReEncryptTo",
    "kms:GenerateDataKey",
    "kms:GenerateDataKeyPair",
    "kms:Sign",
    "kms:Verify",
    "kms:GetPublicKey",
    "kms:DeriveSharedSecret",
)
"""The key actions whose reach the matrix follows (every use of key material or public key)."""
UPDATE_TRUST = "iam:UpdateAssumeRolePolicy"
CREATE_ROLE = "iam:CreateRole"
MAX_HOPS = 4
TRUST_NAMES_IT = "the policy names it"
IAM_ALLOWS = "its IAM policy allows"
IF_IAM_ALLOWS = "if its IAM policies allow"
_PRINCIPAL_ARN = normalize_key("aws:PrincipalArn")
_NAMING_OPERATORS = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")


@dataclass(frozen=True, slots=True)
class Principal:
    """A row: one caller, and what is known of its identity policies."""

    label: str
    arn: str
    """The ARN requests come from (a role's session for a role)."""
    principal_arn: str | None
    """`aws:PrincipalArn` of its requests (a role's ARN, path included)."""
    policies: tuple[Mapping[str, Any], ...] | None
    """Its identity policies; None when unknown (the matrix then says "if ... allow")."""
    modelled_as: str
    same_account: bool = True


@dataclass(frozen=True, slots=True)
class Role:
    label: str
    arn: str
    trust: Mapping[str, Any]
    policies: tuple[Mapping[str, Any], ...] | None = ()

    def as_principal(self) -> Principal:
        return Principal(
            self.label, session_for(self.arn), self.arn, self.policies, "a session of the role"
        )


@dataclass(frozen=True, slots=True)
class Hop:
    role: str
    role_arn: str
    conditions: tuple[str, ...]
    """Trust-policy conditions left to hold (alternatives, OR)."""
    identity: str
    """TRUST_NAMES_IT, IAM_ALLOWS or IF_IAM_ALLOWS."""
    identity_conditions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Path:
    principal: str
    hops: tuple[Hop, ...]
    key: str
    action: str
    kind: str
    """`use` (the action itself) or `administrative` (a way to give oneself any use)."""
    conditions: tuple[str, ...] = ()
    statements: tuple[str, ...] = ()
    identity: str = TRUST_NAMES_IT
    """For the last step: the key policy names the caller, or its IAM policy decides."""
    certain: bool = True
    """False when a step holds only if IAM policies unknown here allow it."""

    @property
    def target(self) -> str:
        return f"{self.action} on {self.key}"


@dataclass(frozen=True, slots=True)
class Latent:
    principal: str
    role: str
    reason: str


@dataclass(frozen=True)
class Reach:
    principals: tuple[Principal, ...]
    keys: tuple[str, ...]
    paths: tuple[Path, ...]
    latent: tuple[Latent, ...]
    both: tuple[str, ...] = field(default=())
    """Principals that reach both kms:Sign and kms:Decrypt (separation of duties broken)."""

    def uses(self, key: str | None = None, action: str | None = None) -> list[Path]:
        return [
            p
            for p in self.paths
            if p.kind == "use"
            and (key is None or p.key == key)
            and (action is None or p.action == action)
        ]

    def administrative(self) -> list[Path]:
        return [p for p in self.paths if p.kind == "administrative"]

    @property
    def separation_line(self) -> str:
        if not self.both:
            return (
                "Separation of duties: holds. No principal reaches both kms:Sign and kms:Decrypt "
                "(only administratively, by rewriting a policy: see below)."
            )
        return (
            "Separation of duties: BROKEN. These reach both kms:Sign and kms:Decrypt: "
            + ", ".join(self.both)
        )


# --- the rows -------------------------------------------------------------------------------


def named_in_trust(roles: Iterable[Role]) -> list[str]:
    """Every principal ARN a trust policy names: in Principal, or pinned by aws:PrincipalArn."""
    found: list[str] = []
    for role in roles:
        statements = role.trust.get("Statement", [])
        for statement in [statements] if isinstance(statements, Mapping) else statements:
            principal = statement.get("Principal")
            values = principal.get("AWS", []) if isinstance(principal, Mapping) else []
            for value in [values] if isinstance(values, str) else values:
                if ":role/" in value or ":user/" in value:
                    found.append(value)
            for operator, block in (statement.get("Condition") or {}).items():
                if operator.split(":")[-1].removesuffix("IfExists") not in _NAMING_OPERATORS:
                    continue
                for key, value in block.items():
                    if normalize_key(key) == _PRINCIPAL_ARN:
                        found += [value] if isinstance(value, str) else list(value)
    return list(dict.fromkeys(found))


def _trusted_row(arn: str) -> Principal:
    name = arn.split(":", 5)[-1].rsplit("/", 1)[-1]
    caller = session_for(arn) if ":role/" in arn else arn
    return Principal(
        name, caller, arn, None, "a principal a trust policy names; its IAM policies unknown here"
    )


# --- judging one step -----------------------------------------------------------------------


def _context(node: Principal) -> dict[str, str] | None:
    return {"aws:PrincipalArn": node.principal_arn} if node.principal_arn else None


def _identity(
    node: Principal, action: str, resource: str
) -> tuple[str, tuple[str, ...], bool] | None:
    """How `node`'s own IAM policies answer (identity, conditions, certain); None: they do not."""
    if not node.same_account and action.startswith("iam:"):
        return None  # IAM actions act on one's own account only
    if node.policies is None:
        return IF_IAM_ALLOWS, (), False
    answer = identity_allows(node.policies, action, resource)
    if not answer.allowed:
        return None
    return IAM_ALLOWS, answer.conditions, True


def _across_accounts(caller_account: str | None, resource: str) -> bool:
    """Whether the caller is in another account than the key or role (issue 13): then a
    policy naming the caller is not enough, its own identity policy must allow it too."""
    parts = resource.split(":")
    return (
        bool(caller_account)
        and len(parts) > 4
        and parts[0] == "arn"
        and (parts[4] != caller_account)
    )


def _step(
    policy: CompiledPolicy, node: Principal, action: str, resource: str | None, own: str
) -> tuple[tuple[str, ...], tuple[str, ...], str, tuple[str, ...], bool] | None:
    """(conditions, statements, identity, identity conditions, certain) or None (refused)."""
    caller = parse_caller(node.arn)
    cell = permission(policy, caller, action, resource, _context(node))
    if cell.outcome is Outcome.ALLOW and not _across_accounts(caller.account, own):
        return cell.conditions, cell.statements, TRUST_NAMES_IT, (), True
    if cell.outcome not in (Outcome.VIA_IAM, Outcome.ALLOW):
        return None
    found = _identity(node, action, own)
    if found is None:
        return None
    identity, identity_conditions, certain = found
    return cell.conditions, cell.statements, identity, identity_conditions, certain


# --- building -------------------------------------------------------------------------------


def build_reach(
    keys: Mapping[str, tuple[str | None, Mapping[str, Any] | str]],
    roles: Sequence[Role],
    principals: Sequence[Principal],
    *,
    existing: Iterable[str] | None = None,
) -> Reach:
    """Follow every chain. `keys`: {label: (key ARN or None, key policy)}; `roles`: the roles
    whose trust policies the chains may pass; `principals`: the rows. `existing`: the role and
    user ARNs known to exist (deployed); None: unknown (template), so every trusted name that
    is not a row may still be created by whoever holds iam:CreateRole."""
    compiled_keys = {label: (arn, compile_policy(policy)) for label, (arn, policy) in keys.items()}
    trusts = {role.arn: compile_trust_policy(role.trust) for role in roles}
    rows = list(principals)
    known_arns = {p.principal_arn for p in rows}
    for arn in named_in_trust(roles):
        if arn not in known_arns and arn not in {r.arn for r in roles}:
            rows.append(_trusted_row(arn))
            known_arns.add(arn)
    paths: list[Path] = []
    latent: list[Latent] = []
    for start in rows:
        _explore(start, start, (), roles, trusts, compiled_keys, paths, latent)
    paths += _administrative(rows, roles, compiled_keys, existing)
    paths = list(dict.fromkeys(paths))
    both = _both_sign_and_decrypt(paths)
    return Reach(tuple(rows), tuple(compiled_keys), tuple(paths), tuple(latent), both)


def _explore(
    start: Principal,
    node: Principal,
    hops: tuple[Hop, ...],
    roles: Sequence[Role],
    trusts: Mapping[str, CompiledPolicy],
    keys: Mapping[str, tuple[str | None, CompiledPolicy]],
    paths: list[Path],
    latent: list[Latent],
) -> None:
    certain_so_far = all(h.identity != IF_IAM_ALLOWS for h in hops)
    for label, (key_arn, policy) in keys.items():
        resource = key_arn or f"key:{label}"
        for action in USE_ACTIONS:
            step = _step(policy, node, action, key_arn, resource)
            if step is None:
                continue
            conditions, statements, identity, identity_conditions, certain = step
            paths.append(
                Path(
                    start.label,
                    hops,
                    label,
                    action,
                    "use",
                    tuple(dict.fromkeys(conditions + identity_conditions)),  # issue 13: no repeats
                    statements,
                    identity,
                    certain and certain_so_far,
                )
            )
    if len(hops) >= MAX_HOPS or parse_caller(node.arn).kind == "root":
        return  # STS refuses AssumeRole with root user credentials
    visited = {h.role_arn for h in hops} | {node.principal_arn}
    for role in roles:
        if role.arn in visited:
            continue
        step = _step(trusts[role.arn], node, ASSUME_ROLE, None, role.arn)
        if step is None:
            if not hops and _aimed_at(node, role):
                latent.append(
                    Latent(
                        start.label,
                        role.label,
                        f"its IAM policy allows sts:AssumeRole on {role.arn}; "
                        "the trust policy refuses it today",
                    )
                )
            continue
        conditions, _statements, identity, identity_conditions, _certain = step
        hop = Hop(role.label, role.arn, conditions, identity, identity_conditions)
        _explore(start, role.as_principal(), (*hops, hop), roles, trusts, keys, paths, latent)


def _aimed_at(node: Principal, role: Role) -> bool:
    """Whether `node`'s identity policy allows sts:AssumeRole on this role in particular (not
    merely on every role, as AdministratorAccess or `sts:AssumeRole` on `*` do)."""
    if not node.policies:
        return False
    elsewhere = role.arn.rsplit("/", 1)[0] + "/NoSuchRole-access-matrix"
    return (
        identity_allows(node.policies, ASSUME_ROLE, role.arn).allowed
        and not identity_allows(node.policies, ASSUME_ROLE, elsewhere).allowed
    )


def _administrative(
    rows: Sequence[Principal],
    roles: Sequence[Role],
    keys: Mapping[str, tuple[str | None, CompiledPolicy]],
    existing: Iterable[str] | None,
) -> list[Path]:
    found: list[Path] = []
    existing_set = set(existing) if existing is not None else None
    trusted = named_in_trust(roles)
    for node in rows:
        if node.arn == ANYONE:
            continue
        for label, (key_arn, policy) in keys.items():
            for action in GRANTING_ACTIONS:
                step = _step(policy, node, action, key_arn, key_arn or f"key:{label}")
                if step is not None:
                    conditions, statements, identity, identity_conditions, certain = step
                    found.append(
                        Path(
                            node.label,
                            (),
                            label,
                            action,
                            "administrative",
                            conditions + identity_conditions,
                            statements,
                            identity,
                            certain,
                        )
                    )
        targets = [(UPDATE_TRUST, r.arn, r.label) for r in roles]
        for arn in trusted:
            if ":role/" not in arn:
                continue
            name = arn.rsplit("/", 1)[-1]
            if existing_set is None or arn not in existing_set:
                # Whoever creates a role of this name, trusting itself, is in.
                targets.append((CREATE_ROLE, arn, name))
        for action, arn, target_label in dict.fromkeys(targets):
            if arn.split(":")[4] != (node.principal_arn or "::::").split(":")[4]:
                continue  # IAM changes only within one's own account
            answer = _identity(node, action, arn)
            if answer is None:
                continue
            identity, identity_conditions, certain = answer
            found.append(
                Path(
                    node.label,
                    (),
                    target_label,
                    action,
                    "administrative",
                    identity_conditions,
                    (),
                    identity,
                    certain,
                )
            )
    return found


def _both_sign_and_decrypt(paths: Iterable[Path]) -> tuple[str, ...]:
    signers = {p.principal for p in paths if p.kind == "use" and p.action == "kms:Sign"}
    decrypters = {p.principal for p in paths if p.kind == "use" and p.action == "kms:Decrypt"}
    return tuple(sorted(signers & decrypters))


# --- inputs ---------------------------------------------------------------------------------


def roles_from_template(
    template: Mapping[str, Any], *, account: str, region: str, partition: str = "aws"
) -> list[Role]:
    """The template's IAM roles with their resolved trust and inline policies."""
    resolver = Resolver(template, account=account, region=region, partition=partition)
    roles = []
    for logical_id, resource in resolver.resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::IAM::Role":
            continue
        properties = resource.get("Properties") or {}
        arn = resolver.resolve({"Fn::GetAtt": [logical_id, "Arn"]}, logical_id)
        trust = resolver.resolve(
            properties.get("AssumeRolePolicyDocument"), f"{logical_id}.AssumeRolePolicyDocument"
        )
        inline = tuple(
            resolver.resolve(p.get("PolicyDocument"), f"{logical_id}.Policies")
            for p in properties.get("Policies") or []
        )
        name = arn.rsplit("/", 1)[-1]
        roles.append(Role(name, arn, trust, inline))
    return roles


def from_authorization_details(
    details: Mapping[str, Any],
    keys: Mapping[str, tuple[str | None, Mapping[str, Any] | str]],
    *,
    rows: Sequence[Principal] = (),
) -> Reach:
    """The transitive matrix of a deployed stack: the key policies as deployed, and every user
    and role of iam:GetAccountAuthorizationDetails with its trust and identity policies (rows
    after ``rows``, the callers the caller asks about besides)."""
    managed: dict[str, Mapping[str, Any]] = {}
    for policy in details.get("Policies", []):
        for version in policy.get("PolicyVersionList", []):
            if version.get("IsDefaultVersion"):
                managed[policy["Arn"]] = load_document(version["Document"])
    groups = {g["GroupName"]: _policies_of(g, managed) for g in details.get("GroupDetailList", [])}
    roles: list[Role] = []
    rows = list(rows)
    existing: list[str] = []
    for detail in details.get("RoleDetailList", []):
        policies = _policies_of(detail, managed)
        role = Role(
            detail["RoleName"],
            detail["Arn"],
            load_document(detail["AssumeRolePolicyDocument"]),
            policies,
        )
        roles.append(role)
        existing.append(role.arn)
        rows.append(
            Principal(
                f"role {detail['RoleName']}",
                session_for(role.arn),
                role.arn,
                policies,
                "a role of the account, with its IAM policies",
            )
        )
    for detail in details.get("UserDetailList", []):
        policies = _policies_of(detail, managed)
        for group in detail.get("GroupList", []):
            extra = groups.get(group)
            policies = None if policies is None or extra is None else policies + extra
        existing.append(detail["Arn"])
        rows.append(
            Principal(
                f"user {detail['UserName']}",
                detail["Arn"],
                detail["Arn"],
                policies,
                "a user of the account, with its IAM policies",
            )
        )
    return build_reach(keys, roles, rows, existing=existing)


def _policies_of(
    detail: Mapping[str, Any], managed: Mapping[str, Mapping[str, Any]]
) -> tuple[Mapping[str, Any], ...] | None:
    inline = [
        load_document(p["PolicyDocument"])
        for p in detail.get("RolePolicyList", [])
        + detail.get("UserPolicyList", [])
        + detail.get("GroupPolicyList", [])
    ]
    for attached in detail.get("AttachedManagedPolicies", []):
        arn = attached["PolicyArn"]
        if arn in managed:
            inline.append(managed[arn])
        elif arn.endswith(":policy/AdministratorAccess"):
            inline.append(ADMINISTRATOR_ACCESS)
        else:
            return None  # a managed policy whose document we were not given: unknown
    return tuple(inline)


# --- output ---------------------------------------------------------------------------------


def _hop_text(hop: Hop) -> str:
    parts = []
    if hop.conditions:
        parts.append("if " + " or ".join(hop.conditions))
    if hop.identity != TRUST_NAMES_IT:
        parts.append(hop.identity + " sts:AssumeRole")
    parts += [f"if {c}" for c in hop.identity_conditions]
    label = f" [{'; '.join(parts)}]" if parts else ""
    return f"-> AssumeRole{label} -> {hop.role}"


def _last_text(path: Path) -> str:
    # Shaped like _hop_text on purpose: a path's last step reads like its hops, but from a
    # Path's fields ("only if", "by" statements), so the two stay separate.
    parts = []
    if path.conditions:
        parts.append("only if " + " or ".join(path.conditions))
    if path.identity != TRUST_NAMES_IT:
        parts.append(path.identity + " it")
    if path.statements:
        parts.append("by " + ", ".join(path.statements))
    return f" ({'; '.join(parts)})" if parts else ""


def path_text(path: Path) -> str:
    chain = " ".join(_hop_text(h) for h in path.hops)
    head = f"{path.principal} {chain}".rstrip()
    mark = "" if path.certain else "  [depends on IAM policies not known here]"
    return f"{head} => {path.action}{_last_text(path)}{mark}"


def render_text(reach: Reach, *, width: int = 100) -> str:
    out = ["Who reaches each key action (directly, or through sts:AssumeRole chains):"]
    out.append("Rows (each stands for a caller):")
    label_width = max(len(p.label) for p in reach.principals)
    for p in reach.principals:
        out.append(f"  {p.label.ljust(label_width)}  {p.modelled_as}")
    for key in reach.keys:
        out.append("")
        out.append(key)
        for action in USE_ACTIONS:
            found = reach.uses(key, action)
            if not found:
                continue
            out.append(f"  {action}")
            out += _wrapped([path_text(p) for p in found], width)
        others = [a for a in USE_ACTIONS if not reach.uses(key, a)]
        out += _wrapped(["nobody: " + ", ".join(a.removeprefix("kms:") for a in others)], width)
    out.append("")
    out += _wrapped([reach.separation_line], width, indent="")
    out.append("")
    out += _wrapped(
        [
            "Administrative paths (whoever can rewrite a key or trust policy, create a grant, or "
            "create a role of a trusted name can give itself any use above):"
        ],
        width,
        indent="",
    )
    by_principal: dict[str, list[Path]] = {}
    for p in reach.administrative():
        by_principal.setdefault(p.principal, []).append(p)
    for principal, found in by_principal.items():
        sure = [f"{p.action} on {p.key}" for p in found if p.certain]
        unsure = list(dict.fromkeys(p.action for p in found if not p.certain))
        if sure:
            out += _wrapped([f"{principal}: " + ", ".join(sure)], width, indent="  ")
        if unsure:
            text = f"{principal}: if its IAM policies (not known here) allow " + ", ".join(unsure)
            out += _wrapped([text], width, indent="  ")
    if reach.latent:
        out.append("")
        out.append("Latent grants (refused by a trust policy today; live once it is widened):")
        out += _wrapped([f"{x.principal} -> {x.role}: {x.reason}" for x in reach.latent], width)
    return "\n".join(out) + "\n"


def _wrapped(lines: list[str], width: int, indent: str = "    ") -> list[str]:
    out: list[str] = []
    for line in lines:
        current = indent
        for word in line.split(" "):
            if current.strip() and len(current) + 1 + len(word) > width:
                out.append(current.rstrip())
                current = indent + "    " + word
            else:
                current = f"{current} {word}" if current.strip() else current + word
        out.append(current.rstrip())
    return out


def to_json(reach: Reach) -> dict[str, Any]:
    return {
        "principals": {
            p.label: {"arn": p.arn, "principalArn": p.principal_arn, "modelledAs": p.modelled_as}
            for p in reach.principals
        },
        "paths": [_path_json(p) for p in reach.paths],
        "latent": [
            {"principal": x.principal, "role": x.role, "reason": x.reason} for x in reach.latent
        ],
        "separationOfDuties": {
            "holds": not reach.both,
            "both": list(reach.both),
            "line": reach.separation_line,
        },
    }


def _path_json(path: Path) -> dict[str, Any]:
    return {
        "principal": path.principal,
        "hops": [
            {
                "role": h.role,
                "roleArn": h.role_arn,
                "conditions": list(h.conditions),
                "identity": h.identity,
                "identityConditions": list(h.identity_conditions),
            }
            for h in path.hops
        ],
        "key": path.key,
        "action": path.action,
        "kind": path.kind,
        "conditions": list(path.conditions),
        "statements": list(path.statements),
        "identity": path.identity,
        "certain": path.certain,
    }


def comparable(reach: Reach) -> list[str]:
    """Every path, latent grant and the separation line, one sorted line each: what tests
    compare with the intended matrix."""
    lines = [f"{p.kind}: {path_text(p)} [{p.key}]" for p in reach.paths]
    lines += [f"latent: {x.principal} -> {x.role}" for x in reach.latent]
    lines.append(reach.separation_line)
    return sorted(set(lines))


# --- Mermaid --------------------------------------------------------------------------------


def _label(text: str) -> str:
    return '"' + text.replace('"', "#quot;") + '"'


def render_mermaid(reach: Reach) -> str:
    """The paths as a Mermaid flowchart: principal -> role -> key action, conditions as edge
    labels; dashed where unknown IAM policies decide; thick for administrative paths."""
    ids: dict[str, str] = {}
    nodes: list[str] = []
    edges: list[str] = []

    def node(kind: str, name: str, text: str, shape: tuple[str, str] = ("[", "]")) -> str:
        key = f"{kind}:{name}"
        if key not in ids:
            ids[key] = f"{kind}{len(ids)}"
            nodes.append(f"  {ids[key]}{shape[0]}{_label(text)}{shape[1]}")
        return ids[key]

    def edge(a: str, b: str, text: str, style: str) -> None:
        arrow = {"solid": "-->", "dashed": "-.->", "thick": "==>"}[style]
        line = f"  {a} {arrow}|{_label(text)}| {b}" if text else f"  {a} {arrow} {b}"
        if line not in edges:
            edges.append(line)

    for path in reach.uses():
        current = node("p", path.principal, path.principal, ("([", "])"))
        for hop in path.hops:
            target = node("r", hop.role_arn, f"role {hop.role}")
            words = [*hop.conditions, *hop.identity_conditions]
            if hop.identity != TRUST_NAMES_IT:
                words.append(hop.identity)
            style = "dashed" if hop.identity == IF_IAM_ALLOWS else "solid"
            edge(current, target, "AssumeRole" + (": " + "; ".join(words) if words else ""), style)
            current = target
        action = node(
            "k", f"{path.key}/{path.action}", f"{path.action}<br/>{path.key}", ("{{", "}}")
        )
        words = list(path.conditions)
        if path.identity != TRUST_NAMES_IT:
            words.append(path.identity)
        style = "dashed" if path.identity == IF_IAM_ALLOWS else "solid"
        edge(current, action, "; ".join(words), style)
    for path in reach.administrative():
        if not path.certain:
            continue
        source = node("p", path.principal, path.principal, ("([", "])"))
        what = {
            UPDATE_TRUST: f"rewrite the trust of {path.key}",
            CREATE_ROLE: f"create role {path.key}, trusting itself",
        }.get(path.action, f"rewrite the policy of {path.key}")
        target = node("a", f"{path.action}/{path.key}", what, ("[/", "/]"))
        edge(source, target, path.action, "thick")
    return "flowchart LR\n" + "\n".join(nodes + edges) + "\n"


def dumps(reach: Reach) -> str:
    return json.dumps(to_json(reach), indent=2, sort_keys=True)
