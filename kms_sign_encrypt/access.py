"""The access matrix (`access`, and the end of `run`): who may do what with which key.

Built by ``keypolicy.matrix`` (with this project's rows, ``access_rows``) from the key
policies, read either live (GetKeyPolicy of the deployed keys, with the caller's administrator
credentials: the stack's root statement allows it) or from a synthesized template (``cdk
synth``, no AWS call at all). The transitive matrix (``keypolicy.reach``) follows
sts:AssumeRole chains: from the template's roles and trust
policies, or live from iam:GetAccountAuthorizationDetails (every principal and its policies).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from keypolicy import PolicyError, matrix, reach
from keypolicy.reach import Reach
from kms_sign_encrypt import access_rows
from kms_sign_encrypt.aws import AwsSession, translated
from kms_sign_encrypt.errors import KmsSignEncryptError, UsageError
from kms_sign_encrypt.files import read_input
from kms_sign_encrypt.stack import Resources

MAX_TEMPLATE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class AccessReport:
    """Who may do what with the deployment's keys: the key-policy matrix
    (``keypolicy.matrix.AccessMatrix``) and, when it could be built, the transitive reach
    through sts:AssumeRole chains; rendered as text, Mermaid or JSON."""

    built: matrix.AccessMatrix
    reach: Reach | None = None  # the transitive paths
    reach_note: str | None = None  # why there is no transitive matrix, when there is none

    def table(self) -> str:
        text = matrix.render_table(self.built)
        if self.reach is not None:
            text += "\n" + reach.render_text(self.reach)
        elif self.reach_note:
            text += f"\ntransitive access matrix unavailable: {self.reach_note}\n"
        return text

    def mermaid(self) -> str:
        if self.reach is None:
            raise UsageError(f"no transitive access matrix to draw: {self.reach_note}")
        return reach.render_mermaid(self.reach)

    def as_json(self) -> Any:
        document = matrix.to_json(self.built)
        document["transitive"] = reach.to_json(self.reach) if self.reach is not None else None
        return json.loads(json.dumps(document))


def live_key_policy(session: AwsSession, key_arn: str) -> dict[str, Any]:
    with translated(session, "kms:GetKeyPolicy", key_arn):
        answer = session.client("kms").get_key_policy(KeyId=key_arn, PolicyName="default")
    return json.loads(answer["Policy"])


def _key_arn(session: AwsSession, arn: str | None, key: str) -> str:
    """GetKeyPolicy takes no alias; resolve one with DescribeKey (an admin action)."""
    if arn:
        return arn
    with translated(session, "kms:DescribeKey", key):
        return session.client("kms").describe_key(KeyId=key)["KeyMetadata"]["Arn"]


def access_report_from_live_policies(admin: AwsSession, resources: Resources) -> AccessReport:
    """GetKeyPolicy of both keys (2 KMS calls; DescribeKey too for a key known by alias)."""
    keys = {
        resources.encryption_key: _key_arn(
            admin, resources.encryption_key_arn, resources.encryption_key
        ),
        resources.signing_key: _key_arn(admin, resources.signing_key_arn, resources.signing_key),
    }
    keys.update(_older_generations(resources, set(keys.values())))  # issue 15
    policies = {label: (arn, live_key_policy(admin, arn)) for label, arn in keys.items()}
    partition, account = _partition_account(next(iter(keys.values())))
    principals = access_rows.matrix_rows(
        account,
        sender_role_arn=resources.sender_role_arn,
        receiver_role_arn=resources.receiver_role_arn,
        partition=partition,
    )
    built = _built(lambda: matrix.build_matrix(policies, principals))
    try:
        details = account_authorization_details(admin)
    except (
        KmsSignEncryptError
    ) as exc:  # e.g. no iam:GetAccountAuthorizationDetails: say so, keep the rest
        return AccessReport(built, reach_note=str(exc))
    transitive = _built(
        lambda: reach.from_authorization_details(
            details, policies, rows=access_rows.reach_rows(account, partition=partition)
        )
    )
    return AccessReport(built, transitive)


def account_authorization_details(session: AwsSession) -> dict[str, Any]:
    """Every user, group, role and customer managed policy of the account, with their
    policies (iam:GetAccountAuthorizationDetails, all pages)."""
    merged: dict[str, list[Any]] = {
        "UserDetailList": [],
        "GroupDetailList": [],
        "RoleDetailList": [],
        "Policies": [],
    }
    with translated(session, "iam:GetAccountAuthorizationDetails", "*"):
        paginator = session.client("iam").get_paginator("get_account_authorization_details")
        for page in paginator.paginate():
            for name, items in merged.items():
                items.extend(page.get(name, []))
    return merged


def _partition_account(arn: str) -> tuple[str, str]:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn":
        raise UsageError(f"not a key ARN: {arn!r}")
    return parts[1], parts[4]


def _built(build: Any) -> Any:
    try:
        return build()
    except PolicyError as exc:
        raise UsageError(f"cannot build the access matrix: {exc}") from None


def access_report_from_template(path: Path, *, account: str, region: str) -> AccessReport:
    """From a synthesized template (cdk.out/STACK.template.json): no AWS call at all."""
    try:
        document = json.loads(read_input(path, limit=MAX_TEMPLATE_BYTES))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"template {path} is not valid JSON: {exc}") from None
    return AccessReport(
        _built(lambda: access_rows.matrix_from_template(document, account=account, region=region)),
        _built(lambda: access_rows.reach_from_template(document, account=account, region=region)),
    )


def _older_generations(resources: Resources, current: set[str]) -> dict[str, str]:
    """The key generations other than the current ones (issue 15), labelled by generation:
    one more GetKeyPolicy each. A deleted generation is no longer the stack's."""
    return {
        f"{purpose} generation {g.name} ({g.state})": g.arn
        for purpose, generations in (
            ("encryption", resources.encryption_generations),
            ("signing", resources.signing_generations),
        )
        for g in generations
        if g.arn is not None and g.arn not in current
    }
