"""Onboarding counts: a catalog import of 10,000 rows (DynamoDB write calls per row, and a
re-import that writes nothing), the import of the shop's 10,000 variants (API calls against
their lower bound), and the shadow preview of 10,000 SKUs against the Shopify
sandbox through the real adapter (channel calls against their lower bound, writes: 0).
In-process moto; the import goes through the same code as POST /catalog/import, in its parts."""

from __future__ import annotations

import math
import os
import time
from dataclasses import replace
from typing import TYPE_CHECKING

import httpx

from bench.calls import CallCounter
from bench.moto_table import moto_table

if TYPE_CHECKING:
    from local.sandbox import ShopifySandbox
    from omnistock.channels.shopify.admin import ShopifyInventory
    from omnistock.wiring import Wiring

ROWS = int(os.environ.get("ONBOARDING_ROWS", "10000"))
PART = 250  # rows a request
LOCATION = "gid://shopify/Location/700"


def main() -> int:
    from local.sandbox import ShopifySandbox
    from omnistock.channels.shopify.admin import ShopifyInventory
    from omnistock.models import SHADOW

    sandbox = ShopifySandbox(sleep=lambda _: None)
    with moto_table("onboarding") as (client, wiring), httpx.Client(transport=sandbox.transport()) as http:
        adapter = ShopifyInventory("bench.myshopify.com", sandbox.token, endpoint=sandbox.graphql_url(), client=http)
        wiring.ports = lambda _: adapter
        wiring.ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION, new_mode=SHADOW)
        header = "sku,title,location,on_hand,listing:shopify\n"
        rows = [f"B{n:05d},Item {n},shop,{n % 40},gid://shopify/InventoryItem/{90000 + n}\n" for n in range(ROWS)]
        for n in range(ROWS):
            sandbox.stock(f"gid://shopify/InventoryItem/{90000 + n}", LOCATION, (n % 40) + (n % 7 == 0))
        counter = CallCounter(client)
        started = time.perf_counter()
        for first in range(0, ROWS, PART):
            text = header + "".join(rows[first : first + PART])
            report = wiring.catalog_import.run(text, first_line=first + 2)
            if not report.applied or report.problems:
                raise RuntimeError(f"the import refused rows: {report.problems[:3]}")
        seconds = time.perf_counter() - started
        writes = counter.writes
        print(
            f"catalog import: {ROWS:,} rows, {writes:,} DynamoDB write calls (per row: {writes / ROWS:.2f}), "
            f"{counter.total:,} calls in all; {seconds:.0f} s in-process"
        )
        counter.reset()
        for first in range(0, ROWS, PART):
            wiring.catalog_import.run(header + "".join(rows[first : first + PART]), first_line=first + 2)
        print(f"  re-import: {counter.writes} writes, {counter.total:,} read calls ({counter.total / ROWS:.3f} a row)")

        imported = shopify_import(wiring, sandbox, adapter, counter)

        sync = wiring.sync
        calls_before, mutations_before = adapter.calls, sandbox.counters["mutations"]
        job = sync.start_preview("shopify")
        while job.state == "running":
            advanced = sync.run_chunk(job)
            if advanced is None:
                raise RuntimeError("a preview chunk was not recorded")
            job = advanced
        calls = adapter.calls - calls_before
        writes_there = sandbox.counters["mutations"] - mutations_before
        bound = math.ceil(ROWS / adapter.max_batch)
        reasons = ", ".join(f"{name} {n}" for name, n in sorted(job.reasons.items()))
        print(
            f"shadow preview: {ROWS:,} SKUs, channel calls {calls} (lower bound {bound}), channel writes {writes_there}"
        )
        print(f"  SKUs that would change: {job.differing:,} ({reasons})")
    return 0 if writes_there == 0 and calls == bound and imported else 1


def shopify_import(wiring: Wiring, sandbox: ShopifySandbox, adapter: ShopifyInventory, counter: CallCounter) -> bool:
    """Every variant of the shop read and mapped by SKU onto the catalog the CSV made (their
    listings agree, so nothing changes there); the API calls against their lower bounds."""
    from omnistock.channels.shopify.admin import QUERY_COST_CAP
    from omnistock.channels.shopify.catalog import CONNECTION_COST, NODE_COST, ShopifyCatalog

    for first in range(0, ROWS, 100):  # products of up to 100 variants, as Shopify allows
        variants = [{"sku": f"B{n:05d}", "item": 90000 + n} for n in range(first, min(ROWS, first + 100))]
        sandbox.catalog.add_product(f"Product {first}", variants)
    imports = wiring.imports  # reading through the bench's adapter (its calls are counted)
    reader = ShopifyCatalog(adapter)
    imports.sources = replace(imports.sources, reader=lambda _: reader)
    counter.reset()
    calls_before, writes_before = adapter.calls, sandbox.counters["mutations"]
    job = imports.start("shopify", add_new=True, check=False)
    while job.state == "running":
        advanced = imports.run_chunk(job)
        if advanced is None:
            raise RuntimeError("an import chunk was not recorded")
        job = advanced
    calls = adapter.calls - calls_before
    by_connection = math.ceil(ROWS / 250)
    by_cost = math.ceil(ROWS / ((QUERY_COST_CAP - CONNECTION_COST) // NODE_COST))
    reasons = ", ".join(f"{name} {n}" for name, n in sorted(job.reasons.items())) or "nothing to change"
    print(
        f"shopify import: {ROWS:,} variants, {calls} API calls (lower bound ceil({ROWS}/250) = {by_connection}; "
        f"{by_cost} under the 1000-point cost cap), channel writes {sandbox.counters['mutations'] - writes_before}"
    )
    print(
        f"  DynamoDB: {counter.total:,} calls ({counter.total / ROWS:.3f} a variant), "
        f"{counter.writes:,} of them writes; report: {reasons}"
    )
    return calls == by_cost and not job.failed


if __name__ == "__main__":
    raise SystemExit(main())
