"""SKU names that need encoding in a path, over HTTP through the local stack: the handler gets
the name decoded (as from API Gateway), so a Shopify order naming the SKU takes its units."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote

import httpx
import pytest

from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from tests.e2e.conftest import SHOPIFY_LOCATION, RunningStack

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("prefix", ["TEE BLUE", "CAF\u00c9+\u00df"])
def test_a_sku_named_in_the_path_takes_a_shopify_order(stack: RunningStack, sandbox: httpx.Client, prefix: str) -> None:
    sku = f"{prefix} {uuid.uuid4().hex[:6]}"
    path = f"/skus/{quote(sku, safe='')}"
    item_id = uuid.uuid4().int % 10**9
    item = f"gid://shopify/InventoryItem/{item_id}"
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": SHOPIFY_LOCATION, "available": 5})
    assert stack.client.put(path, json={"locations": ["shop"], "listings": {"shopify": item}}).status_code == 200
    count = {"location": "shop", "on_hand": 5, "version": 1, "event_id": f"count-{uuid.uuid4().hex}"}
    assert stack.client.post(f"{path}/counts", json=count).status_code == 200
    assert stack.client.get(path).json()["sku"] == sku

    line = {"sku": sku, "quantity": 2, "inventory_item_id": item_id}
    placed = sandbox.post("/_sandbox/orders", json={"lines": [line], "location": SHOPIFY_LOCATION})
    assert placed.status_code == 200, placed.text
    queued = [w for w in sandbox.get("/_sandbox/webhooks").json()["webhooks"] if w["topic"] == "orders/create"]
    body = json.dumps(queued[-1]["body"]).encode()
    answer = deliver(f"{stack.url}/webhooks/shopify", "orders/create", body, LOCAL_WEBHOOK_SECRET)
    assert answer.status_code == 200, answer.text
    assert stack.client.get(path).json()["available"] == 3
