"""Where channel orders meet the ledger: snapshots and refunds in, line stock effects out.

Every path (a webhook of any order topic, a refund notice, the poll) ends in ``_settle_line``,
which makes a line take exactly what its merged facts say (orders.LineFacts.units_taken) by
moving the difference. The move and the line's record are one transaction conditioned on the
record's revision, so duplicates, reordering and webhook + poll overlap change nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from omnistock.clock import iso, micros, utc_now
from omnistock.errors import NotFound, StoreUnavailable
from omnistock.models import Cause, Channel, HoldState, MovementKind, Outcome
from omnistock.orders import ChannelOrder, IntakeReport, LineFacts, LineReport, OrderLine, RefundLine, order_status

if TYPE_CHECKING:
    from omnistock.ledger import Ledger
from omnistock.models import SyncEntry
from omnistock.orders import LineMove, LineRecord
from omnistock.store.order_store import OrderStore, line_cancellation
from omnistock.store.push_store import PushStore
from omnistock.store.stock_store import StockStore

_ROUNDS = 8  # a line record that keeps changing under us: give up and let the platform retry
MAX_SKU = 200  # the catalog's limit too: a longer one cannot be a key


def line_lots(channel: str, order_id: str, line_id: str) -> str:
    """The prefix of an order line's pending lots (one lot per increase, suffixed with its
    number: see ``OrderDesk._move``). Ids are escaped so no other line's lots start with it
    (order "1:2" line "3" is not order "1" line "2:3"; line "2" is not line "2#3"); numeric
    ids, every platform's today, are unchanged."""
    return f"{channel}:order:{_lot_part(order_id)}:{_lot_part(line_id)}#"


def lot_number(lot_key: str) -> int:
    """The number an order line's lot key ends with (0 for a key that ends with none)."""
    suffix = lot_key.rpartition("#")[2]
    return int(suffix) if suffix.isdecimal() else 0


def _lot_part(value: str) -> str:
    return value.replace("%", "%25").replace("#", "%23").replace(":", "%3A")


class OrderDesk:
    def __init__(
        self,
        stock: StockStore,
        orders: OrderStore,
        history: PushStore,
        clock: Callable[[], datetime] = utc_now,
        ledger: Ledger | None = None,
    ) -> None:
        self.stock = stock
        self.orders = orders
        self.history = history
        self.clock = clock
        self.ledger = ledger  # checks out cart holds (lines of live-sale orders)

    def ingest(self, order: ChannelOrder) -> IntakeReport:
        """Apply an order snapshot: each line takes what the snapshot (and every refund known)
        says; the order lands in the order store unless a newer snapshot is there."""
        channel = self._channel(order.channel)
        kept = self.orders.load(order.channel, order.order_id)
        stored, records = kept.stored, kept.lines
        if order.on_hold is None and stored is not None and stored.order.on_hold is not None:
            order = replace(order, on_hold=stored.order.on_hold)  # the snapshot cannot say: the last reading stands
        reports = []
        for line in order.lines:
            refunds = [r for r in order.refunds if r.line_id == line.line_id]
            record = records.get(line.line_id) or LineRecord(order.channel, order.order_id, line.line_id)

            def merge(facts: LineFacts, line: OrderLine = line, refunds: list[RefundLine] = refunds) -> LineFacts:
                return facts.with_snapshot(line, order.cancelled, order.updated_at).with_refunds(refunds)

            if line.hold_id and not record.hold and record.taken == 0:
                record = self._check_out(order, record, line)
            reports.append(self._settle_line(channel, order, record, merge))
        saved = False
        for _ in range(_ROUNDS):
            if stored is not None and (
                stored.order.updated_at > order.updated_at
                or (stored.order.updated_at == order.updated_at and stored.order.cancelled and not order.cancelled)
            ):
                break  # a newer snapshot (or a cancel of the same instant) is stored: its fields stay
            if self.orders.save_order(order, order_status(order, kept.shipped()), stored, self.clock()) is not None:
                saved = True
                break
            stored = self.orders.order(order.channel, order.order_id)
        return IntakeReport(order.order_id, saved, tuple(reports))

    def ingest_refunds(
        self, channel_name: str, order_id: str, refunds: list[RefundLine], skus: dict[str, str]
    ) -> IntakeReport:
        """A refund notice on its own: refund lines are facts that never go stale, so they merge
        into the lines whatever snapshot arrived (or has yet to arrive)."""
        channel = self._channel(channel_name)
        kept = self.orders.load(channel_name, order_id)
        stored, records = kept.stored, kept.lines
        placeholder = ChannelOrder(channel_name, order_id, stored.order.number if stored else "", "", "", ())
        order = stored.order if stored else placeholder
        reports = []
        for line_id in dict.fromkeys(r.line_id for r in refunds):
            mine = [r for r in refunds if r.line_id == line_id]
            record = records.get(line_id) or LineRecord(channel_name, order_id, line_id)
            if not record.facts.sku and skus.get(line_id):
                record = replace(record, facts=replace(record.facts, sku=skus[line_id]))

            def merge(facts: LineFacts, mine: list[RefundLine] = mine) -> LineFacts:
                return facts.with_refunds(mine)

            reports.append(self._settle_line(channel, order, record, merge))
        return IntakeReport(order_id, False, tuple(reports))

    def _check_out(self, order: ChannelOrder, record: LineRecord, line: OrderLine) -> LineRecord:
        """A live-sale line takes its cart's held units: the hold is checked out (held ->
        pending, in the hold's own lot) and the line record says so. A hold the ledger never
        saw (its claim is late, or was lost) is ended first, so a late claim holds nothing;
        the line then takes its units as any sale does."""
        if self.ledger is None:
            return record
        event = f"{line.hold_id}:{line_lots(order.channel, order.order_id, line.line_id).removesuffix('#')}"
        try:
            result = self.ledger.checkout_hold(line.hold_id, "checkout", event, sell_if_expired=False)
        except NotFound:
            self.ledger.release_hold(line.hold_id, "checkout", f"{event}:unseen")
            return record
        hold = result.hold
        if hold is None or hold.state is not HoldState.CHECKED_OUT or hold.qty == 0:
            return record  # released, expired, or never placed: the line takes its units as any sale does
        if result.outcome is not Outcome.APPLIED and hold.ended_by != f"checkout:{event}":
            return record  # another line or order checked this cart out: this one is a sale of its own
        facts = replace(record.facts, sku=hold.sku)
        taken = replace(record, facts=facts, sku=hold.sku, location=hold.location, hold=line.hold_id, taken=hold.qty)
        updated = replace(taken, rev=record.rev + 1)
        return updated if self.orders.save_line(record, updated) else self._reread(record)

    # ---- one line
    def _settle_line(
        self, channel: Channel, order: ChannelOrder, record: LineRecord, merge: Callable[[LineFacts], LineFacts]
    ) -> LineReport:
        for _ in range(_ROUNDS):
            facts = merge(record.facts)
            target = facts.units_taken()
            unmapped = self._unmapped(facts, target, record)
            updated = replace(record, facts=facts, rev=record.rev + 1)
            if unmapped or target == record.taken:
                updated = replace(updated, unmapped=unmapped)
                if updated == replace(record, rev=record.rev + 1):
                    return LineReport(record.line_id, facts.sku, record.taken, record.taken, "unchanged")
                if not self.orders.save_line(record, updated):
                    record = self._reread(record)
                    continue
                if unmapped and unmapped != record.unmapped:
                    self._record_unmapped(channel, order, updated, target)
                result = "unmapped" if unmapped else ("untracked" if not facts.tracked else "unchanged")
                return LineReport(record.line_id, facts.sku, record.taken, record.taken, result, unmapped)
            sku = record.sku or facts.sku  # units go back to the SKU they came from
            location = record.location or self._choose_location(channel, sku, target - record.taken)
            if not location:
                updated = replace(updated, unmapped=f"SKU {facts.sku!r} is not stocked where {channel.name} sells")
                if self.orders.save_line(record, updated):
                    self._record_unmapped(channel, order, updated, target)
                    return LineReport(
                        record.line_id, facts.sku, record.taken, record.taken, "unmapped", updated.unmapped
                    )
                record = self._reread(record)
                continue
            updated = replace(updated, location=location, sku=sku, taken=target, unmapped="")
            move = self._move(channel, order, updated, target - record.taken)
            kind = MovementKind.SALE if move.sold else MovementKind.RETURN
            cause = Cause(channel.name, f"order:{order.order_id}:{record.line_id}:{updated.rev}", kind, order.number)
            cancelled = self.stock.move_for_order_line(
                self.orders.line_write(record, updated), move, cause, self.clock()
            )
            if cancelled is None:
                return LineReport(record.line_id, facts.sku, record.taken, target, "moved")
            why = line_cancellation(cancelled)
            if why == "catalog":
                reason = f"SKU {facts.sku!r} is not in the catalog at {location!r}"
                failed = replace(updated, location=record.location, sku=record.sku, taken=record.taken, unmapped=reason)
                if self.orders.save_line(record, failed):
                    self._record_unmapped(channel, order, failed, target)
                    return LineReport(record.line_id, facts.sku, record.taken, record.taken, "unmapped", reason)
            elif why == "counted" and move.sold and self.orders.save_line(record, updated):
                # the platform's own count already includes this sale
                return LineReport(record.line_id, facts.sku, record.taken, target, "counted")
            record = self._reread(record)
        raise StoreUnavailable(f"order line {record.line_id!r} kept changing; retry")

    def _move(self, channel: Channel, order: ChannelOrder, updated: LineRecord, delta: int) -> LineMove:
        sku, location = updated.sku, updated.location
        lots = line_lots(channel.name, order.order_id, updated.line_id)
        at_master = bool(channel.master_location) and location == channel.master_location
        mine = self.stock.lots_named(sku, location, lots)
        if delta > 0:
            # Where the platform is master its own count includes its orders from when they
            # were placed. Orders carry whole seconds and counts microseconds: only a count after
            # the order's second is known to include it.
            version = micros(order.created_at) + 999_999 if at_master and order.created_at else None
            # A lot is numbered by the first of the line's units it holds, so the same units
            # land in the same lot whatever order the snapshots and refunds came in (the record's
            # revision counts every write: a refund or snapshot that moved nothing too). Releases
            # empty the newest lots first, so every lot left starts at or below the units taken;
            # a lot numbered higher (by revision, before) is passed, so none is ever overwritten.
            first = max(updated.taken - delta, max(map(lot_number, mine), default=0)) + 1
            return LineMove(sku, location, sold=delta, new_lot=f"{lots}{first}", applied_version=version)
        held = sorted(mine.items(), key=lambda item: lot_number(item[0]), reverse=True)  # newest first
        if updated.hold:  # the checked-out cart's units sit in the hold's lot, the oldest
            hold_lot = f"hold:{updated.hold}"
            held += [(k, v) for k, v in self.stock.lots_named(sku, location, hold_lot).items() if k == hold_lot]
        taken, wanted = [], -delta
        for key, lot in held:
            if wanted > 0:
                units = min(wanted, lot.qty)
                taken.append((key, lot.qty, units))
                wanted -= units
        # Units whose lots a count cleared are on the shelf again; where the platform is master,
        # its own count brings them back instead.
        return LineMove(sku, location, taken=tuple(taken), to_on_hand=0 if at_master else wanted)

    def _unmapped(self, facts: LineFacts, target: int, record: LineRecord) -> str:
        if record.location:  # it took units from a SKU: it gives them back there
            return ""
        if not facts.sku:
            return "the line has no SKU"
        if len(facts.sku) > MAX_SKU:
            return "the line's SKU is longer than any in the catalog"
        if target == record.taken:
            return ""
        catalog = self.stock.catalog(facts.sku)
        return "" if catalog is not None else f"SKU {facts.sku!r} is not in the catalog"

    def _choose_location(self, channel: Channel, sku: str, units: int) -> str:
        return choose_location(self.stock, channel, sku, units)

    def retry_unmapped(self, channel_name: str, order_id: str) -> list[str]:
        """Settle the order's unmapped lines again with what they last said (after the catalog
        was fixed); why each line still moves nothing, if any."""
        channel = self._channel(channel_name)
        kept = self.orders.load(channel_name, order_id)
        if kept.stored is None:
            raise NotFound(f"order {order_id!r} of {channel_name!r} is not stored")
        for record in kept.lines.values():
            if record.unmapped:
                self._settle_line(channel, kept.stored.order, record, lambda facts: facts)
        lines = self.orders.lines(channel_name, order_id).values()
        return [record.unmapped for record in lines if record.unmapped]

    def _reread(self, record: LineRecord) -> LineRecord:
        fresh = self.orders.lines(record.channel, record.order_id).get(record.line_id)
        return fresh or LineRecord(record.channel, record.order_id, record.line_id)

    def _record_unmapped(self, channel: Channel, order: ChannelOrder, record: LineRecord, target: int) -> None:
        entry = SyncEntry(
            sku=record.facts.sku or f"line:{record.line_id}",
            channel=channel.name,
            attempt=f"order:{order.order_id}:{record.line_id}",
            at=iso(self.clock()),
            before=record.taken,
            after=target,
            why=f"order {order.number or order.order_id}",
            result="unmapped",
            error=record.unmapped,
        )
        self.history.record_sync([entry], self.clock())

    def _channel(self, name: str) -> Channel:
        channel = self.stock.channel(name)
        if channel is None:
            raise NotFound(f"channel {name!r} is not configured")
        return channel


def choose_location(stock: StockStore, channel: Channel, sku: str, units: int) -> str:
    """Where a channel's sale of ``units`` of ``sku`` is taken from: its master location if it
    has one, else the first of its locations that stocks the SKU and has the units (the first
    that stocks it, if none has; "" if none stocks it). Orders and live-sale claims alike."""
    if channel.master_location:
        return channel.master_location
    catalog = stock.catalog(sku)
    if catalog is None:
        return ""
    candidates = [loc for loc in channel.locations if loc in catalog.locations]
    if len(candidates) <= 1 or units <= 0:
        return candidates[0] if candidates else ""
    available = {level.location: level.available for level in stock.stock_levels(sku)}
    return next((loc for loc in candidates if available.get(loc, 0) >= units), candidates[0])


def confirm_master_lots(
    ledger: Ledger,
    records: list[LineRecord],
    order: tuple[str, str],
    document: str,
    version: int,
    units: dict[str, int],
    source: str,
) -> int:
    """A master (the POS, the ERP) took ``units`` (per SKU) of the order ``(channel, order id)``
    in ``document`` at ``version``: confirm that many of the pending units of ``records`` (its
    lines at the master's locations), whole lots, oldest first; a lot larger than what is left
    stays pending. Each confirmation is keyed by the document and the lot, so a repeat changes
    nothing. Returns the lots newly confirmed."""
    channel, order_id = order
    store, confirmed = ledger.store, 0
    left = {sku: qty for sku, qty in units.items() if qty > 0}
    for record in records:
        sku = record.sku or record.facts.sku
        if record.taken <= 0 or left.get(sku, 0) <= 0:
            continue
        lots = store.lots_named(sku, record.location, line_lots(channel, order_id, record.line_id))
        if record.hold and (held := store.lot(sku, record.location, f"hold:{record.hold}")) is not None:
            lots[f"hold:{record.hold}"] = held
        for key, lot in sorted(lots.items(), key=lambda found: (lot_number(found[0]), found[0])):  # oldest first
            if lot.qty > left.get(sku, 0):
                continue  # the master took fewer units than this lot holds: it stays pending
            left[sku] -= lot.qty
            try:
                result = ledger.confirm_pending(sku, record.location, key, version, source, f"{document}:{key}")
            except NotFound:  # cleared already (by an earlier confirmation and a count)
                continue
            confirmed += result.outcome is Outcome.APPLIED
    return confirmed
