"""Bounded hold reads (moto, table from the template): a source's active holds are read from
its own index entries, whatever other sources hold; the expiry sweep ends due holds earliest
first, a page at a time, stops when told it is out of time, and the next run goes on; sweeps
that race end each hold once; holds written before holds were indexed by source still end."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bench.calls import CallCounter
from omnistock import ledger as ledger_module
from omnistock import runtime
from omnistock.channels.commentsold import wiring as commentsold
from omnistock.ledger import Ledger, SweepReport
from omnistock.models import Cause, HoldState, MovementKind, Outcome
from omnistock.store import keys
from omnistock.wiring import Wiring, build
from tests.fakes import Clock, FakeCommentSold
from tests.helpers import FakeContext, load_function
from tests.integration.conftest import TABLE

SKU = "TEE"
STOCK = 10_000


@pytest.fixture
def stocked(ledger: Ledger) -> Ledger:
    ledger.upsert_catalog(SKU, ["shop"], {"commentsold": "501"})
    ledger.report_count(SKU, "shop", STOCK, 1, "pos", "c1")
    return ledger


def held(ledger: Ledger) -> tuple[int, int]:
    level = ledger.store.stock(SKU, "shop")
    assert level is not None
    return level.held, level.available


def place(ledger: Ledger, hold_id: str, source: str, minutes: int = 15) -> None:
    result = ledger.place_hold(hold_id, SKU, "shop", 1, source, f"claim-{hold_id}", minutes=minutes)
    assert result.outcome is Outcome.APPLIED


def states(ledger: Ledger, hold_ids: list[str]) -> list[HoldState]:
    return [ledger.hold(hold_id).state for hold_id in hold_ids]


def legacy(dynamodb: Any, hold_id: str, *attributes: str) -> None:
    """The hold as a writer from before holds were indexed by source left it."""
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": keys.hold_pk(hold_id)}, "sk": {"S": keys.HOLD_SK}},
        UpdateExpression="REMOVE " + ", ".join(f"#a{n}" for n in range(len(attributes))),
        ExpressionAttributeNames={f"#a{n}": name for n, name in enumerate(attributes)},
    )


def source_entries(dynamodb: Any, source: str) -> int:
    """The source's entries in the holds-by-source index, whatever their state."""
    return sum(
        dynamodb.query(
            TableName=TABLE,
            IndexName="gsi2",
            KeyConditionExpression="gsi2pk = :pk",
            ExpressionAttributeValues={":pk": {"S": shard}},
        )["Count"]
        for shard in keys.hold_source_pks(source)
    )


# ==================================================================== holds by source
def test_a_sources_active_holds_read_only_that_sources_holds(stocked: Ledger, dynamodb: Any) -> None:
    for n in range(300):  # other channels' carts, live and far from expiring
        place(stocked, f"web-{n}", "web" if n % 2 else "live", minutes=600)
    for n in range(8):  # a source named like a CommentSold shard key: its "#" is escaped in its own keys
        place(stocked, f"odd-{n}", "commentsold#1")
    carts = [f"commentsold:{n}" for n in range(10)]
    for hold_id in carts:
        place(stocked, hold_id, "commentsold")
    counter = CallCounter(dynamodb)
    assert sorted(stocked.store.active_holds("commentsold")) == sorted(carts)
    assert counter.items_read == len(carts)  # not the 318 active holds there are
    assert counter.calls["Query"] == keys.HOLD_SOURCE_SHARDS
    counter.reset()
    assert sorted(stocked.store.active_holds("commentsold#1")) == [f"odd-{n}" for n in range(8)]
    assert counter.items_read == 8
    counter.reset()
    assert stocked.store.active_holds("nobody") == [] and counter.items_read == 0


def test_every_way_a_hold_ends_takes_it_out_of_its_sources_entries(
    stocked: Ledger, dynamodb: Any, clock: Clock
) -> None:
    for hold_id in ("released", "checked-out", "expires", "stays"):
        place(stocked, hold_id, "commentsold", minutes=30 if hold_id == "stays" else 1)
    assert source_entries(dynamodb, "commentsold") == 4
    stocked.release_hold("released", "commentsold", "rm-1")
    stocked.checkout_hold("checked-out", "commentsold", "order-1")
    stocked.release_hold("never-claimed", "commentsold", "rm-2")  # a release before its claim: never listed
    clock.advance(minutes=2)
    assert stocked.expire_due_holds(limit=10) == SweepReport(1, 0, 0)
    assert source_entries(dynamodb, "commentsold") == 1
    counter = CallCounter(dynamodb)
    assert stocked.store.active_holds("commentsold") == ["stays"]
    assert counter.items_read == 1


def test_the_commentsold_poll_reads_only_commentsolds_holds(
    wiring: Wiring, stocked: Ledger, dynamodb: Any, clock: Clock
) -> None:
    stocked.set_channel("commentsold", ["shop"], platform="commentsold")
    live = commentsold.intake(wiring)
    for n in range(200):
        place(stocked, f"web-{n}", "web", minutes=600)
    for n in range(5):
        place(stocked, f"commentsold:{n}", "commentsold", minutes=600)
    clock.advance(minutes=5)
    api = FakeCommentSold()  # CommentSold lists none of the carts: each is missing from the poll
    index_reads = IndexReads(dynamodb)
    assert live.poll(api, lambda: False)["released"] == 0  # missing once
    assert live.poll(api, lambda: False)["released"] == 5  # missing twice: released
    assert index_reads.items == {"gsi2": 10}  # five carts, read by two polls; none of the 200 others
    assert held(stocked) == (200, STOCK - 200)


class IndexReads:
    """Items each index's Queries read (ScannedCount), by index name."""

    def __init__(self, client: Any) -> None:
        self.items: Counter[str] = Counter()
        self._index: list[str] = []
        client.meta.events.register("before-parameter-build.dynamodb.Query", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after)

    def _before(self, params: dict[str, Any], **kwargs: Any) -> None:
        self._index.append(params.get("IndexName", ""))

    def _after(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        index = self._index.pop()
        if index:
            self.items[index] += int(parsed.get("ScannedCount", 0))


# ==================================================================== the sweep: pages and time
def due_holds(ledger: Ledger, clock: Clock, count: int) -> list[str]:
    """``count`` holds that expire a minute apart, placed so that id order is not expiry order,
    then the clock past them all; and the ids, earliest expiry first."""
    by_expiry = [f"h{count - n:03d}" for n in range(count)]
    for minutes, hold_id in enumerate(by_expiry, start=1):
        place(ledger, hold_id, "live", minutes=minutes)
    place(ledger, "later", "live", minutes=count + 30)
    clock.advance(minutes=count + 1)
    return by_expiry


def test_the_sweep_ends_a_page_at_a_time_earliest_first_and_goes_on(
    stocked: Ledger, dynamodb: Any, clock: Clock
) -> None:
    by_expiry = due_holds(stocked, clock, 10)
    seen: list[list[HoldState]] = []

    def out_of_time() -> bool:  # asked before each page: note what has ended so far
        seen.append(states(stocked, by_expiry))
        return False

    counter = CallCounter(dynamodb)
    report = stocked.expire_due_holds(limit=3, out_of_time=out_of_time)
    assert report == SweepReport(expired=10, already_ended=0, left_due=0)
    ended = [[state is HoldState.EXPIRED for state in snapshot] for snapshot in seen]
    assert ended == [[n < done for n in range(10)] for done in (0, 3, 6, 9)]  # 3 a page, earliest first
    assert counter.items_read == 10  # each due hold read once; the live one never
    assert stocked.hold("later").state is HoldState.ACTIVE
    assert held(stocked) == (1, STOCK - 1)


def test_out_of_time_stops_the_sweep_and_the_next_run_finishes(stocked: Ledger, dynamodb: Any, clock: Clock) -> None:
    by_expiry = due_holds(stocked, clock, 25)
    asked = {"n": 0}

    def two_pages() -> bool:
        asked["n"] += 1
        return asked["n"] > 2

    counter = CallCounter(dynamodb)
    first = stocked.expire_due_holds(limit=5, out_of_time=two_pages)
    assert first == SweepReport(expired=10, already_ended=0, left_due=15)
    # each due hold read once (what it ended, what it counted as left); counting reads on from each
    # shard's last entry read, which is read again while it is still there: one a shard at most
    assert counter.items_read <= 25 + keys.HOLD_EXPIRY_SHARDS
    assert states(stocked, by_expiry) == [HoldState.EXPIRED] * 10 + [HoldState.ACTIVE] * 15
    assert held(stocked) == (16, STOCK - 16)

    assert stocked.expire_due_holds(limit=5, out_of_time=lambda: True) == SweepReport(0, 0, 15)
    assert stocked.expire_due_holds(limit=5) == SweepReport(expired=15, already_ended=0, left_due=0)
    assert states(stocked, by_expiry) == [HoldState.EXPIRED] * 25
    assert held(stocked) == (1, STOCK - 1)
    assert stocked.expire_due_holds(limit=5) == SweepReport(0, 0, 0)


def test_what_a_stopped_sweep_leaves_is_counted_up_to_a_bound(
    stocked: Ledger, dynamodb: Any, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    due_holds(stocked, clock, 12)
    monkeypatch.setattr(ledger_module, "LEFT_DUE_COUNTED_UP_TO", 4)
    counter = CallCounter(dynamodb)
    assert stocked.expire_due_holds(limit=2, out_of_time=lambda: True) == SweepReport(0, 0, 4)
    assert counter.items_read <= 4 + keys.HOLD_EXPIRY_SHARDS  # a bounded count, not all 12


def test_the_hold_expiry_function_stops_starting_pages_near_its_timeout(handler_env: None) -> None:
    deployed = runtime.app()
    deployed.ledger.upsert_catalog(SKU, ["shop"], {})
    deployed.ledger.report_count(SKU, "shop", 50, 1, "pos", "c1")
    earlier = build(deployed.config, deployed.clients, clock=lambda: datetime.now(UTC) - timedelta(minutes=5)).ledger
    for n in range(3):
        place(earlier, f"h{n}", "live", minutes=1)
    sweep = load_function("hold_expiry").lambda_handler
    assert sweep({}, FakeContext(remaining_ms=1_000)) == {"expired": 0, "already_ended": 0}
    assert sweep({}, FakeContext(remaining_ms=55_000)) == {"expired": 3, "already_ended": 0}
    assert held(deployed.ledger) == (0, 50)


# ==================================================================== racing sweeps end each hold once
def test_sweeps_interleaved_with_stale_duplicate_reads_end_each_hold_once(
    wiring: Wiring, stocked: Ledger, clock: Clock
) -> None:
    by_expiry = due_holds(stocked, clock, 12)
    other = build(wiring.config, wiring.clients, clock=clock).ledger  # a second sweep, its own reads
    stale = stocked.store.expired_holds(clock())  # a third that read the index, then stalled
    assert [hold_id for hold_id, *_ in stale] == by_expiry
    late: list[Outcome] = []
    reports: list[SweepReport] = []

    def meanwhile() -> bool:  # the first sweep, between its first and second page ...
        if len(late) == 0 and stocked.hold(by_expiry[0]).state is HoldState.EXPIRED:
            reports.append(other.expire_due_holds(limit=3))  # ... the second ends the rest ...
            for hold_id, sku, location, qty, source in [*reversed(stale), *stale]:  # ... the third wakes up
                cause = Cause("omnistock", f"expiry:{hold_id}", MovementKind.EXPIRY, hold_id)
                late.append(
                    stocked.store.end_hold(
                        hold_id,
                        sku,
                        location,
                        qty,
                        HoldState.EXPIRED,
                        cause,
                        clock(),
                        source=source,
                        only_if_expired=True,
                    ).outcome
                )
        return False

    first = stocked.expire_due_holds(limit=4, out_of_time=meanwhile)
    (second,) = reports
    assert (first.expired, second.expired) == (4, 8)
    assert 0 < first.already_ended <= 8  # what it had read before the second sweep ended it
    assert late == [Outcome.DUPLICATE] * 24
    assert states(stocked, by_expiry) == [HoldState.EXPIRED] * 12
    assert held(stocked) == (1, STOCK - 1)  # each hold's unit came back once
    assert other.expire_due_holds() == SweepReport(0, 0, 0)


def test_concurrent_sweeps_end_each_hold_once(wiring: Wiring, stocked: Ledger, clock: Clock) -> None:
    by_expiry = due_holds(stocked, clock, 40)
    sweeps = [build(wiring.config, wiring.clients, clock=clock).ledger for _ in range(4)]
    with ThreadPoolExecutor(len(sweeps)) as pool:  # moto serves one request at a time: they interleave
        reports = list(pool.map(lambda n: sweeps[n].expire_due_holds(limit=2 + n), range(len(sweeps))))
    assert sum(report.expired for report in reports) == 40
    assert all(report.left_due == 0 for report in reports)
    assert states(stocked, by_expiry) == [HoldState.EXPIRED] * 40
    assert held(stocked) == (1, STOCK - 1)


# ==================================================================== holds from before the source index
def test_holds_written_before_the_source_index_still_end_once(stocked: Ledger, dynamodb: Any, clock: Clock) -> None:
    """Such holds are not listed by source (see ``StockStore.active_holds``); every way a hold
    ends still finds them, by id or by expiry, and ends each once."""
    for hold_id in ("old-expires", "old-released", "old-checked-out", "new"):
        place(stocked, hold_id, "commentsold", minutes=1 if hold_id == "old-expires" else 30)
    for hold_id in ("old-expires", "old-released", "old-checked-out"):
        legacy(dynamodb, hold_id, "gsi2pk", "gsi2sk")
    counter = CallCounter(dynamodb)
    assert stocked.store.active_holds("commentsold") == ["new"]
    assert counter.items_read == 1
    assert held(stocked) == (4, STOCK - 4)

    assert stocked.release_hold("old-released", "commentsold", "rm-1").outcome is Outcome.APPLIED
    assert stocked.checkout_hold("old-checked-out", "commentsold", "order-1").outcome is Outcome.APPLIED
    clock.advance(minutes=2)
    assert stocked.expire_due_holds(limit=1) == SweepReport(expired=1, already_ended=0, left_due=0)
    assert stocked.expire_due_holds(limit=1) == SweepReport(0, 0, 0)
    assert stocked.release_hold("old-released", "commentsold", "rm-2").outcome is Outcome.DUPLICATE
    assert stocked.release_hold("old-expires", "commentsold", "rm-3").outcome is Outcome.DUPLICATE
    assert states(stocked, ["old-expires", "old-released", "old-checked-out", "new"]) == [
        HoldState.EXPIRED,
        HoldState.RELEASED,
        HoldState.CHECKED_OUT,
        HoldState.ACTIVE,
    ]
    level = stocked.store.stock(SKU, "shop")
    assert level is not None and (level.held, level.pending, level.available) == (1, 1, STOCK - 2)
    assert stocked.store.active_holds("commentsold") == ["new"]


def test_an_index_entry_a_hold_kept_after_it_ended_is_not_listed(stocked: Ledger, dynamodb: Any) -> None:
    """An older writer (a rollback) ends a hold without dropping its source entry: read, not listed."""
    for n in range(50):
        place(stocked, f"web-{n}", "web")
    place(stocked, "kept-entry", "commentsold")
    place(stocked, "active", "commentsold")
    dynamodb.update_item(
        TableName=TABLE,
        Key={"pk": {"S": keys.hold_pk("kept-entry")}, "sk": {"S": keys.HOLD_SK}},
        UpdateExpression="SET #s = :released REMOVE gsi1pk, gsi1sk",
        ExpressionAttributeNames={"#s": "state"},
        ExpressionAttributeValues={":released": {"S": HoldState.RELEASED.value}},
    )
    counter = CallCounter(dynamodb)
    assert stocked.store.active_holds("commentsold") == ["active"]
    assert counter.items_read == 2
