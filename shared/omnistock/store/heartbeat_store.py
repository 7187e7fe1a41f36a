"""When each webhook receiver and poll last did its work, for the connection check: at most one
write per name every few minutes from each container (a busy webhook does not pay a write per
delivery), so "last seen" is that many minutes coarse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from omnistock.clock import iso
from omnistock.store import keys
from omnistock.store.table import Table

EVERY = timedelta(minutes=5)


class Heartbeats:
    def __init__(self, table: Table, clock: Callable[[], datetime], every: timedelta = EVERY) -> None:
        self.table = table
        self.clock = clock
        self.every = every
        self._written: dict[str, datetime] = {}  # this container's last write per name

    def beat(self, name: str) -> None:
        now = self.clock()
        last = self._written.get(name)
        if last is not None and now - last < self.every:
            return
        self.table.put({"pk": keys.HEARTBEATS_PK, "sk": name, "kind": "heartbeat", "at": iso(now)})
        self._written[name] = now

    def seen(self) -> dict[str, str]:
        """Each name's last beat (UTC ISO)."""
        return {item["sk"]: item["at"] for item in self.table.query("pk = :pk", {":pk": keys.HEARTBEATS_PK})}
