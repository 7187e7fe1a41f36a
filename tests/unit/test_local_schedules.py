"""Schedule expressions and timers of the local stack (offline)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

import pytest

from local.schedules import ScheduleError, Timer, check_expression, parse_cron, parse_rate, scheduled_event
from local.template import ScheduleSpec


@pytest.mark.parametrize(
    ("expression", "seconds"),
    [("rate(1 minute)", 60), ("rate(5 minutes)", 300), ("rate(1 hour)", 3600), ("rate(2 days)", 172800)],
)
def test_rates(expression, seconds):
    assert parse_rate(expression) == seconds


@pytest.mark.parametrize(
    "expression", ["rate(5 minute)", "rate(1 minutes)", "rate(0 minutes)", "rate(1 week)", "rate(minute)", "every 5m"]
)
def test_invalid_rates(expression):
    with pytest.raises(ScheduleError):
        parse_rate(expression)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 12 * * ? *)", "2026-03-01T11:59", "2026-03-01T12:00"),
        ("cron(0 12 * * ? *)", "2026-03-01T12:00", "2026-03-02T12:00"),
        ("cron(*/15 * * * ? *)", "2026-03-01T10:16", "2026-03-01T10:30"),
        ("cron(0 9 ? * MON-FRI *)", "2026-11-21T10:00", "2026-11-23T09:00"),  # Saturday -> Monday
        ("cron(0 0 1 JAN ? *)", "2026-06-01T00:00", "2027-01-01T00:00"),
        ("cron(30 8 31 * ? *)", "2026-04-01T00:00", "2026-05-31T08:30"),
        ("cron(0 0 ? * 1 *)", "2026-11-23T00:00", "2026-11-29T00:00"),  # 1 = Sunday
        ("cron(0 0 1 1 ? 2026)", "2026-06-01T00:00", None),
    ],
)
def test_cron_next_run(expression, after, expected):
    upcoming = parse_cron(expression).next_after(_at(after))
    assert upcoming == (_at(expected) if expected else None)


@pytest.mark.parametrize(
    "expression",
    [
        "cron(0 12 * * * *)",  # one of the day fields must be ?
        "cron(0 12 ? * ? *)",
        "cron(0 12 * *)",
        "cron(0 25 * * ? *)",
        "cron(0 12 L * ? *)",  # valid in EventBridge, not supported locally
        "cron(0 12 ? * 2#1 *)",
        "at(2026-01-01T00:00:00)",
    ],
)
def test_rejected_expressions(expression):
    with pytest.raises(ScheduleError):
        check_expression(expression)


def test_scheduled_event_payload():
    spec = ScheduleSpec("HoldExpiryFunction", "EveryMinute", "rate(1 minute)", True)
    event = scheduled_event(spec, "eu-west-1", _at("2026-11-23T10:00"))
    assert event["detail-type"] == "Scheduled Event"
    assert event["source"] == "aws.events"
    assert event["time"] == "2026-11-23T10:00:00Z"
    assert event["region"] == "eu-west-1"
    assert event["detail"] == {}
    assert event["resources"][0].startswith("arn:aws:events:eu-west-1:")
    assert scheduled_event(ScheduleSpec("F", "E", "rate(1 minute)", True, {"a": 1}), "eu-west-1") == {"a": 1}


class _Function:
    region = "us-east-1"

    def __init__(self) -> None:
        self.calls = 0
        self.ran = threading.Event()

    def invoke(self, event: Any) -> Any:
        self.calls += 1
        if self.calls >= 3:
            self.ran.set()
        raise RuntimeError("always fails")


def test_a_failing_schedule_keeps_its_timer(caplog):
    function = _Function()
    spec = ScheduleSpec("F", "E", "rate(1 minute)", True)
    timer = Timer(spec, function, every=0.02)  # type: ignore[arg-type]
    started = time.monotonic()
    timer.start()
    try:
        assert function.ran.wait(5)
    finally:
        timer.stop()
    assert timer.failures >= 3
    assert time.monotonic() - started < 5
    assert "always fails" in caplog.text


def test_disabled_and_unsupported_schedules_only_run_on_request():
    disabled = Timer(ScheduleSpec("F", "E", "rate(1 minute)", False), _Function(), None)  # type: ignore[arg-type]
    assert not disabled.active
    unsupported = Timer(ScheduleSpec("F", "E", "cron(0 1 L * ? *)", True), _Function(), None)  # type: ignore[arg-type]
    assert not unsupported.active
    assert unsupported.problem is not None
    assert "not supported" in unsupported.problem
