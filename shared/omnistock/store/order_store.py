"""Orders, their lines' stock records and shipments in the single table.

One partition per order (``ORDER#<channel>#<order id>``): the order item, one item per line
(what the line takes out of stock, and the facts that say so) and one per shipment.

Every change of an order that needs shipping also appends an entry to the export log (see
export_store.py) in the same transaction: what the ShipStation export reads, by modified time.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from omnistock.clock import epoch_seconds_after, iso
from omnistock.errors import Conflict
from omnistock.orders import ChannelOrder, LineRecord, OrderFile, OrderStatus, Shipment, StoredOrder, needs_shipping
from omnistock.store import keys
from omnistock.store.export_store import export_log_writes
from omnistock.store.expressions import Expression
from omnistock.store.items import line_item, line_record, order_item, shipment_from_item, shipment_item, stored_order
from omnistock.store.pos_sale_store import ERP_ORDER_PREFIX, POS_SALE_PREFIX, document_from_item
from omnistock.store.table import Cancelled, Item, Table, to_attrs


class OrderStore:
    def __init__(self, table: Table, export_retention_days: int = 30) -> None:
        self.table = table
        self.export_retention_days = export_retention_days

    def load(self, channel: str, order_id: str) -> OrderFile:
        items = self.table.query("pk = :pk", {":pk": keys.order_pk(channel, order_id)})
        stored = next((stored_order(i) for i in items if i["sk"] == keys.ORDER_SK), None)
        lines = {i["line_id"]: line_record(i) for i in items if i["sk"].startswith(keys.LINE_PREFIX)}
        shipments = [shipment_from_item(i) for i in items if i["sk"].startswith(keys.SHIPMENT_PREFIX)]
        pos_sales = [document_from_item(i) for i in items if i["sk"].startswith(POS_SALE_PREFIX)]
        erp_orders = [document_from_item(i) for i in items if i["sk"].startswith(ERP_ORDER_PREFIX)]
        return OrderFile(stored, lines, shipments, pos_sales, erp_orders)

    # ---- orders
    def changed_on(self, day: str, before: str, limit: int) -> tuple[list[StoredOrder], str]:
        """Orders that need shipping changed on ``day`` (UTC), newest change first, each once
        (as it was at its newest change that day), from the export log; and the cursor after
        the last entry read. An order changed several times that day costs an entry read each."""
        high = before or keys.EXPORT_COUNT_PREFIX  # entries sort before the day's counts
        items = self.table.query(
            "pk = :pk AND sk < :high", {":pk": keys.export_day_pk(day), ":high": high}, forward=False, limit=limit
        )
        seen: dict[tuple[str, str], StoredOrder] = {}
        for item in items:
            seen.setdefault((item["channel"], item["order_id"]), stored_order(item))
        return list(seen.values()), items[-1]["sk"] if len(items) == limit else ""

    def order(self, channel: str, order_id: str) -> StoredOrder | None:
        item = self.table.get(keys.order_pk(channel, order_id), keys.ORDER_SK)
        return stored_order(item) if item else None

    def save_order(
        self, order: ChannelOrder, status: OrderStatus, previous: StoredOrder | None, now: datetime
    ) -> StoredOrder | None:
        """Store the snapshot unless a newer one is stored; None if it lost to a newer one.
        ``modified_at`` changes only when what the order says changes."""
        if previous is not None and previous.order == order and previous.status is status:
            return previous
        item = order_item(order, status, iso(now), (previous.rev if previous else 0) + 1)
        actions = self._order_writes(item, previous, now)
        if previous is None or previous.order.number != order.number:
            number = {
                "pk": keys.order_number_pk(order.number),
                "sk": keys.order_number_sk(order.channel, order.order_id),
            }
            actions.append({"Put": {"Item": to_attrs(number | {"kind": "order_number"})}})
        return stored_order(item) if self.table.transact(actions) is None else None

    def touch(self, stored: StoredOrder, now: datetime) -> StoredOrder | None:
        """Save the order again as it is, so its ``modified_at`` (and export log) moves to now;
        None if it changed since it was read."""
        item = order_item(stored.order, stored.status, iso(now), stored.rev + 1)
        return stored_order(item) if self.table.transact(self._order_writes(item, stored, now)) is None else None

    def orders_numbered(self, number: str) -> list[tuple[str, str]]:
        """(channel, order id) of every order people call ``number``."""
        items = self.table.query("pk = :pk", {":pk": keys.order_number_pk(number)})
        return [keys.order_of(item["sk"]) for item in items]

    def _order_writes(self, item: Item, previous: StoredOrder | None, now: datetime) -> list[dict[str, Any]]:
        """The order's conditional Put, and its export log entry when it needs shipping."""
        put: dict[str, Any] = {"Item": to_attrs(item)}
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            expr = Expression()
            put["ConditionExpression"] = f"{expr.name('rev')} = {expr.value(previous.rev)}"
            expr.attach(put)
        actions: list[dict[str, Any]] = [{"Put": put}]
        if needs_shipping(stored_order(item).order):
            actions += export_log_writes(item, epoch_seconds_after(now, self.export_retention_days))
        return actions

    # ---- lines
    def lines(self, channel: str, order_id: str) -> dict[str, LineRecord]:
        items = self.table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": keys.order_pk(channel, order_id), ":prefix": keys.LINE_PREFIX},
        )
        return {item["line_id"]: line_record(item) for item in items}

    def line_write(self, old: LineRecord | None, new: LineRecord) -> dict[str, Any]:
        """The conditional Put of a line record (``old`` is what was read: the write fails if
        the record changed since): the line's dedupe and ordering guard."""
        item = line_item(new)
        put: dict[str, Any] = {"Item": to_attrs(item)}
        expr = Expression()
        if old is None or old.rev == 0:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = f"{expr.name('rev')} = {expr.value(old.rev)}"
            expr.attach(put)
        return {"Put": put}

    def save_line(self, old: LineRecord | None, new: LineRecord) -> bool:
        """Write a line record alone (no stock moves); False if it changed since it was read."""
        return self.table.transact([self.line_write(old, new)]) is None

    # ---- shipments
    def shipment(self, channel: str, order_id: str, shipment_id: str) -> Shipment | None:
        item = self.table.get(keys.order_pk(channel, order_id), keys.shipment_sk(shipment_id))
        return shipment_from_item(item) if item else None

    def shipments(self, channel: str, order_id: str) -> list[Shipment]:
        items = self.table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": keys.order_pk(channel, order_id), ":prefix": keys.SHIPMENT_PREFIX},
        )
        return [shipment_from_item(item) for item in items]

    def add_shipment(self, stored: StoredOrder, shipment: Shipment, status: OrderStatus, now: datetime) -> bool:
        """Record a shipment and the order's new status and ``modified_at`` in one transaction;
        False if the shipment was recorded before (its id is its dedupe key)."""
        item = order_item(stored.order, status, iso(now), stored.rev + 1)
        shipment_put = {"Item": to_attrs(shipment_item(shipment)), "ConditionExpression": "attribute_not_exists(pk)"}
        cancelled = self.table.transact([{"Put": shipment_put}, *self._order_writes(item, stored, now)])
        if cancelled is None:
            return True
        if cancelled.failed(0):
            return False
        raise Conflict("the order changed while the shipment was recorded; retry")

    def update_shipment(self, shipment: Shipment, expected: Shipment) -> bool:
        """Move a shipment on from ``expected`` (its state and attempt count); False if another
        run moved it first. Two senders that read the same shipment cannot both take it."""
        expr = Expression()
        condition = f"{expr.name('state')} = {expr.value(expected.state)}"
        condition += f" AND {expr.name('attempts')} = {expr.value(expected.attempts)}"
        put: dict[str, Any] = {
            "Item": to_attrs(shipment_item(shipment)),
            "ConditionExpression": condition,
        }
        expr.attach(put)
        return self.table.transact([{"Put": put}]) is None

    def unsent_shipments(self, channel: str, limit: int = 100) -> list[Shipment]:
        """Shipments not yet accepted by their channel (sparse index entries), oldest first."""
        items = self.table.query("gsi2pk = :pk", {":pk": keys.unsent_shipments_pk(channel)}, index="gsi2", limit=limit)
        return [shipment_from_item(item) for item in items]


def line_cancellation(cancelled: Cancelled) -> str:
    """Why a line's transaction was cancelled: record | catalog | counted | lot | other."""
    for index, name in enumerate(("record", "catalog", "counted", "lot")):
        if index < len(cancelled.codes) and cancelled.failed(index):
            return name
    return "other"
