"""Orders in the Shopify sandbox (test equipment), driven in-process through ``handle`` and the
httpx transport (unit tests may not open sockets). The GraphQL documents are the product's own
(omnistock.channels.shopify.orders_api), so these tests also prove the sandbox recognises them."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.sandbox import ShopifySandbox, item_gid, location_gid
from local.sandbox.server import SandboxResponse
from local.send_webhook import LOCAL_WEBHOOK_SECRET
from omnistock.channels import FulfillmentRequest
from omnistock.channels.shopify.admin import ShopifyInventory
from omnistock.channels.shopify.orders_api import (
    FULFILLMENT_CREATE,
    FULFILLMENT_ORDERS_QUERY,
    ORDERS_QUERY,
    ShopifyOrders,
)
from omnistock.channels.shopify.payloads import order_from_graphql, order_from_rest, refund_from_rest
from omnistock.channels.shopify.signature import verify
from tests.fakes import SecondsClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/shopify"
TOKEN = "shpat_test"
SOCK = item_gid(1001)
SHELL = item_gid(1002)
SHOP = location_gid(1)
START = datetime(2025, 6, 3, 14, 0, tzinfo=UTC)
SINCE_ALL = "updated_at:>='2025-06-03T00:00:00Z'"
HOOKS = "http://stack.local/webhooks/shopify"


class Wall:
    """The sandbox's wall clock, moved by hand."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def wall() -> Wall:
    return Wall()


@pytest.fixture
def shop(wall: Wall) -> ShopifySandbox:
    return stocked(ShopifySandbox(TOKEN, clock=SecondsClock(1000.0), sleep=lambda _: None), wall)


def stocked(sandbox: ShopifySandbox, wall: Wall) -> ShopifySandbox:
    sandbox.orders.wall_clock = wall
    sandbox.stock(SOCK, SHOP, available=10)
    sandbox.stock(SHELL, SHOP, available=5)
    return sandbox


def line(sku: str, quantity: int, item: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"sku": sku, "quantity": quantity, **({"inventory_item_id": item} if item else {}), **extra}


CUSTOM = {"sku": "", "quantity": 1, "variant_id": None, "requires_shipping": False, "price": "0.00"}


def make(shop: ShopifySandbox, *lines: dict[str, Any], **options: Any) -> dict[str, Any]:
    return shop.orders.create_order(list(lines), **options)


def answer(shop: ShopifySandbox, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = shop.graphql(query, variables)
    assert response.status == 200, response.body
    body: dict[str, Any] = response.json()
    return body


def data(shop: ShopifySandbox, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = answer(shop, query, variables)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


def top_level(shop: ShopifySandbox, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    body = answer(shop, query, variables)
    assert "data" not in body, body
    [error] = body["errors"]
    return dict(error)


def page(shop: ShopifySandbox, first: int = 50, after: str | None = None, query: str = SINCE_ALL) -> dict[str, Any]:
    orders: dict[str, Any] = data(shop, ORDERS_QUERY, {"first": first, "after": after, "query": query})["orders"]
    return orders


def ids(nodes: list[dict[str, Any]]) -> list[int]:
    return [int(node["legacyResourceId"]) for node in nodes]


def fulfillment_order(shop: ShopifySandbox, order: dict[str, Any]) -> dict[str, Any]:
    view = data(shop, FULFILLMENT_ORDERS_QUERY, {"id": order["admin_graphql_api_id"]})["order"]
    [found] = view["fulfillmentOrders"]["nodes"]
    return dict(found)


def fo_items(fo: dict[str, Any], *quantities: int) -> list[dict[str, Any]]:
    """The fulfillment order's line items, with the given quantity for each (0: left out)."""
    nodes = fo["lineItems"]["nodes"]
    return [{"id": node["id"], "quantity": q} for node, q in zip(nodes, quantities, strict=False) if q]


def fulfil(
    shop: ShopifySandbox, fo: dict[str, Any], items: list[dict[str, Any]] | None, number: str = "1Z999"
) -> dict[str, Any]:
    group: dict[str, Any] = {"fulfillmentOrderId": fo["id"]}
    if items is not None:
        group["fulfillmentOrderLineItems"] = items
    fulfillment = {
        "notifyCustomer": True,
        "trackingInfo": {"company": "UPS", "number": number},
        "lineItemsByFulfillmentOrder": [group],
    }
    result: dict[str, Any] = data(shop, FULFILLMENT_CREATE, {"fulfillment": fulfillment})["fulfillmentCreate"]
    return result


def remaining(fo: dict[str, Any]) -> list[int]:
    return [node["remainingQuantity"] for node in fo["lineItems"]["nodes"]]


def topics(shop: ShopifySandbox) -> list[str]:
    return [webhook["topic"] for webhook in shop.orders.webhooks()]


def control(shop: ShopifySandbox, method: str, path: str, body: Any = None) -> SandboxResponse:
    return shop.handle(method, path, [], json.dumps(body).encode() if body is not None else b"")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


# ---- orders as the REST webhooks show them ---------------------------------------------------


def test_a_new_order_has_the_rest_webhook_shape(shop: ShopifySandbox) -> None:
    first = make(shop, line("SOCK-M", 2, SOCK, price="12.00"), CUSTOM)
    second = make(shop, line("SHELL-L", 1, SHELL))
    fixture = json.loads((FIXTURES / "orders_create.json").read_text())

    assert (first["name"], first["order_number"], second["name"]) == ("#1001", 1001, "#1002")
    assert first["id"] < second["id"]
    assert first["admin_graphql_api_id"] == f"gid://shopify/Order/{first['id']}"
    assert first["created_at"] == first["updated_at"] == "2025-06-03T10:00:00.000-04:00"
    assert set(first) - set(fixture) == {"billing_address"}  # a field of Shopify's the fixture leaves out
    assert set(first["line_items"][0]) == set(fixture["line_items"][0])
    sock, custom = first["line_items"]
    assert (sock["quantity"], sock["current_quantity"], sock["fulfillable_quantity"]) == (2, 2, 2)
    assert (sock["variant_inventory_management"], custom["variant_inventory_management"]) == ("shopify", None)
    assert custom["variant_id"] is None
    assert first["total_price"] == "24.00"
    assert (first["financial_status"], first["fulfillment_status"], first["cancelled_at"]) == ("paid", None, None)
    assert shop.orders.order(first["id"]) == first
    assert [order["id"] for order in shop.orders.orders()] == [first["id"], second["id"]]


def test_a_sale_commits_stocked_items_at_the_orders_location(shop: ShopifySandbox) -> None:
    make(shop, line("SOCK", 3, SOCK), line("GHOST", 2, item_gid(9999)), line("FREE", 1, SHELL, tracked=False))

    assert (shop.available(SOCK, SHOP), shop.on_hand(SOCK, SHOP)) == (7, 10)  # committed until shipped
    assert shop.available(SHELL, SHOP) == 5  # untracked lines move nothing
    assert shop.available(item_gid(9999), SHOP) is None  # nor do items the shop does not stock there

    make(shop, line("SOCK", 1, SOCK), location_id=2)
    assert shop.available(SOCK, SHOP) == 7


def test_updated_at_grows_by_at_least_a_millisecond_per_change(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK))  # the wall clock never moves in this test
    sock = order["line_items"][0]["id"]
    stamps = [order["updated_at"]]
    stamps.append(shop.orders.edit_line(order["id"], sock, 3)["updated_at"])
    shop.orders.refund(order["id"], [(sock, 1, "cancel")])
    stamps.append(shop.orders.order(order["id"])["updated_at"])
    stamps.append(shop.orders.cancel_order(order["id"])["updated_at"])

    assert stamps == [f"2025-06-03T10:00:00.00{n}-04:00" for n in range(4)]
    [node] = page(shop)["nodes"]
    assert node["updatedAt"] == "2025-06-03T14:00:00.003Z"
    assert instant(node["updatedAt"]) == instant(stamps[-1])


# ---- the orders query ------------------------------------------------------------------------


def test_orders_pages_in_updated_at_order_from_the_filter(shop: ShopifySandbox, wall: Wall) -> None:
    made = []
    for _ in range(5):
        made.append(make(shop, line("SOCK", 1, SOCK))["id"])
        wall.advance(minutes=10)  # 14:00, 14:10, ... 14:40

    since = "updated_at:>='2025-06-03T14:10:00Z'"
    first = page(shop, 3, query=since)
    second = page(shop, 3, first["pageInfo"]["endCursor"], query=since)

    assert ids(first["nodes"]) == made[1:4]
    assert first["pageInfo"]["hasNextPage"] is True
    assert ids(second["nodes"]) == made[4:]
    assert second["pageInfo"]["hasNextPage"] is False
    assert second["pageInfo"]["endCursor"] is not None
    cursor = json.loads(base64.b64decode(second["pageInfo"]["endCursor"]))
    assert cursor == {"last_id": made[4], "last_value": "2025-06-03T14:40:00.000Z"}
    empty = page(shop, 3, query="updated_at:>='2025-06-03T15:00:00Z'")
    assert empty == {"pageInfo": {"hasNextPage": False, "endCursor": None}, "nodes": []}
    assert shop.counters["orders_queries"] == 3


def test_an_order_updated_between_pages_comes_again_later_and_none_is_lost(shop: ShopifySandbox, wall: Wall) -> None:
    made = []
    for _ in range(5):
        made.append(make(shop, line("SOCK", 1, SOCK)))
        wall.advance(minutes=10)
    first = page(shop, 2)

    shop.orders.edit_line(made[0]["id"], made[0]["line_items"][0]["id"], 2)  # already read: moves to the end
    wall.advance(seconds=1)
    shop.orders.cancel_order(made[3]["id"])  # not read yet: moves to the end too
    second = page(shop, 2, first["pageInfo"]["endCursor"])
    third = page(shop, 2, second["pageInfo"]["endCursor"])

    order_ids = [order["id"] for order in made]
    assert ids(first["nodes"]) == order_ids[:2]
    assert ids(second["nodes"]) == [order_ids[2], order_ids[4]]
    assert ids(third["nodes"]) == [order_ids[0], order_ids[3]]
    assert third["pageInfo"]["hasNextPage"] is False
    assert third["nodes"][0]["lineItems"]["nodes"][0]["currentQuantity"] == 2  # the newer snapshot
    assert third["nodes"][1]["cancelledAt"] is not None


def test_without_a_sort_key_orders_come_by_id(shop: ShopifySandbox, wall: Wall) -> None:
    older = make(shop, line("SOCK", 1, SOCK))
    newer = make(shop, line("SOCK", 1, SOCK))
    wall.advance(minutes=1)
    shop.orders.cancel_order(older["id"])

    nodes = data(shop, "query { orders(first: 10) { nodes { id } } }", {})["orders"]["nodes"]

    assert ids(nodes) == [older["id"], newer["id"]]


@pytest.mark.parametrize(
    ("variables", "words"),
    [
        ({"first": 0, "query": SINCE_ALL}, "from 1 to 250"),
        ({"first": 251, "query": SINCE_ALL}, "from 1 to 250"),
        ({"first": "10", "query": SINCE_ALL}, "from 1 to 250"),
        ({"first": 10, "query": "status:open"}, "understands only updated_at"),
        ({"first": 10, "query": "updated_at:>='2025-06-03'"}, "understands only updated_at"),
        ({"first": 10, "query": "updated_at:>'2025-06-03T00:00:00Z'"}, "understands only updated_at"),
        ({"first": 10, "query": SINCE_ALL, "after": "not a cursor"}, "Invalid cursor"),
    ],
)
def test_bad_orders_arguments_are_top_level_errors(shop: ShopifySandbox, variables: dict[str, Any], words: str) -> None:
    make(shop, line("SOCK", 1, SOCK))

    error = top_level(shop, ORDERS_QUERY, variables)

    assert words in error["message"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert shop.counters["errors"] == 1
    assert shop.counters["orders_queries"] == 0


def test_orders_cost_goes_through_the_bucket(wall: Wall) -> None:
    shop = stocked(ShopifySandbox(TOKEN, clock=SecondsClock(1000.0), maximum_available=120), wall)
    for _ in range(10):
        make(shop, line("SOCK", 1, SOCK))

    paid = answer(shop, ORDERS_QUERY, {"first": 10, "query": SINCE_ALL})
    throttled = answer(shop, ORDERS_QUERY, {"first": 10, "query": SINCE_ALL})
    too_costly = answer(shop, ORDERS_QUERY, {"first": 100, "query": SINCE_ALL})

    cost = paid["extensions"]["cost"]
    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (101, 101)
    assert cost["throttleStatus"]["currentlyAvailable"] == 19
    assert throttled["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert too_costly["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert shop.counters["throttled"] == 1


def test_an_unfilled_page_refunds_what_it_did_not_return(shop: ShopifySandbox) -> None:
    make(shop, line("SOCK", 1, SOCK))

    cost = answer(shop, ORDERS_QUERY, {"first": 10, "query": SINCE_ALL})["extensions"]["cost"]

    assert (cost["requestedQueryCost"], cost["actualQueryCost"]) == (101, 11)
    assert cost["throttleStatus"]["currentlyAvailable"] == 2000 - 11


def test_fault_injection_covers_the_orders_documents(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK))
    fo = fulfillment_order(shop, order)
    shop.fail_next(1, status=503)
    assert shop.graphql(ORDERS_QUERY, {"first": 10, "query": SINCE_ALL}).status == 503

    shop.fail_next(1, status=502, after_apply=True)
    fulfillment = {"lineItemsByFulfillmentOrder": [{"fulfillmentOrderId": fo["id"]}]}
    lost = shop.graphql(FULFILLMENT_CREATE, {"fulfillment": fulfillment})

    assert lost.status == 502
    assert len(shop.orders.fulfillments()) == 1  # it shipped; only the answer was lost
    assert shop.counters["faults"] == 2


# ---- fulfillment orders and fulfillmentCreate -----------------------------------------------


def test_fulfillment_orders_read(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL))

    view = data(shop, FULFILLMENT_ORDERS_QUERY, {"id": order["admin_graphql_api_id"]})["order"]
    unknown = data(shop, FULFILLMENT_ORDERS_QUERY, {"id": "gid://shopify/Order/1"})
    malformed = top_level(shop, FULFILLMENT_ORDERS_QUERY, {"id": "1234"})

    assert view["id"] == order["admin_graphql_api_id"]
    assert view["fulfillments"] == []
    [fo] = view["fulfillmentOrders"]["nodes"]
    assert fo["id"].startswith("gid://shopify/FulfillmentOrder/")
    assert fo["status"] == "OPEN"
    assert [node["lineItem"]["id"] for node in fo["lineItems"]["nodes"]] == [
        item["admin_graphql_api_id"] for item in order["line_items"]
    ]
    assert remaining(fo) == [2, 1]
    assert all(node["id"].startswith("gid://shopify/FulfillmentOrderLineItem/") for node in fo["lineItems"]["nodes"])
    assert unknown == {"order": None}
    assert malformed["extensions"]["code"] == "INVALID_VARIABLE"
    assert shop.counters["order_reads"] == 2


def test_fulfillment_create_ships_then_closes_the_fulfillment_order(shop: ShopifySandbox, wall: Wall) -> None:
    order = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL))
    fo = fulfillment_order(shop, order)
    wall.advance(minutes=5)

    partial = fulfil(shop, fo, fo_items(fo, 1), number="1Z1")
    after_partial = fulfillment_order(shop, order)
    rest = shop.orders.order(order["id"])

    assert partial["userErrors"] == []
    assert partial["fulfillment"]["id"].startswith("gid://shopify/Fulfillment/")
    assert partial["fulfillment"]["status"] == "SUCCESS"
    assert (after_partial["status"], remaining(after_partial)) == ("IN_PROGRESS", [1, 1])
    assert rest["fulfillment_status"] == "partial"
    assert rest["updated_at"] == "2025-06-03T10:05:00.000-04:00"
    [shipped] = rest["fulfillments"]
    assert (shipped["status"], shipped["tracking_number"], shipped["tracking_company"]) == ("success", "1Z1", "UPS")
    assert [(item["id"], item["quantity"]) for item in shipped["line_items"]] == [(order["line_items"][0]["id"], 1)]
    assert (shop.available(SOCK, SHOP), shop.on_hand(SOCK, SHOP)) == (8, 9)  # shipping takes it off the shelf
    assert topics(shop)[-1] == "orders/updated"
    assert shop.orders.webhooks()[-1]["body"]["fulfillments"][0]["id"] == shipped["id"]

    rest_of_it = fulfil(shop, after_partial, None, number="1Z2")  # no line items: all that remains
    closed = fulfillment_order(shop, order)
    rest = shop.orders.order(order["id"])

    assert rest_of_it["userErrors"] == []
    assert (closed["status"], remaining(closed)) == ("CLOSED", [0, 0])
    assert rest["fulfillment_status"] == "fulfilled"
    assert [item["fulfillment_status"] for item in rest["line_items"]] == ["fulfilled", "fulfilled"]
    view = data(shop, FULFILLMENT_ORDERS_QUERY, {"id": order["admin_graphql_api_id"]})["order"]
    assert [f["trackingInfo"][0]["number"] for f in view["fulfillments"]] == ["1Z1", "1Z2"]
    assert fulfil(shop, closed, None)["userErrors"][0]["message"] == "Fulfillment order is closed."
    assert shop.counters["fulfillments_created"] == 2


def test_over_quantity_and_unknown_ids_are_user_errors_and_change_nothing(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL))
    fo = fulfillment_order(shop, order)
    webhooks_before = topics(shop)

    over = fulfil(shop, fo, fo_items(fo, 3, 1))
    split_over = fulfil(shop, fo, [*fo_items(fo, 2), *fo_items(fo, 1)])
    unknown_line = fulfil(shop, fo, [{"id": "gid://shopify/FulfillmentOrderLineItem/1", "quantity": 1}])
    unknown_fo = fulfil(shop, {"id": "gid://shopify/FulfillmentOrder/1"}, None)

    assert over["fulfillment"] is None
    assert over["userErrors"] == [
        {
            "field": ["fulfillment", "lineItemsByFulfillmentOrder", "0", "fulfillmentOrderLineItems", "0", "quantity"],
            "message": "Invalid fulfillment order line item quantity requested.",
        }
    ]
    assert split_over["userErrors"][0]["field"][-2:] == ["1", "quantity"]
    assert unknown_line["userErrors"][0]["field"][-1] == "id"
    assert unknown_fo["userErrors"][0]["field"][-1] == "fulfillmentOrderId"
    assert remaining(fulfillment_order(shop, order)) == [2, 1]
    assert shop.orders.fulfillments() == []
    assert shop.on_hand(SOCK, SHOP) == 10
    assert topics(shop) == webhooks_before
    assert shop.counters["fulfillment_user_errors"] == 4


def test_fulfillment_create_is_not_idempotent(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK))
    fo = fulfillment_order(shop, order)

    first = fulfil(shop, fo, fo_items(fo, 1), number="1Z1")
    again = fulfil(shop, fo, fo_items(fo, 1), number="1Z1")  # the same request, sent twice

    assert first["fulfillment"]["id"] != again["fulfillment"]["id"]
    assert len(shop.orders.fulfillments()) == 2
    assert fulfillment_order(shop, order)["status"] == "CLOSED"


def test_a_badly_shaped_fulfillment_is_a_variable_error(shop: ShopifySandbox) -> None:
    error = top_level(shop, FULFILLMENT_CREATE, {"fulfillment": {"trackingInfo": {"number": "1Z"}}})

    assert error["extensions"]["code"] == "INVALID_VARIABLE"
    assert "lineItemsByFulfillmentOrder" in error["message"]


# ---- cancel, refund, edit ----------------------------------------------------------------------


def test_cancel_refunds_unfulfilled_units_as_orders_cancelled_shows(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL), CUSTOM)
    fo = fulfillment_order(shop, order)
    fulfil(shop, fo, fo_items(fo, 1))
    sock, shell, custom = (item["id"] for item in order["line_items"])
    fixture = json.loads((FIXTURES / "orders_cancelled.json").read_text())

    cancelled = shop.orders.cancel_order(order["id"], reason="customer")

    assert cancelled["cancelled_at"] == cancelled["closed_at"] == cancelled["updated_at"]
    assert (cancelled["cancel_reason"], cancelled["financial_status"]) == ("customer", "refunded")
    [refund] = cancelled["refunds"]
    assert set(refund) == set(fixture["refunds"][0])
    assert set(refund["refund_line_items"][0]) == set(fixture["refunds"][0]["refund_line_items"][0])
    assert [(r["line_item_id"], r["quantity"], r["restock_type"]) for r in refund["refund_line_items"]] == [
        (sock, 1, "cancel"),
        (shell, 1, "cancel"),
        (custom, 1, "no_restock"),
    ]
    assert [item["current_quantity"] for item in cancelled["line_items"]] == [1, 0, 0]  # the shipped sock stays
    assert [item["fulfillable_quantity"] for item in cancelled["line_items"]] == [0, 0, 0]
    assert (shop.available(SOCK, SHOP), shop.on_hand(SOCK, SHOP)) == (9, 9)
    assert shop.available(SHELL, SHOP) == 5
    assert fulfillment_order(shop, order)["status"] == "CLOSED"
    assert topics(shop)[-3:] == ["refunds/create", "orders/cancelled", "orders/updated"]
    with pytest.raises(ValueError, match="already cancelled"):
        shop.orders.cancel_order(order["id"])


def test_cancel_without_restock_and_of_an_unpaid_order(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK), financial_status="pending")

    cancelled = shop.orders.cancel_order(order["id"], restock=False)

    assert cancelled["financial_status"] == "voided"
    assert cancelled["refunds"][0]["refund_line_items"][0]["restock_type"] == "no_restock"
    assert cancelled["refunds"][0]["restock"] is False
    assert shop.available(SOCK, SHOP) == 8


def test_refunds_lower_current_quantity_as_refunds_create_shows(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL))
    fo = fulfillment_order(shop, order)
    fulfil(shop, fo, None)
    sock, shell = (item["id"] for item in order["line_items"])
    fixture = json.loads((FIXTURES / "refunds_create.json").read_text())

    refund = shop.orders.refund(order["id"], [(sock, 1, "return"), (shell, 1, "no_restock")])
    rest = shop.orders.order(order["id"])

    assert [item["current_quantity"] for item in rest["line_items"]] == [1, 0]
    assert rest["financial_status"] == "partially_refunded"
    assert (shop.available(SOCK, SHOP), shop.on_hand(SOCK, SHOP)) == (9, 9)  # the return is back on the shelf
    assert shop.available(SHELL, SHOP) == 4
    webhook = shop.orders.webhooks()[-2]
    assert webhook["topic"] == "refunds/create"
    assert set(webhook["body"]) <= set(fixture)
    assert webhook["body"]["refund_line_items"][0]["line_item"]["sku"] == "SOCK"
    notice = refund_from_rest(webhook["body"])
    assert notice.order_id == str(order["id"])
    assert notice.skus == {str(sock): "SOCK", str(shell): "SHELL"}
    assert [(r.line_id, r.quantity, r.restock_type) for r in notice.lines] == [
        (str(sock), 1, "return"),
        (str(shell), 1, "no_restock"),
    ]
    assert refund["restock"] is True


@pytest.mark.parametrize(
    ("wanted", "words"),
    [
        ([(0, 3, "return")], "return can take 1 to 2"),
        ([(0, 1, "cancel")], "cancel can take 1 to 0"),  # every unit has shipped
        ([(0, 1, "return"), (0, 2, "return")], "return can take 1 to 1"),
        ([(0, 1, "restock")], "restock_type must be"),
        ([(7, 1, "return")], "has no line"),
    ],
)
def test_impossible_refunds_change_nothing(
    shop: ShopifySandbox, wanted: list[tuple[int, int, str]], words: str
) -> None:
    order = make(shop, line("SOCK", 2, SOCK))
    fulfil(shop, fulfillment_order(shop, order), None)
    sock = order["line_items"][0]["id"]
    before, webhooks_before = shop.orders.order(order["id"]), topics(shop)

    with pytest.raises(ValueError, match=words):
        shop.orders.refund(order["id"], [(sock if n == 0 else n, q, kind) for n, q, kind in wanted])

    assert shop.orders.order(order["id"]) == before
    assert topics(shop) == webhooks_before
    assert shop.available(SOCK, SHOP) == 8


def test_an_edit_commits_added_units_and_restocks_removed_ones(shop: ShopifySandbox) -> None:
    order = make(shop, line("SOCK", 2, SOCK))
    sock = order["line_items"][0]["id"]

    grown = shop.orders.edit_line(order["id"], sock, 5)["line_items"][0]
    assert (grown["quantity"], grown["current_quantity"], shop.available(SOCK, SHOP)) == (5, 5, 5)
    fulfil(shop, fulfillment_order(shop, order), None)
    shrunk = shop.orders.edit_line(order["id"], sock, 5)["line_items"][0]
    assert shrunk["fulfillable_quantity"] == 0
    reopened = shop.orders.edit_line(order["id"], sock, 6)["line_items"][0]

    assert reopened["fulfillable_quantity"] == 1
    assert fulfillment_order(shop, order)["status"] == "IN_PROGRESS"
    assert topics(shop)[-1] == "orders/updated"
    with pytest.raises(ValueError, match="fewer than the 5 units shipped"):
        shop.orders.edit_line(order["id"], sock, 4)


# ---- webhooks ---------------------------------------------------------------------------------


def test_each_change_queues_the_topics_shopify_sends_with_the_body_of_that_moment(shop: ShopifySandbox) -> None:
    paid = make(shop, line("SOCK", 1, SOCK))
    make(shop, line("SOCK", 1, SOCK), financial_status="pending")
    shop.orders.cancel_order(paid["id"])

    outbox = shop.orders.webhooks()

    assert [w["topic"] for w in outbox] == [
        "orders/create",
        "orders/paid",
        "orders/create",
        "refunds/create",
        "orders/cancelled",
        "orders/updated",
    ]
    assert outbox[0]["body"]["cancelled_at"] is None  # as it was then
    assert outbox[4]["body"]["cancelled_at"] is not None
    assert len({w["id"] for w in outbox}) == len(outbox)
    assert control(shop, "GET", "/_sandbox/webhooks").json()["webhooks"] == outbox


# ---- the product's parsers read both shapes alike ---------------------------------------------


def test_every_order_node_parses_like_the_rest_shape_of_the_same_order(shop: ShopifySandbox) -> None:
    plain = make(shop, line("SOCK", 2, SOCK, price="12.00"), CUSTOM, tags="wholesale, priority")
    partial = make(shop, line("SOCK", 3, SOCK), line("SHELL", 1, SHELL))
    fo = fulfillment_order(shop, partial)
    fulfil(shop, fo, fo_items(fo, 1))
    cancelled = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL))
    fo = fulfillment_order(shop, cancelled)
    fulfil(shop, fo, fo_items(fo, 1))
    shop.orders.cancel_order(cancelled["id"])
    returned = make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL))
    fulfil(shop, fulfillment_order(shop, returned), None)
    shop.orders.refund(returned["id"], [(returned["line_items"][0]["id"], 1, "return")])
    edited = make(shop, line("SHELL", 2, SHELL), financial_status="pending")
    shop.orders.edit_line(edited["id"], edited["line_items"][0]["id"], 1)
    shop.orders.refund(edited["id"], [(edited["line_items"][0]["id"], 1, "cancel")])

    nodes = page(shop)["nodes"]

    assert sorted(ids(nodes)) == sorted(o["id"] for o in (plain, partial, cancelled, returned, edited))
    for node in nodes:
        rest = shop.orders.order(node["legacyResourceId"])
        polled, pushed = order_from_graphql("shopify", node), order_from_rest("shopify", rest)

        def lines(order: Any) -> list[tuple[Any, ...]]:
            return [
                (x.line_id, x.sku, x.quantity, x.unit_price, x.tracked, x.requires_shipping, x.variant_id)
                for x in order.lines
            ]

        assert lines(polled) == lines(pushed)
        assert polled.refunds == pushed.refunds
        if not any(refund.restock_type == "return" for refund in pushed.refunds):
            assert [x.fulfilled for x in polled.lines] == [x.fulfilled for x in pushed.lines]
        for name in ("order_id", "number", "cancelled", "financial_status", "total", "email", "tags", "ship_to"):
            assert getattr(polled, name) == getattr(pushed, name), name
        assert polled.channel_ref == pushed.channel_ref == rest["admin_graphql_api_id"]
        assert instant(node["updatedAt"]) == instant(rest["updated_at"])
        assert instant(node["createdAt"]) == instant(rest["created_at"])
    by_id = {int(node["legacyResourceId"]): order_from_graphql("shopify", node) for node in nodes}
    assert [x.quantity for x in by_id[edited["id"]].lines] == [1]
    assert by_id[cancelled["id"]].cancelled is True


# ---- control API -----------------------------------------------------------------------------


def test_control_api_orders_routes(shop: ShopifySandbox) -> None:
    created = control(
        shop,
        "POST",
        "/_sandbox/orders",
        {"lines": [{"sku": "SOCK", "quantity": 2, "inventory_item_id": 1001}], "financial_status": "paid"},
    )
    assert created.status == 200
    order = created.json()
    oid, sock = order["id"], order["line_items"][0]["id"]
    assert shop.available(SOCK, SHOP) == 8

    assert [o["id"] for o in control(shop, "GET", "/_sandbox/orders").json()["orders"]] == [oid]
    assert control(shop, "GET", f"/_sandbox/orders/{oid}").json() == order
    assert control(shop, "GET", "/_sandbox/orders/42").status == 404
    edited = control(shop, "POST", f"/_sandbox/orders/{oid}/lines/{sock}", {"quantity": 3})
    assert edited.json()["line_items"][0]["current_quantity"] == 3
    one_back = {"lines": [{"line_id": sock, "quantity": 1, "restock_type": "cancel"}]}
    refund = control(shop, "POST", f"/_sandbox/orders/{oid}/refunds", one_back)
    assert refund.json()["refund_line_items"][0]["restock_type"] == "cancel"
    fo = fulfillment_order(shop, order)
    fulfil(shop, fo, fo_items(fo, 1), number="1Z7")
    [shipped] = control(shop, "GET", "/_sandbox/fulfillments").json()["fulfillments"]
    assert (shipped["order_id"], shipped["tracking_number"]) == (oid, "1Z7")
    assert control(shop, "POST", f"/_sandbox/orders/{oid}/cancel", {"restock": True}).json()["cancelled_at"]
    assert control(shop, "POST", f"/_sandbox/orders/{oid}/cancel").status == 400
    assert control(shop, "GET", "/_sandbox/counters").json()["counters"]["fulfillments_created"] == 1

    assert control(shop, "POST", "/_sandbox/orders", {"lines": []}).status == 400
    assert control(shop, "POST", "/_sandbox/orders", {"lines": [{"sku": "A", "quantity": "2"}]}).status == 400
    assert control(shop, "POST", "/_sandbox/orders", {"lines": [line("A", 1)], "financial_status": "x"}).status == 400
    assert control(shop, "POST", f"/_sandbox/orders/{oid}/lines/{sock}", {"quantity": "9"}).status == 400
    assert control(shop, "POST", f"/_sandbox/orders/{oid}/refunds", {"lines": [{"quantity": 1}]}).status == 400
    assert control(shop, "POST", "/_sandbox/webhooks/deliver", {}).status == 400
    assert control(shop, "GET", "/_sandbox/orders/x/nope").status == 404

    assert control(shop, "POST", "/_sandbox/reset").status == 200
    assert control(shop, "GET", "/_sandbox/orders").json() == {"orders": []}
    assert control(shop, "GET", "/_sandbox/webhooks").json() == {"webhooks": []}
    assert make(shop, line("A", 1))["name"] == "#1001"


def test_deliver_signs_and_posts_the_outbox_and_keeps_what_failed(shop: ShopifySandbox) -> None:
    received: list[httpx.Request] = []
    refuse = {"orders/paid"}

    def receiver(request: httpx.Request) -> httpx.Response:
        received.append(request)
        if request.headers["X-Shopify-Topic"] == "orders/cancelled":
            raise httpx.ConnectError("refused")
        return httpx.Response(500 if request.headers["X-Shopify-Topic"] in refuse else 200)

    shop.orders.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    order = make(shop, line("SOCK", 1, SOCK))
    queued = shop.orders.webhooks()

    result = control(shop, "POST", "/_sandbox/webhooks/deliver", {"url": HOOKS, "secret": "s3cret"}).json()

    assert [(d["topic"], d["status"]) for d in result["deliveries"]] == [("orders/create", 200), ("orders/paid", 500)]
    assert result["queued"] == 1
    for request, webhook in zip(received, queued, strict=True):
        assert str(request.url) == HOOKS
        assert verify(request.content, request.headers["X-Shopify-Hmac-Sha256"], ["s3cret"])
        assert request.headers["X-Shopify-Webhook-Id"] == webhook["id"]
        assert json.loads(request.content) == webhook["body"]
    assert [w["id"] for w in shop.orders.webhooks()] == [queued[1]["id"]]

    refuse.clear()
    shop.orders.cancel_order(order["id"])
    again = shop.orders.deliver_webhooks(HOOKS)  # the default secret: the local stack's

    assert [(d["topic"], d["status"]) for d in again["deliveries"]] == [
        ("orders/paid", 200),
        ("refunds/create", 200),
        ("orders/cancelled", None),
        ("orders/updated", 200),
    ]
    assert "ConnectError" in again["deliveries"][2]["error"]
    assert received[2].headers["X-Shopify-Webhook-Id"] == queued[1]["id"]  # a redelivery keeps its id
    assert verify(received[2].content, received[2].headers["X-Shopify-Hmac-Sha256"], [LOCAL_WEBHOOK_SECRET])
    assert [w["topic"] for w in shop.orders.webhooks()] == ["orders/cancelled"]


# ---- the product on top of the sandbox -------------------------------------------------------


def test_the_product_pages_orders_and_fulfils_once_through_the_sandbox(shop: ShopifySandbox, wall: Wall) -> None:
    made = []
    for _ in range(5):
        made.append(make(shop, line("SOCK", 2, SOCK), line("SHELL", 1, SHELL)))
        wall.advance(minutes=10)

    with httpx.Client(transport=shop.transport()) as http:
        endpoint = "https://omnistock-sandbox.myshopify.com/admin/api/2026-04/graphql.json"
        admin = ShopifyInventory("omnistock-sandbox.myshopify.com", TOKEN, endpoint=endpoint, client=http)
        orders = ShopifyOrders(admin, page_size=2)
        seen: list[int] = []
        after: str | None = None
        while True:
            nodes, after = orders.orders_since("2025-06-03T14:10:00.000Z", after)
            seen.extend(ids(nodes))
            if after is None:
                break

        target = made[1]
        sock = str(target["line_items"][0]["id"])
        request = FulfillmentRequest(target["admin_graphql_api_id"], {sock: 1}, "UPS", "Ground", "1Z42")
        first = orders.fulfil(request)
        repeat = orders.fulfil(request)

        large = ShopifyOrders(admin, page_size=250)  # too costly: the product halves its page
        everything, _ = large.orders_since("2025-06-03T00:00:00.000Z", None)

    assert seen == [order["id"] for order in made[1:]]
    assert orders.admin.calls >= 3
    assert first.startswith("gid://shopify/Fulfillment/")
    assert repeat == first
    [shipped] = shop.orders.fulfillments()
    assert [(item["id"], item["quantity"]) for item in shipped["line_items"]] == [(int(sock), 1)]
    assert shipped["tracking_number"] == "1Z42"
    assert shop.counters["fulfillments_created"] == 1
    assert shop.orders.order(target["id"])["fulfillment_status"] == "partial"
    assert large.page_size < 100
    assert len(everything) == 5
