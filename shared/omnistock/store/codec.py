"""Python values to DynamoDB's attribute values and back, for the low-level client.

boto3's ``TypeSerializer`` does the same, but importing it imports all of boto3 (and its S3
transfer manager): tens of milliseconds of every cold start. Numbers come back as ``int``
when whole, else ``float``; floats go out through their shortest decimal text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Set
from decimal import Decimal
from typing import Any


def serialize(value: Any) -> dict[str, Any]:  # noqa: PLR0911 - one return per type
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float | Decimal):
        return {"N": _number(value)}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, bytes | bytearray):
        return {"B": bytes(value)}
    if isinstance(value, Mapping):
        return {"M": {str(name): serialize(item) for name, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(item) for item in value]}
    if isinstance(value, Set):
        return _set(value)
    raise TypeError(f"DynamoDB cannot hold a {type(value).__name__}")


def deserialize(attribute: dict[str, Any]) -> Any:
    ((kind, data),) = attribute.items()
    if kind not in _READERS:
        raise TypeError(f"unknown DynamoDB type {kind!r}")
    return _READERS[kind](data)


def _number(value: int | float | Decimal) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        raise TypeError("DynamoDB cannot hold NaN or infinity")
    if isinstance(value, Decimal) and not value.is_finite():
        raise TypeError("DynamoDB cannot hold NaN or infinity")
    return str(Decimal(repr(value)) if isinstance(value, float) else value)


def _native_number(text: str) -> int | float:
    number = Decimal(text)
    return int(number) if number == number.to_integral_value() else float(number)


def _set(values: Set[Any]) -> dict[str, Any]:
    if not values:
        raise TypeError("DynamoDB cannot hold an empty set")
    if all(isinstance(v, str) for v in values):
        return {"SS": list(values)}
    if all(isinstance(v, int | float | Decimal) and not isinstance(v, bool) for v in values):
        return {"NS": [_number(v) for v in values]}
    if all(isinstance(v, bytes | bytearray) for v in values):
        return {"BS": [bytes(v) for v in values]}
    raise TypeError("a DynamoDB set holds strings, numbers or binaries, one kind")


_READERS: dict[str, Callable[[Any], Any]] = {
    "S": str,
    "N": _native_number,
    "BOOL": bool,
    "NULL": lambda _: None,
    "M": lambda data: {name: deserialize(item) for name, item in data.items()},
    "L": lambda data: [deserialize(item) for item in data],
    "B": bytes,
    "SS": set,
    "NS": lambda data: {_native_number(n) for n in data},
    "BS": lambda data: {bytes(b) for b in data},
}
