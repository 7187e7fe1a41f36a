"""Shopify's products as another system's master writes them, and read when Shopify is master.

Facts relied on (shopify.dev GraphQL Admin, ``productSet``, ``productVariantsBulkUpdate``,
``products``):

- ``productSet(synchronous: true, identifier: {handle}, input)`` creates the product with that
  handle or updates the one that has it: a repeat after a lost answer updates what the first
  made, never a second product. The input names the same handle (so a new product gets it
  whatever the identifier does), and an update names its variant (so it and its inventory item
  are kept). Its list fields replace (variants not named are deleted), so it
  is used only for products Omnistock made: one variant, the default option.
- A product the retailer made (any number of variants) is never replaced: only its variant's
  price and barcode are written, with ``productVariantsBulkUpdate``, and its title is left alone.
- ``products(query: "updated_at:>'…'", sortKey: UPDATED_AT)`` lists products changed since; a
  product's ``updatedAt`` moves when one of its variants is edited [assumed: if not, a price
  edit alone waits for the product's next edit].
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any, Protocol

from omnistock.channels import ChannelRefused, ChannelUnavailable

SET_PRODUCT = """
mutation OmnistockProductSet($handle: String!, $input: ProductSetInput!) {
  productSet(synchronous: true, identifier: {handle: $handle}, input: $input) {
    product { id variants(first: 1) { nodes { id sku inventoryItem { id } } } }
    userErrors { field message code }
  }
}
""".strip()
UPDATE_VARIANT = """
mutation OmnistockVariantUpdate($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) {
    productVariants { id }
    userErrors { field message }
  }
}
""".strip()
CHANGED_PRODUCTS = """
query OmnistockChangedProducts($first: Int!, $after: String, $query: String!) {
  products(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id title updatedAt
      variants(first: 50) { pageInfo { hasNextPage } nodes { id sku title barcode price } }
    }
  }
}
""".strip()
VARIANT_OF_ITEM = """
query OmnistockVariantOfItem($id: ID!) {
  inventoryItem(id: $id) { variant { id product { id handle } } }
}
""".strip()
PRODUCTS_PAGE = 10  # 10 products x (1 + a 50-variant connection): within the 1000-point cap
MUTATION_COST = 10
READ_COST = 2 + PRODUCTS_PAGE * (1 + 2 + 50)


class ProductRefused(ChannelRefused):
    """Shopify refused this product as sent (its userErrors): the next product may go."""


class GraphQL(Protocol):
    def graphql(
        self, operation: str, query: str, variables: dict[str, Any], *, cost: float, idempotent: bool = True
    ) -> Any: ...


@dataclass(frozen=True)
class ProductFacts:
    """What a master says about one sellable thing: the fields both sides keep."""

    sku: str
    title: str
    barcode: str = ""
    price: str = "0.00"

    def fingerprint(self) -> str:
        return "\x1f".join((self.title, self.barcode, self.price))


@dataclass(frozen=True)
class ShopifyProduct:
    product_id: str
    variant_id: str
    item_id: str  # the inventory item: what stock pushes write to


@dataclass(frozen=True)
class ChangedVariant:
    facts: ProductFacts
    updated_at: str  # the product's updatedAt (ISO)


def handle_for(sku: str) -> str:
    """The handle of the product Omnistock makes for a SKU: its idempotency key in Shopify. The
    slug is for people; the hash of the exact SKU keeps "AB-1" and "ab_1" apart."""
    slug = re.sub(r"[^a-z0-9]+", "-", sku.lower()).strip("-")[:80] or "item"
    return f"omnistock-{slug}-{hashlib.sha256(sku.encode()).hexdigest()[:10]}"


class ShopifyProducts:
    def __init__(self, port: GraphQL) -> None:
        self.port = port

    def set_product(self, facts: ProductFacts, location: str, variant_id: str = "") -> ShopifyProduct:
        """Create (or, repeated, update) the one-variant product Omnistock keeps for the SKU. Made,
        its item is stocked at ``location`` (0: the push sets the number); updated (``variant_id``
        known), the variant is named, so it and its inventory item are kept, and no quantity is sent."""
        option = {"optionName": "Title", "name": "Default Title"}
        variant: dict[str, Any] = {"optionValues": [option], "sku": facts.sku, "price": facts.price}
        variant |= {"inventoryItem": {"tracked": True, "sku": facts.sku}}
        if facts.barcode:
            variant["barcode"] = facts.barcode
        if variant_id:
            variant["id"] = variant_id
        else:
            variant["inventoryQuantities"] = [{"locationId": location, "name": "available", "quantity": 0}]
        handle = handle_for(facts.sku)
        product_input = {
            "handle": handle,
            "title": facts.title,
            "productOptions": [{"name": "Title", "values": [{"name": "Default Title"}]}],
            "variants": [variant],
        }
        variables = {"handle": handle, "input": product_input}
        data = self.port.graphql("productSet", SET_PRODUCT, variables, cost=MUTATION_COST, idempotent=True)
        answer = (data or {}).get("productSet") or {}
        _refused(answer, "productSet")
        product = answer.get("product") or {}
        nodes = ((product.get("variants") or {}).get("nodes")) or []
        if not product.get("id") or not nodes or not (nodes[0].get("inventoryItem") or {}).get("id"):
            raise ChannelUnavailable("Shopify answered productSet without the product's variant")
        if str(nodes[0].get("sku") or "") != facts.sku:
            raise ProductRefused(f"Shopify's product {product['id']} answered with another SKU")
        return ShopifyProduct(str(product["id"]), str(nodes[0]["id"]), str(nodes[0]["inventoryItem"]["id"]))

    def update_variant(self, product_id: str, variant_id: str, facts: ProductFacts) -> None:
        """Price and barcode of a variant the retailer made (the product itself is theirs)."""
        change = {"id": variant_id, "price": facts.price}
        if facts.barcode:
            change["barcode"] = facts.barcode
        variables = {"productId": product_id, "variants": [change]}
        data = self.port.graphql("productVariantsBulkUpdate", UPDATE_VARIANT, variables, cost=MUTATION_COST)
        _refused((data or {}).get("productVariantsBulkUpdate") or {}, "productVariantsBulkUpdate")

    def variant_of(self, item_id: str) -> tuple[str, str, str] | None:
        """(product, variant, the product's handle) of an inventory item; None if Shopify has none."""
        data = self.port.graphql("inventoryItem", VARIANT_OF_ITEM, {"id": item_id}, cost=3)
        variant = ((data or {}).get("inventoryItem") or {}).get("variant") or {}
        product = variant.get("product") or {}
        if not variant.get("id") or not product.get("id"):
            return None
        return str(product["id"]), str(variant["id"]), str(product.get("handle") or "")

    def changed_since(self, since: str, after: str) -> tuple[list[ChangedVariant], str, bool, int]:
        """One page of variants (with a SKU) whose product changed after ``since``: the
        variants, the cursor to go on from, whether more pages follow, and how many products
        have more variants than were read (50 a product: a rare catalog; reported, not read)."""
        search = f"updated_at:>'{since}'" if since else "updated_at:>'1970-01-01T00:00:00Z'"
        variables = {"first": PRODUCTS_PAGE, "after": after or None, "query": search}
        data = self.port.graphql("products", CHANGED_PRODUCTS, variables, cost=READ_COST)
        connection = (data or {}).get("products")
        if not isinstance(connection, dict) or not isinstance(connection.get("nodes"), list):
            raise ChannelUnavailable("Shopify answered products without its nodes")
        found, truncated = [], 0
        for product in connection["nodes"]:
            listed = (product or {}).get("variants") or {}
            truncated += bool((listed.get("pageInfo") or {}).get("hasNextPage"))
            variants = listed.get("nodes") or []
            for variant in variants:
                sku = str(variant.get("sku") or "").strip()
                if not sku:
                    continue
                title = " / ".join(
                    part for part in (product.get("title"), variant.get("title")) if part and part != "Default Title"
                )
                facts = ProductFacts(sku, title[:200], str(variant.get("barcode") or ""), _price(variant.get("price")))
                found.append(ChangedVariant(facts, str(product.get("updatedAt") or "")))
        info = connection.get("pageInfo") or {}
        more = bool(info.get("hasNextPage"))
        if more and not info.get("endCursor"):
            raise ChannelUnavailable("Shopify answered a page with more to come and no cursor")
        return found, str(info.get("endCursor") or ""), more, truncated


def _refused(answer: dict[str, Any], operation: str) -> None:
    errors = answer.get("userErrors") or []
    if errors:
        words = "; ".join(str(e.get("message") or "")[:200] for e in errors if isinstance(e, dict))
        raise ProductRefused(f"Shopify {operation} refused: {words or 'a user error'}")


def _price(value: Any) -> str:
    try:
        return f"{float(str(value or 0)):.2f}"
    except ValueError:
        return "0.00"
