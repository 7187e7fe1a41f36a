"""The push engine against a scripted channel, on moto with the template's table."""

from __future__ import annotations

import pytest

from omnistock.ledger import Ledger
from omnistock.policy import SkuPolicy
from omnistock.push import PushEngine
from omnistock.sync import SyncService
from omnistock.wiring import Wiring
from tests.fakes import Clock, FakeChannel

LOCATION = "gid://shopify/Location/1"


@pytest.fixture
def channel() -> FakeChannel:
    return FakeChannel()


@pytest.fixture
def engine(wiring: Wiring, ledger: Ledger, channel: FakeChannel) -> PushEngine:
    ledger.set_channel("shopify", ["shop", "web"], platform="shopify", target_location=LOCATION)
    wiring.ports = lambda _: channel
    return wiring.push_engine


def stocked(ledger: Ledger, sku: str, units: int) -> str:
    ledger.upsert_catalog(sku, ["shop", "web"], {"shopify": f"item-{sku}"})
    ledger.report_count(sku, "shop", units, 1, "pos", f"c-{sku}")
    return sku


def test_first_push_reads_then_sets_and_coalesces(ledger: Ledger, engine: PushEngine, channel: FakeChannel) -> None:
    skus = [stocked(ledger, f"S{n}", 5 + n) for n in range(3)]
    for n in range(3):  # many changes before the batch runs: only the newest value goes out
        ledger.sell(skus[0], "shop", 1, "shopify", f"o{n}")
    report = engine.push(skus * 4, "stock change")
    assert (report.calls, report.applied, channel.reads) == (2, 3, 1)
    assert channel.shown == {"item-S0": 2, "item-S1": 6, "item-S2": 7}
    again = engine.push(skus, "stock change")  # nothing moved: nothing to push
    assert (again.calls, again.applied) == (0, 0)


def test_every_write_compares_with_what_was_pushed(ledger: Ledger, engine: PushEngine, channel: FakeChannel) -> None:
    sku = stocked(ledger, "TEE", 5)
    engine.push([sku], "first")
    ledger.sell(sku, "shop", 2, "pos", "till-1")
    engine.push([sku], "sale")
    assert channel.calls[-1][0].change_from == 5 and channel.shown["item-TEE"] == 3
    ledger.restock(sku, "shop", 4, "admin", "r1")
    engine.push([sku], "restock")
    assert channel.calls[-1][0].change_from == 3 and channel.shown["item-TEE"] == 7


def test_a_raise_never_overwrites_a_sale_the_ledger_has_not_seen(
    ledger: Ledger, engine: PushEngine, channel: FakeChannel, clock: Clock
) -> None:
    sku = stocked(ledger, "TEE", 5)
    engine.push([sku], "first")
    clock.advance(seconds=1)
    channel.shown["item-TEE"] = 4  # sold on the channel; its webhook is still on the way
    ledger.restock(sku, "shop", 3, "admin", "r1")
    report = engine.push([sku], "restock")
    assert (report.applied, report.deferred) == (0, 1)
    assert channel.shown["item-TEE"] == 4
    history = [entry for entry in engine.store.sync_history(sku=sku) if entry.result != "sending"]
    assert history[0].result == "deferred" and history[0].before == 5 and history[0].after == 8


def test_a_lowering_that_finds_a_channel_sale_sets_the_lower_of_the_two(
    ledger: Ledger, engine: PushEngine, channel: FakeChannel
) -> None:
    sku = stocked(ledger, "TEE", 5)
    engine.push([sku], "first")
    channel.shown["item-TEE"] = 3  # two sold on the channel, not yet reported
    ledger.sell(sku, "shop", 1, "pos", "till-1")  # the ledger now says 4
    engine.push([sku], "sale")
    assert channel.shown["item-TEE"] == 3  # never raised from 3 to 4 over the channel's sales
    ledger.sell(sku, "shop", 2, "pos", "till-2")  # the ledger now says 2
    engine.push([sku], "sale")
    assert channel.shown["item-TEE"] == 2


def test_a_channel_sale_already_counted_does_not_hold_back_the_next_raise(
    ledger: Ledger, engine: PushEngine, channel: FakeChannel
) -> None:
    """Found by the chaos replay: a lowering whose compare-and-set finds the channel already at
    the ledger's number (its own sale, whose webhook has arrived) is done, not a reason to hold
    every raise back for the grace window."""
    sku = stocked(ledger, "TEE", 5)
    engine.push([sku], "first")
    channel.shown["item-TEE"] = 3  # sold 2 on the channel...
    ledger.sell(sku, "shop", 2, "shopify", "order-1")  # ...and its webhook arrived
    engine.push([sku], "sale")
    settled = [(e.result, e.before, e.after) for e in engine.store.sync_history(sku=sku)]
    assert ("applied", 3, 3) in settled  # the attempt ends in the history
    ledger.restock(sku, "shop", 4, "pos", "delivery")
    report = engine.push([sku], "restock")
    assert (channel.shown["item-TEE"], report.deferred) == (7, 0)


def test_one_bad_item_fails_alone(ledger: Ledger, engine: PushEngine, channel: FakeChannel) -> None:
    good, bad = stocked(ledger, "GOOD", 3), stocked(ledger, "BAD", 3)
    channel.unknown.add("item-BAD")
    report = engine.push([good, bad], "stock change")
    assert (report.applied, report.failed) == (1, 1)
    failed = engine.store.sync_history(channel="shopify", failed_only=True)
    assert [(e.sku, e.error) for e in failed] == [("BAD", "INVALID_INVENTORY_ITEM")]


def test_channel_down_is_reported_and_retried_later(ledger: Ledger, engine: PushEngine, channel: FakeChannel) -> None:
    sku = stocked(ledger, "TEE", 5)
    channel.down = True
    channel.shown["item-TEE"] = 0
    report = engine.push([sku], "stock change")
    assert report.unavailable == ["shopify"]
    channel.down = False
    assert engine.push([sku], "retry").applied == 1  # not recorded as pushed, so it goes again
    assert channel.shown["item-TEE"] == 5


def test_policies_shape_what_is_pushed(ledger: Ledger, engine: PushEngine, channel: FakeChannel, clock: Clock) -> None:
    sku = stocked(ledger, "TEE", 10)
    store = engine.store
    store.save_policy(sku, "shopify", SkuPolicy(buffer=2, max_shown=6), clock())
    engine.push([sku], "policy")
    assert channel.shown["item-TEE"] == 6
    ledger.set_channel("live", ["shop"])  # a channel that is not pushed still reserves its allocation
    store.save_policy(sku, "live", SkuPolicy(allocation=7), clock())
    engine.push([sku], "live event")
    assert channel.shown["item-TEE"] == 1  # 10 - 7 reserved elsewhere - 2 buffer
    store.save_policy(sku, "shopify", SkuPolicy(paused=True), clock())
    engine.push([sku], "paused")
    assert channel.shown["item-TEE"] == 0
    store.save_policy(sku, "shopify", SkuPolicy(auto_sync=False), clock())
    calls = len(channel.calls)
    ledger.restock(sku, "shop", 5, "admin", "r1")
    engine.push([sku], "restock")
    assert len(channel.calls) == calls  # auto sync off: left alone


def test_many_skus_go_in_calls_as_large_as_the_channel_allows(
    ledger: Ledger, engine: PushEngine, channel: FakeChannel
) -> None:
    channel.max_batch = 4  # Shopify's is 250; the rule is the same
    skus = [stocked(ledger, f"M{n:02d}", 1) for n in range(10)]
    for sku in skus:
        channel.shown[f"item-{sku}"] = 0
    report = engine.push(skus, "bulk")
    assert [len(call) for call in channel.calls] == [4, 4, 2]
    assert report.applied == 10


def sync_service(wiring: Wiring, engine: PushEngine) -> SyncService:
    assert wiring.push_engine is engine
    return wiring.sync


def test_reconcile_decides_a_deferred_raise_after_the_grace_window(
    wiring: Wiring, ledger: Ledger, engine: PushEngine, channel: FakeChannel, clock: Clock
) -> None:
    sync = sync_service(wiring, engine)
    sku = stocked(ledger, "TEE", 5)
    engine.push([sku], "first")
    channel.shown["item-TEE"] = 4  # a channel-side change whose event never comes
    ledger.restock(sku, "shop", 3, "admin", "r1")
    assert engine.push([sku], "restock").deferred == 1
    assert sync.reconcile("shopify").applied == 0  # within the grace window: wait for the channel's events
    assert channel.shown["item-TEE"] == 4
    clock.advance(minutes=3)
    report = sync.reconcile("shopify")
    assert (report.applied, channel.shown["item-TEE"]) == (1, 8)  # the ledger decides: it is not the master
    assert engine.store.sync_history(sku=sku)[0].why == "reconcile"
    assert engine.push([sku], "again", force=True).calls == 1  # a read; the channel already shows it


def test_reconcile_retries_failed_pushes_and_repairs_drift(
    wiring: Wiring, ledger: Ledger, engine: PushEngine, channel: FakeChannel, clock: Clock
) -> None:
    sync = sync_service(wiring, engine)
    failing, drifting = stocked(ledger, "FAIL", 3), stocked(ledger, "DRIFT", 6)
    channel.shown.update({"item-FAIL": 0, "item-DRIFT": 0})
    engine.push([drifting], "first")
    channel.down = True
    engine.push([failing], "stock change")
    channel.down = False
    channel.shown["item-DRIFT"] = 2  # edited in the channel's admin (or a sale not yet reported)
    clock.advance(minutes=3)
    report = sync.reconcile("shopify")
    assert (report.applied, report.deferred) == (1, 1)  # the failed push goes; the raise over 2 waits
    assert (channel.shown["item-FAIL"], channel.shown["item-DRIFT"]) == (3, 2)
    clock.advance(minutes=3)
    assert sync.reconcile("shopify").applied == 1  # no event came in the grace window: the ledger wins
    assert channel.shown["item-DRIFT"] == 6
    assert sync.reconcile("shopify").applied == 0  # nothing left to repair


def test_sync_now_job_runs_in_chunks_once_each(
    wiring: Wiring,
    ledger: Ledger,
    engine: PushEngine,
    channel: FakeChannel,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import omnistock.sync as sync_module

    monkeypatch.setattr(sync_module, "CHUNK", 2)
    sync = sync_service(wiring, engine)
    skus = [stocked(ledger, f"J{n}", n + 1) for n in range(5)]
    job = sync.start("shopify", None)
    assert (job.total, job.state) == (5, "running")
    chunks = 0
    while job.state == "running":
        again = sync.run_chunk(job)
        assert sync.run_chunk(job) is None  # the same record delivered twice pushes nothing twice
        assert again is not None
        job, chunks = again, chunks + 1
    assert (chunks, job.done, job.applied) == (3, 5, 5)
    assert [channel.shown[f"item-{sku}"] for sku in skus] == [1, 2, 3, 4, 5]


def test_the_auto_sync_rule_applies_to_skus_created_after_it(
    wiring: Wiring, ledger: Ledger, channel: FakeChannel, clock: Clock
) -> None:
    def engine_for(auto_sync: bool) -> PushEngine:
        ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION, auto_sync=auto_sync)
        wiring.ports = lambda _: channel
        return wiring.push_engine

    engine = engine_for(auto_sync=False)
    old = stocked(ledger, "OLD", 4)
    assert engine.push([old], "stock change").calls == 0  # created under "do not sync new SKUs"
    engine = engine_for(auto_sync=True)
    new = stocked(ledger, "NEW", 4)
    channel.shown["item-NEW"] = 0
    engine.push([old, new], "stock change")
    assert "item-OLD" not in channel.shown  # the rule changed; the SKU it was frozen into did not
    assert channel.shown["item-NEW"] == 4
