"""The admin function in-process with HTTP API events, on moto: routes, statuses, bad input."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from omnistock import runtime
from tests.helpers import FakeContext, http_event, load_function
from tests.integration.conftest import TABLE


@pytest.fixture
def api(handler_env: None) -> Any:
    module = load_function("admin_api")

    def call(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> tuple[int, Any]:
        response = module.lambda_handler(http_event(method, path, body, query), FakeContext())
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return call


@pytest.fixture
def stocked(api: Any) -> Any:
    assert api("PUT", "/skus/TEE", {"locations": ["shop", "web"], "listings": {"shopify": "1001"}})[0] == 200
    assert api("PUT", "/channels/shopify", {"locations": ["shop", "web"]})[0] == 200
    status, body = api("POST", "/skus/TEE/counts", {"location": "shop", "on_hand": 10, "version": 1, "event_id": "c1"})
    assert (status, body["outcome"]) == (200, "applied")
    return api


def items(dynamodb: Any) -> list[dict[str, Any]]:
    return sorted(dynamodb.scan(TableName=TABLE)["Items"], key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def test_read_stock_explained(stocked: Any) -> None:
    stocked("POST", "/holds", {"hold_id": "h1", "sku": "TEE", "location": "shop", "qty": 2})
    stocked("POST", "/skus/TEE/sales", {"location": "shop", "qty": 1, "event_id": "o1", "source": "shopify"})
    status, body = stocked("GET", "/skus/TEE")
    assert status == 200
    shop = next(level for level in body["locations"] if level["location"] == "shop")
    assert (shop["on_hand"], shop["held"], shop["pending"], shop["available"]) == (10, 2, 1, 7)
    assert shop["pending_lots"][0]["lot"] == "shopify:o1"
    assert body["available"] == 7
    assert body["catalog"]["listings"] == {"shopify": "1001"}


def test_hold_lifecycle_statuses(stocked: Any) -> None:
    status, body = stocked("POST", "/holds", {"hold_id": "h1", "sku": "TEE", "location": "shop", "qty": 3})
    assert (status, body["outcome"], body["hold"]["state"]) == (201, "applied", "active")
    status, body = stocked("POST", "/holds", {"hold_id": "h1", "sku": "TEE", "location": "shop", "qty": 3})
    assert (status, body["outcome"]) == (200, "duplicate")
    status, body = stocked("POST", "/holds", {"hold_id": "h2", "sku": "TEE", "location": "shop", "qty": 8})
    assert (status, body["outcome"], body["available"]) == (409, "refused", 7)
    status, body = stocked("POST", "/holds/h1/checkout", {"event_id": "co1"})
    assert (status, body["hold"]["state"]) == (200, "checked_out")
    assert stocked("GET", "/holds/h1")[1]["ended_by"] == "admin:co1"
    assert stocked("POST", "/holds/nope/checkout", {"event_id": "x"})[0] == 404


def test_channel_availability(stocked: Any) -> None:
    status, body = stocked("GET", "/channels/shopify/skus/TEE")
    assert (status, body["available"], body["by_location"]) == (200, 10, {"shop": 10, "web": 0})
    assert stocked("GET", "/channels/unknown/skus/TEE")[0] == 404


def test_listing_ids_belong_to_one_sku(stocked: Any) -> None:
    status, body = stocked("PUT", "/skus/HAT", {"locations": ["shop"], "listings": {"shopify": "1001"}})
    assert status == 409
    assert "TEE" in body["message"]


@pytest.mark.parametrize(
    ("method", "path", "body", "expected"),
    [
        ("POST", "/skus/TEE/sales", {"location": "shop", "qty": "2", "event_id": "o"}, 422),
        ("POST", "/skus/TEE/sales", {"location": "shop", "qty": 1.5, "event_id": "o"}, 422),
        ("POST", "/skus/TEE/sales", {"location": "shop", "qty": -1, "event_id": "o"}, 422),
        ("POST", "/skus/TEE/sales", {"location": "shop", "qty": 1}, 422),
        ("POST", "/skus/TEE/sales", "{not json", 422),
        ("POST", "/skus/TEE/sales", None, 422),
        ("POST", "/skus/TEE/sales", [1, 2], 422),
        ("POST", "/skus/NOPE/sales", {"location": "shop", "qty": 1, "event_id": "o"}, 404),
        ("POST", "/skus/TEE/sales", {"location": "moon", "qty": 1, "event_id": "o"}, 400),
        ("POST", "/skus/TEE/counts", {"location": "shop", "on_hand": -3, "version": 2, "event_id": "c"}, 422),
        ("POST", "/skus/TEE/adjustments", {"location": "shop", "delta": 0, "event_id": "a"}, 400),
        ("POST", "/skus/TEE/adjustments", {"location": "shop", "delta": -11, "event_id": "a"}, 409),
        ("POST", "/holds", {"hold_id": "h", "sku": "TEE", "location": "shop", "qty": 0}, 422),
        ("POST", "/holds", {"hold_id": "h", "sku": "TEE", "location": "shop", "qty": 1, "minutes": 99999}, 422),
        ("POST", "/holds", {"hold_id": "h", "sku": "NOPE", "location": "shop", "qty": 1}, 404),
        ("PUT", "/skus/TEE", {"locations": []}, 422),
        ("PUT", "/channels/Bad Name", {"locations": ["shop"]}, 422),
        ("GET", "/skus/NOPE", None, 404),
        ("GET", "/skus/TEE/nothing-here", None, 404),
    ],
)
def test_bad_input_is_a_clear_4xx_and_writes_nothing(
    stocked: Any, dynamodb: Any, method: str, path: str, body: Any, expected: int
) -> None:
    before = items(dynamodb)
    status, answer = stocked(method, path, body)
    assert status == expected, answer
    assert answer["message"]
    assert items(dynamodb) == before


def test_storage_failure_is_503_and_writes_nothing(stocked: Any, dynamodb: Any) -> None:
    client = runtime.app().clients.dynamodb
    before = items(dynamodb)

    def fail(**kwargs: Any) -> None:
        raise ClientError(
            {"Error": {"Code": "InternalServerError", "Message": "boom"}},  # type: ignore[typeddict-item]
            "TransactWriteItems",
        )

    client.meta.events.register("before-call.dynamodb.TransactWriteItems", fail)
    try:
        status, body = stocked("POST", "/skus/TEE/sales", {"location": "shop", "qty": 1, "event_id": "o9"})
    finally:
        client.meta.events.unregister("before-call.dynamodb.TransactWriteItems", fail)
    assert status == 503
    assert "retry" in body["message"] or "failed" in body["message"]
    assert items(dynamodb) == before


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/skus/TEE/counts", {"location": "shop", "on_hand": 1, "version": 10**40, "event_id": "big"}),
        (
            "/skus/TEE/counts",
            {"location": "shop", "on_hand": 1, "version": 3, "event_id": "d", "as_of": "2026-13-45T10:00Z"},
        ),
        ("/holds", {"hold_id": "h", "sku": "TEE", "location": "shop", "qty": 1, "expires_at": "2026-02-30T10:00:00Z"}),
        (
            "/holds",
            {
                "hold_id": "h",
                "sku": "TEE",
                "location": "shop",
                "qty": 1,
                "minutes": 5,
                "expires_at": "2099-01-01T00:00:00Z",
            },
        ),
        ("/skus/TEE/confirmations", {"location": "shop", "lot": "x", "applied_version": 10**40, "event_id": "c"}),
    ],
)
def test_out_of_range_numbers_and_impossible_dates_are_422(stocked: Any, dynamodb: Any, path: str, body: Any) -> None:
    before = items(dynamodb)
    status, answer = stocked("POST", path, body)
    assert status == 422, answer
    assert items(dynamodb) == before


def test_channel_policies_history_and_sync_now_routes(stocked: Any) -> None:
    channel = {"locations": ["shop"], "platform": "shopify", "target_location": "gid://shopify/Location/1", "buffer": 1}
    status, body = stocked("PUT", "/channels/shopify", channel)
    assert (status, body["platform"], body["buffer"]) == (200, "shopify", 1)
    assert stocked("PUT", "/channels/shopify", {"locations": ["shop"], "platform": "shopify"})[0] == 422
    status, body = stocked("PUT", "/skus/TEE/channels/shopify", {"paused": True, "allocation": 2})
    assert (status, body["paused"], body["allocation"], body["buffer"]) == (200, True, 2, None)
    assert stocked("PUT", "/skus/NOPE/channels/shopify", {})[0] == 404
    assert stocked("PUT", "/skus/TEE/channels/nowhere", {})[0] == 404
    assert stocked("PUT", "/skus/TEE/channels/shopify", {"buffer": -1})[0] == 422
    assert stocked("GET", "/sync-history") == (200, {"entries": []})  # across every channel
    assert [c["channel"] for c in stocked("GET", "/channels")[1]["channels"]] == ["shopify"]
    assert stocked("GET", "/sync-history", query={"sku": "TEE"}) == (200, {"entries": []})
    status, job = stocked("POST", "/sync-now", {"channel": "shopify"})
    assert (status, job["state"], job["total"]) == (202, "running", 1)
    assert stocked("GET", f"/sync-now/{job['job_id']}")[1]["job_id"] == job["job_id"]
    assert stocked("GET", "/sync-now/" + "0" * 32)[0] == 404
    assert stocked("POST", "/sync-now", {"channel": "nowhere"})[0] == 404


def test_the_inventory_pages_through_the_catalog_in_sku_order(handler_env: None) -> None:
    module = load_function("admin_api")

    def get(query: dict[str, str]) -> dict[str, Any]:
        answer = module.lambda_handler(http_event("GET", "/skus", None, query), FakeContext())
        assert answer["statusCode"] == 200, answer["body"]
        return dict(json.loads(answer["body"]))

    ledger = runtime.app().ledger
    skus = sorted({f"{kind}-{n:03d}" for kind in ("CAP", "TEE") for n in range(0, 120, 7)})
    for sku in skus:
        ledger.upsert_catalog(sku, ["shop", "web"], {}, f"<b>{sku}</b>")
    ledger.report_count("TEE-007", "shop", 5, 1, "pos", "c1")
    seen, after = [], ""
    while True:
        body = get({"prefix": "TEE", "limit": "7", **({"after": after} if after else {})})
        seen += [row["sku"] for row in body["skus"]]
        if body["next"] is None:
            break
        after = body["next"]
    assert seen == [sku for sku in skus if sku.startswith("TEE")]
    first = get({"limit": "100"})
    assert [row["sku"] for row in first["skus"]] == skus[:100] and first["next"] is None
    row = next(row for row in first["skus"] if row["sku"] == "TEE-007")
    assert row["available"] == 5 and row["title"] == "<b>TEE-007</b>"
    assert {level["location"]: level["on_hand"] for level in row["locations"]} == {"shop": 5}
