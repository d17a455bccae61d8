"""Do the IAM principals a policy names exist? One check for key policies and trust policies.

AWS validates the ``Principal`` element when a policy is stored: KMS refuses a key policy
naming a role or user that does not exist (CreateKey, PutKeyPolicy: MalformedPolicyDocument-
Exception, "Policy contains a statement with one or more invalid principals."), and IAM
refuses such a trust policy (CreateRole, UpdateAssumeRolePolicy: MalformedPolicyDocument,
'Invalid principal in policy: "AWS":"ARN"'). A role ARN must match the role's path too: IAM
names ``arn:aws:iam::ACCOUNT:role/PATH/NAME``. Conditions (``aws:PrincipalArn``) are not
checked: they may name anything.

An account the endpoint holds no IAM state for (a partner account it never saw) cannot be
checked, so its principals pass, as the endpoint cannot know better; one it does know (it
has used its IAM) is checked like the caller's own.

**Propagation.** A new principal is not visible to KMS at once (IAM is eventually
consistent). With :data:`propagation_seconds` set (``LocalEndpoint(principal_propagation_
seconds=N)``, ``--principal-propagation-seconds N``), a role or user younger than N seconds
does not exist yet for this check, so the race of a key created right after its roles can
be reproduced.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

PARTITION = "aws"
ADMINISTRATOR_NAME = "local-admin"

propagation_seconds: float = 0.0
"""How long a new role or user stays invisible to policy validation (0: visible at once)."""


def named_principals(document: Any) -> list[str]:
    """The IAM ARNs (roles, users, account roots) that a policy's Principal elements name."""
    statements = document.get("Statement", []) if isinstance(document, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    names = []
    for statement in statements:
        principal = statement.get("Principal") if isinstance(statement, dict) else None
        values = principal.get("AWS", []) if isinstance(principal, dict) else []
        for value in [values] if isinstance(values, str) else values:
            if isinstance(value, str) and value.startswith("arn:"):
                names.append(value)
    return names


def missing_principals(document: Any, account: str) -> list[str]:
    """The principals ``document`` names that do not exist (or are not visible yet)."""
    return [arn for arn in named_principals(document) if not principal_exists(arn, account)]


def principal_exists(arn: str, account: str) -> bool:
    """Whether a role, user or account-root ARN exists, path included.

    ``account`` is the caller's account; other accounts are checked only if the endpoint
    holds IAM state for them.
    """
    from moto.iam.models import iam_backends

    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[2] != "iam":
        return True  # not an IAM ARN (a service principal, an STS session): not checked here
    owner, resource = parts[4], parts[5]
    if not (owner.isdigit() and len(owner) == 12):
        return False
    if resource == "root":
        return True
    if owner != account and owner not in iam_backends:
        return True  # an account the endpoint knows nothing about
    backend = iam_backends[owner][PARTITION]
    kind = resource.split("/", 1)[0]
    if kind == "role":
        return any(role.arn == arn and _visible(role) for role in backend.get_roles())
    if kind == "user":
        if resource == f"user/{ADMINISTRATOR_NAME}":
            return True
        return any(user.arn == arn and _visible(user) for user in backend.users.values())
    return False


def _visible(entity: Any) -> bool:
    if propagation_seconds <= 0:
        return True
    from moto.core.utils import utcnow

    created = getattr(entity, "create_date", None)
    if created is None:
        return True
    return utcnow() - created >= timedelta(seconds=propagation_seconds)


def invalid_principal_message(arns: Iterable[str]) -> str:
    """IAM's MalformedPolicyDocument message for a trust policy naming ``arns``."""
    from local_endpoint import messages

    return messages.INVALID_TRUST_PRINCIPAL.format(arn=next(iter(arns)))
