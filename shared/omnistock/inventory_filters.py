"""The inventory list narrowed to SKUs in a state on a channel: paused, auto sync off, or whose
last push failed. Each state has its own sparse, SKU-ordered index (on the policy items; the
open problems), so a filtered page reads one index entry per row, then the rows' catalog
entries and levels in batches: never a scan, never a walk over SKUs that do not match."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from omnistock.errors import InvalidRequest, NotFound
from omnistock.ledger import InventoryPage
from omnistock.store import keys
from omnistock.store.problem_store import ProblemStore
from omnistock.store.push_store import PushStore
from omnistock.store.stock_store import StockStore

if TYPE_CHECKING:
    from omnistock.problems import ProblemsDesk

PUSH_FAILED = "push_failed"
STATES = (keys.PAUSED, keys.AUTO_SYNC_OFF, PUSH_FAILED)


class InventoryFilters:
    def __init__(
        self,
        stock: StockStore,
        pushes: PushStore,
        problems: ProblemStore,
        desk: Callable[[], ProblemsDesk],
    ) -> None:
        self.stock = stock
        self.pushes = pushes
        self.problems = problems
        self.desk = desk  # resolves failed pushes that were pushed since

    def page(self, channel: str, state: str, prefix: str, after: str, limit: int) -> InventoryPage:
        """A page of the SKUs in ``state`` on ``channel``; its ``cursor`` is the last index entry
        read (rows may be fewer than the entries read: a SKU dropped from the catalog, a failed
        push resolved since, are left out)."""
        if state not in STATES:
            raise InvalidRequest(f"state is one of {', '.join(STATES)}")
        if self.stock.channel(channel) is None:
            raise NotFound(f"channel {channel!r} is not configured")
        if state == PUSH_FAILED:
            failed = self.problems.failed(channel, prefix, after, limit)
            read = [problem.subject for problem in failed]
            skus = [problem.subject for problem in self.desk().still_open(failed)]
        else:
            read = skus = self.pushes.skus_in_state(channel, state, prefix, after, limit)
        entries = self.stock.catalogs(skus)
        found = [entries[sku] for sku in skus if sku in entries]
        pairs = [(entry.sku, location) for entry in found for location in entry.locations]
        levels = self.stock.levels_at(pairs)
        rows = [
            (entry, [levels[(entry.sku, loc)] for loc in entry.locations if (entry.sku, loc) in levels])
            for entry in found
        ]
        last = len(read) < limit
        items = len(read) + len(entries) + len(levels)
        return InventoryPage(rows, last=last, items_read=items, queries=1, cursor=None if last else read[-1])
