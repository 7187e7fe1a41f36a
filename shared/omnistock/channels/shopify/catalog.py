"""Shopify's catalog for an import: every product variant with its SKU, its inventory item and
what it shows at the channel's location, a page of ``productVariants`` a call.

A page is as large as Shopify's 1000-point cap on one query's requested cost allows: a
connection costs 2 plus ``first`` times each node's objects (the variant, its product, its
inventory item, the level at one location and its quantities: 5 points by Shopify's published
rule). So a page holds 199 variants, not the 250 a connection may return; the price is learnt
from each answer's ``requestedQueryCost``, and a refused page (MAX_COST_EXCEEDED) is asked again
smaller.
"""

from __future__ import annotations

from typing import Any

from omnistock.channels import ChannelUnavailable, SourceItem, SourcePage
from omnistock.channels.shopify.admin import QUERY_COST_CAP, ShopifyInventory, TooCostly
from omnistock.channels.shopify.payloads import PayloadError, utc_micros
from omnistock.models import Channel

PAGE_QUERY = """
query OmnistockCatalog($first: Int!, $after: String, $locationId: ID!) {
  productVariants(first: $first, after: $after, sortKey: ID) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id
      sku
      title
      product { id title }
      inventoryItem {
        id
        tracked
        inventoryLevel(locationId: $locationId) { updatedAt quantities(names: ["available"]) { name quantity } }
      }
    }
  }
}
""".strip()
CONNECTION_COST = 2
NODE_COST = 5  # variant, product, inventory item, level, quantities: one point each
MAX_PAGE = 250  # a connection returns at most 250 nodes


class ShopifyCatalog:
    def __init__(self, port: ShopifyInventory) -> None:
        self.port = port
        self.node_cost = float(NODE_COST)

    @property
    def calls(self) -> int:
        return self.port.calls

    def page_size(self) -> int:
        return max(1, min(MAX_PAGE, int((QUERY_COST_CAP - CONNECTION_COST) // self.node_cost)))

    def catalog_page(self, channel: Channel, cursor: str) -> SourcePage:
        while True:
            first = self.page_size()
            variables = {"first": first, "after": cursor or None, "locationId": channel.target_location}
            try:
                data = self.port.graphql(
                    "catalog", PAGE_QUERY, variables, cost=CONNECTION_COST + first * self.node_cost
                )
            except TooCostly:
                if first == 1:
                    raise
                self.node_cost *= 1.25  # priced higher than thought: ask for fewer
                continue
            requested = self.port.last_requested
            if requested:  # learn the real price, so the next page is as large as allowed
                self.node_cost = max(1.0, (requested - CONNECTION_COST) / first)
            return _page(data)


def _page(data: Any) -> SourcePage:
    connection = (data or {}).get("productVariants")
    if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
        raise ChannelUnavailable("Shopify answered productVariants without its nodes")
    items = []
    for node in connection["nodes"]:
        if not isinstance(node, dict) or not node.get("id"):
            continue
        product = node.get("product") or {}
        inventory = node.get("inventoryItem") or {}
        if not inventory.get("id"):
            continue
        shown = None
        level = inventory.get("inventoryLevel") or {}
        for quantity in level.get("quantities") or []:
            if quantity.get("name") == "available" and isinstance(quantity.get("quantity"), int):
                shown = quantity["quantity"]
        try:  # the level's own time orders it against the inventory webhooks' counts
            shown_at = utc_micros(level["updatedAt"], "updatedAt") if level.get("updatedAt") else ""
        except PayloadError:
            shown_at = ""
        title = " / ".join(
            part for part in (product.get("title"), node.get("title")) if part and part != "Default Title"
        )
        items.append(
            SourceItem(
                sku=str(node.get("sku") or "").strip(),
                title=title[:200],
                variant_id=str(node["id"]),
                listing_id=str(inventory["id"]),
                tracked=bool(inventory.get("tracked", True)),
                shown=shown,
                shown_at=shown_at,
            )
        )
    info = connection.get("pageInfo") or {}
    more = bool(info.get("hasNextPage"))
    if more and not info.get("endCursor"):  # never start over from the first page
        raise ChannelUnavailable("Shopify answered a page with more to come and no cursor")
    return SourcePage(items, str(info.get("endCursor") or ""), last=not more)
