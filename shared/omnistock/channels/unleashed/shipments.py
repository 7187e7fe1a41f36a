"""Shipments dispatched in Unleashed become fulfillments, with tracking, on the order's channel:
what Unleashed's own Shopify integration leaves to staff.

The poll reads ``SalesShipments`` changed since its cursor. A dispatched shipment of a sales
order Omnistock sent (found by its order number) is recorded as the order's shipment, keyed by
the shipment's Guid, so a repeat records nothing; the shipment desk then tells the channel through
the outbox, once. Its lines are the order's lines of the shipped product codes (every unshipped
unit when none can be matched). A shipment of any other sales order (one made in Unleashed) is
not Omnistock's and is passed over.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels.unleashed.api import ChangedRows, modified_since, unleashed_time
from omnistock.clock import iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound

if TYPE_CHECKING:
    from omnistock.shipments import ShipmentDesk
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.pos_sale_store import PosSaleStore
    from omnistock.store.push_store import PushStore

SOURCE = "unleashed"
CURSOR = "unleashed:shipments"
OVERLAP = timedelta(minutes=5)


class ShipmentReader(Protocol):
    def page(self, endpoint: str, number: int, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]: ...


class UnleashedShipments:
    def __init__(
        self,
        cursors: CursorStore,
        documents: PosSaleStore,
        orders: OrderStore,
        shipment_desk: ShipmentDesk,
        history: PushStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.cursors, self.documents, self.orders = cursors, documents, orders
        self.desk, self.history, self.clock = shipment_desk, history, clock

    def poll(self, api: ShipmentReader, out_of_time: Callable[[], bool]) -> dict[str, Any]:
        report = {"shipments": 0, "recorded": 0}
        cursor = self.cursors.cursor(CURSOR)
        newest = cursor or ""
        rows = ChangedRows(api, "SalesShipments", modified_since(cursor, OVERLAP), out_of_time)
        for row in rows:
            report["shipments"] += 1
            report["recorded"] += self.shipment(row)
            modified = unleashed_time(row.get("LastModifiedOn"))
            newest = max(newest, iso(modified) if modified else "")
        if rows.complete and newest:
            self.cursors.advance_cursor(CURSOR, newest)
        return report

    def shipment(self, row: dict[str, Any]) -> bool:
        """Record one dispatched shipment of an order Omnistock sent; whether it is new."""
        if str(row.get("ShipmentStatus") or "").lower() not in ("dispatched", "completed"):
            return False
        found = self.documents.order_numbered(str(row.get("SalesOrderNumber") or ""))
        if found is None:
            return False  # a sales order made in Unleashed: not Omnistock's to tell a channel about
        channel, order_id = found
        lines = self._lines(channel, order_id, row.get("SalesShipmentLines") or [])
        courier: dict[str, Any] = row["Courier"] if isinstance(row.get("Courier"), dict) else {}
        try:
            _, new = self.desk.record(
                channel,
                order_id,
                f"unleashed:{row.get('Guid')}",
                carrier=str(courier.get("CourierName") or ""),
                service="",
                tracking_number=str(row.get("TrackingNumber") or ""),
                lines=lines or None,
            )
        except (NotFound, InvalidRequest, Conflict) as error:  # shipped already, or lines it lacks: said
            self.history.note(
                f"order:{channel}:{order_id}", SOURCE, "Unleashed shipment", "rejected", str(error), self.clock()
            )
            return False
        return new

    def _lines(self, channel: str, order_id: str, shipped: list[Any]) -> dict[str, int]:
        """The order's lines of the product codes shipped, up to the units each line took."""
        wanted: dict[str, float] = {}
        for line in shipped:
            if isinstance(line, dict) and line.get("ProductCode"):
                code = str(line["ProductCode"])
                wanted[code] = wanted.get(code, 0) + float(line.get("ShipmentQty") or 0)
        chosen: dict[str, int] = {}
        for record in self.orders.lines(channel, order_id).values():
            units = min(int(wanted.get(record.sku, 0)), record.taken)
            if units > 0:
                chosen[record.line_id] = units
                wanted[record.sku] -= units
        return chosen
