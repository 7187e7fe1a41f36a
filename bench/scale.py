"""`make bench-scale` (not in CI): a 100,000-SKU catalog, a Sync Now of all of it, a burst of
20,000 stock changes pushed in the stream's batches while the channel fails some calls (and
loses some answers after applying them), then the reconcile schedule until nothing is left to
verify. Prints, per phase, DynamoDB calls and request units, the channel's calls against their
lower bound, and the hottest partition keys at a stated load; last, how many SKUs the channel
shows wrongly (goal 0).

In-process moto (no HTTP) and the Shopify sandbox through the real adapter; the catalog is
written straight into the table (bench/seed.py). The stream is not replayed: the burst's
changed SKUs are handed to the push engine in batches of the push function's BatchSize, in
the order they changed, as one stream shard would deliver them.

    python -m bench.scale [--skus 100000] [--changes 20000] [--no-units]
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from bench.calls import CallCounter
from bench.counts import PARTITION_RRU_PER_SECOND, PARTITION_WRU_PER_SECOND
from bench.moto_table import moto_table
from bench.seed import seed_catalog

LOCATION = "gid://shopify/Location/900"
SYNC_SKUS_PER_SECOND = 500  # Sync Now's stated pace: two Shopify calls of 250 a second
CHANGES_PER_SECOND = 500  # the burst's stated rate
FAULT_EVERY_BATCHES = 4  # the first channel call of every fourth push batch fails (503), every other one after applying
READS = ("GetItem", "BatchGetItem", "Query", "Scan")


class Clock:
    """The wiring's clock: real time plus what the bench skips (the raise grace window)."""

    def __init__(self) -> None:
        self.skipped = timedelta()

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.skipped


@dataclass
class Phase:
    name: str
    items: int  # SKUs or changes the phase handled
    rate: int  # the stated load, items a second
    seconds: float
    counter: CallCounter | None
    calls: dict[str, int]
    channel_calls: int
    lower_bound: int


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skus", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=20_000)
    parser.add_argument("--no-units", action="store_true", help="count calls only (faster: no item probes)")
    args = parser.parse_args(argv)
    return run(args.skus, args.changes, units=not args.no_units)


def run(sku_count: int, changes: int, *, units: bool) -> int:
    from local.sandbox import ShopifySandbox
    from omnistock.channels.shopify.admin import ShopifyInventory

    clock = Clock()
    rnd = random.Random(16)
    sandbox = ShopifySandbox(sleep=lambda _: None)
    phases: list[Phase] = []
    with moto_table("scale", clock=clock) as (client, wiring), httpx.Client(transport=sandbox.transport()) as http:
        adapter = ShopifyInventory("scale.myshopify.com", sandbox.token, endpoint=sandbox.graphql_url(), client=http)
        wiring.ports = lambda _: adapter
        ledger, sync, engine = wiring.ledger, wiring.sync, wiring.push_engine
        ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION)
        skus = [f"S{n:06d}" for n in range(sku_count)]
        item = {sku: f"gid://shopify/InventoryItem/{100000 + n}" for n, sku in enumerate(skus)}
        started = time.perf_counter()
        seed_catalog(wiring, skus, "shop", lambda sku: {"shopify": item[sku]}, lambda n: 20 + n % 30)
        for sku in skus:
            sandbox.stock(item[sku], LOCATION, 0)
        print(f"Scale bench: {sku_count:,} SKUs seeded in {time.perf_counter() - started:.0f} s", flush=True)

        counter = CallCounter(client, units=units)

        def measure(name: str, items: int, rate: int, lower_bound: Callable[[], int], body: Callable[[], Any]) -> Any:
            counter.reset()
            calls_before, began = adapter.calls, time.perf_counter()
            result = body()
            phase = Phase(
                name,
                items,
                rate,
                time.perf_counter() - began,
                counter if units else None,
                dict(counter.calls),
                adapter.calls - calls_before,
                lower_bound(),
            )
            phases.append(phase)
            _report(phase)  # before the next phase resets the counter
            return result

        def sync_now() -> None:
            job = sync.start("shopify", None)
            while job.state == "running":
                advanced = sync.run_chunk(job)
                if advanced is None:
                    raise RuntimeError("a Sync Now chunk was not recorded")
                job = advanced

        chunks = math.ceil(sku_count / adapter.max_batch)
        measure("Sync Now", sku_count, SYNC_SKUS_PER_SECOND, lambda: 2 * chunks, sync_now)

        batch_size = _push_batch_size()
        lower_bounds: list[int] = []

        def burst() -> None:
            changed: list[str] = []
            for n in range(changes):
                sku = skus[rnd.randrange(sku_count)]
                if n % 3 == 0:
                    ledger.restock(sku, "shop", rnd.randint(1, 3), "admin", f"r{n}")
                else:
                    ledger.sell(sku, "shop", 1, "shopify", f"o{n}")
                changed.append(sku)
                if len(changed) == batch_size or n == changes - 1:
                    if (n // batch_size) % FAULT_EVERY_BATCHES == 0:
                        sandbox.fail_next(1, 503, after_apply=bool((n // batch_size) % 2))
                    lower_bounds.append(math.ceil(len(set(changed)) / adapter.max_batch))
                    engine.push(changed, "stock change")
                    changed = []
            sandbox.clear_faults()

        measure("Burst", changes, CHANGES_PER_SECOND, lambda: sum(lower_bounds), burst)

        def reconcile() -> int:
            clock.skipped += timedelta(minutes=3)  # past the grace window: deferred raises are decided
            passes = 0
            while passes < 20:
                passes += 1
                reports = sync.reconcile_all()
                if not any(report.backlog for report in reports.values()) and not _marked(wiring):
                    break
            return passes

        passes = measure("Reconcile", sku_count, SYNC_SKUS_PER_SECOND, lambda: 0, reconcile)
        wrong = _left_wrong(wiring, sandbox, skus, item)
    print(f"reconcile passes: {passes}")
    print(f"SKUs left wrong: {wrong}")
    return 0 if wrong == 0 else 1


def _push_batch_size() -> int:
    from local.template import load_template

    template = load_template("template.yaml")
    return next(s.batch_size for s in template.streams if s.function == "PushFunction")


def _marked(wiring: Any) -> int:
    from omnistock.store import keys

    return sum(len(wiring.table.query("pk = :pk", {":pk": pk})) for pk in keys.verify_pks("shopify"))


def _left_wrong(wiring: Any, sandbox: Any, skus: list[str], item: dict[str, str]) -> int:
    """SKUs whose channel number is not what the ledger lets the channel sell."""
    from omnistock.policy import ChannelDefaults, sellable

    wrong = 0
    for start in range(0, len(skus), 1000):
        chunk = skus[start : start + 1000]
        states = wiring.pushes.push_states(chunk, policies_of=["shopify"], pushed_to=[], locations=["shop"])
        for sku in chunk:
            expected = sellable("shopify", states[sku].levels, ("shop",), ChannelDefaults(), states[sku].policies)
            wrong += sandbox.available(item[sku], LOCATION) != expected
    return wrong


def _report(phase: Phase) -> None:
    reads = sum(n for op, n in phase.calls.items() if op in READS)
    total = sum(phase.calls.values())
    print(f"{phase.name}: {phase.items:,} items in {phase.seconds:.0f} s")
    print(
        f"  DynamoDB calls {total:,} ({reads:,} reads: {reads / phase.items:.3f} per item)  "
        + "  ".join(f"{op} {n:,}" for op, n in sorted(phase.calls.items()))
    )
    bound = f"lower bound {phase.lower_bound:,}" if phase.lower_bound else "no lower bound: as many as it finds wrong"
    ratio = f" ({phase.channel_calls / phase.lower_bound:.2f}x)" if phase.lower_bound else ""
    print(f"  channel calls {phase.channel_calls:,}, {bound}{ratio}")
    if phase.counter is None:
        return
    counter = phase.counter
    print(
        f"  units: WRU {counter.write_units:,.0f} table + "
        + " + ".join(f"{units:,.0f} {index}" for index, units in sorted(counter.index_write_units.items()))
        + f" = {counter.total_write_units / phase.items:.1f}/item;  RRU {counter.read_units:,.0f} "
        f"= {counter.read_units / phase.items:.2f}/item"
    )
    for unit, limit, reads_only in (("WRU", PARTITION_WRU_PER_SECOND, False), ("RRU", PARTITION_RRU_PER_SECOND, True)):
        for target, top in counter.hottest(1, reads=reads_only).items():
            for key, units in top:
                per_second = units / phase.items * phase.rate
                print(
                    f"  hottest {unit} {target.index or 'table':<6} {key:<26} {units:>10,.0f} in phase; "
                    f"{per_second:>7,.0f}/s at {phase.rate} items/s = {per_second / limit:.1%} of a partition"
                )


if __name__ == "__main__":
    sys.exit(main())
