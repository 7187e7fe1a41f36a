"""The catalog in SKU order, a page at a time, for the inventory list: the catalog index's
shards merged lazily, so a page reads about as many items as it shows, never a scan.

Each shard holds its SKUs in order. A page reads a few from every shard (a sixteenth of the
page each), then emits the smallest SKU while every shard that may still hold a smaller one
has shown where it stands; a shard that runs dry is read further, a little at a time as the
page fills. What is read beyond the page is only what those reads overshot. The next page
starts after the last SKU shown (the cursor is that SKU)."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Any

from omnistock.models import CatalogEntry
from omnistock.store import keys
from omnistock.store.items import catalog_from_item
from omnistock.store.table import Table


@dataclass
class CatalogPage:
    entries: list[CatalogEntry]
    last: bool  # nothing follows
    items_read: int = 0
    queries: int = 0


@dataclass
class _Shard:
    pk: str
    after: str  # the last key read from it
    buffered: deque[CatalogEntry] = field(default_factory=deque)
    exhausted: bool = False


class CatalogIndex:
    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, prefix: str, after: str, limit: int) -> CatalogPage:
        """Up to ``limit`` entries whose SKU starts with ``prefix``, after the SKU ``after``."""
        page = CatalogPage([], last=False)
        start = max(after, prefix) if after else prefix
        shards = [_Shard(pk, start) for pk in keys.catalog_index_pks()]
        first = max(1, limit // len(shards))
        for shard in shards:
            self._read(shard, prefix, first, page, inclusive=not after)
        while len(page.entries) < limit:
            for shard in shards:  # a shard must show where it stands before anything is emitted
                if not shard.buffered and not shard.exhausted:
                    left = limit - len(page.entries)
                    self._read(shard, prefix, max(1, left // len(shards)), page)
            ready = [shard for shard in shards if shard.buffered]
            if not ready:
                page.last = True
                break
            smallest = min(ready, key=lambda shard: shard.buffered[0].sku)
            page.entries.append(smallest.buffered.popleft())
        else:
            page.last = all(shard.exhausted and not shard.buffered for shard in shards)
        return page

    def _read(self, shard: _Shard, prefix: str, count: int, page: CatalogPage, *, inclusive: bool = False) -> None:
        # "\x00" after a key: the least string above it, so the range starts just past it.
        start = shard.after if inclusive else shard.after + "\x00"
        values: dict[str, Any] = {":pk": shard.pk}
        condition = "gsi2pk = :pk"
        if start:
            condition, values[":from"] = "gsi2pk = :pk AND gsi2sk >= :from", start
        if prefix:  # the range ends where the prefix does
            condition = "gsi2pk = :pk AND gsi2sk BETWEEN :from AND :end"
            values[":end"] = keys.prefix_end(prefix)
        items = self.table.query(condition, values, index="gsi2", limit=count)
        page.queries += 1
        page.items_read += len(items)
        shard.buffered.extend(entry for entry in map(catalog_from_item, items) if entry.sku.startswith(prefix))
        if items:
            shard.after = items[-1]["gsi2sk"]
        if len(items) < count:
            shard.exhausted = True
