"""A large catalog written straight into the table, 25 items a call: the items the ledger
would write for each SKU (its catalog entry, its listing's owner, a counted level at one
location) and the catalog's counters. For benchmarks and tests that need thousands of SKUs
in seconds; what they measure goes through the ledger and the push engine as in production."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from omnistock.models import CatalogEntry, StockLevel
from omnistock.store import keys
from omnistock.store.items import catalog_item, stock_item
from omnistock.store.table import Item
from omnistock.wiring import Wiring


def seed_catalog(
    wiring: Wiring,
    skus: list[str],
    location: str,
    listing_of: Callable[[str], dict[str, str]],
    on_hand: Callable[[int], int],
    at: str = "2026-12-01T00:00:00.000Z",
) -> None:
    """Every SKU in the catalog at ``location`` with ``listing_of(sku)`` and ``on_hand(n)``
    units counted there (master version 1)."""
    items: list[Item] = []
    shards: Counter[str] = Counter()
    for n, sku in enumerate(skus):
        listings = listing_of(sku)
        items.append(catalog_item(CatalogEntry(sku, (location,), listings, updated_at=at)))
        units = on_hand(n)
        level = StockLevel(sku, location, on_hand=units, available=units, master_version=1, master_at=at, updated_at=at)
        items.append(stock_item(level))
        for channel, listing_id in listings.items():
            owner = {"pk": keys.listing_pk(channel, listing_id), "sk": keys.LISTING_SK, "kind": "listing"}
            items.append(owner | {"sku": sku, "channel": channel, "listing_id": listing_id})
        shards[keys.catalog_count_sk(sku)] += 1
    items += [
        {"pk": keys.CATALOG_COUNT_PK, "sk": shard, "kind": "catalog_count", "skus": count}
        for shard, count in shards.items()
    ]
    items.append({"pk": keys.CATALOG_COUNT_PK, "sk": keys.CATALOG_COUNT_SEED_SK, "kind": "catalog_count", "skus": 0})
    for start in range(0, len(items), 25):
        wiring.table.batch_put(items[start : start + 25])
