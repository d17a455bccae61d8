"""The role construct: an IAM role that carries no permissions of its own.

Its rights come only from the key policies that name it. It has no inline policy, no managed
policy and no `AWS::IAM::Policy`; sessions last at most one hour. Its trust policy is exactly
the statements `stacks.key_policy.trust_statements` builds for its party.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

MAX_SESSION: Final = Duration.hours(1)


class KeyUserRole(Construct):
    """A role for one party of the exchange (sender or receiver), assumable per `trust`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str | None,  # None: CloudFormation generates it (sample:roleNames)
        description: str,
        trust: Sequence[iam.PolicyStatement],
    ) -> None:
        super().__init__(scope, construct_id)
        if not trust:
            raise ValueError("a party role needs at least one trust statement")
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=description,
            # Replaced below: the trust policy is the party's statements, nothing else.
            assumed_by=iam.AccountRootPrincipal(),
            max_session_duration=MAX_SESSION,
        )
        document = iam.PolicyDocument(statements=list(trust))
        cfn_role = self.role.node.default_child
        assert isinstance(cfn_role, iam.CfnRole)
        cfn_role.assume_role_policy_document = document
