"""Paid web orders into Unleashed as sales orders (moto table from the template, the Unleashed
sandbox on loopback): once per order and warehouse under redelivery and lost answers, totals that
add up to the cent, the pending units closed by Unleashed's own numbers, refusals kept and retried."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from decimal import Decimal

import pytest

from local.sandbox.unleashed import UnleashedSandbox
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.channels.unleashed.wiring import UnleashedSettings
from omnistock.ledger import Ledger
from omnistock.orders import ChannelOrder, OrderLine
from omnistock.wiring import Wiring
from tests.fakes import Clock

NEVER = lambda: False  # noqa: E731
AT = "2026-11-23T11:00:00Z"


@pytest.fixture
def erp(wiring: Wiring, ledger: Ledger, clock: Clock) -> Iterator[UnleashedSandbox]:
    with UnleashedSandbox(warehouses=("MAIN",), clock=lambda: clock().timestamp()) as sandbox:
        wiring.clients.secretsmanager.create_secret(Name="erp/api", SecretString=json.dumps(sandbox.credentials()))
        wiring.config = wiring.config.with_sections(
            UnleashedSettings(api_base=sandbox.api_base, api_secret_name="erp/api", warehouses={"MAIN": "warehouse"})
        )
        for sku in ("BOLT", "NUT", "WASHER"):
            ledger.upsert_catalog(sku, ["warehouse"], {}, sku.title())
            sandbox.add_product(sku, {"MAIN": 10})
        ledger.set_channel("shopify", ["warehouse"], platform="shopify", target_location="gid://shopify/Location/1")
        poll(wiring)
        wiring.settings.change("unleashed.sales_orders", {"mode": "automatic", "customer_code": "WEB"}, "test")
        yield sandbox


def poll(wiring: Wiring) -> None:
    api = unleashed.api(wiring)
    assert api is not None
    unleashed.intake(wiring).poll(api, NEVER)


def order(number: str, lines: list[tuple[str, int, str]], *, paid: bool = True, tax: str = "0.00") -> ChannelOrder:
    items = tuple(
        OrderLine(line_id=str(n), sku=sku, title=sku, quantity=qty, unit_price=price)
        for n, (sku, qty, price) in enumerate(lines, start=1)
    )
    return ChannelOrder(
        "shopify",
        f"w-{number}",
        f"#{number}",
        AT,
        AT,
        items,
        financial_status="paid" if paid else "pending",
        shipping="4.95",
        shipping_method="Standard",
        tax=tax,
        currency="NZD",
    )


def level(ledger: Ledger, sku: str = "BOLT") -> tuple[int, int, int]:
    (stock,) = ledger.explain(sku, movement_limit=0).levels
    return stock.on_hand, stock.pending, stock.available


def sync(wiring: Wiring, number: str) -> str:
    return unleashed.sales_orders(wiring).sync("shopify", f"w-{number}")


def test_a_paid_order_is_one_sales_order_whose_totals_add_up_and_whose_units_unleashed_counts(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    wiring.order_desk.ingest(
        order("1001", [("BOLT", 2, "3.33"), ("NUT", 1, "0.10"), ("WASHER", 3, "0.07")], tax="1.00")
    )
    assert level(ledger) == (10, 2, 8)
    assert sync(wiring, "1001") == "sent"
    (sent,) = erp.sales_orders()
    assert sent["OrderNumber"] == "SHOPIFY_1001" and sent["OrderStatus"] == "Placed"
    assert sent["Customer"] == {"CustomerCode": "WEB"} and sent["Warehouse"] == {"WarehouseCode": "MAIN"}
    lines = sent["SalesOrderLines"]
    assert [(line.get("LineType"), line["OrderQuantity"]) for line in lines] == [
        (None, 2),
        (None, 1),
        (None, 3),
        ("Charge", 1),
    ]
    assert sum(Decimal(line["LineTax"]) for line in lines) == Decimal("1.00")  # the order's tax, to the cent
    assert Decimal(sent["Total"]) == Decimal("6.66") + Decimal("0.10") + Decimal("0.21") + Decimal("4.95") + 1
    assert erp.available("BOLT", "MAIN") == 8  # placed: allocated
    clock.advance(minutes=1)
    poll(wiring)  # Unleashed's count includes the allocation: nothing stays pending
    assert level(ledger) == (8, 0, 8)
    for _ in range(2):  # redelivered, and again after Unleashed's count
        assert sync(wiring, "1001") == "unchanged"
    assert len(erp.sales_orders()) == 1


def test_a_lost_answer_and_redelivery_never_make_a_second_sales_order(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox
) -> None:
    wiring.order_desk.ingest(order("1002", [("BOLT", 1, "5.00")]))
    erp.lose_next_answers(1)  # Unleashed makes the sales order; its answer never arrives
    assert sync(wiring, "1002") == "waiting"
    assert len(erp.sales_orders()) == 1 and level(ledger)[1] == 1
    assert sync(wiring, "1002") == "sent"  # looked the Guid up first
    assert sync(wiring, "1002") == "unchanged"
    assert len(erp.sales_orders()) == 1


def test_unpaid_orders_wait_and_refusals_are_kept_then_retried(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    wiring.order_desk.ingest(order("1003", [("BOLT", 1, "5.00")], paid=False))
    assert sync(wiring, "1003") == "skipped" and erp.sales_orders() == []
    ledger.upsert_catalog("GASKET", ["warehouse"], {}, "Gasket")
    ledger.report_count("GASKET", "warehouse", 4, 1, "admin", "seed")
    wiring.order_desk.ingest(order("1004", [("GASKET", 1, "2.00")]))  # Unleashed has no such product
    assert sync(wiring, "1004") == "refused" and erp.sales_orders() == []
    (problem,) = wiring.problem_store.page("not_imported", "", 10)
    assert problem.subject == "order:shopify:w-1004" and "GASKET" in problem.error
    erp.add_product("GASKET", {"MAIN": 4})  # fixed in Unleashed
    writer = unleashed.sales_orders(wiring)
    assert writer.retry_unfinished(NEVER) == {}  # backing off
    clock.advance(minutes=5)
    assert writer.retry_unfinished(NEVER) == {"sent": 1}
    assert [o["OrderNumber"] for o in erp.sales_orders()] == ["SHOPIFY_1004"]
    assert wiring.problem_store.page("not_imported", "", 10) == []


# ---- Unleashed's answer and its counts, in every order (DESIGN.md §3.3)
PREDATES = "a count from before the sales order"
INCLUDES = "a count that includes the sales order"
SEND = "Omnistock sends the sales order"


@pytest.mark.parametrize("arrival", list(itertools.permutations([PREDATES, INCLUDES, SEND])))
def test_counts_around_the_sales_order_never_bring_sold_units_back(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock, arrival: tuple[str, ...]
) -> None:
    (stock,) = ledger.explain("BOLT", movement_limit=0).levels
    counted = stock.master_version or 0
    wiring.order_desk.ingest(order("1010", [("BOLT", 2, "5.00")]))
    clock.advance(minutes=1)  # the sales order is made now; the counts are from before and after
    intake = unleashed.intake(wiring)
    includes_at = counted + 120_000

    def row(available: int, ms: int) -> None:
        intake.row(
            {
                "WarehouseCode": "MAIN",
                "ProductCode": "BOLT",
                "AvailableQty": available,
                "LastModifiedOn": f"/Date({ms})/",
            },
            set(),
        )

    events = {
        PREDATES: lambda: row(9, counted + 1),  # a receipt of 1 counted before the order
        INCLUDES: lambda: row(7, includes_at),  # ... and the count after it, less the order's 2
        SEND: lambda: sync(wiring, "1010"),
    }
    for name in (*arrival, *reversed(arrival)):  # then every event again, newest first
        events[name]()
        on_hand, _pending, available = level(ledger)
        (stock,) = ledger.explain("BOLT", movement_limit=0).levels
        truth = on_hand if (stock.master_version or 0) >= includes_at else on_hand - 2
        assert available <= truth, f"{name} brought sold units back"
    assert level(ledger) == (7, 0, 7) and len(erp.sales_orders()) == 1


def test_a_shipment_dispatched_in_unleashed_becomes_the_orders_fulfillment_once(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    wiring.order_desk.ingest(order("1020", [("BOLT", 2, "5.00"), ("NUT", 1, "1.00")]))
    assert sync(wiring, "1020") == "sent"
    (sent,) = erp.sales_orders()
    clock.advance(minutes=1)
    erp.dispatch(sent["Guid"], tracking="NZ123456789", courier="NZ Post")  # staff dispatch it in Unleashed
    api = unleashed.api(wiring)
    assert api is not None
    for _ in range(2):  # the overlap reads the shipment again: recorded once
        report = unleashed.poll(wiring)(api, NEVER)
    assert report["shipments"] == 1 and report["recorded"] == 0
    (shipment,) = wiring.orders.shipments("shopify", "w-1020")
    assert (shipment.carrier, shipment.tracking_number) == ("NZ Post", "NZ123456789")
    assert shipment.lines == {"1": 2, "2": 1} and shipment.state == "pending"  # the outbox tells Shopify
    assert wiring.orders.order("shopify", "w-1020").status.value == "shipped"  # type: ignore[union-attr]


def test_a_cancel_deletes_the_sales_order_while_unleashed_allows_and_says_so_when_not(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    from dataclasses import replace

    placed, dispatched = order("1030", [("BOLT", 2, "5.00")]), order("1031", [("NUT", 1, "1.00")])
    for each in (placed, dispatched):
        wiring.order_desk.ingest(each)
        assert sync(wiring, each.number.lstrip("#")) == "sent"
    erp.dispatch(next(o["Guid"] for o in erp.sales_orders() if o["OrderNumber"] == "SHOPIFY_1031"), tracking="T1")
    later = "2026-11-23T11:30:00Z"
    for each in (placed, dispatched):
        wiring.order_desk.ingest(replace(each, cancelled=True, updated_at=later))
    assert sync(wiring, "1030") == "cancelled"
    assert sync(wiring, "1030") == "unchanged"  # redelivered: deleted once
    assert [o["OrderNumber"] for o in erp.sales_orders()] == ["SHOPIFY_1031"] and erp.available("BOLT", "MAIN") == 10
    assert sync(wiring, "1031") == "refused"  # dispatched already: Unleashed keeps it
    note = next(e for e in wiring.pushes.sync_history(channel="unleashed") if e.result == "rejected")
    assert "Dispatched" in note.error and "SHOPIFY_1031" in note.error
    clock.advance(minutes=1)
    poll(wiring)  # Unleashed's count after the delete: the 2 BOLT are back, counted once
    assert level(ledger) == (10, 0, 10)


def test_units_refunded_with_restock_go_back_by_a_credit_note_once_in_both_systems(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    from dataclasses import replace

    from omnistock.orders import RefundLine

    placed = order("1040", [("BOLT", 3, "5.00")])
    wiring.order_desk.ingest(placed)
    assert sync(wiring, "1040") == "sent"
    clock.advance(minutes=1)
    poll(wiring)
    assert level(ledger) == (7, 0, 7)
    no_restock = replace(placed, refunds=(RefundLine("r1", "1", 1, "no_restock"),), updated_at="2026-11-23T11:10:00Z")
    wiring.order_desk.ingest(no_restock)
    assert sync(wiring, "1040") == "unchanged" and erp.credit_notes() == []  # money only: nothing back
    returned = replace(no_restock, refunds=(*no_restock.refunds, RefundLine("r2", "1", 1, "return")))
    wiring.order_desk.ingest(replace(returned, updated_at="2026-11-23T11:20:00Z"))
    erp.lose_next_answers(1)  # Unleashed takes the credit note; its answer is lost
    assert sync(wiring, "1040") == "waiting"
    for _ in range(2):  # retried, and redelivered
        sync(wiring, "1040")
    (credit,) = erp.credit_notes()
    assert [(line["Product"]["ProductCode"], line["CreditQuantity"]) for line in credit["CreditLines"]] == [("BOLT", 1)]
    assert erp.available("BOLT", "MAIN") == 8
    clock.advance(minutes=1)
    poll(wiring)
    assert level(ledger) == (8, 0, 8)  # back once: the ledger's return and Unleashed's count agree


def test_a_cancel_after_a_credited_refund_gives_each_unit_back_once(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    """Deleting the sales order gives back all it allocated, the refunded unit too: its credit
    note is deleted with it, or that unit would count twice (a chaos replay found it)."""
    from dataclasses import replace

    from omnistock.orders import RefundLine

    placed = order("1045", [("BOLT", 2, "5.00")])
    wiring.order_desk.ingest(placed)
    assert sync(wiring, "1045") == "sent"
    refunded = replace(placed, refunds=(RefundLine("r1", "1", 1, "cancel"),), updated_at="2026-11-23T11:10:00Z")
    wiring.order_desk.ingest(refunded)
    assert sync(wiring, "1045") == "sent" and len(erp.credit_notes()) == 1
    assert erp.available("BOLT", "MAIN") == 9  # 2 allocated, 1 credited back
    wiring.order_desk.ingest(replace(refunded, cancelled=True, updated_at="2026-11-23T11:20:00Z"))
    erp.lose_next_answers(1)  # the sales order is deleted; the answer is lost
    assert sync(wiring, "1045") == "waiting"
    for _ in range(2):  # tried again, and redelivered: each delete once
        sync(wiring, "1045")
    assert erp.sales_orders() == [] and erp.credit_notes() == []
    assert erp.available("BOLT", "MAIN") == 10  # every unit back once
    clock.advance(minutes=1)
    poll(wiring)
    assert level(ledger) == (10, 0, 10)


def test_a_cancel_while_the_sales_orders_answer_is_lost_still_deletes_it(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    from dataclasses import replace

    placed = order("1046", [("BOLT", 2, "5.00")])
    wiring.order_desk.ingest(placed)
    erp.lose_next_answers(1)  # Unleashed makes the sales order; the answer never comes
    assert sync(wiring, "1046") == "waiting" and len(erp.sales_orders()) == 1
    wiring.order_desk.ingest(replace(placed, cancelled=True, updated_at="2026-11-23T11:20:00Z"))
    clock.advance(minutes=5)
    assert sync(wiring, "1046") == "cancelled"  # looked up, found, deleted
    assert erp.sales_orders() == [] and erp.available("BOLT", "MAIN") == 10
    assert unleashed.sales_orders(wiring).retry_unfinished(NEVER) == {}  # nothing left to try
    never = order("1047", [("NUT", 1, "1.00")])
    wiring.order_desk.ingest(never)
    erp.fail_next(1, status=503)  # Unleashed never made this one
    assert sync(wiring, "1047") == "waiting"
    wiring.order_desk.ingest(replace(never, cancelled=True, updated_at="2026-11-23T11:30:00Z"))
    clock.advance(minutes=5)
    assert sync(wiring, "1047") == "unchanged"  # looked up, not there: closed, never sent
    assert [o["OrderNumber"] for o in erp.sales_orders()] == []
    assert unleashed.sales_orders(wiring).retry_unfinished(NEVER) == {}


def test_one_unleashed_customer_per_web_customer_made_once(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox
) -> None:
    from dataclasses import replace

    wiring.settings.change("unleashed.sales_orders", {"mode": "automatic", "customers": "per_customer"}, "test")
    for number in ("1050", "1051"):  # the same buyer twice; the first answer lost after Unleashed made them
        wiring.order_desk.ingest(replace(order(number, [("BOLT", 1, "5.00")]), email="Ada@Example.com"))
    erp.lose_next_answers(1)
    assert sync(wiring, "1050") in ("waiting", "sent")
    assert sync(wiring, "1050") in ("sent", "unchanged") and sync(wiring, "1051") == "sent"
    codes = {o["Customer"]["CustomerCode"] for o in erp.sales_orders()}
    assert len(codes) == 1 and next(iter(codes)).startswith("WEB-") and erp.counters()["customers_created"] == 1
