"""Reading the table's stream: movement-log entries, SKUs and channels to push, Sync Now chunks.

Stock items on the stream become movement-log entries.

Each stream record is one committed change of one stock item, in commit order per item,
with the item before and after; the item's ``last`` attribute says which event caused it.
So the log is exact (before/after never guessed) and costs the request path nothing.
"""

from __future__ import annotations

from typing import Any

from omnistock.models import Job, Movement, MovementKind, Quantities, StockLevel
from omnistock.store import keys
from omnistock.store.items import stock_from_item
from omnistock.store.job_store import job_from_item
from omnistock.store.table import from_attrs


def is_stock_change(record: dict[str, Any]) -> bool:
    dynamodb = record.get("dynamodb") or {}
    sort_key = (dynamodb.get("Keys") or {}).get("sk", {}).get("S", "")
    return record.get("eventName") in ("INSERT", "MODIFY") and sort_key.startswith(keys.LOCATION_PREFIX)


def movement_from_record(record: dict[str, Any]) -> Movement | None:
    """The movement a stream record describes, or None when it is not a stock change."""
    if not is_stock_change(record):
        return None
    dynamodb = record["dynamodb"]
    new_item = from_attrs(dynamodb["NewImage"])
    old_item = from_attrs(dynamodb["OldImage"]) if dynamodb.get("OldImage") else None
    after = stock_from_item(new_item)
    before = stock_from_item(old_item) if old_item else StockLevel(after.sku, after.location)
    if old_item is not None and before.rev == after.rev:
        return None
    cause = new_item.get("last") or {}
    return Movement(
        sku=after.sku,
        location=after.location,
        at=cause.get("at") or after.updated_at or "",
        rev=after.rev,
        source=cause.get("source", "unknown"),
        event_id=cause.get("event_id", ""),
        kind=MovementKind(cause.get("kind", MovementKind.ADJUSTMENT.value)),
        note=cause.get("note", ""),
        before=_quantities(before),
        after=_quantities(after),
    )


def _quantities(level: StockLevel) -> Quantities:
    return Quantities(level.on_hand, level.held, level.pending, level.available)


def oldest_change_by_sku(records: list[dict[str, Any]]) -> dict[str, float]:
    """When each changed SKU's oldest change in ``records`` was written (epoch seconds)."""
    oldest: dict[str, float] = {}
    for record in records:
        sku, written = changed_sku(record), (record.get("dynamodb") or {}).get("ApproximateCreationDateTime")
        if sku is not None and written is not None:
            oldest[sku] = min(float(written), oldest.get(sku, float(written)))
    return oldest


def changed_sku(record: dict[str, Any]) -> str | None:
    """The SKU whose channel values may have changed: a stock item or a channel policy moved."""
    dynamodb = record.get("dynamodb") or {}
    record_keys = dynamodb.get("Keys") or {}
    sort_key = record_keys.get("sk", {}).get("S", "")
    partition = record_keys.get("pk", {}).get("S", "")
    sku = keys.sku_of(partition)
    if record.get("eventName") == "REMOVE" or sku is None:
        return None
    if sort_key == keys.CATALOG_SK or sort_key.startswith((keys.LOCATION_PREFIX, keys.POLICY_PREFIX)):
        return sku
    return None


def changed_channel(record: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, change id) when a channel's configuration was written: every SKU it lists
    may show a different number now."""
    dynamodb = record.get("dynamodb") or {}
    record_keys = dynamodb.get("Keys") or {}
    if record.get("eventName") == "REMOVE" or record_keys.get("pk", {}).get("S") != keys.CHANNELS_PK:
        return None
    old, new = dynamodb.get("OldImage"), dynamodb.get("NewImage")
    if old and new and old.get("mode") != new.get("mode") and _without(old, _MODE) == _without(new, _MODE):
        return None  # into or out of shadow mode: going live pushes one preview's differences, not all
    return record_keys["sk"]["S"], str(dynamodb.get("SequenceNumber", ""))


_MODE = ("mode", "updated_at")


def _without(image: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: value for name, value in image.items() if name not in names}


def job_from_record(record: dict[str, Any]) -> Job | None:
    """A Sync Now job that was created or advanced (and so has a chunk to run)."""
    dynamodb = record.get("dynamodb") or {}
    sort_key = (dynamodb.get("Keys") or {}).get("sk", {}).get("S", "")
    if sort_key != keys.JOB_SK or "NewImage" not in dynamodb or record.get("eventName") == "REMOVE":
        return None
    return job_from_item(from_attrs(dynamodb["NewImage"]))


def changed_order(record: dict[str, Any]) -> tuple[str, str] | None:
    """(channel, order id) of an order whose record was written (created or changed)."""
    dynamodb = record.get("dynamodb") or {}
    sort_key = (dynamodb.get("Keys") or {}).get("sk", {}).get("S", "")
    if sort_key != keys.ORDER_SK or "NewImage" not in dynamodb:
        return None
    item = from_attrs(dynamodb["NewImage"])
    return item["channel"], item["order_id"]


def new_shipment(record: dict[str, Any]) -> tuple[str, str, str] | None:
    """(channel, order id, shipment id) of a shipment recorded and not yet sent."""
    dynamodb = record.get("dynamodb") or {}
    sort_key = (dynamodb.get("Keys") or {}).get("sk", {}).get("S", "")
    if not sort_key.startswith(keys.SHIPMENT_PREFIX) or "NewImage" not in dynamodb:
        return None
    item = from_attrs(dynamodb["NewImage"])
    if item.get("state") != "pending":
        return None
    return item["channel"], item["order_id"], item["shipment_id"]
