"""Lambda event filtering (FilterCriteria) for stream records.

The subset of the EventBridge pattern language Lambda supports: nested objects, lists of
exact values (strings, numbers, null), ``prefix``, ``suffix``, ``equals-ignore-case``,
``exists``, ``anything-but`` (values or a prefix) and ``numeric``. A record is delivered when
any of the filters matches it; with no filters every record is.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Sequence
from typing import Any

_MISSING = object()
_NUMERIC: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FilterError(ValueError):
    """The pattern uses something outside the supported language."""


def any_filter_matches(patterns: Sequence[dict[str, Any]], record: dict[str, Any]) -> bool:
    return not patterns or any(matches(pattern, record) for pattern in patterns)


def matches(pattern: dict[str, Any], event: Any) -> bool:
    """Whether ``event`` (a dict) matches ``pattern``; every key in the pattern must match."""
    for key, rule in pattern.items():
        value = event.get(key, _MISSING) if isinstance(event, dict) else _MISSING
        if isinstance(rule, dict):
            # A missing object still matches {"field": [{"exists": false}]} inside it.
            if not matches(rule, value if isinstance(value, dict) else {}):
                return False
        elif isinstance(rule, list):
            if not _value_matches(rule, value):
                return False
        else:
            raise FilterError(f"pattern value for {key!r} must be an object or a list, not {rule!r}")
    return True


def _value_matches(rules: list[Any], value: Any) -> bool:
    if value is not _MISSING and isinstance(value, list):  # any element may match
        return any(_value_matches(rules, item) for item in value) if value else _value_matches(rules, _MISSING)
    return any(_rule_matches(rule, value) for rule in rules)


def _rule_matches(rule: Any, value: Any) -> bool:  # noqa: PLR0911 - one branch per operator
    if not isinstance(rule, dict):
        return value is not _MISSING and _same(rule, value)
    if len(rule) != 1:
        raise FilterError(f"a matcher has exactly one operator: {rule!r}")
    ((name, argument),) = rule.items()
    if name == "exists":
        return (value is not _MISSING) == bool(argument)
    if value is _MISSING:
        return False
    if name == "prefix":
        return isinstance(value, str) and value.startswith(_text(argument, name))
    if name == "suffix":
        return isinstance(value, str) and value.endswith(_text(argument, name))
    if name == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == _text(argument, name).lower()
    if name == "anything-but":
        return _anything_but(argument, value)
    if name == "numeric":
        return _numeric(argument, value)
    raise FilterError(f"unsupported filter operator {name!r}")


def _anything_but(argument: Any, value: Any) -> bool:
    if isinstance(argument, dict):
        prefix = argument.get("prefix")
        if prefix is None or len(argument) != 1:
            raise FilterError(f"anything-but supports a list of values or a prefix: {argument!r}")
        return isinstance(value, str) and not value.startswith(prefix)
    excluded = argument if isinstance(argument, list) else [argument]
    return not any(_same(item, value) for item in excluded)


def _numeric(argument: Any, value: Any) -> bool:
    if not isinstance(argument, list) or len(argument) % 2:
        raise FilterError(f"numeric takes operator/number pairs: {argument!r}")
    pairs = list(zip(argument[::2], argument[1::2], strict=True))
    for op, bound in pairs:
        if op not in _NUMERIC or isinstance(bound, bool) or not isinstance(bound, (int, float)):
            raise FilterError(f"unsupported numeric comparison {op!r} {bound!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return all(_NUMERIC[op](value, bound) for op, bound in pairs)


def _same(expected: Any, value: Any) -> bool:
    # JSON true is not 1, and 1 equals 1.0 (EventBridge compares numbers numerically).
    if isinstance(expected, bool) or isinstance(value, bool):
        return expected is value
    return bool(expected == value)


def _text(argument: Any, name: str) -> str:
    if not isinstance(argument, str):
        raise FilterError(f"{name} takes a string: {argument!r}")
    return argument


def validate(pattern: dict[str, Any]) -> None:
    """Raise FilterError for syntax outside the supported language (checked at startup)."""
    for key, rule in pattern.items():
        if isinstance(rule, dict):
            validate(rule)
        elif isinstance(rule, list):
            for item in rule:
                if isinstance(item, dict):  # run each matcher once per value type to check its argument
                    _rule_matches(item, "")
                    _rule_matches(item, 0)
        else:
            raise FilterError(f"pattern value for {key!r} must be an object or a list, not {rule!r}")
