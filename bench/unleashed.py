"""Unleashed as ERP and stock master under redelivery, lost answers and its own stock changes:
N paid web orders sent to the Unleashed sandbox as sales orders by the writer the ERP-orders
function runs, interleaved with stock changes made in Unleashed (receipts, counts, shrinkage)
that the stock poll brings in as master counts, on in-process moto (table from the template).

A share of the orders is delivered again later, out of order (the stream and the schedule both
bring an order back), and a share reaches Unleashed only after the next poll (a count from
before the sale arrives first); before a share of the first attempts the sandbox commits the sales order
and loses its answer, and the schedule's retry must find it rather than make a second.

Counted: sales orders per web order (1 expected, duplicates 0); Unleashed API calls per order
against their lower bound (one create each; a lost answer costs a look-up); the stock poll's
calls against ceil(rows changed / 1,000); units the ledger offered that Unleashed could not sell,
after every poll, counting the web sales it has not heard of yet (oversold, 0 expected: a count
from before a web sale never brings its units back); and, once every order is in and one more
poll has run, SKUs where the ledger and Unleashed disagree (0 expected) and units still pending
(0 expected).
"""

from __future__ import annotations

import json
import math
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bench.calls import CallCounter
from bench.moto_table import moto_table

WAREHOUSE, LOCATION, WEB = "MAIN", "warehouse", "shopify"
NEVER = lambda: False  # noqa: E731
ROUND = timedelta(minutes=10)  # between polls (the schedule's runs in between are the retries)


class StepClock:
    """The run's time: it moves only when told, so a round is ten minutes however fast it runs."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


@dataclass
class UnleashedRun:
    orders: int = 0
    redelivered: int = 0
    late: int = 0  # first delivered only after a poll: a count that predates the sale comes first
    answers_lost: int = 0
    results: Counter[str] = field(default_factory=Counter)
    sales_orders: int = 0
    duplicates: int = 0
    order_calls: int = 0  # Unleashed API calls the sales-order writer made
    stock_changes: int = 0  # changes made in Unleashed (not counting allocations by the orders)
    stock_rows: int = 0  # rows the polls read (the changes, allocations and the overlap)
    stock_calls: int = 0
    first_poll_calls: int = 0  # the initial full read of the catalog's stock (not a change)
    polls: int = 0
    oversold: int = 0  # units the ledger showed that Unleashed did not have, summed over polls
    mismatched: list[str] = field(default_factory=list)
    pending_after: int = 0
    dynamodb_per_order: float = 0.0
    dynamodb_per_change: float = 0.0

    @property
    def ok(self) -> bool:
        settled = not self.mismatched and not self.pending_after and not self.oversold
        return self.sales_orders == self.orders and not self.duplicates and settled


def run(  # noqa: PLR0912 - one scenario, told in order
    orders: int,
    *,
    seed: int,
    skus: int = 1000,
    rounds: int = 5,
    redeliver: float = 0.3,
    lose: float = 0.1,
    late: float = 0.1,
) -> UnleashedRun:
    from local.sandbox.unleashed import UnleashedSandbox
    from omnistock.channels.unleashed import wiring as unleashed
    from omnistock.channels.unleashed.wiring import UnleashedSettings
    from omnistock.clock import iso
    from omnistock.orders import ChannelOrder, OrderLine

    rng, result = random.Random(seed), UnleashedRun()
    clock = StepClock(datetime(2026, 11, 2, tzinfo=UTC))
    with (
        moto_table("unleashed", clock=clock) as (client, wiring),
        UnleashedSandbox(warehouses=(WAREHOUSE,), clock=lambda: clock().timestamp()) as erp,
    ):
        counter = CallCounter(client)
        wiring.clients.secretsmanager.create_secret(Name="erp", SecretString=json.dumps(erp.credentials()))
        config = UnleashedSettings(erp.api_base, "erp", warehouses={WAREHOUSE: LOCATION})
        wiring.config = wiring.config.with_sections(config)
        wiring.settings.change("unleashed.sales_orders", {"mode": "automatic", "customer_code": "WEB"}, "bench")
        ledger = wiring.ledger
        ledger.set_channel(WEB, [LOCATION], platform="shopify", target_location="gid://shopify/Location/1")
        names = [f"PART-{n:05d}" for n in range(skus)]
        for sku in names:
            ledger.upsert_catalog(sku, [LOCATION], {}, sku)
            erp.add_product(sku, {WAREHOUSE: rng.randint(5, 40)})
        api = unleashed.api(wiring)
        assert api is not None
        intake, writer = unleashed.intake(wiring), unleashed.sales_orders(wiring)
        intake.poll(api, NEVER)
        result.first_poll_calls = api.calls

        def available(sku: str) -> int:  # what the shop shows (never below 0: a shrinkage can oversell)
            level = ledger.store.stock(sku, LOCATION)
            return max(0, level.available) if level else 0

        def sync(order_id: str) -> None:
            before_calls, before_db = api.calls, counter.total
            result.results[writer.sync(WEB, order_id)] += 1
            result.order_calls += api.calls - before_calls
            order_db[0] += counter.total - before_db

        def poll() -> None:
            clock.now += ROUND
            before_calls, before_db = api.calls, counter.total
            for name, count in writer.retry_unfinished(NEVER).items():  # the schedule's retries
                result.results[f"schedule {name}"] += count
            result.order_calls += api.calls - before_calls
            order_db[0] += counter.total - before_db
            before_calls, before_db = api.calls, counter.total
            report = intake.poll(api, NEVER)
            result.stock_calls += api.calls - before_calls
            stock_db[0] += counter.total - before_db
            result.stock_rows += int(report["rows"])
            result.polls += 1
            unsent = Counter[str]()  # units sold on the web that Unleashed has not heard of yet
            committed = {order["OrderNumber"] for order in erp.sales_orders()}
            for number, lines in sold.items():
                if number not in committed:
                    unsent.update(dict(lines))
            for sku in names:  # what the shop offers against what can still be sold
                can_sell = max(0, math.floor(erp.available(sku, WAREHOUSE)) - unsent[sku])
                result.oversold += max(0, available(sku) - can_sell)
            while after_poll:
                sync(after_poll.pop())

        order_db, stock_db = [0], [0]
        sold: dict[str, list[tuple[str, int]]] = {}  # order number in Unleashed -> (sku, units)
        later: list[str] = []
        after_poll: list[str] = []
        per_round = math.ceil(orders / rounds)
        for _ in range(rounds):
            events = ["change"] * skus + ["order"] * min(per_round, orders - result.orders)
            rng.shuffle(events)
            changed = iter(rng.sample(names, skus))  # each SKU changes once a round
            for event in events:
                if event == "change":
                    sku = next(changed)
                    erp.set_stock(sku, WAREHOUSE, on_hand=rng.randint(0, 40))
                    result.stock_changes += 1
                    continue
                lines: list[OrderLine] = []
                while not lines:  # a basket of what the shop shows in stock
                    for n, sku in enumerate(rng.sample(names, rng.randint(1, 3)), start=1):
                        quantity = min(rng.randint(1, 2), available(sku))
                        if quantity:
                            lines.append(OrderLine(str(n), sku, sku, quantity, unit_price="9.90"))
                order_id, now = f"{seed}-{result.orders}", iso(clock())
                number = f"#{3000 + result.orders}"
                order = ChannelOrder(
                    WEB, order_id, number, now, now, tuple(lines), financial_status="paid", shipping="5.00"
                )
                wiring.order_desk.ingest(order)
                sold[f"SHOPIFY_{number[1:]}"] = [(line.sku, line.quantity) for line in lines]
                result.orders += 1
                if rng.random() < late:  # the stream is slow: Unleashed hears of it after the next poll
                    after_poll.append(order_id)
                    result.late += 1
                    continue
                if rng.random() < lose:
                    erp.lose_next_answers(1)  # Unleashed commits the sales order; its answer never arrives
                    result.answers_lost += 1
                sync(order_id)
                if rng.random() < redeliver:
                    later.insert(rng.randint(0, len(later)), order_id)
                while later and rng.random() < 0.3:  # redeliveries, late and out of order
                    sync(later.pop(rng.randrange(len(later))))
                    result.redelivered += 1
            poll()
        for order_id in later:
            sync(order_id)
            result.redelivered += 1
        for _ in range(12):  # the schedule, until nothing is unfinished (backing off up to an hour)
            if not writer.documents.unfinished(iso(clock()) + "~", 1):
                break
            poll()
        poll()  # one more: Unleashed's numbers after the last retries
        numbers = Counter(order["OrderNumber"] for order in erp.sales_orders())
        result.sales_orders, result.duplicates = len(numbers), sum(n - 1 for n in numbers.values())
        for sku in names:
            level = ledger.store.stock(sku, LOCATION)
            result.pending_after += level.pending if level else 0
            if level is None or level.on_hand != max(0, math.floor(erp.available(sku, WAREHOUSE))):
                result.mismatched.append(sku)
        result.dynamodb_per_order = order_db[0] / max(1, result.orders)
        result.dynamodb_per_change = stock_db[0] / max(1, result.stock_changes)
    return result


def main(orders: int = 1000, seed: int = 20261205) -> int:
    result = run(orders, seed=seed)
    per_order = result.order_calls / max(1, result.orders)
    lower = math.ceil(result.stock_changes / 1000)
    print(f"Unleashed ({result.orders:,} paid web orders, seed {seed}, Unleashed sandbox, moto)")
    print(
        f"  {result.redelivered} redeliveries ({result.redelivered / result.orders:.0%}), "
        f"{result.answers_lost} answers lost after Unleashed committed ({result.answers_lost / result.orders:.0%}), "
        f"{result.late} first delivered after a poll ({result.late / result.orders:.0%})"
    )
    print(f"  results: {dict(sorted(result.results.items()))}")
    print(
        f"unleashed: {result.orders:,} paid orders (30% redelivered, 10% answers lost after commit): "
        f"sales orders {result.sales_orders:,}, duplicates {result.duplicates}, API calls per order "
        f"{per_order:.2f} (lower bound 1.00); {result.stock_changes:,} stock changes: API calls "
        f"{result.stock_calls} (lower bound {lower}), oversold {result.oversold}, ledger equal to Unleashed "
        f"{'yes' if not result.mismatched and not result.pending_after else 'NO'}"
    )
    print(
        f"  stock polls: {result.polls}, rows read {result.stock_rows:,} (the changes, the sales orders' "
        f"allocations and the 5-minute overlap); the first full read took {result.first_poll_calls} calls"
    )
    print(
        f"  DynamoDB calls: {result.dynamodb_per_order:.1f} per order to send it (redeliveries and confirmations "
        f"included), {result.dynamodb_per_change:.1f} per stock change to apply it"
    )
    if result.mismatched or result.pending_after:
        print(f"  ledger and Unleashed disagree on {len(result.mismatched)} SKUs ({result.mismatched[:5]}), ", end="")
        print(f"{result.pending_after} units pending")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
