"""The export log: what the ShipStation export reads, by modified time, never by scanning.

Every change of an order that needs shipping appends an immutable entry (the order as it is
then) to the partition of its UTC day, and adds one to a per-minute count in the same
partition, in the transaction that changes the order. Because entries never move:

- an order modified between two page requests leaves its old entry where it was, so no other
  order shifts to another page (offset paging over a live "modified" index skips orders);
  its new entry is in a later window, which ShipStation reads next time;
- the counts give the window's size, and where page k starts, without reading the orders:
  a page reads the counts of the window's minutes, then only its own entries (plus those of
  its first minute that belong to the page before).

An order changed twice in one window appears twice; ShipStation merges an order it sees
again by its OrderID, and the later entry comes later. Entries expire with ``purge_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Item, Table, to_attrs


def export_log_writes(order_item: Item, purge_at: int) -> list[dict[str, Any]]:
    """The entry and the count for one change of an order (its item as just written)."""
    modified: str = order_item["modified_at"]
    day, minute = modified[:10], modified[11:16]
    entry = {k: v for k, v in order_item.items() if k not in ("pk", "sk", "kind")}
    entry |= {
        "pk": keys.export_day_pk(day),
        "sk": keys.export_entry_sk(modified, order_item["channel"], order_item["order_id"], order_item["rev"]),
        "kind": "export_entry",
        "purge_at": purge_at,
    }
    expr = Expression()
    count = {
        "Key": to_attrs({"pk": keys.export_day_pk(day), "sk": keys.export_count_sk(minute)}),
        "UpdateExpression": expr.update(add={"n": 1}, set_={("kind",): "export_count", ("purge_at",): purge_at}),
    }
    return [{"Put": {"Item": to_attrs(entry)}}, {"Update": expr.attach(count)}]


@dataclass(frozen=True)
class Page:
    entries: list[Item]
    total: int  # entries in the whole window
    items_read: int  # counts and entries read to answer (what the export costs)


class ExportStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, start: str, end: str, number: int, size: int) -> Page:
        """Page ``number`` (1-based) of the entries modified in [start, end] (UTC ISO with
        milliseconds, both inclusive), oldest first."""
        counts = self._minute_counts(start, end)
        total = sum(n for _, n in counts)
        offset = (number - 1) * size
        if offset >= total:
            return Page([], total, len(counts))
        before = 0
        first_minute = counts[0][0]
        for minute, n in counts:
            if before + n > offset:
                first_minute = minute
                break
            before += n
        skip = offset - before
        begin = max(start, f"{first_minute}:00.000Z")
        entries, read = self._entries(begin, end, skip + size)
        return Page(entries[skip:], total, len(counts) + read)

    def _minute_counts(self, start: str, end: str) -> list[tuple[str, int]]:
        """(YYYY-MM-DDTHH:MM, entries) of every minute of the window that has any, in order."""
        found = []
        for day in _days(start[:10], end[:10]):
            low = start[11:16] if day == start[:10] else "00:00"
            high = end[11:16] if day == end[:10] else "23:59"
            items = self.table.query(
                "pk = :pk AND sk BETWEEN :low AND :high",
                {
                    ":pk": keys.export_day_pk(day),
                    ":low": keys.export_count_sk(low),
                    ":high": keys.export_count_sk(high),
                },
            )
            for item in items:
                minute = item["sk"].removeprefix(keys.EXPORT_COUNT_PREFIX)
                if int(item.get("n", 0)) > 0:
                    found.append((f"{day}T{minute}", int(item["n"])))
        # The first and last minutes may hold entries outside the window's milliseconds; the
        # window's bounds are whole minutes (ShipStation's precision), so they never do.
        return found

    def _entries(self, begin: str, end: str, limit: int) -> tuple[list[Item], int]:
        """Up to ``limit`` entries from ``begin`` to ``end`` (inclusive), across day partitions."""
        found: list[Item] = []
        for day in _days(begin[:10], end[:10]):
            if len(found) >= limit:
                break
            items = self.table.query(
                "pk = :pk AND sk BETWEEN :low AND :high",
                {":pk": keys.export_day_pk(day), ":low": begin, ":high": end + "~"},
                limit=limit - len(found),
            )
            found.extend(items)
        return found, len(found)


def _days(first: str, last: str) -> list[str]:
    start, stop = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((stop - start).days + 1)]
