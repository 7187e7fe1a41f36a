"""The CommentSold sandbox (test equipment), driven in-process: unit tests may not open sockets, so
requests go through ``CommentSoldSandbox.handle`` (the server's own entry point), its ``api``
shortcut, or its httpx transport; webhooks are delivered to an httpx MockTransport."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from local.sandbox.commentsold import (
    IDEMPOTENCY_SECONDS,
    SIGNATURE_HEADER,
    TOKEN_SECONDS,
    CommentSoldSandbox,
)
from local.sandbox.server import SandboxResponse
from omnistock.channels.commentsold import webhooks
from omnistock.channels.commentsold.api import ORDERS_SINCE_FILTER
from tests.fakes import SecondsClock as FakeClock
from tests.fakes import WebhookReceiver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/commentsold"
SHOP = "live-shop"
PARTNER = "p-1"
KEY = "private-key-1"
SECRET = "webhook-secret"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def cs(clock: FakeClock) -> CommentSoldSandbox:
    sandbox = CommentSoldSandbox(SHOP, PARTNER, KEY, clock=clock)
    sandbox.stock(101, 5)
    sandbox.stock(102, 2, price=2500)
    return sandbox


def tokenize(cs: CommentSoldSandbox, key: str = KEY, shop: Any = SHOP, partner: Any = PARTNER) -> SandboxResponse:
    body = json.dumps({"payload": {"audience": "openapi", "partner_id": partner, "shop": shop}}).encode()
    return cs.handle("POST", "/tokenize", [("x-api-key", key), ("Content-Type", "application/json")], body)


def control(cs: CommentSoldSandbox, method: str, route: str, body: Any = None) -> SandboxResponse:
    raw = b"" if body is None else json.dumps(body).encode()
    return cs.handle(method, f"/_sandbox/commentsold/{route}", [], raw)


def set_shelf(cs: CommentSoldSandbox, variant: int, quantity: int, key: str | None = None) -> SandboxResponse:
    body = {"variant_id": variant, "absolute_quantity": quantity, "note": "test"}
    path = f"inventory_levels/{variant}/set_absolute_shelf_quantity"
    return cs.api("PUT", path, body, idempotency_key=key)


def check_invariant(cs: CommentSoldSandbox) -> None:
    for level in cs.levels():
        held = sum(r["quantity"] for r in cs.reservations() if r["variant_id"] == level["variant_id"])
        assert level["held"] == held
        assert level["total_available_quantity"] == max(0, level["shelf"] - held) >= 0
        assert level["shelf"] >= 0


# ---- tokens and auth ----------------------------------------------------------------------------


def test_tokens_are_issued_for_the_partner_key_only(cs: CommentSoldSandbox) -> None:
    assert tokenize(cs, key="wrong").status == 401
    assert tokenize(cs, partner="someone-else").status == 401
    assert tokenize(cs, shop="Live-Shop").status == 422  # the SDK lower-cases the shop id
    answer = tokenize(cs)
    assert answer.status == 200 and set(answer.json()) == {"token"}
    assert cs.handle("GET", "/tokenize", [], b"").status == 405
    assert cs.counters()["tokens_issued"] == 1 and cs.counters()["unauthorized"] == 2


def test_the_api_wants_a_bearer_token_it_issued_for_the_shop(cs: CommentSoldSandbox, clock: FakeClock) -> None:
    token = tokenize(cs).json()["token"]
    path = f"/v1/{SHOP}/inventory_levels/101"
    assert cs.handle("GET", path, [], b"").status == 401
    assert cs.handle("GET", path, [("Authorization", "Bearer forged")], b"").json() == {"message": "Unauthenticated."}
    assert cs.handle("GET", path, [("Authorization", f"Bearer {token}")], b"").status == 200
    partner_scope = tokenize(cs, shop=None).json()["token"]
    assert cs.handle("GET", path, [("Authorization", f"Bearer {partner_scope}")], b"").status == 401
    clock.advance(TOKEN_SECONDS)  # tokens last 24 hours
    assert cs.handle("GET", path, [("Authorization", f"Bearer {token}")], b"").status == 401


def test_another_shop_has_no_database_here(cs: CommentSoldSandbox) -> None:
    token = cs.issue_token("other")
    answer = cs.handle("GET", "/v1/other/inventory_levels", [("Authorization", f"Bearer {token}")], b"")
    assert (answer.status, answer.json()) == (409, {"message": "No database found for this shop!"})


def test_unknown_routes(cs: CommentSoldSandbox) -> None:
    assert cs.handle("GET", "/nowhere", [], b"").status == 404
    assert cs.api("GET", "products").status == 404
    assert cs.api("POST", "inventory_levels/101/set_absolute_shelf_quantity", {}).status == 404
    assert control(cs, "GET", "nothing").status == 404


# ---- inventory levels ---------------------------------------------------------------------------


def test_levels_have_the_sdk_shape_and_page(cs: CommentSoldSandbox) -> None:
    for variant in range(200, 223):
        cs.stock(variant, 1)
    example = json.loads((FIXTURES / "inventory-levels.constructed.json").read_text())["response"]
    answer = cs.api("GET", "inventory_levels?page=3&perPage=10").json()
    assert set(answer) == set(example) and set(answer["pagination"]) == set(example["pagination"])
    assert set(answer["data"][0]) == set(example["data"][0])
    assert answer["pagination"] == {"total": 25, "count": 5, "perPage": 10, "currentPage": 3, "totalPages": 3}
    assert cs.api("GET", "inventory_levels").json()["pagination"]["perPage"] == 10  # the SDK's default
    assert cs.api("GET", "inventory_levels?perPage=101").status == 422
    assert cs.api("GET", "inventory_levels?page=0").status == 422
    assert cs.api("GET", "inventory_levels?page=x").status == 422
    one = cs.api("GET", "inventory_levels/101").json()["data"]
    assert one["variant_id"] == 101 and one["total_available_quantity"] == 5
    assert cs.api("GET", "inventory_levels/999").status == 404


def test_set_absolute_shelf_keeps_carts_and_clamps_available_at_zero(cs: CommentSoldSandbox) -> None:
    assert cs.claim(101, 3) is not None
    answer = set_shelf(cs, 101, 7)
    assert answer.status == 200 and answer.json()["data"]["total_available_quantity"] == 4
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (7, 3, 4)
    answer = set_shelf(cs, 101, 1)  # a caller that forgot the carts
    assert answer.json()["data"]["total_available_quantity"] == 0
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (1, 3, 0)
    last = cs.writes()[-1]
    assert last["clamped"] and last["shelf_before"] == 7 and last["available_after"] == 0
    assert cs.counters()["clamped"] == 1
    check_invariant(cs)


def test_add_and_subtract_move_by_deltas(cs: CommentSoldSandbox) -> None:
    assert cs.claim(101, 2) is not None
    add = cs.api("PUT", "inventory_levels/101/add", {"variant_id": 101, "relative_quantity": 4})
    assert add.json()["data"]["total_available_quantity"] == 7
    sub = cs.api("PUT", "inventory_levels/101/subtract", {"variant_id": "101", "relative_quantity": 7})
    assert sub.status == 200 and cs.available(101) == 0 and cs.shelf(101) == 2
    too_many = cs.api("PUT", "inventory_levels/101/subtract", {"variant_id": 101, "relative_quantity": 1})
    assert too_many.status == 422 and cs.shelf(101) == 2  # carts are never taken by a subtract
    assert [w["kind"] for w in cs.writes()] == ["add", "subtract"]


@pytest.mark.parametrize(
    "body",
    [
        {"variant_id": 102, "absolute_quantity": 1},  # another variant than the URL's
        {"variant_id": 101, "absolute_quantity": -1},
        {"variant_id": 101, "absolute_quantity": True},
        {"variant_id": 101, "absolute_quantity": "3"},
        {"variant_id": 101},
        {"variant_id": 101, "absolute_quantity": 1, "note": 5},
        [1, 2],
    ],
)
def test_bad_writes_are_422(cs: CommentSoldSandbox, body: Any) -> None:
    answer = cs.api("PUT", "inventory_levels/101/set_absolute_shelf_quantity", body)
    assert answer.status == 422 and "message" in answer.json()
    assert cs.writes() == [] and cs.shelf(101) == 5


def test_a_body_that_is_not_json_is_400(cs: CommentSoldSandbox) -> None:
    token = cs.issue_token()
    path = f"/v1/{SHOP}/inventory_levels/101/set_absolute_shelf_quantity"
    answer = cs.handle("PUT", path, [("Authorization", f"Bearer {token}"), ("x-idempotency-key", "k")], b"{nope")
    assert answer.status == 400


# ---- idempotency keys ---------------------------------------------------------------------------


def test_a_repeated_key_answers_the_first_answer_and_changes_nothing(cs: CommentSoldSandbox) -> None:
    first = set_shelf(cs, 101, 9, key="k1")
    assert cs.claim(101, 4) is not None
    set_shelf(cs, 101, 20, key="k2")
    again = set_shelf(cs, 101, 9, key="k1")
    assert again.status == first.status and again.body == first.body
    assert again.header("X-Sandbox-Replay") == "1"
    assert cs.shelf(101) == 20
    assert [w["idempotency_key"] for w in cs.writes()] == ["k1", "k2"]
    assert cs.counters()["replays"] == 1


def test_a_key_is_unique_across_urls_and_bodies(cs: CommentSoldSandbox) -> None:
    assert set_shelf(cs, 101, 9, key="k1").status == 200
    assert set_shelf(cs, 102, 9, key="k1").status == 422  # another URL
    assert set_shelf(cs, 101, 8, key="k1").status == 422  # another body
    assert cs.shelf(102) == 2 and cs.shelf(101) == 9
    assert cs.counters()["key_mismatches"] == 2


def test_keys_are_kept_48_hours(cs: CommentSoldSandbox, clock: FakeClock) -> None:
    set_shelf(cs, 101, 9, key="k1")
    set_shelf(cs, 101, 3)
    clock.advance(IDEMPOTENCY_SECONDS - 1)
    set_shelf(cs, 101, 9, key="k1")
    assert cs.shelf(101) == 3
    clock.advance(1)
    set_shelf(cs, 101, 9, key="k1")
    assert cs.shelf(101) == 9


def test_refusals_are_stored_but_faults_are_not(cs: CommentSoldSandbox) -> None:
    assert set_shelf(cs, 999, 1, key="k404").status == 404
    cs.stock(999, 0)
    assert set_shelf(cs, 999, 1, key="k404").status == 404  # the first answer, even now
    cs.fail_next(1, 503)
    assert set_shelf(cs, 999, 1, key="k503").status == 503
    assert set_shelf(cs, 999, 1, key="k503").status == 200  # a 5xx was not the first answer
    assert cs.shelf(999) == 1


def test_a_lost_answer_lands_once(cs: CommentSoldSandbox) -> None:
    cs.fail_next(1, 502, after_apply=True)
    lost = set_shelf(cs, 101, 8, key="k1")
    assert lost.status == 502 and lost.header("X-Sandbox-Fault") == "1"
    assert cs.shelf(101) == 8
    assert set_shelf(cs, 101, 8, key="k1").status == 200
    assert len(cs.writes()) == 1 and cs.counters()["replays"] == 1


def test_throttling_answers_429_with_retry_after(cs: CommentSoldSandbox) -> None:
    cs.throttle_next(2)
    assert tokenize(cs).status == 429
    answer = cs.api("GET", "inventory_levels/101", token="whatever")
    assert answer.status == 429 and answer.header("Retry-After") == "0.05"
    assert cs.api("GET", "inventory_levels/101").status == 200
    assert cs.counters()["throttled"] == 2 and cs.counters()["faults"] == 2


# ---- the live sale ------------------------------------------------------------------------------


def test_a_claim_holds_units_and_keeps_the_shelf(cs: CommentSoldSandbox) -> None:
    reservation = cs.claim(101, 2, customer_id=77)
    assert reservation is not None
    assert set(reservation) == {
        "id",
        "customer_id",
        "external_customer_id",
        "variant_id",
        "quantity",
        "created_at",
        "updated_at",
    }
    assert reservation["customer_id"] == 77 and reservation["variant_id"] == 101
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (5, 2, 3)
    assert cs.claim(101, 4) is None  # only 3 left to claim
    assert cs.claim(101, 3) is not None
    assert cs.available(101) == 0
    assert cs.claim(101) is None
    assert cs.counters()["claims_refused"] == 2
    with pytest.raises(KeyError):
        cs.claim(999)
    with pytest.raises(ValueError, match="claim"):
        cs.claim(101, 0)


def test_removal_and_expiry_give_units_back(cs: CommentSoldSandbox) -> None:
    first, second = cs.claim(101, 2), cs.claim(101, 1)
    assert first is not None and second is not None
    assert cs.remove(first["id"])["id"] == first["id"]
    assert cs.available(101) == 4
    cs.expire(second["id"])
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (5, 0, 5)
    with pytest.raises(KeyError):
        cs.remove(first["id"])
    topics = [(w["topic"], w["body"]["data"].get("reason")) for w in cs.webhooks()]
    assert topics == [
        ("reservation.created", None),
        ("reservation.created", None),
        ("reservation.deleted", "removed"),
        ("reservation.deleted", "expired"),
    ]


def test_checkout_takes_units_off_the_shelf_and_ends_the_carts(cs: CommentSoldSandbox) -> None:
    a, b, c = cs.claim(101, 2), cs.claim(102, 1), cs.claim(101, 1)
    assert a is not None and b is not None and c is not None
    order = cs.checkout([a["id"], b["id"]], shipping_total=499)
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (3, 1, 2)
    assert (cs.shelf(102), cs.held(102), cs.available(102)) == (1, 0, 1)
    assert [r["id"] for r in cs.reservations()] == [c["id"]]
    assert order["reservation_ids"] == [a["id"], b["id"]]
    assert [(line["variant_id"], line["quantity"], line["reservation_id"]) for line in order["line_items"]] == [
        (101, 2, a["id"]),
        (102, 1, b["id"]),
    ]
    assert order["subtotal"] == 2 * 1500 + 2500 and order["total"] == order["subtotal"] + 499
    # The order as Omnistock reads it (the assumed shape in webhooks.py).
    parsed = webhooks.order("cs", order, {"101": "SKU-A", "102": "SKU-B"})
    assert [(line.sku, line.quantity, line.hold_id) for line in parsed.lines] == [
        ("SKU-A", 2, f"cs:{a['id']}"),
        ("SKU-B", 1, f"cs:{b['id']}"),
    ]
    assert parsed.total == "59.99" and parsed.financial_status == "paid" and not parsed.cancelled
    with pytest.raises(KeyError):
        cs.checkout([a["id"]])  # its cart has ended
    with pytest.raises(ValueError, match="at least one"):
        cs.checkout([])
    check_invariant(cs)


def test_checkout_after_a_clamping_write_stops_the_shelf_at_zero(cs: CommentSoldSandbox) -> None:
    reservation = cs.claim(101, 4)
    assert reservation is not None
    set_shelf(cs, 101, 1)
    cs.checkout([reservation["id"]])
    assert (cs.shelf(101), cs.held(101), cs.available(101)) == (0, 0, 0)
    assert cs.counters()["clamped"] == 2
    check_invariant(cs)


def test_cancel_and_refund_restock(cs: CommentSoldSandbox) -> None:
    a, b = cs.claim(101, 2), cs.claim(101, 1)
    assert a is not None and b is not None
    first = cs.checkout([a["id"]])
    second = cs.checkout([b["id"]])
    assert cs.shelf(101) == 2
    cancelled = cs.cancel(first["id"])
    assert cancelled["status"] == "cancelled" and cs.shelf(101) == 4
    cs.cancel(first["id"])  # twice: no second restock
    assert cs.shelf(101) == 4
    refunded = cs.refund(second["id"], restock=False)
    assert refunded["status"] == "refunded" and refunded["line_items"][0]["is_returned"]
    assert cs.shelf(101) == 4
    parsed = webhooks.order("cs", refunded, {})
    assert [r.restock_type for r in parsed.refunds] == ["no_restock"]
    topics = [w["topic"] for w in cs.webhooks()][-4:]
    assert topics == ["order.created", "order.cancelled", "order.cancelled", "order.refunded"]


def test_reservations_through_the_api(cs: CommentSoldSandbox) -> None:
    made = cs.api("POST", "reservations", {"variant_id": 102, "quantity": 2, "external_customer_id": "pos-9"})
    assert made.status == 201
    reservation = made.json()["data"]
    assert reservation["external_customer_id"] == "pos-9" and cs.available(102) == 0
    assert cs.api("POST", "reservations", {"variant_id": 102}).status == 422  # nothing left
    assert cs.api("POST", "reservations", {"variant_id": 999}).status == 404
    assert cs.api("POST", "reservations", {"variant_id": 101, "quantity": 0}).status == 422
    listed = cs.api("GET", "reservations").json()
    assert [r["id"] for r in listed["data"]] == [reservation["id"]] and listed["pagination"]["total"] == 1
    assert cs.api("DELETE", f"reservations/{reservation['id']}").status == 200
    assert cs.api("DELETE", f"reservations/{reservation['id']}").status == 404
    assert cs.available(102) == 2
    example = json.loads((FIXTURES / "reservation.constructed.json").read_text())["reservation_object"]
    assert set(example) <= set(reservation)


def test_a_reservation_post_with_a_key_is_made_once(cs: CommentSoldSandbox) -> None:
    body = {"variant_id": 101, "quantity": 1}
    first = cs.api("POST", "reservations", body, idempotency_key="r1")
    again = cs.api("POST", "reservations", body, idempotency_key="r1")
    assert first.body == again.body and cs.held(101) == 1
    assert [w["topic"] for w in cs.webhooks()] == ["reservation.created"]


def test_orders_through_the_api_with_the_assumed_filter(cs: CommentSoldSandbox, clock: FakeClock) -> None:
    early = cs.checkout([_claim(cs, 101)["id"]])
    clock.advance(100)
    later = cs.checkout([_claim(cs, 101)["id"]])
    since = int(clock())
    answer = cs.api("GET", f"orders?{ORDERS_SINCE_FILTER}={since}&perPage=1")
    assert [o["id"] for o in answer.json()["data"]] == [later["id"]]
    clock.advance(100)
    cs.cancel(early["id"])  # an update moves it to the end
    everything = cs.api("GET", "orders?perPage=100").json()["data"]
    assert [o["id"] for o in everything] == [later["id"], early["id"]]
    assert cs.api("GET", "orders?filter[status]=paid").status == 422
    assert cs.api("GET", f"order/{early['id']}").json()["data"]["status"] == "cancelled"
    assert cs.api("GET", "order/1").status == 404


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["claim", "remove", "expire", "checkout", "set", "add", "subtract", "stock"]),
            st.integers(min_value=0, max_value=8),
        ),
        max_size=40,
    )
)
def test_available_is_shelf_minus_held_and_never_negative(steps: list[tuple[str, int]]) -> None:
    cs = CommentSoldSandbox(SHOP, PARTNER, KEY, clock=FakeClock())
    cs.stock(1, 3)
    for action, number in steps:
        live = [r["id"] for r in cs.reservations()]
        if action == "claim":
            cs.claim(1, max(1, number))
        elif action in ("remove", "expire") and live:
            getattr(cs, action)(live[number % len(live)])
        elif action == "checkout" and live:
            cs.checkout(live[: 1 + number % len(live)])
        elif action == "set":
            set_shelf(cs, 1, number)
        elif action in ("add", "subtract"):
            cs.api("PUT", f"inventory_levels/1/{action}", {"variant_id": 1, "relative_quantity": number})
        elif action == "stock":
            cs.stock(1, number)
        check_invariant(cs)


def test_concurrent_claims_never_oversell() -> None:
    cs = CommentSoldSandbox(SHOP, PARTNER, KEY)
    cs.stock(7, 25)
    results: list[dict[str, Any] | None] = []
    guard = threading.Lock()

    def viewer() -> None:
        for _ in range(10):
            reservation = cs.claim(7)
            with guard:
                results.append(reservation)

    threads = [threading.Thread(target=viewer) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(r is not None for r in results) == 25
    assert (cs.available(7), cs.held(7), cs.shelf(7)) == (0, 25, 25)


# ---- webhooks -----------------------------------------------------------------------------------


def test_deliveries_are_signed_and_verify(cs: CommentSoldSandbox) -> None:
    reservation = _claim(cs, 101, 2)
    cs.remove(reservation["id"])
    cs.checkout([_claim(cs, 102)["id"]])
    receiver = WebhookReceiver(answer={"ok": True})
    cs.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    result = cs.deliver_webhooks("http://stack.test/webhooks/commentsold", SECRET)
    assert [d["status"] for d in result["deliveries"]] == [200, 200, 200, 200] and result["queued"] == 0
    assert cs.webhooks() == [] and cs.counters()["webhooks_delivered"] == 4
    for request in receiver.requests:
        assert webhooks.verify(request.content, request.headers[SIGNATURE_HEADER], [SECRET])
        assert not webhooks.verify(request.content, request.headers[SIGNATURE_HEADER], ["other"])
    events = [webhooks.event(body) for body in receiver.bodies()]
    assert [e.topic for e in events] == [
        "reservation.created",
        "reservation.deleted",
        "reservation.created",
        "order.created",
    ]
    assert len({e.delivery_id for e in events}) == 4
    claim = webhooks.claim(events[0].data)
    assert (claim.reservation_id, claim.variant_id, claim.quantity) == (str(reservation["id"]), "101", 2)
    assert webhooks.reservation_id(events[1].data) == str(reservation["id"])
    assert webhooks.order("cs", events[3].data, {"102": "SKU-B"}).lines[0].sku == "SKU-B"
    assert all(isinstance(body["created_at"], int) for body in receiver.bodies())


def test_header_and_encoding_are_configurable(cs: CommentSoldSandbox) -> None:
    _claim(cs, 101)
    receiver = WebhookReceiver(answer={"ok": True})
    cs.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    cs.deliver_webhooks("http://stack.test/hook", SECRET, header="X-Signature", encoding="base64")
    request = receiver.requests[0]
    assert webhooks.verify(request.content, request.headers["X-Signature"], [SECRET], encoding="base64")
    with pytest.raises(ValueError, match="encoding"):
        cs.deliver_webhooks("http://stack.test/hook", SECRET, encoding="rot13")


def test_failed_deliveries_stay_queued_and_duplicates_replay(cs: CommentSoldSandbox) -> None:
    _claim(cs, 101)
    _claim(cs, 102)
    receiver = WebhookReceiver(500, answer={"ok": True})
    cs.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    result = cs.deliver_webhooks("http://stack.test/hook", SECRET)
    assert [d["status"] for d in result["deliveries"]] == [500, 200] and result["queued"] == 1
    cs.deliver_webhooks("http://stack.test/hook", SECRET)
    assert cs.webhooks() == []
    duplicate = cs.duplicate_last()
    cs.deliver_webhooks("http://stack.test/hook", SECRET)
    bodies = [request.content for request in receiver.requests]
    assert bodies[-1] == bodies[1]  # the same delivery, byte for byte
    assert json.loads(bodies[-1])["id"] == duplicate["id"]


def test_duplicate_last_needs_a_webhook() -> None:
    with pytest.raises(LookupError):
        CommentSoldSandbox().duplicate_last()


def test_unreachable_receivers_are_reported(cs: CommentSoldSandbox) -> None:
    _claim(cs, 101)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    cs.webhook_client = httpx.Client(transport=httpx.MockTransport(refuse))
    result = cs.deliver_webhooks("http://stack.test/hook", SECRET)
    assert result["deliveries"][0]["status"] is None and "ConnectError" in result["deliveries"][0]["error"]
    assert result["queued"] == 1


def test_inventory_writes_queue_no_webhook(cs: CommentSoldSandbox) -> None:
    set_shelf(cs, 101, 9)
    cs.stock(102, 8)
    assert cs.webhooks() == []


# ---- control routes -----------------------------------------------------------------------------


def test_control_routes_play_a_sale(cs: CommentSoldSandbox) -> None:
    assert control(cs, "POST", "stock", [{"variant_id": 300, "shelf": 3, "price": 900}]).status == 200
    claimed = control(cs, "POST", "claim", {"variant_id": 300, "quantity": 2, "customer_id": 5}).json()
    assert claimed["held"] and claimed["reservation"]["customer_id"] == 5
    assert control(cs, "POST", "claim", {"variant_id": 300, "quantity": 2}).json() == {
        "reservation": None,
        "held": False,
    }
    other = control(cs, "POST", "claim", {"variant_id": 300}).json()["reservation"]
    assert control(cs, "POST", "remove", {"reservation_id": other["id"]}).status == 200
    assert control(cs, "POST", "remove", {"reservation_id": other["id"]}).status == 404
    order = control(cs, "POST", "checkout", {"reservation_ids": [claimed["reservation"]["id"]]}).json()
    assert order["total"] == 1800
    inventory = control(cs, "GET", "inventory").json()
    level = next(level for level in inventory["levels"] if level["variant_id"] == 300)
    assert (level["shelf"], level["held"], level["total_available_quantity"]) == (1, 0, 1)
    assert [o["id"] for o in inventory["orders"]] == [order["id"]]
    receiver = WebhookReceiver(answer={"ok": True})
    cs.webhook_client = httpx.Client(transport=httpx.MockTransport(receiver))
    delivered = control(cs, "POST", "deliver", {"url": "http://stack.test/hook", "secret": SECRET}).json()
    assert delivered["queued"] == 0 and len(receiver.requests) == 4
    assert control(cs, "GET", "counters").json()["counters"]["orders_created"] == 1
    assert control(cs, "GET", "webhooks").json() == {"webhooks": []}


def test_control_routes_refuse_bad_input(cs: CommentSoldSandbox) -> None:
    assert cs.handle("POST", "/_sandbox/commentsold/claim", [], b"{nope").status == 400
    assert control(cs, "POST", "claim", {"quantity": 1}).status == 400
    assert control(cs, "POST", "claim", {"variant_id": 999}).status == 404
    assert control(cs, "POST", "stock", {"variant_id": 1, "shelf": "x"}).status == 400
    assert control(cs, "POST", "stock", {"variant_id": 1, "shelf": -1}).status == 400
    assert control(cs, "POST", "checkout", {"reservation_ids": "1"}).status == 400
    assert control(cs, "POST", "deliver", {"url": "http://x"}).status == 400


def test_control_faults_expire_cancel_refund_writes_and_reset(cs: CommentSoldSandbox) -> None:
    reservation = _claim(cs, 101)
    assert control(cs, "POST", "expire", {"reservation_id": reservation["id"]}).status == 200
    order = cs.checkout([_claim(cs, 101)["id"]])
    assert control(cs, "POST", "refund", {"order_id": order["id"], "line_ids": []}).json()["status"] == "paid"
    assert control(cs, "POST", "cancel", {"order_id": order["id"]}).json()["status"] == "cancelled"
    set_shelf(cs, 101, 4, key="k")
    assert [w["idempotency_key"] for w in control(cs, "GET", "writes").json()["writes"]] == ["k"]
    faults = control(cs, "POST", "faults", {"fail_next": 1, "status": 500, "throttle_next": 1}).json()["faults"]
    assert faults["fail_next"] == 1 and faults["throttle_next"] == 1
    assert cs.api("GET", "inventory_levels/101", token="t").status == 429
    assert cs.api("GET", "inventory_levels/101", token="t").status == 500
    assert control(cs, "POST", "reset").status == 200
    assert cs.levels() == [] and cs.webhooks() == [] and cs.writes() == []


def test_transport_serves_httpx_clients(cs: CommentSoldSandbox) -> None:
    with httpx.Client(transport=cs.transport(), base_url="http://cs.test") as client:
        token = client.post(
            "/tokenize",
            json={"payload": {"audience": "openapi", "partner_id": PARTNER, "shop": SHOP}},
            headers={"x-api-key": KEY},
        ).json()["token"]
        answer = client.get(f"/v1/{SHOP}/inventory_levels/102", headers={"Authorization": f"Bearer {token}"})
    assert answer.json()["data"]["total_available_quantity"] == 2
    assert cs.url.startswith("http://127.0.0.1:") and cs.api_base.endswith("/v1") and cs.token_url.endswith("/tokenize")


def _claim(cs: CommentSoldSandbox, variant: int, quantity: int = 1) -> dict[str, Any]:
    reservation = cs.claim(variant, quantity)
    assert reservation is not None
    return reservation
