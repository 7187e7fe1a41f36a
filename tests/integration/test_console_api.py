"""The routes the console uses, in-process on moto: who may do what through /console/api, the
problems inbox and its actions, bulk policies, push latency, orders by day, a SKU on every
channel, and a live event's board."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from omnistock.clock import iso, utc_now
from omnistock.models import SyncEntry
from omnistock.orders import ChannelOrder, OrderLine
from omnistock.policy import SkuPolicy
from omnistock.store.push_store import Pushed
from omnistock.wiring import Wiring
from tests.helpers import FakeContext, http_event, load_function
from tests.integration.conftest import StreamReader

AT = "2026-11-23T12:00:00.000Z"


@pytest.fixture
def call(handler_env: None) -> Any:
    module = load_function("admin_api")

    def send(method: str, path: str, body: Any = None, *, groups: str | None = "[admin]", **query: str) -> Any:
        event = http_event(method, path, body, query or None)
        if groups is not None:  # through the console's route, as its JWT authorizer passes the claims
            event["routeKey"] = event["requestContext"]["routeKey"] = "ANY /console/api/{proxy+}"
            event["rawPath"] = event["requestContext"]["http"]["path"] = f"/console/api{path}"
            claims = {"sub": "u-1", "email": "staff@example.com", "email_verified": "true"}
            claims |= {"cognito:groups": groups} if groups else {}
            event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
        response = module.lambda_handler(event, FakeContext())
        return response["statusCode"], json.loads(response["body"]) if response.get("body") else None

    return send


@pytest.fixture
def shop(call: Any) -> Any:
    for sku in ("TEE-1", "TEE-2", "TEE-3"):
        assert (
            call("PUT", f"/skus/{sku}", {"locations": ["shop", "web"], "listings": {"shopify": f"i-{sku}"}})[0] == 200
        )
        count = {"location": "shop", "on_hand": 10, "version": 1, "event_id": f"c-{sku}"}
        assert call("POST", f"/skus/{sku}/counts", count)[0] == 200
    channel = {"locations": ["shop", "web"], "platform": "shopify", "target_location": "gid://shopify/Location/1"}
    assert call("PUT", "/channels/shopify", channel)[0] == 200
    return call


# ---------------------------------------------------------------- who may do what
def test_a_viewer_reads_everything_and_changes_nothing(shop: Any) -> None:
    assert shop("GET", "/skus/TEE-1", groups="[viewer]")[0] == 200
    assert shop("GET", "/problems", groups="[viewer]")[0] == 200
    for method, path, body in [
        ("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1"], "auto_sync": False}),
        ("PUT", "/skus/TEE-9", {"locations": ["shop"]}),
        ("POST", "/skus/TEE-1/counts", {"location": "shop", "on_hand": 1, "version": 2, "event_id": "c9"}),
        ("POST", "/sync-now", {}),
        ("PUT", "/settings/holds.default_minutes", {"value": 5}),
        ("POST", "/channels/shopify/go-live", {}),
    ]:
        status, body_out = shop(method, path, body, groups="[viewer]")
        assert status == 403, (method, path)
        assert "viewer" in body_out["message"]
    status, stock = shop("GET", "/skus/TEE-1")
    assert (status, stock["available"]) == (200, 10)  # the refused count changed nothing
    assert shop("GET", "/skus/TEE-9")[0] == 404
    assert shop("GET", "/skus/TEE-1/channels")[1]["channels"][0]["auto_sync"] is None


def test_a_user_in_no_group_is_refused_even_reads(shop: Any) -> None:
    assert shop("GET", "/skus/TEE-1", groups="")[0] == 403
    assert shop("GET", "/skus/TEE-1", groups="[auditors]")[0] == 403


def test_admins_change_and_the_audit_names_them(shop: Any) -> None:
    assert shop("PUT", "/settings/holds.default_minutes", {"value": 7}, groups="[viewer admin]")[0] == 200
    entries = shop("GET", "/audit")[1]["entries"]
    assert entries[0]["who"] == "staff@example.com"


def test_the_iam_routes_are_not_the_console_s(shop: Any) -> None:
    """Without the console's route key the claims decide nothing (IAM policy does)."""
    assert shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1"], "paused": True}, groups=None)[0] == 200


# ---------------------------------------------------------------- bulk policies
def test_bulk_policies_change_only_what_is_given(shop: Any) -> None:
    skus = ["TEE-1", "TEE-2", "TEE-3"]
    status, body = shop("POST", "/policies", {"channel": "shopify", "skus": skus, "auto_sync": False})
    assert (status, body["changed"], body["skus"]) == (200, 3, 3)
    assert shop("POST", "/policies", {"channel": "shopify", "skus": skus, "auto_sync": False})[1]["changed"] == 0
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1"], "buffer": 2})
    view = shop("GET", "/skus/TEE-1/channels")[1]["channels"][0]
    assert (view["auto_sync"], view["buffer"]) == (False, 2)
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1"], "buffer": None, "auto_sync": True})
    view = shop("GET", "/skus/TEE-1/channels")[1]["channels"][0]
    assert (view["auto_sync"], view["buffer"], view["would_show"]) == (True, None, 10)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"channel": "shopify", "skus": ["TEE-1", "NOPE"], "paused": True}, 404),
        ({"channel": "nope", "skus": ["TEE-1"], "paused": True}, 404),
        ({"channel": "shopify", "skus": ["TEE-1"]}, 422),
        ({"channel": "shopify", "skus": ["TEE-1"], "paused": None}, 422),
        ({"channel": "shopify", "skus": [f"S{n}" for n in range(251)], "paused": True}, 422),
        ({"channel": "shopify", "skus": ["TEE-1"], "buffer": -1}, 422),
    ],
)
def test_bad_bulk_changes_are_refused_and_change_nothing(shop: Any, body: dict[str, Any], status: int) -> None:
    assert shop("POST", "/policies", body)[0] == status
    view = shop("GET", "/skus/TEE-1/channels")[1]["channels"][0]
    assert (view["paused"], view["auto_sync"]) == (False, None)


def test_a_sku_on_each_channel_says_how_its_number_comes_about(shop: Any, wiring: Wiring) -> None:
    shop("PUT", "/channels/live", {"locations": ["shop"]})
    wiring.pushes.save_policy("TEE-1", "live", SkuPolicy(allocation=3), wiring.clock())
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1"], "buffer": 1, "max_shown": 5})
    view = next(c for c in shop("GET", "/skus/TEE-1/channels")[1]["channels"] if c["channel"] == "shopify")
    assert view["steps"] == [
        "available at its locations: shop 10 + web 0 = 10",
        "minus 3 allocated to live's live event",
        "minus buffer 1",
        "at most 5 (cap)",
        "= 5",
    ]
    assert view["would_show"] == 5
    assert shop("GET", "/skus/NOPE/channels")[0] == 404


def test_the_inventory_narrows_to_skus_in_a_state_on_a_channel(shop: Any, wiring: Wiring) -> None:
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1", "TEE-3"], "paused": True})
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-2", "TEE-3"], "auto_sync": False})
    failed = SyncEntry("TEE-2", "shopify", "a1", AT, 0, 10, "stock change", "failed", "HTTP 502")
    wiring.pushes.record_sync([failed], wiring.clock())

    def listed(**query: str) -> list[str]:
        return [row["sku"] for row in shop("GET", "/skus", channel="shopify", **query)[1]["skus"]]

    assert listed(state="paused") == ["TEE-1", "TEE-3"]
    assert listed(state="auto_sync_off") == ["TEE-2", "TEE-3"]
    assert listed(state="push_failed") == ["TEE-2"]
    assert listed(state="paused", prefix="TEE-3") == ["TEE-3"]
    first = shop("GET", "/skus", channel="shopify", state="paused", limit="1")[1]
    assert [row["sku"] for row in first["skus"]] == ["TEE-1"] and first["next"] == "TEE-1"
    assert listed(state="paused", limit="1", after="TEE-1") == ["TEE-3"]
    row = shop("GET", "/skus", channel="shopify", state="paused", prefix="TEE-1")[1]["skus"][0]
    assert (row["available"], row["locations"][0]["location"]) == (10, "shop")  # the row as the full list has it
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1", "TEE-3"], "paused": False})
    assert listed(state="paused") == []
    assert listed(state="auto_sync_off") == ["TEE-2", "TEE-3"]  # the other state is kept
    assert listed(state="paused", prefix="TEE-1", after="TEE-1~") == []
    wiring.pushes.note("order:1", "shopify", "fulfillment", "failed", "HTTP 422", wiring.clock())
    page = shop("GET", "/skus", channel="shopify", state="push_failed", prefix="order:", limit="1")[1]
    assert page == {"skus": [], "next": "order:1"}  # not a SKU: no row, but the paging goes on
    assert shop("GET", "/skus", state="paused")[0] == 400  # a state is on a channel
    assert shop("GET", "/skus", channel="shopify", state="drifted")[0] == 422
    assert shop("GET", "/skus", channel="nope", state="paused")[0] == 404


# ---------------------------------------------------------------- problems
def _order(sku: str, order_id: str = "5001") -> ChannelOrder:
    line = OrderLine("l-1", sku, "New hat", 2)
    return ChannelOrder("shopify", order_id, "#5001", AT, AT, (line,), financial_status="paid")


def test_an_unmapped_line_is_fixed_from_the_inbox(shop: Any, wiring: Wiring) -> None:
    wiring.order_desk.ingest(_order("HAT-NEW"))
    wiring.order_desk.ingest(_order("HAT-NEW"))  # redelivered: still one problem
    problems = shop("GET", "/problems", kind="unmapped")[1]["problems"]
    assert [(p["subject"], p["channel"], p["units"]) for p in problems] == [("HAT-NEW", "shopify", 2)]
    problem = problems[0]
    assert problem["actions"] == ["retry", "dismiss"] and "catalog" in problem["hint"]
    status, body = shop("POST", "/problems/retry", {"id": problem["id"]})
    assert status == 409 and "not in the catalog" in body["message"]  # not fixed yet: it stays
    assert len(shop("GET", "/problems")[1]["problems"]) == 1
    shop("PUT", "/skus/HAT-NEW", {"locations": ["shop", "web"]})
    shop("POST", "/skus/HAT-NEW/counts", {"location": "shop", "on_hand": 5, "version": 1, "event_id": "c-hat"})
    status, body = shop("POST", "/problems/retry", {"id": problem["id"]})
    assert (status, body["resolved"]) == (200, True)
    assert shop("GET", "/problems")[1]["problems"] == []
    assert shop("GET", "/skus/HAT-NEW")[1]["available"] == 3
    lines = shop("GET", "/orders/shopify/5001")[1]["lines"]
    assert [(line["sku"], line["taken"]) for line in lines] == [("HAT-NEW", 2)]
    assert shop("POST", "/problems/retry", {"id": problem["id"]})[0] == 404  # resolved once


def test_two_orders_of_an_unknown_sku_are_two_lines_to_settle(shop: Any, wiring: Wiring) -> None:
    wiring.order_desk.ingest(_order("HAT-NEW", "5001"))
    wiring.order_desk.ingest(_order("HAT-NEW", "5002"))
    problems = shop("GET", "/problems", kind="unmapped")[1]["problems"]
    assert len(problems) == 2 and {p["subject"] for p in problems} == {"HAT-NEW"}
    shop("PUT", "/skus/HAT-NEW", {"locations": ["shop", "web"]})
    for problem in problems:
        assert shop("POST", "/problems/retry", {"id": problem["id"]})[1]["resolved"] is True
    for order_id in ("5001", "5002"):
        assert [line["taken"] for line in shop("GET", f"/orders/shopify/{order_id}")[1]["lines"]] == [2]


def test_retrying_a_failed_push_starts_a_push_and_the_push_resolves_it(shop: Any, wiring: Wiring) -> None:
    failed = SyncEntry("TEE-2", "shopify", "a1", AT, 0, 10, "stock change", "failed", "HTTP 502")
    wiring.pushes.record_sync([failed], wiring.clock())
    problem = shop("GET", "/problems")[1]["problems"][0]
    status, body = shop("POST", "/problems/retry", {"id": problem["id"]})
    assert (status, body["resolved"]) == (200, False) and "Sync Now job" in body["detail"]
    job = wiring.sync.job(body["detail"].rsplit(" ", 1)[1])
    assert (job.channel, job.skus) == ("shopify", ("TEE-2",))
    wiring.pushes.note("order:9", "shopify", "fulfillment", "failed", "HTTP 422", wiring.clock())
    fulfilment = next(p for p in shop("GET", "/problems")[1]["problems"] if p["subject"] == "order:9")
    assert shop("POST", "/problems/retry", {"id": fulfilment["id"]})[0] == 400  # not a SKU: dismiss it


def test_platform_codes_are_said_in_words(shop: Any, wiring: Wiring) -> None:
    code = "ITEM_NOT_STOCKED_AT_LOCATION"
    wiring.pushes.record_sync(
        [SyncEntry("TEE-3", "shopify", "a9", AT, 0, 10, "stock change", "failed", code)], wiring.clock()
    )
    problem = shop("GET", "/problems")[1]["problems"][0]
    shown = shop("GET", "/sync-history", sku="TEE-3")[1]["entries"][0]
    for said in (problem, shown):
        assert said["error"] == code and "track quantity" in said["message"]
        assert "Retry" in said["hint"]


def test_a_failed_push_leaves_the_inbox_once_pushed(shop: Any, wiring: Wiring) -> None:
    failed = SyncEntry("TEE-2", "shopify", "a1", AT, 0, 10, "stock change", "failed", "HTTP 502")
    wiring.pushes.record_sync([failed, replace(failed, attempt="a2")], wiring.clock())  # one problem, not two
    problems = shop("GET", "/problems")[1]["problems"]
    assert [(p["kind"], p["subject"], p["error"]) for p in problems] == [("failed", "TEE-2", "HTTP 502")]
    wiring.pushes.record_pushed({("TEE-2", "shopify"): Pushed(10, "2026-11-23T12:05:00.000Z")})
    assert shop("GET", "/problems")[1]["problems"] == []
    assert wiring.table.get("PROBLEMS", problems[0]["id"]) is None  # and it is gone for good


def test_what_cannot_be_retried_is_dismissed(shop: Any, wiring: Wiring) -> None:
    wiring.pushes.note("order:77", "shipstation", "shipnotify", "unknown_order", "no order #77", wiring.clock())
    problem = shop("GET", "/problems", kind="unknown_order")[1]["problems"][0]
    assert problem["actions"] == ["dismiss"]
    assert shop("POST", "/problems/retry", {"id": problem["id"]})[0] == 400
    assert shop("POST", "/problems/dismiss", {"id": problem["id"]}, groups="[viewer]")[0] == 403
    assert shop("POST", "/problems/dismiss", {"id": problem["id"]})[1]["resolved"] is True
    assert shop("GET", "/problems")[1]["problems"] == []
    assert shop("GET", "/problems", kind="bogus")[0] == 422


def test_the_inbox_pages(shop: Any, wiring: Wiring) -> None:
    failed = SyncEntry("TEE-1", "shopify", "a1", AT, 0, 10, "stock change", "failed", "HTTP 502")
    wiring.pushes.record_sync([failed], wiring.clock())
    wiring.pushes.record_pushed({("TEE-1", "shopify"): Pushed(10, "2026-11-23T12:05:00.000Z")})  # resolved since
    for n in range(5):
        wiring.pushes.note(f"order:{n}", "shipstation", "shipnotify", "unknown_order", "x", wiring.clock())
    first = shop("GET", "/problems", limit="3")[1]
    assert len(first["problems"]) == 2 and first["next"]  # the resolved one left the page, not the paging
    second = shop("GET", "/problems", limit="3", after=first["next"])[1]
    third = shop("GET", "/problems", limit="3", after=second["next"])[1]
    seen = [p["subject"] for p in first["problems"] + second["problems"] + third["problems"]]
    assert seen == [f"order:{n}" for n in range(5)] and third["next"] is None
    assert shop("GET", "/problems", kind="failed", after="unknown_order#zzz")[1]["problems"] == []


# ---------------------------------------------------------------- latency, orders, live board
def test_latency_is_read_from_the_pushes_of_the_last_hour(shop: Any, wiring: Wiring) -> None:
    assert shop("GET", "/latency")[1] == {"window_minutes": 60, "pushes": 0, "p50_ms": None, "p99_ms": None}
    now = utc_now()  # the handler reads the last hour by the real clock
    entries = [
        SyncEntry(f"TEE-{n % 3 + 1}", "shopify", f"a{n}", iso(now), 0, 1, "stock change", "applied", waited_ms=100 * n)
        for n in range(1, 101)
    ]
    stale = SyncEntry("TEE-1", "shopify", "old", iso(now - timedelta(hours=2)), 0, 1, "x", "applied", waited_ms=10**6)
    wiring.pushes.record_sync([*entries, stale], now)
    body = shop("GET", "/latency")[1]
    assert (body["pushes"], body["p50_ms"], body["p99_ms"]) == (100, 5000, 9900)


def test_orders_by_day_list_each_order_once(shop: Any, wiring: Wiring) -> None:
    wiring.order_desk.ingest(_order("TEE-1", "6001"))
    later = replace(_order("TEE-1", "6001"), updated_at="2026-11-23T12:01:00.000Z", note="gift")
    wiring.order_desk.ingest(later)
    wiring.order_desk.ingest(_order("TEE-2", "6002"))
    body = shop("GET", "/orders", day=wiring.clock().date().isoformat())[1]
    assert sorted(o["order_id"] for o in body["orders"]) == ["6001", "6002"]
    assert shop("GET", "/orders", day="2026-13-45")[0] == 422


def test_a_live_event_board_counts_holds_and_checkouts(shop: Any, stream: StreamReader) -> None:
    event = {"event_id": "ev-1", "channel": "shopify", "allocations": {"TEE-1": 4}}
    assert shop("POST", "/live-events", event)[0] == 200
    hold = {"hold_id": "cart-1", "sku": "TEE-1", "location": "shop", "qty": 2, "source": "shopify"}
    assert shop("POST", "/holds", hold)[0] == 201
    assert shop("POST", "/holds", hold | {"hold_id": "cart-2", "qty": 1})[0] == 201
    assert shop("POST", "/holds/cart-1/checkout", {"event_id": "co-1", "source": "shopify"})[0] == 200
    records = {"Records": stream.read()}  # the movement log, as the stream brings it
    assert load_function("movement_log").lambda_handler(records, FakeContext()) == {"batchItemFailures": []}
    rows = shop("GET", "/live-events/ev-1/board")[1]["rows"]
    assert rows == [{"sku": "TEE-1", "allocated": 4, "held": 1, "sold": 2, "left": 7}]
    assert shop("GET", "/skus/TEE-1/channels")[1]["held_by"] == {"shop": {"shopify": 1}}
    assert shop("GET", "/live-events/nope/board")[0] == 404


# ---------------------------------------------------------------- a policy change over a filter, as a job
def _run(wiring: Wiring, job_id: str) -> Any:
    """The job's chunks as the stream brings them, each delivered twice."""
    for _ in range(20):
        job = wiring.sync.job(job_id)
        if job.state == "done":
            return job
        wiring.sync.run_chunk(job)
        assert wiring.sync.run_chunk(job) is None  # the redelivery finds the cursor moved
    raise AssertionError("the job did not finish")


def test_a_change_over_everything_in_a_filter_runs_as_a_job(
    shop: Any, wiring: Wiring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("omnistock.bulk_policies.CHUNK", 2)
    for sku in ("TEE-4", "TEE-5", "HAT-1"):
        shop("PUT", f"/skus/{sku}", {"locations": ["shop"]})
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-1", "TEE-2", "TEE-4", "HAT-1"], "auto_sync": False})
    status, job = shop(
        "POST", "/policies/jobs", {"channel": "shopify", "prefix": "TEE", "state": "auto_sync_off", "auto_sync": True}
    )
    assert (status, job["purpose"], job["state"]) == (202, "policies", "running")
    done = _run(wiring, job["job_id"])
    assert (done.done, done.applied) == (3, 3)
    off = [row["sku"] for row in shop("GET", "/skus", channel="shopify", state="auto_sync_off")[1]["skus"]]
    assert off == ["HAT-1"]  # outside the prefix: untouched
    assert shop("GET", f"/sync-now/{job['job_id']}", groups="[viewer]")[1]["state"] == "done"
    status, job = shop("POST", "/policies/jobs", {"channel": "shopify", "buffer": 2})  # the whole catalog
    done = _run(wiring, job["job_id"])
    assert (done.done, done.applied, done.total) == (6, 6, 6)
    assert shop("POST", "/policies/jobs", {"channel": "shopify", "buffer": 2}, groups="[viewer]")[0] == 403
    assert shop("POST", "/policies/jobs", {"channel": "shopify"})[0] == 422
    assert shop("POST", "/policies/jobs", {"channel": "nope", "paused": True})[0] == 404


def test_pending_lots_older_than_a_threshold_until_the_master_counts_them(shop: Any, wiring: Wiring) -> None:
    sale = {"location": "shop", "qty": 2, "event_id": "o-77", "source": "shopify"}
    assert shop("POST", "/skus/TEE-1/sales", sale)[0] == 200  # sold now: not old yet
    assert shop("GET", "/problems/pending-lots")[1]["lots"] == []
    wiring.ledger.sell("TEE-2", "shop", 1, "commentsold", "o-78")  # sold at the fixture's time, days ago
    body = shop("GET", "/problems/pending-lots", older_than_hours="24")[1]
    assert [(lot["sku"], lot["location"], lot["lot"], lot["units"]) for lot in body["lots"]] == [
        ("TEE-2", "shop", "commentsold:o-78", 1)
    ]
    assert "recount" in body["hint"]
    confirmation = {"location": "shop", "lot": "commentsold:o-78", "applied_version": 2, "event_id": "cf-78"}
    assert shop("POST", "/skus/TEE-2/confirmations", confirmation)[0] == 200
    count = {"location": "shop", "on_hand": 9, "version": 2, "event_id": "c-78"}
    assert shop("POST", "/skus/TEE-2/counts", count)[0] == 200  # the POS's count includes the sale
    assert shop("GET", "/problems/pending-lots")[1]["lots"] == []
    assert shop("GET", "/problems/pending-lots", older_than_hours="0")[0] == 422


def test_a_shortfall_is_a_problem_while_it_lasts(shop: Any, wiring: Wiring, stream: StreamReader) -> None:
    movement_log = load_function("movement_log").lambda_handler

    def log() -> None:
        records = {"Records": stream.read()}
        assert movement_log(records, FakeContext()) == {"batchItemFailures": []}
        assert movement_log(records, FakeContext()) == {"batchItemFailures": []}  # redelivered: the same

    hold = {"hold_id": "cart-9", "sku": "TEE-1", "location": "shop", "qty": 4, "source": "commentsold"}
    assert shop("POST", "/holds", hold)[0] == 201
    count = {"location": "shop", "on_hand": 1, "version": 2, "event_id": "c-short"}
    assert shop("POST", "/skus/TEE-1/counts", count)[0] == 200  # the shelf has 1, 4 are held
    log()
    problems = shop("GET", "/problems", kind="shortfall")[1]["problems"]
    assert [(p["subject"], p["channel"], p["units"], p["actions"]) for p in problems] == [
        ("TEE-1", "shop", 3, ["dismiss"])
    ]
    assert "Recount" in problems[0]["hint"]
    assert shop("POST", "/holds/cart-9/release", {"event_id": "rel-9"})[0] == 200
    log()
    assert shop("GET", "/problems", kind="shortfall")[1]["problems"] == []


def test_the_inventory_narrows_to_skus_short_where_a_channel_sells(
    shop: Any, wiring: Wiring, stream: StreamReader
) -> None:
    for sku, held in (("TEE-1", 4), ("TEE-3", 3)):  # the shelf then counts 1 of each
        hold = {"hold_id": f"cart-{sku}", "sku": sku, "location": "shop", "qty": held, "source": "commentsold"}
        assert shop("POST", "/holds", hold)[0] == 201
        count = {"location": "shop", "on_hand": 1, "version": 2, "event_id": f"c-{sku}"}
        assert shop("POST", f"/skus/{sku}/counts", count)[0] == 200
    movement_log = load_function("movement_log").lambda_handler
    assert movement_log({"Records": stream.read()}, FakeContext()) == {"batchItemFailures": []}

    def listed(**query: str) -> list[str]:
        return [row["sku"] for row in shop("GET", "/skus", channel="shopify", state="shortfall", **query)[1]["skus"]]

    assert listed() == ["TEE-1", "TEE-3"]
    first = shop("GET", "/skus", channel="shopify", state="shortfall", limit="1")[1]
    assert [row["sku"] for row in first["skus"]] == ["TEE-1"] and first["next"] == "TEE-1"
    assert listed(after="TEE-1") == ["TEE-3"] and listed(prefix="TEE-3") == ["TEE-3"]
    assert shop("POST", "/holds/cart-TEE-1/release", {"event_id": "rel-1"})[0] == 200
    assert movement_log({"Records": stream.read()}, FakeContext()) == {"batchItemFailures": []}
    assert listed() == ["TEE-3"]  # whole again: it leaves the filter


def test_the_jobs_running_now_are_listed(shop: Any, wiring: Wiring) -> None:
    started = shop("POST", "/sync-now", {"channel": "shopify", "skus": ["TEE-1"]})[1]
    running = shop("GET", "/sync-now", groups="[viewer]")[1]["jobs"]
    assert started["job_id"] in [job["job_id"] for job in running]
    wiring.sync.run_chunk(wiring.sync.job(started["job_id"]))  # done: it leaves the running index
    assert started["job_id"] not in [job["job_id"] for job in shop("GET", "/sync-now")[1]["jobs"]]


def test_each_row_carries_every_pushed_channel_s_column(shop: Any, wiring: Wiring) -> None:
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-2"], "auto_sync": False})
    shop("POST", "/policies", {"channel": "shopify", "skus": ["TEE-3"], "buffer": 4})
    wiring.pushes.record_pushed({("TEE-1", "shopify"): Pushed(10, "2026-11-23T11:00:00.000Z")})
    failed = SyncEntry("TEE-1", "shopify", "a1", AT, 10, 10, "stock change", "failed", "HTTP 502")
    wiring.pushes.record_sync([failed], wiring.clock())
    rows = shop("GET", "/skus", channels="true")[1]["skus"]
    cells = {row["sku"]: row["channels"]["shopify"] for row in rows}
    assert cells["TEE-1"] == {"would_show": 10, "pushed": 10, "pushed_at": "2026-11-23T11:00:00.000Z", "failed": True}
    assert cells["TEE-2"] == {"would_show": None, "pushed": None, "pushed_at": None, "failed": False}
    assert cells["TEE-3"]["would_show"] == 6
    wiring.pushes.record_pushed({("TEE-1", "shopify"): Pushed(10, "2026-11-23T12:30:00.000Z")})
    assert shop("GET", "/skus", channels="true", prefix="TEE-1")[1]["skus"][0]["channels"]["shopify"]["failed"] is False
    assert shop("GET", "/skus")[1]["skus"][0]["channels"] is None  # only when asked for
    paused = shop("GET", "/skus", channel="shopify", state="auto_sync_off", channels="true")[1]["skus"]
    assert [(row["sku"], row["channels"]["shopify"]["would_show"]) for row in paused] == [("TEE-2", None)]


def test_a_sync_now_over_a_filter_needs_a_pushed_channel(shop: Any) -> None:
    status, body = shop("POST", "/sync-now/filter", {"channel": "shopify", "prefix": "TEE"})
    assert status == 400 and "shadow" in body["message"]  # a new channel starts in shadow: preview it instead
    assert shop("POST", "/sync-now/filter", {"channel": "nope"})[0] == 404
    assert shop("POST", "/sync-now/filter", {"channel": "shopify"}, groups="[viewer]")[0] == 403
