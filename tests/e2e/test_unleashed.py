"""Unleashed through the local stack: the sandbox started by the stack, its stock on hand read by
the poll's schedule as master counts for the mapped warehouse, each call signed and counted, and
the connection check saying how much of the month's budget is used."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def erp(stack: RunningStack) -> httpx.Client:
    url = stack.client.get("/_local/health").json()["unleashed_sandbox"]
    assert url, "make local starts an Unleashed sandbox"
    return httpx.Client(base_url=f"{url}/_sandbox/unleashed", timeout=10)


def test_the_poll_makes_unleashed_stock_the_warehouses_count(stack: RunningStack, erp: httpx.Client) -> None:
    sku = f"ERP-{uuid.uuid4().hex[:8]}"
    assert stack.client.put(f"/skus/{sku}", json={"locations": ["warehouse"]}).status_code == 200
    assert erp.post("/products", json={"code": sku, "stock": {"MAIN": 12}}).status_code == 200
    calls = sum(erp.get("/counters").json()["counters"]["calls"].values())
    result = stack.run_schedule("UnleashedPollFunction")
    assert result["polled"] is True and result["applied"] >= 1, result
    (level,) = stack.client.get(f"/skus/{sku}").json()["locations"]
    assert (level["location"], level["on_hand"], level["available"]) == ("warehouse", 12, 12)
    assert erp.post("/stock", json={"code": sku, "warehouse": "MAIN", "allocated": 5}).status_code == 200
    stack.run_schedule("UnleashedPollFunction")
    (level,) = stack.client.get(f"/skus/{sku}").json()["locations"]
    assert level["on_hand"] == 7  # what the warehouse can still sell
    made = sum(erp.get("/counters").json()["counters"]["calls"].values())
    assert made == calls + 4  # each poll: a page of stock and one of shipments
    checks = {c["name"]: c for c in stack.client.get("/connections").json()["checks"] if c["platform"] == "unleashed"}
    assert "calls this month" in checks["monthly calls"]["detail"] and checks["warehouses"]["ok"]


def test_unleashed_as_product_master_lists_its_products_in_shopify(
    stack: RunningStack, erp: httpx.Client, sandbox: httpx.Client
) -> None:
    sku = f"MADE-{uuid.uuid4().hex[:8]}"
    answer = stack.client.put("/settings/unleashed.product_master", json={"value": "both"})
    assert answer.status_code == 400  # one way only
    assert stack.client.put("/settings/unleashed.product_master", json={"value": "unleashed"}).status_code == 200
    try:
        assert erp.post("/products", json={"code": sku, "stock": {"MAIN": 3}}).status_code == 200
        edit = {"code": sku, "description": "Made in the ERP", "price": 9.5}  # staff edit it in Unleashed
        assert erp.post("/product", json=edit).status_code == 200
        result = stack.run_schedule("UnleashedPollFunction")
        assert result["products"]["mode"] == "unleashed" and result["products"].get("written", 0) >= 1, result
        stock = stack.client.get(f"/skus/{sku}").json()
        entry = stock["catalog"]
        assert entry["title"] == "Made in the ERP" and entry["listings"]["shopify"].startswith("gid://shopify/")
        (level,) = stock["locations"]
        assert (level["location"], level["on_hand"]) == ("warehouse", 3)  # its count follows it in
    finally:
        stack.client.put("/settings/unleashed.product_master", json={"value": "off"})
