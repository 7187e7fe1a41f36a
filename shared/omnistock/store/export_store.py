"""The export log: what the ShipStation export reads, by modified time, never by scanning.

Every change of an order that needs shipping appends an immutable entry (the order as it is
then) to the partition of its UTC day, and adds one to a per-minute count in the same
partition, in the transaction that changes the order. Because entries never move:

- an order modified between two page requests leaves its old entry where it was, so no other
  order shifts to another page (offset paging over a live "modified" index skips orders);
  its new entry is in a later window, which ShipStation reads next time;
- a window that fits one page is answered by reading one entry more than a page; a larger
  window's size, and where page k starts, come from counts kept per hour, per ten minutes
  and per minute (the window tiled by the largest blocks that fit), so a page reads a few
  counts and then only its own entries (plus those of its first minute that belong to the
  page before).

An order changed twice in one window appears twice; ShipStation merges an order it sees
again by its OrderID, and the later entry comes later. Entries expire with ``purge_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from omnistock.orders import StoredOrder
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.items import stored_order
from omnistock.store.table import Item, Table, to_attrs


def export_log_writes(order_item: Item, purge_at: int) -> list[dict[str, Any]]:
    """The entry and the counts (of its hour, ten minutes and minute) for one change of an order."""
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
    for bucket in (modified[11:13], modified[11:15], modified[11:16]):  # HH, HH:M (ten minutes), HH:MM
        expr = Expression()
        count = {
            "Key": to_attrs({"pk": keys.export_day_pk(day), "sk": keys.export_count_sk(bucket)}),
            "UpdateExpression": expr.update(add={"n": 1}, set_={("kind",): "export_count", ("purge_at",): purge_at}),
        }
        writes.append({"Update": expr.attach(count)})
    return writes


@dataclass(frozen=True)
class Page:
    orders: list[StoredOrder]  # each entry: the order as it was when it changed
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
                return Page(_orders(entries), len(entries), read)
            counts = self._counts(start, end)
            return Page(_orders(entries[:size]), sum(n for _, _, n in counts), read + len(counts))
        counts = self._counts(start, end)
        total, offset, read = sum(n for _, _, n in counts), (number - 1) * size, len(counts)
        if offset >= total:
            return Page([], total, read)
        begin, skip, more = self._locate(counts, offset, start)
        entries, got = self._entries(begin, end, skip + size)
        return Page(_orders(entries[skip:]), total, read + more + got)

    def _counts(self, start: str, end: str) -> list[tuple[str, int, int]]:
        """(first minute, level, entries) of blocks that tile the window, in order: whole hours
        by their hour's count, what is left by ten minutes, then by the minute (level 0, 1, 2)."""
        found: list[tuple[str, int, int]] = []
        for day in _days(start[:10], end[:10]):
            low = _minute_of(start) if day == start[:10] else 0
            high = _minute_of(end) if day == end[:10] else MINUTES_A_DAY - 1
            found += self._cover(day, low, high, 0)
        return found

    def _cover(self, day: str, low: int, high: int, level: int) -> list[tuple[str, int, int]]:
        size = BLOCK_MINUTES[level]
        first = -(-low // size) * size  # the first whole block
        last = (high + 1) // size * size - 1  # the end of the last whole block
        if first > last:
            return self._cover(day, low, high, level + 1)
        before = self._cover(day, low, first - 1, level + 1) if low < first else []
        after = self._cover(day, last + 1, high, level + 1) if high > last else []
        return before + self._blocks(day, first, last, level) + after

    def _blocks(self, day: str, low: int, high: int, level: int) -> list[tuple[str, int, int]]:
        """The non-empty counts of one level from minute ``low`` to ``high`` of a day."""
        items = self.table.query(
            "pk = :pk AND sk BETWEEN :low AND :high",
            {
                ":pk": keys.export_day_pk(day),
                ":low": keys.export_count_sk(_bucket(low, level)),
                ":high": keys.export_count_sk(_bucket(high, level)),
            },
        )
        return [(f"{day}T{_bucket(_minute_from(item['sk']), 2)}", level, int(item["n"])) for item in items if item["n"]]

    def _locate(self, counts: list[tuple[str, int, int]], offset: int, start: str) -> tuple[str, int, int]:
        """Where the entry at ``offset`` is: the minute to read from, how many of that minute's
        entries come before it, and how many more counts it took to find out (a block larger
        than a minute is opened one level down, until a minute is reached)."""
        before, read, blocks = 0, 0, counts
        while True:
            for first, level, n in blocks:
                if before + n <= offset:
                    before += n
                    continue
                if level == len(BLOCK_MINUTES) - 1:
                    return max(start, f"{first}:00.000Z"), offset - before, read
                low = _minute_of(first)
                blocks = self._blocks(first[:10], low, low + BLOCK_MINUTES[level] - 1, level + 1)
                read += len(blocks)
                break
            else:
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


MINUTES_A_DAY = 24 * 60
BLOCK_MINUTES = (60, 10, 1)  # an hour, ten minutes, a minute: the levels of the counts


def _orders(entries: list[Item]) -> list[StoredOrder]:
    return [stored_order(entry) for entry in entries]


def _minute_of(at: str) -> int:
    """Minutes since midnight of a UTC ISO time."""
    return int(at[11:13]) * 60 + int(at[14:16])


def _bucket(minute: int, level: int) -> str:
    """The count's name of the block holding ``minute``: "HH", "HH:M" or "HH:MM"."""
    hh, mm = divmod(minute, 60)
    return (f"{hh:02d}", f"{hh:02d}:{mm // 10}", f"{hh:02d}:{mm:02d}")[level]


def _minute_from(sort_key: str) -> int:
    """The first minute of the block a count's sort key names."""
    bucket = sort_key.rsplit("#", 1)[-1]
    hh = int(bucket[:2])
    if len(bucket) == 2:
        return hh * 60
    return hh * 60 + (int(bucket[3]) * 10 if len(bucket) == 4 else int(bucket[3:5]))


def _days(first: str, last: str) -> list[str]:
    start, stop = date.fromisoformat(first), date.fromisoformat(last)
    return [(start + timedelta(days=n)).isoformat() for n in range((stop - start).days + 1)]
