"""Live events: what an event changed (allocations, paused pushes) and what it replaced."""

from __future__ import annotations

from typing import Any

from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Item, Table, to_attrs


class LiveStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, event_id: str) -> Item | None:
        return self.table.get(keys.live_event_pk(event_id), keys.LIVE_EVENT_SK)

    def create(self, item: Item, touched: list[tuple[str, str]]) -> str | None:
        """Create the event and claim each (channel, SKU) it changes, in one transaction. None
        when created; "exists" if the event exists (a repeated start); else the running event
        that owns one of them (two events must not both change, then restore, one policy)."""
        keyed = item | {"pk": keys.live_event_pk(item["event_id"]), "sk": keys.LIVE_EVENT_SK}
        actions: list[dict[str, Any]] = [
            {"Put": {"Item": to_attrs(keyed), "ConditionExpression": "attribute_not_exists(pk)"}}
        ]
        for channel, sku in touched:
            owner = {"pk": keys.live_owner_pk(channel, sku), "sk": keys.LIVE_EVENT_SK, "event_id": item["event_id"]}
            actions.append({"Put": {"Item": to_attrs(owner), "ConditionExpression": "attribute_not_exists(pk)"}})
        cancelled = self.table.transact(actions)
        if cancelled is None:
            return None
        if cancelled.failed(0):
            return "exists"
        index = next(i for i in range(1, len(actions)) if cancelled.failed(i))
        return str((cancelled.items[index] or {}).get("event_id", "another event"))

    def release(self, touched: list[tuple[str, str]]) -> None:
        """Give up the event's claims on its (channel, SKU) pairs."""
        for channel, sku in touched:
            self.table.delete(keys.live_owner_pk(channel, sku), keys.LIVE_EVENT_SK)

    def end(self, event_id: str, at: str) -> bool:
        """Mark a running event ended; False if it was not running (ended before)."""
        expr = Expression()
        body: dict[str, Any] = {
            "Key": to_attrs({"pk": keys.live_event_pk(event_id), "sk": keys.LIVE_EVENT_SK}),
            "UpdateExpression": expr.update(set_={("state",): "ended", ("ended_at",): at}),
            "ConditionExpression": f"{expr.name('state')} = {expr.value('running')}",
        }
        return self.table.transact([{"Update": expr.attach(body)}]) is None
