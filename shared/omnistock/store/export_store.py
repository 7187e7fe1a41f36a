"""The export log: what the ShipStation export reads, by modified time, never by scanning.

Every change of an order that needs shipping appends an immutable entry (the order as it is
then) to the partition of its UTC day, and adds one to a per-minute count in the same
partition, in the transaction that changes the order. Because entries never move:

- an order modified between two page requests leaves its old entry where it was, so no other
  order shifts to another page (offset paging over a live "modified" index skips orders);
  its new entry is in a later window, which ShipStation reads next time;
- a window that fits one page is answered by reading one entry more than a page; a larger
  window's size, and where page k starts, come from counts kept per hour and per minute
  (whole hours by their hour's count, the ends by their minutes'), so a page reads those
  counts and then only its own entries (plus those of its first minute that belong to the
  page before).

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
    """The entry and the counts (of its minute and of its hour) for one change of an order."""
    modified: str = order_item["modified_at"]
    day = modified[:10]
    entry = {k: v for k, v in order_item.items() if k not in ("pk", "sk", "kind")}
    entry |= {
        "pk": keys.export_day_pk(day),
        "sk": keys.export_entry_sk(modified, order_item["channel"], order_item["order_id"], order_item["rev"]),
        "kind": "export_entry",
        "purge_at": purge_at,
    }
    writes: list[dict[str, Any]] = [{"Put": {"Item": to_attrs(entry)}}]
    for bucket in (modified[11:13], modified[11:16]):  # HH, then HH:MM
        expr = Expression()
        count = {
            "Key": to_attrs({"pk": keys.export_day_pk(day), "sk": keys.export_count_sk(bucket)}),
            "UpdateExpression": expr.update(add={"n": 1}, set_={("kind",): "export_count", ("purge_at",): purge_at}),
        }
        writes.append({"Update": expr.attach(count)})
    return writes


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
        milliseconds, both inclusive, whole minutes), oldest first."""
        if number == 1:  # most windows fit one page: reading one entry more says so, no counts needed
            entries, read = self._entries(start, end, size + 1)
            if len(entries) <= size:
                return Page(entries, len(entries), read)
            counts = self._counts(start, end)
            return Page(entries[:size], sum(n for _, n in counts), read + len(counts))
        counts = self._counts(start, end)
        total, offset, read = sum(n for _, n in counts), (number - 1) * size, len(counts)
        if offset >= total:
            return Page([], total, read)
        begin, skip, more = self._locate(counts, offset, start)
        entries, got = self._entries(begin, end, skip + size)
        return Page(entries[skip:], total, read + more + got)

    def _counts(self, start: str, end: str) -> list[tuple[str, int]]:
        """(bucket, entries) covering the window, in order: whole hours by their hour count,
        the partial hours at either end by their minutes' counts (YYYY-MM-DDTHH or ...THH:MM)."""
        found: list[tuple[str, int]] = []
        for day in _days(start[:10], end[:10]):
            first = start[11:16] if day == start[:10] else "00:00"
            last = end[11:16] if day == end[:10] else "23:59"
            whole_from = first[:2] if first.endswith(":00") else f"{int(first[:2]) + 1:02d}"
            whole_to = last[:2] if last.endswith(":59") else f"{int(last[:2]) - 1:02d}"
            if whole_from > whole_to:  # no whole hour: minutes only
                found += self._buckets(day, first, last)
                continue
            if first < f"{whole_from}:00":
                found += self._buckets(day, first, f"{int(whole_from) - 1:02d}:59")
            found += self._buckets(day, whole_from, whole_to)
            if last > f"{whole_to}:59":
                found += self._buckets(day, f"{int(whole_to) + 1:02d}:00", last)
        return sorted(found)

    def _buckets(self, day: str, low: str, high: str) -> list[tuple[str, int]]:
        """Counts of one kind (hours "HH" or minutes "HH:MM") from low to high in one day."""
        items = self.table.query(
            "pk = :pk AND sk BETWEEN :low AND :high",
            {":pk": keys.export_day_pk(day), ":low": keys.export_count_sk(low), ":high": keys.export_count_sk(high)},
        )
        found = []
        for item in items:
            bucket = item["sk"].rsplit("#", 1)[-1]
            if int(item.get("n", 0)) > 0:
                found.append((f"{day}T{bucket}", int(item["n"])))
        return found

    def _locate(self, counts: list[tuple[str, int]], offset: int, start: str) -> tuple[str, int, int]:
        """Where the entry at ``offset`` is: the minute to read from, how many of that minute's
        entries come before it, and how many more counts it took to find out."""
        before, read = 0, 0
        for bucket, n in counts:
            if before + n <= offset:
                before += n
                continue
            if len(bucket) == len("YYYY-MM-DDTHH:MM"):
                return max(start, f"{bucket}:00.000Z"), offset - before, read
            minutes = self._buckets(bucket[:10], f"{bucket[11:13]}:00", f"{bucket[11:13]}:59")
            read += len(minutes)
            for minute, m in minutes:
                if before + m > offset:
                    return max(start, f"{minute}:00.000Z"), offset - before, read
                before += m
        return start, 0, read

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
