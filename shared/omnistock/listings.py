"""What a channel says about its own listings: products (the listing map) and inventory levels.

- Products keep the map variant <-> inventory item <-> SKU current. A SKU the ledger has never
  seen joins the catalog at the channel's locations, and each channel's rule for new SKUs
  (auto sync) decides whether it is pushed.
- An inventory level equal to what Omnistock last made the channel show is our own echo and
  changes nothing. Any other value is a change made on the channel: where the channel is the
  master of the location it is a count (``Ledger.report_channel_level``); elsewhere it is
  noted as what the channel shows, written to the sync history, and the reconcile schedule
  restores the ledger's number once the grace window has let the channel's own events
  (an order whose webhook is on its way) arrive.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from omnistock.clock import epoch_seconds_after, iso, micros, utc_now
from omnistock.errors import Conflict
from omnistock.ledger import Ledger
from omnistock.models import Channel, Outcome
from omnistock.policy import SkuPolicy
from omnistock.store.listing_store import ListingStore
from omnistock.store.push_store import PushStore


@dataclass(frozen=True)
class Variant:
    variant: str
    listing_id: str  # the id pushes write to (Shopify: the inventory item GID)
    sku: str
    tracked: bool


@dataclass(frozen=True)
class LevelOutcome:
    result: str  # echo | count | stale | drift | unmapped | elsewhere
    sku: str = ""
    detail: str = ""


class ListingDesk:
    def __init__(
        self,
        ledger: Ledger,
        listings: ListingStore,
        history: PushStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger = ledger
        self.listings = listings
        self.history = history
        self.clock = clock

    # ---- products
    def on_product(
        self, channel: Channel, product_id: str, title: str, updated_at: str, variants: list[Variant]
    ) -> int:
        """Map a product's variants; returns how many SKUs joined or changed in the catalog."""
        mapped = [
            {"variant": v.variant, "listing_id": v.listing_id, "sku": v.sku} for v in variants if v.sku and v.tracked
        ]
        if not self.listings.save_product(channel.name, product_id, updated_at or iso(self.clock()), mapped):
            return 0  # a newer version of the product was mapped already
        skus = [variant["sku"] for variant in mapped]
        # A SKU on two variants (of this product, or found so by a catalog import) maps to neither.
        twice = {sku for sku in skus if skus.count(sku) > 1} | self.listings.held_duplicates(channel.name, skus)
        changed = 0
        for variant in mapped:
            sku, listing_id = variant["sku"], variant["listing_id"]
            if sku in twice:
                why = "two variants use this SKU: neither is mapped until each has its own"
                self._note(sku, channel.name, "products", "unmapped", why)
                continue
            entry = self.ledger.store.catalog(sku)
            if entry is not None and entry.listings.get(channel.name) == listing_id:
                continue
            locations = list(entry.locations) if entry else list(channel.locations)
            listings = dict(entry.listings) if entry else {}
            listings[channel.name] = listing_id
            try:
                title = entry.title if entry and entry.title else title
                self.ledger.upsert_catalog(sku, locations, listings, title, entry_way="channel")
                changed += 1
            except Conflict as error:  # the listing id already belongs to another SKU: say so, map nothing
                self._note(sku, channel.name, "products", "unmapped", str(error))
        return changed

    def on_product_deleted(self, channel: Channel, product_id: str) -> int:
        product = self.listings.product(channel.name, product_id)
        if product is None or product.get("deleted"):
            return 0
        unmapped = 0
        for variant in product.get("variants") or []:
            entry = self.ledger.store.catalog(variant["sku"])
            if entry is not None and entry.listings.get(channel.name) == variant["listing_id"]:
                listings = {k: v for k, v in entry.listings.items() if k != channel.name}
                self.ledger.upsert_catalog(entry.sku, list(entry.locations), listings, entry.title)
                unmapped += 1
            self.listings.forget_variant(channel.name, variant["variant"])
        now = self.clock()
        self.listings.forget_product(channel.name, product_id, iso(now), epoch_seconds_after(now, 30))
        return unmapped

    def sku_for_variant(self, channel: str, variant: str) -> str | None:
        return self.listings.owner(channel, variant) if variant else None

    # ---- inventory levels
    def on_level(
        self, channel: Channel, listing_id: str, location: str, shown: int, reported_at: str, event_id: str
    ) -> LevelOutcome:
        """``reported_at`` is the channel's signed time for the level (UTC ISO, microseconds
        kept), "" when the report carries none: then it cannot be a count (nothing says it is
        newer than the last one), and a drift is noted at the time it arrived."""
        if location != channel.target_location:
            return LevelOutcome("elsewhere", detail="not the location this channel's number is kept at")
        sku = self.listings.owner(channel.name, listing_id)
        if sku is None:
            self._note(f"item:{listing_id}", channel.name, "inventory level", "unmapped", "no SKU has this listing")
            return LevelOutcome("unmapped", detail="no SKU has this listing")
        catalog = self.ledger.store.catalog(sku)
        if channel.master_location and catalog is not None and channel.master_location in catalog.locations:
            # The master's number is a count even when it equals ours: its time decides.
            return self._count(channel, sku, listing_id, shown, reported_at, event_id)
        pushed = self.history.pushed(sku, channel.name)
        if pushed is not None and pushed.quantity == shown:
            return LevelOutcome("echo", sku)
        now = self.clock()
        if not self.history.note_channel_level(
            sku, channel.name, listing_id, shown, reported_at or now.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), now, defer=True
        ):
            return LevelOutcome("stale", sku)
        before = pushed.quantity if pushed else None
        self._note(
            sku,
            channel.name,
            "inventory level",
            "drift",
            "the channel's number moved on its own; reconcile restores the ledger's after the grace window",
            before,
            shown,
        )
        return LevelOutcome("drift", sku)

    def _count(
        self, channel: Channel, sku: str, listing_id: str, shown: int, reported_at: str, event_id: str
    ) -> LevelOutcome:
        """The master's own number: a count of its location, ordered by the channel's time.
        What Omnistock keeps off the number (policies) is added back; a number Omnistock
        forced (paused, or at its cap) says nothing about the shelf and is not a count; nor is a
        number with no signed time (nothing says it is newer than the count applied)."""
        if not reported_at:
            why = "the level carries no signed time, so it cannot be ordered: not a count"
            self._note(sku, channel.name, "inventory level", "ignored", why)
            return LevelOutcome("ignored", sku, why)
        policies = self.history.push_state(sku).policies
        own = policies.get(channel.name, SkuPolicy())
        cap = channel.max_shown if own.max_shown is None else own.max_shown
        withheld: int | None
        if not (channel.auto_sync if own.auto_sync is None else own.auto_sync):
            withheld = None  # not pushed: the number is the platform's own
        elif own.paused or (cap is not None and shown >= cap):
            return LevelOutcome("ignored", sku, "the channel's number is paused or capped by Omnistock: not a count")
        else:
            buffer = channel.buffer if own.buffer is None else own.buffer
            withheld = buffer + sum(p.allocation for name, p in policies.items() if name != channel.name)
        version = micros(reported_at)
        result = self.ledger.report_channel_level(
            sku, channel, shown, version, event_id, reported_at, withheld=withheld
        )
        if result.outcome is Outcome.STALE:
            return LevelOutcome("stale", sku)
        self.history.note_channel_level(sku, channel.name, listing_id, shown, reported_at, self.clock(), defer=False)
        return LevelOutcome("count", sku)

    def _note(
        self, sku: str, channel: str, why: str, result: str, error: str, before: int | None = None, after: int = 0
    ) -> None:
        self.history.note(sku, channel, why, result, error, self.clock(), before, after)
