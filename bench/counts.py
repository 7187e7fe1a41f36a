"""DynamoDB calls and the request units DynamoDB bills, per stock event type, on moto with the
template's table; then the partition keys that took the most units over the run.

Each event type runs N times on a fresh SKU; the figures are per event. Counting calls and
units (not timing them) gives the same answer on any machine. Units are on-demand request
units (WRU, RRU), estimated by the rules in bench/units.py.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.calls import CallCounter
from bench.moto_table import moto_table
from bench.units import Target, Usage
from omnistock.wiring import Wiring

N = 20
TABLE = "bench"
# The load the hottest-key report is stated at: stock events a second (counts, holds, sales,
# order lines...) of a retailer at 100x today's volume, at its peak (a sale launch, a live show).
EVENTS_PER_SECOND = 50
# DynamoDB's throughput ceiling of one partition, on-demand or provisioned (AWS docs, "Burst and
# adaptive capacity", "Warm throughput scenarios"): one item, or a partition key value whose items
# DynamoDB cannot split by sort key, never takes more, whatever the table's capacity.
PARTITION_WRU_PER_SECOND = 1_000
PARTITION_RRU_PER_SECOND = 3_000
HOTTEST = 3


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


Peaks = dict[tuple[str, Target, str], float]  # (WRU or RRU, table or index, key) -> most units one event put on it


@dataclass
class Window:
    """What a run of one event type cost, added up event by event."""

    calls: int = 0
    writes: int = 0
    usage: Usage = field(default_factory=Usage)
    per_event: bool = True  # False: measured as one batch (the sweep), so no per-event peaks
    peaks: Peaks = field(default_factory=dict)
    unmetered: Counter[str] = field(default_factory=Counter)  # calls whose units were not counted

    def take(self, counter: CallCounter) -> None:
        """Add what ``counter`` counted since its reset: one event (unless not ``per_event``)."""
        self.calls += counter.total
        self.writes += counter.writes
        self.usage.add(counter.usage)
        if counter.meter is not None:
            self.unmetered.update(counter.meter.unmetered)
        if self.per_event:
            for unit, by_target in (("WRU", counter.usage.key_write_units), ("RRU", counter.usage.key_read_units)):
                for target, by_key in by_target.items():
                    for key, units in by_key.items():
                        self.peaks[unit, target, key] = max(units, self.peaks.get((unit, target, key), 0.0))

    @property
    def peak_key_units(self) -> float | None:
        """The most WRU one event put on one partition key (table or index)."""
        if not self.per_event:
            return None
        return max((units for (unit, _, _), units in self.peaks.items() if unit == "WRU"), default=0.0)


@dataclass(frozen=True)
class Row:
    name: str
    events: int
    window: Window

    def per_event(self, value: float) -> float:
        return value / self.events


def main() -> None:
    clock = Clock()
    with moto_table(TABLE, clock=clock) as (client, wiring):
        ledger = wiring.ledger
        counter = CallCounter(client, units=True)
        assert counter.meter is not None
        indexes = [index.name for index in counter.meter.schema(TABLE).indexes]
        rows: list[Row] = []

        def measure(name: str, setup: Callable[[int], Any], event: Callable[[int], Any]) -> None:
            for i in range(N):
                setup(i)
            window = Window()
            for i in range(N):
                counter.reset()
                event(i)
                window.take(counter)
            rows.append(Row(name, N, window))

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
        sweep = Window(per_event=False)  # one sweep expires them all
        sweep.take(counter)
        rows.append(Row("expiry (sweep, per hold)", N, sweep))
        sweep_items = counter.items_read
        order_rows = _shopify_orders(wiring, clock, counter)

    print("DynamoDB calls and request units per stock event (moto, table from template.yaml)")
    print(
        "per event: calls, write calls (writes), write request units of the table (WRU) and of each index,\n"
        "read request units (RRU, table and indexes), the most WRU one event put on one partition key (key WRU)"
    )
    _table("event", "events", rows, indexes)
    print(f"expiry sweep: {sweep_items} index items read for {report.expired} holds expired")
    applied = [row for row in rows if not any(k in row.name for k in ("duplicate", "refused", "stale"))]
    print(f"write round trips per applied stock event: max {max(r.per_event(r.window.writes) for r in applied):.2f}")
    most = max(applied, key=lambda r: r.window.usage.total_write_units / r.events)
    print(
        f"write request units per applied stock event (table + indexes): "
        f"max {most.per_event(most.window.usage.total_write_units):.2f} ({most.name})"
    )
    print()
    print("Shopify order intake (2 stocked lines an order; webhook and poll take this path)")
    _table("delivery", "orders", order_rows, indexes)
    print()
    _hottest(rows + order_rows)
    unmetered = sum((row.window.unmetered for row in rows + order_rows), Counter[str]())
    if unmetered:
        print(f"calls whose units could not be counted: {dict(unmetered)}")


def _table(first: str, count: str, rows: list[Row], indexes: list[str]) -> None:
    """Per event: calls, write calls, the table's WRU, each index's WRU, RRU, and the most WRU
    one event put on one partition key."""
    header = f"{first:<26}{count:>7}{'calls':>7}{'writes':>7}{'WRU':>7}"
    header += "".join(f"{name + ' WRU':>10}" for name in indexes) + f"{'RRU':>7}{'key WRU':>9}"
    print(header)
    for row in rows:
        window, usage = row.window, row.window.usage
        line = f"{row.name:<26}{row.events:>7}{row.per_event(window.calls):>7.2f}{row.per_event(window.writes):>7.2f}"
        line += f"{row.per_event(usage.write_units):>7.2f}"
        line += "".join(f"{row.per_event(usage.index_write_units.get(name, 0.0)):>10.2f}" for name in indexes)
        peak = "-" if window.peak_key_units is None else f"{window.peak_key_units:.2f}"
        line += f"{row.per_event(usage.read_units):>7.2f}{peak:>9}"
        print(line)


def _hottest(rows: list[Row]) -> None:
    """The partition keys that took the most units over the whole run, and what they would take
    at EVENTS_PER_SECOND, against the per-partition limits."""
    run = Usage()
    peaks: Peaks = {}
    for row in rows:
        run.add(row.window.usage)
        for peak, units in row.window.peaks.items():
            peaks[peak] = max(units, peaks.get(peak, 0.0))
    events = sum(row.events for row in rows)
    print(f"Hottest partition keys over the run ({events} events above, on {N} SKUs), at {EVENTS_PER_SECOND} events/s:")
    print("  mix: the events mixed and spread over keys as in the run (the run's units x rate / events)")
    print("  worst: every event loading the key as much as the one event that loaded it most (max/event x rate)")
    print(f"  a partition takes at most {PARTITION_WRU_PER_SECOND:,} WRU/s and {PARTITION_RRU_PER_SECOND:,} RRU/s")
    print(
        f"{'where':<7}{'units':<7}{'partition key':<22}{'in run':>8}{'max/event':>11}"
        f"{'mix/s':>8}{'of limit':>9}{'worst/s':>9}{'of limit':>9}"
    )
    for unit, limit in (("WRU", PARTITION_WRU_PER_SECOND), ("RRU", PARTITION_RRU_PER_SECOND)):
        for target, top in run.hottest(HOTTEST, reads=unit == "RRU").items():
            for key, units in top:
                mix = units * EVENTS_PER_SECOND / events
                line = f"{target.index or 'table':<7}{unit:<7}{key:<22}{units:>8.1f}"
                most = peaks.get((unit, target, key))
                if most is None:  # only the sweep touched it
                    line += f"{'-':>11}{mix:>8.1f}{mix / limit:>9.1%}{'-':>9}{'-':>9}"
                else:
                    worst = most * EVENTS_PER_SECOND
                    line += f"{most:>11.2f}{mix:>8.1f}{mix / limit:>9.1%}{worst:>9.0f}{worst / limit:>9.1%}"
                print(line)
    (unit, target, key), most = max(peaks.items(), key=lambda peak: (peak[1] / _limit(peak[0][0]), peak[0]))
    event = next(row.name for row in rows if row.window.peaks.get((unit, target, key)) == most)
    worst = most * EVENTS_PER_SECOND
    print(
        f"closest to a limit: {target.index or 'table'} {key}, {most:.2f} {unit} per {event!r}: "
        f"{worst:,.0f} {unit}/s at {EVENTS_PER_SECOND} such events/s, {worst / _limit(unit):.0%} of one partition"
    )


def _limit(unit: str) -> int:
    return PARTITION_WRU_PER_SECOND if unit == "WRU" else PARTITION_RRU_PER_SECOND


def _shopify_orders(wiring: Wiring, clock: Clock, counter: CallCounter) -> list[Row]:
    """DynamoDB calls and units per order delivery: new (one write per line that moves, one for
    the order), a duplicate (reads only), an edit of one line."""
    from omnistock.orders import ChannelOrder, OrderLine

    ledger, desk = wiring.ledger, wiring.order_desk
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")

    def order(i: int, first_qty: int, updated: str) -> ChannelOrder:
        lines = (OrderLine(f"{i}-1", f"S{i}", "a", first_qty), OrderLine(f"{i}-2", f"S{(i + 1) % N}", "b", 1))
        return ChannelOrder("shopify", f"o{i}", f"#{i}", "2026-11-23T12:00:00.000Z", updated, lines)

    rows = []
    for name, qty, updated in (("new order", 2, "T1"), ("duplicate delivery", 2, "T1"), ("edit of one line", 1, "T2")):
        window = Window()
        for i in range(N):
            counter.reset()
            desk.ingest(order(i, qty, f"2026-11-23T12:0{updated[1]}:00.000Z"))
            window.take(counter)
        rows.append(Row(name, N, window))
    return rows


if __name__ == "__main__":
    main()
