"""Unleashed as master of its warehouses' counts: ``StockOnHand`` rows changed since the cursor
become master counts for the locations the warehouses are mapped to.

- The count is ``AvailableQty`` (on hand, less what sales orders have allocated, plus what can be
  assembled): what the warehouse can still sell. It is floored to whole units, and never below 0.
- A row's ``LastModifiedOn`` (milliseconds) is its version: a late or repeated row changes
  nothing, a newer one always wins. Web-sold units stay pending until a count known to include
  them arrives (DESIGN.md §3.3), exactly as with the POS.
- Rows with a blank warehouse are Unleashed's all-warehouse totals: never a location's count.
  Rows of a warehouse no location is mapped to are written to the sync history as unmapped (once
  per poll and warehouse), and move nothing (with one warehouse mapped they are not read at
  all). A count of a SKU not in the catalog there is kept, and applied once it is.
- The poll reads with ``modifiedSince`` the cursor less an overlap, in pages of 1,000, and moves
  the cursor once every page is applied. With one warehouse mapped it asks for that warehouse's
  rows only (``warehouseCode``): the all-warehouse totals would double the pages. With several it
  reads every row in one pass (per-warehouse passes would cost a call each on every quiet poll).
  At 90% of the month's call budget it runs at most every half hour; with the budget used it
  stops, saying so (the cursor keeps the place).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels.unleashed.api import ChangedRows, QuotaExhausted, modified_since, unleashed_time
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.errors import InvalidRequest, NotFound
from omnistock.models import ParkedCount, SyncEntry

if TYPE_CHECKING:
    from omnistock.ledger import Ledger
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.push_store import PushStore

SOURCE = "unleashed"
STOCK_CURSOR = "unleashed:stock"
LAST_POLL = "unleashed:last-poll"
OVERLAP = timedelta(minutes=5)  # rows modified while the last poll paged are read again
SLOW_EVERY = timedelta(minutes=30)  # how often a poll runs once 90% of the budget is used


class StockReader(Protocol):
    def page(self, endpoint: str, number: int, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]: ...
    def budget_state(self) -> str: ...


class UnleashedIntake:
    def __init__(
        self,
        ledger: Ledger,
        cursors: CursorStore,
        history: PushStore,
        warehouses: dict[str, str],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger, self.cursors, self.history = ledger, cursors, history
        self.warehouses = dict(warehouses)  # warehouse code -> location
        self.clock = clock

    def poll(self, api: StockReader, out_of_time: Callable[[], bool], *, hinted: bool = False) -> dict[str, Any]:
        """``hinted``: a webhook said something changed, so a poll the budget slowed reads now."""
        report: dict[str, Any] = {"rows": 0, "applied": 0, "stale": 0, "unmapped": 0, "pages": 0}
        state, now = api.budget_state(), self.clock()
        if state == "stopped":
            return report | {"budget": "used up: polling stops until the month turns or the budget is raised"}
        last = self.cursors.cursor(LAST_POLL)
        if state == "slow" and not hinted and last and now - parse_iso(last) < SLOW_EVERY:
            return report | {"budget": "90% used: polling every 30 minutes"}
        cursor = self.cursors.cursor(STOCK_CURSOR)
        params = modified_since(cursor, OVERLAP)
        if len(self.warehouses) == 1:  # its rows only: no all-warehouse totals, half the pages
            params["warehouseCode"] = next(iter(self.warehouses))
        newest, unmapped = cursor or "", set[str]()
        rows = ChangedRows(api, "StockOnHand", params, out_of_time)
        try:
            for row in rows:
                result, modified = self.row(row, unmapped)
                report["rows"] += 1
                report[result] = report.get(result, 0) + 1
                newest = max(newest, modified)
        except QuotaExhausted as exhausted:
            return report | {"budget": str(exhausted), "pages": rows.pages}
        report["pages"] = rows.pages
        if rows.complete and newest:  # every page applied: the next poll starts from here
            self.cursors.advance_cursor(STOCK_CURSOR, newest)
        self.cursors.advance_cursor(LAST_POLL, iso(now))
        return report

    def row(self, row: dict[str, Any], unmapped: set[str]) -> tuple[str, str]:
        """Apply one StockOnHand row; what happened, and its modified time (ISO, "" if none)."""
        code, sku = str(row.get("WarehouseCode") or "").strip(), str(row.get("ProductCode") or "").strip()
        modified = unleashed_time(row.get("LastModifiedOn"))
        if not code or not sku or modified is None:
            return "skipped", ""  # an all-warehouse total, or a row without what a count needs
        location = self.warehouses.get(code)
        if location is None:
            if code not in unmapped:
                unmapped.add(code)
                self._unmapped(sku, code)
            return "unmapped", iso(modified)
        try:
            available = max(0, math.floor(float(row.get("AvailableQty") or 0)))
        except (TypeError, ValueError):
            return "skipped", iso(modified)
        version = int(modified.timestamp() * 1000)
        attempt = f"unleashed:{code}:{sku}:{version}"
        try:
            result = self.ledger.report_count(sku, location, available, version, SOURCE, attempt)
        except (NotFound, InvalidRequest):  # not in the catalog there yet: kept, applied once it is
            self.ledger.park_count(ParkedCount(sku, location, available, version, SOURCE, attempt))
            return "parked", iso(modified)
        return result.outcome.value, iso(modified)

    def _unmapped(self, sku: str, code: str) -> None:
        now = self.clock()
        why = f"warehouse {code} is not mapped to a location (setting unleashed.warehouses)"
        entry = SyncEntry(sku, SOURCE, f"stock:{code}", iso(now), None, 0, "Unleashed count", "unmapped", why)
        self.history.record_sync([entry], now)
