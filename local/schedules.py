"""Schedule events on timers: ``rate(...)`` and EventBridge ``cron(...)`` expressions (UTC).

Cron supports numbers, names, ``*``, ``?``, ranges, lists and steps; ``L``, ``W`` and ``#``
are reported as unsupported at startup and those schedules only run on request.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from local.cfn import ACCOUNT_ID
from local.lambdas import LocalFunction
from local.template import STACK_NAME, ScheduleSpec

log = logging.getLogger("local.schedules")

_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_MONTHS = {name: i + 1 for i, name in enumerate(("JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                 "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"))}  # fmt: skip
_DAYS = {name: i + 1 for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_CRON_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minutes", 0, 59, {}), ("hours", 0, 23, {}), ("day-of-month", 1, 31, {}),
    ("month", 1, 12, _MONTHS), ("day-of-week", 1, 7, _DAYS), ("year", 1970, 2199, {}),
)  # fmt: skip


class ScheduleError(ValueError):
    """The expression is invalid, or valid but not supported locally."""


def parse_rate(expression: str) -> float:
    """Seconds between runs of a ``rate(...)`` expression (AWS wants "1 minute", "5 minutes")."""
    match = _RATE.match(expression.strip())
    if not match:
        raise ScheduleError(f"{expression!r} is not a rate expression like rate(5 minutes)")
    value, unit = int(match.group(1)), match.group(2)
    if value < 1 or (value == 1) != (not unit.endswith("s")):
        raise ScheduleError(f"{expression!r}: use a singular unit for 1 and a plural one otherwise")
    return float(value * _UNIT_SECONDS[unit.rstrip("s")])


@dataclass(frozen=True)
class Cron:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int] | None  # None: "?" (day-of-week decides)
    months: frozenset[int]
    weekdays: frozenset[int] | None  # 1 = Sunday, as EventBridge counts
    years: frozenset[int]

    def next_after(self, moment: datetime) -> datetime | None:
        """The first matching minute strictly after ``moment`` (UTC), None if never again."""
        t = moment.astimezone(UTC).replace(second=0, microsecond=0) + timedelta(minutes=1)
        while t.year <= max(self.years):
            if t.year not in self.years:
                t = datetime(t.year + 1, 1, 1, tzinfo=UTC)
            elif t.month not in self.months:
                t = datetime(t.year + t.month // 12, t.month % 12 + 1, 1, tzinfo=UTC)
            elif not self._day_matches(t):
                t = (t + timedelta(days=1)).replace(hour=0, minute=0)
            elif t.hour not in self.hours:
                t = (t + timedelta(hours=1)).replace(minute=0)
            elif t.minute not in self.minutes:
                t += timedelta(minutes=1)
            else:
                return t
        return None

    def _day_matches(self, t: datetime) -> bool:
        if self.days is not None and t.day not in self.days:
            return False
        return self.weekdays is None or (t.isoweekday() % 7 + 1) in self.weekdays


def parse_cron(expression: str) -> Cron:
    match = re.fullmatch(r"cron\((.*)\)", expression.strip())
    fields = match.group(1).split() if match else []
    if len(fields) != 6:
        raise ScheduleError(f"{expression!r}: EventBridge cron has six fields (minutes hours dom month dow year)")
    if (fields[2] == "?") == (fields[4] == "?"):
        raise ScheduleError(f"{expression!r}: exactly one of day-of-month and day-of-week must be '?'")
    values = [_cron_field(text, *spec) for text, spec in zip(fields, _CRON_FIELDS, strict=True)]
    minutes, hours, days, months, weekdays, years = values
    if minutes is None or hours is None or months is None or years is None:
        raise ScheduleError(f"{expression!r}: '?' is only allowed for day-of-month or day-of-week")
    return Cron(minutes, hours, days, months, weekdays, years)


def _cron_field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> frozenset[int] | None:
    if text == "?":
        return None
    if any(mark in text for mark in "LW#"):
        raise ScheduleError(f"cron {name} {text!r}: L, W and # are not supported locally")
    chosen: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        if base == "*":
            start, end = low, high
        else:
            first, _, last = base.partition("-")
            start = _cron_value(first, name, names)
            end = _cron_value(last, name, names) if last else (high if step_text else start)
        step = int(step_text) if step_text else 1
        if not (low <= start <= end <= high) or step < 1:
            raise ScheduleError(f"cron {name} {text!r}: outside {low}-{high}")
        chosen.update(range(start, end + 1, step))
    return frozenset(chosen)


def _cron_value(text: str, name: str, names: dict[str, int]) -> int:
    if text.upper() in names:
        return names[text.upper()]
    if not text.isdigit():
        raise ScheduleError(f"cron {name}: {text!r} is not a number")
    return int(text)


def check_expression(expression: str) -> None:
    """Raise ScheduleError unless the expression can run on a local timer."""
    if expression.startswith("rate("):
        parse_rate(expression)
    elif expression.startswith("cron("):
        parse_cron(expression)
    else:
        raise ScheduleError(f"{expression!r}: only rate() and cron() run on timers locally")


def scheduled_event(schedule: ScheduleSpec, region: str, at: datetime | None = None) -> Any:
    """What EventBridge sends for a scheduled rule (or the event's own Input, if it has one)."""
    if schedule.input is not None:
        return schedule.input
    rule = f"{STACK_NAME}-{schedule.function}{schedule.event}"
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT_ID,
        "time": (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT_ID}:rule/{rule}"],
        "detail": {},
    }


class Timer:
    """One schedule event of one function, run on its own thread."""

    def __init__(self, schedule: ScheduleSpec, function: LocalFunction, every: float | None) -> None:
        self.schedule = schedule
        self.function = function
        self.every = every
        self.runs = 0
        self.failures = 0
        self.problem: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._rate: float | None = every
        self._cron: Cron | None = None
        try:
            if every is None and schedule.expression.startswith("cron("):
                self._cron = parse_cron(schedule.expression)
            elif every is None:
                self._rate = parse_rate(schedule.expression)
            else:
                check_expression(schedule.expression)
        except ScheduleError as error:
            self.problem = f"{schedule.function}.{schedule.event}: {error}"

    @property
    def active(self) -> bool:
        return self.schedule.enabled and (self._rate is not None or self._cron is not None)

    def describe(self) -> str:
        if not self.schedule.enabled:
            return "disabled in the template (runs on request only)"
        if not self.active:
            return "not on a timer (runs on request only)"
        return f"every {self._rate:g} s" if self._rate is not None else "cron, UTC"

    def run_now(self) -> Any:
        """Invoke the handler once; raises what the handler raised."""
        self.runs += 1
        try:
            return self.function.invoke(scheduled_event(self.schedule, self.function.region))
        except Exception:
            self.failures += 1
            raise

    def start(self) -> None:
        if self.active:
            name = f"schedule-{self.schedule.function}-{self.schedule.event}"
            self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _loop(self) -> None:
        next_run = time.monotonic() + (self._rate or 0)
        while True:
            if self._cron is not None:
                now = datetime.now(UTC)
                upcoming = self._cron.next_after(now)
                if upcoming is None:
                    return
                delay = (upcoming - now).total_seconds()
            else:
                delay = next_run - time.monotonic()
            if self._stop.wait(max(0.0, delay)):
                return
            if self._rate is not None:
                next_run += self._rate  # fixed rate, not rate + run time
            try:
                result = self.run_now()
                log.info("schedule %s.%s ran: %s", self.schedule.function, self.schedule.event, result)
            except Exception:  # a failed run must not stop the timer (EventBridge tries again next time)
                log.exception("schedule %s.%s failed", self.schedule.function, self.schedule.event)
