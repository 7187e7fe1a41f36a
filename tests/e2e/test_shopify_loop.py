"""The whole Shopify loop through the local stack: an order placed in the Shopify sandbox
arrives as a signed webhook (and, when the webhook never comes, through the order poll),
takes its units once, and a shipment recorded in Omnistock becomes one Shopify fulfillment."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import pytest

from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from tests.e2e.conftest import SHOPIFY_LOCATION, RunningStack

pytestmark = pytest.mark.e2e
LOCATION = SHOPIFY_LOCATION


def listed(stack: RunningStack, sandbox: httpx.Client, on_hand: int) -> tuple[str, int]:
    sku = f"LOOP-{uuid.uuid4().hex[:8]}"
    item_id = uuid.uuid4().int % 10**9
    item = f"gid://shopify/InventoryItem/{item_id}"
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": LOCATION, "available": on_hand})
    assert (
        stack.client.put(f"/skus/{sku}", json={"locations": ["shop"], "listings": {"shopify": item}}).status_code == 200
    )
    count = {"location": "shop", "on_hand": on_hand, "version": 1, "event_id": f"count-{sku}"}
    assert stack.client.post(f"/skus/{sku}/counts", json=count).status_code == 200
    return sku, item_id


def place_order(sandbox: httpx.Client, sku: str, item_id: int, quantity: int) -> dict[str, Any]:
    line = {"sku": sku, "quantity": quantity, "inventory_item_id": item_id}
    response = sandbox.post("/_sandbox/orders", json={"lines": [line], "location": LOCATION})
    assert response.status_code == 200, response.text
    order: dict[str, Any] = response.json()
    return order


def available(stack: RunningStack, sku: str) -> int:
    return int(stack.client.get(f"/channels/shopify/skus/{sku}").json()["available"])


def test_a_signed_order_webhook_takes_its_units_once(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item_id = listed(stack, sandbox, 10)
    order = place_order(sandbox, sku, item_id, 2)
    queued = [w for w in sandbox.get("/_sandbox/webhooks").json()["webhooks"] if w["topic"] == "orders/create"]
    body = json.dumps(queued[-1]["body"]).encode()
    url = f"{stack.url}/webhooks/shopify"
    webhook_id = str(uuid.uuid4())
    for _ in range(2):  # Shopify redelivers with the same webhook id
        response = deliver(url, "orders/create", body, LOCAL_WEBHOOK_SECRET, webhook_id=webhook_id)
        assert response.status_code == 200, response.text
    assert available(stack, sku) == 8
    stored = stack.client.get(f"/orders/shopify/{order['id']}").json()
    assert stored["status"] == "awaiting_shipment"
    assert [(line["sku"], line["taken"]) for line in stored["lines"]] == [(sku, 2)]


def test_a_bad_signature_is_refused_and_stores_nothing(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item_id = listed(stack, sandbox, 5)
    order = place_order(sandbox, sku, item_id, 1)
    body = json.dumps(order).encode()
    url = f"{stack.url}/webhooks/shopify"
    assert deliver(url, "orders/create", body, "not-the-secret").status_code == 401
    unsigned = httpx.post(url, content=body, headers={"X-Shopify-Topic": "orders/create"})
    assert unsigned.status_code == 401
    assert deliver(url, "orders/create", b"{not json", LOCAL_WEBHOOK_SECRET).status_code == 400
    assert stack.client.get(f"/orders/shopify/{order['id']}").status_code == 404
    assert available(stack, sku) == 5
    assert deliver(url, "shop/update", b"{}", LOCAL_WEBHOOK_SECRET).json()["result"] == "ignored"


def test_the_poll_makes_up_for_a_webhook_that_never_came(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item_id = listed(stack, sandbox, 6)
    order = place_order(sandbox, sku, item_id, 3)  # its webhook is never delivered
    result = stack.run_schedule("ShopifyPollFunction")
    assert result["polled"] is True and result["orders"] >= 1
    assert available(stack, sku) == 3
    stack.run_schedule("ShopifyPollFunction")  # the overlap reads it again: nothing twice
    assert available(stack, sku) == 3
    assert stack.client.get(f"/orders/shopify/{order['id']}").json()["lines"][0]["taken"] == 3


def test_a_shipment_becomes_one_fulfillment_with_tracking(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item_id = listed(stack, sandbox, 4)
    order = place_order(sandbox, sku, item_id, 2)
    stack.run_schedule("ShopifyPollFunction")
    shipment = {"shipment_id": f"ship-{order['id']}", "carrier": "UPS", "tracking_number": "1Z999AA10123456784"}
    path = f"/orders/shopify/{order['id']}/shipments"
    first = stack.client.post(path, json=shipment)
    assert first.status_code == 201, first.text
    assert stack.client.post(path, json=shipment).json()["outcome"] == "duplicate"
    stack.drain()
    mine = [
        f for f in sandbox.get("/_sandbox/fulfillments").json()["fulfillments"] if str(order["id"]) in json.dumps(f)
    ]
    assert len(mine) == 1, mine
    stored = stack.client.get(f"/orders/shopify/{order['id']}").json()
    assert stored["status"] == "shipped"
    assert stored["shipments"][0]["state"] == "sent" and stored["shipments"][0]["fulfillment_id"]
