"""The sandbox shop's products and webhook subscriptions: TEST EQUIPMENT, not Shopify.

Documents it answers (recognised by regular expressions on the query text, as the rest of the
sandbox does):

* ``productVariants(first: $first, after: $after, sortKey: ID)`` with ``pageInfo { hasNextPage
  endCursor }`` and per node ``id sku title product { id title } inventoryItem { id tracked
  inventoryLevel(locationId: $x) { quantities(names: [...]) { name quantity } } }``. Requested
  cost by Shopify's published rule (shopify.dev, GraphQL Admin rate limits: an object 1, a
  connection 2 + first x its nodes' cost): 2 + first x 5 (variant, product, inventory item,
  level, quantities); actual: 2 + the nodes returned x 5. ``first`` above 250 is an error.
* ``webhookSubscriptions(first: N)`` listing ``id topic uri``, and the mutations
  ``webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: ...})`` and
  ``webhookSubscriptionDelete(id: $id)`` (2025-10 and later take a unified ``uri``). Creating a
  second subscription for the same topic and URI is the userError Shopify answers ("Address
  for this topic has already been taken").
* Products as a product master writes and reads them: ``productSet(synchronous: true,
  identifier: {handle: $handle}, input: $input)`` (creates the product with that handle, or
  replaces the one that has it: its one variant's sku, price, barcode), ``productVariantsBulkUpdate(
  productId: $productId, variants: $variants)`` (price and barcode), ``inventoryItem(id: $id) {
  variant { id product { id } } }``, and ``products(first:, after:, query: "updated_at:>'<ISO>'")``
  with each product's ``variants(first: 50)`` (sku, title, barcode, price). An edit moves the
  product's ``updatedAt``.
"""

from __future__ import annotations

import re
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from local.sandbox.shopify import ShopifySandbox

NODE_COST = 5
CONNECTION_COST = 2
MAX_FIRST = 250
MUTATION_COST = 10

_VARIANTS = re.compile(r"\bproductVariants\s*\(")
_SUBSCRIPTIONS = re.compile(r"\bwebhookSubscriptions\s*\(")
_CREATE = re.compile(r"\bwebhookSubscriptionCreate\s*\(")
_DELETE = re.compile(r"\bwebhookSubscriptionDelete\s*\(")
_INPUT_VAR = re.compile(r"\bwebhookSubscription\s*:\s*\$(\w+)")
_TOPIC_VAR = re.compile(r"\btopic\s*:\s*\$(\w+)")
_PRODUCT_SET = re.compile(r"\bproductSet\s*\(")
_VARIANTS_UPDATE = re.compile(r"\bproductVariantsBulkUpdate\s*\(")
_ITEM = re.compile(r"\binventoryItem\s*\(\s*id\s*:")
_PRODUCTS = re.compile(r"\bproducts\s*\(")
_SINCE = re.compile(r"updated_at:>'([^']+)'")


@dataclass
class _Variant:
    number: int
    sku: str
    title: str
    product: int
    item: str  # inventory item GID
    tracked: bool = True
    barcode: str = ""
    price: str = "0.00"


@dataclass
class _State:
    products: dict[int, str] = field(default_factory=dict)  # number -> title
    handles: dict[str, int] = field(default_factory=dict)  # handle -> product number
    updated: dict[int, int] = field(default_factory=dict)  # product number -> updatedAt (ms)
    last_ms: int = 0
    variants: dict[int, _Variant] = field(default_factory=dict)
    subscriptions: dict[int, tuple[str, str]] = field(default_factory=dict)  # number -> (topic, uri)
    numbers: int = 0
    counters: dict[str, int] = field(default_factory=lambda: {"catalog_pages": 0, "subscription_changes": 0})


@dataclass(frozen=True)
class CatalogOperation:
    kind: str  # variants | subscriptions | create | delete
    cost: int
    variables: dict[str, Any]


class SandboxCatalog:
    def __init__(self, shop: ShopifySandbox, lock: threading.RLock) -> None:
        self._shop = shop
        self._lock = lock
        self._s = _State()

    # ---- seeding ----------------------------------------------------------------------------
    def add_product(self, title: str, variants: list[dict[str, Any]]) -> dict[str, Any]:
        """A product with variants ``{sku, title?, item?, tracked?}``; an ``item`` (its number)
        defaults to a new one. Returns ``{"product": gid, "variants": [{id, sku, item}]}``."""
        with self._lock:
            self._s.numbers += 1
            product = self._s.numbers
            self._s.products[product] = title
            self._s.updated[product] = self._stamp()
            made = []
            for given in variants:
                self._s.numbers += 1
                number = self._s.numbers
                item = self._shop.add_item(given.get("item") or 900_000 + number)
                variant = _Variant(
                    number,
                    str(given.get("sku") or ""),
                    str(given.get("title") or "Default Title"),
                    product,
                    item,
                    bool(given.get("tracked", True)),
                    str(given.get("barcode") or ""),
                    str(given.get("price") or "0.00"),
                )
                self._s.variants[number] = variant
                made.append({"id": f"gid://shopify/ProductVariant/{number}", "sku": variant.sku, "item": item})
            return {"product": f"gid://shopify/Product/{product}", "variants": made}

    def variants(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"id": f"gid://shopify/ProductVariant/{n}", "sku": v.sku, "item": v.item}
                for n, v in sorted(self._s.variants.items())
            ]

    def set_sku(self, variant_gid: str, sku: str) -> None:
        """A merchant edits a variant's SKU."""
        with self._lock:
            self._s.variants[_number(variant_gid) or 0].sku = sku

    def edit_variant(self, variant_gid: str, *, price: str | None = None, barcode: str | None = None) -> None:
        """A merchant edits a variant's price or barcode: its product's updatedAt moves."""
        with self._lock:
            variant = self._s.variants[_number(variant_gid) or 0]
            variant.price = price if price is not None else variant.price
            variant.barcode = barcode if barcode is not None else variant.barcode
            self._s.updated[variant.product] = self._stamp()

    def products(self) -> list[dict[str, Any]]:
        """Every product: id, title, handle and its variants (sku, price, barcode, item)."""
        with self._lock:
            handles = {number: handle for handle, number in self._s.handles.items()}
            return [
                {
                    "id": f"gid://shopify/Product/{number}",
                    "title": title,
                    "handle": handles.get(number, ""),
                    "variants": [
                        {"variant": f"gid://shopify/ProductVariant/{v.number}", "sku": v.sku}
                        | {"price": v.price, "barcode": v.barcode, "item": v.item}
                        for v in self._s.variants.values()
                        if v.product == number
                    ],
                }
                for number, title in sorted(self._s.products.items())
            ]

    def subscriptions(self) -> list[dict[str, str]]:
        with self._lock:
            return [
                {"id": f"gid://shopify/WebhookSubscription/{n}", "topic": topic, "uri": uri}
                for n, (topic, uri) in self._s.subscriptions.items()
            ]

    def drop_subscription(self, topic: str) -> None:
        """Shopify removes a subscription after 8 failed deliveries: this does it at once."""
        with self._lock:
            for number, (subscribed, _) in list(self._s.subscriptions.items()):
                if subscribed == topic:
                    del self._s.subscriptions[number]

    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._s.counters)

    def reset(self) -> None:
        with self._lock:
            self._s = _State()

    # ---- GraphQL ---------------------------------------------------------------------------
    def recognise(self, query: str, variables: dict[str, Any]) -> CatalogOperation | None:  # noqa: PLR0911
        if _PRODUCT_SET.search(query):
            return CatalogOperation("product_set", MUTATION_COST, variables)
        if _VARIANTS_UPDATE.search(query):
            return CatalogOperation("variants_update", MUTATION_COST, variables)
        if _ITEM.search(query):
            return CatalogOperation("variant_of", 3, variables)
        if _PRODUCTS.search(query) and "productVariants" not in query:
            first = variables.get("first")
            if not isinstance(first, int) or not 0 < first <= MAX_FIRST:
                first = MAX_FIRST + 1
            return CatalogOperation("products", CONNECTION_COST + first * (1 + CONNECTION_COST + 50), variables)
        if _CREATE.search(query):
            named = _INPUT_VAR.search(query)  # webhookSubscription: $var
            given = variables.get(named[1]) if named else variables.get("webhookSubscription")
            topic = _TOPIC_VAR.search(query)
            chosen = {"topic": variables.get(topic[1]) if topic else None, "webhookSubscription": given}
            return CatalogOperation("create", MUTATION_COST, chosen)
        if _DELETE.search(query):
            return CatalogOperation("delete", MUTATION_COST, variables)
        if _SUBSCRIPTIONS.search(query):
            return CatalogOperation("subscriptions", CONNECTION_COST + 100, variables)
        if _VARIANTS.search(query):
            first = variables.get("first")
            if not isinstance(first, int) or not 0 < first <= MAX_FIRST:
                first = MAX_FIRST + 1  # priced so it is refused, as an oversized page is
            return CatalogOperation("variants", CONNECTION_COST + first * NODE_COST, variables)
        return None

    def run(self, operation: CatalogOperation) -> tuple[dict[str, Any], int]:
        """``(data, actual cost)``; called under the shop's lock once the bucket has paid."""
        if operation.kind == "variants":
            return self._variants(operation.variables)
        if operation.kind in PRODUCT_OPERATIONS:
            return getattr(self, f"_{operation.kind}")(operation.variables)
        if operation.kind == "subscriptions":
            nodes = self.subscriptions()
            return {"webhookSubscriptions": {"nodes": nodes}}, CONNECTION_COST + len(nodes)
        self._s.counters["subscription_changes"] += 1
        if operation.kind == "create":
            return self._create(operation.variables), MUTATION_COST
        number = _number(operation.variables.get("id"))
        if number not in self._s.subscriptions:
            error = {"field": ["id"], "message": "Webhook subscription does not exist"}
            return {"webhookSubscriptionDelete": {"deletedWebhookSubscriptionId": None, "userErrors": [error]}}, 10
        del self._s.subscriptions[number]
        deleted = f"gid://shopify/WebhookSubscription/{number}"
        return {"webhookSubscriptionDelete": {"deletedWebhookSubscriptionId": deleted, "userErrors": []}}, 10

    def _variants(self, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        self._s.counters["catalog_pages"] += 1
        first = int(variables["first"])
        after = _number(variables.get("after")) or 0
        location = str(variables.get("locationId") or "")
        ordered = [v for n, v in sorted(self._s.variants.items()) if n > after]
        taken = ordered[:first]
        nodes = []
        for variant in taken:
            available = self._shop.available(variant.item, location) if location else None
            level = None if available is None else {"quantities": [{"name": "available", "quantity": available}]}
            nodes.append(
                {
                    "id": f"gid://shopify/ProductVariant/{variant.number}",
                    "sku": variant.sku or None,
                    "title": variant.title,
                    "product": {
                        "id": f"gid://shopify/Product/{variant.product}",
                        "title": self._s.products[variant.product],
                    },
                    "inventoryItem": {"id": variant.item, "tracked": variant.tracked, "inventoryLevel": level},
                }
            )
        end = f"cursor:{taken[-1].number}" if taken else None
        info = {"hasNextPage": len(ordered) > len(taken), "endCursor": end}
        return {"productVariants": {"pageInfo": info, "nodes": nodes}}, CONNECTION_COST + len(nodes) * NODE_COST

    def _product_set(self, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        handle, given = str(variables.get("handle") or ""), variables.get("input") or {}
        (variant_input,) = given.get("variants") or [{}]
        sku = str(variant_input.get("sku") or "")
        if not handle or not given.get("title"):
            error = {"field": ["input", "title"], "message": "Title can't be blank", "code": "BLANK"}
            return {"productSet": {"product": None, "userErrors": [error]}}, MUTATION_COST
        number = self._s.handles.get(handle)
        if number is None:  # made: one product, one variant, a new inventory item (stocked where asked)
            made = self.add_product(str(given["title"]), [{"sku": sku}])
            number = _number(made["product"]) or 0
            self._s.handles[str(given.get("handle") or handle)] = number
            for quantity in variant_input.get("inventoryQuantities") or []:
                self._shop.stock(made["variants"][0]["item"], quantity["locationId"], int(quantity["quantity"]))
        self._s.products[number] = str(given["title"])
        variant = next(v for v in self._s.variants.values() if v.product == number)
        named = _number(variant_input.get("id"))
        if named is not None and named != variant.number:  # productSet replaces the list: a variant not named goes
            error = {"field": ["input", "variants", "0", "id"], "message": "Product variant does not exist"}
            return {"productSet": {"product": None, "userErrors": [error]}}, MUTATION_COST
        variant.sku, variant.price = sku, str(variant_input.get("price") or "0.00")
        variant.barcode = str(variant_input.get("barcode") or "")
        self._s.updated[number] = self._stamp()
        nodes = [
            {"id": f"gid://shopify/ProductVariant/{variant.number}", "sku": variant.sku}
            | {"inventoryItem": {"id": variant.item}}
        ]
        product = {"id": f"gid://shopify/Product/{number}", "variants": {"nodes": nodes}}
        return {"productSet": {"product": product, "userErrors": []}}, MUTATION_COST

    def _variants_update(self, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        product = _number(variables.get("productId"))
        changed = []
        for change in variables.get("variants") or []:
            variant = self._s.variants.get(_number(change.get("id")) or 0)
            if variant is None or variant.product != product:
                error = {"field": ["variants", "id"], "message": "Product variant does not exist"}
                return {"productVariantsBulkUpdate": {"productVariants": None, "userErrors": [error]}}, MUTATION_COST
            variant.price = str(change.get("price", variant.price))
            variant.barcode = str(change.get("barcode", variant.barcode))
            changed.append({"id": f"gid://shopify/ProductVariant/{variant.number}"})
        self._s.updated[product or 0] = self._stamp()
        return {"productVariantsBulkUpdate": {"productVariants": changed, "userErrors": []}}, MUTATION_COST

    def _variant_of(self, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        item = str(variables.get("id") or "")
        variant = next((v for v in self._s.variants.values() if v.item == item), None)
        if variant is None:
            return {"inventoryItem": None}, 1
        handle = next((h for h, n in self._s.handles.items() if n == variant.product), f"product-{variant.product}")
        product = {"id": f"gid://shopify/Product/{variant.product}", "handle": handle}
        return {
            "inventoryItem": {"variant": {"id": f"gid://shopify/ProductVariant/{variant.number}", "product": product}}
        }, 3

    def _products(self, variables: dict[str, Any]) -> tuple[dict[str, Any], int]:
        since = _SINCE.search(str(variables.get("query") or ""))
        since_ms = int(datetime.fromisoformat(since[1].replace("Z", "+00:00")).timestamp() * 1000) if since else 0
        after = tuple(int(part) for part in re.findall(r"\d+", str(variables.get("after") or "")))
        ordered = sorted((ms, n) for n, ms in self._s.updated.items() if ms > since_ms and (ms, n) > after)
        taken = ordered[: int(variables["first"])]
        nodes, sizes = [], []
        for ms, number in taken:
            variants = [
                {"id": f"gid://shopify/ProductVariant/{v.number}", "sku": v.sku or None, "title": v.title}
                | {"barcode": v.barcode or None, "price": v.price}
                for v in self._s.variants.values()
                if v.product == number
            ]
            sizes.append(len(variants))
            updated = datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat(timespec="milliseconds")
            nodes.append(
                {
                    "id": f"gid://shopify/Product/{number}",
                    "title": self._s.products[number],
                    "updatedAt": updated.replace("+00:00", "Z"),
                    "variants": {"pageInfo": {"hasNextPage": False}, "nodes": variants},
                }
            )
        end = f"cursor:{taken[-1][0]}-{taken[-1][1]}" if taken else None
        info = {"hasNextPage": len(ordered) > len(taken), "endCursor": end}
        cost = CONNECTION_COST + sum(1 + CONNECTION_COST + size for size in sizes)
        return {"products": {"pageInfo": info, "nodes": nodes}}, cost

    def _stamp(self) -> int:
        """A product's updatedAt (ms): the wall clock, always later than the last one given."""
        self._s.last_ms = max(int(time.time() * 1000), self._s.last_ms + 1)
        return self._s.last_ms

    def _create(self, variables: dict[str, Any]) -> dict[str, Any]:
        topic = str(variables.get("topic") or "")
        given = variables.get("webhookSubscription") or {}
        uri = str(given.get("uri") or "") if isinstance(given, dict) else ""
        if not topic or not uri.startswith(("https://", "http://")):
            error = {"field": ["webhookSubscription", "uri"], "message": "Address is invalid"}
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [error]}}
        if (topic, uri) in self._s.subscriptions.values():
            error = {
                "field": ["webhookSubscription", "uri"],
                "message": "Address for this topic has already been taken",
            }
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [error]}}
        self._s.numbers += 1
        self._s.subscriptions[self._s.numbers] = (topic, uri)
        made = {"id": f"gid://shopify/WebhookSubscription/{self._s.numbers}", "topic": topic, "uri": uri}
        return {"webhookSubscriptionCreate": {"webhookSubscription": made, "userErrors": []}}


PRODUCT_OPERATIONS = frozenset({"product_set", "variants_update", "variant_of", "products"})


def _number(value: Any) -> int | None:
    match = re.search(r"(\d+)$", str(value or ""))
    return int(match[1]) if match else None
