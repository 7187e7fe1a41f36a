"""The POS as master under redelivery: Lightspeed count changes (till sales, recounts, web orders
the POS imports) with a share of deliveries repeated later, out of order, interleaved with web
sales of the same SKUs that sell only what the ledger allows. In-process moto, table from the
template; the deliveries go through the same intake as the webhook function.

Ground truth is the POS's own count plus the web orders it has not imported yet. Checked:

- oversells: web units sold beyond the units free in truth when sold (0 expected);
- resurrections: moments when the ledger showed more than was free in truth (0 expected);
- the end state: with every delivery made, every web order imported and every confirmation in,
  each SKU's ledger count equals the POS's count with nothing pending.

A new count's report arrives before the next web sale (a report still in flight is a lag no
count can know about); a sale's confirmation may come any time later; repeats come any time later.
"""

from __future__ import annotations

import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.calls import CallCounter
from bench.moto_table import moto_table
from omnistock.wiring import Wiring

OUTLET, LOCATION, WEB = "outlet-shop", "shop", "shopify"
FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "lightspeed"


@dataclass
class Replay:
    changes: int = 0  # POS count changes made
    deliveries: Counter[str] = field(default_factory=Counter)  # by kind: count, repeat, sale, sale repeat
    web_orders: int = 0
    web_units: int = 0
    oversold_units: int = 0
    resurrections: int = 0
    withheld_max: int = 0  # most units the ledger kept off a SKU while a confirmation was on its way
    mismatched_skus: list[str] = field(default_factory=list)
    writes: Counter[str] = field(default_factory=Counter)
    calls: Counter[str] = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return self.oversold_units == 0 and self.resurrections == 0 and not self.mismatched_skus


@dataclass
class Delivery:
    kind: str  # "count" or "sale"
    payload: dict[str, Any]
    repeat: bool = False


class Pos:
    """The POS's truth: counts per SKU, one version counter, the web orders not imported yet."""

    def __init__(self, rng: random.Random, skus: list[str]) -> None:
        self.rng = rng
        self.version = 1_000_000
        self.counts = {sku: rng.randint(3, 15) for sku in skus}
        self.unimported: dict[str, list[tuple[str, int]]] = {sku: [] for sku in skus}
        self.invoice = 0

    def free(self, sku: str) -> int:
        return self.counts[sku] - sum(qty for _, qty in self.unimported[sku])

    def next_version(self) -> int:
        self.version += self.rng.randint(1, 7)
        return self.version

    def count(self, sku: str) -> Delivery:
        payload = _fixture("inventory.update") | {"product_id": f"p-{sku}", "outlet_id": OUTLET}
        payload |= {
            "count": self.counts[sku],
            "version": self.next_version(),
            "product": {"id": f"p-{sku}", "sku": sku},
        }
        return Delivery("count", payload)

    def sale(self, sku: str, qty: int, invoice: str, source: str = "USER") -> Delivery:
        payload = _fixture("sale.update") | {"id": f"sale-{invoice}", "invoice_number": invoice, "source": source}
        payload |= {"version": self.next_version(), "sale_date": "2026-11-23T12:00:00Z", "register_id": "r"}
        payload["register_sale_products"] = [{"id": "1", "product_id": f"p-{sku}", "quantity": qty}]
        return Delivery("sale", payload)


def replay(
    wiring: Wiring, counter: CallCounter, changes: int, *, seed: int, skus: int = 10, repeats: float = 0.3
) -> Replay:
    """``changes`` POS count changes, ``repeats`` of all deliveries made again later."""
    from omnistock.channels.lightspeed import wiring as lightspeed
    from omnistock.channels.lightspeed.webhooks import Delivery as Received
    from omnistock.channels.lightspeed.wiring import LightspeedSettings
    from omnistock.orders import ChannelOrder, OrderLine

    rng = random.Random(seed)
    names = [f"S{seed}-{n}" for n in range(skus)]
    wiring.config = wiring.config.with_sections(LightspeedSettings(outlets={OUTLET: LOCATION}))
    ledger, desk, intake = wiring.ledger, wiring.order_desk, lightspeed.intake(wiring)
    ledger.set_channel(WEB, [LOCATION], platform="shopify", target_location="gid://shopify/Location/1")
    pos, result, later = Pos(rng, names), Replay(), list[Delivery]()
    for sku in names:
        ledger.upsert_catalog(sku, [LOCATION], {})
        intake.handle(Received("inventory.update", pos.count(sku).payload))

    def deliver(delivery: Delivery) -> None:
        kind = f"{delivery.kind}{' repeat' if delivery.repeat else ''}"
        counter.reset()
        intake.handle(Received(f"{'inventory' if delivery.kind == 'count' else 'sale'}.update", delivery.payload))
        result.deliveries[kind] += 1
        result.writes[kind] += counter.writes
        result.calls[kind] += counter.total
        if not delivery.repeat and rng.random() < repeats:
            later.insert(rng.randint(0, len(later)), Delivery(delivery.kind, delivery.payload, repeat=True))

    def check(sku: str) -> None:
        """After a POS event is delivered (a till sale's sale and count both), or a late delivery."""
        level = ledger.store.stock(sku, LOCATION)
        shown = level.available if level else 0
        if shown > pos.free(sku):
            result.resurrections += 1
        result.withheld_max = max(result.withheld_max, pos.free(sku) - shown)

    def some_later(share: float) -> None:
        while later and rng.random() < share:
            delivery = later.pop(rng.randrange(len(later)))
            deliver(delivery)
            product = delivery.payload.get("product_id") or delivery.payload["register_sale_products"][0]["product_id"]
            check(product.removeprefix("p-"))

    while result.changes < changes:
        sku, roll = rng.choice(names), rng.random()
        if roll < 0.4:  # a web sale of what the ledger lets the web sell
            allowed = ledger.channel_available(WEB, sku).available
            if allowed:
                qty = rng.randint(1, min(2, allowed))
                result.oversold_units += max(0, qty - max(0, pos.free(sku)))
                result.web_orders += 1
                result.web_units += qty
                number = f"W{seed}-{result.web_orders}"
                at = "2026-11-23T12:00:00.000Z"
                line = OrderLine(line_id="1", sku=sku, title=sku, quantity=qty)
                desk.ingest(ChannelOrder(WEB, number, f"#{number}", at, at, (line,), financial_status="paid"))
                pos.unimported[sku].append((number, qty))
        elif roll < 0.6 and pos.unimported[sku]:  # the POS imports the oldest web order of the SKU
            number, qty = pos.unimported[sku][0]
            sale = pos.sale(sku, qty, number, source="SHOPIFY")
            pos.unimported[sku].pop(0)
            pos.counts[sku] -= qty
            deliver(pos.count(sku))  # its count first; its sale (the confirmation) comes later
            later.insert(rng.randint(0, len(later)), sale)
            result.changes += 1
        elif roll < 0.85 and pos.free(sku) > 0:  # a till sale
            qty = rng.randint(1, min(3, pos.free(sku)))
            pos.invoice += 1
            sale = pos.sale(sku, qty, f"T{seed}-{pos.invoice}")
            pos.counts[sku] -= qty
            for delivery in rng.sample([sale, pos.count(sku)], 2):
                deliver(delivery)
            result.changes += 1
        elif roll >= 0.85:  # a recount or a delivery from a supplier
            pos.counts[sku] += rng.randint(1, 8)
            deliver(pos.count(sku))
            result.changes += 1
        check(sku)
        some_later(0.5)
    for sku in names:  # the POS imports every web order left, then everything arrives
        while pos.unimported[sku]:
            number, qty = pos.unimported[sku].pop(0)
            sale = pos.sale(sku, qty, number, source="SHOPIFY")
            pos.counts[sku] -= qty
            later.insert(rng.randint(0, len(later)), sale)
            deliver(pos.count(sku))
    some_later(1.0)
    for sku in names:
        level = ledger.store.stock(sku, LOCATION)
        if level is None or (level.on_hand, level.pending, level.available) != (pos.counts[sku], 0, pos.counts[sku]):
            result.mismatched_skus.append(sku)
    return result


def _fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def main(changes: int = 1000, seed: int = 20261124) -> int:
    with moto_table("pos-master") as (client, wiring):
        result = replay(wiring, CallCounter(client), changes, seed=seed)
    repeats = result.deliveries["count repeat"] + result.deliveries["sale repeat"]
    first = sum(result.deliveries.values()) - repeats
    print(f"POS as master ({result.changes} Lightspeed count changes on 10 SKUs, seed {seed}, moto)")
    print(f"  deliveries: {first}, and {repeats} of them again, late and out of order ({repeats / first:.0%})")
    print(f"  web orders interleaved: {result.web_orders} ({result.web_units} units), imported by the POS")
    print(f"  oversold units: {result.oversold_units}")
    print(f"  moments the ledger showed more than was free: {result.resurrections}")
    print(f"  most units kept off a SKU while its confirmation was on its way: {result.withheld_max}")
    print(f"  ledger equal to the POS's counts, nothing pending, on every SKU: {not result.mismatched_skus}")
    print(f"  {'delivery':<24}{'count':>8}{'calls/each':>12}{'writes/each':>13}")
    for kind in ("count", "count repeat", "sale", "sale repeat"):
        n = result.deliveries[kind]
        if n:
            print(f"  {kind:<24}{n:>8}{result.calls[kind] / n:>12.2f}{result.writes[kind] / n:>13.2f}")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
