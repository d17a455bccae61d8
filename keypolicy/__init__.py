"""KMS key-policy evaluator and access matrix (standard library only).

`decide(policy, principal, action, context, *, resource=None) -> Decision` follows AWS's
documented key-policy logic; `PolicyError` is raised for anything it does not understand.
`keypolicy.template` extracts key policies from a synthesized CloudFormation template and
`keypolicy.matrix` turns them into an access matrix. `decide_assume_role` judges a role's
trust policy with the same engine (`keypolicy.trust`), and `keypolicy.reach` follows
sts:AssumeRole chains to the keys.
"""

from .errors import PolicyError
from .evaluator import CompiledPolicy, Decision, Outcome, compile_policy, decide
from .principals import role_arn_of_session
from .trust import assume_role_context, compile_trust_policy, decide_assume_role

__all__ = [
    "CompiledPolicy",
    "Decision",
    "Outcome",
    "PolicyError",
    "assume_role_context",
    "compile_policy",
    "compile_trust_policy",
    "decide",
    "decide_assume_role",
    "role_arn_of_session",
]
