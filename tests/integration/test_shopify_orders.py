"""Shopify orders, refunds, levels and products against the ledger (moto, table from the template).

The sample payloads are Shopify's documented shapes. Every topic is applied once, duplicated,
reordered and overlapped with the poll: the ledger must end where one ordered delivery ends.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnistock.channels.shopify import payloads
from omnistock.channels.shopify import wiring as shopify
from omnistock.channels.shopify.intake import Delivery, ShopifyIntake
from omnistock.clock import parse_iso
from omnistock.ledger import Ledger
from omnistock.orders import OrderStatus
from omnistock.store.push_store import Pushed
from omnistock.store.stream import movement_from_record
from omnistock.wiring import Wiring
from tests.fakes import Clock
from tests.fakes import FakeShopifyOrders as FakeOrders
from tests.integration.conftest import StreamReader, snapshot

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "shopify"
LOCATION_GID = "gid://shopify/Location/76683080001"
SOCK, SHELL = "SOCK-TRAIL-M", "SHELL-RAIN-L"
ORDER_ID = "5938001231001"


def sample(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text())


def build(wiring: Wiring) -> ShopifyIntake:
    wiring.orders_ports = lambda _: None
    return shopify.intake(wiring)


@pytest.fixture
def shop(wiring: Wiring, ledger: Ledger, clock: Clock) -> ShopifyIntake:
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID)
    ledger.upsert_catalog(SOCK, ["shop"], {"shopify": "gid://shopify/InventoryItem/47216940870001"})
    ledger.upsert_catalog(SHELL, ["shop"], {"shopify": "gid://shopify/InventoryItem/47216940870002"})
    ledger.report_count(SOCK, "shop", 10, 1, "pos", "c1")
    ledger.report_count(SHELL, "shop", 5, 1, "pos", "c2")
    return build(wiring)


def deliver(shop: ShopifyIntake, topic: str, body: dict[str, Any], webhook_id: str = "w") -> dict[str, Any]:
    return shop.handle(Delivery(topic, copy.deepcopy(body), webhook_id))


def state(ledger: Ledger) -> list[Any]:
    return [snapshot(ledger, SOCK), snapshot(ledger, SHELL)]


def pending(ledger: Ledger, sku: str) -> int:
    return sum(level.pending for level in ledger.store.stock_levels(sku))


def edited(body: dict[str, Any], line: int, current: int, updated_at: str) -> dict[str, Any]:
    changed = copy.deepcopy(body)
    changed["line_items"][line]["current_quantity"] = current
    changed["updated_at"] = updated_at
    return changed


# ==================================================================== one ordered delivery per topic
def test_order_lines_become_pending_once_and_the_order_is_stored(ledger: Ledger, shop: ShopifyIntake) -> None:
    result = deliver(shop, "orders/create", sample("orders_create.json"))
    assert result["lines_moved"] == 2
    assert pending(ledger, SOCK) == 2 and pending(ledger, SHELL) == 1
    assert ledger.channel_available("shopify", SOCK).available == 8
    stored = shop.orders.order("shopify", ORDER_ID)
    assert stored is not None and stored.order.number == "#1042" and stored.status is OrderStatus.AWAITING_PAYMENT
    assert stored.order.ship_to is not None and stored.order.ship_to.city == "Springfield"
    unmapped = shop.order_desk.history.sync_history(channel="shopify")
    assert [(e.result, e.error) for e in unmapped] == [("unmapped", "the line has no SKU")]

    deliver(shop, "orders/paid", sample("orders_paid.json"))
    assert pending(ledger, SOCK) == 2 and pending(ledger, SHELL) == 1  # the same lines: nothing twice
    paid = shop.orders.order("shopify", ORDER_ID)
    assert paid is not None and paid.status is OrderStatus.AWAITING_SHIPMENT and paid.modified_at >= stored.modified_at
    assert len(shop.order_desk.history.sync_history(channel="shopify")) == 1  # unmapped is said once


def test_an_edit_moves_the_difference_and_an_older_snapshot_changes_nothing(
    ledger: Ledger, shop: ShopifyIntake, stream: StreamReader
) -> None:
    create = sample("orders_create.json")
    deliver(shop, "orders/create", create)
    deliver(shop, "orders/updated", edited(create, 0, 1, "2025-06-03T10:30:00-04:00"))
    assert pending(ledger, SOCK) == 1
    deliver(shop, "orders/paid", sample("orders_paid.json"))  # 10:21, before the edit: stale lines
    assert pending(ledger, SOCK) == 1
    deliver(shop, "orders/updated", edited(create, 0, 3, "2025-06-03T10:40:00-04:00"))
    assert pending(ledger, SOCK) == 3
    moves = [m for m in map(movement_from_record, stream.read()) if m is not None and m.sku == SOCK]
    assert [m.kind.value for m in moves][-3:] == ["sale", "return", "sale"]
    assert all(m.note == "#1042" for m in moves[-3:])


def test_a_cancel_releases_unfulfilled_units_once(ledger: Ledger, shop: ShopifyIntake) -> None:
    deliver(shop, "orders/create", sample("orders_create.json"))
    for _ in range(2):
        deliver(shop, "orders/cancelled", sample("orders_cancelled.json"))
    assert pending(ledger, SOCK) == 0 and pending(ledger, SHELL) == 0
    assert ledger.channel_available("shopify", SOCK).available == 10
    deliver(shop, "orders/create", sample("orders_create.json"))  # a late retry of the original
    assert pending(ledger, SOCK) == 0
    stored = shop.orders.order("shopify", ORDER_ID)
    assert stored is not None and stored.status is OrderStatus.CANCELLED


def test_a_returned_line_restocks_and_no_restock_does_not(ledger: Ledger, shop: ShopifyIntake) -> None:
    deliver(shop, "orders/create", sample("orders_create.json"))
    for _ in range(2):
        result = deliver(shop, "refunds/create", sample("refunds_create.json"))
    assert result["lines_moved"] == 0  # the duplicate
    assert pending(ledger, SOCK) == 1  # one of two returned
    assert pending(ledger, SHELL) == 1  # no_restock: the unit stays gone


def test_a_refund_before_its_order_is_remembered(ledger: Ledger, shop: ShopifyIntake) -> None:
    deliver(shop, "refunds/create", sample("refunds_create.json"))
    assert pending(ledger, SOCK) == 0
    deliver(shop, "orders/create", sample("orders_create.json"))
    assert pending(ledger, SOCK) == 1 and pending(ledger, SHELL) == 1


def test_a_counted_lot_that_is_returned_goes_back_on_the_shelf(ledger: Ledger, shop: ShopifyIntake) -> None:
    deliver(shop, "orders/create", sample("orders_create.json"))
    level = ledger.store.stock_with_lots(SOCK, "shop")
    assert level is not None
    (lot_key,) = level.lots
    ledger.confirm_pending(SOCK, "shop", lot_key, 2, "pos", "sale-1")
    ledger.report_count(SOCK, "shop", 8, 2, "pos", "c3")  # the POS counted the sale
    deliver(shop, "refunds/create", sample("refunds_create.json"))
    explained = ledger.explain(SOCK)
    assert [(lv.on_hand, lv.pending, lv.available) for lv in explained.levels] == [(9, 0, 9)]


def test_an_unknown_sku_is_recorded_unmapped_and_applied_once_it_is_mapped(ledger: Ledger, shop: ShopifyIntake) -> None:
    body = sample("orders_create.json")
    body["line_items"][0]["sku"] = "NEW-SKU"
    deliver(shop, "orders/create", body)
    entries = shop.order_desk.history.sync_history(channel="shopify")
    assert ("unmapped", "SKU 'NEW-SKU' is not in the catalog") in [(e.result, e.error) for e in entries]
    ledger.upsert_catalog("NEW-SKU", ["shop"], {})
    ledger.report_count("NEW-SKU", "shop", 4, 1, "pos", "c9")
    deliver(shop, "orders/updated", body)  # a redelivery (or the poll) after mapping
    assert pending(ledger, "NEW-SKU") == 2


def test_a_sale_beyond_availability_is_recorded_as_a_shortfall(ledger: Ledger, shop: ShopifyIntake) -> None:
    body = edited(sample("orders_create.json"), 1, 7, "2025-06-03T10:15:03-04:00")
    deliver(shop, "orders/create", body)
    (level,) = ledger.explain(SHELL).levels
    assert (level.pending, level.available, level.shortfall) == (7, -2, 2)
    assert ledger.channel_available("shopify", SHELL).available == 0


# ==================================================================== duplicated, reordered, overlapped
DELIVERIES = ["create", "paid", "edit", "refund", "cancel"]


def _delivery(name: str) -> tuple[str, dict[str, Any]]:
    create = sample("orders_create.json")
    return {
        "create": ("orders/create", create),
        "paid": ("orders/paid", sample("orders_paid.json")),
        "edit": ("orders/updated", edited(create, 0, 1, "2025-06-03T11:00:00-04:00")),
        "refund": ("refunds/create", sample("refunds_create.json")),
        "cancel": ("orders/cancelled", sample("orders_cancelled.json")),
    }[name]


@pytest.mark.parametrize("chosen", [["create", "paid", "edit", "refund"], DELIVERIES])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)
@given(data=st.data())
def test_any_order_of_deliveries_with_duplicates_ends_where_one_ordered_delivery_ends(
    wiring: Wiring, ledger: Ledger, clock: Clock, chosen: list[str], data: st.DataObject
) -> None:
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID)
    for sku in (SOCK, SHELL):
        if ledger.store.catalog(sku) is None:
            ledger.upsert_catalog(sku, ["shop"], {})
    shop = build(wiring)
    wipe(ledger, shop)
    for sku, count in ((SOCK, 10), (SHELL, 5)):
        ledger.adjust(sku, "shop", count, "test", f"seed-{sku}-{data.draw(st.uuids())}")
    for name in chosen:
        deliver(shop, *_delivery(name))
    expected = state(ledger)
    wipe(ledger, shop)
    for sku, count in ((SOCK, 10), (SHELL, 5)):
        ledger.adjust(sku, "shop", count, "test", f"seed2-{sku}-{data.draw(st.uuids())}")
    replay = data.draw(st.lists(st.sampled_from(chosen), min_size=len(chosen), max_size=3 * len(chosen)))
    for name in chosen:  # every delivery at least once, the rest duplicated, in any order
        if name not in replay:
            replay.append(name)
    for name in data.draw(st.permutations(replay)):
        deliver(shop, *_delivery(name))
    assert state(ledger) == expected


def test_a_refund_before_its_order_leaves_the_lots_one_ordered_delivery_leaves(
    wiring: Wiring, ledger: Ledger, clock: Clock
) -> None:
    """Found by the property test above: a line's lot was named after its record's revision,
    so a refund written before the order's create made the create's lot "#2" instead of "#1"."""
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID)
    for sku in (SOCK, SHELL):
        ledger.upsert_catalog(sku, ["shop"], {})
    shop = build(wiring)
    ends = []
    for run, names in enumerate(
        (["create", "paid", "edit", "refund"], ["refund", "create", "create", "edit", "paid", "create"])
    ):
        wipe(ledger, shop)
        for sku, count in ((SOCK, 10), (SHELL, 5)):
            ledger.adjust(sku, "shop", count, "test", f"seed-{run}-{sku}")
        for name in names:
            deliver(shop, *_delivery(name))
        ends.append(state(ledger))
    assert ends[0] == ends[1]
    assert [lv[-1] for lv in ends[1][1]] == [((f"shopify:order:{ORDER_ID}:15518900000002#1", 1, None),)]


def wipe(ledger: Ledger, shop: ShopifyIntake) -> None:
    """Empty the order's partition and both SKUs' stock (a fresh start inside one moto table)."""
    table = ledger.store.table
    for pk in (f"ORDER#shopify#{ORDER_ID}", f"SKU#{SOCK}", f"SKU#{SHELL}"):
        for item in table.query("pk = :pk", {":pk": pk}):
            if not item["sk"].startswith("CATALOG"):
                table.delete(item["pk"], item["sk"])


# ==================================================================== poll
def graphql_node(rest: dict[str, Any]) -> dict[str, Any]:
    """The poll's view of a REST order (the fields order_from_graphql reads)."""
    return {
        "id": rest["admin_graphql_api_id"],
        "legacyResourceId": str(rest["id"]),
        "name": rest["name"],
        "createdAt": payloads.utc(rest["created_at"]),
        "updatedAt": payloads.utc(rest["updated_at"]),
        "cancelledAt": rest.get("cancelled_at"),
        "displayFinancialStatus": rest["financial_status"].upper(),
        "lineItems": {
            "nodes": [
                {
                    "id": line["admin_graphql_api_id"],
                    "sku": line["sku"],
                    "name": line["name"],
                    "quantity": line["quantity"],
                    "currentQuantity": line["current_quantity"],
                    "unfulfilledQuantity": line["current_quantity"],
                    "requiresShipping": line["requires_shipping"],
                    "variant": {
                        "id": f"gid://shopify/ProductVariant/{line['variant_id']}",
                        "inventoryItem": {"tracked": True},
                    }
                    if line["variant_id"]
                    else None,
                }
                for line in rest["line_items"]
            ]
        },
        "refunds": [
            {
                "id": refund["admin_graphql_api_id"],
                "refundLineItems": {
                    "nodes": [
                        {
                            "id": f"gid://shopify/RefundLineItem/{r['id']}",
                            "quantity": r["quantity"],
                            "restockType": r["restock_type"].upper(),
                            "lineItem": {"id": f"gid://shopify/LineItem/{r['line_item_id']}"},
                        }
                        for r in refund["refund_line_items"]
                    ]
                },
            }
            for refund in rest["refunds"]
        ],
    }


def test_the_poll_makes_up_for_a_missed_webhook_and_never_double_counts(
    ledger: Ledger, shop: ShopifyIntake, clock: Clock
) -> None:
    create = sample("orders_create.json")
    other = copy.deepcopy(create)
    other["id"], other["name"], other["admin_graphql_api_id"] = 77, "#1043", "gid://shopify/Order/77"
    for line in other["line_items"]:
        line["id"] += 100
    other["updated_at"] = "2025-06-03T10:16:00-04:00"
    deliver(shop, "orders/create", create)  # the webhook of the first came; the second's never did
    port = FakeOrders([graphql_node(create), graphql_node(other)])
    clock.now = parse_iso("2025-06-03T15:00:00Z")
    report = shop.poll(port, lambda: False)
    assert report.orders == 2 and report.lines_moved == 2  # only the missed order's lines moved
    assert pending(ledger, SOCK) == 4 and pending(ledger, SHELL) == 2
    assert shop.cursors.cursor("shopify:orders") == payloads.utc(other["updated_at"])
    again = shop.poll(port, lambda: False)  # overlap: both read again, nothing moves
    assert again.lines_moved == 0 and pending(ledger, SOCK) == 4
    assert port.calls[-1] < payloads.utc(other["updated_at"])  # read from the cursor minus the overlap


def test_the_poll_cursor_advances_only_past_applied_pages(ledger: Ledger, shop: ShopifyIntake, clock: Clock) -> None:
    clock.now = parse_iso("2025-06-03T15:00:00Z")
    create = sample("orders_create.json")
    nodes = []
    for number in range(5):
        body = copy.deepcopy(create)
        body["id"] = 1000 + number
        body["admin_graphql_api_id"] = f"gid://shopify/Order/{1000 + number}"
        body["updated_at"] = f"2025-06-03T10:2{number}:00-04:00"
        body["line_items"] = body["line_items"][:1]
        body["line_items"][0]["id"] = 5000 + number
        body["line_items"][0]["admin_graphql_api_id"] = f"gid://shopify/LineItem/{5000 + number}"
        nodes.append(graphql_node(body))
    report = shop.poll(FakeOrders(nodes), lambda: True)  # out of time after the first page
    assert report.pages == 1 and shop.cursors.cursor("shopify:orders") == payloads.utc("2025-06-03T10:21:00-04:00")
    shop.poll(FakeOrders(nodes), lambda: False)
    assert pending(ledger, SOCK) == 10


# ==================================================================== inventory levels and products
def level(available: int, updated_at: str = "2025-06-03T10:15:04-04:00") -> dict[str, Any]:
    body = sample("inventory_levels_update.json")
    body["available"], body["updated_at"] = available, updated_at
    return body


def test_our_echo_changes_nothing_and_a_channel_change_is_noted_for_reconcile(
    ledger: Ledger, shop: ShopifyIntake, clock: Clock
) -> None:
    history = shop.order_desk.history
    history.record_pushed({(SOCK, "shopify"): Pushed(10, "2025-06-03T14:00:00.000Z", "x")})
    before = state(ledger)
    assert deliver(shop, "inventory_levels/update", level(10))["result"] == "echo"
    assert deliver(shop, "inventory_levels/update", level(7))["result"] == "drift"
    assert state(ledger) == before  # the POS is master here: Shopify's number is not a count
    pushed = history.pushed(SOCK, "shopify")
    assert pushed is not None and pushed.quantity == 7 and pushed.deferred_since is not None
    assert deliver(shop, "inventory_levels/update", level(9, "2025-06-03T10:15:00-04:00"))["result"] == "stale"
    assert [e.result for e in history.sync_history(sku=SOCK)] == ["drift"]


def test_where_shopify_is_master_its_level_is_a_count_that_includes_its_orders(
    wiring: Wiring, ledger: Ledger, clock: Clock
) -> None:
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID, master_location="shop")
    ledger.upsert_catalog(SOCK, ["shop"], {"shopify": "gid://shopify/InventoryItem/47216940870001"})
    ledger.upsert_catalog(SHELL, ["shop"], {})
    shop = build(wiring)
    shop.order_desk.history.record_pushed({(SOCK, "shopify"): Pushed(37, "t", "x")})
    assert deliver(shop, "inventory_levels/update", level(39, "2025-06-03T09:00:00-04:00"))["result"] == "count"
    deliver(shop, "orders/create", sample("orders_create.json"))  # 10:15:02: after that count
    assert pending(ledger, SOCK) == 2
    deliver(shop, "inventory_levels/update", level(37))  # 10:15:04: Shopify's number after the order
    (lv,) = ledger.explain(SOCK).levels
    assert (lv.on_hand, lv.pending, lv.available) == (37, 0, 37)
    deliver(shop, "inventory_levels/update", level(39, "2025-06-03T09:00:00-04:00"))  # late retry
    (lv,) = ledger.explain(SOCK).levels
    assert lv.on_hand == 37


def test_products_keep_the_listing_map_and_new_skus_join_the_catalog(ledger: Ledger, shop: ShopifyIntake) -> None:
    product = sample("products_update.json")
    assert deliver(shop, "products/update", product)["catalog_changes"] == 0  # mapped as it was
    entry = ledger.store.catalog(SOCK)
    assert entry is not None and entry.listings["shopify"] == "gid://shopify/InventoryItem/47216940870001"
    assert ledger.store.catalog("SOCK-TRAIL-L") is None  # not tracked by Shopify: left alone
    product["variants"][1]["inventory_management"] = "shopify"
    product["updated_at"] = "2025-06-03T12:00:00-04:00"
    deliver(shop, "products/update", product)
    joined = ledger.store.catalog("SOCK-TRAIL-L")
    assert joined is not None and joined.locations == ("shop",)
    body = sample("orders_create.json")
    body["line_items"][0]["sku"] = ""  # a line without a SKU of its own is mapped by its variant
    deliver(shop, "orders/create", body)
    assert pending(ledger, SOCK) == 2
    deliver(shop, "products/delete", {"id": product["id"]})
    entry = ledger.store.catalog(SOCK)
    assert entry is not None and "shopify" not in entry.listings


def test_malformed_payloads_raise_and_store_nothing(ledger: Ledger, shop: ShopifyIntake) -> None:
    before = state(ledger)
    for topic, body in [
        ("orders/create", {"id": 1, "line_items": "nope"}),
        ("orders/create", {"id": 1, "line_items": [{"id": 2, "current_quantity": -1}]}),
        ("refunds/create", {"order_id": 1, "refund_line_items": [{"id": 1}]}),
        ("inventory_levels/update", {"inventory_item_id": 1, "location_id": 2, "available": "7"}),
        ("products/delete", {}),
    ]:
        with pytest.raises(payloads.PayloadError):
            deliver(shop, topic, body)
    assert state(ledger) == before
    assert shop.orders.order("shopify", "1") is None
    assert deliver(shop, "customers/create", {"id": 1})["result"] == "ignored"


def test_two_senders_of_one_shipment_fulfil_it_once(ledger: Ledger, shop: ShopifyIntake, clock: Clock) -> None:
    """Found by the chaos replay: the stream's run and the schedule's retry both read a pending
    shipment and both created a fulfillment. A sender now takes the shipment first."""
    deliver(shop, "orders/create", sample("orders_create.json"))
    desk = shop.shipment_desk
    calls: list[str] = []

    class Racing:
        def fulfil(self, request: Any) -> str:
            calls.append(request.tracking_number)
            if len(calls) == 1:  # the other sender arrives while this one is at the channel
                assert desk.send("shopify", ORDER_ID, "s-1") == "sending"
            return "gid://shopify/Fulfillment/1"

    desk.port_for = lambda _: Racing()  # type: ignore[assignment, return-value]
    desk.record("shopify", ORDER_ID, "s-1", carrier="UPS", service="", tracking_number="1Z1", lines=None)
    assert desk.send("shopify", ORDER_ID, "s-1") == "sent"
    assert desk.retry_unsent("shopify") == {} and calls == ["1Z1"]
    stuck = desk.orders.shipment("shopify", ORDER_ID, "s-1")
    assert stuck is not None and stuck.state == "sent" and stuck.attempts == 1
