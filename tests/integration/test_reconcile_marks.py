"""Reconcile verifies what moved: each push attempt marks its SKUs (in the write that records
it), reconcile reads and repairs every marked SKU once and forgets the mark, a pass that runs
out of time leaves the rest for the next, and a verification that finds the channel right
writes nothing but the mark's removal."""

from __future__ import annotations

from typing import Any

import pytest

from bench.calls import CallCounter
from omnistock import sync
from omnistock.channels import ChannelUnavailable, QuantityWrite, WriteOutcome
from omnistock.ledger import Ledger
from omnistock.store import keys
from omnistock.wiring import Wiring
from tests.fakes import Clock, FakeChannel

LOCATION = "gid://shopify/Location/1"


@pytest.fixture(autouse=True)
def small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Chunks of 10 instead of 250 (one Shopify call), so a few dozen SKUs span several."""
    monkeypatch.setattr(sync, "VERIFY_CHUNK", 10)


@pytest.fixture
def channel(wiring: Wiring, ledger: Ledger) -> FakeChannel:
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION)
    fake = FakeChannel()
    wiring.ports = lambda _: fake
    return fake


def stock(ledger: Ledger, count: int, units: int = 3) -> list[str]:
    skus = [f"M{n:04d}" for n in range(count)]
    for sku in skus:
        ledger.upsert_catalog(sku, ["shop"], {"shopify": f"item-{sku}"})
        ledger.report_count(sku, "shop", units, 1, "pos", f"c-{sku}")
    return skus


def marks(wiring: Wiring) -> int:
    return sum(len(wiring.table.query("pk = :pk", {":pk": pk})) for pk in keys.verify_pks("shopify"))


class Reading(FakeChannel):
    """Keeps which items each read asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[list[tuple[str, str]]] = []

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        self.asked.append(list(items))
        return super().read_quantities(items)


def test_every_pushed_sku_is_verified_once_then_forgotten(wiring: Wiring, ledger: Ledger, clock: Clock) -> None:
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION)
    fake = Reading()
    wiring.ports = lambda _: fake
    skus = stock(ledger, 25)
    wiring.push_engine.push(skus, "stock change")
    assert marks(wiring) == 25  # one per SKU, however many entries the push wrote
    fake.asked.clear()
    clock.advance(minutes=5)
    report = wiring.sync.reconcile("shopify")
    verified = [item for call in fake.asked for item, _ in call]
    assert sorted(verified) == sorted(f"item-{sku}" for sku in skus)  # each once: none skipped, none twice
    assert len(fake.asked) == 3 and report.applied == 0 and report.backlog == 0  # ceil(25 / 10) reads
    assert marks(wiring) == 0
    fake.asked.clear()
    assert wiring.sync.reconcile("shopify").calls == 0 and fake.asked == []  # nothing moved since


def test_a_pass_out_of_time_leaves_its_backlog_to_the_next(
    wiring: Wiring, ledger: Ledger, channel: FakeChannel
) -> None:
    skus = stock(ledger, 15)
    wiring.push_engine.push(skus, "stock change")
    chunks = iter([False, True])  # time for one chunk of 10
    first = wiring.sync.reconcile("shopify", lambda: next(chunks))
    assert first.backlog == 5 and marks(wiring) == 5
    second = wiring.sync.reconcile("shopify")
    assert second.backlog == 0 and marks(wiring) == 0


def test_verifying_a_right_channel_writes_nothing_but_the_marks(
    wiring: Wiring, ledger: Ledger, channel: FakeChannel, dynamodb: Any
) -> None:
    skus = stock(ledger, 20)
    wiring.push_engine.push(skus, "stock change")
    counter = CallCounter(dynamodb)
    wiring.sync.reconcile("shopify")
    writes = {op: n for op, n in counter.calls.items() if op in ("PutItem", "UpdateItem", "BatchWriteItem")}
    assert writes == {} and counter.calls["DeleteItem"] == 20
    assert len(channel.calls) == 1  # the first push's write only: none by the verification


def test_a_change_while_verifying_keeps_its_mark(wiring: Wiring, ledger: Ledger, channel: FakeChannel) -> None:
    (sku,) = stock(ledger, 1)
    wiring.push_engine.push([sku], "stock change")
    (seen,) = wiring.pushes.due_verifications("shopify", "9999")
    ledger.report_count(sku, "shop", 9, 2, "pos", "c-later")
    wiring.push_engine.push([sku], "stock change")  # marks it again
    assert not wiring.pushes.verified(seen)  # the older mark's verification does not cover it
    assert marks(wiring) == 1


class LosesAnswers(FakeChannel):
    """Commits the writes, then the answer is lost (a timeout after the platform applied them)."""

    def __init__(self) -> None:
        super().__init__()
        self.lose = 1

    def set_quantities(self, writes: list[QuantityWrite], idempotency_key: str) -> list[WriteOutcome]:
        outcomes = super().set_quantities(writes, idempotency_key)
        if self.lose:
            self.lose -= 1
            raise ChannelUnavailable("timed out after the channel applied it")
        return outcomes


def test_a_write_whose_answer_was_lost_is_verified_and_not_written_twice(
    wiring: Wiring, ledger: Ledger, clock: Clock
) -> None:
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION)
    fake = LosesAnswers()
    wiring.ports = lambda _: fake
    skus = stock(ledger, 3)
    report = wiring.push_engine.push(skus, "stock change")
    assert report.failed == 3 and marks(wiring) == 3  # recorded failed, marked
    for _ in range(2):  # the schedule, and once more (a duplicate run)
        clock.advance(minutes=5)
        wiring.sync.reconcile("shopify")
    assert len(fake.calls) == 1  # the channel already showed it: read, not written again
    assert all(fake.shown[f"item-{sku}"] == 3 for sku in skus) and marks(wiring) == 0
