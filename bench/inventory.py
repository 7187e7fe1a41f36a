"""The inventory list over a large catalog: DynamoDB items read per row shown and calls per page
(never a scan), and server time per page (median; in-process moto, so a ratio, not AWS's).
`INVENTORY_SKUS` SKUs (default 20,000: the counts do not depend on it, moto's time does, as its
index queries read the whole table) seeded straight into the table; `INVENTORY_PAGES` pages
walked from the start, and as many from a prefix."""

from __future__ import annotations

import os
import statistics
import time
from typing import Any

from bench.calls import CallCounter
from bench.moto_table import moto_table
from bench.seed import seed_catalog

SKUS = int(os.environ.get("INVENTORY_SKUS", "20000"))  # moto's index query reads the whole table: slow
PAGES = int(os.environ.get("INVENTORY_PAGES", "5"))
LIMIT = 50
GOAL = 1.2  # index entries read per row shown


def main() -> int:
    with moto_table("inventory") as (client, wiring):
        skus = [f"{('TEE', 'CAP', 'MUG', 'HAT')[n % 4]}-{n:06d}" for n in range(SKUS)]
        started = time.perf_counter()
        seed_catalog(wiring, skus, "shop", lambda sku: {}, lambda n: n % 9)
        print(f"inventory: {SKUS:,} SKUs seeded in {time.perf_counter() - started:.0f} s")
        counter = CallCounter(client)
        worst = 0.0
        for prefix, limit in (("", LIMIT), ("MUG-0", LIMIT), ("", 2 * LIMIT)):
            after, times, reads, index_reads, calls, rows = "", [], 0, 0, 0, 0
            for _ in range(PAGES):
                counter.reset()
                began = time.perf_counter()
                page = wiring.ledger.inventory(prefix, after, limit)
                times.append(time.perf_counter() - began)
                rows += len(page.rows)
                reads += page.items_read
                index_reads += page.items_read - sum(len(levels) for _, levels in page.rows)
                calls += counter.total
                scans = counter.calls["Scan"]
                if scans:
                    raise RuntimeError("the inventory scanned the table")
                if page.last or not page.rows:
                    break
                after = page.rows[-1][0].sku
            per_row = index_reads / max(1, rows)
            worst = max(worst, per_row - 16 / limit)
            print(
                f"  prefix {prefix or '(none)':<7} {rows} rows in {len(times)} pages of {limit}: "
                f"index entries read per row {per_row:.2f} (goal {GOAL}; bound 1 + 16/{limit} = {1 + 16 / limit:.2f}), "
                f"all items per row {reads / max(1, rows):.2f} "
                f"(with each row's level), {calls / len(times):.0f} DynamoDB calls a page, 0 scans; "
                f"median {statistics.median(times) * 1000:.0f} ms a page in-process"
            )
        print("  the 16-shard merge reads each shard's next SKU to know the order: at least 1 + 16/limit a row")
        worst = max(worst, filtered(wiring, counter, skus))
    return 0 if worst <= 0.05 else 1


def filtered(wiring: Any, counter: CallCounter, skus: list[str]) -> float:
    """The inventory narrowed to the SKUs paused on a channel (every 50th SKU): from its own
    sparse index, one entry read per row; the goal is that bound, 1.0."""
    wiring.ledger.set_channel("shopify", ["shop"])
    paused = skus[::50]
    wiring.sync.set_policies(paused, "shopify", {"paused": True})
    after, times, reads, index_reads, calls, rows = "", [], 0, 0, 0, 0
    for _ in range(PAGES):
        counter.reset()
        began = time.perf_counter()
        page = wiring.inventory_filters.page("shopify", "paused", "", after, LIMIT)
        times.append(time.perf_counter() - began)
        rows += len(page.rows)
        reads += page.items_read
        index_reads += page.items_read - sum(1 + len(levels) for _, levels in page.rows)
        calls += counter.total
        if counter.calls["Scan"]:
            raise RuntimeError("the filtered inventory scanned the table")
        if page.last or not page.cursor:
            break
        after = page.cursor
    per_row = index_reads / max(1, rows)
    print(
        f"  state paused on shopify ({len(paused):,} of {len(skus):,} SKUs) {rows} rows in {len(times)} pages of "
        f"{LIMIT}: index entries read per row {per_row:.2f} (bound 1.00), all items per row "
        f"{reads / max(1, rows):.2f} (with each row's catalog entry and level), {calls / len(times):.0f} DynamoDB "
        f"calls a page, 0 scans; median {statistics.median(times) * 1000:.0f} ms a page in-process"
    )
    return per_row - 1.0


if __name__ == "__main__":
    raise SystemExit(main())
