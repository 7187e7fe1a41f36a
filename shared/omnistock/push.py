"""The push engine: make every channel show what the ledger lets it sell.

- Coalesced: a batch computes each SKU's value once per channel from the current state (so
  only the newest value goes out), skips values equal to the last pushed one, and sends many
  SKUs per call (up to the port's ``max_batch``).
- Lowering is immediate (an unconditional set); raising needs proof: a compare-and-set
  against the value last pushed. When the channel's value moved on its own (a sale whose
  webhook has not arrived, a manual edit), the raise is not forced: it is deferred and
  recorded, and the channel's own events or the reconcile schedule settle it.
- A first push reads the channel's current value to know which of the two it is.
- Every attempt lands in the sync history; the value pushed is kept, so echoes are recognised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from omnistock.channels import ChannelPort, ChannelUnavailable, QuantityWrite
from omnistock.clock import iso, utc_now
from omnistock.models import Channel
from omnistock.policy import ChannelDefaults, sellable
from omnistock.store.push_store import PushState, PushStore, SyncEntry


@dataclass(frozen=True)
class Target:
    sku: str
    listing_id: str
    quantity: int
    last_pushed: int | None


@dataclass
class PushReport:
    calls: int = 0
    applied: int = 0
    deferred: int = 0
    failed: int = 0
    unavailable: list[str] = field(default_factory=list)  # channels that failed as a whole


def targets(channel: Channel, states: Iterable[PushState], force: bool = False) -> list[Target]:
    """What must change on ``channel``: SKUs listed there whose sellable value differs from
    the value last pushed (or was never pushed). Forced (Sync Now, reconcile), every listed
    SKU is a target and the value last pushed is not trusted: the channel's is read."""
    defaults = ChannelDefaults(channel.buffer, channel.max_shown, channel.auto_sync)
    found = []
    for state in states:
        listing_id = state.catalog.listings.get(channel.name) if state.catalog else None
        if not listing_id:
            continue
        quantity = sellable(channel.name, state.levels, channel.locations, defaults, state.policies)
        last = None if force else state.pushed.get(channel.name)
        if quantity is None or (last is not None and last.quantity == quantity):
            continue
        found.append(Target(state.sku, listing_id, quantity, last.quantity if last else None))
    return found


def attempt_key(channel: str, writes: list[QuantityWrite]) -> str:
    """The same writes to the same channel get the same key, so a retried batch (a Lambda
    retry, a redelivered stream record) is recognised by the channel and applied once."""
    body = json.dumps([channel, [(w.listing_id, w.location_id, w.quantity, w.change_from) for w in writes]])
    return hashlib.sha256(body.encode()).hexdigest()[:32]


class PushEngine:
    def __init__(
        self,
        store: PushStore,
        channels: Callable[[], list[Channel]],
        port_for: Callable[[Channel], ChannelPort | None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.store = store
        self.channels = channels
        self.port_for = port_for
        self.clock = clock

    def push(self, skus: Iterable[str], why: str, *, force: bool = False, channel: str | None = None) -> PushReport:
        """Push what changed for ``skus`` to every pushed channel (or just ``channel``)."""
        report = PushReport()
        states = [self.store.push_state(sku) for sku in dict.fromkeys(skus)]
        entries: list[SyncEntry] = []
        pushed: dict[tuple[str, str], int] = {}
        for config in self.channels():
            port = self.port_for(config) if config.platform and channel in (None, config.name) else None
            if port is None:
                continue
            found = targets(config, states, force)
            if found:
                self._push_channel(config, port, found, why, report, entries, pushed)
        now = self.clock()
        self.store.record_pushed(pushed, now)
        self.store.record_sync(entries, now)
        return report

    def _push_channel(
        self,
        channel: Channel,
        port: ChannelPort,
        found: list[Target],
        why: str,
        report: PushReport,
        entries: list[SyncEntry],
        pushed: dict[tuple[str, str], int],
    ) -> None:
        location = channel.target_location
        unknown = [(t.listing_id, location) for t in found if t.last_pushed is None]
        try:
            current = port.read_quantities(unknown) if unknown else {}
            report.calls += 1 if unknown else 0
        except ChannelUnavailable as error:
            report.unavailable.append(channel.name)
            entries += [self._entry(t, channel, "", None, why, "failed", str(error)) for t in found]
            report.failed += len(found)
            return
        planned: list[tuple[Target, int | None, QuantityWrite]] = []
        for target in found:
            before = (
                target.last_pushed if target.last_pushed is not None else current.get((target.listing_id, location))
            )
            if before == target.quantity:  # the channel already shows it: remember, write nothing
                pushed[(target.sku, channel.name)] = target.quantity
                continue
            lowering = before is not None and target.quantity < before
            write = QuantityWrite(target.listing_id, location, target.quantity, None if lowering else before)
            planned.append((target, before, write))
        for start in range(0, len(planned), port.max_batch):
            chunk = planned[start : start + port.max_batch]
            writes = [write for _, _, write in chunk]
            key = attempt_key(channel.name, writes)
            report.calls += 1
            try:
                outcomes = port.set_quantities(writes, key)
            except ChannelUnavailable as error:
                report.unavailable.append(channel.name)
                report.failed += len(chunk)
                entries += [self._entry(t, channel, key, before, why, "failed", str(error)) for t, before, _ in chunk]
                continue
            for (target, before, _), outcome in zip(chunk, outcomes, strict=True):
                if outcome.applied:
                    report.applied += 1
                    pushed[(target.sku, channel.name)] = target.quantity
                    entries.append(self._entry(target, channel, key, before, why, "applied"))
                elif outcome.stale:
                    report.deferred += 1
                    note = "the channel's value moved on its own; raise deferred to its events or reconcile"
                    entries.append(self._entry(target, channel, key, before, why, "deferred", note))
                else:
                    report.failed += 1
                    entries.append(self._entry(target, channel, key, before, why, "failed", outcome.error))

    def _entry(
        self,
        target: Target,
        channel: Channel,
        attempt: str,
        before: int | None,
        why: str,
        result: str,
        error: str = "",
    ) -> SyncEntry:
        return SyncEntry(
            sku=target.sku,
            channel=channel.name,
            attempt=attempt,
            at=iso(self.clock()),
            before=before,
            after=target.quantity,
            why=why,
            result=result,
            error=error,
        )
