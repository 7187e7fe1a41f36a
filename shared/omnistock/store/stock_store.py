"""Stock, holds, catalog and movements in the single table.

Every stock event is one TransactWriteItems: the stock item's conditional update plus the
event's dedupe record (or the hold item, which is its own dedupe record) plus a check that
the SKU is in the catalog at that location. Nothing is read first except where the new
value depends on the old one (master reports, confirmations), and those writes are
conditioned on the item's revision.
"""

from __future__ import annotations

import hashlib
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from omnistock.clock import epoch_seconds_after, iso, parse_iso
from omnistock.errors import Conflict, InvalidRequest, NotFound
from omnistock.models import (
    CatalogEntry,
    Cause,
    Channel,
    Hold,
    HoldResult,
    HoldState,
    Lot,
    Movement,
    Outcome,
    ParkedCount,
    StockLevel,
    StockResult,
)
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.items import (
    HOLD_INDEX_KEYS,
    catalog_from_item,
    catalog_item,
    channel_from_item,
    hold_from_item,
    hold_item,
    lot_from_item,
    movement_from_item,
    quantities_item,
    stock_from_item,
    stock_item,
)
from omnistock.store.table import Cancelled, Item, Table, to_attrs

if TYPE_CHECKING:  # annotations only: the stream consumers import this module and need no orders
    from omnistock.orders import LineMove

# A transaction holds at most 100 items; a count also writes its stock item and a catalog check.
MAX_LOTS_PER_WRITE = 90


@dataclass(frozen=True)
class Retention:
    movements_days: int = 90
    dedupe_days: int = 30
    ended_holds_days: int = 30


@dataclass(frozen=True)
class Moved:
    """An optimistic write lost the race: the stock item is now ``current``."""

    current: StockLevel | None


# The expiry sweep's page: the holds it ends between two looks at the clock, and the most it
# reads from one expiry-index shard per query.
DUE_PAGE = 100


@dataclass(frozen=True)
class DueHold:
    """An active hold whose expiry has passed, as the expiry index holds it; ``expiry_key`` is
    its entry's sort key there (expiry time, then hold id): its place in the queue."""

    hold_id: str
    sku: str
    location: str
    qty: int
    source: str
    expiry_key: str


# read(shard, after, bound, limit) -> (entries after ``after`` up to ``bound``, whether more may follow)
DueReader = Callable[[str, str | None, str, int], tuple[list[DueHold], bool]]


class DueHolds:
    """The due entries of every expiry-index shard merged into one queue, earliest expiry first,
    handed out a page at a time. Each shard is read ``page`` entries per query, and only when the
    entries read from it so far are all handed out, so every entry is read once: a sweep that
    empties the queue reads just the holds that were due, and one that stops early has read at
    most a page per shard more than it handed out. Nothing is remembered between runs: an entry
    stays in the index until its hold ends, so the next run starts from the earliest due again."""

    def __init__(self, read: DueReader, shards: list[str], bound: str, page: int) -> None:
        if page < 1:
            raise ValueError("a page holds at least one hold")
        self.page = page
        self._read, self._bound = read, bound
        self._buffers: dict[str, deque[DueHold]] = {shard: deque() for shard in shards}
        self._after: dict[str, str | None] = dict.fromkeys(shards)
        self._open = set(shards)  # shards that may hold due entries not read yet

    def next_page(self) -> Iterator[DueHold]:
        """The next ``page`` due holds (fewer only when none are left), one at a time: a shard is
        read on only when the next one is asked for, so its last entry, handed out and ended by
        then, is not read again."""
        for _ in range(self.page):
            self._fill()
            heads = [(buffer[0].expiry_key, shard) for shard, buffer in self._buffers.items() if buffer]
            if not heads:
                return
            yield self._buffers[min(heads)[1]].popleft()

    def left(self, most: int) -> int:
        """How many due holds are not handed out yet, counted up to ``most``: what was read and
        not handed out, and (reading on, up to ``most``) what was not read yet."""
        left = sum(len(buffer) for buffer in self._buffers.values())
        for shard in sorted(self._open):
            if left >= most:
                break
            left += len(self._read(shard, self._after[shard], self._bound, most - left)[0])
        return min(left, most)

    def _fill(self) -> None:
        """Read on every shard whose entries read so far are all handed out (if it may hold more)."""
        for shard, buffer in self._buffers.items():
            if not buffer and shard in self._open:
                entries, more = self._read(shard, self._after[shard], self._bound, self.page)
                buffer.extend(entries)
                if entries:
                    self._after[shard] = entries[-1].expiry_key
                if not more:
                    self._open.discard(shard)


class StockStore:
    def __init__(self, table: Table, retention: Retention | None = None) -> None:
        self.table = table
        self.retention = retention or Retention()

    # ================================================================ reads
    def catalog(self, sku: str) -> CatalogEntry | None:
        item = self.table.get(keys.sku_pk(sku), keys.CATALOG_SK)
        return catalog_from_item(item) if item else None

    def channel(self, name: str) -> Channel | None:
        item = self.table.get(keys.CHANNELS_PK, keys.channel_sk(name))
        return channel_from_item(item) if item else None

    def channels(self) -> list[Channel]:
        return [channel_from_item(item) for item in self.table.query("pk = :pk", {":pk": keys.CHANNELS_PK})]

    def stock(self, sku: str, location: str) -> StockLevel | None:
        item = self.table.get(keys.sku_pk(sku), keys.stock_sk(location))
        return stock_from_item(item) if item else None

    def catalogs(self, skus: list[str]) -> dict[str, CatalogEntry]:
        """The catalog entries of those SKUs that have one, 100 a call."""
        found = self.table.batch_get([(keys.sku_pk(sku), keys.CATALOG_SK) for sku in skus])
        return {entry.sku: entry for entry in map(catalog_from_item, found)}

    def listing_owners(self, listings: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The SKU that owns each (channel, listing id) that has an owner, 100 a call."""
        found = self.table.batch_get(
            [(keys.listing_pk(channel, listing), keys.LISTING_SK) for channel, listing in listings]
        )
        return {(item["channel"], item["listing_id"]): item["sku"] for item in found}

    def level_at(self, sku: str, location: str) -> StockLevel | None:
        """The level (without its lots) at one location, if the SKU has one there."""
        item = self.table.get(keys.sku_pk(sku), keys.stock_sk(location))
        return stock_from_item(item) if item else None

    def levels_at(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], StockLevel]:
        """The levels (without their lots) at those (SKU, location) pairs that have one, 100 a call."""
        found = self.table.batch_get([(keys.sku_pk(sku), keys.stock_sk(location)) for sku, location in pairs])
        return {(level.sku, level.location): level for level in map(stock_from_item, found)}

    def stock_levels(self, sku: str) -> list[StockLevel]:
        """Every location's level with its pending lots: one query ("LOC#..." sorts just
        before "LOT#...", and nothing else sorts between them)."""
        items = self.table.query(
            "pk = :pk AND sk BETWEEN :first AND :last",
            {":pk": keys.sku_pk(sku), ":first": keys.LOCATION_PREFIX, ":last": keys.prefix_end(keys.LOT_PREFIX)},
        )
        lots: dict[str, dict[str, Lot]] = {}
        for item in items:
            if item["sk"].startswith(keys.LOT_PREFIX):
                lots.setdefault(item["location"], {})[item["lot"]] = lot_from_item(item)
        return [
            replace(stock_from_item(item), lots=lots.get(item["location"], {}))
            for item in items
            if item["sk"].startswith(keys.LOCATION_PREFIX)
        ]

    def stock_with_lots(self, sku: str, location: str) -> StockLevel | None:
        level = self.stock(sku, location)
        return self.with_lots(level) if level is not None else None

    def with_lots(self, level: StockLevel) -> StockLevel:
        """``level`` with its pending lots read (one query on the SKU's partition)."""
        items = self.table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": keys.sku_pk(level.sku), ":prefix": keys.lots_prefix(level.location)},
        )
        return replace(level, lots=_lots_at(level.location, items))

    def event_seen(self, cause: Cause) -> bool:
        return self.table.get(keys.event_pk(cause.key), keys.EVENT_SK) is not None

    def lot(self, sku: str, location: str, lot_key: str) -> Lot | None:
        item = self.table.get(keys.sku_pk(sku), keys.lot_sk(location, lot_key))
        return lot_from_item(item) if item else None

    def recent_movements(self, sku: str, limit: int) -> list[Movement]:
        items = self.table.query("pk = :pk", {":pk": keys.movements_pk(sku)}, forward=False, limit=limit)
        return [movement_from_item(item) for item in items]

    def movements_between(self, sku: str, since: str, until: str, limit: int | None = 1000) -> list[Movement]:
        """A SKU's movements from ``since`` to ``until`` (UTC ISO), oldest first."""
        items = self.table.query(
            "pk = :pk AND sk BETWEEN :since AND :until",
            {":pk": keys.movements_pk(sku), ":since": since, ":until": until},
            limit=limit,
        )
        return [movement_from_item(item) for item in items]

    def pending_lots_sold_before(self, before: str, limit: int) -> list[tuple[str, str, str, int, str]]:
        """(sku, location, lot, units, sold at) of pending lots sold before ``before`` (UTC
        ISO), oldest first, at most ``limit``: a query per shard of the sparse index."""
        found: list[tuple[str, str, str, int, str]] = []
        for pk in keys.pending_lots_pks():
            items = self.table.query(
                "gsi1pk = :pk AND gsi1sk < :before", {":pk": pk, ":before": before}, index="gsi1", limit=limit
            )
            for item in items:
                lot = item["gsi1sk"].split("#", 2)[2]
                found.append((item["sku"], item["location"], lot, int(item["qty"]), item["gsi1sk"].split("#", 1)[0]))
        return sorted(found, key=lambda lot: (lot[4], lot[0]))[:limit]

    def hold(self, hold_id: str) -> Hold | None:
        item = self.table.get(keys.hold_pk(hold_id), keys.HOLD_SK)
        return hold_from_item(item) if item else None

    def expired_holds(self, now: datetime, limit: int | None = None) -> list[tuple[str, str, str, int, str]]:
        """(hold id, sku, location, qty, source) of the active holds whose expiry has passed,
        earliest first, at most ``limit`` (None: all), from the sparse expiry index."""
        due = self.due_holds(now, limit or DUE_PAGE)
        found: list[DueHold] = []
        while limit is None or len(found) < limit:
            page = list(due.next_page())
            found += page
            if len(page) < due.page:
                break
        return [(d.hold_id, d.sku, d.location, d.qty, d.source) for d in found]

    def due_holds(self, now: datetime, page: int = DUE_PAGE) -> DueHolds:
        """The active holds whose expiry has passed at ``now``, earliest first, read from the
        sparse expiry index a page at a time as they are asked for (see ``DueHolds``)."""
        return DueHolds(self._due_entries, keys.hold_expiry_pks(), iso(now) + "~", page)  # "~": after "<now>#<id>"

    def _due_entries(self, shard: str, after: str | None, bound: str, limit: int) -> tuple[list[DueHold], bool]:
        """Up to ``limit`` due entries of one expiry-index shard after the sort key ``after``
        (None: from its start), earliest first; and whether the shard may hold more."""
        values: Item = {":pk": shard, ":bound": bound}
        condition = "gsi1pk = :pk AND gsi1sk <= :bound"
        if after is not None:  # the entry at ``after`` is read again while it is there (one item)
            condition = "gsi1pk = :pk AND gsi1sk BETWEEN :after AND :bound"
            values[":after"] = after
            limit += 1
        items = self.table.query(condition, values, index="gsi1", limit=limit)
        found = []
        for item in items:
            if item["gsi1sk"] == after:
                continue
            hold_id = keys.hold_of(item["pk"])
            source = item.get("source")
            if source is None:  # an index built before it carried the source: read the hold
                hold = self.hold(hold_id)
                source = hold.source if hold else ""
            found.append(DueHold(hold_id, item["sku"], item["location"], int(item["qty"]), source, item["gsi1sk"]))
        return found, len(items) >= limit

    def active_holds(self, source: str) -> list[str]:
        """The ids of the active holds of ``source``: one query per shard of its own partition in
        the holds-by-source index (gsi2), which an active hold enters when placed and leaves when it
        ends, so only that source's active holds are read (the poll that confirms carts reads it
        every few minutes). The index may lag a write by a moment: a hold just placed can be
        missing and one just ended listed (ending it again is a duplicate that changes nothing).
        A hold placed before the index carried holds by source is not listed: it still ends by
        checkout, release or the expiry sweep, which read it by id and by expiry."""
        found = []
        for shard in keys.hold_source_pks(source):
            for item in self.table.query("gsi2pk = :pk", {":pk": shard}, index="gsi2"):
                if item.get("kind") == "hold" and item.get("state") == HoldState.ACTIVE.value:
                    found.append(keys.hold_of(item["pk"]))
        return found

    # ================================================================ catalog
    def save_catalog(
        self, entry: CatalogEntry, previous: CatalogEntry | None, new_sku_policies: dict[str, bool] | None = None
    ) -> None:
        """Save a catalog entry and its listing ids (each owned by one SKU); a new SKU also gets
        a policy per channel carrying that channel's auto-sync rule for new SKUs."""
        expr = Expression()
        put: dict[str, Any] = {
            "Item": to_attrs(catalog_item(entry)),
        }
        if previous is None:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        else:
            put["ConditionExpression"] = f"{expr.name('rev')} = {expr.value(previous.rev)}"
            expr.attach(put)
        actions: list[dict[str, Any]] = [{"Put": put}]
        owners: list[tuple[str, str]] = []
        old = previous.listings if previous else {}
        for channel, listing_id in entry.listings.items():
            if old.get(channel) != listing_id:
                claim = Expression()
                body = {
                    "Item": to_attrs(
                        {
                            "pk": keys.listing_pk(channel, listing_id),
                            "sk": keys.LISTING_SK,
                            "kind": "listing",
                            "sku": entry.sku,
                            "channel": channel,
                            "listing_id": listing_id,
                        }
                    ),
                    "ConditionExpression": f"attribute_not_exists(pk) OR {claim.name('sku')} = "
                    f"{claim.value(entry.sku)}",
                }
                claim.attach(body)
                actions.append({"Put": body})
                owners.append((channel, listing_id))
        for channel, auto_sync in (new_sku_policies or {}).items():
            policy: Item = {"pk": keys.sku_pk(entry.sku), "sk": keys.policy_sk(channel), "kind": "policy"}
            policy |= {"sku": entry.sku, "channel": channel, "paused": False, "allocation": 0, "auto_sync": auto_sync}
            policy |= keys.policy_state_keys(channel, entry.sku, False, auto_sync)
            actions.append({"Put": {"Item": to_attrs(policy), "ConditionExpression": "attribute_not_exists(pk)"}})
        for channel, listing_id in old.items():
            if entry.listings.get(channel) != listing_id:
                actions.append(
                    {"Delete": {"Key": to_attrs({"pk": keys.listing_pk(channel, listing_id), "sk": keys.LISTING_SK})}}
                )
        if previous is None:  # counted as it is added (last: the listings' positions name them)
            actions.append({"Update": _catalog_counted(entry.sku)})
        cancelled = self.table.transact(actions)
        if cancelled is None:
            return
        if cancelled.failed(0):
            raise Conflict(f"catalog entry {entry.sku!r} changed while saving; read it and retry")
        for index, (channel, listing_id) in enumerate(owners, start=1):
            if cancelled.failed(index):
                owner = (cancelled.items[index] or {}).get("sku", "another SKU")
                raise Conflict(f"{channel} listing {listing_id!r} already belongs to SKU {owner!r}")
        raise Conflict("catalog entry could not be saved; retry")

    # ================================================================ parked counts
    def park_count(self, count: ParkedCount, purge_at: int) -> bool:
        """Keep a master count for a SKU not (yet) in the catalog at its location, unless a
        newer one is kept already; False when it was not newer."""
        item: Item = {"pk": keys.parked_pk(count.sku), "sk": count.location, "kind": "parked_count"}
        item |= {"sku": count.sku, "location": count.location, "on_hand": count.on_hand, "version": count.version}
        item |= {"source": count.source, "event_id": count.event_id, "purge_at": purge_at}
        expr = Expression()
        put = {
            "Item": to_attrs(item),
            "ConditionExpression": f"attribute_not_exists(pk) OR {expr.name('version')} < {expr.value(count.version)}",
        }
        expr.attach(put)
        return self.table.transact([{"Put": put}]) is None

    def parked_counts(self, sku: str) -> list[ParkedCount]:
        items = self.table.query("pk = :pk", {":pk": keys.parked_pk(sku)})
        return [
            ParkedCount(i["sku"], i["location"], int(i["on_hand"]), int(i["version"]), i["source"], i["event_id"])
            for i in items
        ]

    def unpark(self, count: ParkedCount) -> None:
        """Forget a parked count once applied (unless a newer one was parked meanwhile)."""
        expr = Expression()
        condition = expr.attach({"ConditionExpression": f"{expr.name('version')} = {expr.value(count.version)}"})
        self.table.delete_if(keys.parked_pk(count.sku), count.location, condition)

    def save_channel(self, channel: Channel) -> None:
        self.table.put(
            {
                "pk": keys.CHANNELS_PK,
                "sk": keys.channel_sk(channel.name),
                "kind": "channel",
                "name": channel.name,
                "locations": list(channel.locations),
                "platform": channel.platform,
                "target_location": channel.target_location,
                "buffer": channel.buffer,
                "max_shown": channel.max_shown,
                "auto_sync": channel.auto_sync,
                "updated_at": channel.updated_at,
                "master_location": channel.master_location,
                "mode": channel.mode,
                "entry_rules": dict(channel.entry_rules),
            }
        )

    # ================================================================ holds
    def place_hold(self, hold: Hold, cause: Cause, now: datetime) -> HoldResult:
        expr = Expression()
        stock_update = {
            "Key": _stock_key(hold.sku, hold.location),
            "UpdateExpression": expr.update(
                add={"held": hold.qty, "available": -hold.qty, "rev": 1, held_by(hold.source): hold.qty},
                set_={("last",): _cause(cause, now), ("updated_at",): iso(now)},
            ),
            "ConditionExpression": f"{expr.name('available')} >= {expr.value(hold.qty)}",
        }
        expr.attach(stock_update)
        hold_put = {"Item": to_attrs(hold_item(hold)), "ConditionExpression": "attribute_not_exists(pk)"}
        cancelled = self.table.transact(
            [self._catalog_check(hold.sku, hold.location), {"Update": stock_update}, {"Put": hold_put}]
        )
        if cancelled is None:
            return HoldResult(Outcome.APPLIED, hold)
        if cancelled.failed(2):
            existing = cancelled.items[2]
            return HoldResult(Outcome.DUPLICATE, hold_from_item(existing) if existing else None)
        self._raise_if_not_in_catalog(cancelled, 0, hold.sku, hold.location)
        current, detail = _shortage(cancelled, 1, hold.location, hold.qty)
        return HoldResult(Outcome.REFUSED, None, current, detail)

    def end_hold(
        self,
        hold_id: str,
        sku: str,
        location: str,
        qty: int,
        state: HoldState,
        cause: Cause,
        now: datetime,
        *,
        source: str = "",
        lot: Lot | None = None,
        only_if_expired: bool = False,
        counted: bool = False,
    ) -> HoldResult:
        """Move an active hold to ``state`` and its units out of ``held`` in one transaction:
        back to available (release, expiry) or into a pending lot (checkout)."""
        hold_expr = Expression()
        condition = f"{hold_expr.name('state')} = {hold_expr.value(HoldState.ACTIVE.value)}"
        if only_if_expired:
            condition += f" AND {hold_expr.name('expires_at')} <= {hold_expr.value(iso(now))}"
        hold_update = {
            "Key": to_attrs({"pk": keys.hold_pk(hold_id), "sk": keys.HOLD_SK}),
            "UpdateExpression": hold_expr.update(
                set_={
                    ("state",): state.value,
                    ("ended_at",): iso(now),
                    ("ended_by",): cause.key,
                    ("purge_at",): epoch_seconds_after(now, self.retention.ended_holds_days),
                },
                remove=[(name,) for name in HOLD_INDEX_KEYS],
            ),
            "ConditionExpression": condition,
        }
        hold_expr.attach(hold_update)
        expr = Expression()
        sets: dict[tuple[str, ...], Any] = {("last",): _cause(cause, now), ("updated_at",): iso(now)}
        condition = f"{expr.name('held')} >= {expr.value(qty)}"
        actions: list[dict[str, Any]] = [{"Update": hold_update}]
        if lot is not None and not counted:
            adds = {"held": -qty, "pending": qty, "rev": 1}
            condition += _not_yet_counted(expr, lot.applied_version)
        else:  # released, expired, or checked out in a sale the master has counted already
            adds = {"held": -qty, "available": qty, "rev": 1}
        adds[held_by(source)] = -qty
        stock_update = {
            "Key": _stock_key(sku, location),
            "UpdateExpression": expr.update(add=adds, set_=sets),
            "ConditionExpression": condition,
        }
        expr.attach(stock_update)
        actions.append({"Update": stock_update})
        if lot is not None and not counted:
            actions.append(self._lot_put(sku, location, f"hold:{hold_id}", lot))
        cancelled = self.table.transact(actions)
        if cancelled is None:
            return HoldResult(Outcome.APPLIED, None)
        current = hold_from_item(cancelled.items[0]) if cancelled.items[0] else None
        if cancelled.failed(0) and current is not None and current.state is HoldState.ACTIVE:
            return HoldResult(Outcome.REFUSED, current, detail="the hold has not expired yet")
        if cancelled.failed(0):
            return HoldResult(Outcome.DUPLICATE, current, detail="the hold had already ended")
        if lot is not None and not counted and _counted(cancelled.items[1], lot.applied_version):
            return self.end_hold(hold_id, sku, location, qty, state, cause, now, source=source, lot=lot, counted=True)
        raise Conflict(f"stock of {sku!r} at {location!r} holds fewer units than hold {hold_id!r}")

    def tombstone_hold(self, hold_id: str, cause: Cause, now: datetime) -> HoldResult:
        """A release that arrives before its claim: record the hold as ended (with no units),
        so the late claim finds it and holds nothing."""
        tombstone = Hold(hold_id, "", "", 0, HoldState.RELEASED, iso(now), iso(now), cause.source, cause.event_id)
        item = hold_item(tombstone) | {
            "ended_at": iso(now),
            "ended_by": cause.key,
            "purge_at": epoch_seconds_after(now, self.retention.ended_holds_days),
        }
        cancelled = self.table.transact(
            [{"Put": {"Item": to_attrs(item), "ConditionExpression": "attribute_not_exists(pk)"}}]
        )
        if cancelled is None:
            return HoldResult(Outcome.APPLIED, hold_from_item(item), detail="released before it was placed")
        existing = cancelled.items[0]
        return HoldResult(Outcome.DUPLICATE, hold_from_item(existing) if existing else None, detail="the hold exists")

    # ================================================================ sales, restocks, adjustments
    def sell(self, sku: str, location: str, qty: int, lot: Lot, cause: Cause, now: datetime) -> StockResult:
        """Units sold without a hold become a pending lot, unless the master's count already
        includes the sale (its ``applied_version`` is at or below the applied count's)."""
        expr = Expression()
        sets: dict[tuple[str, ...], Any] = {("last",): _cause(cause, now), ("updated_at",): iso(now)}
        update = {
            "Key": _stock_key(sku, location),
            "UpdateExpression": expr.update(add={"pending": qty, "available": -qty, "rev": 1}, set_=sets),
            "ConditionExpression": f"{expr.name('available')} >= {expr.value(qty)}"
            + _not_yet_counted(expr, lot.applied_version),
        }
        expr.attach(update)
        request = request_fingerprint("sale", sku, location, qty)
        cancelled = self.table.transact(
            [
                self._catalog_check(sku, location),
                {"Update": update},
                self._dedupe_put(cause, now, request),
                self._lot_put(sku, location, cause.key, lot),
            ]
        )
        if cancelled is None:
            return StockResult(Outcome.APPLIED, None)
        if cancelled.failed(2) or cancelled.failed(3):
            return _duplicate(cancelled, 2, cause, request)
        self._raise_if_not_in_catalog(cancelled, 0, sku, location)
        if _counted(cancelled.items[1], lot.applied_version):
            return self._record_counted_sale(sku, location, lot, cause, now)
        current, detail = _shortage(cancelled, 1, location, qty)
        return StockResult(Outcome.REFUSED, current, detail)

    def _record_counted_sale(self, sku: str, location: str, lot: Lot, cause: Cause, now: datetime) -> StockResult:
        """The sale is in the master's count already: record it (dedupe, movement), move nothing."""
        expr = Expression()
        update = {
            "Key": _stock_key(sku, location),
            "UpdateExpression": expr.update(
                add={"rev": 1}, set_={("last",): _cause(cause, now), ("updated_at",): iso(now)}
            ),
            "ConditionExpression": f"{expr.name('master_version')} >= {expr.value(lot.applied_version)}",
        }
        expr.attach(update)
        request = request_fingerprint("sale", sku, location, lot.qty)
        cancelled = self.table.transact([{"Update": update}, self._dedupe_put(cause, now, request)])
        if cancelled is None:
            return StockResult(Outcome.APPLIED, None, "the master's count already includes this sale")
        if cancelled.failed(1):
            return _duplicate(cancelled, 1, cause, request)
        raise Conflict("the master's count moved backwards; retry")

    def add_on_hand(self, sku: str, location: str, delta: int, cause: Cause, now: datetime) -> StockResult:
        """Restock (delta > 0) or manual adjustment (either sign) of the counted units."""
        expr = Expression()
        update: dict[str, Any] = {
            "Key": _stock_key(sku, location),
            "UpdateExpression": expr.update(
                add={"on_hand": delta, "available": delta, "held": 0, "pending": 0, "rev": 1},
                set_={
                    ("sku",): sku,
                    ("location",): location,
                    ("kind",): "stock",
                    ("last",): _cause(cause, now),
                    ("updated_at",): iso(now),
                },
            ),
        }
        if delta < 0:
            update["ConditionExpression"] = f"{expr.name('on_hand')} >= {expr.value(-delta)}"

        expr.attach(update)
        request = request_fingerprint(cause.kind.value, sku, location, delta)
        cancelled = self.table.transact(
            [self._catalog_check(sku, location), {"Update": update}, self._dedupe_put(cause, now, request)]
        )
        if cancelled is None:
            return StockResult(Outcome.APPLIED, None)
        if cancelled.failed(2):
            return _duplicate(cancelled, 2, cause, request)
        self._raise_if_not_in_catalog(cancelled, 0, sku, location)
        current = stock_from_item(cancelled.items[1]) if cancelled.items[1] else None
        on_hand = current.on_hand if current else 0
        return StockResult(Outcome.REFUSED, current, f"only {on_hand} counted; cannot remove {-delta}")

    # ================================================================ order lines
    def move_for_order_line(
        self, record_write: dict[str, Any], move: LineMove, cause: Cause, now: datetime
    ) -> Cancelled | None:
        """Move an order line's units and write its record (``record_write``, a conditional Put:
        the line's own dedupe) in one transaction. Sales are never refused: the channel sold
        the units already, so a shortfall is recorded, not hidden. Released units come out of
        the line's pending lot first; units whose lot a master count already cleared are
        back on the shelf (``to_on_hand``). Indexes of a cancellation: 0 the record, 1 the
        catalog, 2 the stock item (a sale: a master count already includes it), 3 on the lots."""
        expr = Expression()
        sets: dict[tuple[str, ...], Any] = {
            ("sku",): move.sku,
            ("location",): move.location,
            ("kind",): "stock",
            ("last",): _cause(cause, now),
            ("updated_at",): iso(now),
        }
        condition = ""
        if move.sold:
            adds = {"pending": move.sold, "available": -move.sold, "on_hand": 0, "held": 0, "rev": 1}
            condition = _not_yet_counted(expr, move.applied_version).removeprefix(" AND ")
        else:
            released = move.from_lots + move.to_on_hand
            adds = {"pending": -move.from_lots, "on_hand": move.to_on_hand, "available": released, "rev": 1}
            if move.from_lots:
                condition = f"{expr.name('pending')} >= {expr.value(move.from_lots)}"
        stock_update: dict[str, Any] = {
            "Key": _stock_key(move.sku, move.location),
            "UpdateExpression": expr.update(add=adds, set_=sets),
        }
        if condition:
            stock_update["ConditionExpression"] = condition
        expr.attach(stock_update)
        actions = [record_write, self._catalog_check(move.sku, move.location), {"Update": stock_update}]
        if move.sold:
            actions.append(
                self._lot_put(move.sku, move.location, move.new_lot, Lot(move.sold, iso(now), move.applied_version))
            )
        for lot_key, holds, units in move.taken:
            key = to_attrs({"pk": keys.sku_pk(move.sku), "sk": keys.lot_sk(move.location, lot_key)})
            expr = Expression()
            condition = f"{expr.name('qty')} = {expr.value(holds)}"
            if units == holds:
                actions.append({"Delete": expr.attach({"Key": key, "ConditionExpression": condition})})
            else:
                body = {
                    "Key": key,
                    "UpdateExpression": expr.update(add={"qty": -units}),
                    "ConditionExpression": condition,
                }
                actions.append({"Update": expr.attach(body)})
        return self.table.transact(actions)

    def lots_named(self, sku: str, location: str, prefix: str) -> dict[str, Lot]:
        """The pending lots at a location whose keys start with ``prefix`` (one order line's)."""
        items = self.table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": keys.sku_pk(sku), ":prefix": keys.lot_sk(location, prefix)},
        )
        return _lots_at(location, items)

    # ================================================================ master reports
    def write_count(
        self,
        current: StockLevel | None,
        new: StockLevel,
        cleared_lots: list[str],
        cause: Cause,
        now: datetime,
    ) -> Moved | None:
        """Replace the stock item with ``new`` if it is still ``current`` and delete the lots the
        count includes (at most MAX_LOTS_PER_WRITE; see ``clear_lots`` for more); None when written."""
        expr = Expression()
        if current is None:
            item = stock_item(new) | {"last": _cause(cause, now)}
            write: dict[str, Any] = {"Put": {"Item": to_attrs(item), "ConditionExpression": "attribute_not_exists(pk)"}}
        else:
            body: dict[str, Any] = {
                "Key": _stock_key(new.sku, new.location),
                "UpdateExpression": expr.update(
                    set_={
                        ("on_hand",): new.on_hand,
                        ("pending",): new.pending,
                        ("available",): new.available,
                        ("master_version",): new.master_version,
                        ("master_at",): new.master_at,
                        ("last",): _cause(cause, now),
                        ("updated_at",): iso(now),
                    },
                    add={"rev": 1},
                ),
                "ConditionExpression": f"{expr.name('rev')} = {expr.value(current.rev)}",
            }
            expr.attach(body)
            write = {"Update": body}
        deletes = [self._lot_delete(new.sku, new.location, key) for key in cleared_lots]
        cancelled = self.table.transact([self._catalog_check(new.sku, new.location), write, *deletes])
        if cancelled is None:
            return None
        self._raise_if_not_in_catalog(cancelled, 0, new.sku, new.location)
        return Moved(stock_from_item(cancelled.items[1]) if cancelled.items[1] else None)

    def clear_lots(
        self,
        current: StockLevel,
        lots: dict[str, Lot],
        cause: Cause,
        now: datetime,
        *,
        dedupe: bool = False,
        request: str = "",
    ) -> Moved | Cancelled | None:
        """Take cleared lots (at most MAX_LOTS_PER_WRITE) out of pending in one transaction.
        None when written; Moved when the stock item changed; Cancelled when a lot is gone or
        (with ``dedupe``) the event was applied before."""
        qty = sum(lot.qty for lot in lots.values())
        expr = Expression()
        body = {
            "Key": _stock_key(current.sku, current.location),
            "UpdateExpression": expr.update(
                set_={("last",): _cause(cause, now), ("updated_at",): iso(now)},
                add={"pending": -qty, "available": qty, "rev": 1},
            ),
            "ConditionExpression": f"{expr.name('rev')} = {expr.value(current.rev)}",
        }
        expr.attach(body)
        deletes = [self._lot_delete(current.sku, current.location, key) for key in lots]
        extra = [self._dedupe_put(cause, now, request)] if dedupe else []
        return _moved_or_cancelled(self.table.transact([{"Update": body}, *deletes, *extra]))

    def mark_lot_applied(
        self, current: StockLevel, lot_key: str, applied_version: int, cause: Cause, now: datetime, request: str = ""
    ) -> Moved | Cancelled | None:
        """Record the master version that includes a pending lot (a later count clears it)."""
        expr = Expression()
        body = {
            "Key": _stock_key(current.sku, current.location),
            "UpdateExpression": expr.update(
                set_={("last",): _cause(cause, now), ("updated_at",): iso(now)}, add={"rev": 1}
            ),
            "ConditionExpression": f"{expr.name('rev')} = {expr.value(current.rev)}",
        }
        expr.attach(body)
        lot_expr = Expression()
        lot_update = {
            "Key": to_attrs({"pk": keys.sku_pk(current.sku), "sk": keys.lot_sk(current.location, lot_key)}),
            "UpdateExpression": lot_expr.update(set_={("applied_version",): applied_version}),
            "ConditionExpression": "attribute_exists(pk)",
        }
        lot_expr.attach(lot_update)
        return _moved_or_cancelled(
            self.table.transact([{"Update": body}, {"Update": lot_update}, self._dedupe_put(cause, now, request)])
        )

    # ================================================================ movement log
    def save_movements(self, movements: list[Movement]) -> None:
        for start in range(0, len(movements), 25):
            self.table.batch_put([self._movement_item(m) for m in movements[start : start + 25]])

    def log_movement(self, movement: Movement, key: str, *, keep_existing: bool = False) -> None:
        """Log a movement that changes no stock (a till sale the POS's own count brings) under its
        source's ``key``, so a redelivery rewrites the same entry (``keep_existing``: unless one
        is there already, as when this delivery knows less than an earlier one did)."""
        item = self._movement_item(movement) | {"sk": keys.external_movement_sk(movement.at, key)}
        if keep_existing:
            self.table.put_new(item)
        else:
            self.table.put(item)

    def _movement_item(self, movement: Movement) -> Item:
        return {
            "pk": keys.movements_pk(movement.sku),
            "sk": keys.movement_sk(movement.at, movement.location, movement.rev),
            "kind": "movement",
            "sku": movement.sku,
            "location": movement.location,
            "at": movement.at,
            "rev": movement.rev,
            "source": movement.source,
            "event_id": movement.event_id,
            "movement": movement.kind.value,
            "note": movement.note,
            "before": quantities_item(movement.before),
            "after": quantities_item(movement.after),
            "purge_at": epoch_seconds_after(parse_iso(movement.at), self.retention.movements_days),
        }

    # ================================================================ shared pieces
    def _catalog_check(self, sku: str, location: str) -> dict[str, Any]:
        expr = Expression()
        body = {
            "Key": to_attrs({"pk": keys.sku_pk(sku), "sk": keys.CATALOG_SK}),
            "ConditionExpression": f"attribute_exists(pk) AND contains({expr.name('locations')}, "
            f"{expr.value(location)})",
        }
        expr.attach(body)
        return {"ConditionCheck": body}

    @staticmethod
    def _lot_put(sku: str, location: str, lot_key: str, lot: Lot) -> dict[str, Any]:
        item: Item = {
            "pk": keys.sku_pk(sku),
            "sk": keys.lot_sk(location, lot_key),
            "kind": "lot",
            "sku": sku,
            "location": location,
            "lot": lot_key,
            "qty": lot.qty,
            "sold_at": lot.sold_at,
            "gsi1pk": keys.pending_lots_pk(sku),  # the problems inbox finds old lots by it
            "gsi1sk": keys.pending_lot_index_sk(lot.sold_at, location, lot_key),
        }
        if lot.applied_version is not None:
            item["applied_version"] = lot.applied_version
        return {"Put": {"Item": to_attrs(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    @staticmethod
    def _lot_delete(sku: str, location: str, lot_key: str) -> dict[str, Any]:
        key = to_attrs({"pk": keys.sku_pk(sku), "sk": keys.lot_sk(location, lot_key)})
        return {"Delete": {"Key": key, "ConditionExpression": "attribute_exists(pk)"}}

    def _dedupe_put(self, cause: Cause, now: datetime, request: str = "") -> dict[str, Any]:
        """The event's dedupe record; ``request`` fingerprints what the event asked for, so a
        reuse of its id for something else is told apart from a redelivery."""
        item = {
            "pk": keys.event_pk(cause.key),
            "sk": keys.EVENT_SK,
            "kind": "event",
            "movement": cause.kind.value,
            "applied_at": iso(now),
            "purge_at": epoch_seconds_after(now, self.retention.dedupe_days),
        }
        if request:
            item["request"] = request
        return {"Put": {"Item": to_attrs(item), "ConditionExpression": "attribute_not_exists(pk)"}}

    @staticmethod
    def _raise_if_not_in_catalog(cancelled: Cancelled, index: int, sku: str, location: str) -> None:
        if not cancelled.failed(index):
            return
        if cancelled.items[index] is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog")
        raise InvalidRequest(f"SKU {sku!r} is not stocked at location {location!r}")


# ==================================================================== item <-> model
def _lots_at(location: str, items: list[Item]) -> dict[str, Lot]:
    """The lots among ``items`` that are ``location``'s: a lot stored before location names were
    escaped in its key may sit under another location's prefix ("shop#2"'s under "shop#")."""
    return {item["lot"]: lot_from_item(item) for item in items if item["location"] == location}


def _stock_key(sku: str, location: str) -> dict[str, Any]:
    return to_attrs({"pk": keys.sku_pk(sku), "sk": keys.stock_sk(location)})


def held_by(source: str) -> str:
    """The stock item's count of units held for one source (a channel's carts): a channel whose
    own number already leaves its carts out is told its shelf, this added back."""
    return f"held@{source}"


def _cause(cause: Cause, now: datetime) -> Item:
    return {
        "source": cause.source,
        "event_id": cause.event_id,
        "kind": cause.kind.value,
        "note": cause.note,
        "at": iso(now),
    }


def _moved_or_cancelled(cancelled: Cancelled | None) -> Moved | Cancelled | None:
    """A stock item that moved (retry on it), another cancellation (the caller decides), or None."""
    if cancelled is None:
        return None
    if cancelled.failed(0):
        return Moved(stock_from_item(cancelled.items[0]) if cancelled.items[0] else None)
    return cancelled


def _not_yet_counted(expr: Expression, applied_version: int | None) -> str:
    """Condition clause: the applied master count predates the sale (or there is none)."""
    if applied_version is None:
        return ""
    name = expr.name("master_version")
    return f" AND (attribute_not_exists({name}) OR {name} < {expr.value(applied_version)})"


def _counted(item: Item | None, applied_version: int | None) -> bool:
    """Whether a stock item's applied master count includes a sale at ``applied_version``."""
    if item is None or applied_version is None or item.get("master_version") is None:
        return False
    return int(item["master_version"]) >= applied_version


def _shortage(cancelled: Cancelled, index: int, location: str, qty: int) -> tuple[StockLevel | None, str]:
    """The stock item as the refused write found it, and a message saying what was short."""
    item = cancelled.items[index]
    current = stock_from_item(item) if item else None
    available = max(0, current.available) if current else 0
    return current, f"{available} available at {location!r}; {qty} requested"


def request_fingerprint(*parts: object) -> str:
    """A fingerprint of what an event asks for (kind, SKU, location, units, version)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def _duplicate(cancelled: Cancelled, index: int, cause: Cause, request: str) -> StockResult:
    """The event's id was applied before: a duplicate when it asked for the same thing (or the
    record predates fingerprints); otherwise the id was reused for another request: Conflict."""
    seen = cancelled.items[index] if cancelled.failed(index) else None
    check_same_request(seen, cause, request)
    return StockResult(Outcome.DUPLICATE, None, "this event was applied before")


def check_same_request(seen: Item | None, cause: Cause, request: str) -> None:
    """Conflict when ``seen`` (an event's dedupe record) was written for another request."""
    if seen is not None and seen.get("request") not in (None, request):
        raise Conflict(
            f"event id {cause.event_id!r} of {cause.source!r} was used before for a different request "
            "(another SKU, location, kind or quantity); send a new event id"
        )


def _catalog_counted(sku: str) -> dict[str, Any]:
    """One more SKU in the catalog's count (its shard's counter: an import does not make one hot item)."""
    expr = Expression()
    body = {
        "Key": to_attrs({"pk": keys.CATALOG_COUNT_PK, "sk": keys.catalog_count_sk(sku)}),
        "UpdateExpression": expr.update(add={"skus": 1}, set_={("kind",): "catalog_count"}),
    }
    return expr.attach(body)
