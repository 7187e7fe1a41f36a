"""Edge cases of the Shopify connection, each a sequence that once left the ledger wrong."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from omnistock.channels.shopify import payloads
from omnistock.channels.shopify.intake import Delivery, ShopifyIntake
from omnistock.errors import InvalidRequest
from omnistock.ledger import Ledger
from omnistock.policy import SkuPolicy
from omnistock.store.push_store import Pushed
from omnistock.wiring import Wiring
from tests.fakes import Clock
from tests.integration.test_shopify_orders import (
    LOCATION_GID,
    SHELL,
    SOCK,
    build,
    deliver,
    edited,
    graphql_node,
    level,
    pending,
    sample,
)

ITEM = "gid://shopify/InventoryItem/47216940870001"


@pytest.fixture
def master(wiring: Wiring, ledger: Ledger, clock: Clock) -> ShopifyIntake:
    """Shopify is the master of "shop" (no POS there), and sells from it alone."""
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID, master_location="shop")
    ledger.upsert_catalog(SOCK, ["shop"], {"shopify": ITEM})
    ledger.upsert_catalog(SHELL, ["shop"], {})
    return build(wiring)


def levels(shop: ShopifyIntake, available: int, triggered: str) -> dict[str, Any]:
    """A level signed for the second of ``triggered``, delivered with that trigger header."""
    body = level(available, triggered[:19] + "Z")
    return shop.handle(Delivery("inventory_levels/update", body, "w", payloads.utc_micros(triggered)))


def sock(ledger: Ledger) -> tuple[int, int, int]:
    (lv,) = ledger.explain(SOCK).levels
    return lv.on_hand, lv.pending, lv.available


def test_a_master_channel_sells_from_its_location_alone(ledger: Ledger) -> None:
    with pytest.raises(InvalidRequest):
        ledger.set_channel("shopify", ["shop", "web"], platform="shopify", target_location="x", master_location="shop")


def test_a_master_count_in_the_same_second_as_an_order_does_not_clear_it(ledger: Ledger, master: ShopifyIntake) -> None:
    levels(master, 40, "2025-06-03T14:00:00.000001Z")
    deliver(master, "orders/create", sample("orders_create.json"))  # created 14:15:02 UTC, 2 socks
    levels(master, 38, "2025-06-03T14:15:02.400000Z")  # the same second: maybe before the order
    assert sock(ledger) == (38, 2, 36)  # the lot stays: never more than the shelf has
    levels(master, 38, "2025-06-03T14:15:03.100000Z")  # a later second: it includes the order
    assert sock(ledger) == (38, 0, 38)


def test_a_master_level_equal_to_ours_is_still_ordered_by_time(ledger: Ledger, master: ShopifyIntake) -> None:
    history = master.order_desk.history
    history.record_pushed({(SOCK, "shopify"): Pushed(10, "t", ITEM)})
    levels(master, 10, "2025-06-03T14:25:00Z")  # 10 -> 8 -> 10 at Shopify, delivered reversed
    levels(master, 8, "2025-06-03T14:20:00Z")
    assert sock(ledger) == (10, 0, 10)


def test_a_master_number_capped_or_paused_by_us_is_not_a_count(ledger: Ledger, master: ShopifyIntake) -> None:
    levels(master, 40, "2025-06-03T14:00:00Z")
    master.order_desk.history.save_policy(SOCK, "shopify", SkuPolicy(paused=True), ledger.clock())
    assert levels(master, 0, "2025-06-03T14:05:00Z")["result"] == "ignored"
    assert sock(ledger) == (40, 0, 40)


def test_a_line_untracked_later_keeps_its_units(ledger: Ledger, shop_pos: ShopifyIntake) -> None:
    create = sample("orders_create.json")
    deliver(shop_pos, "orders/create", create)
    later = edited(create, 0, 2, "2025-06-03T11:00:00-04:00")
    later["line_items"][0]["variant_inventory_management"] = None  # the variant was untracked
    later["line_items"][0]["variant_id"] = None
    deliver(shop_pos, "orders/updated", later)
    assert pending(ledger, SOCK) == 2


def test_an_edit_after_a_confirmation_is_a_new_lot(ledger: Ledger, shop_pos: ShopifyIntake) -> None:
    create = sample("orders_create.json")
    deliver(shop_pos, "orders/create", create)
    (lot_key,) = ledger.store.stock_with_lots(SOCK, "shop").lots  # type: ignore[union-attr]
    ledger.confirm_pending(SOCK, "shop", lot_key, 2, "pos", "sale-1")  # the POS has the 2 at v2
    deliver(shop_pos, "orders/updated", edited(create, 0, 3, "2025-06-03T11:00:00-04:00"))
    ledger.report_count(SOCK, "shop", 8, 2, "pos", "c2")
    assert sock(ledger) == (8, 1, 7)  # the third sock is not in the POS's count yet
    deliver(shop_pos, "orders/cancelled", sample("orders_cancelled.json"))
    assert sock(ledger) == (10, 0, 10)  # the new lot released, the counted units back on the shelf


def test_a_line_gives_units_back_to_the_sku_it_took_them_from(ledger: Ledger, shop_pos: ShopifyIntake) -> None:
    body = sample("orders_create.json")
    deliver(shop_pos, "orders/create", body)
    ledger.upsert_catalog("SOCK-NEW", ["shop"], {})
    ledger.report_count("SOCK-NEW", "shop", 5, 1, "pos", "c9")
    renamed = copy.deepcopy(sample("orders_cancelled.json"))
    renamed["line_items"][0]["sku"] = "SOCK-NEW"  # the variant's SKU changed since
    deliver(shop_pos, "orders/cancelled", renamed)
    assert pending(ledger, SOCK) == 0 and pending(ledger, "SOCK-NEW") == 0
    assert ledger.channel_available("shopify", "SOCK-NEW").available == 5


def test_poll_and_webhook_agree_on_shipped_units(ledger: Ledger, shop_pos: ShopifyIntake) -> None:
    rest = sample("orders_create.json")
    rest["fulfillments"] = [{"status": "success", "line_items": [{"id": 15518900000001, "quantity": 2}]}]
    rest["refunds"] = [
        {
            "id": 1,
            "admin_graphql_api_id": "gid://shopify/Refund/1",
            "refund_line_items": [
                {"id": 7, "line_item_id": 15518900000001, "quantity": 1, "restock_type": "no_restock"}
            ],
        }
    ]
    rest["line_items"][0]["current_quantity"] = 1
    node = graphql_node(rest)
    node["fulfillments"] = [
        {
            "status": "SUCCESS",
            "fulfillmentLineItems": {
                "nodes": [{"quantity": 2, "lineItem": {"id": "gid://shopify/LineItem/15518900000001"}}]
            },
        }
    ]
    webhook = payloads.order_from_rest("shopify", rest)
    polled = payloads.order_from_graphql("shopify", node)
    assert [(line.quantity, line.fulfilled) for line in webhook.lines] == [
        (line.quantity, line.fulfilled) for line in polled.lines
    ]


def test_orders_edited_and_untracked_levels_are_ignored(shop_pos: ShopifyIntake) -> None:
    assert deliver(shop_pos, "orders/edited", {"order_edit": {"id": 1}})["result"] == "ignored"
    body = level(0)
    body["available"] = None
    assert deliver(shop_pos, "inventory_levels/update", body)["result"] == "ignored"


def test_a_deleted_product_stays_deleted_and_a_body_signed_for_another_topic_is_refused(
    ledger: Ledger, shop_pos: ShopifyIntake
) -> None:
    product = sample("products_update.json")
    deliver(shop_pos, "products/update", product)
    with pytest.raises(payloads.PayloadError):
        deliver(shop_pos, "products/delete", product)  # the update's body under the delete topic
    deliver(shop_pos, "products/delete", {"id": product["id"]})
    deliver(shop_pos, "products/update", product)  # a late retry of an update
    entry = ledger.store.catalog(SOCK)
    assert entry is not None and "shopify" not in entry.listings


@pytest.fixture
def shop_pos(wiring: Wiring, ledger: Ledger, clock: Clock) -> ShopifyIntake:
    """The usual set-up: the POS is the master; Shopify sells from "shop"."""
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location=LOCATION_GID)
    ledger.upsert_catalog(SOCK, ["shop"], {"shopify": ITEM})
    ledger.upsert_catalog(SHELL, ["shop"], {})
    ledger.report_count(SOCK, "shop", 10, 1, "pos", "c1")
    ledger.report_count(SHELL, "shop", 5, 1, "pos", "c2")
    return build(wiring)
