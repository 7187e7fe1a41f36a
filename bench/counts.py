"""DynamoDB calls and write calls per stock event type, on moto with the template's table.

Each event type runs N times on a fresh SKU; the figures are per event. Counting calls (not
timing them) gives the same answer on any machine.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.calls import CallCounter
from bench.moto_table import moto_table
from omnistock.wiring import Wiring

N = 20


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def main() -> None:
    clock = Clock()
    with moto_table(clock=clock) as (client, wiring):
        ledger = wiring.ledger
        counter = CallCounter(client)
        rows: list[tuple[str, int, float, float]] = []

        def measure(name: str, setup: Callable[[int], Any], event: Callable[[int], Any]) -> None:
            for i in range(N):
                setup(i)
            counter.reset()
            for i in range(N):
                event(i)
            rows.append((name, N, counter.total / N, counter.writes / N))

        def stocked(i: int, on_hand: int = 100) -> None:
            ledger.upsert_catalog(f"S{i}", ["shop"], {})
            ledger.report_count(f"S{i}", "shop", on_hand, 1, "pos", f"c{i}")

        def fresh(prefix: str) -> Callable[[int], None]:
            def setup(i: int) -> None:
                ledger.upsert_catalog(f"{prefix}{i}", ["shop"], {})

            return setup

        measure("count (first)", fresh("F"), lambda i: ledger.report_count(f"F{i}", "shop", 5, 1, "pos", f"f{i}"))
        measure("count (newer)", stocked, lambda i: ledger.report_count(f"S{i}", "shop", 90, 2, "pos", f"n{i}"))
        measure("count (stale)", lambda i: None, lambda i: ledger.report_count(f"S{i}", "shop", 1, 1, "pos", f"o{i}"))
        measure("hold", lambda i: None, lambda i: ledger.place_hold(f"h{i}", f"S{i}", "shop", 1, "live", f"h{i}"))
        measure(
            "hold (duplicate)",
            lambda i: None,
            lambda i: ledger.place_hold(f"h{i}", f"S{i}", "shop", 1, "live", f"h{i}"),
        )
        measure(
            "hold (refused)",
            lambda i: None,
            lambda i: ledger.place_hold(f"x{i}", f"S{i}", "shop", 999, "live", f"x{i}"),
        )
        measure("release", lambda i: None, lambda i: ledger.release_hold(f"h{i}", "live", f"r{i}"))
        measure(
            "checkout",
            lambda i: ledger.place_hold(f"k{i}", f"S{i}", "shop", 1, "live", f"k{i}"),
            lambda i: ledger.checkout_hold(f"k{i}", "live", f"co{i}"),
        )
        measure("sale", lambda i: None, lambda i: ledger.sell(f"S{i}", "shop", 1, "shopify", f"o{i}"))
        measure("sale (duplicate)", lambda i: None, lambda i: ledger.sell(f"S{i}", "shop", 1, "shopify", f"o{i}"))
        measure("restock", lambda i: None, lambda i: ledger.restock(f"S{i}", "shop", 1, "shopify", f"rs{i}"))
        measure("adjustment", lambda i: None, lambda i: ledger.adjust(f"S{i}", "shop", -1, "admin", f"a{i}"))
        measure(
            "confirmation",
            lambda i: None,
            lambda i: ledger.confirm_pending(f"S{i}", "shop", f"shopify:o{i}", 3, "pos", f"cf{i}"),
        )

        for i in range(N):
            ledger.place_hold(f"e{i}", f"S{i}", "shop", 1, "live", f"e{i}", minutes=1)
        clock.now += timedelta(minutes=2)
        counter.reset()
        report = ledger.expire_due_holds()
        rows.append(("expiry (sweep, per hold)", report.expired, counter.total / N, counter.writes / N))
        sweep_items = counter.items_read
        order_rows = _shopify_orders(wiring, clock, counter)

    print("DynamoDB calls per stock event (moto, table from template.yaml)")
    print(f"{'event':<26}{'events':>8}{'calls/event':>14}{'writes/event':>14}")
    for name, events, calls, writes in rows:
        print(f"{name:<26}{events:>8}{calls:>14.2f}{writes:>14.2f}")
    print(f"expiry sweep: {sweep_items} index items read for {report.expired} holds expired")
    stock_writes = [w for name, _, _, w in rows if not any(k in name for k in ("duplicate", "refused", "stale"))]
    print(f"write round trips per applied stock event: max {max(stock_writes):.2f}")
    print()
    print("Shopify order intake (2 stocked lines an order; webhook and poll take this path)")
    print(f"{'delivery':<26}{'orders':>8}{'calls/order':>14}{'writes/order':>14}")
    for name, events, calls, writes in order_rows:
        print(f"{name:<26}{events:>8}{calls:>14.2f}{writes:>14.2f}")


def _shopify_orders(wiring: Wiring, clock: Clock, counter: CallCounter) -> list[tuple[str, int, float, float]]:
    """DynamoDB calls per order delivery: new (one write per line that moves, one for the
    order), a duplicate (reads only), an edit of one line."""
    from omnistock.orders import ChannelOrder, OrderLine

    ledger, desk = wiring.ledger, wiring.order_desk
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")

    def order(i: int, first_qty: int, updated: str) -> ChannelOrder:
        lines = (OrderLine(f"{i}-1", f"S{i}", "a", first_qty), OrderLine(f"{i}-2", f"S{(i + 1) % N}", "b", 1))
        return ChannelOrder("shopify", f"o{i}", f"#{i}", "2026-11-23T12:00:00.000Z", updated, lines)

    rows = []
    for name, qty, updated in (("new order", 2, "T1"), ("duplicate delivery", 2, "T1"), ("edit of one line", 1, "T2")):
        counter.reset()
        for i in range(N):
            desk.ingest(order(i, qty, f"2026-11-23T12:0{updated[1]}:00.000Z"))
        rows.append((name, N, counter.total / N, counter.writes / N))
    return rows
