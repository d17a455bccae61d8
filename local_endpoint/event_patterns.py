"""EventBridge event patterns, matched as EventBridge matches them, and TestEventPattern.

EventBridge User Guide, "Event patterns" and "Content filtering in event patterns":

- A pattern is a JSON object whose leaves are arrays of match values; every field in the
  pattern must match (AND), any value in a leaf's array may (OR); ``$or`` takes a list of
  sub-patterns.
- A field the event does not have does not match (unless ``{"exists": false}``).
- Arrays in the event are flattened: a leaf matches if any element does, and a path through an
  array of objects (``detail.resources.ARN`` over ``"resources": [{"ARN": ...}, ...]``) reaches
  every element's field. This is what a CloudTrail rule on ``detail.resources.ARN`` relies on.
- Matching is exact and case-sensitive for strings; numbers compare as numbers; ``null``
  matches a null value. Content filters: ``prefix``, ``suffix`` (each optionally
  ``{"equals-ignore-case": ...}``), ``anything-but`` (a value, a list, or ``{"prefix": ...}`` /
  ``{"suffix": ...}``), ``numeric``, ``exists``, ``equals-ignore-case``, ``wildcard``.

moto 5.2.5 answers TestEventPattern with an empty body (``EventsBackend.test_event_pattern``
raises NotImplementedError) and its own matcher does not flatten arrays of objects, so a rule
on ``detail.resources.ARN`` never matches there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

_MISSING = object()
# TestEventPattern requires these fields in the event (EventBridge API reference).
REQUIRED_EVENT_FIELDS = ("id", "account", "source", "time", "region", "resources", "detail-type")


class PatternError(ValueError):
    """A pattern EventBridge would refuse (InvalidEventPatternException)."""


def parse_pattern(text: str) -> dict[str, Any]:
    try:
        pattern = json.loads(text)
    except ValueError:
        raise PatternError("Event pattern is not valid JSON.") from None
    if not isinstance(pattern, dict) or not pattern:
        raise PatternError("Event pattern must be a non-empty JSON object.")
    _check(pattern)
    return pattern


def _check(node: dict[str, Any]) -> None:
    for key, value in node.items():
        if key == "$or":
            if not isinstance(value, list) or len(value) < 2:
                raise PatternError("$or needs a list of at least two patterns.")
            for sub in value:
                if not isinstance(sub, dict):
                    raise PatternError("$or needs a list of patterns.")
                _check(sub)
        elif isinstance(value, dict):
            _check(value)
        elif isinstance(value, list):
            if not value:
                raise PatternError(f"Empty arrays are not allowed (at {key!r}).")
            for item in value:
                if isinstance(item, dict):
                    _check_filter(item)
                elif isinstance(item, list):
                    raise PatternError(f"Match values must be scalars (at {key!r}).")
        else:
            raise PatternError(f"Match values must be in an array (at {key!r}).")


_FILTERS = frozenset(
    {"prefix", "suffix", "anything-but", "numeric", "exists", "equals-ignore-case", "wildcard"}
)


def _check_filter(item: dict[str, Any]) -> None:
    if len(item) != 1 or next(iter(item)) not in _FILTERS:
        raise PatternError(f"Unrecognized match type {sorted(item)}.")


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a parsed JSON object) matches ``pattern``."""
    for key, value in pattern.items():
        if key == "$or":
            if not any(matches(sub, event) for sub in value):
                return False
            continue
        found = list(_values(event, key))
        if isinstance(value, dict):
            if not any(isinstance(f, dict) and matches(value, f) for f in found):
                return False
        elif not _leaf_matches(value, found):
            return False
    return True


def _values(node: Any, key: str) -> Iterator[Any]:
    """The values of ``key`` in ``node``, through arrays of objects; arrays are flattened."""
    if isinstance(node, list):
        for element in node:
            yield from _values(element, key)
        return
    if isinstance(node, dict) and key in node:
        value = node[key]
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def _flatten(values: list[Any]) -> Iterator[Any]:
    for value in values:
        if isinstance(value, list):
            yield from _flatten(value)
        else:
            yield value


def _leaf_matches(filters: list[Any], found: list[Any]) -> bool:
    for item in filters:
        if isinstance(item, dict) and "exists" in item:
            present = any(not isinstance(v, dict) for v in found)
            if present == bool(item["exists"]):
                return True
            continue
        if any(not isinstance(v, dict) and _value_matches(item, v) for v in found):
            return True
    return False


def _value_matches(item: Any, value: Any) -> bool:
    if not isinstance(item, dict):
        return _equal(item, value)
    ((name, argument),) = item.items()
    if name == "prefix":
        return _affix(argument, value, str.startswith)
    if name == "suffix":
        return _affix(argument, value, str.endswith)
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == str(argument).lower()
    if name == "wildcard":
        return isinstance(value, str) and _wildcard(str(argument), value)
    if name == "anything-but":
        if isinstance(argument, dict):
            return not _value_matches(argument, value)
        excluded = argument if isinstance(argument, list) else [argument]
        return not any(_equal(x, value) for x in excluded)
    if name == "numeric":
        return _numeric(argument, value)
    return False


def _equal(expected: Any, value: Any) -> bool:
    if expected is None or value is None:
        return expected is value
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return type(expected) is type(value) and expected == value


def _affix(argument: Any, value: Any, test: Any) -> bool:
    if not isinstance(value, str):
        return False
    if isinstance(argument, dict) and "equals-ignore-case" in argument:
        return bool(test(value.lower(), str(argument["equals-ignore-case"]).lower()))
    return isinstance(argument, str) and bool(test(value, argument))


def _wildcard(pattern: str, value: str) -> bool:
    parts = re.split(r"(\*)", pattern)
    expression = "".join(".*" if part == "*" else re.escape(part) for part in parts)
    return re.fullmatch(expression, value, re.DOTALL) is not None


_COMPARISONS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    "=": lambda a, b: a == b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _numeric(argument: Any, value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if not isinstance(argument, list) or len(argument) % 2:
        return False
    for operator, bound in zip(argument[::2], argument[1::2], strict=True):
        compare = _COMPARISONS.get(operator)
        if compare is None or not compare(float(value), float(bound)):
            return False
    return True


def test_event_pattern(pattern_text: str, event_text: str) -> bool:
    """TestEventPattern: raises PatternError for a bad pattern, ValueError for a bad event."""
    pattern = parse_pattern(pattern_text)
    try:
        event = json.loads(event_text)
    except ValueError:
        raise ValueError("Parameter Event is not valid.") from None
    if not isinstance(event, dict) or any(f not in event for f in REQUIRED_EVENT_FIELDS):
        raise ValueError("Parameter Event is not valid.")
    return matches(pattern, event)


test_event_pattern.__test__ = False  # type: ignore[attr-defined] - not a pytest test
