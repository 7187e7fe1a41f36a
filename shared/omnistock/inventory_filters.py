"""The inventory list narrowed to SKUs in a state on a channel: paused, auto sync off, or whose
last push failed. Each state has its own sparse, SKU-ordered index (on the policy items; the
open problems), so a filtered page reads one index entry per row, then the rows' catalog
entries and levels in batches: never a scan, never a walk over SKUs that do not match."""

from __future__ import annotations

from omnistock.errors import InvalidRequest, NotFound
from omnistock.ledger import InventoryPage
from omnistock.store import keys
from omnistock.store.problem_store import ProblemStore
from omnistock.store.push_store import PushStore
from omnistock.store.stock_store import StockStore

PUSH_FAILED = "push_failed"
STATES = (keys.PAUSED, keys.AUTO_SYNC_OFF, PUSH_FAILED)


class InventoryFilters:
    def __init__(self, stock: StockStore, pushes: PushStore, problems: ProblemStore) -> None:
        self.stock = stock
        self.pushes = pushes
        self.problems = problems

    def page(self, channel: str, state: str, prefix: str, after: str, limit: int) -> InventoryPage:
        if state not in STATES:
            raise InvalidRequest(f"state is one of {', '.join(STATES)}")
        if self.stock.channel(channel) is None:
            raise NotFound(f"channel {channel!r} is not configured")
        if state == PUSH_FAILED:
            skus = self.problems.failed_skus(channel, prefix, after, limit)
        else:
            skus = self.pushes.skus_in_state(channel, state, prefix, after, limit)
        entries = self.stock.catalogs(skus)
        found = [entries[sku] for sku in skus if sku in entries]  # a SKU dropped meanwhile is left out
        pairs = [(entry.sku, location) for entry in found for location in entry.locations]
        levels = self.stock.levels_at(pairs)
        rows = [
            (entry, [levels[(entry.sku, loc)] for loc in entry.locations if (entry.sku, loc) in levels])
            for entry in found
        ]
        read = len(skus) + len(entries) + len(levels)
        return InventoryPage(rows, last=len(skus) < limit, items_read=read, queries=1)
