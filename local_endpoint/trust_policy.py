"""Role trust policies in the endpoint: a thin call into `keypolicy`, the one policy evaluator.

Kept as a module so the STS patch has one name for "the trust policy could not be read"; the
judging itself is `keypolicy.decide_assume_role` (same principal matching, condition engine
and refusal to guess as for key policies).
"""

from __future__ import annotations

from keypolicy import PolicyError, decide_assume_role
from keypolicy.actions import ASSUME_ROLE

TrustPolicyError = PolicyError
"""A trust policy uses something the evaluator does not model (never a silent allow or deny)."""

__all__ = ["ASSUME_ROLE", "TrustPolicyError", "decide_assume_role"]
