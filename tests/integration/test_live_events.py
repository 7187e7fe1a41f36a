"""Live events through the admin API: an allocation only the live channel sells from, pushes of
chosen SKUs paused on chosen channels, and both undone when the event ends."""

from __future__ import annotations

import json
from typing import Any

from omnistock import runtime
from omnistock.push import targets
from tests.helpers import FakeContext, http_event, load_function


def call(method: str, path: str, body: Any = None) -> tuple[int, Any]:
    answer = load_function("admin_api").lambda_handler(http_event(method, path, body), FakeContext())
    return answer["statusCode"], json.loads(answer["body"])


def shown(channel: str, sku: str) -> int | None:
    config = runtime.app().ledger.store.channel(channel)
    assert config is not None
    found = targets(config, [runtime.app().pushes.push_state(sku)], force=True)
    return found[0].quantity if found else None  # None: not pushed to that channel


def test_an_event_allocates_pauses_and_gives_everything_back(handler_env: None) -> None:
    ledger = runtime.app().ledger
    ledger.set_channel("live", ["shop"], platform="commentsold")
    ledger.set_channel("web", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
    ledger.upsert_catalog("TEE", ["shop"], {"live": "1", "web": "gid://shopify/InventoryItem/1"})
    ledger.report_count("TEE", "shop", 10, 1, "pos", "c1")
    event = {"event_id": "friday-live", "channel": "live", "allocations": {"TEE": 4}, "paused": {"web": ["TEE"]}}
    status, started = call("POST", "/live-events", event)
    assert status == 200 and started["state"] == "running"
    assert (shown("live", "TEE"), shown("web", "TEE")) == (10, None)  # web: paused, left alone
    assert call("POST", "/live-events", event)[1]["started_at"] == started["started_at"]  # a repeat: the same
    ledger.report_count("TEE", "shop", 8, 2, "pos", "c2")
    status, ended = call("POST", "/live-events/friday-live/end")
    assert status == 200 and ended["state"] == "ended"
    assert (shown("live", "TEE"), shown("web", "TEE")) == (8, 8)
    jobs = runtime.app().sync.jobs.running_before("9999")
    assert [(job.channel, job.skus) for job in jobs] == [("web", ("TEE",))]  # web brought in line now
    assert call("POST", "/live-events/friday-live/end")[1]["state"] == "ended"


def test_an_event_on_unknown_channels_or_skus_is_refused(handler_env: None) -> None:
    runtime.app().ledger.set_channel("live", ["shop"], platform="commentsold")
    assert call("POST", "/live-events", {"event_id": "e1", "channel": "nope", "allocations": {}})[0] == 404
    assert call("POST", "/live-events", {"event_id": "e1", "channel": "live", "allocations": {"X": 1}})[0] == 404
    assert call("POST", "/live-events", {"event_id": "e1", "channel": "live", "allocations": {"X": -1}})[0] == 422
    assert call("GET", "/live-events/e1")[0] == 404


def test_two_events_cannot_change_the_same_policy(handler_env: None) -> None:
    ledger = runtime.app().ledger
    ledger.set_channel("live", ["shop"], platform="commentsold")
    ledger.upsert_catalog("TEE", ["shop"], {"live": "1"})
    ledger.report_count("TEE", "shop", 10, 1, "pos", "c1")  # an allocation takes units there are
    first = {"event_id": "a", "channel": "live", "allocations": {"TEE": 4}}
    assert call("POST", "/live-events", first)[0] == 200
    status, refused = call("POST", "/live-events", {"event_id": "b", "channel": "live", "allocations": {"TEE": 6}})
    assert status == 409 and "'a'" in refused["message"]
    assert call("POST", "/live-events/a/end")[0] == 200
    assert call("POST", "/live-events", {"event_id": "b", "channel": "live", "allocations": {"TEE": 6}})[0] == 200
    assert runtime.app().pushes.push_state("TEE").policies["live"].allocation == 6
