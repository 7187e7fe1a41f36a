"""Unleashed's signatures against vectors computed with openssl (``printf '%s' <string> |
openssl dgst -sha256 -hmac <key> -binary | base64``), its dates, and the webhook replay window."""

from __future__ import annotations

from datetime import UTC, datetime

from omnistock.channels.unleashed.api import unleashed_time
from omnistock.channels.unleashed.signing import query_signature, webhook_holds, webhook_signature

KEY = "unleashed-test-key"


def test_the_query_string_alone_is_signed_base64() -> None:
    # the documented example's signed string (platforms.md §4), and an empty query (a POST)
    assert (
        query_signature("pageSize=200&modifiedSince=2016-10-01", KEY) == "nhmHeef8BzDDShYn8kIyWgVhOdHPPNbA8m5CwP274yQ="
    )
    assert query_signature("", KEY) == "aw1gqR2WFlo7RKHgkRED9wCH2ov3Sfo8PJS8eWjuOJQ="


def test_a_webhook_is_signed_over_its_timestamp_and_body_within_five_minutes() -> None:
    body = b'{"eventType":"product.updated"}'
    signed = "+tdcvfBHQSFvYxNk4yOtvC4n/xFDLq5RSji+GcFKLp0="
    assert webhook_signature("1764921600", body, "signing-key") == signed
    assert webhook_holds(body, "1764921600", signed, ["old-key", "signing-key"], now=1764921600 + 299)
    assert not webhook_holds(body, "1764921600", signed, ["signing-key"], now=1764921600 + 301)  # a replay
    assert not webhook_holds(body + b" ", "1764921600", signed, ["signing-key"], now=1764921600)
    assert not webhook_holds(body, "1764921601", signed, ["signing-key"], now=1764921600)  # unsigned header moved
    assert not webhook_holds(body, None, signed, ["signing-key"], now=1764921600)


def test_unleashed_dates() -> None:
    assert unleashed_time("/Date(1475958685963)/") == datetime(2016, 10, 8, 20, 31, 25, 963000, tzinfo=UTC)
    assert unleashed_time("2016-10-08T20:31:25.963") == datetime(2016, 10, 8, 20, 31, 25, 963000, tzinfo=UTC)
    assert unleashed_time("soon") is None and unleashed_time(None) is None
