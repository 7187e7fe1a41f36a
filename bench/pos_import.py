"""Web orders into the POS under redelivery and lost answers: N Shopify orders written into the
Lightspeed sandbox as sales by the same importer the POS-sales function runs, on in-process moto
(table from the template). A share of the orders is delivered again later (the stream and the
schedule both bring an order back); before a share of the first attempts the sandbox commits the
sale and loses its answer, and the schedule's retry must find it rather than write it again.

Counted: sales the POS holds per order (1 expected, duplicates 0), POS API calls per order against
their lower bound (one create per order; product look-ups are once per SKU, a lost answer costs a
look-up), DynamoDB calls per order, and units still pending once the POS's own webhooks (the
sales' echoes and their counts) are in (0 expected: the POS's answers closed every lot).
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

from bench.calls import CallCounter
from bench.moto_table import moto_table
from omnistock.wiring import Wiring

OUTLET, LOCATION, WEB = "outlet-shop", "shop", "shopify"


@dataclass
class ImportRun:
    orders: int = 0
    redelivered: int = 0
    answers_lost: int = 0
    results: Counter[str] = field(default_factory=Counter)
    sales: int = 0
    duplicates: int = 0
    pos_calls: Counter[str] = field(default_factory=Counter)
    dynamodb_calls: int = 0  # the importer's (the order desk's ingest is counted apart)
    ingest_calls: int = 0
    pending_after: int = 0
    unfinished: int = 0  # orders whose sale records are not done (0 expected)
    mismatched_skus: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        done = not self.duplicates and not self.pending_after and not self.mismatched_skus and not self.unfinished
        return self.sales == self.orders and done


def run(orders: int, *, seed: int, skus: int = 20, redeliver: float = 0.3, lose: float = 0.1) -> ImportRun:
    from local.sandbox.lightspeed import WEB_PAYMENT_TYPE, WEB_USER, LightspeedSandbox
    from omnistock.channels.lightspeed import wiring as lightspeed
    from omnistock.channels.lightspeed.webhooks import Delivery
    from omnistock.channels.lightspeed.wiring import LightspeedSettings
    from omnistock.orders import ChannelOrder, OrderLine

    rng, result = random.Random(seed), ImportRun()
    with moto_table("pos-import") as (client, wiring), LightspeedSandbox(outlets=(OUTLET,)) as pos:
        counter = CallCounter(client)
        wiring.clients.secretsmanager.create_secret(Name="pos", SecretString=json.dumps(pos.initial_tokens()))
        settings = LightspeedSettings(pos.domain_prefix, pos.api_base, "pos", "", {OUTLET: LOCATION})
        wiring.config = wiring.config.with_sections(settings)
        value = {"mode": "automatic", "registers": {LOCATION: pos.registers[OUTLET]}}
        value |= {"user_id": WEB_USER, "payment_type_id": WEB_PAYMENT_TYPE}
        wiring.settings.change("lightspeed.web_orders", value, "bench")
        ledger, intake = wiring.ledger, lightspeed.intake(wiring)
        ledger.set_channel(WEB, [LOCATION], platform="shopify", target_location="gid://shopify/Location/1")
        names = [f"TEE-{n}" for n in range(skus)]
        for sku in names:
            ledger.upsert_catalog(sku, [LOCATION], {}, sku)
            pos.add_product(sku, {OUTLET: orders})  # enough for every order

        def deliver_pos_webhooks() -> None:
            for queued in pos.webhooks():
                intake.handle(Delivery(queued["type"], queued["payload"]))
            pos.reset_outbox()

        deliver_pos_webhooks()
        importer = lightspeed.web_orders(wiring)
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        later: list[str] = []
        counter.reset()
        for n in range(orders):
            lines = tuple(
                OrderLine(line_id=str(i), sku=sku, title=sku, quantity=rng.randint(1, 2), unit_price="20.00")
                for i, sku in enumerate(rng.sample(names, rng.randint(1, 3)), start=1)
            )
            order_id = f"{seed}-{n}"
            order = ChannelOrder(
                WEB, order_id, f"#{2000 + n}", now, now, lines, financial_status="paid", shipping="5.00"
            )
            order = replace(order, shipping_method="Standard")
            before = counter.total
            wiring.order_desk.ingest(order)
            result.ingest_calls += counter.total - before
            if rng.random() < lose:
                pos.lose_next_answers(1)  # the POS commits the sale; its answer never arrives
                result.answers_lost += 1
            result.results[importer.sync(WEB, order_id).result] += 1
            result.orders += 1
            if rng.random() < redeliver:
                later.insert(rng.randint(0, len(later)), order_id)
            while later and rng.random() < 0.3:  # redeliveries, late and out of order
                result.results[importer.sync(WEB, later.pop(rng.randrange(len(later)))).result] += 1
                result.redelivered += 1
        for order_id in later:
            result.results[importer.sync(WEB, order_id).result] += 1
            result.redelivered += 1
        while True:  # the 5-minute schedule's runs (50 orders each), until nothing is unfinished
            ran = importer.retry_unfinished(lambda: False)
            for name, count in ran.items():
                result.results[f"schedule {name}"] += count
            if not ran:
                break
        result.unfinished = len(wiring_unfinished(wiring))
        result.dynamodb_calls = counter.total - result.ingest_calls
        result.pos_calls = Counter(pos.counters()["api_calls"])
        sales = Counter(sale["source_id"] for sale in pos.sales_from("omnistock"))
        result.sales = len(sales)
        result.duplicates = sum(count - 1 for count in sales.values())
        deliver_pos_webhooks()
        for sku in names:
            level = ledger.store.stock(sku, LOCATION)
            result.pending_after += level.pending if level else 0
            if level is None or level.on_hand != pos.count(pos.product_id_for(sku), OUTLET):
                result.mismatched_skus.append(sku)
    return result


def wiring_unfinished(wiring: Wiring) -> list[tuple[str, str]]:
    from omnistock.store.pos_sale_store import PosSaleStore

    return PosSaleStore(wiring.table).unfinished("~", 1000)


def main(orders: int = 1000, seed: int = 20261205) -> int:
    result = run(orders, seed=seed)
    calls = result.pos_calls
    writes = calls["/api/2026-04/sales"]
    looks = calls["/api/2026-04/sales/{id}"]
    searches, products = calls["/api/2.0/search"], calls["/api/2026-04/products"]
    total = sum(calls.values()) - calls["/api/1.0/token"]
    print(f"POS import ({result.orders:,} web orders, seed {seed}, Lightspeed sandbox, moto)")
    print(
        f"  {result.redelivered} redeliveries ({result.redelivered / result.orders:.0%}), "
        f"{result.answers_lost} answers lost after the POS committed ({result.answers_lost / result.orders:.0%})"
    )
    print(f"  results: {dict(sorted(result.results.items()))}")
    print(
        f"pos import: {result.orders:,} web orders (30% redelivered, 10% answers lost after commit): "
        f"sales created {result.sales:,}, duplicates {result.duplicates}, "
        f"POS API calls per order {total / result.orders:.2f} (lower bound 1.00), "
        f"units pending after the import {result.pending_after}"
    )
    print(f"  orders whose sale records are unfinished at the end: {result.unfinished}")
    print(
        f"  POS calls: {writes} sale creates, {looks} sale look-ups (after lost answers), "
        f"{searches} product searches and {products} product creates (once per SKU and the shipping product)"
    )
    print(
        f"  DynamoDB calls per order: {result.dynamodb_calls / result.orders:.1f} to import it (redeliveries and "
        f"confirmations included), {result.ingest_calls / result.orders:.1f} to take the order in"
    )
    if result.mismatched_skus:
        print(f"  ledger and POS disagree on {len(result.mismatched_skus)} SKUs: {result.mismatched_skus[:5]}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main(*(int(a) for a in sys.argv[1:2])))
