"""No index key collects a whole channel or the whole catalog: the catalog index and each
channel's sync history are spread over shards, and their readers page through them in order,
items written before the shards included."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.calls import CallCounter
from omnistock.ledger import Ledger
from omnistock.models import SyncEntry
from omnistock.store import keys
from omnistock.wiring import Wiring


def index_keys(wiring: Wiring, prefix: str) -> Counter[str]:
    items = wiring.table.client.scan(TableName=wiring.table.name)["Items"]
    return Counter(item["gsi2pk"]["S"] for item in items if item.get("gsi2pk", {}).get("S", "").startswith(prefix))


def test_sync_now_pages_the_catalog_shard_by_shard_with_entries_from_before(wiring: Wiring, ledger: Ledger) -> None:
    skus = [f"S{n:03d}" for n in range(120)]
    for sku in skus:
        ledger.upsert_catalog(sku, ["shop"], {})
    spread = index_keys(wiring, "CATALOG")
    assert len(spread) == 16 and max(spread.values()) <= 120 // 16 * 2  # no one key takes the catalog
    legacy = wiring.table.get(keys.sku_pk("S050"), keys.CATALOG_SK)
    assert legacy is not None
    wiring.table.put(legacy | {"gsi2pk": keys.CATALOG_INDEX_PK})  # an entry indexed before the shards
    jobs = wiring.sync.jobs
    assert jobs.catalog_size() == 120
    seen, cursor, finished = [], "", False
    while not finished:
        page, cursor, finished = jobs.catalog_page(cursor, 25)
        seen += page
    assert sorted(seen) == skus and len(seen) == len(set(seen))  # every SKU once, one shard after another


def test_a_channels_history_reads_newest_first_across_its_shards(wiring: Wiring) -> None:
    entries = [
        SyncEntry(f"K{n:02d}", "shopify", "", f"2026-11-23T12:{n:02d}:00.000Z", 0, n, "test", "applied")
        for n in range(40)
    ]
    wiring.pushes.record_sync(entries, wiring.clock())
    assert len(index_keys(wiring, "SYNCCHS#shopify#")) > 8
    newest = wiring.pushes.sync_history(channel="shopify", limit=15)
    assert [entry.sku for entry in newest] == [f"K{n:02d}" for n in range(39, 24, -1)]
    since = wiring.pushes.sync_history(channel="shopify", limit=100, since="2026-11-23T12:30")
    assert [entry.sku for entry in since] == [f"K{n:02d}" for n in range(39, 29, -1)]


def test_a_channels_failures_are_read_without_its_history(wiring: Wiring, dynamodb: Any) -> None:
    applied = [
        SyncEntry(f"OK{n:03d}", "shopify", "a", f"2026-11-23T12:00:{n % 60:02d}.000Z", 0, 1, "test", "applied")
        for n in range(200)
    ]
    failed = [
        SyncEntry(f"BAD{n}", "shopify", "b", f"2026-11-23T13:0{n}:00.000Z", 0, 1, "test", "failed", "NOT_STOCKED")
        for n in range(3)
    ]
    wiring.pushes.record_sync(applied + failed, wiring.clock())
    counter = CallCounter(dynamodb)
    found = wiring.pushes.sync_history(channel="shopify", failed_only=True, limit=50)
    assert [entry.sku for entry in found] == ["BAD2", "BAD1", "BAD0"]
    assert found[0].error == "NOT_STOCKED" and found[0].failed
    assert counter.items_read == 3  # the failures only, none of the 200 applied entries
    later = wiring.pushes.sync_history(channel="shopify", failed_only=True, since="2026-11-23T13:01")
    assert [entry.sku for entry in later] == ["BAD2", "BAD1"]
