"""Web orders into Lightspeed through the local stack: the setting switched on through the admin
API, a Shopify order's webhook (delivered twice) becomes one sale in the Lightspeed sandbox by the
POS-sales function reading the table's stream; the POS's echo and count leave nothing pending; an
answer lost after the POS committed is recovered by the schedule without a second sale."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from cli.__main__ import main as cli
from local.sandbox.lightspeed import WEB_PAYMENT_TYPE, WEB_USER
from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver
from tests.e2e.conftest import SHOPIFY_LOCATION, RunningStack
from tests.e2e.test_pos_master import OUTLET, deliver_pos_webhooks, shop, stocked

pytestmark = pytest.mark.e2e


def web_orders_set(stack: RunningStack, **chosen: object) -> Iterator[None]:
    """lightspeed.web_orders as ``chosen`` for one test; then off again (the other tests' POS
    imports web orders by itself)."""
    value = {"registers": {"shop": f"register-{OUTLET}"}, "user_id": WEB_USER, "payment_type_id": WEB_PAYMENT_TYPE}
    answer = stack.client.put("/settings/lightspeed.web_orders", json={"value": value | chosen})
    assert answer.status_code == 200, answer.text
    try:
        yield
    finally:
        stack.client.put("/settings/lightspeed.web_orders", json={"value": {"mode": "off"}})


@pytest.fixture
def importing(stack: RunningStack, pos: httpx.Client) -> Iterator[None]:
    yield from web_orders_set(stack, mode="automatic")


@pytest.fixture(scope="module")
def pos(stack: RunningStack) -> httpx.Client:
    url = stack.client.get("/_local/health").json()["lightspeed_sandbox"]
    return httpx.Client(base_url=f"{url}/_sandbox/lightspeed", timeout=10)


def web_order(stack: RunningStack, sandbox: httpx.Client, sku: str, item_id: int, quantity: int) -> dict[str, Any]:
    line = {"sku": sku, "quantity": quantity, "inventory_item_id": item_id}
    body = {"lines": [line], "location": SHOPIFY_LOCATION, "shipping": {"title": "Standard", "price": "4.00"}}
    order: dict[str, Any] = sandbox.post("/_sandbox/orders", json=body).json()
    queued = [w for w in sandbox.get("/_sandbox/webhooks").json()["webhooks"] if w["topic"] == "orders/create"]
    created = json.dumps(next(w["body"] for w in queued if w["body"]["id"] == order["id"])).encode()
    for _ in range(2):  # Shopify delivers it twice
        assert (
            deliver(f"{stack.url}/webhooks/shopify", "orders/create", created, LOCAL_WEBHOOK_SECRET).status_code == 200
        )
    return order


def ours(pos: httpx.Client, order: dict[str, Any]) -> list[dict[str, Any]]:
    sales: list[dict[str, Any]] = pos.get("/sales-from", params={"source": "omnistock"}).json()["sales"]
    return [s for s in sales if s["source_id"] == str(order["id"])]


def test_a_web_order_becomes_one_pos_sale_and_nothing_stays_pending(
    stack: RunningStack, pos: httpx.Client, sandbox: httpx.Client, importing: None
) -> None:
    sku, _product, item_id = stocked(stack, pos, sandbox, 10)
    assert set(deliver_pos_webhooks(stack, pos)) == {200}
    order = web_order(stack, sandbox, sku, item_id, 2)
    stack.drain()
    (sale,) = ours(pos, order)
    assert sale["invoice_number"] == str(order["name"]).lstrip("#") and sale["status"] == "CLOSED"
    assert [line["quantity"] for line in sale["line_items"]] == [2, 1]  # the units, and the shipping line
    assert set(deliver_pos_webhooks(stack, pos, reverse=True, duplicate_every=2)) == {200}
    assert shop(stack, sku) == {"on_hand": 8, "pending": 0, "available": 8}
    detail = stack.client.get(f"/orders/shopify/{order['id']}").json()
    (written,) = detail["pos_sales"]
    assert written["state"] == "created" and written["confirmed"] and written["sale_id"] == sale["id"]


def test_an_answer_lost_after_the_pos_committed_makes_no_second_sale(
    stack: RunningStack, pos: httpx.Client, sandbox: httpx.Client, importing: None
) -> None:
    sku, _product, item_id = stocked(stack, pos, sandbox, 5)
    assert set(deliver_pos_webhooks(stack, pos)) == {200}
    pos.post("/faults/lose-answers", json={"n": 1})
    order = web_order(stack, sandbox, sku, item_id, 1)
    stack.drain()
    assert len(ours(pos, order)) == 1  # committed; the answer was lost, so the units still wait
    assert shop(stack, sku)["pending"] == 1
    assert stack.client.get(f"/orders/shopify/{order['id']}").json()["pos_sales"][0]["state"] == "calling"
    assert stack.run_schedule("PosSalesFunction")["results"] == {"imported": 1}
    assert len(ours(pos, order)) == 1
    assert set(deliver_pos_webhooks(stack, pos)) == {200}
    assert shop(stack, sku) == {"on_hand": 4, "pending": 0, "available": 4}


@pytest.fixture
def by_hand(stack: RunningStack, pos: httpx.Client) -> Iterator[None]:
    yield from web_orders_set(stack, mode="by_hand", shipping_only=False)


def imported(stack: RunningStack, body: dict[str, Any]) -> dict[str, Any]:
    started = stack.client.post("/pos-sales/imports", json=body)
    assert started.status_code == 202, started.text
    stack.drain()
    job: dict[str, Any] = stack.client.get(f"/pos-sales/imports/{started.json()['job_id']}").json()
    assert job["state"] == "done" and job["purpose"] == "pos_import", job
    return job


def test_importing_by_hand_takes_in_orders_omnistock_never_saw_and_writes_each_once(
    stack: RunningStack, pos: httpx.Client, sandbox: httpx.Client, by_hand: None, capsys: pytest.CaptureFixture[str]
) -> None:
    since = (datetime.now(UTC) - timedelta(seconds=2)).isoformat()
    sku, _product, item_id = stocked(stack, pos, sandbox, 10)
    assert set(deliver_pos_webhooks(stack, pos)) == {200}
    seen = web_order(stack, sandbox, sku, item_id, 1)  # its webhook came: by hand, it waits
    stack.drain()
    assert ours(pos, seen) == []
    line = {"sku": sku, "quantity": 2, "inventory_item_id": item_id}
    unseen = sandbox.post("/_sandbox/orders", json={"lines": [line], "location": SHOPIFY_LOCATION}).json()
    job = imported(stack, {"scope": "all", "since": since})  # no webhook for this one: read from Shopify
    assert job["reasons"].get("imported", 0) >= 2 and job["applied"] >= 2, job  # (an earlier test's order may be in it)
    assert len(ours(pos, seen)) == 1 and len(ours(pos, unseen)) == 1
    # again, as a script would: the CLI follows the job and says what became of the orders
    argv = ["import-orders", "all", "--since", since, "--url", stack.url, "--token", stack.dev_token, "--timeout", "60"]
    assert cli(argv) == 0
    said = capsys.readouterr().out
    assert "web orders into the POS:" in said and "unchanged" in said and "imported" not in said, said
    assert len(ours(pos, seen)) == 1 and len(ours(pos, unseen)) == 1
    assert set(deliver_pos_webhooks(stack, pos)) == {200}
    assert shop(stack, sku) == {"on_hand": 7, "pending": 0, "available": 7}
    too_old = stack.client.post("/pos-sales/imports", json={"since": "2020-01-01T00:00:00Z"})
    assert too_old.status_code == 400 and "read_all_orders" in too_old.text
