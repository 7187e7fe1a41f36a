"""Sync Now and the push read the ledger in batches, not per SKU: at most 0.1 DynamoDB read
calls per SKU, and the channel called at its lower bound (one read and one write per 250 SKUs)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from bench.calls import CallCounter
from bench.seed import seed_catalog
from omnistock.ledger import Ledger
from omnistock.policy import SkuPolicy
from omnistock.store.push_store import PushState
from omnistock.wiring import Wiring
from tests.fakes import FakeChannel

LOCATION = "gid://shopify/Location/1"
SKUS = 1500  # six Sync Now chunks of 250
READS = ("GetItem", "BatchGetItem", "Query")


class Counting(FakeChannel):
    """Counts reads as the adapter makes them: one call per 250 items."""

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        self.reads += math.ceil(len(items) / self.max_batch) - 1  # the fake counts one itself
        return super().read_quantities(items)


@pytest.fixture
def channel(wiring: Wiring, ledger: Ledger) -> Counting:
    ledger.set_channel("shopify", ["shop", "web"], platform="shopify", target_location=LOCATION)
    ledger.set_channel("live", ["shop"])  # not pushed; its policies still count
    fake = Counting()
    wiring.ports = lambda _: fake
    return fake


@pytest.fixture
def skus(wiring: Wiring, channel: Counting) -> list[str]:
    chosen = [f"B{n:04d}" for n in range(SKUS)]
    seed_catalog(wiring, chosen, "shop", lambda sku: {"shopify": f"item-{sku}"}, lambda n: 5 + n % 7)
    return chosen


def reads(counter: CallCounter) -> int:
    return sum(counter.calls[op] for op in READS)


def test_sync_now_reads_a_tenth_of_a_call_per_sku_and_calls_the_channel_at_its_lower_bound(
    wiring: Wiring, dynamodb: Any, skus: list[str], channel: Counting
) -> None:
    counter = CallCounter(dynamodb)
    job = wiring.sync.start("shopify", None)
    runs = 0
    while job.state == "running":
        advanced = wiring.sync.run_chunk(job)
        assert advanced is not None
        job, runs = advanced, runs + 1
    assert (job.done, job.applied, job.failed) == (SKUS, SKUS, 0)
    lower_bound = math.ceil(SKUS / channel.max_batch)
    assert (channel.reads, len(channel.calls)) == (lower_bound, lower_bound)
    assert reads(counter) / SKUS <= 0.1, counter.calls
    assert channel.shown == {f"item-{sku}": 5 + n % 7 for n, sku in enumerate(skus)}


def test_a_push_reads_a_tenth_of_a_call_per_distinct_sku(
    wiring: Wiring, ledger: Ledger, dynamodb: Any, skus: list[str], channel: Counting
) -> None:
    wiring.push_engine.push(skus, "first push")
    sold = skus[:500]
    for sku in sold:
        ledger.sell(sku, "shop", 1, "shopify", f"o-{sku}")
    counter = CallCounter(dynamodb)
    report = wiring.push_engine.push(sold * 2, "stock change")  # a stream batch names a SKU many times
    assert (report.applied, report.calls) == (len(sold), math.ceil(len(sold) / channel.max_batch))
    assert reads(counter) / len(sold) <= 0.1, counter.calls
    assert channel.shown == {f"item-{sku}": 5 + n % 7 - (sku in sold) for n, sku in enumerate(skus)}


def test_the_batched_state_is_the_queried_state(wiring: Wiring, ledger: Ledger, skus: list[str], clock: Any) -> None:
    """Same levels, holds, policies, pushed values and fingerprint as the per-SKU queries."""
    wiring.push_engine.push(skus[:5], "first push")
    ledger.place_hold("cart-1", skus[1], "shop", 2, "live", "h-1", minutes=30)
    ledger.sell(skus[2], "shop", 1, "shopify", "o-1")  # a pending lot: in neither read
    wiring.pushes.save_policy(skus[3], "live", SkuPolicy(allocation=2), clock())

    def states(chosen: list[str], catalogs: dict[str, PushState] | None = None) -> dict[str, PushState]:
        return wiring.pushes.push_states(
            chosen, policies_of=["live", "shopify"], pushed_to=["shopify"], locations=["shop", "web"], catalogs=catalogs
        )

    batched = states(skus[:5])
    after_catalogs = states(skus[:5], wiring.pushes.catalog_states(skus[:5]))
    for sku in skus[:5]:
        assert batched[sku] == after_catalogs[sku] == wiring.pushes.push_state(sku)
    assert batched[skus[1]].own_holds("live", ("shop",)) == 2
    assert states(["NOPE"])["NOPE"].catalog is None
