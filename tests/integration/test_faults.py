"""Fault injection: the stock stays right when the infrastructure misbehaves.

- DynamoDB throttles and answers 5xx on a share of calls (botocore retries them), and loses the
  answer of a share of writes after applying them (the handler answers 503, the platform
  delivers again): a mixed stream of signed webhooks from every source, with duplicates, must
  end exactly where the same stream ends on a table that never failed.
- A function dies half-way through a batch (the movement log, the expiry sweep): Lambda runs the
  batch again, and every effect still happens once.
- The channel answers a 429 storm, 5xx and timeouts: the push reports the batch failed (Lambda
  retries it, then the failure queue), the failures are in the sync history, and once the channel
  is back the reconcile schedule drains them: the channel shows what the ledger says.
"""

from __future__ import annotations

import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ReadTimeoutError

from local.sandbox import ShopifySandbox
from local.template import table_definition
from omnistock import runtime
from omnistock.channels.commentsold import webhooks as commentsold
from omnistock.channels.lightspeed.webhooks import signature_header
from omnistock.channels.shopify.signature import sign as shopify_sign
from omnistock.clock import iso
from omnistock.models import HoldState
from tests.helpers import TEMPLATE, FakeContext, http_event, load_function
from tests.integration.conftest import StreamReader
from tests.reliability import record

SECRET = "fault-test-secret"
SKUS = ("F-1", "F-2", "F-3")
OUTLET = "outlet-1"
SEEDS = [int(seed) for seed in os.environ.get("FAULT_SEEDS", "3").split(",")]  # more on demand
WRITES = ("TransactWriteItems", "PutItem", "UpdateItem", "BatchWriteItem", "DeleteItem")


class DynamoFaults:
    """Throttles and 5xx before a call reaches the table (botocore retries those), and answers
    lost after a write applied (the caller sees a timeout), each on a share of calls."""

    def __init__(self, client: Any, rng: random.Random, throttled: float, failed: float, lost: float) -> None:
        self.rng, self.throttled, self.failed, self.lost = rng, throttled, failed, lost
        self.injected: Counter[str] = Counter()
        client.meta.events.register_first("before-send.dynamodb", self._before_send)
        for operation in WRITES:
            client.meta.events.register(f"after-call.dynamodb.{operation}", self._after_call)

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        roll = self.rng.random()
        if roll < self.throttled:
            self.injected["throttled"] += 1
            body = {"__type": "com.amazonaws.dynamodb.v20120810#ThrottlingException", "message": "Rate exceeded"}
            return AWSResponse(request.url, 400, {"x-amzn-ErrorType": "ThrottlingException"}, _Raw(body))
        if roll < self.throttled + self.failed:
            self.injected["5xx"] += 1
            body = {"__type": "com.amazon.coral.service#InternalServerError", "message": "injected"}
            return AWSResponse(request.url, 500, {}, _Raw(body))
        return None

    def _after_call(self, http_response: Any, **_: Any) -> None:
        if http_response.status_code == 200 and self.rng.random() < self.lost:
            self.injected["lost answers"] += 1
            raise ReadTimeoutError(endpoint_url="injected: the write applied, its answer was lost")


class _Raw:
    """The raw body botocore reads an injected answer from."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.data = json.dumps(body).encode()

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data

    def read(self, *_: Any, **__: Any) -> bytes:
        return self.data


@pytest.fixture
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """botocore's retries wait seconds between attempts; the faults here need none."""
    from botocore.retries import standard

    monkeypatch.setattr(standard.ExponentialBackoff, "delay_amount", lambda self, context: 0)


@pytest.fixture
def webhook_env(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SHOPIFY_WEBHOOK_SECRET_NAME", "COMMENTSOLD_WEBHOOK_SECRET_NAME", "LIGHTSPEED_WEBHOOK_SECRET_NAME"):
        monkeypatch.setenv(name, f"fault/{name.lower()}")
        boto3.client("secretsmanager").create_secret(Name=f"fault/{name.lower()}", SecretString=SECRET)
    monkeypatch.setenv("LIGHTSPEED_OUTLETS", json.dumps({OUTLET: "shop"}))


# ---- the stream: signed deliveries from every source
Delivery = tuple[str, dict[str, Any]]  # (function, API Gateway event)


def _event(path: str, raw: str, headers: dict[str, str]) -> dict[str, Any]:
    event = http_event("POST", path, raw)
    event["headers"] |= headers
    return event


def pos_count(sku: str, count: int, version: int) -> Delivery:
    payload = {
        "product_id": f"p-{sku}",
        "outlet_id": OUTLET,
        "count": count,
        "version": version,
        "product": {"sku": sku},
    }
    raw = urlencode({"payload": json.dumps(payload), "type": "inventory.update"})
    headers = {
        "content-type": "application/x-www-form-urlencoded",
        "x-signature": signature_header(raw.encode(), SECRET),
    }
    return "lightspeed_webhook", _event("/webhooks/lightspeed", raw, headers)


def web_order(order_id: int, sku: str, qty: int) -> Delivery:
    at = "2026-11-23T12:00:00-04:00"
    line = {"id": order_id * 10, "sku": sku, "quantity": qty, "current_quantity": qty, "fulfillable_quantity": qty}
    line |= {"variant_inventory_management": "shopify", "requires_shipping": True, "price": "10.00", "title": sku}
    body = {"id": order_id, "name": f"#{order_id}", "created_at": at, "updated_at": at, "financial_status": "paid"}
    body |= {"line_items": [line], "currency": "USD", "total_price": "10.00", "refunds": [], "fulfillments": []}
    raw = json.dumps(body)
    headers = {"x-shopify-topic": "orders/create", "x-shopify-hmac-sha256": shopify_sign(raw.encode(), SECRET)}
    return "shopify_webhook", _event("/webhooks/shopify", raw, headers)


def live(topic: str, data: dict[str, Any], delivery: str) -> Delivery:
    raw = json.dumps({"id": delivery, "topic": topic, "created_at": 1_795_435_200, "data": data})
    return "commentsold_webhook", _event(
        "/webhooks/commentsold", raw, {"x-commentsold-signature": commentsold.sign(raw.encode(), SECRET)}
    )


def stream(seed: int, events: int = 60) -> list[Delivery]:
    """Counts, web orders, claims, removals and checkouts; 30% of them delivered again later."""
    rng = random.Random(seed)
    version, order, reservation, carts = 1, 1000, 1, []
    made: list[Delivery] = [pos_count(sku, 8, 1) for sku in SKUS]
    for _ in range(events):
        sku, roll = rng.choice(SKUS), rng.random()
        if roll < 0.3:
            version += rng.randint(1, 5)
            made.append(pos_count(sku, rng.randint(3, 12), version))
        elif roll < 0.55:
            order += 1
            made.append(web_order(order, sku, rng.randint(1, 2)))
        elif roll < 0.8 or not carts:
            reservation += 1
            carts.append((reservation, sku))
            data = {"id": reservation, "variant_id": int(f"9{SKUS.index(sku)}"), "quantity": 1}
            made.append(live("reservation.created", data, f"claim-{reservation}"))
        elif roll < 0.9:
            gone, _ = carts.pop(rng.randrange(len(carts)))
            made.append(live("reservation.deleted", {"id": gone}, f"removal-{gone}"))
        else:
            paid, held_sku = carts.pop(rng.randrange(len(carts)))
            line = {
                "id": paid * 10,
                "variant_id": int(f"9{SKUS.index(held_sku)}"),
                "quantity": 1,
                "reservation_id": paid,
            }
            data = {
                "id": paid,
                "status": "paid",
                "line_items": [line],
                "created_at": 1_795_435_200,
                "updated_at": 1_795_435_200,
            }
            made.append(live("order.created", data, f"order-{paid}"))
    replayed = list(made)
    for delivery in made:
        if rng.random() < 0.3:
            replayed.insert(rng.randint(replayed.index(delivery) + 1, len(replayed)), delivery)
    return replayed


def set_up_catalog() -> None:
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
    ledger.set_channel("commentsold", ["shop"], platform="commentsold")
    for n, sku in enumerate(SKUS):
        ledger.upsert_catalog(sku, ["shop"], {"commentsold": f"9{n}"})


def deliver_until_accepted(deliveries: list[Delivery], tries: int = 40) -> int:
    """Send each delivery until it is accepted, as platforms retry a 5xx; the retries made."""
    handlers = {name: load_function(name).lambda_handler for name in {name for name, _ in deliveries}}
    retries = 0
    for name, event in deliveries:
        for _ in range(tries):
            answer = handlers[name](event, FakeContext())
            if answer["statusCode"] < 500:
                assert answer["statusCode"] == 200, answer["body"]
                break
            retries += 1
        else:
            raise AssertionError(f"{name} never accepted a delivery")
    return retries


def outcome() -> dict[str, Any]:
    """Every SKU's stock and every hold's state: what the stream must end as."""
    ledger = runtime.app().ledger
    levels = {
        sku: [(lv.on_hand, lv.held, lv.pending, lv.available) for lv in ledger.store.stock_levels(sku)] for sku in SKUS
    }
    holds = {}
    for n in range(2, 200):
        hold = ledger.store.hold(f"commentsold:{n}")
        if hold is not None:
            holds[n] = (hold.state.value, hold.qty)
    return {"levels": levels, "holds": holds}


@pytest.mark.suite("fault injection")
@pytest.mark.parametrize("seed", SEEDS)
def test_dynamodb_throttles_5xx_and_lost_answers_change_nothing_but_time(
    webhook_env: None, no_backoff: None, dynamodb: Any, monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    deliveries = stream(seed)
    dynamodb.create_table(**table_definition(TEMPLATE, "omnistock-reference"))
    monkeypatch.setenv("TABLE_NAME", "omnistock-reference")
    runtime.reset()
    set_up_catalog()
    deliver_until_accepted(deliveries)
    expected = outcome()

    monkeypatch.setenv("TABLE_NAME", "omnistock-test")
    runtime.reset()
    set_up_catalog()
    faults = DynamoFaults(runtime.app().clients.dynamodb, random.Random(seed), throttled=0.1, failed=0.05, lost=0.05)
    retries = deliver_until_accepted(deliveries)
    assert sum(faults.injected.values()) > 20 and faults.injected["lost answers"] > 0, faults.injected
    assert outcome() == expected
    duplicates = len(deliveries) - len(set(map(id, deliveries)))
    record("fault injection", events=len(deliveries), duplicates=duplicates, faults=sum(faults.injected.values()))
    record("fault injection", redeliveries=retries)


# ---- a function that dies half-way through a batch
class Died(BaseException):
    """The runtime killed the function (timeout, out of memory): no answer, no cleanup."""


@pytest.mark.suite("fault injection")
def test_the_movement_log_dying_mid_batch_logs_each_movement_once(
    handler_env: None, stream: StreamReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    for version in range(1, 61):
        ledger.report_count("TEE", "shop", version, version, "pos", f"c{version}")
    records = stream.read()
    store_class = type(runtime.app().ledger.store)
    original = store_class.save_movements
    calls = {"n": 0}

    def dies_on_the_second_chunk(self: Any, movements: list[Any]) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise Died
        original(self, movements)

    handler = load_function("movement_log").lambda_handler
    monkeypatch.setattr(store_class, "save_movements", dies_on_the_second_chunk)
    with pytest.raises(Died):
        handler({"Records": records}, FakeContext())
    monkeypatch.setattr(store_class, "save_movements", original)
    assert handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}  # Lambda's retry
    counts = [m for m in ledger.movements("TEE", 500) if m.kind.value == "count"]
    assert sorted(m.event_id for m in counts) == sorted(f"c{v}" for v in range(1, 61))
    record("fault injection", events=len(records), faults=1)


@pytest.mark.suite("fault injection")
def test_the_sweep_dying_mid_run_ends_each_hold_once(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    ledger.report_count("TEE", "shop", 100, 1, "pos", "c1")
    soon = iso(datetime.now(UTC) + timedelta(seconds=1))
    for n in range(30):
        ledger.place_hold(f"h{n}", "TEE", "shop", 1, "live", f"claim-{n}", expires_at=soon)
    store_class = type(ledger.store)
    original = store_class.end_hold
    ended = {"n": 0}

    def dies_after_ten(self: Any, *args: Any, **kwargs: Any) -> Any:
        if ended["n"] == 10:
            raise Died
        ended["n"] += 1
        return original(self, *args, **kwargs)

    import time

    time.sleep(1.1)
    sweep = load_function("hold_expiry").lambda_handler
    monkeypatch.setattr(store_class, "end_hold", dies_after_ten)
    with pytest.raises(Died):
        sweep({}, FakeContext())
    monkeypatch.setattr(store_class, "end_hold", original)
    assert sweep({}, FakeContext()) == {"expired": 20, "already_ended": 0}
    assert all(ledger.hold(f"h{n}").state is HoldState.EXPIRED for n in range(30))
    (level,) = ledger.store.stock_levels("TEE")
    assert (level.held, level.available) == (0, 100)
    record("fault injection", events=30, faults=1)


# ---- the channel failing: 429 storms, 5xx, timeouts
@pytest.mark.suite("fault injection")
def test_a_failing_channel_is_retried_recorded_and_drained(
    handler_env: None, stream: StreamReader, monkeypatch: pytest.MonkeyPatch
) -> None:
    import httpx

    from omnistock.channels.shopify.admin import ShopifyInventory

    shop = ShopifySandbox()
    location = "gid://shopify/Location/1"
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=location)
    items = {f"S-{n}": f"gid://shopify/InventoryItem/{700 + n}" for n in range(6)}
    for sku, item in items.items():
        shop.stock(item, location, available=0)
        ledger.upsert_catalog(sku, ["shop"], {"shopify": item})
    port = ShopifyInventory(
        "omnistock-sandbox.myshopify.com",
        shop.token,
        client=httpx.Client(transport=shop.transport(), base_url="https://omnistock-sandbox.myshopify.com"),
        sleep=lambda _: None,
        max_attempts=3,
    )
    runtime.app().ports = lambda _: port  # reset() forgets it with the rest of the wiring
    push = load_function("push").lambda_handler
    stream.read()  # the catalog's own records are not the point here
    injected = 0
    for round_, fault in enumerate(("storm", "5xx", "timeout")):
        for n, sku in enumerate(items):
            ledger.report_count(sku, "shop", 10 + round_ + n, 2 + round_, "pos", f"c-{round_}-{sku}")
        if fault == "storm":
            shop.throttle_storm(50)
        elif fault == "5xx":
            shop.fail_next(50, status=503)
        else:
            shop.fail_next(50, status=504)
        injected += 50
        answer = push({"Records": stream.read()}, FakeContext())
        assert answer["batchItemFailures"], f"{fault}: the batch must go back to Lambda (then the failure queue)"
        failed = runtime.app().pushes.sync_history(channel="shopify", failed_only=True)
        assert failed, f"{fault}: the failures must be in the sync history"
        shop.clear_faults()
    reconcile = load_function("reconcile").lambda_handler
    reconcile({}, FakeContext(remaining_ms=600_000))  # the function's timeout
    for sku, item in items.items():
        assert shop.available(item, location) == ledger.channel_available("shopify", sku).available, sku
    record("fault injection", faults=injected, events=len(items) * 3)
