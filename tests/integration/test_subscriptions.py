"""Webhook subscriptions made and kept by Omnistock: the hourly keeper subscribes every topic
the intake handles to this stack's address, once however often it runs, makes again one that
Shopify removed (and says so in the sync history), and the connection check reports what it
found; a poll that stops running is named too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from local.sandbox import ShopifySandbox
from omnistock import runtime
from omnistock.channels.shopify.intake import HANDLED_TOPICS
from omnistock.channels.shopify.subscriptions import NEEDED
from tests.helpers import FakeContext, http_event, load_function

API = "https://abc123.execute-api.us-east-1.amazonaws.com"
ADDRESS = f"{API}/webhooks/shopify"


@pytest.fixture
def shop(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopifySandbox]:
    with ShopifySandbox() as sandbox:
        monkeypatch.setenv("SHOPIFY_SHOP_DOMAIN", "omnistock-sandbox.myshopify.com")
        monkeypatch.setenv("SHOPIFY_ENDPOINT", sandbox.graphql_url())
        monkeypatch.setenv("SHOPIFY_TOKEN_SECRET_NAME", "keeper/shopify")
        monkeypatch.setenv("PUBLIC_API_URL", API + "/")
        secret = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret}
        boto3.client("secretsmanager").create_secret(Name="keeper/shopify", SecretString=json.dumps(secret))
        runtime.reset()
        yield sandbox


def keep() -> dict[str, Any]:
    runtime.reset()
    result: dict[str, Any] = load_function("shopify_subscriptions").lambda_handler({}, FakeContext())
    return result


def checks() -> dict[str, dict[str, Any]]:
    runtime.reset()
    answer = load_function("connections").lambda_handler(http_event("GET", "/connections"), FakeContext())
    return {c["name"]: c for c in json.loads(answer["body"])["checks"] if c["platform"] == "shopify"}


def test_every_handled_topic_is_subscribed_once_however_often_the_keeper_runs(shop: ShopifySandbox) -> None:
    assert len(NEEDED) == len(HANDLED_TOPICS) == 11
    assert checks()["webhook subscriptions"]["ok"] is False  # not checked yet
    first = keep()
    assert first["checked"] and sorted(first["created"]) == list(NEEDED) and first["missing"] == []
    assert keep()["created"] == []
    subscribed = shop.catalog.subscriptions()
    assert sorted(s["topic"] for s in subscribed) == list(NEEDED) and {s["uri"] for s in subscribed} == {ADDRESS}
    found = checks()["webhook subscriptions"]
    assert found["ok"] and "all 11 topics" in found["detail"]


def test_a_subscription_shopify_removed_is_made_again_and_recorded(shop: ShopifySandbox) -> None:
    keep()
    shop.catalog.drop_subscription("ORDERS_PAID")  # after 8 failed deliveries
    assert keep()["created"] == ["ORDERS_PAID"]
    history = runtime.app().pushes.sync_history(channel="shopify", failed_only=False, limit=10)
    assert any(entry.sku == "webhook:ORDERS_PAID" and entry.result == "recreated" for entry in history)


def test_a_keeper_that_cannot_reach_shopify_leaves_the_check_failing(shop: ShopifySandbox) -> None:
    wrong = {"client_id": shop.client_id, "client_secret": "not-the-secret"}
    boto3.client("secretsmanager").put_secret_value(SecretId="keeper/shopify", SecretString=json.dumps(wrong))
    result = keep()
    assert result["checked"] is False
    assert checks()["webhook subscriptions"]["ok"] is False


def test_the_check_says_when_the_poll_last_ran(shop: ShopifySandbox) -> None:
    poll = checks()["poll"]
    assert not poll["ok"] and "not run" in poll["detail"] and poll["fix"]
    runtime.app().heartbeats.beat("shopify:poll")
    assert checks()["poll"]["ok"]
