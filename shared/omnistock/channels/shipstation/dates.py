"""ShipStation's dates: UTC, ``MM/dd/yyyy HH:mm``, one-minute precision.

Read tolerantly (ShipStation's own samples and other stores' tests carry unpadded hours, an
optional ``:ss`` and even ``21:56 PM``); written zero-padded, 24-hour, in UTC. Anything else is
refused: a malformed window must never turn into "export everything".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from omnistock.clock import parse_iso

_DATE = re.compile(
    r"^\s*(?P<month>\d{1,2})/(?P<day>\d{1,2})/(?P<year>\d{4})\s+(?P<hour>\d{1,2}):(?P<minute>\d{2})"
    r"(?::(?P<second>\d{2}))?\s*(?P<half>[AaPp][Mm])?\s*$"
)


class DateError(ValueError):
    pass


def parse(text: str | None, name: str) -> datetime:
    """A window bound as an aware UTC datetime at the start of its minute."""
    if text is None or not text.strip():
        raise DateError(f"{name} is required (UTC, MM/dd/yyyy HH:mm)")
    match = _DATE.match(text)
    if match is None:
        raise DateError(f"{name} {text[:40]!r} is not a date in the form MM/dd/yyyy HH:mm")
    if not 2000 <= int(match["year"]) <= 2999:
        raise DateError(f"{name} {text[:40]!r} is not a date this store could have orders on")
    hour = int(match["hour"])
    half = (match["half"] or "").upper()
    if half and hour <= 12:  # "21:56 PM" is a 24-hour time with a stray marker: keep it
        hour = hour % 12 + (12 if half == "PM" else 0)
    try:
        return datetime(
            int(match["year"]), int(match["month"]), int(match["day"]), hour, int(match["minute"]), tzinfo=UTC
        )
    except ValueError:
        raise DateError(f"{name} {text[:40]!r} is not a real date and time") from None


def format_iso(iso_text: str) -> str:
    """The ledger's UTC ISO time as ShipStation writes it."""
    return parse_iso(iso_text).strftime("%m/%d/%Y %H:%M")
