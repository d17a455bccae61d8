"""The transitive access matrix across accounts (issue 13): keys in one account, parties'
roles in others.

Each account contributes its roles (trust and identity policies) and the rows the caller asks
about for an account (`standard_rows(account)`: for this project
`kms_sign_encrypt.reach_rows`, the administrators, an AssumeRole-on-* role, the root user, any
other principal), labelled with the account ID. The chains are followed with
`keypolicy.reach.build_reach`, which judges a step into another account (a key or a role
whose ARN names another account) as AWS does: the resource's policy must allow the caller
*and* the caller's own identity policy must.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from .identity import load_document
from .principals import session_for
from .reach import Principal, Reach, Role, build_reach, roles_from_template
from .reach import _policies_of as policies_of
from .template import extract_key_policies

_DROPPED_ROWS = ("Another account", "Anyone")  # every account is a row of its own here

StandardRows = Callable[[str], Sequence[Principal]]
"""The rows to ask about in one account, given its ID."""


def account_rows(
    account: str, roles: Sequence[Role], *, modelled_as: str, standard_rows: StandardRows
) -> list[Principal]:
    """The rows of one account: its roles (as sessions), then its standard rows."""
    rows = [
        Principal(f"{account} role {r.label}", session_for(r.arn), r.arn, r.policies, modelled_as)
        for r in roles
    ]
    for row in standard_rows(account):
        if row.label not in _DROPPED_ROWS:
            rows.append(replace(row, label=f"{account} {row.label}"))
    return rows


def from_templates(
    key_owner: tuple[str, Mapping[str, Any]],
    parties: Mapping[str, Mapping[str, Any]],
    *,
    region: str,
    standard_rows: StandardRows,
    key_arns: Mapping[str, str] | None = None,
) -> Reach:
    """The matrix of synthesized templates: `key_owner` = (account, template); `parties` =
    {account: template}. Keys are labelled by alias; `key_arns` ({alias: key ARN}, as the
    party templates name them) gives their ARNs, else `key/<logical id>` in the key-owner
    account (a template cannot know the key IDs)."""
    owner, owner_template = key_owner
    keys = extract_key_policies(owner_template, account=owner, region=region)
    key_inputs = {
        k.label: (
            (key_arns or {}).get(k.label, f"arn:aws:kms:{region}:{owner}:key/{k.logical_id}"),
            k.policy,
        )
        for k in keys.values()
    }
    roles: list[Role] = []
    rows: list[Principal] = []
    for account, template in {owner: owner_template, **parties}.items():
        account_roles = roles_from_template(template, account=account, region=region)
        roles += account_roles
        rows += account_rows(
            account,
            account_roles,
            modelled_as="a role of the template, with its inline policies",
            standard_rows=standard_rows,
        )
    return build_reach(key_inputs, roles, rows)


def from_account_details(
    keys: Mapping[str, tuple[str | None, Mapping[str, Any] | str]],
    details: Mapping[str, Mapping[str, Any]],
    *,
    standard_rows: StandardRows,
) -> Reach:
    """The matrix of deployed accounts: `keys` = {label: (key ARN, key policy)} as deployed,
    `details` = {account: iam:GetAccountAuthorizationDetails of that account}."""
    roles: list[Role] = []
    rows: list[Principal] = []
    existing: list[str] = []
    for account, detail in details.items():
        managed: dict[str, Mapping[str, Any]] = {}
        for policy in detail.get("Policies", []):
            for version in policy.get("PolicyVersionList", []):
                if version.get("IsDefaultVersion"):
                    managed[policy["Arn"]] = load_document(version["Document"])
        account_roles = [
            Role(
                d["RoleName"],
                d["Arn"],
                load_document(d["AssumeRolePolicyDocument"]),
                policies_of(d, managed),
            )
            for d in detail.get("RoleDetailList", [])
        ]
        roles += account_roles
        existing += [r.arn for r in account_roles]
        rows += account_rows(
            account,
            account_roles,
            modelled_as="a role of the account, with its IAM policies",
            standard_rows=standard_rows,
        )
        for user in detail.get("UserDetailList", []):
            existing.append(user["Arn"])
            rows.append(
                Principal(
                    f"{account} user {user['UserName']}",
                    user["Arn"],
                    user["Arn"],
                    policies_of(user, managed),
                    "a user of the account, with its IAM policies",
                )
            )
    return build_reach(keys, roles, rows, existing=existing)
