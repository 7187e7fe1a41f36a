"""Live events: a channel sells a pool of units the others do not see, and chosen SKUs stop
being pushed to chosen channels while it runs (the ``noinventory`` practice, without its risk:
the ledger keeps counting every claim and sale, so when the event ends and pushes resume, a
forced push brings each paused channel straight to what it may sell).

Starting writes each touched policy (allocation, or auto sync off) and remembers the policy it
replaced; ending restores them and starts a Sync Now job for the paused SKUs. Both are
idempotent: a repeated start or end changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime
from typing import Any

from omnistock.clock import iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound
from omnistock.models import MovementKind
from omnistock.policy import SkuPolicy
from omnistock.store.live_store import LiveStore
from omnistock.store.push_store import PushStore
from omnistock.store.stock_store import StockStore
from omnistock.sync import SyncService, refuse_over_allocation

MAX_SKUS = 90  # policies one event changes: its claims on them go in one transaction


@dataclass(frozen=True)
class LiveRow:
    sku: str
    allocated: int
    held: int
    sold: int
    left: int


class LiveEvents:
    def __init__(
        self,
        stock: StockStore,
        pushes: PushStore,
        live: LiveStore,
        sync: SyncService,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.stock = stock
        self.pushes = pushes
        self.live = live
        self.sync = sync
        self.clock = clock

    def start(
        self, event_id: str, channel: str, allocations: dict[str, int], paused: dict[str, list[str]]
    ) -> dict[str, Any]:
        """``allocations``: SKU -> units only ``channel`` sells; ``paused``: channel -> SKUs not
        pushed to it while the event runs."""
        existing = self.live.get(event_id)
        if existing is not None:
            return existing
        touched = [(channel, sku) for sku in allocations] + [(ch, sku) for ch, skus in paused.items() for sku in skus]
        self._check(touched, {channel, *paused})
        config = self.stock.channel(channel)
        for sku, units in allocations.items():
            if config is not None and units:
                refuse_over_allocation(self.stock, sku, channel, config.locations, units)
        before: dict[str, dict[str, Any]] = {}
        for name, sku in dict.fromkeys(touched):
            before[f"{name}|{sku}"] = asdict(self.pushes.push_state(sku).policies.get(name, SkuPolicy()))
        item = {
            "kind": "live_event",
            "event_id": event_id,
            "channel": channel,
            "allocations": allocations,
            "paused": paused,
            "before": before,
            "state": "running",
            "started_at": iso(self.clock()),
        }
        owner = self.live.create(item, list(dict.fromkeys(touched)))
        if owner == "exists":
            found = self.live.get(event_id)
            if found is None:
                raise Conflict("the event changed while it was started; retry")
            return found
        if owner is not None:
            raise Conflict(f"live event {owner!r} is running on some of these SKUs; end it first")
        now = self.clock()
        for sku, units in allocations.items():
            policy = SkuPolicy(**before[f"{channel}|{sku}"])
            self.pushes.save_policy(sku, channel, replace(policy, allocation=units), now)
        for name, skus in paused.items():
            for sku in skus:
                policy = self.pushes.push_state(sku).policies.get(name, SkuPolicy())
                self.pushes.save_policy(sku, name, replace(policy, auto_sync=False), now)
        return item

    def _check(self, touched: list[tuple[str, str]], channels: set[str]) -> None:
        if len(touched) > MAX_SKUS:
            raise InvalidRequest(f"an event changes at most {MAX_SKUS} SKU policies")
        for name in channels:
            if self.stock.channel(name) is None:
                raise NotFound(f"channel {name!r} is not configured")
        for _, sku in touched:
            if self.stock.catalog(sku) is None:
                raise NotFound(f"SKU {sku!r} is not in the catalog")

    def end(self, event_id: str) -> dict[str, Any]:
        event = self.live.get(event_id)
        if event is None:
            raise NotFound(f"live event {event_id!r} does not exist")
        if event["state"] != "running":
            return event
        now = self.clock()
        for key, policy in event["before"].items():  # the policies the event replaced, as they were
            name, sku = key.split("|", 1)
            self.pushes.save_policy(sku, name, SkuPolicy(**policy), now)
        for name, skus in event["paused"].items():  # pushes resume: bring the channel in line now
            if skus:
                self.sync.start(name, list(skus))
        self.live.end(event_id, iso(now))
        self.live.release([(key.split("|", 1)[0], key.split("|", 1)[1]) for key in event["before"]])
        return self.live.get(event_id) or event

    def board(self, event_id: str) -> tuple[dict[str, Any], list[LiveRow]]:
        """The event and, per SKU it touches: units allocated, held in the channel's carts now,
        checked out in them since the event started (sold), and available to the channel now."""
        event = self.get(event_id)
        channel = self.stock.channel(event["channel"])
        locations = list(channel.locations) if channel else []
        skus = sorted(set(event["allocations"]) | {sku for chosen in event["paused"].values() for sku in chosen})
        states = self.pushes.push_states(skus, policies_of=[], pushed_to=[], locations=locations)
        until = event.get("ended_at") or "~"
        rows = []
        for sku in skus:
            state = states[sku]
            sold = sum(
                movement.after.pending - movement.before.pending
                for movement in self.stock.movements_between(sku, event["started_at"], until, limit=None)
                if movement.kind is MovementKind.CHECKOUT and movement.source == event["channel"]
            )
            held = state.own_holds(event["channel"], tuple(locations))
            left = sum(state.levels.get(location, 0) for location in locations)
            rows.append(LiveRow(sku, event["allocations"].get(sku, 0), held, sold, left))
        return event, rows

    def get(self, event_id: str) -> dict[str, Any]:
        event = self.live.get(event_id)
        if event is None:
            raise NotFound(f"live event {event_id!r} does not exist")
        return event
