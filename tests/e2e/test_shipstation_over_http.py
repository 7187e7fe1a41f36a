"""ShipStation's Custom Store URL on the local stack: an order from the Shopify sandbox is
exported to ShipStation, and ShipStation's shipment notice becomes one Shopify fulfillment."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from defusedxml.ElementTree import fromstring

from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from local.stack import LOCAL_SHIPSTATION_CREDENTIALS
from tests.e2e.conftest import RunningStack
from tests.e2e.test_shopify_loop import listed, place_order

pytestmark = pytest.mark.e2e
AUTH = (LOCAL_SHIPSTATION_CREDENTIALS["username"], LOCAL_SHIPSTATION_CREDENTIALS["password"])


def window() -> dict[str, str]:
    now = datetime.now(UTC)
    fmt = "%m/%d/%Y %H:%M"
    return {
        "start_date": (now - timedelta(minutes=5)).strftime(fmt),
        "end_date": (now + timedelta(minutes=1)).strftime(fmt),
    }


def test_export_then_shipnotify_reaches_shopify_once(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item_id = listed(stack, sandbox, 9)
    order = place_order(sandbox, sku, item_id, 2)
    stack.run_schedule("ShopifyPollFunction")
    url = f"{stack.url}/shipstation"
    assert httpx.get(url, params={"action": "export", **window()}).status_code == 401
    exported = httpx.get(url, params={"action": "export", **window()}, auth=AUTH)
    assert exported.status_code == 200 and exported.headers["content-type"].startswith("text/xml")
    root = fromstring(exported.content)
    mine = [o for o in root.findall("Order") if o.findtext("OrderID") == f"shopify:{order['id']}"]
    assert len(mine) == 1 and mine[0].findtext("OrderStatus") == "paid"
    line_id = mine[0].findtext("Items/Item/LineItemID")
    tracking = f"1Z{uuid.uuid4().hex[:12].upper()}"
    body = (
        f"<ShipNotice><OrderID>shopify:{order['id']}</OrderID><OrderNumber>{order['name']}</OrderNumber>"
        f"<Carrier>UPS</Carrier><Service>Ground</Service><TrackingNumber>{tracking}</TrackingNumber>"
        f"<Items><Item><LineItemID>{line_id}</LineItemID><SKU>{sku}</SKU><Name>n</Name><Quantity>2</Quantity></Item>"
        "</Items></ShipNotice>"
    )
    query = {"action": "shipnotify", "order_number": order["name"], "carrier": "UPS", "tracking_number": tracking}
    for _ in range(2):  # ShipStation sometimes sends the same notice twice
        notified = httpx.post(url, params=query, content=body, auth=AUTH)
        assert notified.status_code == 200, notified.text
    stack.drain()
    fulfillments = sandbox.get("/_sandbox/fulfillments").json()["fulfillments"]
    assert sum(tracking in str(f) for f in fulfillments) == 1
    stored = stack.client.get(f"/orders/shopify/{order['id']}").json()
    assert stored["status"] == "shipped" and stored["shipments"][0]["state"] == "sent"


def exported_status(stack: RunningStack, order: dict[str, Any]) -> str | None:
    answer = httpx.get(f"{stack.url}/shipstation", params={"action": "export", **window()}, auth=AUTH)
    found = [
        o for o in fromstring(answer.content).findall("Order") if o.findtext("OrderID") == f"shopify:{order['id']}"
    ]
    assert len(found) <= 1
    return found[0].findtext("OrderStatus") if found else None


def deliver_queued(stack: RunningStack, sandbox: httpx.Client, topic: str) -> None:
    queued = [w for w in sandbox.get("/_sandbox/webhooks").json()["webhooks"] if w["topic"] == topic]
    body = json.dumps(queued[-1]["body"]).encode()
    assert deliver(f"{stack.url}/webhooks/shopify", topic, body, LOCAL_WEBHOOK_SECRET).status_code == 200


def test_an_order_on_hold_in_shopify_is_never_exported_as_paid(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item_id = listed(stack, sandbox, 9)
    order = place_order(sandbox, sku, item_id, 1)
    sandbox.post(f"/_sandbox/orders/{order['id']}/hold", json={"held": True})  # held at once, by a fraud app
    deliver_queued(stack, sandbox, "orders/create")
    # The webhook's body cannot show a hold: ShipStation is not offered the order until the poll can say.
    assert exported_status(stack, order) is None
    deliver_queued(stack, sandbox, "fulfillment_orders/placed_on_hold")
    stack.run_schedule("ShopifyPollFunction")
    assert exported_status(stack, order) == "on_hold"
    deliver_queued(stack, sandbox, "orders/create")  # the REST body again (a redelivery): the hold stands
    assert exported_status(stack, order) == "on_hold"
    sandbox.post(f"/_sandbox/orders/{order['id']}/hold", json={"held": False})
    deliver_queued(stack, sandbox, "fulfillment_orders/hold_released")
    stack.run_schedule("ShopifyPollFunction")
    assert exported_status(stack, order) == "paid"
