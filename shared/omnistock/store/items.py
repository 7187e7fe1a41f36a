"""DynamoDB items <-> the ledger's models: every item shape of the stock table, in one place."""

from __future__ import annotations

from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from omnistock.models import (
    CatalogEntry,
    Channel,
    Hold,
    HoldState,
    Lot,
    Movement,
    MovementKind,
    Quantities,
    StockLevel,
)
from omnistock.store import keys
from omnistock.store.table import Item

if TYPE_CHECKING:  # annotations only: the order records are imported where they are built
    from omnistock.orders import (
        ChannelOrder,
        LineRecord,
        OrderStatus,
        Shipment,
        StoredOrder,
    )


def lot_from_item(item: Item) -> Lot:
    return Lot(int(item["qty"]), item["sold_at"], item.get("applied_version"))


def stock_from_item(item: Item) -> StockLevel:
    return StockLevel(
        sku=item.get("sku") or keys.sku_of(item["pk"]) or "",
        location=item.get("location") or keys.location_of(item["sk"]),
        on_hand=int(item.get("on_hand", 0)),
        held=int(item.get("held", 0)),
        pending=int(item.get("pending", 0)),
        available=int(item.get("available", 0)),
        master_version=item.get("master_version"),
        master_at=item.get("master_at"),
        rev=int(item.get("rev", 0)),
        updated_at=item.get("updated_at"),
    )


def stock_item(level: StockLevel) -> Item:
    item: Item = {
        "pk": keys.sku_pk(level.sku),
        "sk": keys.stock_sk(level.location),
        "kind": "stock",
        "sku": level.sku,
        "location": level.location,
        "on_hand": level.on_hand,
        "held": level.held,
        "pending": level.pending,
        "available": level.available,
        "rev": level.rev + 1,
        "updated_at": level.updated_at,
    }
    if level.master_version is not None:
        item["master_version"] = level.master_version
        item["master_at"] = level.master_at
    return item


def hold_item(hold: Hold) -> Item:
    """A hold; an active one is also in the expiry index (gsi1) and in its source's (gsi2).
    Both are sparse: the write that ends the hold removes the four keys (``HOLD_INDEX_KEYS``)."""
    item: Item = {
        "pk": keys.hold_pk(hold.hold_id),
        "sk": keys.HOLD_SK,
        "kind": "hold",
        "sku": hold.sku,
        "location": hold.location,
        "qty": hold.qty,
        "state": hold.state.value,
        "expires_at": hold.expires_at,
        "created_at": hold.created_at,
        "source": hold.source,
        "event_id": hold.event_id,
    }
    if hold.state is HoldState.ACTIVE:
        item["gsi1pk"] = keys.hold_expiry_pk(hold.hold_id)
        item["gsi1sk"] = keys.hold_expiry_sk(hold.expires_at, hold.hold_id)
        item["gsi2pk"] = keys.hold_source_pk(hold.source, hold.hold_id)
        item["gsi2sk"] = keys.hold_source_sk(hold.hold_id)
    return item


# The index keys of an active hold (``hold_item``): a hold that ends drops them all.
HOLD_INDEX_KEYS = ("gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk")


def hold_from_item(item: Item) -> Hold:
    return Hold(
        hold_id=keys.hold_of(item["pk"]),
        sku=item["sku"],
        location=item["location"],
        qty=int(item["qty"]),
        state=HoldState(item["state"]),
        expires_at=item["expires_at"],
        created_at=item["created_at"],
        source=item.get("source", ""),
        event_id=item.get("event_id", ""),
        ended_at=item.get("ended_at"),
        ended_by=item.get("ended_by"),
    )


def catalog_item(entry: CatalogEntry) -> Item:
    return {
        "pk": keys.sku_pk(entry.sku),
        "sk": keys.CATALOG_SK,
        "gsi2pk": keys.catalog_index_pk(entry.sku),
        "gsi2sk": keys.catalog_index_sk(entry.sku),
        "kind": "catalog",
        "sku": entry.sku,
        "title": entry.title,
        "locations": list(entry.locations),
        "listings": dict(entry.listings),
        "rev": entry.rev + 1,
        "updated_at": entry.updated_at,
    }


def catalog_from_item(item: Item) -> CatalogEntry:
    return CatalogEntry(
        sku=item["sku"],
        locations=tuple(item.get("locations") or ()),
        listings=dict(item.get("listings") or {}),
        title=item.get("title", ""),
        rev=int(item.get("rev", 0)),
        updated_at=item.get("updated_at"),
    )


def channel_from_item(item: Item) -> Channel:
    return Channel(
        name=item["name"],
        locations=tuple(item.get("locations") or ()),
        platform=item.get("platform", ""),
        target_location=item.get("target_location", ""),
        buffer=int(item.get("buffer", 0)),
        max_shown=item.get("max_shown"),
        auto_sync=bool(item.get("auto_sync", True)),
        updated_at=item.get("updated_at"),
        master_location=item.get("master_location", ""),
        mode=item.get("mode", "live"),
        entry_rules={str(way): bool(rule) for way, rule in (item.get("entry_rules") or {}).items()},
    )


def quantities_item(q: Quantities) -> Item:
    return {"on_hand": q.on_hand, "held": q.held, "pending": q.pending, "available": q.available}


def quantities_from_item(item: Item) -> Quantities:
    return Quantities(
        int(item.get("on_hand", 0)),
        int(item.get("held", 0)),
        int(item.get("pending", 0)),
        int(item.get("available", 0)),
    )


def movement_from_item(item: Item) -> Movement:
    return Movement(
        sku=item["sku"],
        location=item["location"],
        at=item["at"],
        rev=int(item["rev"]),
        source=item["source"],
        event_id=item["event_id"],
        kind=MovementKind(item["movement"]),
        note=item.get("note", ""),
        before=quantities_from_item(item["before"]),
        after=quantities_from_item(item["after"]),
    )


# ==================================================================== orders
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
    from omnistock.orders import Address, ChannelOrder, OrderLine, OrderStatus, RefundLine, StoredOrder

    data = dict(item["order"])
    data.setdefault("on_hold", None)  # stored None is left out of the map (every bool is kept)
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


def line_item(record: LineRecord) -> Item:
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


def line_record(item: Item) -> LineRecord:
    from omnistock.orders import LineFacts, LineRecord

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


def shipment_item(shipment: Shipment) -> Item:
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


def shipment_from_item(item: Item) -> Shipment:
    from omnistock.orders import Shipment

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
