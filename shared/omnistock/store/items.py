"""DynamoDB items <-> the ledger's models: every item shape of the stock table, in one place."""

from __future__ import annotations

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
    return {
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
        "gsi1pk": keys.hold_expiry_pk(hold.hold_id),
        "gsi1sk": keys.hold_expiry_sk(hold.expires_at, hold.hold_id),
    }


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
        "gsi2pk": keys.CATALOG_INDEX_PK,
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
