"""Settings change without a redeploy: the template's values are the defaults; a change
through the admin API is checked, takes effect (the Lightspeed outlet map, the default hold,
ShipStation's status names), and is audited with who made it and what it was; so are changes
to a channel. A bad value is a 400 that changes nothing; a concurrent change is refused."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from omnistock import runtime
from omnistock.channels.lightspeed import webhooks
from omnistock.errors import Conflict
from tests.helpers import FakeContext, http_event, load_function

WHO = "arn:aws:iam::123456789012:user/ops"


def call(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
    event = http_event(method, path, body, query)
    event["requestContext"]["authorizer"] = {"iam": {"userArn": WHO}}
    answer = load_function("admin_api").lambda_handler(event, FakeContext())
    return answer["statusCode"], json.loads(answer["body"])


@pytest.fixture
def env(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIGHTSPEED_OUTLETS", json.dumps({"outlet-1": "shop"}))
    monkeypatch.setenv("DEFAULT_HOLD_MINUTES", "15")
    runtime.reset()


def settings() -> dict[str, dict[str, Any]]:
    status, body = call("GET", "/settings")
    assert status == 200
    return {setting["name"]: setting for setting in body["settings"]}


def test_the_template_values_are_the_defaults(env: None) -> None:
    found = settings()
    assert (
        found["lightspeed.outlets"]["value"] == {"outlet-1": "shop"}
        and found["lightspeed.outlets"]["updated_by"] is None
    )
    assert found["holds.default_minutes"]["value"] == 15
    assert found["shipstation.status_map"]["value"]["awaiting_payment"] == "unpaid"


def test_a_changed_outlet_map_takes_effect_and_is_audited(env: None) -> None:
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop", "back"], {})
    count = webhooks.InventoryCount("p-1", "outlet-2", 7, 100, sku="TEE")
    from omnistock.channels.lightspeed import wiring as lightspeed

    assert lightspeed.intake(runtime.app()).count(count)["result"] == "unmapped"
    status, body = call("PUT", "/settings/lightspeed.outlets", {"value": {"outlet-1": "shop", "outlet-2": "back"}})
    assert status == 200 and body["updated_by"] == WHO
    assert lightspeed.intake(runtime.app()).count(count)["result"] == "applied"
    assert runtime.app().stock.stock("TEE", "back").on_hand == 7  # type: ignore[union-attr]
    status, audit = call("GET", "/audit", query={"month": datetime.now(UTC).strftime("%Y-%m")})
    entry = audit["entries"][0]
    assert (entry["who"], entry["subject"]) == (WHO, "setting lightspeed.outlets")
    assert entry["before"] == {"outlet-1": "shop"} and entry["after"]["outlet-2"] == "back"


def test_the_default_hold_is_a_setting(env: None) -> None:
    runtime.app().ledger.upsert_catalog("TEE", ["shop"], {})
    runtime.app().ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    assert call("PUT", "/settings/holds.default_minutes", {"value": 45})[0] == 200
    status, hold = call("POST", "/holds", {"hold_id": "h1", "sku": "TEE", "location": "shop", "qty": 1})
    assert status == 201
    created, expires = (
        datetime.fromisoformat(hold["hold"][k].replace("Z", "+00:00")) for k in ("created_at", "expires_at")
    )
    assert (expires - created).total_seconds() == 45 * 60


def test_shipstation_status_names_are_a_setting(env: None) -> None:
    status, body = call("PUT", "/settings/shipstation.status_map", {"value": {"shipped": "Sent"}})
    assert status == 200 and body["value"]["shipped"] == "Sent" and body["value"]["awaiting_payment"] == "unpaid"
    from omnistock.channels.shipstation import wiring as shipstation

    assert shipstation.desk(runtime.app()).statuses[shipstation_status("shipped")] == "Sent"


def shipstation_status(name: str) -> Any:
    from omnistock.orders import OrderStatus

    return OrderStatus(name)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("holds.default_minutes", 0),
        ("holds.default_minutes", "15"),
        ("lightspeed.outlets", ["outlet-1"]),
        ("lightspeed.outlets", {"outlet-1": ""}),
        ("shipstation.status_map", {"lost": "Lost"}),
    ],
)
def test_a_bad_value_is_a_400_that_changes_nothing(env: None, name: str, value: Any) -> None:
    before = settings()[name]
    status, body = call("PUT", f"/settings/{name}", {"value": value})
    assert status == 400, body
    assert settings()[name] == before


def test_an_unknown_setting_is_404(env: None) -> None:
    assert call("PUT", "/settings/nothing.here", {"value": 1})[0] == 404


def test_a_concurrent_change_is_refused_not_lost(env: None) -> None:
    store = runtime.app().settings.store
    store.save("holds.default_minutes", 20, None, 15, "a", datetime.now(UTC))
    with pytest.raises(Conflict):
        store.save("holds.default_minutes", 30, None, 15, "b", datetime.now(UTC))
    assert settings()["holds.default_minutes"]["value"] == 20


def test_channel_changes_are_audited(env: None) -> None:
    body = {"locations": ["shop"], "platform": "shopify", "target_location": "gid://shopify/Location/1"}
    assert call("PUT", "/channels/shopify", body)[0] == 200
    assert call("PUT", "/channels/shopify", body | {"buffer": 2})[0] == 200
    assert call("PUT", "/channels/shopify", body | {"buffer": 2})[0] == 200  # no change: no entry
    entries = call("GET", "/audit")[1]["entries"]
    assert [e["subject"] for e in entries] == ["channel shopify", "channel shopify"]
    assert entries[0]["before"]["buffer"] == 0 and entries[0]["after"]["buffer"] == 2
    assert entries[1]["before"] is None and entries[1]["after"]["mode"] == "shadow"


def test_the_connection_check_names_outlets_no_channel_sells_from(env: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import boto3

    monkeypatch.setenv("LIGHTSPEED_DOMAIN_PREFIX", "store")
    monkeypatch.setenv("LIGHTSPEED_TOKEN_SECRET_NAME", "check/lightspeed")
    boto3.client("secretsmanager").create_secret(Name="check/lightspeed", SecretString="personal-token")
    runtime.reset()

    def outlets() -> dict[str, Any]:
        runtime.reset()
        answer = load_function("connections").lambda_handler(http_event("GET", "/connections"), FakeContext())
        return next(c for c in json.loads(answer["body"])["checks"] if c["name"] == "outlets")

    assert not outlets()["ok"] and "shop" in outlets()["detail"]
    assert call("PUT", "/channels/pos", {"locations": ["shop"]})[0] == 200
    assert outlets()["ok"]


def test_a_status_name_with_a_comma_is_kept_whole(env: None) -> None:
    status, body = call("PUT", "/settings/shipstation.status_map", {"value": {"shipped": "Sent,cancelled=Gone"}})
    assert status == 200 and body["value"]["shipped"] == "Sent,cancelled=Gone"
    assert body["value"]["cancelled"] == "cancelled"
