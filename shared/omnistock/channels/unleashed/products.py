"""The product master, one way only (setting ``unleashed.product_master``):

- ``unleashed``: products created or edited in Unleashed (``GET /Products`` since the cursor)
  join the catalog at the mapped warehouses' locations and are created or updated in Shopify:
  title, SKU, barcode and price. A SKU Shopify does not list yet becomes a one-variant product
  (``productSet`` by a handle made from the SKU, so a repeat after a lost answer updates what
  the first made); one the retailer already sells there keeps its product and title, and only
  its variant's price and barcode follow Unleashed. Obsolete products are left alone.
- ``shopify``: products created or edited in Shopify (``products`` updated since the cursor)
  are created or updated in Unleashed (``POST /Products/{Guid}``, the Guid chosen here from the
  SKU, or Unleashed's own when the product code is there already) [assumed: the POST creates or
  updates by Guid, as Unleashed's other resources do; a refusal because the code exists is
  answered by looking the product up by code and writing to its Guid].
- ``off`` (the default): neither.

Both ways at once is not a value the setting takes: each side's edits would come back as the
other's. Each SKU's last write is recorded with the master's modified time, so a late or
repeated report never overwrites a newer one, and an unchanged product costs no call. A product
the other side refuses is written to the sync history with the reason and tried again at the
next change (the cursor moves on; the record keeps the last good write). A side that does not
answer, or refuses the connection itself (credentials, scopes), stops the pass where it is: the
cursor stays, and the next pass writes the same again (Shopify by the handle, Unleashed by the
Guid), so a lost answer never makes a second product and nothing is skipped.

Unleashed's reads count against the month's budget: products are read only while the budget is
"ok" (or when a webhook hinted a change), after stock and shipments, which matter more.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels import ChannelRefused, ChannelUnavailable
from omnistock.channels.shopify.products import ProductFacts, ProductRefused, ShopifyProduct, handle_for
from omnistock.channels.unleashed.api import (
    ChangedRows,
    QuotaExhausted,
    UnleashedRefused,
    modified_since,
    unleashed_time,
)
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.errors import Conflict, InvalidRequest
from omnistock.models import MasteredProduct, SyncEntry

if TYPE_CHECKING:
    from omnistock.channels.shopify.products import ChangedVariant
    from omnistock.ledger import Ledger
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.listing_store import ListingStore
    from omnistock.store.product_master_store import ProductMasterStore
    from omnistock.store.push_store import PushStore

MODES = ("off", "unleashed", "shopify")
UNLEASHED_CURSOR = "unleashed:products"
SHOPIFY_CURSOR = "shopify:products-for-unleashed"
OVERLAP = timedelta(minutes=5)
NAMESPACE = uuid.UUID("5d0c1a77-3f0e-4b52-8f36-756e6c507264")
SOURCE = "unleashed"
OVER_50 = "products_with_over_50_variants"


class UnleashedProductsApi(Protocol):
    def page(self, endpoint: str, number: int, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]: ...
    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None: ...
    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def budget_state(self) -> str: ...


class ShopifyProductWriter(Protocol):
    def set_product(self, facts: ProductFacts, location: str, variant_id: str = "") -> ShopifyProduct: ...
    def update_variant(self, product_id: str, variant_id: str, facts: ProductFacts) -> None: ...
    def variant_of(self, item_id: str) -> tuple[str, str, str] | None: ...
    def changed_since(self, since: str, after: str) -> tuple[list[ChangedVariant], str, bool, int]: ...


def checked_mode(value: object) -> str:
    if value not in MODES:
        raise ValueError('"off", "unleashed" (Unleashed\'s products flow to Shopify) or "shopify" (the reverse)')
    return str(value)


def product_guid(sku: str) -> str:
    return str(uuid.uuid5(NAMESPACE, sku))


class ProductMaster:
    def __init__(
        self,
        ledger: Ledger,
        records: ProductMasterStore,
        cursors: CursorStore,
        listings: ListingStore,
        history: PushStore,
        locations: list[str],
        channel: str,
        shop_location: str = "",
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger, self.records, self.cursors = ledger, records, cursors
        self.listings, self.history = listings, history
        self.locations = list(dict.fromkeys(locations))  # where a new SKU is kept (the warehouses')
        self.channel = channel  # the Shopify channel products are listed on
        self.shop_location = shop_location  # the channel's Shopify location: a new product is stocked there
        self.clock = clock

    # ---- Unleashed is master
    def from_unleashed(
        self, api: UnleashedProductsApi, shop: ShopifyProductWriter, out_of_time: Callable[[], bool]
    ) -> dict[str, Any]:
        report: dict[str, Any] = {"products": 0}
        cursor = self.cursors.cursor(UNLEASHED_CURSOR)
        newest = cursor or ""
        rows = ChangedRows(api, "Products", modified_since(cursor, OVERLAP), lambda: False)
        try:
            for item in rows:
                if out_of_time():  # a pass cut short reads again: what it wrote is unchanged, no call
                    break
                result, modified = self._from_unleashed(item, shop)
                report["products"] += 1
                report[result] = report.get(result, 0) + 1
                newest = max(newest, modified)
        except QuotaExhausted as exhausted:
            return report | {"budget": str(exhausted)}
        except ChannelRefused as refused:  # credentials, scopes: nothing goes until fixed (cursor stays)
            return report | {"stopped": str(refused)[:300]}
        except ChannelUnavailable as unavailable:  # the cursor stays: the next pass writes it again
            return report | {"waiting": str(unavailable)[:300]}
        if newest and rows.complete:
            self.cursors.advance_cursor(UNLEASHED_CURSOR, newest)
        return report

    def _from_unleashed(self, item: dict[str, Any], shop: ShopifyProductWriter) -> tuple[str, str]:
        sku = str(item.get("ProductCode") or "").strip()
        modified = unleashed_time(item.get("LastModifiedOn"))
        if not sku or modified is None:
            return "skipped", ""
        if item.get("Obsolete"):
            return "obsolete", iso(modified)
        title = str(item.get("ProductDescription") or sku).strip()[:200]
        facts = ProductFacts(sku, title, str(item.get("Barcode") or "").strip(), _money(item.get("DefaultSellPrice")))
        version = int(modified.timestamp() * 1000)
        record = self.records.get("shopify", sku)
        if record is not None and record.version >= version:
            return "stale", iso(modified)  # this or a newer version was written already
        try:
            entry = self._join_catalog(facts)
            if record is not None and record.fingerprint == facts.fingerprint():
                self.records.save("shopify", replace(record, version=version))
                return "unchanged", iso(modified)
            written = self._to_shopify(facts, record, entry.listings.get(self.channel), shop)
        except (ProductRefused, Conflict, InvalidRequest) as refused:  # this product: the next may go
            self._note(sku, f"product {sku} into Shopify", str(refused))
            return "refused", iso(modified)
        self.records.save("shopify", MasteredProduct(sku, version, facts.fingerprint(), *written))
        return "written", iso(modified)

    def _join_catalog(self, facts: ProductFacts) -> Any:
        entry = self.ledger.store.catalog(facts.sku)
        if entry is None:
            return self.ledger.upsert_catalog(facts.sku, self.locations, {}, facts.title, entry_way="channel")
        if entry.title != facts.title:
            return self.ledger.patch_catalog(facts.sku, title=facts.title)
        return entry

    def _to_shopify(
        self, facts: ProductFacts, record: MasteredProduct | None, listed: str | None, shop: ShopifyProductWriter
    ) -> tuple[str, str, str, bool]:
        """Write it; (product, variant, inventory item, made by Omnistock). A listed SKU with no
        record (a run died after writing, or the product's webhook came first) is Omnistock's
        when its product has the handle Omnistock gives: then it stays Omnistock's to write."""
        if listed and record is None:
            found = shop.variant_of(listed)
            if found is None:
                raise ProductRefused(f"Shopify has no variant for the listing {listed}: import the catalog again")
            record = MasteredProduct(facts.sku, 0, "", found[0], found[1], listed, found[2] == handle_for(facts.sku))
        if listed and record is not None and not record.made:  # the retailer's own product
            shop.update_variant(record.product_id, record.variant_id, facts)
            return record.product_id, record.variant_id, listed, False
        made = shop.set_product(facts, self.shop_location, record.variant_id if record else "")
        if listed != made.item_id:
            self.ledger.patch_catalog(facts.sku, listings={self.channel: made.item_id})
            self.listings.map_variants(self.channel, [(made.variant_id, facts.sku)])  # its orders name the variant
        return made.product_id, made.variant_id, made.item_id, True

    # ---- Shopify is master
    def from_shopify(
        self, api: UnleashedProductsApi, shop: ShopifyProductWriter, out_of_time: Callable[[], bool]
    ) -> dict[str, Any]:
        report: dict[str, Any] = {"products": 0}
        cursor = self.cursors.cursor(SHOPIFY_CURSOR)
        since = iso(parse_iso(cursor) - OVERLAP) if cursor else ""
        newest, after, more, stopped = cursor or "", "", True, False
        try:
            while more and not stopped:
                changed, after, more, truncated = shop.changed_since(since, after)
                if truncated:  # their first 50 variants are read; the rest are counted here
                    report[OVER_50] = report.get(OVER_50, 0) + truncated
                for variant in changed:
                    if out_of_time():
                        stopped = True
                        break
                    result = self._from_shopify(variant.facts, variant.updated_at, api)
                    report["products"] += 1
                    report[result] = report.get(result, 0) + 1
                    newest = max(newest, variant.updated_at)
        except QuotaExhausted as exhausted:
            return report | {"budget": str(exhausted)}
        except ChannelRefused as refused:
            return report | {"stopped": str(refused)[:300]}
        except ChannelUnavailable as unavailable:
            return report | {"waiting": str(unavailable)[:300]}
        if newest and not stopped and not more:
            self.cursors.advance_cursor(SHOPIFY_CURSOR, newest)
        return report

    def _from_shopify(self, facts: ProductFacts, updated_at: str, api: UnleashedProductsApi) -> str:
        try:
            version = int(parse_iso(updated_at).timestamp() * 1000)
        except ValueError:
            return "skipped"
        record = self.records.get("unleashed", facts.sku)
        if record is not None and record.version >= version:
            return "stale"
        if record is not None and record.fingerprint == facts.fingerprint():
            self.records.save("unleashed", replace(record, version=version))
            return "unchanged"
        guid = record.product_id if record else product_guid(facts.sku)
        try:
            guid = self._to_unleashed(api, guid, facts)
        except UnleashedRefused as refused:
            self._note(facts.sku, f"product {facts.sku} into Unleashed", str(refused))
            return "refused"
        self.records.save("unleashed", MasteredProduct(facts.sku, version, facts.fingerprint(), guid))
        return "written"

    def _to_unleashed(self, api: UnleashedProductsApi, guid: str, facts: ProductFacts) -> str:
        body = {"ProductCode": facts.sku, "ProductDescription": facts.title, "DefaultSellPrice": float(facts.price)}
        if facts.barcode:
            body["Barcode"] = facts.barcode
        try:
            api.post(f"Products/{guid}", body | {"Guid": guid})
            return guid
        except UnleashedRefused as refused:
            if "already exist" not in str(refused).lower():
                raise
        found = api.get("Products", {"productCode": facts.sku})  # whose is the code?
        items = (found or {}).get("Items") or []
        theirs = next((str(i.get("Guid")) for i in items if str(i.get("ProductCode")) == facts.sku), "")
        if not theirs:
            raise UnleashedRefused(f"Unleashed refused product {facts.sku} as existing, and has none with its code")
        if theirs != guid:  # Unleashed's own product of that code: written there
            api.post(f"Products/{theirs}", body | {"Guid": theirs})
            return theirs
        api.post(f"Products/{guid}", body | {"Guid": guid})  # ours, made by a call whose answer was lost
        return guid

    def _note(self, sku: str, what: str, why: str) -> None:
        now = self.clock()
        entry = SyncEntry(sku, SOURCE, f"product:{iso(now)}", iso(now), None, 0, what, "failed", why[:300])
        self.history.record_sync([entry], now)


def _money(value: Any) -> str:
    try:
        return f"{Decimal(str(value if value is not None else 0)):.2f}"
    except InvalidOperation:
        return "0.00"
