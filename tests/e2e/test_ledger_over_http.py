"""The ledger end to end: HTTP through the local stack's gateway, stream, and schedule."""

from __future__ import annotations

import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.e2e.conftest import RunningStack


def new_sku(stack: RunningStack, units: int = 10, locations: tuple[str, ...] = ("shop",)) -> str:
    sku = f"E2E-{uuid.uuid4().hex[:8]}"
    assert stack.client.put(f"/skus/{sku}", json={"locations": list(locations)}).status_code == 200
    for location in locations:
        count = {"location": location, "on_hand": units, "version": 1, "event_id": f"{sku}-{location}-c1"}
        assert stack.client.post(f"/skus/{sku}/counts", json=count).status_code == 200
    return sku


def stock(stack: RunningStack, sku: str, location: str = "shop") -> dict[str, Any]:
    body = stack.client.get(f"/skus/{sku}").json()
    return next(level for level in body["locations"] if level["location"] == location)


def test_hold_sale_checkout_and_the_movement_log(stack: RunningStack) -> None:
    sku = new_sku(stack, 10)
    hold = {"hold_id": f"{sku}-cart", "sku": sku, "location": "shop", "qty": 3}
    assert stack.client.post("/holds", json=hold).status_code == 201
    assert stack.client.post("/holds", json=hold).json()["outcome"] == "duplicate"
    sale = {"location": "shop", "qty": 2, "event_id": "order-1", "source": "shopify"}
    assert stack.client.post(f"/skus/{sku}/sales", json=sale).status_code == 200
    assert stack.client.post(f"/skus/{sku}/sales", json=sale).json()["outcome"] == "duplicate"
    assert stack.client.post(f"/holds/{sku}-cart/checkout", json={"event_id": "co-1"}).status_code == 200

    level = stock(stack, sku)
    assert (level["on_hand"], level["held"], level["pending"], level["available"]) == (10, 0, 5, 5)

    stack.drain()
    movements = stack.client.get(f"/skus/{sku}/movements").json()["movements"]
    assert [m["kind"] for m in reversed(movements)] == ["count", "hold", "sale", "checkout"]
    assert movements[0]["before"]["held"] == 3 and movements[0]["after"]["pending"] == 5


def test_concurrent_claims_over_http_never_oversell(stack: RunningStack) -> None:
    sku = new_sku(stack, 12)

    def claim(n: int) -> int:
        body = {"hold_id": f"{sku}-{n}", "sku": sku, "location": "shop", "qty": 1}
        return stack.client.post("/holds", json=body).status_code

    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(claim, range(40)))
    assert statuses.count(201) == 12
    assert statuses.count(409) == 28
    assert stock(stack, sku)["available"] == 0


def test_expiry_schedule_returns_units(stack: RunningStack) -> None:
    sku = new_sku(stack, 4)
    soon = (datetime.now(UTC) + timedelta(seconds=1)).isoformat().replace("+00:00", "Z")
    hold = {"hold_id": f"{sku}-soon", "sku": sku, "location": "shop", "qty": 3, "expires_at": soon}
    assert stack.client.post("/holds", json=hold).status_code == 201
    assert stock(stack, sku)["available"] == 1
    time.sleep(1.2)
    stack.run_schedule("HoldExpiryFunction")
    assert stack.client.get(f"/holds/{sku}-soon").json()["state"] == "expired"
    assert stock(stack, sku)["available"] == 4


def test_channel_view_and_stale_count(stack: RunningStack) -> None:
    sku = new_sku(stack, 5, ("shop", "web"))
    assert stack.client.put("/channels/e2e-web", json={"locations": ["shop", "web"]}).status_code == 200
    assert stack.client.get(f"/channels/e2e-web/skus/{sku}").json()["available"] == 10
    late = {"location": "web", "on_hand": 99, "version": 0, "event_id": "late"}
    assert stack.client.post(f"/skus/{sku}/counts", json=late).json()["outcome"] == "stale"
    assert stack.client.get(f"/channels/e2e-web/skus/{sku}").json()["available"] == 10


def test_bad_input_over_http(stack: RunningStack) -> None:
    sku = new_sku(stack, 1)
    assert stack.client.post(f"/skus/{sku}/sales", content=b"{oops").status_code == 422
    assert stack.client.post(f"/skus/{sku}/sales", json={"location": "shop", "qty": "1"}).status_code == 422
    assert (
        stack.client.post("/skus/NOPE-404/sales", json={"location": "shop", "qty": 1, "event_id": "x"}).status_code
        == 404
    )
    assert stock(stack, sku)["available"] == 1
