"""The ledger's invariants (README, "The ledger"), each on moto with the table from template.yaml.

1. No oversell by construction.   2. Every effect happens once.
3. Stale reports never win.       4. Holds end exactly once.
(5. Explainable: see test_movement_log_and_expiry.py.)
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from typing import Any

import pytest

from omnistock.errors import InvalidRequest, NotFound
from omnistock.ledger import Ledger
from omnistock.models import HoldState, Outcome
from tests.fakes import Clock
from tests.integration.conftest import snapshot


def count(ledger: Ledger, on_hand: int, version: int, location: str = "shop") -> None:
    ledger.report_count("TEE", location, on_hand, version, "pos", f"count-{location}-{version}")


def level(ledger: Ledger, location: str = "shop") -> Any:
    found = ledger.store.stock("TEE", location)
    assert found is not None
    return found


# ==================================================================== 1. no oversell
def test_concurrent_holds_never_oversell(ledger: Ledger, tee: str) -> None:
    count(ledger, 30, 1)
    outcomes: Counter[Outcome] = Counter()
    lock = threading.Lock()

    def claim(worker: int) -> None:
        for attempt in range(12):
            result = ledger.place_hold(f"w{worker}-{attempt}", tee, "shop", 1, "live", f"w{worker}-{attempt}")
            with lock:
                outcomes[result.outcome] += 1

    threads = [threading.Thread(target=claim, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes[Outcome.APPLIED] == 30
    assert outcomes[Outcome.REFUSED] == 8 * 12 - 30
    stock = level(ledger)
    assert (stock.on_hand, stock.held, stock.available) == (30, 30, 0)


def test_refusal_is_atomic(ledger: Ledger, tee: str) -> None:
    count(ledger, 2, 1)
    before = level(ledger)
    held = ledger.place_hold("big", tee, "shop", 3, "live", "big")
    sold = ledger.sell(tee, "shop", 3, "shopify", "o1")
    assert (held.outcome, sold.outcome) == (Outcome.REFUSED, Outcome.REFUSED)
    assert "2 available" in held.detail
    assert level(ledger) == before
    assert ledger.store.hold("big") is None
    # The refused sale left no dedupe record: redelivered once stock exists, it applies.
    ledger.restock(tee, "shop", 5, "admin", "r1")
    assert ledger.sell(tee, "shop", 3, "shopify", "o1").outcome is Outcome.APPLIED


def test_nothing_sells_where_nothing_was_counted(ledger: Ledger, tee: str) -> None:
    assert ledger.place_hold("h", tee, "web", 1, "live", "h").outcome is Outcome.REFUSED
    assert ledger.store.stock(tee, "web") is None


def test_unknown_sku_or_location_changes_nothing(ledger: Ledger, tee: str) -> None:
    with pytest.raises(NotFound):
        ledger.sell("NOPE", "shop", 1, "shopify", "o1")
    with pytest.raises(InvalidRequest):
        ledger.report_count(tee, "moon", 1, 1, "pos", "c")
    with pytest.raises(NotFound):
        ledger.place_hold("h", "NOPE", "shop", 1, "live", "h")
    assert ledger.store.stock_levels(tee) == []
    assert ledger.store.hold("h") is None


def test_negative_adjustment_cannot_go_below_zero_on_hand(ledger: Ledger, tee: str) -> None:
    count(ledger, 3, 1)
    assert ledger.adjust(tee, "shop", -4, "admin", "a1").outcome is Outcome.REFUSED
    assert ledger.adjust(tee, "shop", -3, "admin", "a2").outcome is Outcome.APPLIED
    assert level(ledger).on_hand == 0


# ==================================================================== 2. every effect once
def test_every_stock_event_applies_once(ledger: Ledger, tee: str) -> None:
    count(ledger, 20, 1)
    operations = [
        lambda: ledger.place_hold("h1", tee, "shop", 2, "live", "r1"),
        lambda: ledger.place_hold("h2", tee, "shop", 1, "live", "r2"),
        lambda: ledger.checkout_hold("h1", "live", "checkout-1"),
        lambda: ledger.release_hold("h2", "live", "removed-2"),
        lambda: ledger.sell(tee, "shop", 3, "shopify", "order-1:line-1"),
        lambda: ledger.restock(tee, "shop", 1, "shopify", "refund-1"),
        lambda: ledger.adjust(tee, "shop", -2, "admin", "shrink-1"),
        lambda: ledger.report_count(tee, "shop", 18, 2, "pos", "count-2"),
        lambda: ledger.confirm_pending(tee, "shop", "shopify:order-1:line-1", 3, "pos", "sale-9"),
    ]
    for operation in operations:
        first = operation()
        after_first = snapshot(ledger, tee)
        for _ in range(2):
            again = operation()
            assert again.outcome in (Outcome.DUPLICATE, Outcome.STALE), (first, again)
            assert snapshot(ledger, tee) == after_first


def test_a_hold_id_cannot_be_reused_for_another_claim(ledger: Ledger, tee: str) -> None:
    count(ledger, 5, 1)
    ledger.place_hold("h1", tee, "shop", 1, "live", "r1")
    with pytest.raises(InvalidRequest):
        ledger.place_hold("h1", tee, "shop", 2, "live", "r1")


def _replay(ledger: Ledger, events: list[Any]) -> None:
    """Deliver events; one whose hold is not there yet is redelivered later, as platforms do."""
    queue = list(events)
    for _ in range(len(queue) * 3):
        if not queue:
            return
        event = queue.pop(0)
        try:
            event(ledger)
        except NotFound:
            queue.append(event)
    assert not queue, "events never applied"


def _shuffled_with_duplicates(events: list[Any], seed: int) -> list[Any]:
    rnd = random.Random(seed)
    delivered = events + rnd.sample(events, k=len(events) * 3 // 10)  # 30% duplicated
    rnd.shuffle(delivered)
    return delivered


def _flow_events() -> list[Any]:
    """Holds, checkouts, releases, sales, restocks, adjustments: with ample stock, their
    sum does not depend on order."""
    events: list[Any] = []
    for n in range(6):
        events.append(lambda lg, n=n: lg.place_hold(f"h{n}", "TEE", "shop", 1 + n % 2, "live", f"claim-{n}"))
        if n % 3 == 0:
            events.append(lambda lg, n=n: lg.checkout_hold(f"h{n}", "live", f"checkout-{n}"))
        elif n % 3 == 1:
            events.append(lambda lg, n=n: lg.release_hold(f"h{n}", "live", f"remove-{n}"))
    for n in range(4):
        events.append(lambda lg, n=n: lg.sell("TEE", "web", 2, "shopify", f"order-{n}"))
    events.append(lambda lg: lg.restock("TEE", "web", 3, "shopify", "refund-1"))
    events.append(lambda lg: lg.adjust("TEE", "shop", -2, "admin", "damaged-1"))
    return events


@pytest.mark.parametrize("seed", range(5))
def test_stock_flows_replayed_duplicated_and_reordered(ledger: Ledger, tee: str, seed: int) -> None:
    count(ledger, 40, 1, "shop")
    count(ledger, 40, 1, "web")
    base = snapshot(ledger, tee)
    in_order = _flow_events()
    _replay(ledger, in_order)
    expected = snapshot(ledger, tee)
    # Start again from the same counts and deliver the same events shuffled and duplicated.
    _wipe_all_but_the_catalog(ledger)
    count(ledger, 40, 1, "shop")
    count(ledger, 40, 1, "web")
    assert snapshot(ledger, tee) == base
    _replay(ledger, _shuffled_with_duplicates(in_order, seed))
    assert _without_lot_keys(snapshot(ledger, tee)) == _without_lot_keys(expected)


def _without_lot_keys(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [(*row[:-1], sorted((qty, version) for _, qty, version in row[-1])) for row in rows]


def _wipe_all_but_the_catalog(ledger: Ledger) -> None:
    client, name = ledger.store.table.client, ledger.store.table.name
    for item in client.scan(TableName=name)["Items"]:
        stock = item["pk"]["S"].startswith("SKU#") and item["sk"]["S"].startswith(("LOC#", "LOT#"))
        if stock or item["pk"]["S"].startswith(("EVENT#", "HOLD#")):
            client.delete_item(TableName=name, Key={"pk": item["pk"], "sk": item["sk"]})


# ==================================================================== 3. stale reports never win
def test_older_count_is_ignored(ledger: Ledger, tee: str) -> None:
    count(ledger, 10, 5)
    result = ledger.report_count(tee, "shop", 99, 4, "pos", "late")
    assert result.outcome is Outcome.STALE
    assert level(ledger).on_hand == 10


def test_count_predating_a_web_sale_does_not_bring_it_back(ledger: Ledger, tee: str) -> None:
    count(ledger, 10, 1)
    ledger.sell(tee, "shop", 2, "shopify", "order-7")  # the POS has not seen it yet
    count(ledger, 10, 2)  # a count taken before the POS imported the sale
    assert (level(ledger).pending, level(ledger).available) == (2, 8)
    ledger.confirm_pending(tee, "shop", "shopify:order-7", 3, "pos", "sale-import-7")
    count(ledger, 10, 2)  # replayed: stale
    assert level(ledger).available == 8
    count(ledger, 8, 3)  # the first count that includes the sale
    assert (level(ledger).on_hand, level(ledger).pending, level(ledger).available) == (8, 0, 8)


@pytest.mark.parametrize("count_first", [True, False])
def test_sale_and_the_count_that_includes_it_in_either_order(ledger: Ledger, tee: str, count_first: bool) -> None:
    """Shopify as master of its location: its order at version 5 and its count at version 6."""
    count(ledger, 10, 1)
    steps = [
        lambda: count(ledger, 8, 6),
        lambda: ledger.sell(tee, "shop", 2, "shopify", "order-5", applied_version=5),
    ]
    for step in steps if count_first else reversed(steps):
        step()
    stock = level(ledger)
    assert (stock.on_hand, stock.pending, stock.available) == (8, 0, 8)


@pytest.mark.parametrize("confirm_first", [True, False])
def test_confirmation_and_including_count_in_either_order(ledger: Ledger, tee: str, confirm_first: bool) -> None:
    count(ledger, 10, 1)
    ledger.sell(tee, "shop", 2, "shopify", "order-1")
    steps = [
        lambda: ledger.confirm_pending(tee, "shop", "shopify:order-1", 4, "pos", "sale-4"),
        lambda: count(ledger, 8, 4),
    ]
    for step in steps if confirm_first else reversed(steps):
        step()
    stock = level(ledger)
    assert (stock.on_hand, stock.pending, stock.available) == (8, 0, 8)


def test_checkout_already_in_the_masters_count(ledger: Ledger, tee: str) -> None:
    count(ledger, 10, 1)
    ledger.place_hold("h1", tee, "shop", 3, "live", "r1")
    count(ledger, 7, 6)  # includes the sale at version 5, whose checkout arrives late
    assert level(ledger).available == 4
    ledger.checkout_hold("h1", "live", "co-1", applied_version=5)
    stock = level(ledger)
    assert (stock.on_hand, stock.held, stock.pending, stock.available) == (7, 0, 0, 7)


def test_counts_replayed_in_any_order_end_at_the_newest(ledger: Ledger, tee: str) -> None:
    reports = [(version, 10 + version % 4) for version in range(1, 13)]
    delivered = reports + reports[::3]
    random.Random(7).shuffle(delivered)
    for version, on_hand in delivered:
        count(ledger, on_hand, version)
    assert (level(ledger).master_version, level(ledger).on_hand) == (12, 10 + 12 % 4)


# ==================================================================== 4. holds end exactly once
def test_a_hold_ends_once_whoever_ends_it(ledger: Ledger, tee: str, clock: Clock) -> None:
    count(ledger, 5, 1)
    ledger.place_hold("h1", tee, "shop", 2, "live", "r1", minutes=1)
    assert ledger.release_hold("h1", "live", "rm-1").outcome is Outcome.APPLIED
    clock.advance(minutes=5)
    assert ledger.expire_due_holds().expired == 0
    assert ledger.checkout_hold("h1", "live", "co-1").outcome is Outcome.DUPLICATE
    assert ledger.release_hold("h1", "live", "rm-2").outcome is Outcome.DUPLICATE
    assert (level(ledger).held, level(ledger).available) == (0, 5)


def test_checkout_just_before_the_sweep_is_never_expired(ledger: Ledger, tee: str, clock: Clock) -> None:
    count(ledger, 5, 1)
    ledger.place_hold("h1", tee, "shop", 2, "live", "r1", minutes=1)
    clock.advance(minutes=2)
    assert ledger.checkout_hold("h1", "live", "co-1").outcome is Outcome.APPLIED
    assert ledger.expire_due_holds().expired == 0
    assert ledger.hold("h1").state is HoldState.CHECKED_OUT
    stock = level(ledger)
    assert (stock.held, stock.pending, stock.available) == (0, 2, 3)


def test_sweep_ends_only_what_expired(ledger: Ledger, tee: str, clock: Clock) -> None:
    count(ledger, 50, 1)
    for n in range(10):
        ledger.place_hold(f"soon-{n}", tee, "shop", 1, "live", f"s{n}", minutes=1)
        ledger.place_hold(f"later-{n}", tee, "shop", 1, "live", f"l{n}", minutes=30)
    clock.advance(minutes=1, seconds=1)
    report = ledger.expire_due_holds()
    assert (report.expired, report.already_ended) == (10, 0)
    assert ledger.expire_due_holds().expired == 0
    assert (level(ledger).held, level(ledger).available) == (10, 40)
    assert ledger.hold("soon-3").state is HoldState.EXPIRED
    assert ledger.hold("later-3").state is HoldState.ACTIVE


def test_expiry_racing_a_platform_release_ends_the_hold_once(ledger: Ledger, tee: str, clock: Clock) -> None:
    count(ledger, 5, 1)
    ledger.place_hold("h1", tee, "shop", 2, "live", "r1", minutes=1)
    clock.advance(minutes=2)
    due = ledger.store.expired_holds(clock())  # the sweep read the index ...
    ledger.release_hold("h1", "live", "platform-expiry-1")  # ... the platform's own expiry lands ...
    from omnistock.models import Cause, MovementKind

    hold_id, sku, location, qty, source = due[0]
    cause = Cause("omnistock", f"expiry:{hold_id}", MovementKind.EXPIRY)
    late = ledger.store.end_hold(
        hold_id, sku, location, qty, HoldState.EXPIRED, cause, clock(), source=source, only_if_expired=True
    )
    assert late.outcome is Outcome.DUPLICATE  # ... and the sweep's write finds it ended.
    assert (level(ledger).held, level(ledger).available) == (0, 5)


def test_release_before_claim_means_the_late_claim_holds_nothing(ledger: Ledger, tee: str) -> None:
    count(ledger, 5, 1)
    assert ledger.release_hold("h1", "live", "rm-1").outcome is Outcome.APPLIED
    late = ledger.place_hold("h1", tee, "shop", 2, "live", "r1")
    assert late.outcome is Outcome.DUPLICATE
    assert (level(ledger).held, level(ledger).available) == (0, 5)


def test_checkout_after_expiry_still_records_the_sale(ledger: Ledger, tee: str, clock: Clock) -> None:
    count(ledger, 5, 1)
    ledger.place_hold("h1", tee, "shop", 2, "live", "r1", minutes=1)
    clock.advance(minutes=2)
    ledger.expire_due_holds()
    late = ledger.checkout_hold("h1", "live", "co-1")
    assert late.outcome is Outcome.APPLIED
    assert ledger.checkout_hold("h1", "live", "co-1").outcome is Outcome.DUPLICATE
    stock = level(ledger)
    assert (stock.held, stock.pending, stock.available) == (0, 2, 3)


# ==================================================================== channel view
def test_channel_available_sums_its_locations(ledger: Ledger, tee: str) -> None:
    count(ledger, 4, 1, "shop")
    count(ledger, 3, 1, "web")
    ledger.place_hold("h1", tee, "web", 1, "live", "r1")
    view = ledger.channel_available("shopify", tee)
    assert (view.available, view.by_location) == (6, {"shop": 4, "web": 2})
    ledger.set_channel("pos", ["shop"])
    assert ledger.channel_available("pos", tee).available == 4


def test_pending_always_equals_its_lots(ledger: Ledger, tee: str) -> None:
    count(ledger, 30, 1)
    ledger.sell(tee, "shop", 2, "shopify", "o1")
    ledger.place_hold("h1", tee, "shop", 3, "live", "r1")
    ledger.checkout_hold("h1", "live", "co1")
    ledger.confirm_pending(tee, "shop", "shopify:o1", 2, "pos", "s")
    assert set(ledger.store.stock_with_lots(tee, "shop").lots) == {"shopify:o1", "hold:h1"}  # type: ignore[union-attr]
    count(ledger, 28, 2)
    stock = ledger.store.stock_with_lots(tee, "shop")
    assert stock is not None
    assert stock.pending == sum(lot.qty for lot in stock.lots.values()) == 3
    assert stock.available == stock.on_hand - stock.held - stock.pending


def test_holds_checked_out_under_one_order_keep_their_own_lots(ledger: Ledger, tee: str) -> None:
    count(ledger, 10, 1)
    ledger.place_hold("h1", tee, "shop", 2, "live", "r1")
    ledger.place_hold("h2", tee, "shop", 3, "live", "r2")
    ledger.checkout_hold("h1", "live", "order-9")  # one order, two carts
    ledger.checkout_hold("h2", "live", "order-9")
    ledger.sell(tee, "shop", 1, "live", "order-9")  # and a line sold without a hold
    stock = ledger.store.stock_with_lots(tee, "shop")
    assert stock is not None
    assert stock.pending == sum(lot.qty for lot in stock.lots.values()) == 6
    assert set(stock.lots) == {"hold:h1", "hold:h2", "live:order-9"}


def test_checkout_that_races_the_sweep_still_records_the_sale(
    ledger: Ledger, tee: str, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    count(ledger, 5, 1)
    ledger.place_hold("h1", tee, "shop", 2, "live", "r1", minutes=1)
    clock.advance(minutes=2)
    seen_active = ledger.hold("h1")  # the checkout reads the hold while it is still active ...
    ledger.expire_due_holds()  # ... the sweep ends it ...
    monkeypatch.setattr(ledger.store, "hold", lambda hold_id: seen_active)
    result = ledger.checkout_hold("h1", "live", "co-1")  # ... and the checkout's write finds it expired
    assert result.outcome is Outcome.APPLIED
    stock = level(ledger)
    assert (stock.held, stock.pending, stock.available) == (0, 2, 3)


def test_counts_clear_more_lots_than_one_transaction_holds(ledger: Ledger, tee: str) -> None:
    count(ledger, 200, 1)
    for n in range(95):
        ledger.sell(tee, "shop", 1, "shopify", f"o{n}", applied_version=5)
    assert level(ledger).pending == 95
    count(ledger, 105, 6)  # includes all 95 sales: two transactions clear them
    stock = ledger.store.stock_with_lots(tee, "shop")
    assert stock is not None
    assert (stock.on_hand, stock.pending, stock.available, stock.lots) == (105, 0, 105, {})


def test_confirmations_need_a_known_sku_and_lot(ledger: Ledger, tee: str) -> None:
    count(ledger, 5, 1)
    with pytest.raises(NotFound):
        ledger.confirm_pending("NOPE", "shop", "x", 2, "pos", "c")
    with pytest.raises(NotFound):
        ledger.confirm_pending(tee, "shop", "shopify:never-sold", 2, "pos", "c")
    ledger.sell(tee, "shop", 1, "shopify", "o1")
    count(ledger, 5, 2)
    assert ledger.confirm_pending(tee, "shop", "shopify:o1", 2, "pos", "c1").outcome is Outcome.APPLIED
    assert ledger.confirm_pending(tee, "shop", "shopify:o1", 2, "pos", "c1").outcome is Outcome.DUPLICATE
