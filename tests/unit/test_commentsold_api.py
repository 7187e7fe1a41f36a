"""CommentSoldApi against the CommentSold sandbox's in-process transport (no sockets, no real
waits): tokens, shelf writes with idempotency keys, retries, per-item refusals, reads, paging."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from moto import mock_aws

from local.sandbox.commentsold import CommentSoldSandbox
from omnistock.channels import ChannelPort, ChannelUnavailable, QuantityWrite
from omnistock.channels.commentsold.api import (
    ORDERS_SINCE_FILTER,
    PER_PAGE,
    TOKEN_REUSE_SECONDS,
    CommentSoldApi,
    from_secret,
)
from tests.fakes import SecondsClock as FakeClock

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/commentsold"
SHOP = "Boutique-42"  # the token asks for it lower-cased
PARTNER = "partner-7"
KEY = "cs_private_key_never_logged"
API_BASE = "http://cs.test/v1"
TOKEN_URL = "http://tokens.cs.test/tokenize"
LOCATION = "commentsold"  # CommentSold has no locations: the port echoes whatever it is given


class Recorder:
    """Wraps a transport: keeps every request, and may replace answers (by path suffix)."""

    def __init__(self, inner: httpx.MockTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.override: dict[str, httpx.Response | Exception] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        for suffix, answer in self.override.items():
            if request.url.path.endswith(suffix):
                if isinstance(answer, Exception):
                    raise answer
                return answer
        return self.inner.handle_request(request)

    def paths(self) -> list[str]:
        return [request.url.path for request in self.requests]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cs(clock: FakeClock) -> CommentSoldSandbox:
    sandbox = CommentSoldSandbox(SHOP, PARTNER, KEY, clock=clock)
    sandbox.stock(101, 10)
    sandbox.stock(102, 4)
    return sandbox


@pytest.fixture
def wire(cs: CommentSoldSandbox) -> Recorder:
    return Recorder(cs.transport())


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def api(wire: Recorder, clock: FakeClock, sleeps: list[float]) -> CommentSoldApi:
    return make_api(wire, clock, sleeps)


def make_api(wire: Recorder, clock: FakeClock, sleeps: list[float], **options: Any) -> CommentSoldApi:
    return CommentSoldApi(
        SHOP,
        PARTNER,
        KEY,
        api_base=API_BASE,
        token_url=TOKEN_URL,
        client=httpx.Client(transport=httpx.MockTransport(wire)),
        sleep=sleeps.append,
        clock=clock,
        **options,
    )


def write(variant: int | str, quantity: int, change_from: int | None = None) -> QuantityWrite:
    return QuantityWrite(str(variant), LOCATION, quantity, change_from)


# ---- the port ---------------------------------------------------------------------------------


def test_it_is_a_channel_port(api: CommentSoldApi) -> None:
    port: ChannelPort = api
    assert port.max_batch == 50


def test_repr_and_logs_carry_no_key_token_or_ids(
    api: CommentSoldApi, cs: CommentSoldSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    cs.throttle_next(1)
    cs.fail_next(1)
    api.set_quantities([write(101, 12345)], "push-1")
    cs.revoke_tokens()
    api.read_quantities([("101", LOCATION)])
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("omnistock"))
    assert ours  # the retries and the refresh were logged...
    token = api._token
    assert token is not None
    for text in (ours, repr(api)):  # ...without secrets, payloads or ids
        assert KEY not in text and token not in text and "12345" not in text and "101" not in text
    assert PARTNER not in repr(api)


# ---- tokens -----------------------------------------------------------------------------------


def test_the_token_is_fetched_once_as_the_sdk_does_and_reused(
    api: CommentSoldApi, cs: CommentSoldSandbox, wire: Recorder
) -> None:
    api.read_quantities([("101", LOCATION)])
    api.set_quantities([write(101, 9)], "push-1")
    api.reservations(1)
    assert api.token_requests == 1 and cs.counters()["tokens_issued"] == 1
    token_request = wire.requests[0]
    assert str(token_request.url) == TOKEN_URL
    assert token_request.headers["x-api-key"] == KEY
    assert token_request.headers["accept"] == "application/json"
    assert json.loads(token_request.content) == {
        "payload": {"audience": "openapi", "partner_id": PARTNER, "shop": SHOP.lower()}
    }
    # The SDK's own request shape (the saved tokenize example) is what went out.
    example = json.loads((FIXTURES / "tokenize.constructed.json").read_text())
    assert set(json.loads(token_request.content)["payload"]) == set(example["request"]["body"]["payload"])
    bearer = {request.headers["authorization"] for request in wire.requests[1:]}
    assert len(bearer) == 1 and bearer.pop().startswith("Bearer cs_sandbox_")
    assert all(str(r.url).startswith(f"{API_BASE}/{SHOP}/") for r in wire.requests[1:])


def test_the_token_is_renewed_23_hours_after_issue(api: CommentSoldApi, clock: FakeClock) -> None:
    api.read_quantities([("101", LOCATION)])
    clock.advance(TOKEN_REUSE_SECONDS - 1)
    api.read_quantities([("101", LOCATION)])
    assert api.token_requests == 1
    clock.advance(1)
    api.read_quantities([("101", LOCATION)])
    assert api.token_requests == 2 and api.refreshes == 0  # renewed before CommentSold refused it


def test_a_401_fetches_a_new_token_once_and_sends_again(api: CommentSoldApi, cs: CommentSoldSandbox) -> None:
    assert api.read_quantities([("101", LOCATION)]) == {("101", LOCATION): 10}
    cs.revoke_tokens()  # e.g. CommentSold rotated its keys: the cached token is refused
    assert api.set_quantities([write(101, 7)], "push-1")[0].applied
    assert cs.shelf(101) == 7
    assert api.token_requests == 2 and api.refreshes == 1
    assert cs.counters()["unauthorized"] == 1


def test_a_token_refused_twice_is_a_platform_failure(api: CommentSoldApi, wire: Recorder) -> None:
    wire.override["/inventory_levels/101"] = httpx.Response(401, json={"message": "Unauthenticated."})
    with pytest.raises(ChannelUnavailable, match="401"):
        api.read_quantities([("101", LOCATION)])
    assert api.token_requests == 2 and api.calls == 2  # one refresh, no loop


def test_a_refused_partner_key_is_a_platform_failure_that_does_not_echo_the_key(
    wire: Recorder, clock: FakeClock, sleeps: list[float]
) -> None:
    api = CommentSoldApi(
        SHOP,
        PARTNER,
        "wrong-key",
        api_base=API_BASE,
        token_url=TOKEN_URL,
        client=httpx.Client(transport=httpx.MockTransport(wire)),
        sleep=sleeps.append,
        clock=clock,
    )
    with pytest.raises(ChannelUnavailable, match="partner key") as raised:
        api.set_quantities([write(101, 1)], "push-1")
    assert "wrong-key" not in str(raised.value)
    assert api.calls == 0 and api.token_requests == 1


def test_the_token_service_is_retried_like_the_api(api: CommentSoldApi, cs: CommentSoldSandbox) -> None:
    cs.throttle_next(1)  # the first request of all is the token's
    assert api.read_quantities([("102", LOCATION)]) == {("102", LOCATION): 4}
    assert api.token_requests == 2 and api.throttled == 1


def test_a_token_answer_without_a_token_is_a_platform_failure(api: CommentSoldApi, wire: Recorder) -> None:
    wire.override["/tokenize"] = httpx.Response(200, json={"jwt": "x"})
    with pytest.raises(ChannelUnavailable, match="without a token"):
        api.read_quantities([("101", LOCATION)])


# ---- writes -----------------------------------------------------------------------------------


def test_set_quantities_sets_the_absolute_shelf_keeping_carts(
    api: CommentSoldApi, cs: CommentSoldSandbox, wire: Recorder
) -> None:
    claimed = cs.claim(101, 3)
    assert claimed is not None
    # Omnistock wants 6 sellable: it sends 6 + the 3 held in carts.
    outcomes = api.set_quantities([write(101, 9), write(102, 0)], "push-1")
    assert [(o.listing_id, o.location_id, o.applied, o.error) for o in outcomes] == [
        ("101", LOCATION, True, ""),
        ("102", LOCATION, True, ""),
    ]
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (9, 3, 6)
    assert cs.available(102) == 0
    puts = [r for r in wire.requests if r.method == "PUT"]
    assert [r.url.path for r in puts] == [
        f"/v1/{SHOP}/inventory_levels/101/set_absolute_shelf_quantity",
        f"/v1/{SHOP}/inventory_levels/102/set_absolute_shelf_quantity",
    ]
    assert [r.headers["x-idempotency-key"] for r in puts] == ["push-1:101", "push-1:102"]
    body = json.loads(puts[0].content)
    assert body == {"variant_id": 101, "absolute_quantity": 9, "note": "Omnistock sync"}
    assert [w["idempotency_key"] for w in cs.writes()] == ["push-1:101", "push-1:102"]


def test_change_from_is_ignored_for_commentsold_has_no_compare_and_set(
    api: CommentSoldApi, cs: CommentSoldSandbox
) -> None:
    outcome = api.set_quantities([write(101, 5, change_from=999)], "push-1")[0]
    assert outcome.applied and not outcome.stale
    assert cs.shelf(101) == 5
    assert "change" not in json.dumps(cs.writes())


def test_a_repeated_push_is_answered_from_the_record_and_not_applied_twice(
    api: CommentSoldApi, cs: CommentSoldSandbox
) -> None:
    assert api.set_quantities([write(101, 8)], "push-1")[0].applied
    claimed = cs.claim(101, 2)
    assert claimed is not None
    cs.checkout([claimed["id"]])  # shelf 8 -> 6 after the write
    again = api.set_quantities([write(101, 8)], "push-1")
    assert again[0].applied  # CommentSold answers the first answer...
    assert cs.shelf(101) == 6  # ...and does not write again
    assert len(cs.writes()) == 1 and cs.counters()["replays"] == 1
    assert api.set_quantities([write(101, 8)], "push-2")[0].applied  # a new push is a new write
    assert cs.shelf(101) == 8


def test_a_lost_answer_is_retried_under_the_same_key_and_applied_once(
    api: CommentSoldApi, cs: CommentSoldSandbox, wire: Recorder
) -> None:
    api.read_quantities([("101", LOCATION)])  # the token first, so the fault hits the write
    cs.fail_next(1, 502, after_apply=True)  # the write lands; its answer is lost
    assert api.set_quantities([write(101, 3)], "push-1")[0].applied
    puts = [r for r in wire.requests if r.method == "PUT"]
    assert len(puts) == 2 and {r.headers["x-idempotency-key"] for r in puts} == {"push-1:101"}
    assert len(cs.writes()) == 1 and cs.counters()["replays"] == 1
    assert cs.shelf(101) == 3


def test_429_then_503_are_retried_until_success(
    api: CommentSoldApi, cs: CommentSoldSandbox, sleeps: list[float]
) -> None:
    api.read_quantities([("101", LOCATION)])
    cs.throttle_next(2)
    assert api.set_quantities([write(101, 1)], "push-1")[0].applied
    assert sleeps == [0.05, 0.05]  # Retry-After, in seconds
    assert api.throttled == 2
    cs.fail_next(2, 503)
    assert api.set_quantities([write(102, 1)], "push-2")[0].applied
    assert len(sleeps) == 4 and all(0 <= s <= 1.0 for s in sleeps[2:])  # jittered backoff: 0.5 s, then 1 s caps
    assert (cs.shelf(101), cs.shelf(102)) == (1, 1)


def test_failures_that_outlast_the_attempts_raise_channel_unavailable(
    wire: Recorder, cs: CommentSoldSandbox, clock: FakeClock, sleeps: list[float]
) -> None:
    api = make_api(wire, clock, sleeps, max_attempts=3)
    api.read_quantities([("101", LOCATION)])
    cs.fail_next(10, 503)
    with pytest.raises(ChannelUnavailable, match="3 attempts"):
        api.set_quantities([write(101, 1)], "push-1")
    assert api.calls == 1 + 3 and len(sleeps) == 2
    assert cs.writes() == []


def test_throttling_that_outlasts_the_attempts_raises_channel_unavailable(
    wire: Recorder, cs: CommentSoldSandbox, clock: FakeClock, sleeps: list[float]
) -> None:
    api = make_api(wire, clock, sleeps, max_attempts=2)
    api.read_quantities([("101", LOCATION)])
    cs.throttle_next(5)
    with pytest.raises(ChannelUnavailable, match="HTTP 429"):
        api.read_quantities([("101", LOCATION)])


def test_transport_errors_are_retried_then_raise(
    wire: Recorder, clock: FakeClock, sleeps: list[float], cs: CommentSoldSandbox
) -> None:
    api = make_api(wire, clock, sleeps, max_attempts=2)
    wire.override["/set_absolute_shelf_quantity"] = httpx.ConnectTimeout("timed out")
    with pytest.raises(ChannelUnavailable, match="ConnectTimeout"):
        api.set_quantities([write(101, 1)], "push-1")
    del wire.override["/set_absolute_shelf_quantity"]
    assert api.set_quantities([write(101, 1)], "push-1")[0].applied


def test_a_platform_failure_halfway_is_resumed_by_the_same_push(
    wire: Recorder, clock: FakeClock, sleeps: list[float], cs: CommentSoldSandbox
) -> None:
    api = make_api(wire, clock, sleeps, max_attempts=1)
    wire.override["/102/set_absolute_shelf_quantity"] = httpx.Response(503)
    with pytest.raises(ChannelUnavailable):
        api.set_quantities([write(101, 2), write(102, 2)], "push-1")
    assert cs.shelf(101) == 2 and cs.shelf(102) == 4
    del wire.override["/102/set_absolute_shelf_quantity"]
    assert all(o.applied for o in api.set_quantities([write(101, 2), write(102, 2)], "push-1"))
    assert [w["variant_id"] for w in cs.writes()] == [101, 102]  # 101 replayed, not written again


def test_unknown_variants_and_refusals_are_per_item_errors(
    api: CommentSoldApi, cs: CommentSoldSandbox, wire: Recorder
) -> None:
    wire.override["/103/set_absolute_shelf_quantity"] = httpx.Response(
        422, json={"message": "The absolute quantity is invalid.", "errors": {}}
    )
    outcomes = api.set_quantities([write(999, 1), write(101, 4), write(103, 1), write(102, -1)], "push-1")
    assert [(o.applied, o.error) for o in outcomes] == [
        (False, "NOT_FOUND: Inventory level not found."),
        (True, ""),
        (False, "INVALID: The absolute quantity is invalid."),
        (False, "NEGATIVE"),
    ]
    assert cs.shelf(101) == 4 and cs.shelf(102) == 4
    assert not any(r.url.path.endswith("/102/set_absolute_shelf_quantity") for r in wire.requests)


@pytest.mark.parametrize(("status", "match"), [(403, "403"), (409, "no database"), (405, "HTTP 405")])
def test_whole_shop_refusals_raise(api: CommentSoldApi, wire: Recorder, status: int, match: str) -> None:
    wire.override["/set_absolute_shelf_quantity"] = httpx.Response(status, json={"message": "no"})
    with pytest.raises(ChannelUnavailable, match=match):
        api.set_quantities([write(101, 1)], "push-1")


def test_a_shop_the_token_service_does_not_know_is_refused_as_a_whole(
    wire: Recorder, clock: FakeClock, sleeps: list[float], cs: CommentSoldSandbox
) -> None:
    api = CommentSoldApi(
        "other-shop",
        PARTNER,
        KEY,
        api_base=API_BASE,
        token_url=TOKEN_URL,
        client=httpx.Client(transport=httpx.MockTransport(wire)),
        sleep=sleeps.append,
        clock=clock,
    )
    with pytest.raises(ChannelUnavailable, match="no database"):
        api.read_quantities([("101", LOCATION)])


def test_batches_are_capped_and_empty_ones_send_nothing(api: CommentSoldApi) -> None:
    with pytest.raises(ValueError, match="cap of 50"):
        api.set_quantities([write(i, 1) for i in range(51)], "push-1")
    assert api.set_quantities([], "push-1") == []
    assert api.calls == 0 and api.token_requests == 0


def test_ids_are_escaped_into_one_path_segment(api: CommentSoldApi, wire: Recorder) -> None:
    outcome = api.set_quantities([write("../orders", 1)], "push-1")[0]
    assert outcome.error.startswith("NOT_FOUND")
    assert wire.requests[-1].url.raw_path.startswith(f"/v1/{SHOP}/inventory_levels/..%2Forders/".encode())


# ---- reads ------------------------------------------------------------------------------------


def test_read_quantities_answers_available_net_of_carts(api: CommentSoldApi, cs: CommentSoldSandbox) -> None:
    assert cs.claim(101, 4) is not None
    found = api.read_quantities([("101", LOCATION), ("101", "elsewhere"), ("102", LOCATION), ("404", LOCATION)])
    assert found == {("101", LOCATION): 6, ("101", "elsewhere"): 6, ("102", LOCATION): 4}
    assert api.calls == 3  # one read per distinct variant


def test_a_level_without_a_quantity_is_a_platform_failure(api: CommentSoldApi, wire: Recorder) -> None:
    wire.override["/inventory_levels/101"] = httpx.Response(200, json={"data": {"variant_id": 101}})
    with pytest.raises(ChannelUnavailable, match="total_available_quantity"):
        api.read_quantities([("101", LOCATION)])
    wire.override["/inventory_levels/101"] = httpx.Response(200, text="<html>maintenance</html>")
    with pytest.raises(ChannelUnavailable, match="unparseable"):
        api.read_quantities([("101", LOCATION)])


def test_reservations_are_read_page_by_page(api: CommentSoldApi, cs: CommentSoldSandbox, wire: Recorder) -> None:
    cs.stock(200, 500)
    made = [cs.claim(200) for _ in range(PER_PAGE + 30)]
    first, more = api.reservations(1)
    second, last = api.reservations(2)
    assert (len(first), more, len(second), last) == (PER_PAGE, True, 30, False)
    assert [r["id"] for r in first + second] == [r["id"] for r in made if r is not None]
    assert set(first[0]) >= {"id", "customer_id", "external_customer_id", "variant_id", "quantity", "created_at"}
    assert wire.requests[-1].url.params["perPage"] == str(PER_PAGE)
    with pytest.raises(ValueError, match="pages start at 1"):
        api.reservations(0)


def test_orders_since_uses_the_assumed_filter_and_pages(
    api: CommentSoldApi, cs: CommentSoldSandbox, clock: FakeClock, wire: Recorder
) -> None:
    cs.stock(300, 1000)
    early = cs.checkout([_claim(cs, 300)["id"]])
    clock.advance(60)
    since = int(clock())
    later = [cs.checkout([_claim(cs, 300)["id"]]) for _ in range(PER_PAGE + 1)]
    page, more = api.orders_since(since, 1)
    tail, done = api.orders_since(since, 2)
    assert (len(page), more, len(tail), done) == (PER_PAGE, True, 1, False)
    assert [o["id"] for o in page + tail] == [o["id"] for o in later]
    assert early["id"] not in {o["id"] for o in page + tail}
    assert wire.requests[-1].url.params[ORDERS_SINCE_FILTER] == str(since)
    everything, _ = api.orders_since(0, 1)
    assert everything[0]["id"] == early["id"]


def test_orders_since_on_an_empty_shop(api: CommentSoldApi) -> None:
    assert api.orders_since(0, 1) == ([], False)
    assert api.reservations(1) == ([], False)


def test_one_order_by_id(api: CommentSoldApi, cs: CommentSoldSandbox) -> None:
    order = cs.checkout([_claim(cs, 101, 2)["id"]])
    assert api.order(str(order["id"])) == order
    assert api.order("123456") is None


def test_a_page_without_a_data_list_is_a_platform_failure(api: CommentSoldApi, wire: Recorder) -> None:
    wire.override["/reservations"] = httpx.Response(200, json={"data": {"id": 1}})
    with pytest.raises(ChannelUnavailable, match="data list"):
        api.reservations(1)


# ---- construction -----------------------------------------------------------------------------


def test_from_secret_reads_the_partner_credentials_by_name(wire: Recorder, cs: CommentSoldSandbox) -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(
            Name="omnistock/commentsold/partner", SecretString=json.dumps({"partner_id": PARTNER, "private_key": KEY})
        )
        api = from_secret("omnistock/commentsold/partner", SHOP, secrets, api_base=API_BASE, token_url=TOKEN_URL)
    api.close()  # swap its own client for the sandbox's transport: no socket is opened
    api._client = httpx.Client(transport=httpx.MockTransport(wire))
    assert api.read_quantities([("102", LOCATION)]) == {("102", LOCATION): 4}
    assert KEY not in repr(api)


@pytest.mark.parametrize(
    "secret", [KEY, json.dumps({"private_key": KEY}), json.dumps({"partner_id": PARTNER, "private_key": ""})]
)
def test_from_secret_rejects_a_bad_secret_without_echoing_it(secret: str) -> None:
    with mock_aws():
        secrets = boto3.client("secretsmanager", region_name="us-east-1")
        secrets.create_secret(Name="s", SecretString=secret)
        with pytest.raises(ValueError, match="partner_id and private_key") as raised:
            from_secret("s", SHOP, secrets)
    assert KEY not in str(raised.value)


def test_constructor_checks() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        CommentSoldApi(SHOP, PARTNER, KEY, max_attempts=0)
    with pytest.raises(ValueError, match="shop"):
        CommentSoldApi(" ", PARTNER, KEY)


def _claim(cs: CommentSoldSandbox, variant: int, quantity: int = 1) -> dict[str, Any]:
    reservation = cs.claim(variant, quantity)
    assert reservation is not None
    return reservation
