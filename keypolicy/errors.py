"""The one exception of the package."""


class PolicyError(ValueError):
    """A policy, principal, action or context the evaluator does not understand.

    Raised instead of guessing: an element, operator, condition key or principal type that is
    not supported never turns into a silent allow or a silent deny.
    """
