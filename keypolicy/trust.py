"""Role trust policies: who may call sts:AssumeRole (or sts:TagSession) on a role.

The same evaluator as for key policies (`compile_policy(..., service="sts")`): the same
principal matching, condition engine and refusal to guess. A trust policy is a resource-based
policy on the role (IAM User Guide, "Role trust policies", "Policy evaluation logic"):

- a Deny that applies wins: `EXPLICIT_DENY`;
- an Allow that names the caller (its user, its role, its session, `*`) is enough: `ALLOW`;
- an Allow that names the caller's account (`arn:aws:iam::ACCT:root`) delegates to IAM:
  `VIA_IAM`, allowed only if the caller's identity policies also allow sts:AssumeRole on the
  role;
- otherwise `IMPLICIT_DENY`.

The request context: `aws:PrincipalArn` (for a session: its role's ARN, path included when
known, see `role_arn_of_session`), `aws:PrincipalAccount`, and when given `sts:ExternalId`,
`sts:RoleSessionName`, `sts:SourceIdentity`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from .actions import ASSUME_ROLE
from .evaluator import CompiledPolicy, Decision, compile_policy, policy_text


def compile_trust_policy(policy: Mapping[str, Any] | str) -> CompiledPolicy:
    """Parse and check a role's trust policy (its AssumeRolePolicyDocument)."""
    return compile_policy(policy, service="sts")


@lru_cache(maxsize=256)
def _compiled(text: str) -> CompiledPolicy:
    return compile_trust_policy(text)


def assume_role_context(
    caller_principal_arn: str | None,
    *,
    external_id: str | None = None,
    session_name: str | None = None,
    source_identity: str | None = None,
) -> dict[str, str]:
    """The STS condition keys of an AssumeRole request (absent ones are left out)."""
    values = {
        "aws:PrincipalArn": caller_principal_arn,
        "sts:ExternalId": external_id,
        "sts:RoleSessionName": session_name,
        "sts:SourceIdentity": source_identity,
    }
    return {key: value for key, value in values.items() if value is not None}


def decide_assume_role(
    policy: Mapping[str, Any] | str,
    principal: str,
    context: Mapping[str, object] | None = None,
    *,
    action: str = ASSUME_ROLE,
) -> Decision:
    """Decide whether `principal` (a user, role session or root ARN) may call `action` on the
    role whose trust policy is `policy`. Parsed policies are cached by their text."""
    return _compiled(policy_text(policy, "trust policy")).decide(principal, action, context)
