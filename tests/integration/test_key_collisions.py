"""Names that contain the key separator ("#") must not reach into another name's items."""

from __future__ import annotations

from omnistock.ledger import Ledger
from omnistock.models import Outcome
from omnistock.orders import ChannelOrder, OrderStatus
from omnistock.store.live_store import LiveStore
from omnistock.wiring import Wiring
from tests.fakes import Clock


def test_a_lot_at_shop_2_is_not_a_lot_at_shop(ledger: Ledger, clock: Clock) -> None:
    ledger.upsert_catalog("TEE", ["shop", "shop#2"], {}, "T-shirt")
    ledger.report_count("TEE", "shop", 5, 1, "pos", "count-shop-1")
    ledger.report_count("TEE", "shop#2", 5, 1, "pos", "count-shop2-1")
    assert ledger.sell("TEE", "shop#2", 2, "shopify", "o1").outcome is Outcome.APPLIED
    assert ledger.confirm_pending("TEE", "shop#2", "shopify:o1", 2, "pos", "confirm-o1").outcome is Outcome.APPLIED
    clock.advance(seconds=1)

    counted = ledger.report_count("TEE", "shop", 7, 3, "pos", "count-shop-3")

    assert counted.outcome is Outcome.APPLIED
    shop, other = ledger.store.stock_with_lots("TEE", "shop"), ledger.store.stock_with_lots("TEE", "shop#2")
    assert shop is not None and other is not None
    assert (shop.on_hand, shop.pending, shop.available, shop.lots) == (7, 0, 7, {})
    assert (other.pending, set(other.lots)) == (2, {"shopify:o1"})
    # The lot is still there for shop#2's own count to clear.
    assert ledger.report_count("TEE", "shop#2", 3, 3, "pos", "count-shop2-3").outcome is Outcome.APPLIED
    assert ledger.store.stock_with_lots("TEE", "shop#2").lots == {}  # type: ignore[union-attr]


def test_stock_levels_keep_lots_with_their_location(ledger: Ledger) -> None:
    ledger.upsert_catalog("TEE", ["shop", "shop#2"], {}, "T-shirt")
    for location in ("shop", "shop#2"):
        ledger.report_count("TEE", location, 5, 1, "pos", f"count-{location}")
    ledger.sell("TEE", "shop#2", 1, "shopify", "o1")
    ledger.sell("TEE", "shop", 1, "shopify", "2#o2")  # a lot key that starts like "shop#2"'s lots
    lots = {level.location: set(level.lots) for level in ledger.store.stock_levels("TEE")}
    assert lots == {"shop": {"shopify:2#o2"}, "shop#2": {"shopify:o1"}}
    assert set(ledger.store.stock_with_lots("TEE", "shop").lots) == {"shopify:2#o2"}  # type: ignore[union-attr]


def test_a_lot_stored_under_the_old_key_does_not_block_another_location(ledger: Ledger) -> None:
    ledger.upsert_catalog("TEE", ["shop", "shop#2"], {}, "T-shirt")
    ledger.report_count("TEE", "shop", 5, 1, "pos", "count-shop-1")
    old = {"pk": "SKU#TEE", "sk": "LOT#shop#2#shopify:o1", "kind": "lot", "location": "shop#2", "lot": "shopify:o1"}
    ledger.store.table.put(old | {"qty": 2, "sold_at": "2026-11-23T11:00:00.000Z", "applied_version": 2})
    assert ledger.store.stock_with_lots("TEE", "shop").lots == {}  # type: ignore[union-attr]
    assert ledger.report_count("TEE", "shop", 7, 3, "pos", "count-shop-3").outcome is Outcome.APPLIED


def test_a_location_named_past_the_bmp_is_read_with_the_others(wiring: Wiring, ledger: Ledger) -> None:
    popup = "\U0001f600 pop-up"  # sorts after "\uffff"
    ledger.upsert_catalog("TEE", ["shop", popup], {}, "T-shirt")
    for location in ("shop", popup):
        ledger.report_count("TEE", location, 5, 1, "pos", f"count-{location}")
    ledger.sell("TEE", popup, 1, "shopify", "o1")
    assert {level.location: set(level.lots) for level in ledger.store.stock_levels("TEE")} == {
        "shop": set(),
        popup: {"shopify:o1"},
    }
    assert wiring.pushes.push_state("TEE").levels == {"shop": 5, popup: 4}


def test_listing_ids_of_a_channel_named_like_another_channel_and_an_id(wiring: Wiring, ledger: Ledger) -> None:
    ledger.upsert_catalog("ONE", ["shop"], {"a": "b#x"}, "One")
    ledger.upsert_catalog("TWO", ["shop"], {"a#b": "x"}, "Two")  # refused as taken before
    listings = wiring.listings
    assert (listings.owner("a", "b#x"), listings.owner("a#b", "x")) == ("ONE", "TWO")


def test_orders_of_channels_named_like_another_channel_and_an_id(wiring: Wiring, clock: Clock) -> None:
    orders = wiring.orders
    first = _order("a", "b#x", "#1001")
    second = _order("a#b", "x", "#1001")
    for order in (first, second):
        assert orders.save_order(order, OrderStatus.AWAITING_PAYMENT, None, clock.now) is not None
    assert orders.order("a", "b#x").order == first  # type: ignore[union-attr]
    assert orders.order("a#b", "x").order == second  # type: ignore[union-attr]
    assert sorted(orders.orders_numbered("#1001")) == [("a", "b#x"), ("a#b", "x")]


def test_live_claims_of_channels_named_like_another_channel_and_a_sku(wiring: Wiring) -> None:
    live = LiveStore(wiring.table)
    assert live.create({"event_id": "e1", "state": "running"}, [("a", "b#x")]) is None
    assert live.create({"event_id": "e2", "state": "running"}, [("a#b", "x")]) is None


def _order(channel: str, order_id: str, number: str) -> ChannelOrder:
    return ChannelOrder(channel, order_id, number, "2026-11-23T12:00:00.000Z", "2026-11-23T12:00:00.000Z", ())
