"""ShopifyInventory against scripted HTTP answers (httpx.MockTransport); no sockets, no real waits."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import boto3
import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from moto import mock_aws

from omnistock.channels import ChannelPort, ChannelUnavailable, QuantityWrite, WriteOutcome
from omnistock.channels.shopify.admin import BACKOFF_BASE, HeldBack, ShopifyInventory, from_secret
from omnistock.clients import Secrets

TOKEN = "shpat_test_token_never_logged"
SHOP = "example-store.myshopify.com"
# The throttled answer from payloads/shopify/graphql_examples.json (Shopify's documented shape).
THROTTLED_BODY = {
    "errors": [
        {
            "message": "Throttled",
            "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
        }
    ],
    "extensions": {
        "cost": {
            "requestedQueryCost": 752,
            "actualQueryCost": None,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 666, "restoreRate": 50.0},
        }
    },
}

Answer = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


class Script:
    """Answers requests in order; keeps what was sent."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(r.content) for r in self.requests]


def cost(available: float = 1990, requested: float = 10, maximum: float = 2000, rate: float = 100) -> dict:
    return {
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": requested,
            "throttleStatus": {"maximumAvailable": maximum, "currentlyAvailable": available, "restoreRate": rate},
        }
    }


def set_result(user_errors: list[dict] | None = None, group: bool | None = None, **bucket: float) -> httpx.Response:
    errors = user_errors or []
    applied = (not errors) if group is None else group
    result = {"inventoryAdjustmentGroup": {"id": "gid://shopify/InventoryAdjustmentGroup/1"} if applied else None}
    result["userErrors"] = errors
    return httpx.Response(200, json={"data": {"inventorySetQuantities": result}, "extensions": cost(**bucket)})


def user_error(index: int | None, code: str, leaf: str = "inventoryItemId") -> dict:
    field = None if index is None else ["input", "quantities", str(index), leaf]
    return {"code": code, "field": field, "message": "refused"}


def make_port(script: Script, **kwargs: Any) -> tuple[ShopifyInventory, list[float]]:
    sleeps: list[float] = []
    kwargs.setdefault("clock", lambda: 0.0)
    port = ShopifyInventory(
        SHOP,
        TOKEN,
        client=httpx.Client(transport=httpx.MockTransport(script)),
        sleep=sleeps.append,
        **kwargs,
    )
    return port, sleeps


def write(n: int, quantity: int = 5, change_from: int | None = 3) -> QuantityWrite:
    return QuantityWrite(f"gid://shopify/InventoryItem/{n}", "gid://shopify/Location/1", quantity, change_from)


def applied(w: QuantityWrite) -> WriteOutcome:
    return WriteOutcome(w.listing_id, w.location_id, applied=True)


# ---- the mutation -----------------------------------------------------------------------------


def test_is_a_channel_port_with_shopifys_batch_cap() -> None:
    port, _ = make_port(Script())
    typed: ChannelPort = port  # structural: mypy checks ShopifyInventory against the Protocol
    assert typed.max_batch == 250
    assert TOKEN not in repr(port)


def test_mutation_body_uses_variables_directive_and_explicit_nulls() -> None:
    script = Script(set_result())
    port, _ = make_port(script)
    writes = [write(1, quantity=40, change_from=37), write(2, quantity=5, change_from=None)]

    assert port.set_quantities(writes, "key-1") == [applied(w) for w in writes]

    (request,) = script.requests
    assert str(request.url) == f"https://{SHOP}/admin/api/2026-04/graphql.json"
    assert request.method == "POST"
    assert request.headers["X-Shopify-Access-Token"] == TOKEN
    body = json.loads(request.content)
    assert "@idempotent(key: $idempotencyKey)" in body["query"]
    assert "inventorySetQuantities(input: $input)" in body["query"]
    assert "InventoryItem/1" not in body["query"] and "key-1" not in body["query"]  # no interpolation
    assert body["variables"]["idempotencyKey"] == "key-1"
    assert body["variables"]["input"] == {
        "name": "available",
        "reason": "correction",
        "referenceDocumentUri": "gid://omnistock/Push/key-1",
        "quantities": [
            {
                "inventoryItemId": "gid://shopify/InventoryItem/1",
                "locationId": "gid://shopify/Location/1",
                "quantity": 40,
                "changeFromQuantity": 37,
            },
            {
                "inventoryItemId": "gid://shopify/InventoryItem/2",
                "locationId": "gid://shopify/Location/1",
                "quantity": 5,
                "changeFromQuantity": None,
            },
        ],
    }
    # The explicit null is on the wire, not an omitted key (2026-04 rejects an omission).
    assert b'"changeFromQuantity":null' in request.content.replace(b" ", b"")


def test_endpoint_override_and_version_pin() -> None:
    script = Script(set_result(), set_result())
    sleeps: list[float] = []
    client = httpx.Client(transport=httpx.MockTransport(script))
    ShopifyInventory(SHOP, TOKEN, "2026-07", client=client, sleep=sleeps.append).set_quantities([write(1)], "k")
    sandbox = ShopifyInventory(SHOP, TOKEN, endpoint="http://127.0.0.1:9999/graphql", client=client)
    sandbox.set_quantities([write(1)], "k")
    assert str(script.requests[0].url) == f"https://{SHOP}/admin/api/2026-07/graphql.json"
    assert str(script.requests[1].url) == "http://127.0.0.1:9999/graphql"


def test_default_client_has_explicit_timeouts() -> None:
    port = ShopifyInventory(SHOP, TOKEN)
    try:
        assert port._client.timeout == httpx.Timeout(10.0, connect=3.0)
    finally:
        port.close()


def test_batch_cap_is_enforced_before_any_call() -> None:
    script = Script(set_result())
    port, _ = make_port(script)
    with pytest.raises(ValueError, match="250"):
        port.set_quantities([write(n) for n in range(251)], "k")
    assert port.calls == 0
    assert port.set_quantities([], "k") == []
    assert port.calls == 0
    assert len(port.set_quantities([write(n) for n in range(250)], "k")) == 250
    assert port.calls == 1


# ---- per-item answers, atomicity and the resend --------------------------------------------------


def test_stale_write_is_reported_and_the_others_resent_under_a_derived_key() -> None:
    stale = user_error(0, "CHANGE_FROM_QUANTITY_STALE", "changeFromQuantity")
    script = Script(set_result([stale]), set_result())
    port, _ = make_port(script)
    writes = [write(1), write(2)]

    outcomes = port.set_quantities(writes, "key-1")

    assert outcomes == [
        WriteOutcome(writes[0].listing_id, writes[0].location_id, applied=False, stale=True),
        applied(writes[1]),
    ]
    first, second = script.bodies()
    assert second["variables"]["idempotencyKey"] == "key-1:2"
    assert [q["inventoryItemId"] for q in second["variables"]["input"]["quantities"]] == [writes[1].listing_id]
    # Both rounds belong to one push in the merchant's inventory history.
    assert second["variables"]["input"]["referenceDocumentUri"] == "gid://omnistock/Push/key-1"
    assert first["variables"]["idempotencyKey"] == "key-1"


def test_compare_quantity_stale_counts_as_stale_and_a_lone_stale_write_is_not_resent() -> None:
    script = Script(set_result([user_error(0, "COMPARE_QUANTITY_STALE", "compareQuantity")]))
    port, _ = make_port(script)
    (outcome,) = port.set_quantities([write(1)], "k")
    assert outcome.stale and not outcome.applied and outcome.error == ""
    assert port.calls == 1


def test_item_errors_map_to_their_writes_and_the_good_writes_are_resent_once() -> None:
    errors = [
        user_error(1, "INVALID_INVENTORY_ITEM"),
        user_error(3, "ITEM_NOT_STOCKED_AT_LOCATION", "locationId"),
        user_error(4, "INVALID_QUANTITY_NEGATIVE", "quantity"),
    ]
    script = Script(set_result(errors), set_result())
    port, _ = make_port(script)
    writes = [write(n) for n in range(6)]

    outcomes = port.set_quantities(writes, "push-9")

    assert [o.error for o in outcomes] == [
        "",
        "INVALID_INVENTORY_ITEM",
        "",
        "ITEM_NOT_STOCKED_AT_LOCATION",
        "INVALID_QUANTITY_NEGATIVE",
        "",
    ]
    assert [o.applied for o in outcomes] == [True, False, True, False, False, True]
    assert not any(isinstance(o, HeldBack) for o in outcomes)
    resent = script.bodies()[1]["variables"]
    assert resent["idempotencyKey"] == "push-9:2"
    assert [q["inventoryItemId"] for q in resent["input"]["quantities"]] == [writes[i].listing_id for i in (0, 2, 5)]


def test_writes_still_held_back_after_the_one_resend_are_flagged_for_the_caller() -> None:
    first = set_result([user_error(0, "NON_MUTABLE_INVENTORY_ITEM")])
    # In the resend (writes 1 and 2), write 1 went stale meanwhile, so write 2 is held back again.
    second = set_result([user_error(0, "CHANGE_FROM_QUANTITY_STALE", "changeFromQuantity")])
    script = Script(first, second)
    port, _ = make_port(script)
    writes = [write(0), write(1), write(2)]

    outcomes = port.set_quantities(writes, "k")

    assert port.calls == 2  # resent once, not in a loop
    assert outcomes[0].error == "NON_MUTABLE_INVENTORY_ITEM"
    assert outcomes[1].stale
    held = outcomes[2]
    assert isinstance(held, HeldBack) and held.resend
    assert (held.applied, held.stale, held.error) == (False, False, "")

    # The convenience resends exactly those, under the key the caller chooses.
    script.answers.append(set_result())
    merged = port.retry_without(writes, outcomes, "k:3")
    assert merged[:2] == outcomes[:2] and merged[2] == applied(writes[2])
    assert [q["inventoryItemId"] for q in script.bodies()[2]["variables"]["input"]["quantities"]] == [
        writes[2].listing_id
    ]


def test_a_partial_answer_counts_the_error_free_writes_as_applied() -> None:
    # Should Shopify ever apply part of a call, it returns the adjustment group: no resend then.
    script = Script(set_result([user_error(1, "INVALID_LOCATION", "locationId")], group=True))
    port, _ = make_port(script)
    writes = [write(0), write(1)]
    assert port.set_quantities(writes, "k") == [
        applied(writes[0]),
        WriteOutcome(writes[1].listing_id, writes[1].location_id, applied=False, error="INVALID_LOCATION"),
    ]
    assert port.calls == 1


def test_an_error_about_the_whole_call_fails_every_write_with_its_code() -> None:
    script = Script(set_result([user_error(None, "INVALID_REASON")]))
    port, _ = make_port(script)
    outcomes = port.set_quantities([write(0), write(1)], "k")
    assert [(o.applied, o.stale, o.error) for o in outcomes] == [(False, False, "INVALID_REASON")] * 2
    assert port.calls == 1


def test_transient_whole_call_error_raises() -> None:
    port, _ = make_port(Script(set_result([user_error(None, "INTERNAL_ERROR")])))
    with pytest.raises(ChannelUnavailable):
        port.set_quantities([write(0)], "k")


def test_missing_mutation_result_is_never_read_as_success() -> None:
    port, _ = make_port(Script(httpx.Response(200, json={"data": {"inventorySetQuantities": None}})))
    with pytest.raises(ChannelUnavailable):
        port.set_quantities([write(0)], "k")


def test_concurrent_request_waits_and_retries_with_the_same_key() -> None:
    script = Script(set_result([user_error(None, "IDEMPOTENCY_CONCURRENT_REQUEST")]), set_result())
    port, sleeps = make_port(script)
    assert port.set_quantities([write(0)], "k")[0].applied
    assert [b["variables"]["idempotencyKey"] for b in script.bodies()] == ["k", "k"]
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= BACKOFF_BASE


def test_previous_attempt_failed_retries_with_a_new_derived_key() -> None:
    script = Script(set_result([user_error(None, "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED")]), set_result())
    port, _ = make_port(script)
    assert port.set_quantities([write(0)], "k")[0].applied
    keys = [b["variables"]["idempotencyKey"] for b in script.bodies()]
    assert keys[0] == "k" and keys[1] != "k" and keys[1].startswith("k:")


def test_idempotency_conflicts_that_never_end_raise() -> None:
    conflict = user_error(None, "IDEMPOTENCY_CONCURRENT_REQUEST")
    port, _ = make_port(Script(*[set_result([conflict]) for _ in range(3)]), max_attempts=3)
    with pytest.raises(ChannelUnavailable):
        port.set_quantities([write(0)], "k")
    assert port.calls == 3


@settings(max_examples=60, deadline=None)
@given(
    size=st.integers(1, 12),
    bad=st.sets(st.integers(0, 11)),
    stale=st.sets(st.integers(0, 11)),
)
def test_against_an_all_or_nothing_shop_every_good_write_lands(size: int, bad: set[int], stale: set[int]) -> None:
    """A fake shop that applies a call only when every quantity in it is acceptable."""
    shop: dict[str, int] = {}

    def answer(request: httpx.Request) -> httpx.Response:
        quantities = json.loads(request.content)["variables"]["input"]["quantities"]
        errors = []
        for i, q in enumerate(quantities):
            n = int(q["inventoryItemId"].rsplit("/", 1)[1])
            if n in bad:
                errors.append(user_error(i, "INVALID_INVENTORY_ITEM"))
            elif n in stale:
                errors.append(user_error(i, "CHANGE_FROM_QUANTITY_STALE", "changeFromQuantity"))
        if not errors:
            shop.update({q["inventoryItemId"]: q["quantity"] for q in quantities})
        return set_result(errors)

    port, _ = make_port(Script(answer, answer))
    writes = [write(n, quantity=n + 1) for n in range(size)]
    outcomes = port.set_quantities(writes, "k")

    assert [(o.listing_id, o.location_id) for o in outcomes] == [(w.listing_id, w.location_id) for w in writes]
    assert port.calls <= 2
    for n, outcome in enumerate(outcomes):
        assert outcome.applied == (n not in bad and n not in stale)
        assert outcome.stale == (n in stale and n not in bad)
        assert outcome.applied == (shop.get(writes[n].listing_id) == n + 1)
        assert not isinstance(outcome, HeldBack)


# ---- throttling, retries, failures --------------------------------------------------------------


def test_429_honours_a_fractional_retry_after() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "0.5"}), set_result())
    port, sleeps = make_port(script)
    assert port.set_quantities([write(0)], "k")[0].applied
    assert sleeps == [0.5]
    assert (port.calls, port.throttled) == (2, 1)


def test_throttled_body_waits_for_the_bucket_to_refill() -> None:
    script = Script(httpx.Response(200, json=THROTTLED_BODY), set_result())
    port, sleeps = make_port(script)
    assert port.set_quantities([write(0)], "k")[0].applied
    assert sleeps == [pytest.approx((752 - 666) / 50.0)]
    assert (port.calls, port.throttled) == (2, 1)


def test_throttled_without_cost_data_backs_off() -> None:
    bare = {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]}
    port, sleeps = make_port(Script(httpx.Response(200, json=bare), set_result()))
    assert port.set_quantities([write(0)], "k")[0].applied
    assert len(sleeps) == 1 and 0 <= sleeps[0] <= BACKOFF_BASE


def test_bucket_pre_wait_when_little_is_left() -> None:
    script = Script(set_result(available=2, requested=10, rate=100), set_result())
    port, sleeps = make_port(script)
    port.set_quantities([write(0)], "a")
    assert sleeps == []
    port.set_quantities([write(1)], "b")
    assert sleeps == [pytest.approx((10 - 2) / 100)]


def test_no_pre_wait_once_the_clock_says_the_bucket_refilled() -> None:
    now = [0.0]
    script = Script(set_result(available=2, requested=10, rate=100), set_result())
    port, sleeps = make_port(script, clock=lambda: now[0])
    port.set_quantities([write(0)], "a")
    now[0] = 1.0  # 100 points leaked back in
    port.set_quantities([write(1)], "b")
    assert sleeps == []


def test_5xx_every_time_raises_after_max_attempts() -> None:
    script = Script(*[httpx.Response(503) for _ in range(6)])
    port, sleeps = make_port(script)
    with pytest.raises(ChannelUnavailable, match="6 attempts"):
        port.set_quantities([write(0)], "k")
    assert port.calls == 6
    assert len(sleeps) == 5  # no pointless wait after the last attempt
    assert all(0 <= s <= min(30.0, BACKOFF_BASE * 2**i) for i, s in enumerate(sleeps))
    # Every retry carried the same key: Shopify replays rather than applying twice.
    assert {b["variables"]["idempotencyKey"] for b in script.bodies()} == {"k"}


def test_timeouts_and_connection_errors_are_retried() -> None:
    script = Script(httpx.ReadTimeout("slow"), httpx.ConnectError("refused"), set_result())
    port, sleeps = make_port(script)
    assert port.set_quantities([write(0)], "k")[0].applied
    assert port.calls == 3 and len(sleeps) == 2


def test_timeouts_every_time_raise() -> None:
    port, _ = make_port(Script(*[httpx.ConnectTimeout("x") for _ in range(2)]), max_attempts=2)
    with pytest.raises(ChannelUnavailable, match="ConnectTimeout"):
        port.read_quantities([("gid://shopify/InventoryItem/1", "gid://shopify/Location/1")])


@pytest.mark.parametrize("status", [401, 403, 404, 400, 402])
def test_client_errors_raise_at_once(status: int) -> None:
    port, sleeps = make_port(Script(httpx.Response(status, json={"errors": "[API] Invalid API key or access token"})))
    with pytest.raises(ChannelUnavailable, match=str(status)) as raised:
        port.set_quantities([write(0)], "k")
    assert TOKEN not in str(raised.value)
    assert (port.calls, sleeps) == (1, [])


def test_graphql_errors_other_than_throttling_are_not_retried() -> None:
    body = {"errors": [{"message": "Access denied", "extensions": {"code": "ACCESS_DENIED"}}]}
    port, _ = make_port(Script(httpx.Response(200, json=body)))
    with pytest.raises(ChannelUnavailable, match="ACCESS_DENIED"):
        port.set_quantities([write(0)], "k")
    assert port.calls == 1


def test_internal_server_error_in_the_body_and_garbage_are_retried() -> None:
    ise = {"errors": [{"message": "Internal error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}]}
    script = Script(
        httpx.Response(200, json=ise),
        httpx.Response(200, text="<html>maintenance</html>"),
        httpx.Response(200, json=[]),
        set_result(),
    )
    port, _ = make_port(script)
    assert port.set_quantities([write(0)], "k")[0].applied
    assert port.calls == 4


def test_logs_carry_neither_token_nor_payload(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(httpx.Response(503), httpx.Response(429), set_result())
    port, _ = make_port(script)
    port.set_quantities([write(12345)], "k")
    assert caplog.records  # the retries were logged...
    assert TOKEN not in caplog.text and "12345" not in caplog.text  # ...without secrets or payloads


# ---- reads --------------------------------------------------------------------------------------

ITEM = "gid://shopify/InventoryItem/{}".format
LOC = "gid://shopify/Location/{}".format


def levels(*nodes: dict | None, requested: float | None = None) -> httpx.Response:
    extensions = cost(requested=requested) if requested is not None else cost()
    return httpx.Response(200, json={"data": {"nodes": list(nodes)}, "extensions": extensions})


def node(n: int, available: int | None = None) -> dict:
    """An InventoryItem node with its level at the asked location (None: not stocked there)."""
    level = None if available is None else {"quantities": [{"name": "available", "quantity": available}]}
    return {"id": ITEM(n), "inventoryLevel": level}


def ids_of(request: httpx.Request) -> list[str]:
    return json.loads(request.content)["variables"]["ids"]


def test_read_quantities_asks_each_location_for_its_level_only() -> None:
    script = Script(levels(node(1, 7), None, node(3), node(4)), levels(node(1, 0)))
    port, _ = make_port(script)

    asked = [(ITEM(1), LOC(1)), (ITEM(2), LOC(1)), (ITEM(3), LOC(1)), (ITEM(1), LOC(2)), (ITEM(4), LOC(1))]
    got = port.read_quantities([*asked, (ITEM(1), LOC(1))])

    # Item 2 is unknown; items 3 and 4 are not stocked at location 1.
    assert got == {(ITEM(1), LOC(1)): 7, (ITEM(1), LOC(2)): 0}
    first, second = script.bodies()
    assert first["variables"] == {"ids": [ITEM(1), ITEM(2), ITEM(3), ITEM(4)], "locationId": LOC(1)}
    assert second["variables"] == {"ids": [ITEM(1)], "locationId": LOC(2)}
    assert "nodes(ids: $ids)" in first["query"] and "... on InventoryItem" in first["query"]
    assert "inventoryLevel(locationId: $locationId)" in first["query"]
    assert 'quantities(names: ["available"])' in first["query"]
    assert port.read_quantities([]) == {} and port.calls == 2


def echo_levels(per_id: float) -> Callable[[httpx.Request], httpx.Response]:
    """Every asked item has 1 available; the cost reported is ``per_id`` an id."""

    def answer(request: httpx.Request) -> httpx.Response:
        ids = ids_of(request)
        return levels(*[node(int(i.rsplit("/", 1)[1]), 1) for i in ids], requested=per_id * len(ids))

    return answer


def test_reads_carry_250_items_when_the_price_allows() -> None:
    items = [(ITEM(n), LOC(1)) for n in range(300)]
    cheap = echo_levels(per_id=3)  # item, level, quantity: 1 point each
    script = Script(cheap, cheap)
    port, _ = make_port(script)
    assert len(port.read_quantities(items)) == 300
    assert [len(ids_of(r)) for r in script.requests] == [250, 50]


def test_read_batches_shrink_when_shopify_prices_them_high() -> None:
    pricey = echo_levels(per_id=100)
    script = Script(pricey, pricey)
    port, _ = make_port(script)
    port.read_quantities([(ITEM(n), LOC(1)) for n in range(260)])
    assert [len(ids_of(r)) for r in script.requests] == [250, 10]


def test_a_read_above_the_cost_cap_is_resent_smaller() -> None:
    too_costly = {
        "errors": [{"message": "Query cost is 1200", "extensions": {"code": "MAX_COST_EXCEEDED", "cost": 1200}}],
        "extensions": cost(requested=1200),
    }
    script = Script(httpx.Response(200, json=too_costly), echo_levels(per_id=200), echo_levels(per_id=200))
    port, _ = make_port(script)
    got = port.read_quantities([(ITEM(n), LOC(1)) for n in range(8)])
    assert [len(ids_of(r)) for r in script.requests] == [8, 6, 2]
    assert len(got) == 8


def test_a_single_id_above_the_cost_cap_raises() -> None:
    too_costly = {"errors": [{"message": "too costly", "extensions": {"code": "MAX_COST_EXCEEDED"}}]}
    script = Script(*[httpx.Response(200, json=too_costly) for _ in range(40)])
    port, _ = make_port(script)
    with pytest.raises(ChannelUnavailable, match="cost"):
        port.read_quantities([(ITEM(n), LOC(1)) for n in range(6)])
    sizes = [len(ids_of(r)) for r in script.requests]
    assert sizes[0] == 6 and sizes[-1] == 1 and sizes == sorted(sizes, reverse=True)


def test_read_quantities_shares_the_retry_and_throttle_handling() -> None:
    script = Script(
        httpx.Response(429, headers={"Retry-After": "0.25"}),
        httpx.Response(200, json=THROTTLED_BODY),
        levels(node(1, 4)),
    )
    port, sleeps = make_port(script)
    assert port.read_quantities([(ITEM(1), LOC(1))]) == {(ITEM(1), LOC(1)): 4}
    assert sleeps == [0.25, pytest.approx((752 - 666) / 50.0)]
    assert port.throttled == 2


# ---- token from Secrets Manager -----------------------------------------------------------------


@pytest.mark.parametrize("secret", [TOKEN, json.dumps({"access_token": TOKEN, "note": "rotated"})])
def test_from_secret_reads_the_token_by_name(secret: str) -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(Name="omnistock/shopify/example-store", SecretString=secret)
        read = Secrets(lambda: secrets)
        port = from_secret(
            "omnistock/shopify/example-store",
            SHOP,
            "2026-04",
            lambda refresh: read.text("omnistock/shopify/example-store", refresh),
            endpoint="http://sandbox.local/graphql",
        )
        port.close()  # swap its own client for a scripted one: no socket is opened
        script = Script(set_result())
        port._client = httpx.Client(transport=httpx.MockTransport(script))
        port.set_quantities([write(0)], "k")  # the secret is read on first use
    assert script.requests[0].headers["X-Shopify-Access-Token"] == TOKEN
    assert str(script.requests[0].url) == "http://sandbox.local/graphql"
    assert TOKEN not in repr(port)


def test_a_secret_without_a_token_fails_its_calls_without_echoing_it() -> None:
    port = from_secret("s", SHOP, "2026-04", lambda _: json.dumps({"token": TOKEN}))
    with pytest.raises(ChannelUnavailable, match="access_token") as raised:
        port.set_quantities([write(0)], "k")
    assert TOKEN not in str(raised.value)


def test_holds_are_read_from_the_api_and_unknown_in_rest_bodies() -> None:
    from omnistock.channels.shopify import payloads as shopify_payloads

    node = {
        "legacyResourceId": "1",
        "name": "#1",
        "createdAt": "2026-11-23T11:00:00Z",
        "updatedAt": "2026-11-23T11:00:00Z",
    }
    assert (
        shopify_payloads.order_from_graphql("shopify", node | {"displayFulfillmentStatus": "ON_HOLD"}).on_hold is True
    )
    assert (
        shopify_payloads.order_from_graphql("shopify", node | {"displayFulfillmentStatus": "UNFULFILLED"}).on_hold
        is False
    )
    assert shopify_payloads.order_from_graphql("shopify", node).on_hold is None
    held = {"fulfillment_order": {"id": "gid://shopify/FulfillmentOrder/7", "status": "on_hold"}}
    assert shopify_payloads.held_fulfillment_order(held) == "gid://shopify/FulfillmentOrder/7"
    for bad in ({}, {"fulfillment_order": {"id": "gid://shopify/Order/7"}}, {"fulfillment_order": "7"}):
        with pytest.raises(shopify_payloads.PayloadError):
            shopify_payloads.held_fulfillment_order(bad)
