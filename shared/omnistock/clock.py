"""Time in one format: ISO 8601 UTC with milliseconds, which sorts as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return f"{utc.year:04d}-" + utc.strftime("%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def epoch_seconds_after(moment: datetime, days: int) -> int:
    """A DynamoDB TTL value: whole epoch seconds, ``days`` after ``moment``."""
    return int((moment + timedelta(days=days)).timestamp())


def micros(text: str) -> int:
    """An ISO timestamp as whole microseconds since the epoch (a version that orders by time)."""
    moment = parse_iso(text)
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond
