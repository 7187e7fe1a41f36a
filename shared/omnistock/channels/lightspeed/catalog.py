"""Lightspeed's catalog for an import: its products become catalog entries at the mapped
outlets' locations, then its inventory records become counts.

Both are read from the start of the change feeds (``after=0``), on the import's own cursor, so
the poll's cursors are untouched. Products go first: a product with a SKU is mapped (as the poll
maps it) and, when the SKU is new to the ledger and the request says ``add_new``, added at every
location an outlet is mapped to; a SKU the ledger has gains the mapped locations it lacks. Then
every inventory record goes through the poll's own count path: ordered by Lightspeed's version,
so a newer count applied meanwhile wins, and a count for a SKU not at that location yet is kept
and applied once it is. With ``check`` the products are compared and nothing is written.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from omnistock.channels import ImportStep
from omnistock.channels.lightspeed import webhooks
from omnistock.channels.lightspeed.intake import ChangeFeed, LightspeedIntake
from omnistock.errors import Conflict, InvalidRequest
from omnistock.models import ImportLine

if TYPE_CHECKING:
    from omnistock.models import CatalogEntry

PRODUCTS, INVENTORY = "products", "inventory"


class LightspeedCatalog:
    def __init__(self, feed: ChangeFeed, intake: LightspeedIntake) -> None:
        self.feed = feed
        self.intake = intake
        self.ledger = intake.ledger

    def import_page(self, cursor: str, *, check: bool, add_new: bool) -> ImportStep:
        phase, _, after = cursor.partition(":")
        version = int(after) if after.isdigit() else 0
        if phase == INVENTORY:
            return self._inventory(version, check)
        page = self.feed.changes(PRODUCTS, version)
        if not page.records:
            return ImportStep(0, f"{INVENTORY}:0", False, [])
        products = []
        lines = []
        for record in page.records:
            try:
                products.append(webhooks.product(record))
            except webhooks.PayloadError as error:
                lines.append(ImportLine("refused", f"product:{str(record.get('id'))[:100]}", str(error)))
        lines += self._products(products, check=check, add_new=add_new)
        return ImportStep(len(page.records), f"{PRODUCTS}:{page.max_version}", False, lines)

    def _products(self, products: list[webhooks.Product], *, check: bool, add_new: bool) -> list[ImportLine]:
        locations = sorted(self.intake.locations)
        named = [p for p in products if p.sku and not p.deleted]
        entries = self.ledger.store.catalogs([p.sku for p in named])
        lines = [
            ImportLine("no_sku", f"product:{p.product_id}", "the POS product has no SKU: give it one to sync it")
            for p in products
            if not p.sku and not p.deleted
        ]
        for product in named:
            line = self._product(product, entries.get(product.sku), locations, check=check, add_new=add_new)
            if line is not None:
                lines.append(line)
        return lines

    def _product(
        self,
        product: webhooks.Product,
        entry: CatalogEntry | None,
        locations: list[str],
        *,
        check: bool,
        add_new: bool,
    ) -> ImportLine | None:
        missing = [location for location in locations if entry is None or location not in entry.locations]
        if entry is None and not add_new:
            why = "in the POS, not in the ledger: import again with add_new, or add it by CSV"
            return ImportLine("only_in_channel", product.sku, why)
        if not check:
            self.intake.product(product)  # the product id -> SKU map the poll and webhooks read by
        if not missing:
            return None
        what = "created" if entry is None else "mapped"
        detail = f"at {', '.join(missing)}" if entry is None else f"locations added: {', '.join(missing)}"
        if check:
            return ImportLine(what, product.sku, f"would be {what}: {detail}")
        try:
            if entry is None:
                self.ledger.upsert_catalog(product.sku, locations, {}, entry_way="channel")
            else:
                self.ledger.patch_catalog(product.sku, locations=[*entry.locations, *missing])
        except (Conflict, InvalidRequest) as error:
            return ImportLine("conflict", product.sku, str(error)[:300])
        return ImportLine(what, product.sku, detail)

    def _inventory(self, version: int, check: bool) -> ImportStep:
        if check:  # counts are the POS's own: nothing to compare before they are applied
            return ImportStep(0, f"{INVENTORY}:{version}", True, [])
        page = self.feed.changes(INVENTORY, version)
        lines = []
        for record in page.records:
            if record.get("deleted_at"):
                continue
            try:
                count = webhooks.inventory_count(record)
            except webhooks.PayloadError as error:
                lines.append(ImportLine("refused", f"inventory:{str(record.get('id'))[:100]}", str(error)))
                continue
            answer = self.intake.count(count)
            if answer.get("result") == "applied":
                lines.append(ImportLine("counted", answer["sku"], f"{count.count} at {answer['location']}"))
        return ImportStep(len(page.records), f"{INVENTORY}:{page.max_version}", not page.records, lines)
