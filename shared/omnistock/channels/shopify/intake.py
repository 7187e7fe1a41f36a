"""Shopify's webhooks and its order poll, routed to the desks that apply them.

Every topic ends in the same idempotent operations as the poll (``OrderDesk.ingest`` and
friends), so a webhook delivered twice, a webhook after the poll, or the poll after a webhook
changes nothing the second time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omnistock.channels import OrdersPort
from omnistock.channels.shopify import PLATFORM, payloads
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.errors import StoreRefused
from omnistock.listings import ListingDesk, Variant
from omnistock.models import Channel
from omnistock.order_desk import OrderDesk
from omnistock.orders import ChannelOrder
from omnistock.shipments import ShipmentDesk
from omnistock.web import loggable

if TYPE_CHECKING:  # the stores arrive built (the wiring); a platform never reaches into the table
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.stock_store import StockStore

log = logging.getLogger(__name__)

# orders/edited carries an order edit, not the order; the orders/updated that comes with it does.
ORDER_TOPICS = frozenset({"orders/create", "orders/updated", "orders/paid", "orders/cancelled"})
HOLD_TOPICS = frozenset({"fulfillment_orders/placed_on_hold", "fulfillment_orders/hold_released"})
OTHER_TOPICS = (
    frozenset({"refunds/create", "inventory_levels/update", "products/create", "products/update", "products/delete"})
    | HOLD_TOPICS
)
HANDLED_TOPICS = ORDER_TOPICS | OTHER_TOPICS  # what Omnistock subscribes to (subscriptions.py)
HOLD_HINTS_PER_POLL = 50
OVERLAP = timedelta(minutes=5)  # orders updated while a poll walked its pages are read again
FIRST_LOOKBACK = timedelta(hours=24)  # the first poll of a new connection


@dataclass(frozen=True)
class Delivery:
    topic: str  # from a header Shopify does not sign: it picks the parser, each checks the shape
    body: Any
    webhook_id: str = ""  # unsigned: a label for the movement log, never a key or an order
    triggered_at: str = ""  # unsigned: UTC ISO with microseconds, "" when absent


def level_time(signed: str, triggered: str) -> str:
    """The time an inventory level is ordered by. Shopify signs the body, not its headers, so
    the payload's ``updated_at`` (whole seconds) decides: a three-day-old level replayed with a
    fresh ``X-Shopify-Triggered-At`` stays three days old. The header only orders reports
    inside that same signed second (it is finer), and only forward of it. "" when the body
    carries no time: such a report cannot be ordered."""
    if not signed:
        return ""
    return triggered if triggered[:19] == signed[:19] and triggered >= signed else signed


@dataclass
class PollReport:
    pages: int = 0
    orders: int = 0
    lines_moved: int = 0
    unreadable: int = 0
    rejected: int = 0  # readable, but the table cannot hold it (recorded, stepped past)
    holds: int = 0  # orders read again because a webhook said a hold was placed or released
    cursor: str | None = None
    shipments: dict[str, int] = field(default_factory=dict)


class ShopifyIntake:
    def __init__(
        self,
        stock: StockStore,
        orders: OrderStore,
        order_desk: OrderDesk,
        listing_desk: ListingDesk,
        shipment_desk: ShipmentDesk,
        cursors: CursorStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.stock = stock
        self.cursors = cursors
        self.orders = orders
        self.order_desk = order_desk
        self.listing_desk = listing_desk
        self.shipment_desk = shipment_desk
        self.clock = clock

    def channel(self) -> Channel | None:
        """The stack's Shopify channel (one shop per stack)."""
        channels = sorted(self.stock.channels(), key=lambda c: c.name)
        return next((c for c in channels if c.platform == PLATFORM.name), None)

    def handle(self, delivery: Delivery) -> dict[str, Any]:
        """Apply one verified delivery. Raises payloads.PayloadError for a body that is not the
        topic's shape (nothing is stored then)."""
        channel = self.channel()
        if channel is None:
            return {"result": "ignored", "detail": "no Shopify channel is configured"}
        apply = self._topics().get(delivery.topic)
        if apply is None:
            log.info("shopify webhook topic %s is not handled; ignored", loggable(delivery.topic))
            return {"result": "ignored", "detail": "topic not handled"}
        try:
            return apply(channel, delivery)
        except StoreRefused as error:  # final: Shopify would retry it for hours, then drop the subscription
            body = delivery.body if isinstance(delivery.body, dict) else {}
            reference = f"{delivery.topic}:{loggable(str(body.get('id', ''))[:80])}"
            self._note(channel, reference, "webhook", "rejected", str(error))
            return {"result": "rejected", "detail": "the table cannot hold this delivery as sent; recorded"}

    def _topics(self) -> dict[str, Callable[[Channel, Delivery], dict[str, Any]]]:
        return {
            **dict.fromkeys(ORDER_TOPICS, self._order),
            "refunds/create": self._refund,
            "inventory_levels/update": self._level,
            "products/create": self._product,
            "products/update": self._product,
            "products/delete": self._product_deleted,
            **dict.fromkeys(HOLD_TOPICS, self._hold),
        }

    def _order(self, channel: Channel, delivery: Delivery) -> dict[str, Any]:
        order = self._with_mapped_skus(channel, payloads.order_from_rest(channel.name, delivery.body))
        report = self.order_desk.ingest(order)
        return {"result": "applied", "order": order.order_id, "lines_moved": report.moved, "saved": report.saved}

    def _hold(self, channel: Channel, delivery: Delivery) -> dict[str, Any]:
        """A hold placed or released: a hint. The body names the fulfillment order only, and its
        order's state is read by the next poll (which holds the API credentials)."""
        held = payloads.held_fulfillment_order(delivery.body)
        self.cursors.hint(f"{channel.name}:holds", held, iso(self.clock()))
        return {"result": "applied", "detail": "the next poll reads the order's hold"}

    def _refund(self, channel: Channel, delivery: Delivery) -> dict[str, Any]:
        notice = payloads.refund_from_rest(delivery.body)
        report = self.order_desk.ingest_refunds(channel.name, notice.order_id, list(notice.lines), notice.skus)
        return {"result": "applied", "order": notice.order_id, "lines_moved": report.moved}

    def _level(self, channel: Channel, delivery: Delivery) -> dict[str, Any]:
        level = payloads.level_from_rest(delivery.body)
        if level.available is None:
            return {"result": "ignored", "detail": "the item is not tracked at that location"}
        reported = level_time(level.updated_at, delivery.triggered_at)
        outcome = self.listing_desk.on_level(
            channel, level.inventory_item, level.location, level.available, reported, delivery.webhook_id
        )
        return {"result": outcome.result, "sku": outcome.sku}

    def _product(self, channel: Channel, delivery: Delivery) -> dict[str, Any]:
        product = payloads.product_from_rest(delivery.body)
        variants = [Variant(v.variant, v.inventory_item, v.sku, v.tracked) for v in product.variants]
        changed = self.listing_desk.on_product(channel, product.product_id, product.title, product.updated_at, variants)
        return {"result": "applied", "catalog_changes": changed}

    def _product_deleted(self, channel: Channel, delivery: Delivery) -> dict[str, Any]:
        body = delivery.body if isinstance(delivery.body, dict) else {}
        if not body.get("id") or "variants" in body:  # a product's body signed for another topic
            raise payloads.PayloadError("products/delete carries the product id alone")
        return {"result": "applied", "unmapped": self.listing_desk.on_product_deleted(channel, str(body["id"]))}

    def poll(self, port: OrdersPort, out_of_time: Callable[[], bool]) -> PollReport:
        """Orders updated since the cursor (minus an overlap), page by page; the cursor moves to
        the last order of a page once the whole page is applied. Then unsent shipments."""
        report = PollReport()
        channel = self.channel()
        if channel is None:
            return report
        self._read_holds(channel, port, report)
        name = f"{channel.name}:orders"
        cursor = self.cursors.cursor(name)
        since = parse_iso(cursor) - OVERLAP if cursor else self.clock() - FIRST_LOOKBACK
        after: str | None = None
        while True:
            nodes, after = port.orders_since(iso(since), after)
            report.pages += 1
            last = None
            for node in nodes:
                applied = self._apply_node(channel, node, report)
                if applied is not None:
                    last = max(last or "", applied.updated_at)
            if last and self.cursors.advance_cursor(name, last):
                report.cursor = last
            if after is None or out_of_time():
                break
        report.shipments = self.shipment_desk.retry_unsent(channel.name)
        return report

    def _note(self, channel: Channel, reference: str, why: str, result: str, problem: str) -> None:
        self.order_desk.history.note(reference, channel.name, why, result, problem, self.clock())

    def _read_holds(self, channel: Channel, port: OrdersPort, report: PollReport) -> None:
        """The orders whose fulfillment orders a webhook said were put on hold or released."""
        name = f"{channel.name}:holds"
        for ref in self.cursors.hints(name, HOLD_HINTS_PER_POLL):
            node = port.order_of_fulfillment_order(ref)
            if node is not None:
                self._apply_node(channel, node, report)
                report.holds += 1
            self.cursors.drop_hint(name, ref)

    def ingest_read(self, node: dict[str, Any]) -> ChannelOrder | None:
        """One order as the API reads it (a backfill's page), through the poll's path; the order
        (None: no Shopify channel, or unreadable: said in the sync history)."""
        channel = self.channel()
        return self._apply_node(channel, node, PollReport()) if channel is not None else None

    def _apply_node(self, channel: Channel, node: dict[str, Any], report: PollReport) -> ChannelOrder | None:
        """Ingest one order as the API reads it; the order once applied (or stepped past)."""
        try:
            order = payloads.order_from_graphql(channel.name, node)
        except payloads.PayloadError as error:
            # Skipped (it would stop every poll), and said in the sync history, without
            # its content: order payloads hold customer data.
            report.unreadable += 1
            self._note(channel, f"order:{str(node.get('id', ''))[:100]}", "order poll", "unreadable", str(error))
            return None
        order = self._with_mapped_skus(channel, order)
        try:
            result = self.order_desk.ingest(order)
        except StoreRefused as error:  # stepped past: it would stop every later poll
            report.rejected += 1
            self._note(channel, f"order:{order.order_id[:100]}", "order poll", "rejected", str(error))
            return order
        report.orders += 1
        report.lines_moved += result.moved
        return order

    def _with_mapped_skus(self, channel: Channel, order: ChannelOrder) -> ChannelOrder:
        """Lines without a SKU of their own take the one their variant is mapped to."""
        lines = tuple(
            replace(line, sku=self.listing_desk.sku_for_variant(channel.name, line.variant_id) or "")
            if not line.sku and line.variant_id
            else line
            for line in order.lines
        )
        return replace(order, lines=lines)
