"""The attribute codec writes what boto3's TypeSerializer writes, and reads it back as the
store always did (whole numbers as int, others as float)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from omnistock.store.codec import deserialize, serialize

VALUES: list[Any] = [
    None,
    True,
    False,
    0,
    -7,
    12345678901234567890,
    "",
    "café #1",
    b"\x00\x01",
    [1, "a", None, [True]],
    {"a": {"b": [1, 2]}, "held@commentsold": 3},
    {"x", "y"},
    {1, 2},
]


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_writes_what_boto3_writes(value: Any) -> None:
    expected = TypeSerializer().serialize(value)
    written = serialize(value)
    if "SS" in expected or "NS" in expected:
        ((kind, items),) = expected.items()
        assert written.keys() == {kind} and sorted(written[kind]) == sorted(items)
    else:
        assert written == expected


@pytest.mark.parametrize("value", VALUES, ids=repr)
def test_reads_back_what_it_wrote(value: Any) -> None:
    assert deserialize(serialize(value)) == value


def test_numbers_read_as_int_when_whole_else_float() -> None:
    assert deserialize({"N": "5"}) == 5 and isinstance(deserialize({"N": "5.0"}), int)
    assert deserialize({"N": "2.5"}) == 2.5
    assert serialize(0.1) == {"N": "0.1"} and serialize(Decimal("1.50")) == {"N": "1.50"}
    assert TypeDeserializer().deserialize({"N": "12345678901234567890"}) == deserialize({"N": "12345678901234567890"})


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), set(), {1, "a"}, object()], ids=repr)
def test_refuses_what_dynamodb_cannot_hold(bad: Any) -> None:
    with pytest.raises(TypeError):
        serialize(bad)
