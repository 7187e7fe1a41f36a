"""Lambda event filtering as the local stream poller applies it (offline)."""

from __future__ import annotations

from pathlib import Path

import pytest

from local.filters import FilterError, any_filter_matches, matches, validate
from local.template import load_template

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"


def _record(event_name: str, sk: str, on_hand: int = 1) -> dict:
    return {
        "eventName": event_name,
        "dynamodb": {
            "Keys": {"pk": {"S": "SKU#A"}, "sk": {"S": sk}},
            "NewImage": {"on_hand": {"N": str(on_hand)}},
        },
        "tags": ["x", "y"],
        "count": on_hand,
    }


def _stream_of(function: str):
    return next(stream for stream in load_template(TEMPLATE).streams if stream.function == function)


def test_the_movement_log_sees_stock_inserts_and_modifies_only():
    stream = _stream_of("MovementLogFunction")
    assert any_filter_matches(stream.filters, _record("INSERT", "LOC#shop"))
    assert any_filter_matches(stream.filters, _record("MODIFY", "LOC#shop"))
    assert not any_filter_matches(stream.filters, _record("REMOVE", "LOC#shop"))
    assert not any_filter_matches(stream.filters, _record("MODIFY", "CATALOG"))
    assert not any_filter_matches(stream.filters, _record("MODIFY", "POLICY#shopify"))


def test_the_push_sees_stock_catalog_policies_jobs_and_channels():
    stream = _stream_of("PushFunction")
    for sort_key in ("LOC#shop", "POLICY#shopify", "JOB", "CATALOG"):
        assert any_filter_matches(stream.filters, _record("MODIFY", sort_key))
    for sort_key in ("LOT#shop#x", "PUSHED#shopify", "JOBS"):
        assert not any_filter_matches(stream.filters, _record("MODIFY", sort_key))
    channel = {"eventName": "MODIFY", "dynamodb": {"Keys": {"pk": {"S": "CHANNELS"}, "sk": {"S": "shopify"}}}}
    assert any_filter_matches(stream.filters, channel)
    assert not any_filter_matches(stream.filters, _record("REMOVE", "LOC#shop"))


def test_no_filters_match_everything():
    assert any_filter_matches([], {"anything": 1})


def test_any_of_several_filters():
    filters = [{"eventName": ["REMOVE"]}, {"dynamodb": {"Keys": {"sk": {"S": ["CATALOG"]}}}}]
    assert any_filter_matches(filters, _record("REMOVE", "LOC#a"))
    assert any_filter_matches(filters, _record("INSERT", "CATALOG"))
    assert not any_filter_matches(filters, _record("INSERT", "LOC#a"))


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"eventName": ["INSERT"]}, True),
        ({"eventName": ["insert"]}, False),
        ({"eventName": [{"equals-ignore-case": "insert"}]}, True),
        ({"dynamodb": {"Keys": {"sk": {"S": [{"suffix": "#shop"}]}}}}, True),
        ({"dynamodb": {"OldImage": [{"exists": False}]}}, True),
        ({"dynamodb": {"NewImage": [{"exists": True}]}}, True),
        ({"missing": {"deeper": [{"exists": False}]}}, True),
        ({"missing": {"deeper": [{"exists": True}]}}, False),
        ({"eventName": [{"anything-but": ["REMOVE", "MODIFY"]}]}, True),
        ({"eventName": [{"anything-but": "INSERT"}]}, False),
        ({"eventName": [{"anything-but": {"prefix": "INS"}}]}, False),
        ({"missing": [{"anything-but": ["x"]}]}, False),
        ({"tags": ["y"]}, True),
        ({"tags": ["z"]}, False),
        ({"count": [3]}, True),
        ({"count": [3.0]}, True),
        ({"count": [{"numeric": [">", 2, "<=", 3]}]}, True),
        ({"count": [{"numeric": [">", 3]}]}, False),
        ({"eventName": [None]}, False),
        ({"eventName": "INSERT"}, FilterError),
    ],
)
def test_pattern_operators(pattern, expected):
    record = _record("INSERT", "LOC#shop", on_hand=3)
    if expected is FilterError:
        with pytest.raises(FilterError):
            matches(pattern, record)
    else:
        assert matches(pattern, record) is expected


def test_null_matches_a_present_null():
    assert matches({"a": [None]}, {"a": None})
    assert not matches({"a": [None]}, {})


@pytest.mark.parametrize(
    "pattern",
    [
        {"a": [{"wildcard": "x*"}]},
        {"a": [{"prefix": 1}]},
        {"a": [{"numeric": ["!", 1]}]},
        {"a": [{"prefix": "x", "suffix": "y"}]},
        {"a": 1},
        {"$or": [{"a": ["x"]}, {"b": ["y"]}]},
    ],
)
def test_unsupported_patterns_are_rejected_at_startup(pattern):
    with pytest.raises(FilterError):
        validate(pattern)
