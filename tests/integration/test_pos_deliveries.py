"""Shop orders out to ShipStation (moto table from the template, the Lightspeed sandbox's own
webhooks): POS sales marked for delivery become orders ShipStation exports, with their customer
and address, by modified time; versions order them, a re-save exports again; a ship notice is
recorded once; the stock is the POS's to count, never moved twice."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.sandbox.lightspeed import LightspeedSandbox
from omnistock.channels.lightspeed import webhooks
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.lightspeed.wiring import LightspeedSettings
from omnistock.ledger import Ledger
from omnistock.wiring import Wiring

SHOP = "outlet-shop"
CUSTOMER = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "555-0100",
    "physical_address1": "12 Analytical Row",
    "physical_city": "London",
    "physical_postcode": "N1 1AA",
    "physical_country_id": "GB",
}


@pytest.fixture
def pos(wiring: Wiring, ledger: Ledger) -> Iterator[LightspeedSandbox]:
    with LightspeedSandbox(outlets=(SHOP,)) as sandbox:
        wiring.config = wiring.config.with_sections(LightspeedSettings(outlets={SHOP: "shop"}))
        ledger.upsert_catalog("TEE", ["shop"], {}, "Tee")
        ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
        sandbox.add_product("TEE", {SHOP: 10})
        wiring.settings.change("lightspeed.shipstation", {"export": True}, "test")
        deliver(wiring, sandbox)
        yield sandbox


def deliver(wiring: Wiring, sandbox: LightspeedSandbox, *, reverse: bool = False) -> list[dict[str, object]]:
    intake = lightspeed.intake(wiring)
    queued = sandbox.webhooks()
    answers = [
        intake.handle(webhooks.Delivery(q["type"], q["payload"])) for q in (reversed(queued) if reverse else queued)
    ]
    sandbox.reset_outbox()
    return answers


def on_hand(ledger: Ledger) -> tuple[int, int]:
    (level,) = ledger.explain("TEE", movement_limit=0).levels
    return level.on_hand, level.pending


def test_a_sale_for_delivery_is_exported_with_its_customer_once_and_again_when_resaved(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    product = pos.product_id_for("TEE")
    sale = pos.sell(SHOP, [(product, 2)], status="AWAITING_DISPATCH", customer=CUSTOMER)
    deliver(wiring, pos, reverse=True)  # the count first, then the sale
    stored = wiring.orders.order("lightspeed", sale["id"])
    assert stored is not None and stored.status.value == "awaiting_shipment"
    order = stored.order
    assert order.number == sale["invoice_number"] and order.email == "ada@example.com"
    assert order.ship_to is not None and (order.ship_to.name, order.ship_to.city) == ("Ada Lovelace", "London")
    assert [(line.sku, line.quantity, line.tracked) for line in order.lines] == [("TEE", 2, False)]
    assert on_hand(ledger) == (8, 0)  # the POS's count moved it; the exported order moves nothing
    day = stored.modified_at[:10]
    exported, _ = wiring.orders.changed_on(day, "", 50)
    assert [o.order.order_id for o in exported if o.order.channel == "lightspeed"] == [sale["id"]]

    old = pos.webhooks()  # nothing queued: a repeat of the old delivery is stale
    assert old == []
    repeat = {"id": sale["id"], "invoice_number": sale["invoice_number"], "status": "AWAITING_DISPATCH"}
    repeat |= {"version": sale["version"], "register_sale_products": [], "source": "USER"}
    answer = lightspeed.intake(wiring).handle(webhooks.Delivery("sale.update", repeat))
    assert answer["shipping"] == "stale"

    pos.resave(sale["id"])  # staff re-save it in the POS: ShipStation pulls it again
    (answer,) = deliver(wiring, pos)
    again = wiring.orders.order("lightspeed", sale["id"])
    assert answer["shipping"] == "exported" and again is not None and again.modified_at >= stored.modified_at
    assert again.rev == stored.rev + 1

    notice = {"carrier": "UPS", "service": "Ground", "tracking_number": "1Z9", "lines": None}
    first, new = wiring.shipment_desk.record("lightspeed", sale["id"], "n-1", **notice)  # type: ignore[arg-type]
    repeated, new_again = wiring.shipment_desk.record("lightspeed", sale["id"], "n-1", **notice)  # type: ignore[arg-type]
    assert new and not new_again and repeated.shipment_id == first.shipment_id
    assert wiring.shipment_desk.send("lightspeed", sale["id"], "n-1") == "not_sent"  # staff mark it dispatched
    assert wiring.orders.order("lightspeed", sale["id"]).status.value == "shipped"  # type: ignore[union-attr]


def test_dispatched_voided_and_taken_at_the_till(wiring: Wiring, pos: LightspeedSandbox) -> None:
    product = pos.product_id_for("TEE")
    wiring.settings.change("lightspeed.shipstation", {"export": True, "include": ["delivery", "parked"]}, "test")
    shipped = pos.sell(SHOP, [(product, 1)], status="AWAITING_DISPATCH", customer=CUSTOMER)
    voided = pos.sell(SHOP, [(product, 1)], status="AWAITING_DISPATCH", customer=CUSTOMER)
    parked = pos.sell(SHOP, [(product, 1)], status="SAVED", customer=CUSTOMER)
    till = pos.sell(SHOP, [(product, 1)])  # an ordinary till sale: never exported
    deliver(wiring, pos)
    pos.resave(shipped["id"], "DISPATCHED_CLOSED")
    pos.resave(voided["id"], "VOIDED")
    pos.resave(parked["id"], "CLOSED")  # the customer took it at the till after all
    deliver(wiring, pos)

    def status(sale: dict[str, object]) -> str:
        stored = wiring.orders.order("lightspeed", str(sale["id"]))
        return stored.status.value if stored else "not exported"

    assert [status(s) for s in (shipped, voided, parked, till)] == ["shipped", "cancelled", "cancelled", "not exported"]


def test_nothing_is_exported_unless_chosen_and_web_orders_never_twice(wiring: Wiring, pos: LightspeedSandbox) -> None:
    product = pos.product_id_for("TEE")
    wiring.settings.change("lightspeed.shipstation", {"export": False}, "test")
    off = pos.sell(SHOP, [(product, 1)], status="AWAITING_DISPATCH", customer=CUSTOMER)
    deliver(wiring, pos)
    wiring.settings.change("lightspeed.shipstation", {"export": True}, "test")
    parked = pos.sell(SHOP, [(product, 1)], status="SAVED")  # parked sales are not chosen
    ours = pos.sell(SHOP, [(product, 1)], status="AWAITING_DISPATCH", source="OMNISTOCK")  # a web order's sale
    deliver(wiring, pos)
    assert all(wiring.orders.order("lightspeed", s["id"]) is None for s in (off, parked, ours))
    with pytest.raises(Exception, match="include"):
        wiring.settings.change("lightspeed.shipstation", {"export": True, "include": ["quotes"]}, "test")
