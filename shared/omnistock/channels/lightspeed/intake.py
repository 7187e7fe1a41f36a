"""Lightspeed X-Series, the shop's POS, applied to the ledger as master of its outlets' counts.

- ``inventory.update`` (and the inventory feed) is a master count for the outlet's location,
  ordered by Lightspeed's ``version``: a late delivery of an older count changes nothing.
- Units sold online stay pending until a count known to include them arrives, so a count
  that predates a web sale never brings its units back. A count that includes a sale the
  ledger does not yet know it includes leaves the lot pending too: the units are then off the
  number twice (never oversold) until the sale's confirmation clears the lot.
- ``sale.update`` (and the sales feed): every till sale is written to the SKU's movement log;
  an imported sale (its ``source`` is the importer, not ``USER``, the till) whose receipt number
  is a web order's number (and whose ``source_id``, when given, is that order's id) is that order
  imported by the POS, so once the sale is closed (the POS took its units) it confirms the
  order's pending lots at the sale's version. Receipt
  numbers and web order numbers both count up from about 1000, so a till sale is never taken
  for an import, whatever its number. A count at or after that version
  includes the sale and clears them (now, if such a count came first). Only units the sale
  carries are confirmed: a partial import leaves the rest pending.
- A sale marked for delivery is also exported to ShipStation when the retailer chose so
  (``deliveries``, the ``lightspeed.shipstation`` setting).
- Outlets and products Omnistock does not know are written to the sync history as unmapped
  and move nothing. A count for a SKU that is not in the catalog at the outlet's location yet
  is kept (the newest version) and applied when the SKU is added there.

Lightspeed's ``version`` grows retailer-wide with every change of any record; a sale's
inventory changes are assumed to be written with or after the sale (so the sale's version is a
lower bound for the counts that include it).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels.lightspeed import webhooks
from omnistock.channels.lightspeed.feed import COLLECTIONS, FeedPage, RateLimited
from omnistock.clock import epoch_seconds_after, iso, parse_iso, utc_now
from omnistock.errors import InvalidRequest, NotFound, StoreRefused
from omnistock.ledger import Ledger
from omnistock.models import Movement, MovementKind, ParkedCount, Quantities, SyncEntry
from omnistock.order_desk import confirm_master_lots

if TYPE_CHECKING:  # the stores arrive built (the wiring); a platform never reaches into the table
    from omnistock.channels.lightspeed.deliveries import PosDeliveries
    from omnistock.orders import LineRecord
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.listing_store import ListingStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.push_store import PushStore

SOURCE = "lightspeed"
TILL = ("", "USER")  # sales rung up at the till (or of unknown origin): never an import
# Statuses of a sale whose units the POS has taken (a parked, open or voided one has not yet, or
# not at all): only these confirm an import; a later delivery at one of them confirms then.
TAKEN = ("CLOSED", "ONACCOUNT_CLOSED", "LAYBY_CLOSED", "DISPATCHED_CLOSED", "PICKED_UP_CLOSED")
TOMBSTONE_DAYS = 30
MAX_WAIT = timedelta(minutes=15)  # the quota is per 5 minutes: a later Retry-After is misread
COLLECTION_TYPES = {"products": "product.update", "inventory": "inventory.update", "sales": "sale.update"}


class ChangeFeed(Protocol):
    def changes(self, collection: str, after: int) -> FeedPage: ...


class LightspeedIntake:
    def __init__(
        self,
        ledger: Ledger,
        listings: ListingStore,
        orders: OrderStore,
        history: PushStore,
        outlets: dict[str, str],
        cursors: CursorStore,
        *,
        domain_prefix: str = "",
        clock: Callable[[], datetime] = utc_now,
        deliveries: PosDeliveries | None = None,
    ) -> None:
        self.ledger = ledger
        self.listings = listings
        self.cursors = cursors
        self.orders = orders
        self.history = history
        self.outlets = dict(outlets)  # outlet id (or register id) -> location
        self.domain_prefix = domain_prefix  # this store's; another store's deliveries are not ours
        self.clock = clock
        self.deliveries = deliveries  # sales to ship through ShipStation, when the retailer chose so

    @property
    def locations(self) -> set[str]:
        """The locations the POS is master of."""
        return set(self.outlets.values())

    def handle(self, delivery: webhooks.Delivery) -> dict[str, Any]:
        """Apply one verified delivery; webhooks.PayloadError when its payload is not its type's shape.
        The client secret signs every store the app is installed in: a delivery naming another
        store is ignored."""
        if self.domain_prefix and delivery.domain_prefix not in ("", self.domain_prefix):
            return {"result": "ignored", "detail": "a delivery from another store"}
        if delivery.type not in webhooks.TYPES:
            return {"result": "ignored", "detail": "type not handled"}
        try:
            return self._apply(delivery.type, delivery.payload)
        except StoreRefused as error:  # final: recorded, and answered so Lightspeed stops retrying
            self._note_rejected(delivery.type, delivery.payload, str(error))
            return {"result": "rejected", "detail": "the table cannot hold this delivery as sent; recorded"}

    # ================================================================ counts
    def count(self, count: webhooks.InventoryCount) -> dict[str, Any]:
        attempt = f"inventory:{count.product_id}:{count.outlet_id}:{count.version}"
        if count.sku:  # the webhook names the product's SKU: keep the map the feeds read by
            self._map(count.product_id, count.sku, count.version)
        location = self.outlets.get(count.outlet_id)
        sku = count.sku or self.listings.owner(SOURCE, count.product_id)
        if location is None:
            return self._unmapped(sku, count, attempt, "the outlet is not mapped to a location")
        if not sku:
            return self._unmapped(sku, count, attempt, "the product has no SKU Omnistock knows")
        try:
            result = self.ledger.report_count(sku, location, max(0, count.count), count.version, SOURCE, attempt)
        except (NotFound, InvalidRequest) as error:  # not in the catalog, or not stocked there: kept
            self.ledger.park_count(ParkedCount(sku, location, max(0, count.count), count.version, SOURCE, attempt))
            return self._unmapped(sku, count, attempt, f"{error}; kept, and applied once it is in the catalog there")
        answer = {"result": result.outcome.value, "sku": sku, "location": location, "version": count.version}
        if count.count < 0:
            answer["detail"] = "the POS counts fewer than zero; counted as 0"
        return answer

    def _unmapped(self, sku: str | None, count: webhooks.InventoryCount, attempt: str, why: str) -> dict[str, Any]:
        now = self.clock()
        entry = SyncEntry(
            sku=sku or f"product:{count.product_id}",
            channel=SOURCE,
            attempt=attempt,
            at=iso(now),
            before=None,
            after=count.count,
            why="POS count",
            result="unmapped",
            error=why,
        )
        self.history.record_sync([entry], now)
        return {"result": "unmapped", "detail": why}

    # ================================================================ products
    def product(self, product: webhooks.Product) -> dict[str, Any]:
        at = _version_key(product.version)
        if product.deleted:  # a tombstone, unless a newer version of the product is recorded
            purge_at = epoch_seconds_after(self.clock(), TOMBSTONE_DAYS)
            if self.listings.forget_product(SOURCE, product.product_id, at, purge_at, unless_newer=True):
                self.listings.forget_variant(SOURCE, product.product_id)
            return {"result": "unmapped", "detail": "the product is deleted"}
        if not product.sku:  # no SKU at this version: unmapped until it has one again
            if self.listings.save_product(SOURCE, product.product_id, at, []):
                self.listings.forget_variant(SOURCE, product.product_id)
            return {"result": "unmapped", "detail": "the product has no SKU"}
        saved = self._map(product.product_id, product.sku, product.version)
        return {"result": "applied" if saved else "stale", "sku": product.sku}

    def _map(self, product_id: str, sku: str, version: int) -> bool:
        if self.listings.owner(SOURCE, product_id) == sku:
            return True
        return self.listings.save_product(
            SOURCE, product_id, _version_key(version), [{"variant": product_id, "sku": sku}]
        )

    # ================================================================ sales
    def sale(self, sale: webhooks.PosSale) -> dict[str, Any]:
        location = self._sale_location(sale)
        units: dict[str, int] = {}
        unmapped = 0
        for line in sale.lines:
            sku = self.listings.owner(SOURCE, line.product_id)
            if sku is None:
                unmapped += 1
                continue
            units[sku] = units.get(sku, 0) + line.quantity
            self._log(sale, line, sku, location)
        confirmed = 0
        imported = sale.source not in TILL and sale.invoice_number
        if imported and not sale.deleted and sale.status in TAKEN:
            confirmed = self._confirm_imported_order(sale, units)
        answer = {"result": "applied", "sale": sale.sale_id, "confirmed_lots": confirmed, "unmapped_lines": unmapped}
        shipping = self.deliveries.sale(sale) if self.deliveries is not None else ""
        return answer | ({"shipping": shipping} if shipping else {})

    def _sale_location(self, sale: webhooks.PosSale) -> str:
        location = self.outlets.get(sale.outlet_id) or self.outlets.get(sale.register_id)
        if location:
            return location
        return next(iter(self.locations)) if len(self.locations) == 1 else ""

    def _log(self, sale: webhooks.PosSale, line: webhooks.SaleLine, sku: str, location: str) -> None:
        """A movement that changes no stock (the POS's own count brings the sale), keyed by the
        sale's line and time only, so a redelivery or the poll rewrites the same entry."""
        store = self.ledger.store
        if not sale.sold_at or parse_iso(sale.sold_at) < self.clock() - timedelta(days=store.retention.movements_days):
            return  # no time to file it under, or older than the log keeps (a first poll reads it all)
        note = (
            f"POS sale {sale.invoice_number} ({sale.status or 'status unknown'}): {line.quantity} units; "
            "the POS's own count brings it"
        )
        # It moves nothing here (the POS's count does): before and after are the level as it stands.
        level = store.level_at(sku, location) if location else None
        stands = Quantities(level.on_hand, level.held, level.pending, level.available) if level else _NONE
        movement = Movement(
            sku,
            location or "pos",
            sale.sold_at,
            level.rev if level else 0,
            SOURCE,
            f"sale:{sale.sale_id}",
            MovementKind.SALE,
            note,
            stands,
            stands,
        )
        # a delivery that cannot place the sale never overwrites one that could
        store.log_movement(movement, f"pos-sale:{sale.sale_id}:{line.line_id}", keep_existing=not location)

    def _confirm_imported_order(self, sale: webhooks.PosSale, units: dict[str, int]) -> int:
        """Confirm the pending lots of the web order this sale imports, up to the units the sale
        carries per SKU. The order is the one whose id is the sale's ``source_id``; without one,
        the one order of that number (narrowed to the importing platform's channels), or none:
        two orders of one number on different channels stay pending rather than guess."""
        found = []
        for number in dict.fromkeys((sale.invoice_number, "#" + sale.invoice_number.removeprefix("#"))):
            found += [(c, o) for c, o in self.orders.orders_numbered(number) if c != SOURCE]
        if sale.source_id:
            found = [(c, o) for c, o in found if o == sale.source_id]
        elif len(found) > 1:
            platforms = {c.name: c.platform for c in self.ledger.store.channels()}
            found = [(c, o) for c, o in found if platforms.get(c, "").upper() == sale.source]
        if len(found) != 1:
            return 0
        location = self._sale_location(sale) or None
        return self.confirm_order_lots(*found[0], sale.sale_id, sale.version, units, location)

    def confirm_order_lots(
        self,
        channel: str,
        order_id: str,
        sale_id: str,
        version: int,
        units: dict[str, int],
        location: str | None,
        lines: list[LineRecord] | None = None,
    ) -> int:
        """The POS took ``units`` (per SKU) of the order at ``location`` (any of its locations
        when None) in its sale ``sale_id`` at ``version``: confirm that many of the order's
        pending units there, whole lots, oldest first. Returns the lots newly confirmed.
        ``lines``: the order's line records, when the caller has read them already."""
        records = lines if lines is not None else list(self.orders.lines(channel, order_id).values())
        mine = [r for r in records if r.location in self.locations and (location is None or r.location == location)]
        return confirm_master_lots(self.ledger, mine, (channel, order_id), f"sale:{sale_id}", version, units, SOURCE)

    # ================================================================ the poll
    def poll(self, feed: ChangeFeed, out_of_time: Callable[[], bool]) -> dict[str, Any]:
        """Make the webhooks complete: products, inventory and sales changed since each version
        cursor, through the same paths; a cursor moves once its page is applied. A 429 stops
        the run and the next runs wait until its Retry-After."""
        report: dict[str, Any] = {"products": 0, "inventory": 0, "sales": 0, "skipped": 0}
        waiting = self.cursors.cursor(f"{SOURCE}:retry-after")
        if waiting and waiting > iso(self.clock()):
            return report | {"rate_limited_until": waiting}
        for collection in COLLECTIONS:
            name = f"{SOURCE}:{collection}"
            after = int(self.cursors.cursor(name) or 0)
            while not out_of_time():
                try:
                    page = feed.changes(collection, after)
                except RateLimited as limited:  # a date past the quota's own window is not believed
                    until = iso(min(limited.retry_at, self.clock() + MAX_WAIT))
                    self.cursors.advance_cursor(f"{SOURCE}:retry-after", until)
                    return report | {"rate_limited_until": until}
                if not page.records:
                    break
                for record in page.records:
                    try:
                        self._apply(COLLECTION_TYPES[collection], record)
                        report[collection] += 1
                    except webhooks.PayloadError:
                        report["skipped"] += 1  # one odd record must not stop every poll
                    except StoreRefused as error:  # nor one the table cannot hold: recorded, stepped past
                        report["skipped"] += 1
                        self._note_rejected(COLLECTION_TYPES[collection], record, str(error))
                after = page.max_version
                self.cursors.advance_cursor(name, _version_key(after))
        return report

    def _apply(self, kind: str, record: dict[str, Any]) -> dict[str, Any]:
        """One record of a type (a webhook's, or a feed's: their collections name the same types)."""
        if kind == "product.update":
            return self.product(webhooks.product(record))
        if kind == "inventory.update":
            if record.get("deleted_at"):  # a feed's deleted inventory record: no count
                return {"result": "ignored", "detail": "the inventory record is deleted"}
            return self.count(webhooks.inventory_count(record))
        return self.sale(webhooks.pos_sale(record))

    def _note_rejected(self, kind: str, record: dict[str, Any], problem: str) -> None:
        reference = f"{kind}:{str(record.get('id') or record.get('product_id') or '')[:100]}"
        self.history.note(reference, SOURCE, "POS delivery", "rejected", problem, self.clock())


_NONE = Quantities(0, 0, 0, 0)  # a till sale at a location the ledger does not know


def _version_key(version: int) -> str:
    """A version as text that sorts like the number (cursors and product records compare text)."""
    return f"{version:020d}"
