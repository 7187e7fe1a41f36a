"""A live sale through the local stack: CommentSold's signed webhooks (claims, a checkout)
become holds and an order, and the CommentSold sandbox is kept at the shelf the ledger lets it
have (what it may sell plus what its carts hold)."""

from __future__ import annotations

import time
import uuid

import httpx
import pytest

from local.stack import LOCAL_COMMENTSOLD_SECRET
from tests.e2e.conftest import RunningStack, live_channel

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def commentsold(stack: RunningStack) -> httpx.Client:
    url = stack.client.get("/_local/health").json()["commentsold_sandbox"]
    body = {"locations": ["shop"], "platform": "commentsold"}
    live_channel(stack.client, "commentsold", body)
    return httpx.Client(base_url=f"{url}/_sandbox/commentsold", timeout=10)


def level(commentsold: httpx.Client, variant: int) -> dict[str, int]:
    found = [v for v in commentsold.get("/inventory").json()["levels"] if int(v["variant_id"]) == variant]
    return found[0] if found else {}


def wait_for_shelf(commentsold: httpx.Client, variant: int, shelf: int, timeout: float = 15) -> None:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if level(commentsold, variant).get("shelf") == shelf:
            return
        time.sleep(0.05)
    raise AssertionError(f"CommentSold shows {level(commentsold, variant)}, not shelf {shelf}")


def test_claims_and_a_checkout_keep_commentsold_at_its_shelf(stack: RunningStack, commentsold: httpx.Client) -> None:
    variant = uuid.uuid4().int % 10**8
    sku = f"LIVE-{variant}"
    commentsold.post("/stock", json={"variant_id": variant, "shelf": 0})
    assert (
        stack.client.put(
            f"/skus/{sku}", json={"locations": ["shop"], "listings": {"commentsold": str(variant)}}
        ).status_code
        == 200
    )
    count = {"location": "shop", "on_hand": 5, "version": 1, "event_id": f"c-{sku}"}
    assert stack.client.post(f"/skus/{sku}/counts", json=count).status_code == 200
    wait_for_shelf(commentsold, variant, 5)
    reservation = commentsold.post("/claim", json={"variant_id": variant, "quantity": 2}).json()["reservation"]
    deliver = {"url": f"{stack.url}/webhooks/commentsold", "secret": LOCAL_COMMENTSOLD_SECRET}
    delivered = commentsold.post("/deliver", json=deliver).json()
    assert all(d["status"] == 200 for d in delivered["deliveries"]), delivered
    stock = stack.client.get(f"/skus/{sku}").json()["locations"][0]
    assert (stock["held"], stock["available"]) == (2, 3)
    commentsold.post("/checkout", json={"reservation_ids": [reservation["id"]]})
    commentsold.post("/deliver", json=deliver)
    stock = stack.client.get(f"/skus/{sku}").json()["locations"][0]
    assert (stock["held"], stock["pending"], stock["available"]) == (0, 2, 3)
    stack.drain()
    wait_for_shelf(commentsold, variant, 3)  # what it may sell; no carts left
    assert level(commentsold, variant)["total_available_quantity"] == 3
