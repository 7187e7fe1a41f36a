"""What an attacker and a bad day found, each through the deployed wiring (handlers on moto):
replayed signed bodies with fresh unsigned headers, another store's deliveries, poison inputs
the table cannot hold, absurd versions, and JSON nested or sized to crash a parser."""

from __future__ import annotations

import copy
import json
import time
from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from local.send_webhook import LOCAL_WEBHOOK_SECRET
from omnistock import runtime
from omnistock.channels.commentsold import webhooks as commentsold
from omnistock.channels.lightspeed import webhooks as lightspeed
from omnistock.channels.lightspeed import wiring as lightspeed_wiring
from omnistock.channels.lightspeed.wiring import LightspeedSettings
from omnistock.channels.shopify import payloads
from omnistock.channels.shopify import signature as shopify
from omnistock.clock import parse_iso
from omnistock.ledger import Ledger
from omnistock.models import MAX_VERSION
from omnistock.wiring import Wiring
from tests.fakes import Clock
from tests.helpers import ROOT, http_event
from tests.integration.conftest import snapshot
from tests.integration.test_lightspeed import OUTLET as LS_OUTLET
from tests.integration.test_lightspeed import PRODUCT as LS_PRODUCT
from tests.integration.test_lightspeed import SKU as LS_SKU
from tests.integration.test_lightspeed import Feed, counted, sold
from tests.integration.test_shopify_orders import SOCK, FakeOrders, build, graphql_node, pending, sample
from tests.integration.test_webhook_signatures import ROUTES, VARIANT, World, open_world, webhook_event
from tests.reliability import record

SUITE = "security"
ITEM_GID = "gid://shopify/InventoryItem/47216940870001"
LOCATION_GID = "gid://shopify/Location/76683080001"
ROUTE = {route.name: route for route in ROUTES}
COMMENTSOLD_SECRET = "commentsold-shared-secret"
LIGHTSPEED_SECRET = "lightspeed-client-secret"


def shopify_delivery(world: World, topic: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    raw = json.dumps(body).encode()
    event = http_event("POST", "/webhooks/shopify", raw.decode())
    event["headers"].update(
        {
            "x-shopify-topic": topic,
            "x-shopify-hmac-sha256": shopify.sign(raw, LOCAL_WEBHOOK_SECRET),
            **{name.replace("_", "-"): value for name, value in headers.items()},
        }
    )
    return world.send("shopify_webhook", event)


def level_body(available: int, updated_at: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((ROOT / "tests/fixtures/shopify/inventory_levels_update.json").read_text())
    body["available"], body["updated_at"] = available, updated_at
    return body


def lightspeed_form(payload: dict[str, Any], **fields: str) -> bytes:
    return urlencode({**fields, "payload": json.dumps(payload)}).encode()


def lightspeed_delivery(world: World, form: bytes, signed: bytes | None = None) -> dict[str, Any]:
    """A delivery signed over ``signed`` (the whole form unless said otherwise)."""
    header = lightspeed.signature_header(form if signed is None else signed, LIGHTSPEED_SECRET)
    return world.send("lightspeed_webhook", webhook_event(ROUTE["lightspeed"], form, {"x-signature": header}))


def inventory_payload(count: int, version: int) -> dict[str, Any]:
    body = ROUTE["lightspeed"].body.decode()
    payload: dict[str, Any] = json.loads(dict(parse_qsl(body))["payload"])
    payload["count"], payload["version"] = count, version
    return payload


def commentsold_claim(world: World, reservation: int, created_at: float | None) -> dict[str, Any]:
    data = {"id": reservation, "variant_id": int(VARIANT), "quantity": 1}
    body: dict[str, Any] = {"id": f"d-{reservation}", "topic": "reservation.created", "data": data}
    if created_at is not None:
        body["created_at"] = int(created_at)
    raw = json.dumps(body).encode()
    signature = {"x-commentsold-signature": commentsold.sign(raw, COMMENTSOLD_SECRET)}
    return world.send("commentsold_webhook", webhook_event(ROUTE["commentsold-hex"], raw, signature))


def on_hand(sku: str, location: str = "shop") -> int:
    level = runtime.app().ledger.store.stock(sku, location)
    return level.on_hand if level else 0


def answer_of(response: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response["body"])
    return body


@pytest.fixture
def world(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> World:
    return open_world(monkeypatch)


# ==================================================================== 1. signed content orders
@pytest.mark.suite(SUITE)
def test_a_replayed_shopify_level_with_a_fresh_trigger_header_stays_old(world: World) -> None:
    """Shopify signs the body, not X-Shopify-Triggered-At: a three-day-old level (50) sent again
    after a newer one (7), under a fresh header, must not set the count back to 50."""
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID, master_location="shop")
    ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {"shopify": ITEM_GID})
    old, new = level_body(50, "2026-11-20T09:00:00Z"), level_body(7, "2026-11-23T09:00:00Z")
    assert answer_of(shopify_delivery(world, "inventory_levels/update", old))["result"] == "count"
    assert answer_of(shopify_delivery(world, "inventory_levels/update", new))["result"] == "count"
    replayed = shopify_delivery(
        world, "inventory_levels/update", old, x_shopify_triggered_at="2026-11-23T12:00:00.000000001Z"
    )
    assert answer_of(replayed)["result"] == "stale"
    assert on_hand("SOCK-TRAIL-M") == 7
    # Inside one signed second the finer header still orders two reports.
    shopify_delivery(
        world,
        "inventory_levels/update",
        level_body(6, "2026-11-23T10:00:00Z"),
        x_shopify_triggered_at="2026-11-23T10:00:00.9Z",
    )
    shopify_delivery(
        world,
        "inventory_levels/update",
        level_body(5, "2026-11-23T10:00:00Z"),
        x_shopify_triggered_at="2026-11-23T10:00:00.2Z",
    )
    assert on_hand("SOCK-TRAIL-M") == 6
    # A level with no signed time cannot be ordered: it is not a count.
    untimed = level_body(99, "")
    del untimed["updated_at"]
    assert answer_of(shopify_delivery(world, "inventory_levels/update", untimed))["result"] == "ignored"
    assert on_hand("SOCK-TRAIL-M") == 6
    record(SUITE, requests=6)


# ==================================================================== 2. stores and replay windows
@pytest.mark.suite(SUITE)
def test_another_stores_lightspeed_delivery_is_ignored_when_deployed(
    wiring: Wiring, handler_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store guard runs through the deployed wiring (LIGHTSPEED_DOMAIN_PREFIX), on the form's
    domain_prefix only when the form itself is signed."""
    world = open_world(monkeypatch, {"LIGHTSPEED_DOMAIN_PREFIX": "OurStore"})
    before = snapshot(runtime.app().ledger, "TEE-BLK-M")
    theirs = lightspeed_form(inventory_payload(40, 900), type="inventory.update", domain_prefix="theirstore")
    answer = answer_of(lightspeed_delivery(world, theirs))
    assert answer == {"result": "ignored", "detail": "a delivery from another store"}
    assert snapshot(runtime.app().ledger, "TEE-BLK-M") == before
    # Signed over the payload alone, the form's fields are anyone's: a type beside it routes nothing.
    payload = inventory_payload(12, 901)
    retyped = lightspeed_form(payload, type="product.update", domain_prefix="ourstore")
    answer = answer_of(lightspeed_delivery(world, retyped, json.dumps(payload).encode()))
    assert answer["result"] == "applied" and on_hand("TEE-BLK-M") == 12
    ours = lightspeed_form(inventory_payload(11, 902), type="inventory.update", domain_prefix="ourstore")
    assert answer_of(lightspeed_delivery(world, ours))["result"] == "applied"
    assert on_hand("TEE-BLK-M") == 11
    record(SUITE, requests=3)


@pytest.mark.suite(SUITE)
def test_a_commentsold_delivery_signed_outside_the_replay_window_is_ignored(world: World) -> None:
    now = time.time()
    stale = answer_of(commentsold_claim(world, 71, now - 73 * 3600))
    assert stale["result"] == "ignored" and "replay window" in stale["detail"]
    future = answer_of(commentsold_claim(world, 72, now + 3600))
    assert future["result"] == "ignored"
    assert runtime.app().ledger.store.stock("TEE", "shop").held == 0  # type: ignore[union-attr]
    assert answer_of(commentsold_claim(world, 73, now - 60))["held"] is True
    assert answer_of(commentsold_claim(world, 74, None))["held"] is True  # no signed time: no window to check
    record(SUITE, requests=4)


# ==================================================================== 3. poison inputs
@pytest.mark.suite(SUITE)
def test_an_order_the_table_cannot_hold_is_recorded_and_answered_final(world: World) -> None:
    """A 10 KB SKU in an order line makes a key DynamoDB refuses: retrying cannot help, so
    Shopify gets a 200 that says so (it would retry for hours, then drop the subscription) and
    the sync history has it; a redelivery does the same, and nothing else is touched."""
    body = json.loads(ROUTE["shopify"].body)
    body["line_items"][0]["sku"] = "S" * 10_000
    before = snapshot(runtime.app().ledger, "SOCK-TRAIL-M")
    answers = [shopify_delivery(world, "orders/create", body) for _ in range(2)]
    assert [answer["statusCode"] for answer in answers] == [200, 200], answers[0]["body"]
    # The order itself was stored before its line's note failed: the redelivery finds it done.
    assert [answer_of(answer)["result"] for answer in answers] in (["rejected", "rejected"], ["rejected", "applied"])
    assert snapshot(runtime.app().ledger, "SOCK-TRAIL-M") == before
    history = runtime.app().sync.history(None, "shopify", False, 10)
    rejected = [entry for entry in history if entry.result == "rejected"]
    assert rejected and all(entry.sku.startswith("orders/create:") for entry in rejected)
    record(SUITE, requests=2)


# ==================================================================== 5. bounded versions
@pytest.mark.suite(SUITE)
def test_a_version_past_64_bits_is_refused_and_an_operator_can_reset_one(world: World) -> None:
    huge = lightspeed_form(inventory_payload(40, 2**64), type="inventory.update")
    answer = lightspeed_delivery(world, huge)
    assert answer["statusCode"] == 400 and on_hand("TEE-BLK-M") == 0
    # The largest version taken is still taken (a mistake an operator then undoes).
    at_bound = lightspeed_form(inventory_payload(40, MAX_VERSION), type="inventory.update")
    assert answer_of(lightspeed_delivery(world, at_bound))["result"] == "applied"
    later = lightspeed_form(inventory_payload(9, 5_000_000_000), type="inventory.update")
    assert answer_of(lightspeed_delivery(world, later))["result"] == "stale"
    reset = {"location": "shop", "on_hand": 9, "version": 4_999_999_999, "event_id": "reset-1", "reset_version": True}
    answer = world.send("admin_api", http_event("POST", "/skus/TEE-BLK-M/counts", reset))
    assert answer["statusCode"] == 200, answer["body"]
    assert runtime.app().ledger.store.stock("TEE-BLK-M", "shop").master_version == 4_999_999_999  # type: ignore[union-attr]
    assert answer_of(lightspeed_delivery(world, later))["result"] == "applied"
    assert on_hand("TEE-BLK-M") == 9
    record(SUITE, requests=5)


# ==================================================================== 6. extreme JSON
NESTED = "[" * 100_000 + "]" * 100_000


@pytest.mark.suite(SUITE)
@pytest.mark.parametrize("route", ["shopify", "commentsold-hex", "lightspeed"])
def test_deeply_nested_signed_bodies_are_a_400(world: World, route: str) -> None:
    signed = ROUTE[route]
    body = (
        urlencode({"type": "inventory.update", "payload": NESTED}).encode()
        if route == "lightspeed"
        else ('{"id": 1, "data": ' + NESTED + "}").encode()
    )
    event = webhook_event(signed, body, {signed.header: signed.sign(body, signed.secret)})
    answer = world.send(signed.function, event)
    assert answer["statusCode"] == 400, answer["body"][:200]
    assert not world.counter.writes
    record(SUITE, requests=1)


@pytest.mark.suite(SUITE)
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ('{"locations": ' + "[" * 10_000 + "]" * 10_000 + "}", 400),
        ('{"locations": ["shop"], "buffer": ' + "9" * 5000 + "}", 400),
        ('{"locations": ["shop"], "title": "' + "x" * (1024 * 1024) + '"}', 413),
    ],
    ids=["nested", "a 5000-digit integer", "over 1 MB"],
)
def test_the_admin_api_bounds_json_before_parsing(world: World, body: str, status: int) -> None:
    answer = world.send("admin_api", http_event("PUT", "/channels/web", body))
    assert answer["statusCode"] == status, answer["body"][:200]
    assert not world.counter.writes
    record(SUITE, requests=1)


# ==================================================================== 3. polls step past poison
@pytest.mark.suite(SUITE)
def test_the_shopify_poll_steps_past_an_order_the_table_cannot_hold(
    wiring: Wiring, ledger: Ledger, clock: Clock
) -> None:
    shop = build(wiring)
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID)
    ledger.upsert_catalog(SOCK, ["shop"], {})
    ledger.report_count(SOCK, "shop", 10, 1, "pos", "c1")
    create = sample("orders_create.json")
    poison, good = copy.deepcopy(create), copy.deepcopy(create)
    poison["line_items"] = poison["line_items"][:1]
    poison["line_items"][0]["sku"] = "S" * 10_000
    good["id"], good["admin_graphql_api_id"], good["updated_at"] = (
        78,
        "gid://shopify/Order/78",
        "2025-06-03T10:30:00-04:00",
    )
    clock.now = parse_iso("2025-06-03T15:00:00Z")
    report = shop.poll(FakeOrders([graphql_node(poison), graphql_node(good)]), lambda: False)
    assert report.rejected == 1 and report.orders == 1
    assert shop.cursors.cursor("shopify:orders") == payloads.utc(good["updated_at"])
    assert pending(ledger, SOCK) == 2  # the good order's socks
    record(SUITE, requests=2)


@pytest.mark.suite(SUITE)
def test_the_lightspeed_poll_steps_past_a_record_the_table_cannot_hold(
    wiring: Wiring, ledger: Ledger, clock: Clock
) -> None:
    ledger.upsert_catalog(LS_SKU, ["shop"], {})
    wiring.config = wiring.config.with_sections(LightspeedSettings(outlets={LS_OUTLET: "shop"}))
    pos = lightspeed_wiring.intake(wiring)
    poisoned = dict(sold("9001", 200, source="USER").payload)
    poisoned["register_sale_products"] = [{"id": "L" * 3000, "product_id": LS_PRODUCT, "quantity": 1}]
    feed = Feed()
    feed.records["sales"] = [poisoned]
    feed.records["inventory"] = [counted(7, 300).payload]
    report = pos.poll(feed, lambda: False)
    assert report["skipped"] == 1 and report["inventory"] == 1
    assert ledger.store.stock(LS_SKU, "shop").on_hand == 7  # type: ignore[union-attr]
    assert wiring.cursors.cursor("lightspeed:sales") == f"{200:020d}"
    rejected = [
        entry for entry in wiring.pushes.sync_history(channel="lightspeed", limit=10) if entry.result == "rejected"
    ]
    assert [entry.sku for entry in rejected] == ["sale.update:sale-9001"]
    record(SUITE, requests=2)


# ==================================================================== the class: unsigned parts decide nothing
SHOPIFY_TOPICS = ["orders/create", "orders/updated", "orders/cancelled", "refunds/create"]
SHOPIFY_TOPICS += ["inventory_levels/update", "products/update", "products/delete", "app/uninstalled"]
FIXTURE_TOPICS = {
    "orders_create.json": "orders/create",
    "orders_cancelled.json": "orders/cancelled",
    "refunds_create.json": "refunds/create",
    "inventory_levels_update.json": "inventory_levels/update",
    "products_update.json": "products/update",
}
UNSIGNED_TIMES = st.sampled_from(
    ["", "2099-01-01T00:00:00Z", "2000-01-01T00:00:00Z", "garbage", "2026-11-23T12:00:00Z"]
)


def shopify_world_state(world: World) -> list[Any]:
    ledger = runtime.app().ledger
    orders = runtime.app().shipment_desk.orders
    kept = [orders.order("shopify", order_id) for order_id in ("5938001231001",)]
    return [snapshot(ledger, sku) for sku in ("SOCK-TRAIL-M", "SHELL-RAIN-S")] + [
        (stored.order, stored.status) if stored else None for stored in kept
    ]


@pytest.mark.suite(SUITE)
@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(
    replays=st.lists(
        st.tuples(
            st.sampled_from(sorted(FIXTURE_TOPICS)),
            st.sampled_from(SHOPIFY_TOPICS),
            UNSIGNED_TIMES,
            st.text(alphabet="abc123-", max_size=12),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_replaying_signed_shopify_bodies_under_any_unsigned_headers_changes_nothing(
    shopify_world: World, replays: list[tuple[str, str, str, str]]
) -> None:
    """Every sample body was delivered once, as signed and with its own topic. Sending any of
    them again under any topic, trigger time or webhook id (none of which Shopify signs) must
    leave stock and orders as they are."""
    before = shopify_world_state(shopify_world)
    for fixture, topic, triggered, webhook_id in replays:
        body = json.loads((ROOT / "tests/fixtures/shopify" / fixture).read_text())
        answer = shopify_delivery(
            shopify_world, topic, body, x_shopify_triggered_at=triggered, x_shopify_webhook_id=webhook_id
        )
        assert answer["statusCode"] in (200, 400), answer["body"][:200]
    assert shopify_world_state(shopify_world) == before
    record(SUITE, requests=len(replays), duplicates=len(replays))


@pytest.fixture
def shopify_world(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> World:
    """One world for every example (hypothesis runs them all in one test call, and replays
    accumulate: none may change anything): Shopify as master of "shop", each sample delivered
    once, in order."""
    world = open_world(monkeypatch)
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID, master_location="shop")
    ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {"shopify": ITEM_GID})
    ledger.upsert_catalog("SHELL-RAIN-S", ["shop"], {})
    ledger.report_count("SHELL-RAIN-S", "shop", 9, 1, "pos", "shell-c1")
    for fixture, topic in FIXTURE_TOPICS.items():
        body = json.loads((ROOT / "tests/fixtures/shopify" / fixture).read_text())
        assert shopify_delivery(world, topic, body)["statusCode"] == 200
    return world


# ==================================================================== 7. event ids
@pytest.mark.suite(SUITE)
def test_an_event_id_reused_for_another_request_is_a_409_and_a_true_duplicate_stays_one(world: World) -> None:
    """Event ids are kept per source: the same id with the same body is a duplicate (200); with
    another SKU, location, kind or quantity it is a 409 that says so, and nothing moves."""
    runtime.app().ledger.upsert_catalog("TEE", ["shop", "web"], {"commentsold": VARIANT})

    def post(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        answer = world.send("admin_api", http_event("POST", path, body))
        return answer["statusCode"], answer_of(answer)

    restock = {"location": "shop", "qty": 2, "event_id": "e-1"}
    assert post("/skus/TEE/restocks", restock)[0] == 200
    assert post("/skus/TEE/restocks", restock) == (200, post("/skus/TEE/restocks", restock)[1])
    assert post("/skus/TEE/restocks", restock)[1]["outcome"] == "duplicate"
    before = snapshot(runtime.app().ledger, "TEE") + snapshot(runtime.app().ledger, "SOCK-TRAIL-M")
    reuses = [
        ("/skus/SOCK-TRAIL-M/restocks", restock),  # another SKU
        ("/skus/TEE/restocks", restock | {"qty": 3}),  # another quantity
        ("/skus/TEE/restocks", restock | {"location": "web"}),  # another location
        ("/skus/TEE/adjustments", {"location": "shop", "delta": 2, "event_id": "e-1"}),  # another kind
        ("/skus/TEE/sales", {"location": "shop", "qty": 2, "event_id": "e-1"}),
    ]
    for path, body in reuses:
        status, answer = post(path, body)
        assert status == 409 and "used before for a different request" in answer["message"], (path, answer)
    assert snapshot(runtime.app().ledger, "TEE") + snapshot(runtime.app().ledger, "SOCK-TRAIL-M") == before
    sale = {"location": "shop", "qty": 1, "event_id": "s-1"}
    assert post("/skus/TEE/sales", sale)[0] == 200
    assert post("/skus/TEE/sales", sale)[1]["outcome"] == "duplicate"
    assert post("/skus/TEE/sales", sale | {"qty": 2})[0] == 409
    record(SUITE, requests=len(reuses) + 7)
