"""The inventory list narrowed to SKUs in a state on a channel: paused, auto sync off, whose
last push failed, or short (a location the channel sells from promises more than it counts).
Each state has its own sparse, SKU-ordered index (on the policy items; the open problems, one
range per location for shortfalls), so a filtered page reads one index entry per row, then the rows' catalog
entries and levels in batches: never a scan, never a walk over SKUs that do not match.

And, for any page of the list, each pushed channel's column: what Omnistock makes it show,
what it last pushed, and whether the last push failed (per row and channel, its policy, its
pushed value and its open failure, read in batches with every other channel's policy)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnistock.errors import InvalidRequest, NotFound
from omnistock.ledger import InventoryPage, Ledger
from omnistock.policy import ChannelDefaults, sellable
from omnistock.store import keys
from omnistock.store.problem_store import ProblemStore
from omnistock.store.push_store import PushStore
from omnistock.store.stock_store import StockStore

if TYPE_CHECKING:
    from omnistock.problems import ProblemsDesk

PUSH_FAILED = "push_failed"
SHORTFALL = "shortfall"
STATES = (keys.PAUSED, keys.AUTO_SYNC_OFF, PUSH_FAILED, SHORTFALL)


@dataclass(frozen=True)
class ChannelCell:
    would_show: int | None  # None: auto sync off, nothing is pushed
    pushed: int | None  # what Omnistock last made the channel show (None: never)
    pushed_at: str | None
    failed: bool  # the last push failed and nothing was pushed since


class InventoryFilters:
    def __init__(
        self,
        stock: StockStore,
        pushes: PushStore,
        problems: ProblemStore,
        desk: Callable[[], ProblemsDesk],
        ledger: Callable[[], Ledger],
    ) -> None:
        self.ledger = ledger
        self.stock = stock
        self.pushes = pushes
        self.problems = problems
        self.desk = desk  # resolves failed pushes that were pushed since

    def listing(
        self, prefix: str, after: str, limit: int, channel: str | None, state: str | None, *, with_channels: bool
    ) -> tuple[InventoryPage, dict[str, dict[str, ChannelCell]] | None]:
        """A page of the inventory list (all of the catalog, or the SKUs in ``state`` on
        ``channel``), and each pushed channel's column when asked for."""
        if state is None:
            page = self.ledger().inventory(prefix, after, limit)
        elif channel is None:
            raise InvalidRequest("a state is a SKU's state on a channel: give the channel too")
        else:
            page = self.page(channel, state, prefix, after, limit)
        return page, self.channel_columns(page) if with_channels else None

    def channel_columns(self, page: InventoryPage) -> dict[str, dict[str, ChannelCell]]:
        """SKU -> pushed channel -> its cell, for the rows of ``page``."""
        every = self.stock.channels()
        pushed = [channel for channel in every if channel.platform]
        if not pushed or not page.rows:
            return {}
        skus = [entry.sku for entry, _ in page.rows]
        states = self.pushes.push_states(
            skus, policies_of=[c.name for c in every], pushed_to=[c.name for c in pushed], locations=[], catalogs={}
        )
        open_failures = self.problems.open_failures([(c.name, sku) for c in pushed for sku in skus])
        cells: dict[str, dict[str, ChannelCell]] = {}
        for entry, levels in page.rows:
            available = {level.location: level.available for level in levels}
            state = states[entry.sku]
            for channel in pushed:
                defaults = ChannelDefaults(channel.buffer, channel.max_shown, channel.auto_sync)
                shown = sellable(channel.name, available, channel.locations, defaults, state.policies)
                last = state.pushed.get(channel.name)
                failed = (channel.name, entry.sku) in open_failures and (
                    last is None or last.at <= open_failures[(channel.name, entry.sku)]
                )
                cells.setdefault(entry.sku, {})[channel.name] = ChannelCell(
                    shown, last.quantity if last else None, last.at if last else None, failed
                )
        return cells

    def page(self, channel: str, state: str, prefix: str, after: str, limit: int) -> InventoryPage:
        """A page of the SKUs in ``state`` on ``channel``; its ``cursor`` is the last index entry
        read (rows may be fewer than the entries read: a SKU dropped from the catalog, a failed
        push resolved since, are left out)."""
        if state not in STATES:
            raise InvalidRequest(f"state is one of {', '.join(STATES)}")
        configured = self.stock.channel(channel)
        if configured is None:
            raise NotFound(f"channel {channel!r} is not configured")
        extra = 0  # index entries read beyond one a row (a SKU short at two locations, a merge's tail)
        if state == SHORTFALL:
            skus, entries_read = self._short(list(configured.locations), prefix, after, limit)
            read, extra = skus, entries_read - len(skus)
        elif state == PUSH_FAILED:
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
        items = len(read) + extra + len(entries) + len(levels)
        return InventoryPage(rows, last=last, items_read=items, queries=1, cursor=None if last else read[-1])

    def _short(self, locations: list[str], prefix: str, after: str, limit: int) -> tuple[list[str], int]:
        """SKUs short at any of ``locations``, merged in SKU order, at most ``limit``, and the
        index entries read: one range query per location (a SKU short at two is one row)."""
        read = [p.subject for location in locations for p in self.problems.shortfalls(location, prefix, after, limit)]
        return sorted(set(read))[:limit], len(read)
