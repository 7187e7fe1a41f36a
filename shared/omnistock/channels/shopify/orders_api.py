"""Shopify orders through the Admin GraphQL client: the poll's orders query and fulfillments.

Facts relied on (Shopify Admin API): ``orders(first, after, sortKey: UPDATED_AT, query:
"updated_at:>='...'")`` pages with ``pageInfo { hasNextPage endCursor }`` (at most 250 a page,
and a query may not ask for more than 1000 cost points); fulfillments go through the
order's fulfillment orders (``fulfillmentCreate`` with ``lineItemsByFulfillmentOrder``, all of
one call at one location), and ``fulfillmentCreate`` is not idempotent, so before creating one
the order's fulfillments are read and a fulfillment with the same tracking number is taken
as this shipment's (a retried Lambda cannot ship twice).
"""

from __future__ import annotations

import logging
from typing import Any

from omnistock.channels import ChannelUnavailable, FulfillmentRequest
from omnistock.channels.shopify.admin import ShopifyInventory, TooCostly

log = logging.getLogger(__name__)

# An order as the poll reads it (displayFulfillmentStatus ON_HOLD: a fulfillment hold, which
# Shopify's REST order bodies, and so its order webhooks, do not show).
ORDER_FIELDS = """
      id legacyResourceId name createdAt updatedAt cancelledAt displayFinancialStatus displayFulfillmentStatus
      email note tags currencyCode
      totalPriceSet { shopMoney { amount } }
      totalTaxSet { shopMoney { amount } }
      totalShippingPriceSet { shopMoney { amount } }
      shippingLine { title }
      shippingAddress { name company address1 address2 city provinceCode zip countryCodeV2 phone }
      billingAddress { name company address1 address2 city provinceCode zip countryCodeV2 phone }
      lineItems(first: 50) {
        nodes {
          id sku name quantity currentQuantity unfulfilledQuantity requiresShipping
          originalUnitPriceSet { shopMoney { amount } }
          variant { id inventoryItem { id tracked } }
        }
      }
      fulfillments(first: 10) { status fulfillmentLineItems(first: 50) { nodes { quantity lineItem { id } } } }
      refunds(first: 10) { id refundLineItems(first: 50) { nodes { id quantity restockType lineItem { id } } } }
"""

ORDERS_QUERY = (
    """
query OmnistockOrders($first: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo { hasNextPage endCursor }
    nodes {"""
    + ORDER_FIELDS
    + """    }
  }
}
"""
).strip()

# The order a fulfillment order belongs to (a hold webhook names the fulfillment order only).
HELD_ORDER_QUERY = (
    """
query OmnistockHeldOrder($id: ID!) {
  fulfillmentOrder(id: $id) {
    order {"""
    + ORDER_FIELDS
    + """    }
  }
}
"""
).strip()

FULFILLMENT_ORDERS_QUERY = """
query OmnistockFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillments(first: 50) {
      id status trackingInfo { number }
      fulfillmentLineItems(first: 100) { nodes { quantity lineItem { id } } }
    }
    fulfillmentOrders(first: 20) {
      nodes { id status lineItems(first: 100) { nodes { id remainingQuantity lineItem { id } } } }
    }
  }
}
""".strip()

FULFILLMENT_CREATE = """
mutation OmnistockFulfil($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}
""".strip()

OPEN_STATES = frozenset({"OPEN", "IN_PROGRESS", "SCHEDULED", "ON_HOLD"})


class ShopifyOrders:
    """The orders side of one shop, on the same client (and cost bucket) as its inventory."""

    def __init__(self, admin: ShopifyInventory, page_size: int = 10) -> None:
        self.admin = admin
        self.page_size = page_size

    def orders_since(self, since: str, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        query = f"updated_at:>='{since[:19]}Z'"
        while True:
            variables = {"first": self.page_size, "after": after, "query": query}
            try:
                data = self.admin.graphql("orders", ORDERS_QUERY, variables, cost=100.0 * self.page_size)
                break
            except TooCostly:
                if self.page_size == 1:
                    raise
                self.page_size = max(1, self.page_size // 2)  # ask for fewer orders a page
        orders = (data or {}).get("orders") or {}
        page = orders.get("pageInfo") or {}
        nodes = [node for node in orders.get("nodes") or [] if isinstance(node, dict)]
        return nodes, (page.get("endCursor") if page.get("hasNextPage") else None)

    def order_of_fulfillment_order(self, fulfillment_order: str) -> dict[str, Any] | None:
        """The order (as the poll reads one) that a fulfillment order belongs to; None if gone."""
        data = self.admin.graphql("held order", HELD_ORDER_QUERY, {"id": fulfillment_order}, cost=100.0)
        found = ((data or {}).get("fulfillmentOrder") or {}).get("order")
        return found if isinstance(found, dict) else None

    def fulfil(self, request: FulfillmentRequest) -> str:
        data = self.admin.graphql("fulfillment orders", FULFILLMENT_ORDERS_QUERY, {"id": request.order_ref}, cost=50.0)
        order = (data or {}).get("order")
        if not order:
            raise ChannelUnavailable(f"Shopify does not know order {request.order_ref}")
        wanted, earlier = _not_yet_fulfilled(order, request)
        groups = _allocate(order, wanted)
        if not groups:
            return ",".join(earlier)
        tracking: dict[str, Any] = {"company": request.carrier, "number": request.tracking_number}
        created = []
        for fulfillment_order, items in groups.items():
            fulfillment = {
                "notifyCustomer": True,
                "trackingInfo": {k: v for k, v in tracking.items() if v},
                "lineItemsByFulfillmentOrder": [
                    {
                        "fulfillmentOrderId": fulfillment_order,
                        "fulfillmentOrderLineItems": [{"id": i, "quantity": q} for i, q in items],
                    }
                ],
            }
            result = self.admin.graphql(
                "fulfillmentCreate", FULFILLMENT_CREATE, {"fulfillment": fulfillment}, cost=10.0, idempotent=False
            )
            payload = (result or {}).get("fulfillmentCreate") or {}
            errors = payload.get("userErrors") or []
            if errors or not payload.get("fulfillment"):
                messages = "; ".join(str(e.get("message", "")) for e in errors) or "no fulfillment returned"
                raise ChannelUnavailable(f"Shopify refused the fulfillment: {messages}")
            created.append(str(payload["fulfillment"]["id"]))
        return ",".join(earlier + created)


def _not_yet_fulfilled(order: dict[str, Any], request: FulfillmentRequest) -> tuple[dict[str, int], list[str]]:
    """What of the request no fulfillment with its tracking number covers yet (an earlier
    attempt may have made some: one per fulfillment order), and those fulfillments' ids."""
    wanted: dict[str, int] = dict(request.lines)
    earlier: list[str] = []
    if not request.tracking_number:
        return wanted, earlier
    for fulfillment in order.get("fulfillments") or []:
        numbers = [(info or {}).get("number") for info in fulfillment.get("trackingInfo") or []]
        if request.tracking_number not in numbers or str(fulfillment.get("status", "")).upper() == "CANCELLED":
            continue
        earlier.append(str(fulfillment["id"]))
        for item in ((fulfillment.get("fulfillmentLineItems") or {}).get("nodes")) or []:
            line_id = str(((item.get("lineItem") or {}).get("id")) or "").rsplit("/", 1)[-1]
            if line_id in wanted:
                wanted[line_id] = max(0, wanted[line_id] - int(item.get("quantity") or 0))
    return {line: qty for line, qty in wanted.items() if qty > 0}, earlier


def _allocate(order: dict[str, Any], lines: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
    """Spread each shipped line over the open fulfillment orders that still have it to ship."""
    wanted = dict(lines)
    groups: dict[str, list[tuple[str, int]]] = {}
    for fulfillment_order in ((order.get("fulfillmentOrders") or {}).get("nodes")) or []:
        if fulfillment_order.get("status") not in OPEN_STATES:
            continue
        for item in ((fulfillment_order.get("lineItems") or {}).get("nodes")) or []:
            line_id = str(((item.get("lineItem") or {}).get("id")) or "").rsplit("/", 1)[-1]
            take = min(wanted.get(line_id, 0), int(item.get("remainingQuantity") or 0))
            if take > 0:
                groups.setdefault(fulfillment_order["id"], []).append((item["id"], take))
                wanted[line_id] -= take
    return groups
