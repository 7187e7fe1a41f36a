"""The push engine: make every channel show what the ledger lets it sell, and never more.

- Coalesced: a batch computes each SKU's value once per channel from the current state (so
  only the newest value goes out), skips values equal to the last pushed one, and sends many
  SKUs per call (up to the port's ``max_batch``).
- Every write is a compare-and-set against what the channel is believed to show: the value
  last pushed, or the value just read. So a sale on the channel that the ledger has not seen
  yet is never overwritten.
- Lowering is immediate: when a lowering write finds the channel moved, the channel is read
  and set to the lower of the two at once.
- Raising needs proof: when the channel's number moved on its own (a sale whose webhook is on
  its way, an edit in the shop's admin), a raise waits. It is decided once the grace window
  has passed (the channel's own events have had time to reach the ledger): then the ledger,
  which is the master where the channel is not, wins.
- Forced pushes (Sync Now, reconcile) do not trust the value last pushed: they read the
  channel first, then the ledger's state, so a sale in between cannot be pushed over.
- Every attempt lands in the sync history, before the call ("sending") and after, so a push
  that died half-way is found by the reconcile schedule. The value pushed is kept per SKU and
  channel (with its listing), so echoes are recognised.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from omnistock.channels import ChannelPort, ChannelUnavailable, QuantityWrite
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.models import SHADOW, Channel, SyncEntry
from omnistock.policy import ChannelDefaults, sellable, why_shown
from omnistock.store.preview_store import PreviewLine
from omnistock.store.push_store import Pushed, PushState, PushStore

GRACE = timedelta(minutes=2)  # time for a channel's own events to reach the ledger (PushRaiseGraceSeconds)


@dataclass(frozen=True)
class Target:
    sku: str
    listing_id: str
    quantity: int
    pushed: Pushed | None  # None: never pushed for this listing (or not trusted: forced)
    fingerprint: str
    carts: int = 0  # shelf channels: units in its own carts (its reads leave them out; writes count them)


@dataclass
class PushReport:
    calls: int = 0
    applied: int = 0
    deferred: int = 0
    failed: int = 0
    unavailable: list[str] = field(default_factory=list)  # channels that failed as a whole
    backlog: int = 0  # reconcile: marked SKUs left for the next pass (it ran out of time)

    def add(self, other: PushReport) -> None:
        self.calls += other.calls
        self.applied += other.applied
        self.deferred += other.deferred
        self.failed += other.failed
        self.unavailable += [name for name in other.unavailable if name not in self.unavailable]


def targets(channel: Channel, states: Iterable[PushState], force: bool = False, shelf: bool = False) -> list[Target]:
    """What may have to change on ``channel``: SKUs listed there whose sellable value differs
    from the value last pushed for that listing (or, forced, every listed SKU). ``shelf``: the
    channel is told its shelf, which counts the units in its own carts (its own number leaves
    them out already; see channels.ChannelPort.writes_shelf)."""
    defaults = ChannelDefaults(channel.buffer, channel.max_shown, channel.auto_sync)
    found = []
    for state in states:
        listing_id = state.catalog.listings.get(channel.name) if state.catalog else None
        if not listing_id:
            continue
        quantity = sellable(channel.name, state.levels, channel.locations, defaults, state.policies)
        carts = state.own_holds(channel.name, channel.locations) if shelf else 0
        if quantity is not None:
            quantity += carts
        pushed = state.pushed.get(channel.name)
        if pushed is not None and pushed.listing_id not in ("", listing_id):
            pushed = None  # the SKU moved to another listing: what the old one shows says nothing
        if quantity is None or (not force and pushed is not None and pushed.quantity == quantity):
            continue
        found.append(Target(state.sku, listing_id, quantity, pushed, state.fingerprint, carts))
    return found


def attempt_key(channel: str, writes: list[QuantityWrite], fingerprints: list[str]) -> str:
    """The same writes from the same ledger state get the same key, so a retried batch (a
    Lambda retry, a redelivered record) is applied once; a later write of the same numbers
    comes from a later state, gets a new key, and is not mistaken for a replay."""
    body = json.dumps(
        [channel, [(w.listing_id, w.location_id, w.quantity, w.change_from) for w in writes], fingerprints]
    )
    return hashlib.sha256(body.encode()).hexdigest()[:32]


@dataclass
class _Planned:
    target: Target
    before: int | None  # what the channel shows (read) or was last made to show
    write: QuantityWrite


class PushEngine:
    def __init__(
        self,
        store: PushStore,
        channels: Callable[[], list[Channel]],
        port_for: Callable[[Channel], ChannelPort | None],
        clock: Callable[[], datetime] = utc_now,
        grace: timedelta = GRACE,
    ) -> None:
        self.store = store
        self.channels = channels
        self.port_for = port_for
        self.clock = clock
        self.grace = grace

    def push(
        self,
        skus: Iterable[str],
        why: str,
        *,
        force: bool = False,
        channel: str | None = None,
        changed_at: Mapping[str, float] | None = None,
    ) -> PushReport:
        """Push what changed for ``skus`` to every pushed channel (or just ``channel``);
        ``changed_at``: when each SKU's change was written (epoch seconds), to record how long
        the channel waited."""
        chosen = list(dict.fromkeys(skus))
        report = PushReport()
        every = self.channels()
        configs = [c for c in every if c.pushed and channel in (None, c.name)]  # never a channel in shadow
        if not force:  # a channel in shadow is not written; what moved is verified once it is live
            for shadow in (c for c in every if c.mode == SHADOW and c.platform and channel in (None, c.name)):
                self.store.mark(shadow.name, chosen, self.clock())
        ports = {c.name: port for c in configs if (port := self.port_for(c)) is not None}
        if not chosen or not ports:
            return report
        pushed = [c for c in configs if c.name in ports]
        # Forced, each channel reads its own state after reading the channel: here only the listings.
        states = self.store.catalog_states(chosen) if force else _StateReader(self.store, every, pushed).read(chosen)
        for config in pushed:
            reader = _StateReader(self.store, every, [config])
            push = _ChannelPush(self, config, ports[config.name], why, report, reader, changed_at or {})
            push.run(list(states.values()), force)
        return report

    def preview(self, skus: list[str], channel: str) -> list[PreviewLine]:
        """What a push of ``skus`` would change on ``channel``, writing nothing there: every
        listed SKU whose channel number differs from what would be set, and every SKU without a
        listing for it ("unmapped"). One channel read per 250 listings, like a forced push."""
        every = self.channels()
        config = next((c for c in every if c.name == channel and c.platform and c.target_location), None)
        port = self.port_for(config) if config is not None else None
        if config is None or port is None:
            return []
        catalogs = self.store.catalog_states(skus)
        listed = {
            sku: state.catalog.listings[channel]
            for sku, state in catalogs.items()
            if state.catalog is not None and state.catalog.listings.get(channel)
        }
        lines = [
            PreviewLine(sku, "", None, None, ("unmapped",))
            for sku, state in catalogs.items()
            if state.catalog is not None and sku not in listed
        ]
        location = config.target_location
        shown = port.read_quantities([(listing, location) for listing in listed.values()]) if listed else {}
        states = _StateReader(self.store, every, [config]).read(list(listed), {sku: catalogs[sku] for sku in listed})
        defaults = ChannelDefaults(config.buffer, config.max_shown, config.auto_sync)
        for sku, listing in listed.items():
            state = states[sku]
            would = sellable(channel, state.levels, config.locations, defaults, state.policies)
            current = shown.get((listing, location))
            if would is None or current == would:
                continue  # auto sync off (nothing would be pushed), or already right
            if current is None:
                lines.append(PreviewLine(sku, listing, None, would, ("unmapped",)))  # unknown on the channel
                continue
            reasons = why_shown(channel, state.levels, config.locations, defaults, state.policies, current)
            lines.append(PreviewLine(sku, listing, current, would, reasons))
        return sorted(lines, key=lambda line: line.sku)


@dataclass(frozen=True)
class _StateReader:
    """Reads push states in batches: the levels at the pushed channels' locations, their
    pushed values, and every configured channel's policy (another channel's allocation
    reserves units)."""

    store: PushStore
    every: list[Channel]
    pushed: list[Channel]

    def read(self, skus: list[str], catalogs: dict[str, PushState] | None = None) -> dict[str, PushState]:
        return self.store.push_states(
            skus,
            policies_of=sorted({config.name for config in [*self.every, *self.pushed]}),
            pushed_to=[config.name for config in self.pushed],
            locations=sorted({location for config in self.pushed for location in config.locations}),
            catalogs=catalogs,
        )


class _ChannelPush:
    """One channel's share of a push: plan, write in batches, record."""

    def __init__(
        self,
        engine: PushEngine,
        channel: Channel,
        port: ChannelPort,
        why: str,
        report: PushReport,
        states: _StateReader,
        changed_at: Mapping[str, float],
    ) -> None:
        self.engine = engine
        self.states = states
        self.channel = channel
        self.port = port
        self.why = why
        self.report = report
        self.pushed: dict[tuple[str, str], Pushed] = {}
        self.entries: list[SyncEntry] = []
        self.shelf = bool(getattr(port, "writes_shelf", False))
        self.changed_at = changed_at

    def run(self, states: list[PushState], force: bool) -> None:
        """Forced: ``states`` need only hold catalog entries. The channel is read first, then
        the ledger, so a sale in between cannot be pushed over."""
        location = self.channel.target_location
        found: list[Target] = []
        catalogs: dict[str, PushState] | None = None
        if force:
            listed = [s for s in states if s.catalog and s.catalog.listings.get(self.channel.name)]
            unknown = [(s.catalog.listings[self.channel.name], location) for s in listed if s.catalog]
            reread = [s.sku for s in listed]
            catalogs = {s.sku: s for s in listed}  # the listings just read: the channel was read for them
        else:
            found = targets(self.channel, states, False, self.shelf)
            unknown = [(t.listing_id, location) for t in found if t.pushed is None]
            reread = [t.sku for t in found if t.pushed is None]  # the rest compare with what was pushed
        if not unknown and not found:
            return
        try:
            shown = self._read(unknown)
            if unknown:
                found = [t for t in found if t.pushed is not None and not force] + self._targets(
                    reread, force, catalogs
                )
            planned = [p for t in found if (p := self._plan(t, shown)) is not None]
            for start in range(0, len(planned), self.port.max_batch):
                self._send(planned[start : start + self.port.max_batch])
        except ChannelUnavailable as error:
            if force and not found:  # the channel could not be read: what was to be pushed
                found = self._targets(reread, force, catalogs)
            done = {entry.sku for entry in self.entries}
            failed = [t for t in found if t.sku not in done]
            self.report.failed += len(failed)
            self.entries += [self._entry(t, "", None, "failed", str(error)) for t in failed]
        finally:
            self.engine.store.record_pushed(self.pushed)
            self.engine.store.record_sync(self.entries, self.engine.clock())

    def _targets(self, skus: list[str], force: bool, catalogs: dict[str, PushState] | None) -> list[Target]:
        return targets(self.channel, list(self.states.read(skus, catalogs).values()), force, self.shelf)

    def _read(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        if not items:
            return {}
        self.report.calls += 1
        try:
            return self.port.read_quantities(items)
        except ChannelUnavailable:
            self.report.unavailable.append(self.channel.name)
            raise

    def _plan(self, target: Target, shown: dict[tuple[str, str], int]) -> _Planned | None:
        key = (target.listing_id, self.channel.target_location)
        read = shown.get(key)
        if read is not None:
            read += target.carts  # a shelf channel reads what it may sell: its shelf adds its carts
        last = target.pushed.quantity if target.pushed else None
        before = read if key in shown or last is None else last
        if before == target.quantity:  # the channel already shows it: remember, write nothing
            self._remember(target, target.quantity, None)
            return None
        raising = before is not None and target.quantity > before
        moved_on_its_own = read is not None and last is not None and read != last
        waiting = target.pushed is not None and target.pushed.deferred_since is not None
        if raising and (moved_on_its_own or waiting) and not self._grace_over(target, self.engine.clock()):
            self._defer(target, before, read)
            return None
        write = QuantityWrite(target.listing_id, self.channel.target_location, target.quantity, before)
        return _Planned(target, before, write)

    def _send(self, batch: list[_Planned]) -> None:
        writes = [p.write for p in batch]
        key = attempt_key(self.channel.name, writes, [p.target.fingerprint for p in batch])
        self.engine.store.record_sync(
            [self._entry(p.target, key, p.before, "sending") for p in batch], self.engine.clock()
        )
        self.report.calls += 1
        try:
            outcomes = self.port.set_quantities(writes, key)
        except ChannelUnavailable as error:
            self.report.unavailable.append(self.channel.name)
            self.report.failed += len(batch)
            self.entries += [self._entry(p.target, key, p.before, "failed", str(error)) for p in batch]
            return
        lowered_over_a_sale = []
        for planned, outcome in zip(batch, outcomes, strict=True):
            target = planned.target
            if outcome.applied:
                self.report.applied += 1
                self._remember(target, target.quantity, None)
                self.entries.append(self._entry(target, key, planned.before, "applied"))
            elif outcome.stale and planned.before is not None and target.quantity < planned.before:
                lowered_over_a_sale.append(target)
            elif outcome.stale:
                self._defer(target, planned.before, None)
            else:
                self.report.failed += 1
                reason = outcome.error or "held back: another item in the call was refused"
                self.entries.append(self._entry(target, key, planned.before, "failed", reason))
        if lowered_over_a_sale:
            self._lower_now(lowered_over_a_sale)  # may raise ChannelUnavailable: run() records it

    def _lower_now(self, lowered: list[Target]) -> None:
        """A lowering found the channel moved: read it and set the lower of the two now."""
        shown = self._read([(t.listing_id, self.channel.target_location) for t in lowered])
        retry = []
        for target in lowered:
            current = shown.get((target.listing_id, self.channel.target_location))
            if current is not None:
                current += target.carts
            if current == target.quantity:  # the channel's own sale brought it where the ledger wants it
                self._remember(target, current, None)
                note = "the channel already showed it (its own sale)"
                self.entries.append(self._entry(target, "", current, "applied", note))
            elif current is not None and current < target.quantity:
                self._defer(target, current, current)  # the channel already shows less: wait for its events
            else:
                write = QuantityWrite(target.listing_id, self.channel.target_location, target.quantity, current)
                retry.append(_Planned(target, current, write))
        if retry:
            self._send(retry)

    def _grace_over(self, target: Target, now: datetime) -> bool:
        since = target.pushed.deferred_since if target.pushed else None
        return since is not None and now - parse_iso(since) >= self.engine.grace

    def _defer(self, target: Target, before: int | None, shown: int | None) -> None:
        """Leave the channel's number alone for now; the reconcile schedule decides after the grace window."""
        self.report.deferred += 1
        previous = target.pushed
        since = previous.deferred_since if previous and previous.deferred_since else iso(self.engine.clock())
        quantity = shown if shown is not None else (previous.quantity if previous else target.quantity)
        self.pushed[(target.sku, self.channel.name)] = Pushed(
            quantity, previous.at if previous else since, target.listing_id, since
        )
        note = "the channel's number moved on its own; the raise waits for its events (reconcile decides)"
        self.entries.append(self._entry(target, "", before, "deferred", note))

    def _remember(self, target: Target, quantity: int, deferred_since: str | None) -> None:
        kept = target.pushed
        if kept and (kept.quantity, kept.listing_id, kept.deferred_since) == (
            quantity,
            target.listing_id,
            deferred_since,
        ):
            return  # verified as it was: nothing to write
        at = iso(self.engine.clock())
        self.pushed[(target.sku, self.channel.name)] = Pushed(quantity, at, target.listing_id, deferred_since)

    def _entry(self, target: Target, attempt: str, before: int | None, result: str, error: str = "") -> SyncEntry:
        return SyncEntry(
            sku=target.sku,
            channel=self.channel.name,
            attempt=attempt,
            at=iso(self.engine.clock()),
            before=before,
            after=target.quantity,
            why=self.why,
            result=result,
            error=error,
            waited_ms=self._waited_ms(target.sku, result),
        )

    def _waited_ms(self, sku: str, result: str) -> int | None:
        written = self.changed_at.get(sku)
        if written is None or result != "applied":
            return None
        return max(0, round((self.engine.clock().timestamp() - written) * 1000))
