"""Web orders into Lightspeed (moto table from the template, the Lightspeed sandbox on loopback):
one sale per order and outlet, exactly once under redelivery, lost answers and concurrent runs;
the POS's answer confirms the order's pending units, and counts in any order never bring sold
units back; payments, returns, cancels; refusals kept with their reason and retried."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest

from local.sandbox.lightspeed import WEB_PAYMENT_TYPE, WEB_USER, LightspeedSandbox
from omnistock.channels.lightspeed import webhooks
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.lightspeed.web_orders import WebOrderImport
from omnistock.channels.lightspeed.wiring import LightspeedSettings
from omnistock.ledger import Ledger
from omnistock.orders import ChannelOrder, OrderLine, RefundLine
from omnistock.wiring import Wiring
from tests.fakes import Clock

SHOP, BACK = "outlet-shop", "outlet-back"
SKU, OTHER = "TEE-1", "TEE-2"
AT = "2026-11-23T11:00:00Z"


@pytest.fixture
def pos(wiring: Wiring, ledger: Ledger) -> Iterator[LightspeedSandbox]:
    with LightspeedSandbox(outlets=(SHOP, BACK)) as sandbox:
        wiring.clients.secretsmanager.create_secret(
            Name="pos/tokens", SecretString=json.dumps(sandbox.initial_tokens())
        )
        wiring.config = wiring.config.with_sections(
            LightspeedSettings(
                domain_prefix=sandbox.domain_prefix,
                api_base=sandbox.api_base,
                token_secret_name="pos/tokens",
                outlets={SHOP: "shop", BACK: "back"},
            )
        )
        for sku in (SKU, OTHER):
            ledger.upsert_catalog(sku, ["shop", "back"], {}, f"Tee {sku}")
            sandbox.add_product(sku, {SHOP: 10, BACK: 4}, name=f"Tee {sku}")
        ledger.set_channel("shopify", ["shop", "back"], platform="shopify", target_location="gid://shopify/Location/1")
        deliver(wiring, sandbox)  # the POS's counts: shop 10, back 4
        importing(wiring, sandbox)
        yield sandbox


def importing(wiring: Wiring, sandbox: LightspeedSandbox, **changes: Any) -> None:
    value = {
        "mode": "automatic",
        "registers": {"shop": sandbox.registers[SHOP], "back": sandbox.registers[BACK]},
        "user_id": WEB_USER,
        "payment_type_id": WEB_PAYMENT_TYPE,
    }
    wiring.settings.change("lightspeed.web_orders", value | changes, "test")


def importer(wiring: Wiring) -> WebOrderImport:
    return lightspeed.web_orders(wiring)


def deliver(wiring: Wiring, sandbox: LightspeedSandbox) -> None:
    """The POS's queued webhooks, into the intake (as its webhook function does), then dropped."""
    intake = lightspeed.intake(wiring)
    for queued in sandbox.webhooks():
        intake.handle(webhooks.Delivery(queued["type"], queued["payload"]))
    sandbox.reset_outbox()


def order(
    number: str,
    lines: list[tuple[str, int]],
    *,
    paid: bool = True,
    updated: str = AT,
    refunds: tuple[RefundLine, ...] = (),
    cancelled: bool = False,
    shipping: str = "5.00",
    method: str = "Standard",
) -> ChannelOrder:
    items = tuple(
        OrderLine(line_id=str(n), sku=sku, title=f"Tee {sku}", quantity=qty, unit_price="20.00")
        for n, (sku, qty) in enumerate(lines, start=1)
    )
    return ChannelOrder(
        "shopify",
        f"web-{number}",
        f"#{number}",
        AT,
        updated,
        items,
        refunds=refunds,
        financial_status="paid" if paid else "pending",
        cancelled=cancelled,
        shipping=shipping,
        shipping_method=method,
    )


def level(ledger: Ledger, location: str = "shop", sku: str = SKU) -> tuple[int, int, int]:
    found = {s.location: s for s in ledger.explain(sku, movement_limit=0).levels}
    return found[location].on_hand, found[location].pending, found[location].available


def our_sales(sandbox: LightspeedSandbox) -> list[dict[str, Any]]:
    return sandbox.sales_from("omnistock")


def test_a_paid_web_order_becomes_one_closed_sale_and_the_ledger_closes_itself(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    wiring.order_desk.ingest(order("1001", [(SKU, 2)]))
    assert level(ledger) == (10, 2, 8)
    assert importer(wiring).sync("shopify", "web-1001").result == "imported"
    (sale,) = our_sales(pos)
    assert sale["invoice_number"] == "1001" and sale["status"] == "CLOSED" and sale["source_id"] == "web-1001"
    assert sale["register_id"] == pos.registers[SHOP] and sale["user_id"] == WEB_USER
    shipping = pos.product_id_for("omnistock-shipping")
    assert [(line["product_id"], line["quantity"]) for line in sale["line_items"]] == [
        (pos.product_id_for(SKU), 2),
        (shipping, 1),
    ]
    assert sale["payments"] == [{"amount": "45.00", "type": {"config_id": WEB_PAYMENT_TYPE}}]
    assert pos.count(pos.product_id_for(SKU), SHOP) == 8
    deliver(wiring, pos)  # the sale's echo and its inventory change: the count includes the sale
    assert level(ledger) == (8, 0, 8)
    # the shipping product is created once, and only once, for every order
    wiring.order_desk.ingest(order("1002", [(SKU, 1)]))
    assert importer(wiring).sync("shopify", "web-1002").result == "imported"
    assert [s["invoice_number"] for s in our_sales(pos)] == ["1001", "1002"]
    assert len([p for p in pos._state.products.values() if p["sku"] == "omnistock-shipping"]) == 1


def test_redelivery_lost_answers_and_a_second_run_never_make_a_second_sale(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox, clock: Clock
) -> None:
    wiring.order_desk.ingest(order("1003", [(SKU, 1)], shipping="0.00"))
    pos.lose_next_answers(1)  # the POS commits the sale; its answer never arrives
    assert importer(wiring).sync("shopify", "web-1003").result == "waiting"
    assert len(our_sales(pos)) == 1 and level(ledger)[1] == 1  # still pending: no answer, no confirmation
    for _ in range(3):  # the stream redelivers, the schedule retries
        importer(wiring).sync("shopify", "web-1003")
    assert len(our_sales(pos)) == 1
    deliver(wiring, pos)
    assert level(ledger) == (9, 0, 9)
    calls = pos.counters()["api_calls"]
    assert calls["/api/2026-04/sales"] == 1 and calls["/api/2026-04/sales/{id}"] == 1  # looked before writing


def test_an_order_split_across_outlets_is_one_sale_per_outlet(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    ledger.set_channel("shopify", ["back", "shop"], platform="shopify", target_location="gid://shopify/Location/1")
    wiring.order_desk.ingest(order("1004", [(SKU, 3), (OTHER, 6)]))  # back has 4 of each: OTHER from shop
    importer(wiring).sync("shopify", "web-1004")
    sales = {s["register_id"]: s for s in our_sales(pos)}
    assert {r: [line["quantity"] for line in s["line_items"]] for r, s in sales.items()} == {
        pos.registers[BACK]: [3, 1],  # the order's first register carries the shipping line
        pos.registers[SHOP]: [6],
    }
    assert {s["invoice_number"] for s in sales.values()} == {"1004"}
    deliver(wiring, pos)
    assert level(ledger, "back") == (1, 0, 1) and level(ledger, "shop", OTHER) == (4, 0, 4)


def test_an_unpaid_order_is_paid_in_the_pos_when_it_is_paid_on_the_web(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    wiring.order_desk.ingest(order("1005", [(SKU, 1)], paid=False))
    importer(wiring).sync("shopify", "web-1005")
    (sale,) = our_sales(pos)
    assert sale["status"] == "ONACCOUNT" and sale["payments"] == []
    deliver(wiring, pos)
    assert level(ledger) == (9, 0, 9)  # on account takes its units as a closed sale does
    wiring.order_desk.ingest(order("1005", [(SKU, 1)], paid=True, updated="2026-11-23T11:30:00Z"))
    importer(wiring).sync("shopify", "web-1005")
    (sale,) = our_sales(pos)
    assert sale["status"] == "CLOSED" and sale["payments"][0]["amount"] == "25.00"
    importer(wiring).sync("shopify", "web-1005")
    assert len(our_sales(pos)) == 1


def test_restocked_refunds_and_cancels_return_units_once_and_plain_refunds_none(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    wiring.order_desk.ingest(order("1006", [(SKU, 3)]))
    importer(wiring).sync("shopify", "web-1006")
    deliver(wiring, pos)
    assert level(ledger) == (7, 0, 7)
    money_only = (RefundLine("r1", "1", 1, "no_restock"),)
    wiring.order_desk.ingest(order("1006", [(SKU, 3)], refunds=money_only, updated="2026-11-23T11:10:00Z"))
    assert importer(wiring).sync("shopify", "web-1006").result == "unchanged"
    restocked = (*money_only, RefundLine("r2", "1", 1, "return"))
    for _ in range(2):  # the refund webhook, redelivered
        wiring.order_desk.ingest(order("1006", [(SKU, 3)], refunds=restocked, updated="2026-11-23T11:20:00Z"))
        importer(wiring).sync("shopify", "web-1006")
    sales = our_sales(pos)
    assert [(s["invoice_number"], s["line_items"][0]["quantity"]) for s in sales] == [("1006", 3), ("1006-1", -1)]
    deliver(wiring, pos)
    assert pos.count(pos.product_id_for(SKU), SHOP) == 8 and level(ledger) == (8, 0, 8)
    cancelled = order("1006", [(SKU, 3)], refunds=restocked, cancelled=True, updated="2026-11-23T11:30:00Z")
    wiring.order_desk.ingest(cancelled)
    importer(wiring).sync("shopify", "web-1006")
    importer(wiring).sync("shopify", "web-1006")
    assert [s["line_items"][0]["quantity"] for s in our_sales(pos)] == [3, -1, -2]
    deliver(wiring, pos)
    assert level(ledger) == (10, 0, 10)


def test_orders_that_are_never_imported(wiring: Wiring, pos: LightspeedSandbox, clock: Clock) -> None:
    wiring.order_desk.ingest(order("1007", [(SKU, 1)], cancelled=True))
    assert "cancelled" in importer(wiring).sync("shopify", "web-1007").detail
    wiring.order_desk.ingest(order("1008", [(SKU, 1)], method=""))
    assert "shipping method" in importer(wiring).sync("shopify", "web-1008").detail
    importing(wiring, pos, shipping_only=False)
    assert importer(wiring).sync("shopify", "web-1008").result == "imported"
    clock.advance(days=61)
    wiring.order_desk.ingest(order("1009", [(SKU, 1)]))
    assert "60 days" in importer(wiring).sync("shopify", "web-1009").detail
    importing(wiring, pos, mode="off")
    assert importer(wiring).sync("shopify", "web-1010").result == "skipped"
    assert [s["invoice_number"] for s in our_sales(pos)] == ["1008"]


def test_a_missing_product_is_created_and_published_first(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    ledger.upsert_catalog("WEB-ONLY", ["shop"], {}, "Web only")
    ledger.report_count("WEB-ONLY", "shop", 5, 1, "admin", "seed")
    wiring.order_desk.ingest(order("1011", [("WEB-ONLY", 1)], shipping="0"))
    assert importer(wiring).sync("shopify", "web-1011").result == "imported"
    product = pos._state.products[pos.product_id_for("WEB-ONLY")]
    assert product["is_active"] and product["has_inventory"] and product["name"] == "Tee WEB-ONLY"


def test_refusals_are_kept_with_their_reason_never_half_written_and_retried_after_the_fix(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox, clock: Clock
) -> None:
    pos.archive("registers", pos.registers[SHOP])
    wiring.order_desk.ingest(order("1012", [(SKU, 1)]))
    result = importer(wiring).sync("shopify", "web-1012")
    assert result.result == "refused" and "register" in result.detail
    assert our_sales(pos) == [] and level(ledger)[1] == 1
    problems = wiring.problem_store.page("not_imported", "", 10)
    assert [p.subject for p in problems] == ["order:shopify:web-1012"] and "register" in problems[0].error
    entry = wiring.pushes.sync_history(channel="lightspeed")[0]
    assert entry.result == "not_imported" and "1012" in entry.why
    revision = lambda: getattr(wiring.orders.order("shopify", "web-1012"), "rev", 0)  # noqa: E731
    before = revision()
    retried = wiring.problems.retry(problems[0].problem_id)  # saves the order again: the stream brings it back
    assert "into the POS again" in retried.detail and revision() == before + 1
    assert importer(wiring).retry_unfinished(lambda: False) == {}  # backing off: not due yet
    clock.advance(minutes=5)
    assert importer(wiring).retry_unfinished(lambda: False) == {"refused": 1}  # due, and not fixed yet
    importing(wiring, pos, registers={"shop": pos.registers[BACK], "back": pos.registers[BACK]})
    clock.advance(minutes=5)
    assert importer(wiring).retry_unfinished(lambda: False) == {}  # the second wait is longer
    clock.advance(minutes=5)
    assert importer(wiring).retry_unfinished(lambda: False) == {"imported": 1}
    assert [s["register_id"] for s in our_sales(pos)] == [pos.registers[BACK]]
    assert wiring.problem_store.page("not_imported", "", 10) == []
    assert importer(wiring).retry_unfinished(lambda: False) == {}
    # a line without a SKU: nothing is written, not even the lines that have one
    line = OrderLine(line_id="2", sku="", title="Gift wrap", quantity=1, tracked=False)
    base = order("1013", [(SKU, 1)])
    wiring.order_desk.ingest(replace(base, lines=(*base.lines, line)))
    assert "no SKU" in importer(wiring).sync("shopify", "web-1013").detail
    assert len(our_sales(pos)) == 1


# ---- the POS's answer and its counts, in every order (DESIGN.md §3.3)
PREDATES = "a count from before the sale"
INCLUDES = "a count that includes the sale"
IMPORT = "Omnistock writes the sale into the POS"


@pytest.mark.parametrize("arrival", list(itertools.permutations([PREDATES, INCLUDES, IMPORT])))
def test_counts_around_the_sale_never_bring_sold_units_back(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox, arrival: tuple[str, ...]
) -> None:
    wiring.order_desk.ingest(order("1020", [(SKU, 2)], shipping="0"))
    product, before = pos.product_id_for(SKU), pos.version()
    includes_at = before + 1_000  # any version after the sale's
    intake = lightspeed.intake(wiring)

    def count(value: int, version: int) -> None:
        record = {"id": "i", "product_id": product, "outlet_id": SHOP, "count": value, "version": version}
        intake.handle(webhooks.Delivery("inventory.update", record | {"product": {"sku": SKU}}))

    events = {
        PREDATES: lambda: count(9, before),  # a till sale of 1 before the web order reached the POS
        INCLUDES: lambda: count(7, includes_at),
        IMPORT: lambda: importer(wiring).sync("shopify", "web-1020"),
    }
    for name in (*arrival, *reversed(arrival)):  # then every event again, newest first
        events[name]()
        on_hand, _pending, available = level(ledger)
        (stock,) = [s for s in ledger.explain(SKU, movement_limit=0).levels if s.location == "shop"]
        truth = on_hand if (stock.master_version or 0) >= includes_at else on_hand - 2
        assert available <= truth, f"{name} brought sold units back"
    assert level(ledger) == (7, 0, 7) and len(our_sales(pos)) == 1


def test_the_connection_check_names_a_missing_or_archived_register_user_or_payment_type(
    wiring: Wiring, pos: LightspeedSandbox
) -> None:
    from omnistock.connections import diagnose

    def web_order_checks() -> list[tuple[bool, str]]:
        found = [c for c in diagnose(wiring) if c.platform == "lightspeed" and c.name.startswith("web orders")]
        return [(c.ok, c.detail) for c in found]

    checks = web_order_checks()
    assert all(ok for ok, _ in checks) and len(checks) == 4, checks  # two registers, the user, the payment type
    pos.archive("users", WEB_USER)
    pos.archive("registers", pos.registers[BACK])
    importing(wiring, pos, registers={"shop": pos.registers[SHOP], "back": pos.registers[BACK], "web": "nope"})
    failed = {detail for ok, detail in web_order_checks() if not ok}
    assert failed == {
        f"user {WEB_USER} is missing or archived",
        f"register {pos.registers[BACK]} (back) is missing or archived",
        "register nope (web) is missing or archived",
    }
    pos.expire_access_token()  # the check reads with the token as it is: it never refreshes (nor revokes) it
    refreshes = pos.counters()["refreshes"]
    (check,) = [c for c in diagnose(wiring) if c.name == "web orders"]
    assert not check.ok and "refresh" in check.detail and pos.counters()["refreshes"] == refreshes


def test_a_missing_payment_type_or_a_product_the_pos_refuses_keeps_the_order_whole(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox, clock: Clock
) -> None:
    pos.archive("payment_types", WEB_PAYMENT_TYPE)
    wiring.order_desk.ingest(order("1030", [(SKU, 1)]))
    refused = importer(wiring).sync("shopify", "web-1030")
    assert refused.result == "refused" and "payment type" in refused.detail and our_sales(pos) == []
    ledger.upsert_catalog("NEW-IN-POS", ["shop"], {}, "New")
    ledger.report_count("NEW-IN-POS", "shop", 3, 1, "admin", "seed")
    wiring.order_desk.ingest(order("1031", [(SKU, 1), ("NEW-IN-POS", 1)]))
    pos.fail_next(1, 422)  # the POS refuses to look the new product up (or make it)
    refused = importer(wiring).sync("shopify", "web-1031")
    assert refused.result == "refused" and "NEW-IN-POS" in refused.detail and our_sales(pos) == []
    assert level(ledger)[1] == 2  # both orders' units stay pending: no sale, nothing confirmed
    kinds = {p.subject: p.kind for p in wiring.problem_store.page("not_imported", "", 10)}
    assert kinds == {"order:shopify:web-1030": "not_imported", "order:shopify:web-1031": "not_imported"}


def test_a_commentsold_order_that_ships_is_written_into_the_pos(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    from omnistock.channels.commentsold import webhooks as commentsold

    ledger.set_channel("commentsold", ["shop"], platform="commentsold")
    data = {
        "id": 77,
        "order_number": "CS-77",
        "status": "paid",
        "created_at": 1795431600,  # 2026-11-23T11:00:00Z, as CommentSold writes times: epoch seconds
        "updated_at": 1795431600,
        "shipping_total": 499,
        "customer": {"name": "Ada", "email": "ada@example.com"},
        "shipping_address": {"address1": "12 Analytical Row", "city": "London", "zip": "N1", "country": "GB"},
        "line_items": [{"id": 1, "variant_id": 5, "sku": SKU, "quantity": 1, "price": 2000}],
    }
    placed = commentsold.order("commentsold", data, {"5": SKU})
    assert placed.shipping_method == "Shipping"  # CommentSold names none: an order with an address ships
    wiring.order_desk.ingest(placed)
    assert importer(wiring).sync("commentsold", "77").result == "imported"
    (sale,) = our_sales(pos)
    assert sale["invoice_number"] == "CS-77" and sale["note"] == "commentsold order CS-77"
    pickup = commentsold.order("commentsold", data | {"id": 78, "order_number": "CS-78", "shipping_address": None}, {})
    assert pickup.shipping_method == ""


def test_a_change_that_comes_while_a_sale_is_being_written_is_not_lost(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    """Run A writes the sale; meanwhile the order is refunded and run B (the refund's stream
    record) finds A's sale in the making and leaves it to A, which looks at the order again."""
    wiring.order_desk.ingest(order("1040", [(SKU, 3)], shipping="0"))
    a = importer(wiring)
    seen: list[str] = []

    class Meanwhile:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def create_sale(self, body: dict[str, Any]) -> Any:
            answer = self.inner.create_sale(body)
            if not seen:
                refund = (RefundLine("r1", "1", 1, "cancel"),)
                wiring.order_desk.ingest(order("1040", [(SKU, 3)], refunds=refund, updated="2026-11-23T11:05:00Z"))
                seen.append(importer(wiring).sync("shopify", "web-1040").result)  # run B
            return answer

    a.pos = Meanwhile(a.pos)
    assert a.sync("shopify", "web-1040").result == "imported"
    assert seen == ["busy"]
    assert [s["line_items"][0]["quantity"] for s in our_sales(pos)] == [3, -1]
    deliver(wiring, pos)
    assert level(ledger) == (8, 0, 8)


def test_a_sale_whose_answer_was_lost_is_never_recorded_as_refused_by_a_later_refusal(
    wiring: Wiring, ledger: Ledger, pos: LightspeedSandbox
) -> None:
    first = order("1060", [(SKU, 1)], shipping="0")
    wiring.order_desk.ingest(first)
    pos.lose_next_answers(1)  # the POS makes the sale; the answer is lost
    assert importer(wiring).sync("shopify", "web-1060").result == "waiting"
    custom = OrderLine(line_id="2", sku="", title="Engraving", quantity=1, tracked=False)
    wiring.order_desk.ingest(replace(first, lines=(*first.lines, custom), updated_at="2026-11-23T11:05:00Z"))
    assert importer(wiring).sync("shopify", "web-1060").result == "refused"  # the new line has no SKU
    (document,) = wiring.orders.load("shopify", "web-1060").pos_sales
    assert document.state == "calling"  # its sale may be there: only a look at the POS settles it
    undone = replace(custom, quantity=0)  # the line is taken off the order again
    wiring.order_desk.ingest(replace(first, lines=(*first.lines, undone), updated_at="2026-11-23T11:10:00Z"))
    assert importer(wiring).sync("shopify", "web-1060").result == "imported"
    (document,) = wiring.orders.load("shopify", "web-1060").pos_sales
    assert document.state == "created" and document.units == {SKU: 1}
    assert len(our_sales(pos)) == 1
