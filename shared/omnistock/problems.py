"""The problems inbox: what needs someone, each with the action that resolves it, and the
readable message and fix hint for every kind of sync-history result."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from omnistock.clock import iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound

if TYPE_CHECKING:  # the hints are read where the store (and boto3) is not needed
    from omnistock.order_desk import OrderDesk
    from omnistock.store.problem_store import Problem, ProblemStore
    from omnistock.store.stock_store import StockStore
    from omnistock.sync import SyncService

# What each result means, and what fixes it, for people (the console and `omnistock problems`).
HINTS: dict[str, str] = {
    "applied": "",
    "deferred": "The channel's own number moved; the raise waits out the grace window, then is pushed.",
    "skipped": "",
    "failed": "The channel refused or did not answer. Check the connection (Connections), then Retry.",
    "unmapped": "Nothing in the catalog has this SKU where the channel sells. Add the SKU (or its "
    "locations) to the catalog, then Retry: the line then takes its units.",
    "rejected": "The report was refused and changed nothing (see the message). Fix it at its source; "
    "dismiss once handled.",
    "unknown_order": "ShipStation shipped an order Omnistock does not have. Check the order number in "
    "ShipStation; dismiss once handled.",
    "recreated": "A webhook subscription had gone and was made again; nothing to do.",
    "shortfall": "More units are promised (held in carts or sold) than the location counts. Recount the "
    "SKU there, or look for a sale the count has not caught up with; it leaves by itself once whole.",
    "not_imported": "The web order could not be written into the POS as a sale (see the message: a register, "
    "user or payment type missing or archived, a SKU the POS refuses). Fix it (Connections, lightspeed.web_orders), "
    "then Retry; it is also retried by itself, less often as time goes on. Nothing was half-written.",
    "old_lot": "Sold on a channel, and the master's count still does not include it. Check the sale "
    "reached the POS; then confirm the lot with the POS's version, or recount the SKU.",
}
ACTIONS: dict[str, tuple[str, ...]] = {
    "failed": ("retry", "dismiss"),
    "unmapped": ("retry", "dismiss"),
    "rejected": ("dismiss",),
    "unknown_order": ("dismiss",),
    "shortfall": ("dismiss",),
    "not_imported": ("retry", "dismiss"),
}


# Platform codes in the sync history, in words (the code stays beside it, for support).
ERROR_MESSAGES: dict[str, str] = {
    "ITEM_NOT_STOCKED_AT_LOCATION": "Shopify does not stock this item at the channel's location: "
    "turn on 'track quantity' at that location in Shopify, or map another location",
    "INVALID_INVENTORY_ITEM": "Shopify has no such inventory item: the listing was deleted; map the SKU again "
    "(import from Shopify)",
    "INVALID_LOCATION": "Shopify has no such location: check the channel's target location",
    "NON_MUTABLE_INVENTORY_ITEM": "Shopify does not let this item's quantity be set (a bundle or a "
    "service): turn auto sync off for it",
    "INVALID_QUANTITY_TOO_HIGH": "the quantity is above what Shopify accepts",
    "INVALID_QUANTITY_TOO_LOW": "the quantity is below what Shopify accepts",
    "INVALID_QUANTITY_NEGATIVE": "Shopify refused a negative quantity",
    "ACCESS_DENIED": "the app lacks a scope it needs: grant write_inventory (Connections shows which)",
    "THROTTLED": "Shopify asked us to slow down; it is retried",
}


def hint(result: str) -> str:
    return HINTS.get(result, "")


def readable(error: str) -> str:
    """A platform code in words ("" when it is not one we know)."""
    return ERROR_MESSAGES.get(error.strip(), "")


@dataclass(frozen=True)
class Resolution:
    problem: Problem
    resolved: bool
    detail: str


class ProblemsDesk:
    def __init__(
        self,
        problems: ProblemStore,
        stock: StockStore,
        sync: SyncService,
        order_desk: OrderDesk,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.problems = problems
        self.stock = stock
        self.sync = sync
        self.order_desk = order_desk
        self.clock = clock

    def inbox(self, kind: str, after: str, limit: int) -> tuple[list[Problem], str | None]:
        """Open problems, a page at a time, and the cursor of the next page (None: the last);
        failed pushes pushed since are resolved on the way (so a page may hold fewer)."""
        page = self.problems.page(kind, after, limit)
        return self.still_open(page), page[-1].problem_id if len(page) == limit else None

    def still_open(self, problems: list[Problem]) -> list[Problem]:
        """``problems`` without the failed pushes whose SKU was pushed since (those are resolved)."""
        done = self.problems.pushed_since(problems)
        for problem in problems:
            if problem.problem_id in done:
                self.problems.resolve(problem)
        return [problem for problem in problems if problem.problem_id not in done]

    def old_pending_lots(self, older_than: timedelta, limit: int) -> list[tuple[str, str, str, int, str]]:
        """Units sold longer ago than ``older_than`` that the master's count still does not
        include (oldest first): a sale the POS never recorded, or a count that stopped coming."""
        return self.stock.pending_lots_sold_before(iso(self.clock() - older_than), limit)

    def retry(self, problem_id: str) -> Resolution:
        problem = self._get(problem_id)
        if "retry" not in ACTIONS.get(problem.kind, ()):
            raise InvalidRequest(f"a {problem.kind} problem cannot be retried: dismiss it once handled")
        if problem.kind == "failed":
            if self.stock.catalog(problem.subject) is None:  # a fulfilment, or a SKU dropped since
                raise InvalidRequest(f"{problem.subject!r} is not a SKU in the catalog: dismiss it once handled")
            # pushed by the push function (which holds the channel's credentials), as a Sync Now
            # job; the problem leaves once the push is recorded
            job = self.sync.start(problem.channel, [problem.subject])
            return Resolution(problem, False, f"pushing again: Sync Now job {job.job_id}")
        if problem.kind == "not_imported":
            return self._retry_import(problem)
        return self._retry_unmapped(problem)

    def _retry_import(self, problem: Problem) -> Resolution:
        """Written again by the POS-sales function (which holds the POS's credentials): the
        order is saved again as it is, and its change on the stream is what that function reads.
        The problem leaves once the order is in the POS."""
        _, channel, order_id = [*problem.subject.split(":", 2), "", ""][:3]
        orders = self.order_desk.orders
        stored = orders.order(channel, order_id)
        if stored is None or orders.touch(stored, self.clock()) is None:
            raise Conflict("the order is gone or changed meanwhile: look at it, then retry")
        return Resolution(problem, False, f"order {stored.order.number or order_id}: writing it into the POS again")

    def dismiss(self, problem_id: str) -> Resolution:
        problem = self._get(problem_id)
        resolved = self.problems.resolve(problem)
        return Resolution(problem, resolved, "dismissed" if resolved else "it was reported again meanwhile")

    def _retry_unmapped(self, problem: Problem) -> Resolution:
        order = _order_of(problem.attempt)
        if order is not None:  # an order line: settle the order's unmapped lines again
            left = self.order_desk.retry_unmapped(problem.channel, order)
            if left:
                raise Conflict(f"still unmapped: {left[0]}")
            self.problems.resolve(problem)
            return Resolution(problem, True, f"order {order}: its lines took their units")
        if self.stock.catalog(problem.subject) is None:  # a POS count waits, parked, for its SKU
            raise Conflict(f"SKU {problem.subject!r} is still not in the catalog: add it first")
        self.problems.resolve(problem)
        return Resolution(problem, True, "the SKU is in the catalog: its parked counts were applied")

    def _get(self, problem_id: str) -> Problem:
        problem = self.problems.get(problem_id)
        if problem is None:
            raise NotFound("no such open problem (resolved already?)")
        return problem


def _order_of(attempt: str) -> str | None:
    """The order id of an unmapped order line's entry ("order:<order id>:<line id>")."""
    if not attempt.startswith("order:"):
        return None
    order_id, _, _line = attempt.removeprefix("order:").rpartition(":")
    return order_id or None
