"""KMS key-policy evaluator and access matrix (standard library only).

`decide(policy, principal, action, context, *, resource=None) -> Decision` follows AWS's
documented key-policy logic; `PolicyError` is raised for anything it does not understand.
`keypolicy.template` extracts key policies from a synthesized CloudFormation template and
`keypolicy.matrix` turns them into an access matrix.
"""

from .errors import PolicyError
from .evaluator import CompiledPolicy, Decision, Outcome, compile_policy, decide

__all__ = ["CompiledPolicy", "Decision", "Outcome", "PolicyError", "compile_policy", "decide"]
