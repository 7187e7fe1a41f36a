"""Stock items on the table's stream become movement-log entries.

Each stream record is one committed change of one stock item, in commit order per item,
with the item before and after; the item's ``last`` attribute says which event caused it.
So the log is exact (before/after never guessed) and costs the request path nothing.
"""

from __future__ import annotations

from typing import Any

from omnistock.models import Movement, MovementKind, Quantities, StockLevel
from omnistock.store import keys
from omnistock.store.stock_store import stock_from_image
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
    after = stock_from_image(new_item)
    before = stock_from_image(old_item) if old_item else StockLevel(after.sku, after.location)
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
