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

    def create(self, item: Item) -> bool:
        """False if an event with this id exists (a repeated start changes nothing)."""
        keyed = item | {"pk": keys.live_event_pk(item["event_id"]), "sk": keys.LIVE_EVENT_SK}
        body = {"Item": to_attrs(keyed), "ConditionExpression": "attribute_not_exists(pk)"}
        return self.table.transact([{"Put": body}]) is None

    def end(self, event_id: str, at: str) -> bool:
        """Mark a running event ended; False if it was not running (ended before)."""
        expr = Expression()
        body: dict[str, Any] = {
            "Key": to_attrs({"pk": keys.live_event_pk(event_id), "sk": keys.LIVE_EVENT_SK}),
            "UpdateExpression": expr.update(set_={("state",): "ended", ("ended_at",): at}),
            "ConditionExpression": f"{expr.name('state')} = {expr.value('running')}",
        }
        return self.table.transact([{"Update": expr.attach(body)}]) is None
