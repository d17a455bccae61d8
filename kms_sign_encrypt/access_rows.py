"""This project's questions to the generic policy evaluator: the access matrix's rows, and
where in the stack's template its two roles are.

``keypolicy`` answers "who may do what" for whichever callers it is asked about; the callers a
security reviewer asks about for this stack (SenderRole, ReceiverRole, the account's admins,
its root user, any other principal, another account, anyone) and the stack's output names
(``stacks.outputs``) belong to the application, so they live here.

- ``matrix_rows(...)`` and ``matrix_from_template(...)``: the key-policy matrix
  (``keypolicy.matrix``);
- ``reach_rows(...)`` and ``reach_from_template(...)``: the transitive matrix
  (``keypolicy.reach``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from keypolicy import matrix, reach
from keypolicy.identity import ADMINISTRATOR_ACCESS
from keypolicy.principals import ANYONE, parse_caller, session_for
from keypolicy.reach import Principal
from keypolicy.template import extract_key_policies, resolve_output
from stacks.outputs import RECEIVER_ROLE_ARN, SENDER_ROLE_ARN

OTHER_ACCOUNT = "444455556666"
"""The account of the "principal in another account" rows (an example account)."""


# --- the key-policy matrix ----------------------------------------------------------------


def matrix_rows(
    account: str,
    *,
    sender_role_arn: str,
    receiver_role_arn: str,
    admin_arns: Sequence[str] = (),
    partition: str = "aws",
    other_account: str = OTHER_ACCOUNT,
) -> dict[str, str]:
    """The rows a security reviewer asks about, as {row label: caller ARN}.

    The roles are represented by one of their sessions (what a request comes from). With no
    configured admins, the account's admins are "a principal in this account whose IAM
    policies allow it", represented by an example role.
    """
    rows = {
        "SenderRole": session_for(sender_role_arn),
        "ReceiverRole": session_for(receiver_role_arn),
    }
    if admin_arns:
        for arn in admin_arns:
            caller = parse_caller(arn)
            short = arn.split(":", 5)[-1]
            rows[f"Admin {short}"] = session_for(arn) if caller.kind == "role" else arn
    else:
        rows["Account admins"] = f"arn:{partition}:iam::{account}:role/Admin"
    rows["Account root user"] = f"arn:{partition}:iam::{account}:root"
    rows["Other in account"] = f"arn:{partition}:iam::{account}:role/AnyOtherRole"
    rows["Another account"] = f"arn:{partition}:iam::{other_account}:role/AnyRole"
    rows["Anyone"] = ANYONE
    return rows


def matrix_from_template(
    template: Mapping[str, Any],
    *,
    account: str,
    region: str,
    partition: str = "aws",
    admin_arns: Sequence[str] = (),
) -> matrix.AccessMatrix:  # the template readers' keyword-only signature (keypolicy.template)
    """The matrix of a synthesized stack template (keys labelled by alias, not yet deployed)."""
    keys = extract_key_policies(template, account=account, region=region, partition=partition)
    roles = {
        name: resolve_output(template, name, account=account, region=region, partition=partition)
        for name in (SENDER_ROLE_ARN, RECEIVER_ROLE_ARN)
    }
    principals = matrix_rows(
        account,
        sender_role_arn=roles[SENDER_ROLE_ARN],
        receiver_role_arn=roles[RECEIVER_ROLE_ARN],
        admin_arns=admin_arns,
        partition=partition,
    )
    return matrix.build_matrix({k.label: (None, k.policy) for k in keys.values()}, principals)


# --- the transitive matrix ----------------------------------------------------------------


def reach_rows(account: str, *, partition: str = "aws") -> list[Principal]:
    """The callers a reviewer asks about, with what the matrix assumes of their IAM policies."""
    iam = f"arn:{partition}:iam::{account}"
    assume_any = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}],
    }
    return [
        Principal(
            "Account admins",
            session_for(f"{iam}:role/Admin"),
            f"{iam}:role/Admin",
            (ADMINISTRATOR_ACCESS,),
            "a role of the account with AdministratorAccess, named by no policy",
        ),
        Principal(
            "AssumeRole-on-* role",
            session_for(f"{iam}:role/AnyRoleAssumer"),
            f"{iam}:role/AnyRoleAssumer",
            (assume_any,),
            "a role whose only right is sts:AssumeRole on *",
        ),
        Principal(
            "Account root user",
            f"{iam}:root",
            f"{iam}:root",
            (ADMINISTRATOR_ACCESS,),
            "the root user (not governed by IAM policies)",
        ),
        Principal(
            "Other in account",
            session_for(f"{iam}:role/AnyOtherRole"),
            f"{iam}:role/AnyOtherRole",
            None,
            "any other principal of the account, IAM policies unknown",
        ),
        Principal(
            "Another account",
            session_for(f"arn:{partition}:iam::{OTHER_ACCOUNT}:role/AnyRole"),
            f"arn:{partition}:iam::{OTHER_ACCOUNT}:role/AnyRole",
            None,
            "a role in another account, IAM policies unknown",
            same_account=False,
        ),
        Principal("Anyone", ANYONE, None, (), "any principal at all, anonymous included"),
    ]


def reach_from_template(
    template: Mapping[str, Any], *, account: str, region: str, partition: str = "aws"
) -> reach.Reach:
    """The transitive matrix of a synthesized template: its keys, its roles (each also a row,
    with its inline policies), the standard rows and every principal its trust policies name
    (whose IAM policies are unknown here)."""
    keys = extract_key_policies(template, account=account, region=region, partition=partition)
    roles = reach.roles_from_template(template, account=account, region=region, partition=partition)
    rows = [
        *(
            Principal(
                f"role {r.label}",
                session_for(r.arn),
                r.arn,
                r.policies,
                "a role of the template, with its inline policies",
            )
            for r in roles
        ),
        *reach_rows(account, partition=partition),
    ]
    return reach.build_reach({k.label: (None, k.policy) for k in keys.values()}, roles, rows)
