"""Shopify's payloads in the ledger's vocabulary: REST-shaped webhook bodies and the GraphQL
order nodes the poll reads, both into ``orders.ChannelOrder``, so both take one path.

Facts relied on (Shopify webhook reference and Admin API): order line items carry ``sku``
(possibly ``""``), ``variant_id`` (null for custom items), ``quantity`` as ordered and
``current_quantity`` after edits and refunds; ``variant_inventory_management`` is ``"shopify"``
for tracked variants and null otherwise; refund lines carry ``restock_type`` (``no_restock``,
``cancel``, ``return``, ``legacy_restock``); timestamps carry the shop's UTC offset;
``inventory_levels/update`` gives an absolute ``available`` and may lack ``updated_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnistock.clock import iso, parse_iso
from omnistock.orders import RETURNING, Address, ChannelOrder, OrderLine, RefundLine


class PayloadError(ValueError):
    """The body is JSON but not the shape the topic promises."""


@dataclass(frozen=True)
class LevelReport:
    inventory_item: str  # gid://shopify/InventoryItem/<id>
    location: str  # gid://shopify/Location/<id>
    available: int | None  # None: the item is not tracked there
    updated_at: str  # UTC ISO with microseconds; "" when the payload has none


@dataclass(frozen=True)
class VariantListing:
    variant: str  # gid://shopify/ProductVariant/<id>
    inventory_item: str
    sku: str
    tracked: bool


@dataclass(frozen=True)
class ProductNotice:
    product_id: str
    title: str
    updated_at: str
    variants: tuple[VariantListing, ...]


@dataclass(frozen=True)
class RefundNotice:
    order_id: str
    lines: tuple[RefundLine, ...]
    skus: dict[str, str]  # line id -> SKU, as the refund reports them


def gid(kind: str, value: Any) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def utc(value: Any, field: str = "timestamp") -> str:
    """Shopify's offset timestamps as the ledger's UTC text (which sorts as time)."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{field} is missing")
    try:
        return iso(_parse(value))
    except ValueError:
        raise PayloadError(f"{field} is not a timestamp") from None


def utc_micros(value: Any, field: str = "timestamp") -> str:
    """Like ``utc`` but keeping microseconds (trigger times carry nanoseconds): for ordering
    reports that can come more than once a second."""
    if not isinstance(value, str) or not value:
        raise PayloadError(f"{field} is missing")
    try:
        return _parse(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        raise PayloadError(f"{field} is not a timestamp") from None


def _parse(value: str) -> datetime:
    # Trigger timestamps carry nanoseconds; Python reads at most microseconds.
    head, dot, tail = value.partition(".")
    if dot:
        digits = len(tail) - len(tail.lstrip("0123456789"))  # the fraction, not the offset after it
        value = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    return parse_iso(value)


# ==================================================================== orders (webhooks)
def order_from_rest(channel: str, body: Any) -> ChannelOrder:
    data = _object(body, "order")
    if not isinstance(data.get("line_items"), list):  # the topic header is unsigned: a product is no order
        raise PayloadError("an order lists its line items")
    lines_in = _list(data.get("line_items"), "line_items")
    refunds = tuple(r for refund in _list(data.get("refunds"), "refunds") for r in _refund_lines(refund))
    refunded: dict[str, int] = {}
    for refund in refunds:
        refunded[refund.line_id] = refunded.get(refund.line_id, 0) + refund.quantity
    shipped = _fulfilled_rest(_list(data.get("fulfillments"), "fulfillments"))
    lines = []
    for raw in lines_in:
        line = _object(raw, "line item")
        line_id = _id(line.get("id"), "line item id")
        current = _count(line.get("current_quantity", line.get("quantity")), "current_quantity")
        lines.append(
            OrderLine(
                line_id=line_id,
                sku=_text(line.get("sku")).strip(),
                title=_text(line.get("name") or line.get("title")),
                quantity=current + refunded.get(line_id, 0),
                fulfilled=shipped.get(line_id, 0),
                unit_price=_money(line.get("price")),
                tracked=_tracked(line),
                requires_shipping=bool(line.get("requires_shipping", True)),
                variant_id=gid("ProductVariant", line["variant_id"]) if line.get("variant_id") else "",
            )
        )
    shipping_lines = [_object(s, "shipping line") for s in _list(data.get("shipping_lines"), "shipping_lines")]
    return ChannelOrder(
        channel=channel,
        order_id=_id(data.get("id"), "order id"),
        number=_text(data.get("name")) or f"#{_text(data.get('order_number'))}",
        created_at=utc(data.get("created_at"), "created_at"),
        updated_at=utc(data.get("updated_at") or data.get("created_at"), "updated_at"),
        lines=tuple(lines),
        refunds=refunds,
        financial_status=_text(data.get("financial_status")),
        cancelled=bool(data.get("cancelled_at")),
        email=_text(data.get("email") or data.get("contact_email")),
        note=_text(data.get("note")),
        tags=_text(data.get("tags")),
        currency=_text(data.get("currency")),
        total=_money(data.get("total_price")),
        tax=_money(data.get("total_tax")),
        shipping=_sum_money(s.get("price") for s in shipping_lines),
        shipping_method=_text(shipping_lines[0].get("title")) if shipping_lines else "",
        ship_to=_address(data.get("shipping_address")),
        bill_to=_address(data.get("billing_address")),
        channel_ref=_text(data.get("admin_graphql_api_id")) or gid("Order", data.get("id")),
        on_hold=None,  # a REST order does not show fulfillment holds: the poll's reading stands
    )


def held_fulfillment_order(body: Any) -> str:
    """The fulfillment order a ``fulfillment_orders/placed_on_hold`` or ``hold_released`` body
    names (its GID)."""
    data = _object(_object(body, "hold notice").get("fulfillment_order"), "fulfillment_order")
    ref = _text(data.get("id"))
    if not ref.startswith("gid://shopify/FulfillmentOrder/") or len(ref) > 100:
        raise PayloadError("a hold notice names its fulfillment order by GID")
    return ref


def refund_from_rest(body: Any) -> RefundNotice:
    data = _object(body, "refund")
    skus = {}
    for raw in _list(data.get("refund_line_items"), "refund_line_items"):
        line = _object(raw, "refund line")
        item = line.get("line_item")
        if isinstance(item, dict) and item.get("sku"):
            skus[_id(line.get("line_item_id"), "line_item_id")] = _text(item["sku"]).strip()
    return RefundNotice(_id(data.get("order_id"), "order_id"), tuple(_refund_lines(data)), skus)


def _refund_lines(refund: Any) -> list[RefundLine]:
    data = _object(refund, "refund")
    default = "legacy_restock" if data.get("restock") else "no_restock"
    found = []
    for raw in _list(data.get("refund_line_items"), "refund_line_items"):
        line = _object(raw, "refund line")
        found.append(
            RefundLine(
                refund_line_id=_id(line.get("id"), "refund line id"),
                line_id=_id(line.get("line_item_id"), "line_item_id"),
                quantity=_count(line.get("quantity"), "refund quantity"),
                restock_type=_text(line.get("restock_type")) or default,
            )
        )
    return found


def _fulfilled_rest(fulfillments: list[Any]) -> dict[str, int]:
    shipped: dict[str, int] = {}
    for raw in fulfillments:
        fulfillment = _object(raw, "fulfillment")
        if fulfillment.get("status") in ("cancelled", "error", "failure"):
            continue
        for item in _list(fulfillment.get("line_items"), "fulfillment line_items"):
            line = _object(item, "fulfillment line")
            line_id = _id(line.get("id"), "fulfillment line id")
            shipped[line_id] = shipped.get(line_id, 0) + _count(line.get("quantity"), "fulfilled quantity")
    return shipped


def _tracked(line: dict[str, Any]) -> bool:
    if line.get("gift_card"):
        return False
    if "variant_inventory_management" in line:  # "shopify", or a fulfillment service's handle
        return line["variant_inventory_management"] is not None
    return bool(line.get("variant_id"))


def _address(value: Any) -> Address | None:
    if not isinstance(value, dict):
        return None
    name = _text(value.get("name")) or " ".join(
        part for part in (_text(value.get("first_name")), _text(value.get("last_name"))) if part
    )
    return Address(
        name=name,
        company=_text(value.get("company")),
        street1=_text(value.get("address1")),
        street2=_text(value.get("address2")),
        city=_text(value.get("city")),
        state=_text(value.get("province_code") or value.get("province")),
        postal_code=_text(value.get("zip")),
        country=_text(value.get("country_code") or value.get("country")),
        phone=_text(value.get("phone")),
    )


# ==================================================================== orders (GraphQL poll)
def order_from_graphql(channel: str, node: Any) -> ChannelOrder:
    data = _object(node, "order node")
    refunds = tuple(
        RefundLine(
            refund_line_id=_id(_tail(r.get("id")), "refund line id"),
            line_id=_id(_tail((r.get("lineItem") or {}).get("id")), "refund line item"),
            quantity=_count(r.get("quantity"), "refund quantity"),
            restock_type=_text(r.get("restockType")).lower() or "no_restock",
        )
        for refund in _list(data.get("refunds"), "refunds")
        for r in _nodes(_object(refund, "refund").get("refundLineItems"))
    )
    refunded: dict[str, int] = {}
    returned: dict[str, int] = {}
    for refund in refunds:
        refunded[refund.line_id] = refunded.get(refund.line_id, 0) + refund.quantity
        if refund.restock_type in RETURNING:
            returned[refund.line_id] = returned.get(refund.line_id, 0) + refund.quantity
    shipped = _fulfilled_graphql(data.get("fulfillments")) if "fulfillments" in data else None
    lines = []
    for raw in _nodes(data.get("lineItems")):
        line_id = _id(_tail(raw.get("id")), "line item id")
        current = _count(raw.get("currentQuantity", raw.get("quantity")), "currentQuantity")
        unfulfilled = _count(raw.get("unfulfilledQuantity", current), "unfulfilledQuantity")
        variant = raw.get("variant") or {}
        lines.append(
            OrderLine(
                line_id=line_id,
                sku=_text(raw.get("sku")).strip(),
                title=_text(raw.get("name") or raw.get("title")),
                quantity=current + refunded.get(line_id, 0),
                # Shipped units as the REST fulfillments count them; without the fulfillments,
                # those still in the order plus those shipped and returned since.
                fulfilled=shipped.get(line_id, 0)
                if shipped is not None
                else max(0, current - unfulfilled) + returned.get(line_id, 0),
                unit_price=_money(_shop_money(raw.get("originalUnitPriceSet"))),
                tracked=bool(variant.get("inventoryItem", {}).get("tracked", True)) if variant else False,
                requires_shipping=bool(raw.get("requiresShipping", True)),
                variant_id=_text(variant.get("id")),
            )
        )
    shipping_line = (data.get("shippingLine") or {}) if isinstance(data.get("shippingLine"), dict) else {}
    return ChannelOrder(
        channel=channel,
        order_id=_id(data.get("legacyResourceId") or _tail(data.get("id")), "order id"),
        number=_text(data.get("name")),
        created_at=utc(data.get("createdAt"), "createdAt"),
        updated_at=utc(data.get("updatedAt"), "updatedAt"),
        lines=tuple(lines),
        refunds=refunds,
        financial_status=_text(data.get("displayFinancialStatus")).lower(),
        cancelled=bool(data.get("cancelledAt")),
        email=_text(data.get("email")),
        note=_text(data.get("note")),
        tags=", ".join(_text(tag) for tag in data.get("tags") or []),
        currency=_text(data.get("currencyCode")),
        total=_money(_shop_money(data.get("totalPriceSet"))),
        tax=_money(_shop_money(data.get("totalTaxSet"))),
        shipping=_money(_shop_money(data.get("totalShippingPriceSet"))),
        shipping_method=_text(shipping_line.get("title")),
        ship_to=_graphql_address(data.get("shippingAddress")),
        bill_to=_graphql_address(data.get("billingAddress")),
        channel_ref=_text(data.get("id")),
        on_hold=_held(data),
    )


def _held(data: dict[str, Any]) -> bool | None:
    """Whether a fulfillment hold keeps the order from shipping (None: the node does not say)."""
    if "displayFulfillmentStatus" not in data:
        return None
    return _text(data.get("displayFulfillmentStatus")).upper() == "ON_HOLD"


def _fulfilled_graphql(fulfillments: Any) -> dict[str, int]:
    shipped: dict[str, int] = {}
    for raw in _list(fulfillments, "fulfillments"):
        fulfillment = _object(raw, "fulfillment")
        if str(fulfillment.get("status", "")).upper() in ("CANCELLED", "ERROR", "FAILURE"):
            continue
        for item in _nodes(fulfillment.get("fulfillmentLineItems")):
            line_id = _id(_tail((item.get("lineItem") or {}).get("id")), "fulfilled line item")
            shipped[line_id] = shipped.get(line_id, 0) + _count(item.get("quantity"), "fulfilled quantity")
    return shipped


def _graphql_address(value: Any) -> Address | None:
    if not isinstance(value, dict):
        return None
    return Address(
        name=_text(value.get("name")),
        company=_text(value.get("company")),
        street1=_text(value.get("address1")),
        street2=_text(value.get("address2")),
        city=_text(value.get("city")),
        state=_text(value.get("provinceCode") or value.get("province")),
        postal_code=_text(value.get("zip")),
        country=_text(value.get("countryCodeV2") or value.get("country")),
        phone=_text(value.get("phone")),
    )


# ==================================================================== inventory and products
def level_from_rest(body: Any) -> LevelReport:
    data = _object(body, "inventory level")
    available = data.get("available")
    if available is not None and (not isinstance(available, int) or isinstance(available, bool)):
        raise PayloadError("available must be a whole number")
    updated = data.get("updated_at")
    return LevelReport(
        inventory_item=gid("InventoryItem", _id(data.get("inventory_item_id"), "inventory_item_id")),
        location=gid("Location", _id(data.get("location_id"), "location_id")),
        available=available,
        updated_at=utc_micros(updated, "updated_at") if updated else "",
    )


def product_from_rest(body: Any) -> ProductNotice:
    data = _object(body, "product")
    if "variants" not in data or "line_items" in data:  # the topic header is unsigned: an order is no product
        raise PayloadError("a product lists its variants")
    variants = []
    for raw in _list(data.get("variants"), "variants"):
        variant = _object(raw, "variant")
        if not variant.get("inventory_item_id"):
            continue
        variants.append(
            VariantListing(
                variant=gid("ProductVariant", _id(variant.get("id"), "variant id")),
                inventory_item=gid("InventoryItem", variant["inventory_item_id"]),
                sku=_text(variant.get("sku")).strip(),
                tracked=variant.get("inventory_management") == "shopify",
            )
        )
    updated = data.get("updated_at")
    return ProductNotice(
        product_id=_id(data.get("id"), "product id"),
        title=_text(data.get("title")),
        updated_at=utc(updated, "updated_at") if updated else "",
        variants=tuple(variants),
    )


# ==================================================================== small readers
def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise PayloadError(f"{what} must be an object")
    return value


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise PayloadError(f"{what} must be a list")
    return value


def _nodes(connection: Any) -> list[dict[str, Any]]:
    if connection is None:
        return []
    nodes = connection.get("nodes") if isinstance(connection, dict) else connection
    return [_object(node, "node") for node in _list(nodes, "nodes")]


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise PayloadError(f"{what} is missing")
    text = str(value).strip()
    if len(text) > 200:
        raise PayloadError(f"{what} is too long")
    return text


def _tail(value: Any) -> Any:
    """``gid://shopify/LineItem/123`` -> ``"123"``: the REST id the webhooks use."""
    if isinstance(value, str) and value.startswith("gid://"):
        return value.rsplit("/", 1)[-1].split("?", 1)[0]
    return value


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1_000_000:
        raise PayloadError(f"{what} must be a whole number from 0 to 1,000,000")
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value[:5000]
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise PayloadError("a text field holds a structure")


def _money(value: Any) -> str:
    text = _text(value) or "0.00"
    try:
        return f"{float(text):.2f}"
    except ValueError:
        raise PayloadError("an amount is not a number") from None


def _sum_money(values: Any) -> str:
    return f"{sum(float(_money(v)) for v in values):.2f}"


def _shop_money(value: Any) -> Any:
    if isinstance(value, dict):
        return (value.get("shopMoney") or {}).get("amount")
    return None
