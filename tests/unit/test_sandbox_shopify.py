"""The Shopify sandbox (test equipment), driven in-process: unit tests may not open sockets, so
requests go through ``ShopifySandbox.handle`` (the server's own entry point) or its httpx
transport. tests/integration/test_sandbox_over_http.py covers the real HTTP server."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.sandbox import ShopifySandbox, item_gid, location_gid
from local.sandbox.server import SandboxResponse
from tests.fakes import SecondsClock as FakeClock

EXAMPLES_FILE = Path(__file__).resolve().parents[1] / "fixtures/shopify/graphql_examples.json"
EXAMPLES = json.loads(EXAMPLES_FILE.read_text())
ITEM = item_gid(1001)
OTHER_ITEM = item_gid(1002)
SHOP = location_gid(1)
STORE = location_gid(2)
TOKEN = "shpat_test"
SET_QUERY = (
    "mutation SetAvail($input: InventorySetQuantitiesInput!) { "
    'inventorySetQuantities(input: $input) @idempotent(key: "KEY") { '
    "inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange "
    "item { id } location { id } } } userErrors { field message code } } }"
)
SET_QUERY_KEY_VARIABLE = (
    "mutation SetAvail($input: InventorySetQuantitiesInput!, $key: String!) { "
    "inventorySetQuantities(input: $input) @idempotent(key: $key) { "
    "inventoryAdjustmentGroup { id } userErrors { field message code } } }"
)
READ_QUERY = (
    "query Levels($ids: [ID!]!) { nodes(ids: $ids) { ... on InventoryItem { id "
    'inventoryLevels(first: 10) { nodes { location { id } quantities(names: ["available"]) { name quantity } } } '
    "} } }"
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(1000.0)


@pytest.fixture
def shop(clock: FakeClock) -> ShopifySandbox:
    sandbox = ShopifySandbox(TOKEN, clock=clock)
    sandbox.stock(ITEM, SHOP, available=10)
    sandbox.stock(ITEM, STORE, available=3)
    sandbox.stock(OTHER_ITEM, SHOP, available=7)
    return sandbox


def quantity(item: str, location: str, value: Any, change_from: Any = ..., **extra: Any) -> dict[str, Any]:
    entry: dict[str, Any] = {"inventoryItemId": item, "locationId": location, "quantity": value, **extra}
    if change_from is not ...:
        entry["changeFromQuantity"] = change_from
    return entry


def set_input(*quantities: dict[str, Any], name: str = "available", reason: str = "correction") -> dict[str, Any]:
    return {
        "name": name,
        "reason": reason,
        "referenceDocumentUri": "gid://omnistock/Push/1",
        "quantities": list(quantities),
    }


def push(shop: ShopifySandbox, *quantities: dict[str, Any], key: str = "key-1", **input_args: Any) -> SandboxResponse:
    return shop.graphql(SET_QUERY.replace("KEY", key), {"input": set_input(*quantities, **input_args)})


def payload(response: SandboxResponse) -> dict[str, Any]:
    assert response.status == 200, response.body
    body = response.json()
    assert "errors" not in body, body
    return body["data"]["inventorySetQuantities"]


def codes(response: SandboxResponse) -> list[tuple[str, list[str] | None]]:
    return [(error["code"], error["field"]) for error in payload(response)["userErrors"]]


def top_level(response: SandboxResponse) -> dict[str, Any]:
    assert response.status == 200, response.body
    body = response.json()
    assert "data" not in body
    assert len(body["errors"]) == 1
    return body["errors"][0]


# ---- inventorySetQuantities ------------------------------------------------------------------


def test_set_with_change_from_null_skips_the_check(shop: ShopifySandbox) -> None:
    result = payload(push(shop, quantity(ITEM, SHOP, 25, None)))

    assert result["userErrors"] == []
    group = result["inventoryAdjustmentGroup"]
    assert group["reason"] == "correction"
    assert group["referenceDocumentUri"] == "gid://omnistock/Push/1"
    assert [(c["name"], c["delta"], c["quantityAfterChange"]) for c in group["changes"]] == [
        ("available", 15, 25),
        ("on_hand", 15, 25),
    ]
    assert shop.available(ITEM, SHOP) == 25
    assert shop.available(ITEM, STORE) == 3


def test_compare_and_set_succeeds_when_change_from_matches(shop: ShopifySandbox) -> None:
    shop.stock(ITEM, SHOP, available=10, on_hand=12)  # 2 committed

    result = payload(push(shop, quantity(ITEM, SHOP, 4, 10), quantity(OTHER_ITEM, SHOP, 7, 7)))

    assert result["userErrors"] == []
    changes = result["inventoryAdjustmentGroup"]["changes"]
    assert [(c["name"], c["delta"], c["quantityAfterChange"], c["item"]["id"]) for c in changes] == [
        ("available", -6, 4, ITEM),
        ("on_hand", -6, 6, ITEM),
    ]  # the unchanged OTHER_ITEM makes no change entry
    assert (shop.available(ITEM, SHOP), shop.on_hand(ITEM, SHOP)) == (4, 6)
    [record] = shop.mutations
    assert record.idempotency_key == "key-1"
    assert record.quantities[0]["changeFromQuantity"] == 10
    assert shop.counters["mutations"] == 1
    assert shop.counters["quantities_set"] == 2


def test_setting_on_hand_compares_against_on_hand_and_moves_available(shop: ShopifySandbox) -> None:
    shop.stock(ITEM, SHOP, available=10, on_hand=12)

    assert codes(push(shop, quantity(ITEM, SHOP, 20, 10), name="on_hand")) == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", "0", "changeFromQuantity"])
    ]
    payload(push(shop, quantity(ITEM, SHOP, 20, 12), key="key-2", name="on_hand"))

    assert (shop.available(ITEM, SHOP), shop.on_hand(ITEM, SHOP)) == (18, 20)


def test_stale_change_from_rejects_the_whole_call(shop: ShopifySandbox) -> None:
    shop.sell(ITEM, SHOP, 2)  # a sale on Shopify the pusher has not seen: 10 -> 8

    response = push(shop, quantity(OTHER_ITEM, SHOP, 1, None), quantity(ITEM, SHOP, 4, 10))

    result = payload(response)
    assert result["inventoryAdjustmentGroup"] is None
    assert result["userErrors"] == [
        {
            "field": ["input", "quantities", "1", "changeFromQuantity"],
            "message": "The changeFromQuantity value does not match persisted value.",
            "code": "CHANGE_FROM_QUANTITY_STALE",
        }
    ]
    assert shop.available(OTHER_ITEM, SHOP) == 7  # all or nothing: the valid quantity is not written
    assert shop.available(ITEM, SHOP) == 8
    assert shop.mutations == []
    assert [record.user_errors[0]["code"] for record in shop.rejected_mutations] == ["CHANGE_FROM_QUANTITY_STALE"]
    assert shop.counters["user_errors"] == 1


def test_same_key_and_variables_replays_the_stored_answer_without_applying_again(shop: ShopifySandbox) -> None:
    first = push(shop, quantity(ITEM, SHOP, 12, 10))
    shop.sell(ITEM, SHOP, 1)  # Shopify moves on: 12 -> 11

    again = push(shop, quantity(ITEM, SHOP, 12, 10))

    assert payload(again) == payload(first)  # the original result, not a stale error
    assert shop.available(ITEM, SHOP) == 11
    assert len(shop.mutations) == 1
    assert shop.counters["replays"] == 1
    assert shop.counters["mutations"] == 1


def test_key_given_as_a_variable(shop: ShopifySandbox) -> None:
    variables = {"input": set_input(quantity(ITEM, SHOP, 5, None)), "key": "uuid-7"}

    first = shop.graphql(SET_QUERY_KEY_VARIABLE, variables)
    shop.set_available(ITEM, SHOP, 9)
    again = shop.graphql(SET_QUERY_KEY_VARIABLE, variables)

    assert payload(first)["userErrors"] == []
    assert payload(again) == payload(first)
    assert shop.available(ITEM, SHOP) == 9
    assert [record.idempotency_key for record in shop.mutations] == ["uuid-7"]


def test_same_key_with_different_variables_is_a_mismatch(shop: ShopifySandbox) -> None:
    payload(push(shop, quantity(ITEM, SHOP, 12, 10)))

    response = push(shop, quantity(ITEM, SHOP, 13, 12))

    assert codes(response) == [("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", None)]
    assert payload(response)["inventoryAdjustmentGroup"] is None
    assert shop.available(ITEM, SHOP) == 12


def test_a_rejected_call_is_replayed_too(shop: ShopifySandbox) -> None:
    stale = push(shop, quantity(ITEM, SHOP, 12, 99))
    shop.set_available(ITEM, SHOP, 99)

    assert payload(push(shop, quantity(ITEM, SHOP, 12, 99))) == payload(stale)
    assert shop.available(ITEM, SHOP) == 99  # retry with a new key to try again


def test_missing_idempotent_directive_fails_the_request(shop: ShopifySandbox) -> None:
    query = SET_QUERY.replace(' @idempotent(key: "KEY")', "")

    error = top_level(shop.graphql(query, {"input": set_input(quantity(ITEM, SHOP, 1, None))}))

    assert "@idempotent" in error["message"]
    assert shop.available(ITEM, SHOP) == 10
    assert shop.counters["errors"] == 1


def test_missing_key_variable_fails_the_request(shop: ShopifySandbox) -> None:
    error = top_level(shop.graphql(SET_QUERY_KEY_VARIABLE, {"input": set_input(quantity(ITEM, SHOP, 1, None))}))

    assert error["extensions"]["code"] == "INVALID_VARIABLE"


def test_more_than_250_quantities_fails_the_request(shop: ShopifySandbox) -> None:
    for number in range(251):
        shop.stock(5000 + number, SHOP, available=0)
    many = [quantity(item_gid(5000 + number), SHOP, 1, None) for number in range(251)]

    response = push(shop, *many)

    error = top_level(response)
    assert error["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"
    assert error["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert response.json()["extensions"]["cost"]["actualQueryCost"] == 0
    assert shop.available(item_gid(5000), SHOP) == 0

    assert payload(push(shop, *many[:250], key="key-250"))["userErrors"] == []
    assert shop.counters["quantities_set"] == 250


def test_unknown_item(shop: ShopifySandbox) -> None:
    response = push(shop, quantity(ITEM, SHOP, 1, None), quantity(item_gid(999), SHOP, 1, None))

    assert codes(response) == [("INVALID_INVENTORY_ITEM", ["input", "quantities", "1", "inventoryItemId"])]
    assert shop.available(ITEM, SHOP) == 10


def test_item_not_stocked_at_the_location(shop: ShopifySandbox) -> None:
    assert codes(push(shop, quantity(OTHER_ITEM, STORE, 1, None))) == [
        ("ITEM_NOT_STOCKED_AT_LOCATION", ["input", "quantities", "0", "locationId"])
    ]
    assert shop.available(OTHER_ITEM, STORE) is None


def test_unknown_location(shop: ShopifySandbox) -> None:
    assert codes(push(shop, quantity(ITEM, location_gid(77), 1, None))) == [
        ("INVALID_LOCATION", ["input", "quantities", "0", "locationId"])
    ]


def test_negative_and_too_high_quantities(shop: ShopifySandbox) -> None:
    response = push(shop, quantity(ITEM, SHOP, -1, None), quantity(OTHER_ITEM, SHOP, 1_000_000_001, None))

    assert codes(response) == [
        ("INVALID_QUANTITY_NEGATIVE", ["input", "quantities", "0", "quantity"]),
        ("INVALID_QUANTITY_TOO_HIGH", ["input", "quantities", "1", "quantity"]),
    ]


def test_omitted_change_from_quantity_is_an_error(shop: ShopifySandbox) -> None:
    assert codes(push(shop, quantity(ITEM, SHOP, 1))) == [
        ("COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "0", "changeFromQuantity"])
    ]
    assert shop.available(ITEM, SHOP) == 10


def test_name_reason_reference_and_duplicates_are_checked(shop: ShopifySandbox) -> None:
    response = shop.graphql(
        SET_QUERY.replace("KEY", "k"),
        {
            "input": {
                "name": "committed",
                "reason": "because",
                "referenceDocumentUri": "not a uri",
                "quantities": [quantity(ITEM, SHOP, 1, None), quantity(ITEM, SHOP, 2, None)],
            }
        },
    )

    assert codes(response) == [
        ("INVALID_NAME", ["input", "name"]),
        ("INVALID_REASON", ["input", "reason"]),
        ("INVALID_REFERENCE_DOCUMENT", ["input", "referenceDocumentUri"]),
        ("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", ["input", "quantities", "1"]),
    ]


@pytest.mark.parametrize(
    ("entry", "path"),
    [
        (quantity(ITEM, SHOP, 1, 1, compareQuantity=1), ["quantities", "0", "compareQuantity"]),
        (quantity(ITEM, SHOP, "1", None), ["quantities", "0", "quantity"]),
        (quantity(ITEM, SHOP, 1, 1.5), ["quantities", "0", "changeFromQuantity"]),
        ({"locationId": SHOP, "quantity": 1, "changeFromQuantity": None}, ["quantities", "0", "inventoryItemId"]),
    ],
)
def test_badly_shaped_input_is_a_variable_error(shop: ShopifySandbox, entry: dict[str, Any], path: list[str]) -> None:
    error = top_level(push(shop, entry))

    assert error["extensions"]["code"] == "INVALID_VARIABLE"
    assert error["problems"][0]["path"] == path
    assert shop.available(ITEM, SHOP) == 10


def test_ignore_compare_quantity_is_gone_in_2026_04(shop: ShopifySandbox) -> None:
    body = set_input(quantity(ITEM, SHOP, 1, None))
    body["ignoreCompareQuantity"] = True

    error = top_level(shop.graphql(SET_QUERY.replace("KEY", "k"), {"input": body}))

    assert error["problems"][0]["path"] == ["ignoreCompareQuantity"]


def test_concurrent_pushes_with_the_same_change_from_let_exactly_one_win(shop: ShopifySandbox) -> None:
    results: list[list[dict[str, Any]]] = []
    lock = threading.Lock()

    def attempt(number: int) -> None:
        errors = payload(push(shop, quantity(ITEM, SHOP, 100 + number, 10), key=f"k{number}"))["userErrors"]
        with lock:
            results.append(errors)

    threads = [threading.Thread(target=attempt, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sum(not errors for errors in results) == 1
    assert len(shop.mutations) == 1
    assert shop.available(ITEM, SHOP) == shop.mutations[0].quantities[0]["quantity"]


def test_the_reference_example_request_gives_the_reference_example_changes() -> None:
    request = EXAMPLES["inventorySetQuantities_2026_04_request"]
    expected = EXAMPLES["inventorySetQuantities_success_response"]
    shop = ShopifySandbox("t")
    shop.stock("gid://shopify/InventoryItem/47216940870001", "gid://shopify/Location/76683080001", 37, on_hand=39)
    shop.stock("gid://shopify/InventoryItem/47216940870003", "gid://shopify/Location/76683080001", 5)

    response = shop.graphql(request["body"]["query"], request["body"]["variables"], token="t")

    body = response.json()
    changes = body["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert changes == expected["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert body["extensions"]["cost"]["requestedQueryCost"] == expected["extensions"]["cost"]["requestedQueryCost"]
    assert body["extensions"]["cost"]["throttleStatus"] == expected["extensions"]["cost"]["throttleStatus"]


# ---- the read ------------------------------------------------------------------------------


def test_nodes_read_returns_levels_and_null_for_unknown_ids(shop: ShopifySandbox) -> None:
    response = shop.graphql(READ_QUERY, {"ids": [ITEM, item_gid(404), OTHER_ITEM]})

    body = response.json()
    first, missing, other = body["data"]["nodes"]
    assert missing is None
    assert first["id"] == ITEM
    assert [(level["location"]["id"], level["quantities"]) for level in first["inventoryLevels"]["nodes"]] == [
        (SHOP, [{"name": "available", "quantity": 10}]),
        (STORE, [{"name": "available", "quantity": 3}]),
    ]
    assert first["inventoryLevels"]["nodes"][0]["id"].endswith("?inventory_item_id=1001")
    assert first["inventoryLevels"]["pageInfo"]["hasNextPage"] is False
    assert other["inventoryLevels"]["nodes"][0]["quantities"] == [{"name": "available", "quantity": 7}]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 4  # 1 + 3 ids
    assert body["extensions"]["cost"]["actualQueryCost"] == 3  # 1 + 2 found; the rest is refunded
    assert body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 1997
    assert shop.counters["reads"] == 1


def test_the_level_at_one_location_is_read_on_its_own(shop: ShopifySandbox) -> None:
    from omnistock.channels.shopify.admin import READ_QUERY as ADAPTER_READ

    response = shop.graphql(ADAPTER_READ, {"ids": [ITEM, item_gid(404), OTHER_ITEM], "locationId": STORE})
    first, missing, other = response.json()["data"]["nodes"]
    assert missing is None
    assert first["inventoryLevel"]["quantities"] == [{"name": "available", "quantity": 3}]
    assert other["inventoryLevel"] is None  # not stocked there


def test_nodes_read_honours_first_and_quantity_names(shop: ShopifySandbox) -> None:
    shop.sell(ITEM, SHOP, 4)
    query = READ_QUERY.replace("first: 10", "first: $n").replace('["available"]', "$names")

    response = shop.graphql(query, {"ids": [ITEM], "n": 1, "names": ["available", "on_hand", "committed"]})

    levels = response.json()["data"]["nodes"][0]["inventoryLevels"]
    assert levels["pageInfo"]["hasNextPage"] is True
    assert levels["nodes"][0]["quantities"] == [
        {"name": "available", "quantity": 6},
        {"name": "on_hand", "quantity": 10},
        {"name": "committed", "quantity": 4},
    ]


def test_schema_pricing_prices_the_levels_asked_for_and_refunds_the_rest(clock: FakeClock) -> None:
    shop = ShopifySandbox(TOKEN, read_pricing="schema", clock=clock)
    shop.stock(ITEM, SHOP, 1)
    shop.stock(ITEM, STORE, 2)
    query = READ_QUERY.replace("first: 10", "first: 50")

    fits = shop.graphql(query, {"ids": [ITEM, *(item_gid(n) for n in range(5))]}).json()
    too_many = shop.graphql(query, {"ids": [item_gid(n) for n in range(7)]}).json()

    assert fits["extensions"]["cost"]["requestedQueryCost"] == 6 * 153  # 1 + (2 + 50 x 3) per id
    assert fits["extensions"]["cost"]["actualQueryCost"] == 1 + 2 + 2 * 3  # one item found, two levels
    assert fits["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] == 2000 - 9
    assert too_many["errors"][0]["extensions"]["code"] == "MAX_COST_EXCEEDED"
    assert too_many["extensions"]["cost"]["requestedQueryCost"] == 7 * 153


def test_read_of_more_than_250_ids_fails(shop: ShopifySandbox) -> None:
    error = top_level(shop.graphql(READ_QUERY, {"ids": [item_gid(n) for n in range(251)]}))

    assert error["extensions"]["code"] == "MAX_INPUT_SIZE_EXCEEDED"


@pytest.mark.parametrize(
    "query",
    [
        "query { shop { name } }",
        'mutation { inventoryAdjustQuantities(input: {}) @idempotent(key: "k") { userErrors { code } } }',
        'mutation M { inventorySetQuantities(input: {name: "available"}) @idempotent(key: "k") { x } }',
    ],
)
def test_anything_else_is_unsupported(shop: ShopifySandbox, query: str) -> None:
    response = shop.graphql(query, {})

    assert response.status == 200
    assert response.json()["errors"][0]["message"] == "unsupported by the sandbox"
    assert "cost" in response.json()["extensions"]


# ---- auth and HTTP edges -------------------------------------------------------------------


@pytest.mark.parametrize("token", ["wrong", ""])
def test_wrong_or_missing_token_is_401(shop: ShopifySandbox, token: str) -> None:
    headers = [("X-Shopify-Access-Token", token)] if token else []

    response = shop.handle("POST", "/admin/api/2026-04/graphql.json", headers, b'{"query": "{ shop { id } }"}')

    assert response.status == 401
    assert response.json() == {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert shop.counters["unauthorized"] == 1


def test_header_names_are_case_insensitive_and_bad_bodies_are_400(shop: ShopifySandbox) -> None:
    headers = {"x-shopify-access-token": TOKEN}

    assert shop.handle("POST", "/admin/api/2026-04/graphql.json", headers, b"not json").status == 400
    assert shop.handle("GET", "/admin/api/2026-04/graphql.json", headers, b"").status == 405
    assert shop.handle("POST", "/admin/api/latest/graphql.json", headers, b"{}").status == 404


# ---- throttling ----------------------------------------------------------------------------


def test_bucket_empties_then_refills_with_the_clock(clock: FakeClock) -> None:
    shop = ShopifySandbox(TOKEN, maximum_available=30, restore_rate=10, clock=clock)
    shop.stock(ITEM, SHOP, 0)

    statuses = [push(shop, quantity(ITEM, SHOP, n, None), key=f"k{n}") for n in range(4)]

    assert [r.json()["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"] for r in statuses[:3]] == [20, 10, 0]
    throttled = statuses[3]
    assert throttled.status == 200
    assert throttled.json() == {
        "errors": [
            {
                "message": "Throttled",
                "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"},
            }
        ],
        "extensions": {
            "cost": {
                "requestedQueryCost": 10,
                "actualQueryCost": None,
                "throttleStatus": {"maximumAvailable": 30.0, "currentlyAvailable": 0, "restoreRate": 10.0},
            }
        },
    }
    assert shop.available(ITEM, SHOP) == 2  # the throttled push did not run
    assert shop.counters["throttled"] == 1

    clock.advance(0.5)
    assert push(shop, quantity(ITEM, SHOP, 3, None), key="k3").json()["errors"][0]["message"] == "Throttled"
    clock.advance(0.5)
    assert payload(push(shop, quantity(ITEM, SHOP, 3, None), key="k3"))["userErrors"] == []
    clock.advance(60)
    assert shop.throttle_status() == {"maximumAvailable": 30.0, "currentlyAvailable": 30, "restoreRate": 10.0}


def test_http429_mode_sends_retry_after(clock: FakeClock) -> None:
    shop = ShopifySandbox(TOKEN, maximum_available=10, restore_rate=4, throttle_mode="http429", clock=clock)
    shop.stock(ITEM, SHOP, 0)
    payload(push(shop, quantity(ITEM, SHOP, 1, None), key="a"))
    clock.advance(0.5)  # 2 points back

    response = push(shop, quantity(ITEM, SHOP, 2, None), key="b")

    assert response.status == 429
    assert response.header("Retry-After") == "2"  # (10 - 2) / 4
    assert response.json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    clock.advance(2)
    assert push(shop, quantity(ITEM, SHOP, 2, None), key="b").status == 200
    assert shop.available(ITEM, SHOP) == 2


def test_a_request_costing_more_than_the_bucket_can_hold_is_refused(clock: FakeClock) -> None:
    shop = ShopifySandbox(TOKEN, maximum_available=5, restore_rate=1, clock=clock)

    error = top_level(push(shop, quantity(ITEM, SHOP, 1, None)))

    assert error["extensions"]["code"] == "MAX_COST_EXCEEDED"


# ---- faults --------------------------------------------------------------------------------


def test_fail_next_answers_errors_then_recovers(shop: ShopifySandbox) -> None:
    shop.fail_next(2, status=503)

    answers = [push(shop, quantity(ITEM, SHOP, 5, None)) for _ in range(3)]

    assert [answer.status for answer in answers] == [503, 503, 200]
    assert shop.available(ITEM, SHOP) == 5
    assert len(shop.mutations) == 1
    assert shop.counters["faults"] == 2
    assert shop.counters["calls"] == 3


def test_fail_after_apply_loses_the_answer_and_the_retry_replays_it(shop: ShopifySandbox) -> None:
    shop.fail_next(1, status=502, after_apply=True)

    lost = push(shop, quantity(ITEM, SHOP, 5, 10))
    retried = push(shop, quantity(ITEM, SHOP, 5, 10))

    assert lost.status == 502
    assert payload(retried)["userErrors"] == []  # not CHANGE_FROM_QUANTITY_STALE: the stored answer
    assert shop.available(ITEM, SHOP) == 5
    assert len(shop.mutations) == 1
    assert shop.counters["replays"] == 1


def test_throttle_storm_sends_429_with_a_short_retry_after(shop: ShopifySandbox) -> None:
    shop.throttle_storm(2)

    answers = [push(shop, quantity(ITEM, SHOP, 5, None)) for _ in range(3)]

    assert [answer.status for answer in answers] == [429, 429, 200]
    assert answers[0].header("Retry-After") == "0.05"
    assert answers[0].json()["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert shop.counters["throttled"] == 2
    assert shop.available(ITEM, SHOP) == 5


def test_delay_waits_before_every_answer(clock: FakeClock) -> None:
    slept: list[float] = []
    shop = ShopifySandbox(TOKEN, clock=clock, sleep=slept.append)
    shop.delay(0.25)

    shop.graphql(READ_QUERY, {"ids": []})
    shop.graphql(READ_QUERY, {"ids": []})
    shop.delay(0)
    shop.graphql(READ_QUERY, {"ids": []})

    assert slept == [0.25, 0.25]


# ---- control API, in-process clients, lifecycle --------------------------------------------


def test_control_api_stocks_reads_sets_faults_and_resets(shop: ShopifySandbox) -> None:
    def control(method: str, path: str, body: Any = None) -> SandboxResponse:
        return shop.handle(method, path, [], json.dumps(body).encode() if body is not None else b"")

    assert control("POST", "/_sandbox/inventory", {"item": 3003, "location": 3, "available": 8}).status == 200
    levels = control("GET", "/_sandbox/inventory").json()["levels"]
    assert {"item": item_gid(3003), "location": location_gid(3), "available": 8, "on_hand": 8} in levels
    assert control("POST", "/_sandbox/inventory", {"item": 3003, "location": 3, "available": "x"}).status == 400

    faults = control("POST", "/_sandbox/faults", {"fail_next": 1, "status": 500, "throttle_storm": 1}).json()
    assert (faults["fail_next"], faults["fail_status"], faults["throttle_storm"]) == (1, 500, 1)
    assert push(shop, quantity(ITEM, SHOP, 1, None)).status == 429
    assert push(shop, quantity(ITEM, SHOP, 1, None)).status == 500
    payload(push(shop, quantity(ITEM, SHOP, 1, None)))

    [record] = control("GET", "/_sandbox/mutations").json()["mutations"]
    assert record["applied"] is True
    assert record["changes"][0]["quantityAfterChange"] == 1
    assert control("GET", "/_sandbox/counters").json()["counters"]["mutations"] == 1
    assert control("POST", "/_sandbox/reset").status == 200
    assert control("GET", "/_sandbox/inventory").json() == {"levels": [], "items": [], "locations": []}
    assert control("GET", "/_sandbox/nope").status == 404


def test_httpx_transport_answers_in_process(shop: ShopifySandbox) -> None:
    with httpx.Client(transport=shop.transport(), base_url="https://omnistock-dev.myshopify.com") as client:
        response = client.post(
            "/admin/api/2026-04/graphql.json",
            headers={"X-Shopify-Access-Token": TOKEN},
            json={"query": READ_QUERY, "variables": {"ids": [OTHER_ITEM]}},
        )

    assert response.status_code == 200
    assert response.json()["data"]["nodes"][0]["inventoryLevels"]["nodes"][0]["quantities"][0]["quantity"] == 7


def test_start_binds_a_free_loopback_port_and_stop_releases_it() -> None:
    with ShopifySandbox(TOKEN) as shop:
        assert shop.url.startswith("http://127.0.0.1:")
        assert not shop.url.endswith(":0")
        assert shop.graphql_url() == f"{shop.url}/admin/api/2026-04/graphql.json"


def test_helpers_refuse_unstocked_levels_and_bad_modes(shop: ShopifySandbox) -> None:
    with pytest.raises(KeyError):
        shop.set_available(OTHER_ITEM, STORE, 1)
    with pytest.raises(ValueError, match="throttle_mode"):
        ShopifySandbox(TOKEN, throttle_mode="loud")  # type: ignore[arg-type]
