"""Mistakes are refused with a 4xx that says what would be lost, and change nothing: a PUT
that would drop a listing or a location still holding units, an allocation above what there
is, a Sync Now naming a SKU that does not exist. PATCH changes only what it names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.helpers import FakeContext, http_event, load_function


@pytest.fixture
def api(handler_env: None) -> Any:
    module = load_function("admin_api")

    def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
        response = module.lambda_handler(http_event(method, path, body), FakeContext())
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    assert (
        call("PUT", "/skus/TEE", {"locations": ["shop", "web"], "listings": {"shopify": "1001"}, "title": "Tee"})[0]
        == 200
    )
    assert call("PUT", "/channels/shopify", {"locations": ["shop", "web"]})[0] == 200
    assert call("POST", "/skus/TEE/counts", {"location": "web", "on_hand": 5, "version": 1, "event_id": "c1"})[0] == 200
    return call


def catalog(api: Any) -> Any:
    return api("GET", "/skus/TEE")[1]


def test_a_put_without_the_listing_is_refused_and_changes_nothing(api: Any) -> None:
    before = catalog(api)
    status, body = api("PUT", "/skus/TEE", {"locations": ["shop", "web"], "title": "New title"})
    assert status == 409 and "shopify listing '1001'" in body["message"] and "PATCH" in body["message"]
    assert catalog(api) == before


def test_a_put_dropping_a_location_with_stock_is_refused(api: Any) -> None:
    status, body = api("PUT", "/skus/TEE", {"locations": ["shop"], "listings": {"shopify": "1001"}})
    assert status == 409 and "location 'web' with 5 on hand" in body["message"]
    assert api("GET", "/channels/shopify/skus/TEE")[1]["available"] == 5


def test_allow_drop_means_it(api: Any) -> None:
    status, body = api("PUT", "/skus/TEE", {"locations": ["shop"], "allow_drop": True})
    assert status == 200 and body["listings"] == {} and body["locations"] == ["shop"]


def test_an_empty_location_may_be_dropped(api: Any) -> None:
    status, body = api("PUT", "/skus/TEE", {"locations": ["web"], "listings": {"shopify": "1001"}})
    assert status == 200 and body["locations"] == ["web"]


def test_patch_merges_listings_and_keeps_the_rest(api: Any) -> None:
    status, body = api("PATCH", "/skus/TEE", {"title": "Renamed", "listings": {"commentsold": "cs-9"}})
    assert status == 200
    assert (body["title"], body["listings"], body["locations"]) == (
        "Renamed",
        {"shopify": "1001", "commentsold": "cs-9"},
        ["shop", "web"],
    )
    assert api("PATCH", "/skus/TEE", {"listings": {"commentsold": None}})[1]["listings"] == {"shopify": "1001"}
    status, body = api("PATCH", "/skus/TEE", {"locations": ["shop"]})
    assert status == 409 and "location 'web'" in body["message"]
    assert api("PATCH", "/skus/TEE", {"listings": {"shopify": None}})[1]["listings"] == {}  # named: meant
    assert api("PATCH", "/skus/NOPE", {"title": "x"})[0] == 404


def test_an_allocation_above_what_is_available_is_refused(api: Any) -> None:
    status, body = api("PUT", "/skus/TEE/channels/shopify", {"allocation": 40})
    assert status == 409 and "5 available" in body["message"]
    assert api("PUT", "/skus/TEE/channels/shopify", {"allocation": 5})[0] == 200
    assert api("PUT", "/channels/live", {"locations": ["shop", "web"]})[0] == 200
    status, body = api("POST", "/live-events", {"event_id": "ev1", "channel": "live", "allocations": {"TEE": 40}})
    assert status == 409 and "cannot allocate 40" in body["message"]
    assert api("GET", "/live-events/ev1")[0] == 404


def test_sync_now_naming_an_unknown_sku_is_a_404_not_a_job(api: Any) -> None:
    status, body = api("POST", "/sync-now", {"skus": ["TEE", "GHOST"]})
    assert status == 404 and "'GHOST'" in body["message"]


def test_a_channel_naming_an_unknown_location_is_refused_until_it_is_registered(api: Any) -> None:
    status, body = api("PUT", "/channels/web", {"locations": ["shp"]})  # a typo of "shop"
    assert status == 400 and "unknown location 'shp'" in body["message"] and "ledger.locations" in body["message"]
    assert api("GET", "/channels/web/skus/TEE")[0] == 404  # nothing was saved
    assert api("PUT", "/settings/ledger.locations", {"value": ["warehouse"]})[0] == 200
    assert api("PUT", "/channels/web", {"locations": ["warehouse", "shop"]})[0] == 200
    assert api("PUT", "/channels/shopify", {"locations": ["shop", "web"]})[0] == 200  # its own: still fine
