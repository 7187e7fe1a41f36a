"""JSON from outside, bounded before it is parsed.

``json.loads`` recurses once per nesting level (a signed body 100,000 levels deep raised
RecursionError: a 500) and reads integers of any length (thousands of digits cost quadratic
time, and past Python's limit raise an unexpected ValueError). Nothing any platform or
script sends comes near these bounds: Shopify's deepest payloads nest about eight levels,
ids have at most 20 digits and DynamoDB keeps 38 (a 41-digit version is the
validation's 422 to answer, not the parser's).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_INTEGER_DIGITS = 100  # far past any id or count; a number of thousands of digits is an attack
MAX_NUMBER_CHARS = 100  # a decimal or exponent number, whole text
WEBHOOK_BYTES = 3 * 1024 * 1024  # a Shopify order of a thousand lines is about 2 MB
ADMIN_BYTES = 1024 * 1024

_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = re.compile(r"[^\[\]{}]+")
_LONG_NUMBER = re.compile(rf"\d{{{MAX_INTEGER_DIGITS + 1},}}")


class UnreadableJson(ValueError):
    """Not JSON we read: malformed, nested too deep, a number too long (a 400)."""

    status = 400


class TooLarge(UnreadableJson):
    """A body over the size its route takes (a 413)."""

    status = 413


def loads(raw: bytes | str, max_bytes: int) -> Any:
    """Parse ``raw`` once it is known to be within ``max_bytes``, ``MAX_DEPTH`` levels and
    numbers of sane length; UnreadableJson (or TooLarge) otherwise."""
    text = check_bounds(raw, max_bytes)
    try:
        return json.loads(text, parse_int=_integer, parse_float=_decimal, parse_constant=_constant)
    except UnreadableJson:
        raise
    except ValueError as error:  # JSONDecodeError
        raise UnreadableJson(f"the body is not JSON: {error}") from None


def check_bounds(raw: bytes | str, max_bytes: int) -> str:
    """``raw`` as text when its size, nesting and numbers are within bounds (whether it is
    JSON at all is left to the parser); UnreadableJson (or TooLarge) otherwise."""
    if len(raw) > max_bytes:
        raise TooLarge(f"the body is over {max_bytes} bytes")
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise UnreadableJson("the body is not UTF-8") from None
    outside_strings = _STRINGS.sub('""', text)
    if nesting_depth(outside_strings) > MAX_DEPTH:
        raise UnreadableJson(f"the JSON nests deeper than {MAX_DEPTH} levels")
    if _LONG_NUMBER.search(outside_strings):
        raise UnreadableJson(f"a number has more than {MAX_INTEGER_DIGITS} digits")
    return text


def nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in ``text`` (whose strings are taken out already:
    brackets inside them are not structure); stops counting once past MAX_DEPTH."""
    depth = deepest = 0
    for bracket in _NOT_BRACKETS.sub("", text):
        if bracket in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_DEPTH:
                    return deepest
        else:
            depth -= 1
    return deepest


def _integer(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise UnreadableJson(f"a number has more than {MAX_INTEGER_DIGITS} digits")
    return int(text)


def _decimal(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise UnreadableJson(f"a number is longer than {MAX_NUMBER_CHARS} characters")
    number = float(text)
    if math.isinf(number):
        raise UnreadableJson("a number is out of range")
    return number


def _constant(text: str) -> Any:
    raise UnreadableJson(f"{text} is not a JSON number")
