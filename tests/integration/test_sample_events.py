"""The sample events in events/ (for `sam local invoke -e`) work with their functions."""

from __future__ import annotations

import json

import boto3
import pytest

from local.send_webhook import LOCAL_WEBHOOK_SECRET
from local.stack import LOCAL_SHIPSTATION_CREDENTIALS
from omnistock import runtime
from tests.helpers import ROOT, FakeContext, load_function


def event(name: str) -> dict:
    return json.loads((ROOT / "events" / name).read_text())


def test_admin_events_in_order(handler_env: None) -> None:
    admin = load_function("admin_api").lambda_handler
    expected = {
        "admin-upsert-catalog.json": 200,
        "admin-record-count.json": 200,
        "admin-place-hold.json": 201,
        "admin-record-sale.json": 200,
        "admin-read-stock.json": 200,
    }
    for name, status in expected.items():
        response = admin(event(name), FakeContext())
        assert response["statusCode"] == status, (name, response["body"])
    stock = json.loads(admin(event("admin-read-stock.json"), FakeContext())["body"])
    shop = stock["locations"][0]
    assert (shop["on_hand"], shop["held"], shop["pending"], shop["available"]) == (12, 1, 1, 10)


def test_stream_and_schedule_events(handler_env: None) -> None:
    answer = load_function("movement_log").lambda_handler(event("movement-log-stream.json"), FakeContext())
    assert answer == {"batchItemFailures": []}
    runtime.app().ledger.upsert_catalog("TEE-BLK-M", ["shop"], {})
    moved = runtime.app().ledger.movements("TEE-BLK-M", 5)
    assert [(m.kind.value, m.before.held, m.after.held) for m in moved] == [("hold", 0, 1)]
    swept = load_function("hold_expiry").lambda_handler(event("hold-expiry-scheduled.json"), FakeContext())
    assert swept == {"expired": 0, "already_ended": 0}


def test_shopify_events(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed sample webhook verifies with the local development secret and stores its order;
    the poll's schedule event finds Shopify unconfigured; the stream record names a shipment the
    table does not hold, so nothing is sent, and none of them fails."""
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET_NAME", "omnistock/shopify-webhook-secret")
    boto3.client("secretsmanager").create_secret(
        Name="omnistock/shopify-webhook-secret", SecretString=LOCAL_WEBHOOK_SECRET
    )
    ledger = runtime.app().ledger
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/76683080001")
    ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {})
    ledger.report_count("SOCK-TRAIL-M", "shop", 5, 1, "pos", "c1")
    webhook = load_function("shopify_webhook").lambda_handler
    answer = webhook(event("shopify-webhook-orders-create.json"), FakeContext())
    assert answer["statusCode"] == 200, answer["body"]
    assert json.loads(answer["body"])["lines_moved"] == 1  # SHELL-RAIN-L is not in this catalog
    assert ledger.channel_available("shopify", "SOCK-TRAIL-M").available == 3
    tampered = event("shopify-webhook-orders-create.json") | {
        "body": event("shopify-webhook-orders-create.json")["body"] + " "
    }
    assert webhook(tampered, FakeContext())["statusCode"] == 401
    polled = load_function("shopify_poll").lambda_handler(event("shopify-poll-scheduled.json"), FakeContext())
    assert polled == {"polled": False}
    sent = load_function("fulfillment").lambda_handler(event("fulfillment-stream.json"), FakeContext())
    assert sent == {"batchItemFailures": []}


def test_shipstation_events(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The sample export answers a valid document; the sample notice finds its order (ingested
    from the sample Shopify webhook) and records one shipment, then records nothing more."""
    monkeypatch.setenv("SHIPSTATION_SECRET_NAME", "omnistock/shipstation-credentials")
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET_NAME", "omnistock/shopify-webhook-secret")
    secrets = boto3.client("secretsmanager")
    secrets.create_secret(
        Name="omnistock/shipstation-credentials", SecretString=json.dumps(LOCAL_SHIPSTATION_CREDENTIALS)
    )
    secrets.create_secret(Name="omnistock/shopify-webhook-secret", SecretString=LOCAL_WEBHOOK_SECRET)
    runtime.app().ledger.set_channel(
        "shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1"
    )
    load_function("shopify_webhook").lambda_handler(event("shopify-webhook-orders-create.json"), FakeContext())
    shipstation = load_function("shipstation").lambda_handler
    exported = shipstation(event("shipstation-export.json"), FakeContext())
    assert exported["statusCode"] == 200 and '<Orders pages="0"' in exported["body"]  # modified now, not then
    notified = shipstation(event("shipstation-shipnotify.json"), FakeContext())
    assert (notified["statusCode"], notified["body"]) == (200, "recorded")
    again = shipstation(event("shipstation-shipnotify.json"), FakeContext())
    assert (again["statusCode"], again["body"]) == (200, "recorded before")


def test_lightspeed_events(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The signed sample count verifies with the local sandbox's client secret and sets the shop's
    count; the sample till sale is logged (its receipt number matches no web order); a tampered
    body is refused; the poll's schedule event finds Lightspeed unconnected."""
    from local.sandbox.lightspeed import LightspeedSandbox

    env = json.loads((ROOT / "events" / "env.json").read_text())["Parameters"]
    for name in ("LIGHTSPEED_WEBHOOK_SECRET_NAME", "LIGHTSPEED_OUTLETS"):
        monkeypatch.setenv(name, env[name])
    secret = LightspeedSandbox().client_secret
    boto3.client("secretsmanager").create_secret(Name=env["LIGHTSPEED_WEBHOOK_SECRET_NAME"], SecretString=secret)
    runtime.app().ledger.upsert_catalog("TEE-BLK-M", ["shop"], {})
    webhook = load_function("lightspeed_webhook").lambda_handler
    counted = webhook(event("lightspeed-webhook-inventory-update.json"), FakeContext())
    assert counted["statusCode"] == 200 and json.loads(counted["body"])["result"] == "applied", counted["body"]
    assert runtime.app().ledger.store.stock("TEE-BLK-M", "shop").on_hand == 12  # type: ignore[union-attr]
    sold = webhook(event("lightspeed-webhook-sale-update.json"), FakeContext())
    assert json.loads(sold["body"])["confirmed_lots"] == 0
    assert [m.kind.value for m in runtime.app().ledger.movements("TEE-BLK-M", 5)] == ["sale"]
    tampered = event("lightspeed-webhook-inventory-update.json")
    tampered["body"] = tampered["body"].replace("%22count%22%3A12", "%22count%22%3A99")
    assert tampered["body"] != event("lightspeed-webhook-inventory-update.json")["body"]
    assert webhook(tampered, FakeContext())["statusCode"] == 401
    polled = load_function("lightspeed_poll").lambda_handler(event("lightspeed-poll-scheduled.json"), FakeContext())
    assert polled == {"polled": False}


def test_unleashed_events(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The poll's schedule event finds Unleashed unconnected; the signed sample webhook verifies
    with the local stack's signing key at its own time (a hint for the poll), and is refused as a
    replay an hour later and when tampered with; the sample order change sends a paid order to
    the Unleashed sandbox once, however often it is delivered, and the schedule finds nothing left."""
    from local.sandbox.unleashed import UnleashedSandbox
    from local.stack import LOCAL_UNLEASHED_WEBHOOK_KEY
    from omnistock.channels.unleashed.webhooks import HINTS
    from omnistock.orders import ChannelOrder, OrderLine

    polled = load_function("unleashed_poll").lambda_handler(event("unleashed-poll-scheduled.json"), FakeContext())
    assert polled == {"polled": False}

    name = json.loads((ROOT / "events" / "env.json").read_text())["Parameters"]["UNLEASHED_WEBHOOK_SECRET_NAME"]
    monkeypatch.setenv("UNLEASHED_WEBHOOK_SECRET_NAME", name)
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=LOCAL_UNLEASHED_WEBHOOK_KEY)
    runtime.reset()  # the configuration is read once per cold start
    sample = event("unleashed-webhook-product-updated.json")
    signed_at = int(sample["headers"]["x-unleashed-timestamp"])
    webhook = load_function("unleashed_webhook").lambda_handler
    monkeypatch.setattr("time.time", lambda: signed_at + 60.0)
    answer = webhook(sample, FakeContext())
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["type"] == "product.updated", answer
    assert len(runtime.app().cursors.hints(HINTS, 10)) == 1
    assert webhook(sample | {"body": sample["body"] + " "}, FakeContext())["statusCode"] == 401
    monkeypatch.setattr("time.time", lambda: signed_at + 3600.0)
    assert webhook(sample, FakeContext())["statusCode"] == 401  # outside the five-minute window

    with UnleashedSandbox(warehouses=("MAIN",)) as erp:
        monkeypatch.setenv("UNLEASHED_API_BASE", erp.api_base)
        monkeypatch.setenv("UNLEASHED_API_SECRET_NAME", "local/unleashed-api")
        monkeypatch.setenv("UNLEASHED_WAREHOUSES", json.dumps({"MAIN": "shop"}))
        boto3.client("secretsmanager").create_secret(
            Name="local/unleashed-api", SecretString=json.dumps(erp.credentials())
        )
        runtime.reset()
        app = runtime.app()
        erp.add_product("SOCK-TRAIL-M", {"MAIN": 10})
        app.ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
        app.ledger.upsert_catalog("SOCK-TRAIL-M", ["shop"], {})
        app.settings.change("unleashed.sales_orders", {"mode": "automatic", "customer_code": "WEB"}, "test")
        line = OrderLine("1", "SOCK-TRAIL-M", "Trail sock", 2, unit_price="12.00")
        at = "2026-11-23T11:05:00.000Z"
        paid = ChannelOrder("shopify", "5938001231001", "#1042", at, at, (line,), financial_status="paid")
        app.order_desk.ingest(paid)
        outbox = load_function("erp_orders").lambda_handler
        for _ in range(2):  # a stream record is delivered at least once
            assert outbox(event("erp-orders-stream.json"), FakeContext()) == {"batchItemFailures": []}
        (sent,) = erp.sales_orders()
        assert sent["OrderNumber"] == "SHOPIFY_1042"
        assert outbox(event("erp-orders-scheduled.json"), FakeContext()) == {"results": {}}
    sales = load_function("pos_sales").lambda_handler(event("pos-sales-scheduled.json"), FakeContext())
    assert sales == {"results": {}}  # nothing unfinished to write into the POS
