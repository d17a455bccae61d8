"""The role construct: an IAM role that carries no permissions of its own.

Its rights come only from the key policies that name it. It has no inline policy, no managed
policy and no `AWS::IAM::Policy`; sessions last at most one hour.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from aws_cdk import Duration
from aws_cdk import aws_iam as iam
from constructs import Construct

MAX_SESSION: Final = Duration.hours(1)


class KeyUserRole(Construct):
    """A role for one party of the exchange (sender or receiver), assumable by `trusted`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        role_name: str | None,  # None: CloudFormation generates it (sample:roleNames)
        description: str,
        trusted: Sequence[iam.IPrincipal],
        external_id: str | None,
    ) -> None:
        super().__init__(scope, construct_id)
        assumed_by = trusted[0] if len(trusted) == 1 else iam.CompositePrincipal(*trusted)
        self.role = iam.Role(
            self,
            "Role",
            role_name=role_name,
            description=description,
            assumed_by=assumed_by,
            external_ids=[external_id] if external_id else None,
            max_session_duration=MAX_SESSION,
        )
