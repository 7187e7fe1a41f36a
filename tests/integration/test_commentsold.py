"""CommentSold live-sale events against the ledger (moto, table from the template): claims become
holds, removals release, orders check holds out, cancels and returns give units back; every
event duplicated and reordered ends where one ordered delivery ends."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnistock.channels.commentsold import webhooks
from omnistock.channels.commentsold import wiring as commentsold
from omnistock.channels.commentsold.intake import CommentSoldIntake
from omnistock.ledger import Ledger
from omnistock.wiring import Wiring
from tests.fakes import Clock, FakeCommentSold, ShelfPort
from tests.helpers import FakeContext, http_event, load_function

VARIANT = "123456"
NOW = 1_795_435_200  # 2026-11-23T12:00:00Z, the clock fixture's time


@pytest.fixture
def live(wiring: Wiring, ledger: Ledger, clock: Clock) -> CommentSoldIntake:
    ledger.set_channel("commentsold", ["shop"], platform="commentsold")
    ledger.upsert_catalog("TEE", ["shop"], {"commentsold": VARIANT})
    ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    return commentsold.intake(wiring)


def claimed(reservation: int, quantity: int = 1, variant: str = VARIANT, **extra: Any) -> dict[str, Any]:
    data = {"id": reservation, "variant_id": int(variant), "quantity": quantity} | extra
    return {"id": f"d-claim-{reservation}", "topic": "reservation.created", "created_at": NOW, "data": data}


def removed(reservation: int) -> dict[str, Any]:
    return {
        "id": f"d-rm-{reservation}",
        "topic": "reservation.deleted",
        "data": {"id": reservation, "reason": "removed"},
    }


def ordered(order: int, reservations: list[int], topic: str = "order.created", **extra: Any) -> dict[str, Any]:
    lines = [
        {"id": r * 10, "variant_id": int(VARIANT), "quantity": 1, "price": 1500, "reservation_id": r}
        for r in reservations
    ]
    data = {
        "id": order,
        "status": "paid",
        "line_items": lines,
        "total": 1500 * len(lines),
        "created_at": NOW,
        "updated_at": NOW,
    }
    data |= extra
    return {"id": f"d-order-{order}-{topic}", "topic": topic, "data": data}


def tee(ledger: Ledger) -> tuple[int, int, int, int]:
    (level,) = ledger.explain("TEE").levels
    return level.on_hand, level.held, level.pending, level.available


def test_a_claim_holds_or_says_why_not(ledger: Ledger, live: CommentSoldIntake) -> None:
    first = live.handle(claimed(1, 3))
    assert first["held"] is True and first["expires_at"] == "2026-11-23T12:15:00.000Z"
    assert live.handle(claimed(1, 3))["result"] == "duplicate"
    assert tee(ledger) == (5, 3, 0, 2)
    sold_out = live.handle(claimed(2, 3))
    assert sold_out["held"] is False and "waitlist" in sold_out["reason"]
    unknown = live.handle(claimed(3, 1, variant="999"))
    assert unknown["held"] is False and unknown["refusal"]["status"] == 404
    assert tee(ledger) == (5, 3, 0, 2)
    with pytest.raises(webhooks.PayloadError):
        live.handle(claimed(4, 0))
    with pytest.raises(webhooks.PayloadError):
        live.handle(claimed(4, 10_000))


def test_a_refused_claim_delivered_again_after_a_unit_came_free_still_holds_nothing(
    ledger: Ledger, live: CommentSoldIntake
) -> None:
    """The viewer was sent to the waitlist: a redelivery of the claim (at-least-once) that comes
    once stock is back must answer the same, or units are held for a cart that holds nothing
    (found by the live-sale bench under load)."""
    live.handle(claimed(1, 5))
    assert live.handle(claimed(2, 1))["held"] is False  # sold out
    live.handle(removed(1))  # five units come free
    again = live.handle(claimed(2, 1))
    assert again["held"] is False and again["result"] == "duplicate"
    assert tee(ledger) == (5, 0, 0, 5)
    assert live.handle(claimed(3, 1))["held"] is True  # a new claim holds as ever


def test_removal_releases_and_a_removal_before_its_claim_holds_nothing(ledger: Ledger, live: CommentSoldIntake) -> None:
    live.handle(claimed(1))
    live.handle(removed(1))
    live.handle(removed(1))
    assert tee(ledger) == (5, 0, 0, 5)
    live.handle(removed(2))  # the removal overtook its claim
    assert live.handle(claimed(2))["held"] is False
    assert tee(ledger) == (5, 0, 0, 5)


def test_an_order_checks_its_holds_out_once_and_lands_in_the_order_store(
    ledger: Ledger, live: CommentSoldIntake
) -> None:
    live.handle(claimed(1))
    live.handle(claimed(2))
    for _ in range(2):
        live.handle(ordered(77, [1, 2]))
    assert tee(ledger) == (5, 0, 2, 3)
    stored = live.order_desk.orders.order("commentsold", "77")
    assert stored is not None and stored.status.value == "awaiting_shipment" and stored.order.number == "CS-77"
    live.handle(ordered(77, [1, 2], topic="order.cancelled", status="cancelled", updated_at=NOW + 60))
    assert tee(ledger) == (5, 0, 0, 5)


def test_an_order_before_its_claim_is_a_sale_and_the_late_claim_holds_nothing(
    ledger: Ledger, live: CommentSoldIntake
) -> None:
    live.handle(ordered(77, [1]))
    assert tee(ledger) == (5, 0, 1, 4)
    assert live.handle(claimed(1))["held"] is False
    assert tee(ledger) == (5, 0, 1, 4)


def test_a_cart_that_expired_and_then_checked_out_is_still_a_sale(
    ledger: Ledger, live: CommentSoldIntake, clock: Clock
) -> None:
    live.handle(claimed(1))
    clock.advance(minutes=16)
    assert ledger.expire_due_holds().expired == 1
    live.handle(ordered(77, [1]))
    assert tee(ledger) == (5, 0, 1, 4)


def test_a_returned_line_with_restock_gives_its_unit_back(ledger: Ledger, live: CommentSoldIntake) -> None:
    live.handle(claimed(1))
    live.handle(ordered(77, [1]))
    refunded = ordered(77, [1], topic="order.refunded", updated_at=NOW + 60)
    refunded["data"]["line_items"][0] |= {"is_returned": True, "restock": True}
    live.handle(refunded)
    live.handle(refunded)
    assert tee(ledger) == (5, 0, 0, 5)


_EXAMPLES = itertools.count(1)
FATES = st.lists(st.sampled_from(["ordered", "removed", "expired"]), min_size=3, max_size=8)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)
@given(fates=FATES, data=st.data())
def test_any_interleaving_with_duplicates_ends_at_the_ground_truth(
    ledger: Ledger, live: CommentSoldIntake, clock: Clock, fates: list[str], data: st.DataObject
) -> None:
    """Each reservation is claimed, then ordered, removed or left to expire. Whatever the order
    of delivery, duplicates and sweeps in between, once every cart has ended the ledger holds
    nothing and has exactly the ordered units pending."""
    base = next(_EXAMPLES) * 10_000  # fresh ids for each example in the one table
    events = []
    for n, fate in enumerate(fates):
        rid = base + n
        events.append(claimed(rid, expires_at=NOW + 3600 * 24 * 3))  # far off: only its fate ends it
        if fate == "ordered":
            events.append(ordered(base + 1000 + n, [rid]))
        elif fate == "removed":
            events.append(removed(rid))
        else:
            events.append({"expire": rid})
    delivered = data.draw(st.permutations(events + data.draw(st.lists(st.sampled_from(events), max_size=6))))
    before = tee(ledger)
    for event in delivered:
        if "expire" in event:
            hold = ledger.store.hold(webhooks.hold_id("commentsold", str(event["expire"])))
            if hold is not None and hold.state.value == "active":
                ledger.release_hold(hold.hold_id, "test", f"expired-{event['expire']}")  # the cart's own expiry event
        else:
            live.handle(event)
    for n, fate in enumerate(fates):  # carts whose expiry event came before their claim
        if fate == "expired":
            hold = ledger.store.hold(webhooks.hold_id("commentsold", str(base + n)))
            if hold is not None and hold.state.value == "active":
                ledger.release_hold(hold.hold_id, "test", f"expired-late-{base + n}")
    on_hand, held, pending, _ = tee(ledger)
    assert (on_hand, held) == (before[0], before[1])
    assert pending - before[2] == fates.count("ordered")


def test_the_webhook_handler_checks_the_signature_first(
    handler_env: None, monkeypatch: pytest.MonkeyPatch, ledger: Ledger
) -> None:
    import boto3

    from omnistock import runtime

    monkeypatch.setenv("COMMENTSOLD_WEBHOOK_SECRET_NAME", "cs-secret")
    monkeypatch.setenv("COMMENTSOLD_SIGNATURE_ENCODING", "base64")
    boto3.client("secretsmanager").create_secret(Name="cs-secret", SecretString="shh")
    runtime.reset()
    runtime.app().ledger.set_channel("commentsold", ["shop"], platform="commentsold")
    runtime.app().ledger.upsert_catalog("TEE", ["shop"], {"commentsold": VARIANT})
    runtime.app().ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    handler = load_function("commentsold_webhook").lambda_handler

    def send(body: str, signature: str | None) -> dict[str, Any]:
        event = http_event("POST", "/webhooks/commentsold", body)
        if signature is not None:
            event["headers"]["x-commentsold-signature"] = signature
        answer: dict[str, Any] = handler(event, FakeContext())
        return answer

    body = json.dumps(claimed(1) | {"created_at": int(time.time())})  # the handler's clock is the real one
    assert send(body, None)["statusCode"] == 401
    assert send(body, webhooks.sign(body.encode(), "wrong", "base64"))["statusCode"] == 401
    assert send(body, webhooks.sign(body.encode(), "shh", "hex"))["statusCode"] == 401  # the other encoding
    assert runtime.app().ledger.store.hold("commentsold:1") is None
    answer = send(body, webhooks.sign(body.encode(), "shh", "base64"))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["held"] is True
    bad = json.dumps(claimed(2, 0) | {"created_at": int(time.time())})
    assert send(bad, webhooks.sign(bad.encode(), "shh", "base64"))["statusCode"] == 400
    assert send("{not json", webhooks.sign(b"{not json", "shh", "base64"))["statusCode"] == 400


def test_commentsold_is_told_its_shelf_its_own_carts_added_back(
    wiring: Wiring, ledger: Ledger, live: CommentSoldIntake, clock: Clock
) -> None:
    """CommentSold's own number leaves its carts out: Omnistock writes its shelf (what it may sell
    plus what its carts hold), so a claim the ledger has seen does not lower CommentSold twice."""
    from omnistock.push import targets

    ledger.upsert_catalog("TEE", ["shop"], {"commentsold": VARIANT})
    pushes = wiring.pushes
    channel = ledger.store.channel("commentsold")
    assert channel is not None
    ledger.place_hold("admin-1", "TEE", "shop", 1, "admin", "a1", minutes=5)  # not a CommentSold cart
    live.handle(claimed(1, 2))
    state = pushes.push_state("TEE")
    assert state.own_holds("commentsold", channel.locations) == 2
    (shelf,) = targets(channel, [state], force=True, shelf=True)
    (plain,) = targets(channel, [state], force=True)
    assert (plain.quantity, shelf.quantity) == (2, 4)  # 5 - 3 held; plus its own 2 carts
    live.handle(removed(1))
    clock.advance(minutes=10)
    ledger.expire_due_holds()
    assert pushes.push_state("TEE").own_holds("commentsold", channel.locations) == 0


def test_the_poll_confirms_carts_and_orders_the_webhooks_missed(
    ledger: Ledger, live: CommentSoldIntake, clock: Clock
) -> None:
    api = FakeCommentSold()
    live.handle(claimed(2))  # its cart was removed on CommentSold; the removal never came
    clock.advance(minutes=5)
    live.handle(claimed(3))  # claimed a moment ago: the listing may not show it yet
    api.carts = [claimed(1)["data"], claimed(3)["data"]]  # cart 1's claim never came as a webhook
    report = live.poll(api, lambda: False)
    assert (report["claims"], report["released"]) == (1, 0)  # cart 2 missing once: maybe a shifted page
    assert tee(ledger) == (5, 3, 0, 2)
    report = live.poll(api, lambda: False)
    assert (report["claims"], report["released"]) == (0, 1)  # missing twice: gone
    assert tee(ledger) == (5, 2, 0, 3)  # carts 1 and 3 held, 2 released
    api.orders = [ordered(77, [1])["data"] | {"updated_at": NOW + 400}]
    api.carts = [claimed(3)["data"]]
    for _ in range(2):  # the overlap reads it again: nothing twice
        live.poll(api, lambda: False)
    assert tee(ledger) == (5, 1, 1, 3)
    assert live.order_desk.orders.order("commentsold", "77") is not None


def test_a_forced_push_compares_shelves_not_a_shelf_with_what_is_for_sale(
    wiring: Wiring, ledger: Ledger, live: CommentSoldIntake, clock: Clock
) -> None:

    live.handle(claimed(1, 2))  # ledger: 5 on hand, 2 in CommentSold carts: shelf 5, for sale 3
    port = ShelfPort(available=5)  # CommentSold drifted: it sells 5 (a shelf of 7 with its 2 carts)
    wiring.ports = lambda _: port
    engine = wiring.push_engine
    engine.push(["TEE"], "reconcile", force=True)
    assert port.writes == [5]  # the shelf set back to 5: it may sell 3 again


def test_a_cancel_is_not_undone_by_a_create_of_the_same_second(ledger: Ledger, live: CommentSoldIntake) -> None:
    live.handle(claimed(1))
    live.handle(ordered(77, [1]))
    live.handle(ordered(77, [1], topic="order.cancelled", status="cancelled"))  # the same updated_at
    live.handle(ordered(77, [1]))  # the create, redelivered
    assert tee(ledger) == (5, 0, 0, 5)
    stored = live.order_desk.orders.order("commentsold", "77")
    assert stored is not None and stored.status.value == "cancelled"


def test_a_cart_checked_out_by_one_order_is_not_taken_again_by_another(ledger: Ledger, live: CommentSoldIntake) -> None:
    live.handle(claimed(1))
    live.handle(ordered(77, [1]))
    live.handle(ordered(78, [1]))  # a second order naming the same reservation: a sale of its own
    assert tee(ledger) == (5, 0, 2, 3)
    live.handle(ordered(77, [1], topic="order.cancelled", status="cancelled", updated_at=NOW + 60))
    live.handle(ordered(78, [1], topic="order.cancelled", status="cancelled", updated_at=NOW + 60))
    assert tee(ledger) == (5, 0, 0, 5)  # no phantom unit


def test_a_second_channel_of_a_one_per_stack_platform_is_refused(ledger: Ledger, live: CommentSoldIntake) -> None:
    """Found by schemathesis: a second CommentSold channel took the first one's webhooks over
    (intake finds the stack's channel by platform)."""
    from omnistock.errors import Conflict

    with pytest.raises(Conflict, match="commentsold"):
        ledger.set_channel("another", ["shop"], platform="commentsold")
    ledger.set_channel("commentsold", ["shop"], platform="commentsold", buffer=1)  # the channel itself may change
    assert live.channel() is not None and live.channel().name == "commentsold"  # type: ignore[union-attr]
