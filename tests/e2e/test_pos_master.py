"""The POS as master through the local stack: the Lightspeed sandbox's signed webhooks (delivered
newest first, some twice) set the shop's counts; a Shopify order stays pending until the POS
imports it and a count includes it, so it is counted once; the poll makes up for webhooks that
never came, waits out a 429 and refreshes a rotated token."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx
import pytest

from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from local.stack import LOCAL_LIGHTSPEED_OUTLETS
from tests.e2e.conftest import SHOPIFY_LOCATION, RunningStack

pytestmark = pytest.mark.e2e
OUTLET = next(iter(LOCAL_LIGHTSPEED_OUTLETS))


@pytest.fixture(scope="module")
def pos(stack: RunningStack) -> httpx.Client:
    url = stack.client.get("/_local/health").json()["lightspeed_sandbox"]
    return httpx.Client(base_url=f"{url}/_sandbox/lightspeed", timeout=10)


def deliver_pos_webhooks(stack: RunningStack, pos: httpx.Client, **how: Any) -> list[int]:
    answer = pos.post("/webhooks/deliver", json={"url": f"{stack.url}/webhooks/lightspeed", **how})
    assert answer.status_code == 200, answer.text
    statuses: list[int] = answer.json()["statuses"]
    return statuses


def shop(stack: RunningStack, sku: str) -> dict[str, int]:
    (level,) = [loc for loc in stack.client.get(f"/skus/{sku}").json()["locations"] if loc["location"] == "shop"]
    return {key: level[key] for key in ("on_hand", "pending", "available")}


def stocked(stack: RunningStack, pos: httpx.Client, sandbox: httpx.Client, on_hand: int) -> tuple[str, str, int]:
    """A SKU listed on Shopify and stocked in the POS's outlet; its POS webhooks delivered."""
    sku = f"POS-{uuid.uuid4().hex[:8]}"
    item_id = uuid.uuid4().int % 10**9
    item = f"gid://shopify/InventoryItem/{item_id}"
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": SHOPIFY_LOCATION, "available": on_hand})
    body = {"locations": ["shop"], "listings": {"shopify": item}}
    assert stack.client.put(f"/skus/{sku}", json=body).status_code == 200
    product = pos.post("/products", json={"sku": sku, "counts": {OUTLET: on_hand}}).json()["id"]
    return sku, product, item_id


def test_a_web_order_the_pos_imports_is_counted_once(
    stack: RunningStack, pos: httpx.Client, sandbox: httpx.Client
) -> None:
    sku, product, item_id = stocked(stack, pos, sandbox, 10)
    assert set(deliver_pos_webhooks(stack, pos, reverse=True, duplicate_every=2)) == {200}
    assert shop(stack, sku) == {"on_hand": 10, "pending": 0, "available": 10}

    line = {"sku": sku, "quantity": 2, "inventory_item_id": item_id}
    order = sandbox.post("/_sandbox/orders", json={"lines": [line], "location": SHOPIFY_LOCATION}).json()
    queued = [w for w in sandbox.get("/_sandbox/webhooks").json()["webhooks"] if w["topic"] == "orders/create"]
    created = json.dumps(next(w["body"] for w in queued if w["body"]["id"] == order["id"])).encode()
    assert deliver(f"{stack.url}/webhooks/shopify", "orders/create", created, LOCAL_WEBHOOK_SECRET).status_code == 200
    assert shop(stack, sku) == {"on_hand": 10, "pending": 2, "available": 8}

    pos.post("/sales", json={"outlet_id": OUTLET, "lines": [[product, 1]]})  # a till sale
    number = str(order["name"]).lstrip("#")  # the POS keeps the web order's number as the receipt number
    pos.post("/web-orders", json={"outlet_id": OUTLET, "lines": [[product, 2]], "order_number": number})
    # Newest first, some twice: the count that includes the import comes before the import's sale
    # and before the older count; nothing may come back, and the web units must end counted once.
    assert set(deliver_pos_webhooks(stack, pos, reverse=True, duplicate_every=2)) == {200}
    assert pos.get("/count", params={"product_id": product, "outlet_id": OUTLET}).json()["count"] == 7
    assert shop(stack, sku) == {"on_hand": 7, "pending": 0, "available": 7}
    moves = stack.client.get(f"/skus/{sku}/movements", params={"limit": 50}).json()["movements"]
    assert sum(1 for m in moves if m["source"] == "lightspeed" and m["kind"] == "sale") == 2  # logged once each


def test_the_poll_completes_what_webhooks_missed_through_a_429_and_a_token_refresh(
    stack: RunningStack, pos: httpx.Client, sandbox: httpx.Client
) -> None:
    sku, product, _ = stocked(stack, pos, sandbox, 6)
    pos.post("/sales", json={"outlet_id": OUTLET, "lines": [[product, 2]]})
    stack.run_schedule("LightspeedPollFunction")  # the feeds from the start: everything so far
    pos.post("/count", json={"product_id": product, "outlet_id": OUTLET, "count": 11})  # a recount; no webhook
    pos.post("/faults/throttle", json={"n": 1, "retry_after_seconds": 1})
    limited = stack.run_schedule("LightspeedPollFunction")
    assert "rate_limited_until" in limited, limited
    assert shop(stack, sku)["on_hand"] == 4
    time.sleep(2.1)  # the Retry-After date is whole seconds, rounded up
    pos.post("/expire-token")
    refreshes = pos.get("/counters").json()["counters"]["refreshes"]
    polled = stack.run_schedule("LightspeedPollFunction")
    assert polled.get("polled") is True and "rate_limited_until" not in polled, polled
    assert shop(stack, sku) == {"on_hand": 11, "pending": 0, "available": 11}
    assert pos.get("/counters").json()["counters"]["refreshes"] == refreshes + 1
    assert stack.run_schedule("LightspeedPollFunction")["polled"] is True  # the stored, rotated token works


def test_unsigned_forged_and_malformed_deliveries_change_nothing(stack: RunningStack) -> None:
    url = f"{stack.url}/webhooks/lightspeed"
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    body = b"payload=%7B%22product_id%22%3A%22p%22%2C%22outlet_id%22%3A%22o%22%2C%22count%22%3A5%2C%22version%22%3A9%7D"
    assert httpx.post(url, content=body, headers=form).status_code == 401
    forged = form | {"X-Signature": "signature=" + "0" * 64 + ",algorithm=HMAC-SHA256"}
    assert httpx.post(url, content=body, headers=forged).status_code == 401
