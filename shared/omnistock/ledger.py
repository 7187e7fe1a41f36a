"""The ledger: where availability is decided.

Per SKU and location: ``available = on_hand - held - pending``.

- ``on_hand`` is the master's last count (absolute, ordered by the master's version).
- ``held`` is units in live carts (holds) that have not ended.
- ``pending`` is units sold through channels and not yet in a master count; each sale is a
  lot that stays pending until a count at or after the version in which the master itself
  applied the sale arrives, so a stale count never brings sold units back.

Holds and sales never take ``available`` below zero: the store's conditional write refuses
them atomically. Only reports of physical truth (a master count, a manual adjustment) can
show a shortfall: units promised that are not on the shelf, which channels see as zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from omnistock.clock import epoch_seconds_after, iso, parse_iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound, StoreUnavailable
from omnistock.models import (
    LIVE,
    MAX_VERSION,
    CatalogEntry,
    Cause,
    Channel,
    Hold,
    HoldResult,
    HoldState,
    Lot,
    Movement,
    MovementKind,
    Outcome,
    ParkedCount,
    StockExplained,
    StockLevel,
    StockResult,
)
from omnistock.store.catalog_index import CatalogIndex
from omnistock.store.stock_store import (
    DUE_PAGE,
    MAX_LOTS_PER_WRITE,
    Moved,
    StockStore,
    check_same_request,
    request_fingerprint,
)

# A count or confirmation that loses a race re-applies to the item the failed write returned;
# beyond this many rounds the caller gets a retryable error.
_OPTIMISTIC_ROUNDS = 12
MAX_HOLD = timedelta(days=7)
PARKED_DAYS = 30  # a count for a SKU never added to the catalog is forgotten after this


@dataclass(frozen=True)
class ChannelAvailability:
    channel: str
    sku: str
    available: int
    by_location: dict[str, int]


# A sweep that stops for time counts the due holds it leaves up to this many (a bounded read).
LEFT_DUE_COUNTED_UP_TO = 1000


@dataclass(frozen=True)
class SweepReport:
    expired: int
    already_ended: int
    left_due: int = 0  # due holds left for the next run (counted up to LEFT_DUE_COUNTED_UP_TO)


def apply_count(
    current: StockLevel | None,
    sku: str,
    location: str,
    on_hand: int,
    version: int,
    as_of: str,
    now: datetime,
    max_cleared: int | None = None,
    *,
    reset: bool = False,
) -> tuple[StockLevel, list[str]] | None:
    """The stock level after a master count, and the pending lots it clears (at most
    ``max_cleared``: the rest clear right after); None if stale (never with ``reset``)."""
    if not reset and current is not None and current.master_version is not None and version <= current.master_version:
        return None
    base = current or StockLevel(sku=sku, location=location)
    cleared = [
        key for key, lot in base.lots.items() if lot.applied_version is not None and lot.applied_version <= version
    ][:max_cleared]
    pending = base.pending - sum(base.lots[key].qty for key in cleared)
    level = replace(
        base,
        on_hand=on_hand,
        pending=pending,
        available=on_hand - base.held - pending,
        master_version=version,
        master_at=as_of,
        lots={key: lot for key, lot in base.lots.items() if key not in cleared},
        updated_at=iso(now),
    )
    return level, cleared


@dataclass(frozen=True)
class InventoryPage:
    rows: list[tuple[CatalogEntry, list[StockLevel]]]
    last: bool
    items_read: int  # index entries and levels read for the page
    queries: int
    cursor: str | None = None  # where the next page starts, if not after the last row's SKU


class Ledger:
    def __init__(
        self,
        store: StockStore,
        *,
        clock: Callable[[], datetime] = utc_now,
        default_hold: timedelta | Callable[[], timedelta] = timedelta(minutes=15),
        registered_locations: Callable[[], set[str]] = set,
    ) -> None:
        self.store = store
        self.clock = clock
        self._default_hold = default_hold  # a setting: read when a hold is placed
        # Locations known besides those channels sell from (a setting, and the POS's outlets).
        self.registered_locations = registered_locations

    @property
    def default_hold(self) -> timedelta:
        hold = self._default_hold
        return hold if isinstance(hold, timedelta) else hold()

    # ================================================================ catalog and channels
    def upsert_catalog(
        self,
        sku: str,
        locations: list[str],
        listings: dict[str, str],
        title: str = "",
        *,
        allow_drop: bool = True,
        dropping: frozenset[str] = frozenset(),
        entry_way: str = "manual",
    ) -> CatalogEntry:
        """Save the SKU's entry as given (a replace). ``allow_drop=False`` (the admin API's
        default) refuses, with a Conflict saying what would be lost, to drop a channel's listing
        (the SKU would silently stop syncing there) or a location still holding stock, holds or
        pending units (they would vanish from what every channel may sell). ``dropping``:
        channels whose listing the request removes by name (a PATCH's null). ``entry_way``: how
        a new SKU entered (models.ENTRY_WAYS), which picks each channel's auto-sync rule for it."""
        if not locations:
            raise InvalidRequest("a SKU needs at least one location")
        previous = self.store.catalog(sku)
        if previous is not None and not allow_drop:
            self._refuse_losses(previous, locations, {**dict.fromkeys(dropping, ""), **listings})
        entry = CatalogEntry(
            sku=sku,
            locations=tuple(dict.fromkeys(locations)),
            listings=dict(listings),
            title=title,
            rev=previous.rev if previous else 0,
            updated_at=iso(self.clock()),
        )
        self.store.save_catalog(
            entry, previous, new_sku_policies=None if previous else self._new_sku_policies(entry_way)
        )
        self._apply_parked(entry)
        return replace(entry, rev=entry.rev + 1)

    def park_count(self, count: ParkedCount) -> bool:
        """Keep a master count whose SKU is not in the catalog at its location yet (the newest
        version kept): applied once it is."""
        return self.store.park_count(count, epoch_seconds_after(self.clock(), PARKED_DAYS))

    def _apply_parked(self, entry: CatalogEntry) -> None:
        """Counts that arrived before the SKU was in the catalog at their location, applied
        now by their version like any count (a newer count applied since wins)."""
        for parked in self.store.parked_counts(entry.sku):
            if parked.location in entry.locations:
                self.report_count(
                    parked.sku, parked.location, parked.on_hand, parked.version, parked.source, parked.event_id
                )
                self.store.unpark(parked)

    def patch_catalog(
        self,
        sku: str,
        *,
        locations: list[str] | None = None,
        listings: dict[str, str | None] | None = None,
        title: str | None = None,
        allow_drop: bool = False,
    ) -> CatalogEntry:
        """Change only what is given: listings are merged (a null removes that channel's: the
        request says so), locations replaced (dropping one with units needs ``allow_drop``)."""
        previous = self.store.catalog(sku)
        if previous is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog; create it with PUT")
        merged = dict(previous.listings)
        for channel, listing_id in (listings or {}).items():
            if listing_id is None:
                merged.pop(channel, None)
            else:
                merged[channel] = listing_id
        return self.upsert_catalog(
            sku,
            list(previous.locations) if locations is None else locations,
            merged,
            previous.title if title is None else title,
            allow_drop=allow_drop,
            dropping=frozenset(channel for channel, listing_id in (listings or {}).items() if listing_id is None),
        )

    def _refuse_losses(self, previous: CatalogEntry, locations: list[str], listings: dict[str, str]) -> None:
        lost = [
            f"its {channel} listing {listing_id!r}"
            for channel, listing_id in previous.listings.items()
            if channel not in listings
        ]
        dropped = set(previous.locations) - set(locations)
        if dropped:
            for level in self.store.stock_levels(previous.sku):
                if level.location in dropped and (level.on_hand or level.held or level.pending):
                    lost.append(
                        f"location {level.location!r} with {level.on_hand} on hand, {level.held} held, "
                        f"{level.pending} pending"
                    )
        if lost:
            raise Conflict(
                f"saving SKU {previous.sku!r} this way would drop "
                + "; ".join(lost)
                + ": send allow_drop true to mean it, or change only some fields with PATCH"
            )

    def _new_sku_policies(self, entry_way: str) -> dict[str, bool]:
        """Each pushed channel's rule for new SKUs that enter this way, frozen into the SKU's own
        policy, so a later change of the rule does not change SKUs that already exist."""
        return {c.name: c.auto_sync_for(entry_way) for c in self.store.channels() if c.platform}

    def set_channel(
        self,
        name: str,
        locations: list[str],
        *,
        platform: str = "",
        target_location: str = "",
        buffer: int = 0,
        max_shown: int | None = None,
        auto_sync: bool = True,
        master_location: str = "",
        new_mode: str = LIVE,
        entry_rules: dict[str, bool] | None = None,
    ) -> Channel:
        """Save a channel's settings. A new one starts in ``new_mode`` (the admin API: shadow,
        read and previewed, never written until it goes live); an existing one keeps its mode."""
        if not locations:
            raise InvalidRequest("a channel sells from at least one location")
        self._refuse_unknown_locations(name, locations)
        from omnistock.channels import registry as platforms  # here: the intakes' cold start skips it

        known = platforms.platform(platform)
        if known is not None and known.nominal_location and not target_location:
            target_location = known.nominal_location
        if master_location and (list(dict.fromkeys(locations)) != [master_location] or not target_location):
            # Its number is then that location's alone, so it can be read back as a count.
            raise InvalidRequest("a channel that is master of a location sells from that location alone")
        if known is not None and known.one_per_stack:
            other = next((c.name for c in self.store.channels() if c.platform == platform and c.name != name), None)
            if other is not None:  # its webhooks and polls serve one channel: a second would take them over
                raise Conflict(f"channel {other!r} is this stack's {platform} channel already")
        channel = Channel(
            name=name,
            locations=tuple(dict.fromkeys(locations)),
            platform=platform,
            target_location=target_location,
            buffer=buffer,
            max_shown=max_shown,
            auto_sync=auto_sync,
            updated_at=iso(self.clock()),
            master_location=master_location,
            mode=existing.mode if (existing := self.store.channel(name)) is not None else new_mode,
            entry_rules=dict(entry_rules or {}),
        )
        self.store.save_channel(channel)
        return channel

    def _refuse_unknown_locations(self, name: str, locations: list[str]) -> None:
        """A location no channel sells from, no outlet counts and nobody registered is a typo
        until said otherwise (the first channel of a stack names its locations freely)."""
        known = {loc for channel in self.store.channels() if channel.name != name for loc in channel.locations}
        known |= self.registered_locations()
        existing = self.store.channel(name)
        known |= set(existing.locations) if existing else set()
        unknown = [location for location in locations if location not in known]
        if known and unknown:
            raise InvalidRequest(
                f"unknown location {', '.join(map(repr, unknown))}: known are {', '.join(sorted(known))}; "
                "a new one is added to the ledger.locations setting first (PUT /settings/ledger.locations)"
            )

    # ================================================================ reading
    def explain(self, sku: str, movement_limit: int = 20) -> StockExplained:
        catalog = self._catalog(sku)
        levels = tuple(sorted(self.store.stock_levels(sku), key=lambda level: level.location))
        movements = tuple(self.store.recent_movements(sku, movement_limit)) if movement_limit else ()
        return StockExplained(catalog=catalog, levels=levels, movements=movements)

    def inventory(self, prefix: str, after: str, limit: int) -> InventoryPage:
        """A page of the catalog in SKU order (those starting with ``prefix``, after ``after``),
        each SKU with its levels: the index's page, then its levels in one batch."""
        page = CatalogIndex(self.store.table).page(prefix, after, limit)
        pairs = [(entry.sku, location) for entry in page.entries for location in entry.locations]
        levels = self.store.levels_at(pairs)
        rows = [
            (entry, [levels[(entry.sku, loc)] for loc in entry.locations if (entry.sku, loc) in levels])
            for entry in page.entries
        ]
        return InventoryPage(rows, page.last, page.items_read + len(levels), page.queries)

    def movements(self, sku: str, limit: int) -> list[Movement]:
        self._catalog(sku)
        return self.store.recent_movements(sku, limit)

    def channel_available(self, channel_name: str, sku: str) -> ChannelAvailability:
        """What the ledger lets a channel sell: available summed over the channel's locations.

        A shortfall at one location reduces the total: units promised there will be
        fulfilled from the others.
        """
        channel = self.store.channel(channel_name)
        if channel is None:
            raise NotFound(f"channel {channel_name!r} is not configured")
        catalog = self._catalog(sku)
        levels = {level.location: level.available for level in self.store.stock_levels(sku)}
        by_location = {loc: levels.get(loc, 0) for loc in channel.locations if loc in catalog.locations}
        return ChannelAvailability(channel_name, sku, max(0, sum(by_location.values())), by_location)

    def hold(self, hold_id: str) -> Hold:
        hold = self.store.hold(hold_id)
        if hold is None:
            raise NotFound(f"hold {hold_id!r} does not exist")
        return hold

    # ================================================================ master counts
    def report_count(
        self,
        sku: str,
        location: str,
        on_hand: int,
        version: int,
        source: str,
        event_id: str,
        as_of: str | None = None,
        *,
        reset_version: bool = False,
    ) -> StockResult:
        """Apply the master's absolute count unless a newer one was applied already. With
        ``reset_version`` (an operator's correction) it applies whatever version was applied
        before, and its version becomes the master's: the way back from a version set by mistake."""
        _require(on_hand >= 0, "on_hand must be zero or more")
        note = "master version reset" if reset_version else ""
        cause = Cause(source, event_id, MovementKind.COUNT, note)
        return self._count(sku, location, lambda _: on_hand, version, cause, as_of, reset=reset_version)

    def report_channel_level(
        self,
        sku: str,
        channel: Channel,
        shown: int,
        version: int,
        event_id: str,
        as_of: str | None = None,
        *,
        withheld: int | None = 0,
    ) -> StockResult:
        """A platform that is master of ``channel.master_location`` (its only location) reports
        what it shows there. What it shows is what Omnistock let it sell, moved by whatever
        happened on the platform: so the count is that number plus what Omnistock kept off it
        (``withheld``: buffer and other channels' allocations; units held in carts; units
        pending from other sources). ``withheld`` None: Omnistock does not push this SKU there,
        so the number is the platform's own count as it is. The platform's own orders up to
        ``version`` are in its number: their lots (sold at a version at or below it) clear, as
        with any master count."""
        location = channel.master_location
        own_lots = f"{channel.name}:order:"

        def on_hand(current: StockLevel | None) -> int:
            if current is None or withheld is None:
                return max(0, shown)
            others = sum(lot.qty for key, lot in current.lots.items() if not key.startswith(own_lots))
            return max(0, shown + withheld + current.held + others)

        cause = Cause(channel.name, event_id, MovementKind.COUNT, "the platform's own count")
        return self._count(sku, location, on_hand, version, cause, as_of)

    def _count(
        self,
        sku: str,
        location: str,
        on_hand_of: Callable[[StockLevel | None], int],
        version: int,
        cause: Cause,
        as_of: str | None,
        *,
        reset: bool = False,
    ) -> StockResult:
        _require(0 <= version <= MAX_VERSION, f"version must be from 0 to {MAX_VERSION}")
        now = self.clock()
        reported_at = as_of or iso(now)
        for _ in range(_OPTIMISTIC_ROUNDS):
            current = self.store.stock(sku, location)
            stale = current is not None and current.master_version is not None and version <= current.master_version
            if stale and not reset:
                return StockResult(Outcome.STALE, current, "a count of this version or newer was applied")
            current = self.store.with_lots(current) if current is not None else None
            on_hand = on_hand_of(current)
            applied = apply_count(
                current, sku, location, on_hand, version, reported_at, now, MAX_LOTS_PER_WRITE, reset=reset
            )
            if applied is None:  # a newer count landed between the two reads
                continue
            level, cleared = applied
            if self.store.write_count(current, level, cleared, cause, now) is None:
                if len(cleared) < MAX_LOTS_PER_WRITE:
                    return StockResult(Outcome.APPLIED, replace(level, rev=(current.rev if current else 0) + 1))
                return StockResult(Outcome.APPLIED, self._clear_counted_lots(sku, location, cause))
        raise StoreUnavailable("the stock item kept changing; retry the count")

    def confirm_pending(
        self, sku: str, location: str, lot_key: str, applied_version: int, source: str, event_id: str
    ) -> StockResult:
        """The master applied a pending sale at ``applied_version``: a count at or after it
        includes the sale, so the lot clears then (or now, if such a count already came)."""
        self._catalog(sku)
        cause = Cause(source, event_id, MovementKind.CONFIRMATION, lot_key)
        request = request_fingerprint("confirmation", sku, location, lot_key, applied_version)
        now = self.clock()
        for _ in range(_OPTIMISTIC_ROUNDS):
            current, lot = self.store.stock(sku, location), self.store.lot(sku, location, lot_key)
            if current is None or lot is None:
                seen = self.store.event_seen(cause)
                if seen:
                    return StockResult(Outcome.DUPLICATE, current, "this confirmation was applied before")
                raise NotFound(f"no pending lot {lot_key!r} at {location!r} (never sold, or already cleared)")
            if lot.applied_version is not None and lot.applied_version <= applied_version:
                return StockResult(Outcome.DUPLICATE, current, "the lot was confirmed before")
            clear = current.master_version is not None and current.master_version >= applied_version
            if clear:
                written = self.store.clear_lots(current, {lot_key: lot}, cause, now, dedupe=True, request=request)
            else:
                written = self.store.mark_lot_applied(current, lot_key, applied_version, cause, now, request)
            if written is None:
                return StockResult(Outcome.APPLIED, None, "cleared" if clear else "awaiting a count that includes it")
            if not isinstance(written, Moved) and written.failed(len(written.codes) - 1):
                check_same_request(written.items[-1], cause, request)
                return StockResult(Outcome.DUPLICATE, current, "this confirmation was applied before")
        raise StoreUnavailable("the stock item kept changing; retry the confirmation")

    def _clear_counted_lots(self, sku: str, location: str, cause: Cause) -> StockLevel | None:
        """Clear the lots that the applied count includes and did not fit in its own write."""
        for _ in range(_OPTIMISTIC_ROUNDS * 10):
            level = self.store.stock_with_lots(sku, location)
            if level is None or level.master_version is None:
                return level
            due = {
                key: lot
                for key, lot in level.lots.items()
                if lot.applied_version is not None and lot.applied_version <= level.master_version
            }
            if not due:
                return level
            chunk = dict(list(due.items())[:MAX_LOTS_PER_WRITE])
            self.store.clear_lots(level, chunk, cause, self.clock())
        raise StoreUnavailable("the stock item kept changing; retry the count")

    # ================================================================ counted units
    def restock(self, sku: str, location: str, qty: int, source: str, event_id: str, note: str = "") -> StockResult:
        _require(qty > 0, "qty must be a positive whole number")
        cause = Cause(source, event_id, MovementKind.RESTOCK, note)
        return self.store.add_on_hand(sku, location, qty, cause, self.clock())

    def adjust(self, sku: str, location: str, delta: int, source: str, event_id: str, note: str = "") -> StockResult:
        _require(delta != 0, "delta must not be zero")
        cause = Cause(source, event_id, MovementKind.ADJUSTMENT, note)
        return self.store.add_on_hand(sku, location, delta, cause, self.clock())

    # ================================================================ sales and holds
    def sell(
        self,
        sku: str,
        location: str,
        qty: int,
        source: str,
        event_id: str,
        applied_version: int | None = None,
    ) -> StockResult:
        """A sale without a hold: its units become a pending lot keyed by the event."""
        _require(qty > 0, "qty must be a positive whole number")
        now = self.clock()
        cause = Cause(source, event_id, MovementKind.SALE)
        return self.store.sell(sku, location, qty, Lot(qty, iso(now), applied_version), cause, now)

    def place_hold(
        self,
        hold_id: str,
        sku: str,
        location: str,
        qty: int,
        source: str,
        event_id: str,
        expires_at: str | None = None,
        minutes: int | None = None,
    ) -> HoldResult:
        """Hold units for a cart; the hold id is the dedupe key, so a replay changes nothing."""
        _require(qty > 0, "qty must be a positive whole number")
        now = self.clock()
        if expires_at is not None:
            expiry = parse_iso(expires_at)
        else:
            expiry = now + (timedelta(minutes=minutes) if minutes is not None else self.default_hold)
        _require(expiry > now, "the hold would expire in the past")
        _require(expiry - now <= MAX_HOLD, "a hold lasts at most 7 days")
        hold = Hold(
            hold_id=hold_id,
            sku=sku,
            location=location,
            qty=qty,
            state=HoldState.ACTIVE,
            expires_at=iso(expiry),
            created_at=iso(now),
            source=source,
            event_id=event_id,
        )
        result = self.store.place_hold(hold, Cause(source, event_id, MovementKind.HOLD, hold_id), now)
        if result.outcome is Outcome.DUPLICATE and result.hold is not None and result.hold.qty == 0:
            return replace(result, detail="the hold was released before it was placed; nothing held")
        if result.outcome is Outcome.DUPLICATE and result.hold is not None and not _same_claim(result.hold, hold):
            raise InvalidRequest(f"hold {hold_id!r} exists for a different SKU, location or quantity")
        return result

    def release_hold(self, hold_id: str, source: str, event_id: str) -> HoldResult:
        cause = Cause(source, event_id, MovementKind.RELEASE, hold_id)
        hold = self.store.hold(hold_id)
        if hold is None:
            # The release overtook its claim: remember it so the late claim holds nothing.
            return self.store.tombstone_hold(hold_id, cause, self.clock())
        return self._end_hold(hold, HoldState.RELEASED, cause)

    def checkout_hold(
        self,
        hold_id: str,
        source: str,
        event_id: str,
        applied_version: int | None = None,
        *,
        sell_if_expired: bool = True,
    ) -> HoldResult:
        """The cart checked out: its held units become a pending sale. (A hold that expired
        first is sold from available, unless ``sell_if_expired`` is False: the caller sells.)"""
        cause = Cause(source, event_id, MovementKind.CHECKOUT, hold_id)
        hold = self.hold(hold_id)
        result = self._end_hold(hold, HoldState.CHECKED_OUT, cause, applied_version)
        ended = result.hold or hold
        if result.outcome is Outcome.DUPLICATE and ended.state is HoldState.EXPIRED and sell_if_expired:
            # The cart checked out on the platform after (or while) the sweep returned its
            # units: the sale still happened, so it is taken from what is available now.
            sale = self.sell(hold.sku, hold.location, hold.qty, source, event_id, applied_version)
            detail = sale.detail or "the hold had expired; the sale was taken from available stock"
            return HoldResult(sale.outcome, ended, sale.stock, detail)
        return result

    def expire_due_holds(self, *, limit: int = DUE_PAGE, out_of_time: Callable[[], bool] | None = None) -> SweepReport:
        """End the active holds whose time had passed when the sweep started, earliest first,
        ``limit`` at a time; before each page, ``out_of_time`` says whether to stop (one page's
        writes must fit in what is left then). A hold ends only if it is still active and due
        (a conditional write), so a sweep racing another, a release or a checkout ends it once.
        What a stopped sweep leaves stays in the expiry index for the next run."""
        now = self.clock()
        due = self.store.due_holds(now, limit)
        expired = already_ended = 0
        while True:
            if out_of_time is not None and out_of_time():
                return SweepReport(expired, already_ended, due.left(LEFT_DUE_COUNTED_UP_TO))
            handed = 0
            for hold in due.next_page():
                handed += 1
                cause = Cause("omnistock", f"expiry:{hold.hold_id}", MovementKind.EXPIRY, hold.hold_id)
                result = self.store.end_hold(
                    hold.hold_id,
                    hold.sku,
                    hold.location,
                    hold.qty,
                    HoldState.EXPIRED,
                    cause,
                    now,
                    source=hold.source,
                    only_if_expired=True,
                )
                if result.outcome is Outcome.APPLIED:
                    expired += 1
                elif result.outcome is Outcome.DUPLICATE:
                    already_ended += 1
            if handed < limit:
                return SweepReport(expired, already_ended, 0)

    def _end_hold(self, hold: Hold, state: HoldState, cause: Cause, applied_version: int | None = None) -> HoldResult:
        if hold.state is not HoldState.ACTIVE:
            return HoldResult(Outcome.DUPLICATE, hold, detail=f"the hold had already ended ({hold.state.value})")
        now = self.clock()
        lot = Lot(hold.qty, iso(now), applied_version) if state is HoldState.CHECKED_OUT else None
        result = self.store.end_hold(
            hold.hold_id, hold.sku, hold.location, hold.qty, state, cause, now, source=hold.source, lot=lot
        )
        if result.outcome is Outcome.APPLIED:
            return HoldResult(Outcome.APPLIED, replace(hold, state=state, ended_at=iso(now), ended_by=cause.key))
        return result

    def _catalog(self, sku: str) -> CatalogEntry:
        catalog = self.store.catalog(sku)
        if catalog is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog")
        return catalog


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise InvalidRequest(message)


def _same_claim(existing: Hold, new: Hold) -> bool:
    return (existing.sku, existing.location, existing.qty) == (new.sku, new.location, new.qty)
