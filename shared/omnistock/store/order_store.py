"""Orders, their lines' stock records, shipments and poll cursors in the single table.

One partition per order (``ORDER#<channel>#<order id>``): the order item, one item per line
(what the line takes out of stock, and the facts that say so) and one per shipment.

Every change of an order that needs shipping also appends an entry to the export log (see
export_store.py) in the same transaction: what the ShipStation export reads, by modified time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from omnistock.clock import epoch_seconds_after, iso
from omnistock.errors import Conflict
from omnistock.orders import Address, ChannelOrder, LineFacts, OrderLine, OrderStatus, RefundLine, needs_shipping
from omnistock.store import keys
from omnistock.store.export_store import export_log_writes
from omnistock.store.expressions import Expression
from omnistock.store.table import Cancelled, Item, Table, to_attrs


@dataclass(frozen=True)
class StoredOrder:
    order: ChannelOrder
    status: OrderStatus
    modified_at: str
    rev: int


@dataclass(frozen=True)
class LineRecord:
    """One order line as the ledger applied it: ``taken`` units out of stock at ``location``."""

    channel: str
    order_id: str
    line_id: str
    facts: LineFacts = field(default_factory=LineFacts)
    location: str = ""  # chosen when the line first takes units
    sku: str = ""  # the SKU its units were taken from: what they go back to, whatever the line says later
    hold: str = ""  # the hold whose units it checked out (their lot is the hold's)
    taken: int = 0
    unmapped: str = ""  # why the line moves nothing although it should ("" when mapped)
    rev: int = 0


@dataclass(frozen=True)
class Shipment:
    channel: str
    order_id: str
    shipment_id: str
    carrier: str
    service: str
    tracking_number: str
    shipped_at: str
    lines: dict[str, int]  # line id -> units shipped
    state: str = "pending"  # pending | sending | sent | failed | not_sent (the channel takes none)
    fulfillment_id: str = ""
    error: str = ""
    attempts: int = 0
    claimed_at: str = ""  # when the sender now at work took it (state "sending")


@dataclass(frozen=True)
class OrderFile:
    """Everything kept about one order, read with one query on its partition."""

    stored: StoredOrder | None
    lines: dict[str, LineRecord]
    shipments: list[Shipment]

    def shipped(self) -> dict[str, int]:
        """Units per line that shipments recorded in Omnistock have shipped."""
        units: dict[str, int] = {}
        for shipment in self.shipments:
            for line_id, qty in shipment.lines.items():
                units[line_id] = units.get(line_id, 0) + qty
        return units


class OrderStore:
    def __init__(self, table: Table, export_retention_days: int = 30) -> None:
        self.table = table
        self.export_retention_days = export_retention_days

    def load(self, channel: str, order_id: str) -> OrderFile:
        items = self.table.query("pk = :pk", {":pk": keys.order_pk(channel, order_id)})
        stored = next((stored_order(i) for i in items if i["sk"] == keys.ORDER_SK), None)
        lines = {i["line_id"]: _line_record(i) for i in items if i["sk"].startswith(keys.LINE_PREFIX)}
        shipments = [_shipment(i) for i in items if i["sk"].startswith(keys.SHIPMENT_PREFIX)]
        return OrderFile(stored, lines, shipments)

    # ---- orders
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
        return {item["line_id"]: _line_record(item) for item in items}

    def line_write(self, old: LineRecord | None, new: LineRecord) -> dict[str, Any]:
        """The conditional Put of a line record (``old`` is what was read: the write fails if
        the record changed since): the line's dedupe and ordering guard."""
        item = _line_item(new)
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
        return _shipment(item) if item else None

    def shipments(self, channel: str, order_id: str) -> list[Shipment]:
        items = self.table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": keys.order_pk(channel, order_id), ":prefix": keys.SHIPMENT_PREFIX},
        )
        return [_shipment(item) for item in items]

    def add_shipment(self, stored: StoredOrder, shipment: Shipment, status: OrderStatus, now: datetime) -> bool:
        """Record a shipment and the order's new status and ``modified_at`` in one transaction;
        False if the shipment was recorded before (its id is its dedupe key)."""
        item = order_item(stored.order, status, iso(now), stored.rev + 1)
        shipment_put = {"Item": to_attrs(_shipment_item(shipment)), "ConditionExpression": "attribute_not_exists(pk)"}
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
            "Item": to_attrs(_shipment_item(shipment)),
            "ConditionExpression": condition,
        }
        expr.attach(put)
        return self.table.transact([{"Put": put}]) is None

    def unsent_shipments(self, channel: str, limit: int = 100) -> list[Shipment]:
        """Shipments not yet accepted by their channel (sparse index entries), oldest first."""
        items = self.table.query("gsi2pk = :pk", {":pk": keys.unsent_shipments_pk(channel)}, index="gsi2", limit=limit)
        return [_shipment(item) for item in items]

    # ---- poll cursors
    def cursor(self, name: str) -> str | None:
        item = self.table.get(keys.cursor_pk(name), keys.CURSOR_SK)
        return item["at"] if item else None

    def marks(self, name: str) -> set[str]:
        """A poll's notes for its next run (ids it saw something odd about)."""
        item = self.table.get(keys.cursor_pk(name), keys.CURSOR_SK)
        return set(item.get("ids") or []) if item else set()

    def save_marks(self, name: str, ids: set[str]) -> None:
        self.table.put({"pk": keys.cursor_pk(name), "sk": keys.CURSOR_SK, "kind": "marks", "ids": sorted(ids)})

    def advance_cursor(self, name: str, at: str) -> bool:
        """Move a cursor forward (never back); False if it is already at or past ``at``."""
        expr = Expression()
        body: dict[str, Any] = {
            "Item": to_attrs({"pk": keys.cursor_pk(name), "sk": keys.CURSOR_SK, "kind": "cursor", "at": at}),
            "ConditionExpression": f"attribute_not_exists(pk) OR {expr.name('at')} < {expr.value(at)}",
        }
        expr.attach(body)
        return self.table.transact([{"Put": body}]) is None


def line_cancellation(cancelled: Cancelled) -> str:
    """Why a line's transaction was cancelled: record | catalog | counted | lot | other."""
    for index, name in enumerate(("record", "catalog", "counted", "lot")):
        if index < len(cancelled.codes) and cancelled.failed(index):
            return name
    return "other"


# ==================================================================== item <-> model
def order_item(order: ChannelOrder, status: OrderStatus, modified_at: str, rev: int) -> Item:
    return {
        "pk": keys.order_pk(order.channel, order.order_id),
        "sk": keys.ORDER_SK,
        "kind": "order",
        "channel": order.channel,
        "order_id": order.order_id,
        "number": order.number,
        "status": status.value,
        "source_updated_at": order.updated_at,
        "modified_at": modified_at,
        "rev": rev,
        "order": _without_none(asdict(order)),
    }


def stored_order(item: Item) -> StoredOrder:
    """An order item (or an export log entry, which carries the same fields) as a model."""
    data = dict(item["order"])
    data["lines"] = tuple(OrderLine(**line) for line in data.get("lines", []))
    data["refunds"] = tuple(RefundLine(**refund) for refund in data.get("refunds", []))
    for name in ("ship_to", "bill_to"):
        data[name] = Address(**data[name]) if data.get(name) else None
    return StoredOrder(ChannelOrder(**data), OrderStatus(item["status"]), item["modified_at"], int(item["rev"]))


def _without_none(value: Any) -> Any:
    """DynamoDB maps keep no None values: drop them (the dataclass defaults bring them back)."""
    if isinstance(value, dict):
        return {k: _without_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_without_none(v) for v in value]
    return value


def _line_item(record: LineRecord) -> Item:
    facts = record.facts
    item: Item = {
        "pk": keys.order_pk(record.channel, record.order_id),
        "sk": keys.line_sk(record.line_id),
        "kind": "order_line",
        "channel": record.channel,
        "order_id": record.order_id,
        "line_id": record.line_id,
        "sku": facts.sku,
        "fulfilled": facts.fulfilled,
        "cancelled": facts.cancelled,
        "tracked": facts.tracked,
        "as_of": facts.as_of,
        "restocks": {rid: {"qty": qty, "type": kind} for rid, (qty, kind) in facts.restocks.items()},
        "location": record.location,
        "taken_sku": record.sku,
        "hold": record.hold,
        "taken": record.taken,
        "unmapped": record.unmapped,
        "rev": record.rev,
    }
    if facts.quantity is not None:
        item["quantity"] = facts.quantity
    return item


def _line_record(item: Item) -> LineRecord:
    facts = LineFacts(
        sku=item.get("sku", ""),
        quantity=int(item["quantity"]) if "quantity" in item else None,
        fulfilled=int(item.get("fulfilled", 0)),
        cancelled=bool(item.get("cancelled", False)),
        tracked=bool(item.get("tracked", True)),
        as_of=item.get("as_of", ""),
        restocks={rid: (int(v["qty"]), v["type"]) for rid, v in (item.get("restocks") or {}).items()},
    )
    return LineRecord(
        channel=item["channel"],
        order_id=item["order_id"],
        line_id=item["line_id"],
        facts=facts,
        location=item.get("location", ""),
        sku=item.get("taken_sku", ""),
        hold=item.get("hold", ""),
        taken=int(item.get("taken", 0)),
        unmapped=item.get("unmapped", ""),
        rev=int(item.get("rev", 0)),
    )


def _shipment_item(shipment: Shipment) -> Item:
    item: Item = {
        "pk": keys.order_pk(shipment.channel, shipment.order_id),
        "sk": keys.shipment_sk(shipment.shipment_id),
        "kind": "shipment",
        **asdict(shipment),
    }
    if shipment.state in ("pending", "sending", "failed"):  # sparse: only unsent shipments are indexed
        item["gsi2pk"] = keys.unsent_shipments_pk(shipment.channel)
        item["gsi2sk"] = keys.unsent_shipment_sk(shipment.shipped_at, shipment.order_id, shipment.shipment_id)
    return item


def _shipment(item: Item) -> Shipment:
    return Shipment(
        channel=item["channel"],
        order_id=item["order_id"],
        shipment_id=item["shipment_id"],
        carrier=item.get("carrier", ""),
        service=item.get("service", ""),
        tracking_number=item.get("tracking_number", ""),
        shipped_at=item.get("shipped_at", ""),
        lines={line: int(qty) for line, qty in (item.get("lines") or {}).items()},
        state=item.get("state", "pending"),
        fulfillment_id=item.get("fulfillment_id", ""),
        error=item.get("error", ""),
        attempts=int(item.get("attempts", 0)),
        claimed_at=item.get("claimed_at", ""),
    )
