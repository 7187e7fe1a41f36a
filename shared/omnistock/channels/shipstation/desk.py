"""ShipStation's Custom Store: the export of orders by modified time, and shipment notices.

Export: every order that needs shipping, modified in the window, whatever its status, read
from the export log (never a scan), ``page_size`` to a page with the page count on the root.
Shipnotify: the notice's order is found by its OrderID (ours: ``channel:order id``) or, failing
that, by its order number; the shipment is recorded once (its id comes from the notice:
a repeated notice is the same shipment), only the lines it lists are marked shipped, and the
outbox sends it to the order's channel as a fulfillment.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from omnistock.channels.shipstation import dates, export_xml
from omnistock.channels.shipstation.notice import ShipNotice
from omnistock.clock import iso, utc_now
from omnistock.errors import InvalidRequest, NotFound
from omnistock.models import SyncEntry
from omnistock.orders import ChannelOrder, OrderStatus, StoredOrder
from omnistock.shipments import AlreadyShipped, ShipmentDesk

if TYPE_CHECKING:  # the stores arrive built (the wiring); a platform never reaches into the table
    from omnistock.store.export_store import ExportStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.push_store import PushStore

MAX_PAGES = 32_767  # the guide types ``pages`` as xs:short


@dataclass(frozen=True)
class Export:
    document: bytes
    returned: int
    pages: int
    items_read: int


@dataclass(frozen=True)
class Notified:
    channel: str
    order_id: str
    shipment_id: str
    new: bool


class ShipStationDesk:
    def __init__(
        self,
        exports: ExportStore,
        orders: OrderStore,
        shipments: ShipmentDesk,
        history: PushStore,
        *,
        page_size: int = 100,
        retention_days: int = 30,
        statuses: Mapping[OrderStatus, str] = export_xml.DEFAULT_STATUS_MAP,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.exports = exports
        self.orders = orders
        self.shipments = shipments
        self.history = history
        self.page_size = page_size
        self.retention = timedelta(days=retention_days + 1)
        self.statuses = statuses
        self.clock = clock

    def export(self, start_date: str | None, end_date: str | None, page: str | None) -> Export:
        """Raises InvalidRequest for a missing or malformed window or page (never "export all")."""
        try:
            start = dates.parse(start_date, "start_date")
            end = dates.parse(end_date, "end_date")
        except dates.DateError as error:
            raise InvalidRequest(str(error)) from None
        if end < start:
            raise InvalidRequest("end_date is before start_date")
        number = _page_number(page)
        # Both ends inclusive, to the minute: ShipStation's precision is a minute, and an
        # order modified in the window's last minute must not fall between two pulls. The log
        # holds nothing older than its retention nor newer than now: a wider window reads no more.
        now = self.clock()
        start = max(start, (now - self.retention).replace(second=0, microsecond=0))
        last = min(end + timedelta(seconds=59, milliseconds=999), now + timedelta(days=1))
        if last < start:
            return Export(export_xml.orders_document([], 0, self.statuses), 0, 0, 0)
        found = self.exports.page(iso(start), iso(last), number, self.page_size)
        pages = min(MAX_PAGES, math.ceil(found.total / self.page_size))
        # An order whose hold Omnistock cannot know yet (a Shopify webhook's body does not show
        # holds; the next poll reads it) is left out until it can: a held order is never "paid".
        orders = [entry for entry in _latest_of_each(found.orders) if entry.order.on_hold is not None]
        document = export_xml.orders_document(orders, pages, self.statuses)
        return Export(document, len(orders), pages, found.items_read)

    def ship_notify(
        self, order_number: str | None, carrier: str, service: str, tracking_number: str, notice: ShipNotice
    ) -> Notified:
        """Record the shipment a notice describes. Raises NotFound for an order Omnistock does
        not know (written to the sync history) and InvalidRequest for items it does not have."""
        number = (order_number or notice.order_number or "").strip()
        channel, order_id = self._find(notice.order_id, number)
        kept = self.orders.load(channel, order_id)
        if kept.stored is None:
            raise NotFound(f"order {number!r} is not in the order store")
        lines = self._shipped_lines(kept.stored.order, notice)
        tracking = tracking_number or notice.tracking_number
        shipment_id = _shipment_id(tracking, notice, lines)
        try:
            shipment, new = self.shipments.record(
                channel,
                order_id,
                shipment_id,
                carrier=carrier or notice.carrier,
                service=service or notice.service,
                tracking_number=tracking,
                lines=lines,
                shipped_at=_label_time(notice.label_created),
            )
        except AlreadyShipped as refused:  # kept, with why, in the history and the problems inbox
            self.history.note(
                f"order:{channel}:{order_id}", "shipstation", "shipnotify", "rejected", str(refused), self.clock()
            )
            raise InvalidRequest(str(refused)) from None
        return Notified(channel, order_id, shipment.shipment_id, new)

    def refresh(self, channel: str, order_id: str) -> str:
        """Save the order again so ShipStation exports it again; returns its new ``modified_at``."""
        for _ in range(5):
            stored = self.orders.order(channel, order_id)
            if stored is None:
                raise NotFound(f"order {order_id!r} of {channel!r} is not in the order store")
            touched = self.orders.touch(stored, self.clock())
            if touched is not None:
                return touched.modified_at
        raise InvalidRequest("the order kept changing; retry")

    def _find(self, shipstation_order_id: str, number: str) -> tuple[str, str]:
        channel, sep, order_id = shipstation_order_id.partition(":")
        if sep and channel and order_id and self.orders.order(channel, order_id) is not None:
            return channel, order_id
        matches = self.orders.orders_numbered(number) if number else []
        if len(matches) == 1:
            return matches[0]
        reason = "no order has this number" if not matches else f"{len(matches)} orders have this number"
        self._note_unknown(number or shipstation_order_id, reason)
        raise NotFound(f"unknown order number {number!r}: {reason}")

    def _shipped_lines(self, order: ChannelOrder, notice: ShipNotice) -> dict[str, int] | None:
        """The lines the notice ships (None: it lists none, so everything still unshipped)."""
        if not notice.items:
            return None
        by_id = {line.line_id: line for line in order.lines}
        by_sku = {line.sku: line for line in order.lines if line.sku}
        shipped: dict[str, int] = {}
        for item in notice.items:
            line = by_id.get(item.line_item_id) or by_sku.get(item.sku)
            if line is None:
                raise InvalidRequest(f"the order has no line {item.line_item_id or item.sku!r}")
            shipped[line.line_id] = shipped.get(line.line_id, 0) + item.quantity
        return shipped

    def _note_unknown(self, reference: str, reason: str) -> None:
        now = self.clock()
        entry = SyncEntry(
            sku=f"order:{reference[:100]}",
            channel="shipstation",
            attempt=f"shipnotify:{iso(now)}",
            at=iso(now),
            before=None,
            after=0,
            why="shipnotify",
            result="unknown_order",
            error=reason,
        )
        self.history.record_sync([entry], now)


def _latest_of_each(entries: list[StoredOrder]) -> list[StoredOrder]:
    """Each order once, as its latest entry in the page says (entries are oldest first); the
    page keeps its place in the window, so paging stays stable."""
    latest = {(entry.order.channel, entry.order.order_id): entry for entry in entries}
    return [entry for entry in entries if latest[(entry.order.channel, entry.order.order_id)] is entry]


def _label_time(text: str) -> str | None:
    """When the label was made (the shipment's time), if the notice says so readably."""
    try:
        return iso(dates.parse(text, "LabelCreateDate")) if text else None
    except dates.DateError:
        return None


def _page_number(page: str | None) -> int:
    if page is None or page.strip() == "":
        return 1
    if not page.strip().isdigit() or not 1 <= int(page) <= MAX_PAGES:
        raise InvalidRequest(f"page must be a whole number from 1 to {MAX_PAGES}")
    return int(page)


def _shipment_id(tracking: str, notice: ShipNotice, lines: dict[str, int] | None) -> str:
    """The same notice, sent again, names the same shipment: by its tracking number, or (none
    given) by what it ships and when."""
    basis = tracking or f"{notice.ship_date}|{sorted((lines or {}).items())}"
    return "ss-" + hashlib.sha256(basis.encode()).hexdigest()[:24]
