"""Stock changes reach the Shopify sandbox through the stream, the push function and the
Shopify adapter, as a deployed stack would push to a real shop."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningStack, live_channel

pytestmark = pytest.mark.e2e
LOCATION = "gid://shopify/Location/9001"


@pytest.fixture(scope="module")
def sandbox(stack: RunningStack) -> httpx.Client:
    url = stack.client.get("/_local/health").json()["shopify_sandbox"]
    live_channel(
        stack.client, "shopify", {"locations": ["shop", "web"], "platform": "shopify", "target_location": LOCATION}
    )
    return httpx.Client(base_url=url, timeout=10)


def listed_sku(stack: RunningStack, sandbox: httpx.Client, shown: int = 0) -> tuple[str, str]:
    sku = f"PUSH-{uuid.uuid4().hex[:8]}"
    item = f"gid://shopify/InventoryItem/{uuid.uuid4().int % 10**9}"
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": LOCATION, "available": shown})
    body = {"locations": ["shop", "web"], "listings": {"shopify": item}}
    assert stack.client.put(f"/skus/{sku}", json=body).status_code == 200
    return sku, item


def shown(sandbox: httpx.Client, item: str) -> Any:
    for level in sandbox.get("/_sandbox/inventory").json()["levels"]:
        if level["item"] == item and level["location"] == LOCATION:
            return level["available"]
    return None


def wait_for(sandbox: httpx.Client, item: str, expected: int, timeout: float = 15) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if shown(sandbox, item) == expected:
            return time.monotonic() - started
        time.sleep(0.05)
    raise AssertionError(f"the sandbox shows {shown(sandbox, item)}, not {expected}")


def test_counts_holds_and_policies_reach_the_channel(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item = listed_sku(stack, sandbox)
    stack.client.post(f"/skus/{sku}/counts", json={"location": "shop", "on_hand": 7, "version": 1, "event_id": "c1"})
    wait_for(sandbox, item, 7)
    stack.client.post("/holds", json={"hold_id": f"{sku}-cart", "sku": sku, "location": "shop", "qty": 2})
    wait_for(sandbox, item, 5)  # lowering: immediate
    stack.client.put(f"/skus/{sku}/channels/shopify", json={"buffer": 1})
    wait_for(sandbox, item, 4)
    stack.client.post(f"/holds/{sku}-cart/release", json={"event_id": "rm-1"})
    wait_for(sandbox, item, 6)  # raising: compare-and-set against the 4 it pushed
    deadline = time.monotonic() + 10  # the outcome is recorded just after the channel answers
    while True:
        history = stack.client.get("/sync-history", params={"sku": sku}).json()["entries"]
        applied = [entry["after"] for entry in reversed(history) if entry["result"] == "applied"]
        if applied == [7, 5, 4, 6] or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert applied == [7, 5, 4, 6]
    assert {entry["result"] for entry in history} == {"sending", "applied"}


def test_a_sale_on_the_channel_is_not_overwritten_by_a_raise(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item = listed_sku(stack, sandbox)
    stack.client.post(f"/skus/{sku}/counts", json={"location": "shop", "on_hand": 5, "version": 1, "event_id": "c1"})
    wait_for(sandbox, item, 5)
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": LOCATION, "available": 4})  # sold there
    stack.client.post(f"/skus/{sku}/restocks", json={"location": "shop", "qty": 2, "event_id": "r1"})
    stack.drain()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        history = stack.client.get("/sync-history", params={"sku": sku}).json()["entries"]
        if any(entry["result"] == "deferred" for entry in history):
            break
        time.sleep(0.1)
    assert any(entry["result"] == "deferred" and entry["after"] == 7 for entry in history)
    assert shown(sandbox, item) == 4


def test_sync_now_forces_every_listed_sku(stack: RunningStack, sandbox: httpx.Client) -> None:
    skus = [listed_sku(stack, sandbox) for _ in range(3)]
    for sku, item in skus:
        stack.client.post(f"/skus/{sku}/counts", json={"location": "web", "on_hand": 3, "version": 1, "event_id": "c"})
        wait_for(sandbox, item, 3)
        # Someone edits the number in the shop's admin: only a forced push repairs it.
        sandbox.post("/_sandbox/inventory", json={"item": item, "location": LOCATION, "available": 99})
    job = stack.client.post("/sync-now", json={"channel": "shopify", "skus": [sku for sku, _ in skus]})
    assert job.status_code == 202
    job_id = job.json()["job_id"]
    deadline = time.monotonic() + 20
    while stack.client.get(f"/sync-now/{job_id}").json()["state"] != "done":
        assert time.monotonic() < deadline, "the sync job did not finish"
        time.sleep(0.1)
    progress = stack.client.get(f"/sync-now/{job_id}").json()
    assert (progress["done"], progress["total"]) == (3, 3)
    assert [shown(sandbox, item) for _, item in skus] == [3, 3, 3]


def test_the_cli_drives_sync_now_with_a_progress_bar(stack: RunningStack, sandbox: httpx.Client) -> None:
    import subprocess

    from tests.helpers import ROOT

    sku, item = listed_sku(stack, sandbox)
    stack.client.post(f"/skus/{sku}/counts", json={"location": "shop", "on_hand": 2, "version": 1, "event_id": "c"})
    wait_for(sandbox, item, 2)
    sandbox.post("/_sandbox/inventory", json={"item": item, "location": LOCATION, "available": 50})
    command = [str(ROOT / "bin" / "omnistock"), "sync-now", "--url", stack.url, "--token", stack.dev_token]
    command += ["--channel", "shopify", "--sku", sku]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert "1/1 SKUs  pushed 1  failed 0" in done.stderr
    assert shown(sandbox, item) == 2


def test_the_reconcile_schedule_repairs_a_failed_push(stack: RunningStack, sandbox: httpx.Client) -> None:
    sku, item = listed_sku(stack, sandbox)
    sandbox.post("/_sandbox/faults", json={"fail_next": 60, "status": 503})  # outlasts every retry
    stack.client.post(f"/skus/{sku}/counts", json={"location": "shop", "on_hand": 3, "version": 1, "event_id": "c"})
    stack.drain(timeout=60)
    assert shown(sandbox, item) == 0
    sandbox.post("/_sandbox/faults", json={"fail_next": 0})
    result = stack.run_schedule("ReconcileFunction")
    assert result["shopify"]["repaired"] >= 1
    assert shown(sandbox, item) == 3


def test_pushes_authenticate_as_a_dev_dashboard_app(stack: RunningStack, sandbox: httpx.Client) -> None:
    """The local stack stores the app's client id and secret, as a new retailer does: every
    token the functions send was issued by the sandbox's client credentials grant."""
    sku, item = listed_sku(stack, sandbox)
    stack.client.post(f"/skus/{sku}/counts", json={"location": "shop", "on_hand": 3, "version": 1, "event_id": "c1"})
    wait_for(sandbox, item, 3)
    counters = sandbox.get("/_sandbox/counters").json()["counters"]
    assert counters["grants"] >= 1 and counters["unauthorized"] == 0


def test_the_cli_imports_the_shops_catalog_and_reports_what_only_one_side_has(
    stack: RunningStack, sandbox: httpx.Client
) -> None:
    import subprocess
    import uuid

    from tests.helpers import ROOT

    tag = uuid.uuid4().hex[:6].upper()
    made = sandbox.post("/_sandbox/products", json={"title": "Scarf", "variants": [{"sku": f"SCARF-{tag}"}]})
    item = made.json()["variants"][0]["item"]
    sandbox.post("/_sandbox/products", json={"title": "Twin", "variants": [{"sku": f"TWIN-{tag}"}] * 2})
    assert stack.client.put(f"/skus/SCARF-{tag}", json={"locations": ["shop"]}).status_code == 200
    command = [str(ROOT / "bin" / "omnistock"), "import-from", "shopify", "--url", stack.url]
    command += ["--token", stack.dev_token, "--timeout", "60"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=90, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "imported:" in done.stdout and f"TWIN-{tag}" in done.stdout and "duplicate:" in done.stdout
    assert stack.client.get(f"/skus/SCARF-{tag}").json()["catalog"]["listings"] == {"shopify": item}
    assert stack.client.get(f"/skus/TWIN-{tag}").status_code == 404  # not added: --add-new was not given


def test_the_keeper_subscribes_the_shop_to_this_stack_and_the_doctor_says_so(
    stack: RunningStack, sandbox: httpx.Client
) -> None:
    result = stack.run_schedule("ShopifySubscriptionsFunction")
    assert result["checked"] and result["missing"] == [], result
    subscribed = sandbox.get("/_sandbox/subscriptions").json()["subscriptions"]
    assert {s["uri"] for s in subscribed} == {f"{stack.url}/webhooks/shopify"} and len(subscribed) == 11
    checks = {(c["platform"], c["name"]): c for c in stack.client.get("/connections").json()["checks"]}
    assert checks[("shopify", "webhook subscriptions")]["ok"], checks[("shopify", "webhook subscriptions")]


def test_sync_now_names_what_failed_and_the_cli_reads_stock_and_history(
    stack: RunningStack, sandbox: httpx.Client
) -> None:
    import subprocess

    from tests.helpers import ROOT

    sku, item = listed_sku(stack, sandbox)
    stack.client.post(f"/skus/{sku}/counts", json={"location": "shop", "on_hand": 4, "version": 1, "event_id": "c"})
    wait_for(sandbox, item, 4)
    base = [str(ROOT / "bin" / "omnistock")]
    auth = ["--url", stack.url, "--token", stack.dev_token]
    sandbox.post("/_sandbox/faults", json={"fail_next": 60, "status": 503})  # outlasts every retry
    try:
        done = subprocess.run(
            [*base, "sync-now", "--channel", "shopify", "--sku", sku, *auth, "--timeout", "120"],
            capture_output=True, text=True, timeout=180, check=False,
        )  # fmt: skip
    finally:
        sandbox.post("/_sandbox/faults", json={"fail_next": 0})
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"failed  {sku}" in done.stdout
    shown = subprocess.run([*base, "stock", sku, *auth], capture_output=True, text=True, timeout=60, check=False)
    assert shown.returncode == 0 and f"{sku}  available 4" in shown.stdout and "on hand" in shown.stdout
    listed = subprocess.run(
        [*base, "history", "--failed", *auth], capture_output=True, text=True, timeout=60, check=False
    )
    assert listed.returncode == 0 and sku in listed.stdout and "failed" in listed.stdout
