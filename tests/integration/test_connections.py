"""The connection check names what is wrong and how to fix it, never with a traceback or a
secret: a wrong client secret, a scope the app lacks, a secret that is missing, a channel in
shadow, failed pushes of the last day. And `omnistock doctor` prints it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from cli.__main__ import main as cli
from local.sandbox import ShopifySandbox
from omnistock import runtime
from omnistock.models import SyncEntry
from tests.helpers import FakeContext, http_event, load_function

LOCATION = "gid://shopify/Location/1"


@pytest.fixture
def shop(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopifySandbox]:
    with ShopifySandbox() as sandbox:
        monkeypatch.setenv("SHOPIFY_SHOP_DOMAIN", "omnistock-sandbox.myshopify.com")
        monkeypatch.setenv("SHOPIFY_ENDPOINT", sandbox.graphql_url())
        monkeypatch.setenv("SHOPIFY_TOKEN_SECRET_NAME", "doctor/shopify")
        monkeypatch.setenv("SHIPSTATION_SECRET_NAME", "doctor/shipstation")
        runtime.reset()
        yield sandbox


def store(name: str, value: Any) -> None:
    text = value if isinstance(value, str) else json.dumps(value)
    boto3.client("secretsmanager").create_secret(Name=name, SecretString=text)


def checks() -> dict[tuple[str, str], dict[str, Any]]:
    runtime.reset()  # a cold start: nothing cached from the last look
    answer = load_function("connections").lambda_handler(http_event("GET", "/connections"), FakeContext())
    assert answer["statusCode"] == 200
    return {(c["platform"], c["name"]): c for c in json.loads(answer["body"])["checks"]}


def test_a_working_connection_says_so_and_what_is_left(shop: ShopifySandbox) -> None:
    store("doctor/shopify", {"client_id": shop.client_id, "client_secret": shop.client_secret})
    runtime.app().ledger.set_channel(
        "shopify", ["shop"], platform="shopify", target_location=LOCATION, new_mode="shadow"
    )
    found = checks()
    assert found[("shopify", "credentials")]["ok"] and found[("shopify", "scopes")]["ok"]
    assert found[("shopify", "channel shopify")]["ok"] and "go-live" in found[("shopify", "channel shopify")]["fix"]
    assert (
        not found[("shipstation", "secret")]["ok"] and "doctor/shipstation" in found[("shipstation", "secret")]["fix"]
    )
    assert found[("lightspeed", "configured")]["ok"] is False


def test_a_wrong_secret_and_a_missing_scope_are_named_with_their_fix(shop: ShopifySandbox) -> None:
    store("doctor/shopify", {"client_id": shop.client_id, "client_secret": "wrong-secret-value"})
    found = checks()
    credentials = found[("shopify", "credentials")]
    assert not credentials["ok"] and "client id and secret" in credentials["fix"]
    assert "wrong-secret-value" not in json.dumps(list(found.values()))
    assert not found[("shopify", "channel")]["ok"]  # no channel pushes to Shopify yet
    boto3.client("secretsmanager").put_secret_value(
        SecretId="doctor/shopify",
        SecretString=json.dumps({"client_id": shop.client_id, "client_secret": shop.client_secret}),
    )
    shop.scopes.remove("write_inventory")
    scopes = checks()[("shopify", "scopes")]
    assert not scopes["ok"] and "write_inventory" in scopes["detail"] and "Dev Dashboard" in scopes["fix"]


def test_failed_pushes_of_the_last_day_are_counted(shop: ShopifySandbox) -> None:
    store("doctor/shopify", {"client_id": shop.client_id, "client_secret": shop.client_secret})
    wiring = runtime.app()
    wiring.ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION)
    now = wiring.clock()
    entry = SyncEntry(
        "TEE",
        "shopify",
        "",
        wiring.clock().strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        3,
        5,
        "stock change",
        "failed",
        "INVALID_INVENTORY_ITEM",
    )
    wiring.pushes.record_sync([entry], now)
    failures = checks()[("shopify", "shopify: failures (24 h)")]
    assert (
        not failures["ok"]
        and failures["detail"].startswith("1 failed")
        and "INVALID_INVENTORY_ITEM" in failures["detail"]
    )


def test_the_doctor_command_prints_each_check_and_fails_when_one_does(
    shop: ShopifySandbox, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    store("doctor/shopify", {"client_id": shop.client_id, "client_secret": shop.client_secret})

    def answer(request: httpx.Request) -> httpx.Response:
        result = load_function("connections").lambda_handler(http_event("GET", request.url.path), FakeContext())
        return httpx.Response(result["statusCode"], text=result["body"])

    monkeypatch.setattr(
        "cli.__main__._client", lambda _: httpx.Client(base_url="http://api", transport=httpx.MockTransport(answer))
    )
    assert cli(["doctor"]) == 1  # ShipStation's secret is missing
    out = capsys.readouterr().out
    assert "ok   shopify      credentials" in out and "FAIL shipstation" in out and "fix: create the secret" in out
