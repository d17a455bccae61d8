"""IAM wildcard matching: `*` matches any run of characters, `?` exactly one."""

from __future__ import annotations

import re
from functools import lru_cache

WILDCARD_CHARACTERS = frozenset("*?")


def has_wildcard(text: str) -> bool:
    return any(c in WILDCARD_CHARACTERS for c in text)


@lru_cache(maxsize=4096)
def compile_wildcard(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """The regular expression for an IAM wildcard pattern (whole-string match)."""
    parts = []
    for char in pattern:
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)
