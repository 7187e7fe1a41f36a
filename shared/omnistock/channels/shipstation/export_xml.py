"""The export document: ``<Orders pages="N">`` with one ``<Order>`` per order, every element
the Custom Store guide requires, free text escaped (no input can break the document: markup is
escaped and characters XML 1.0 forbids are dropped), money with two decimals, dates in UTC
``MM/dd/yyyy HH:mm``, and every value cut to the length the guide allows."""

from __future__ import annotations

import re
from collections.abc import Mapping
from xml.etree.ElementTree import Element, SubElement, tostring

from omnistock.channels.shipstation.dates import format_iso
from omnistock.orders import RESTOCKING, Address, ChannelOrder, OrderStatus, StoredOrder

# Characters XML 1.0 does not allow at all (escaping cannot save them).
_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

DEFAULT_STATUS_MAP: Mapping[OrderStatus, str] = {
    OrderStatus.AWAITING_PAYMENT: "unpaid",
    OrderStatus.AWAITING_SHIPMENT: "paid",
    OrderStatus.PARTIALLY_SHIPPED: "paid",  # something is still to ship
    OrderStatus.SHIPPED: "shipped",
    OrderStatus.CANCELLED: "cancelled",
    OrderStatus.ON_HOLD: "on_hold",
}


def status_map(overrides: str) -> dict[OrderStatus, str]:
    """The default map with a connection's overrides (``awaiting_payment=Unpaid,shipped=Sent``):
    ShipStation matches status names case-sensitively, as typed in its connection form."""
    mapped = dict(DEFAULT_STATUS_MAP)
    for pair in filter(None, (part.strip() for part in overrides.split(","))):
        name, sep, value = pair.partition("=")
        try:
            status = OrderStatus(name.strip())
        except ValueError:
            raise ValueError(f"unknown order status {name.strip()!r} in the status map") from None
        if not sep or not value.strip():
            raise ValueError(f"status {name.strip()!r} needs a ShipStation status after '='")
        mapped[status] = value.strip()[:50]
    return mapped


def order_id(order: ChannelOrder) -> str:
    """ShipStation's OrderID: stable, unique across channels, never shown to people."""
    return f"{order.channel}:{order.order_id}"


def orders_document(orders: list[StoredOrder], pages: int, statuses: Mapping[OrderStatus, str]) -> bytes:
    root = Element("Orders", pages=str(pages))
    for stored in orders:
        _order(SubElement(root, "Order"), stored, statuses)
    return b'<?xml version="1.0" encoding="utf-8"?>\n' + tostring(root, encoding="utf-8", xml_declaration=False)


def _order(parent: Element, stored: StoredOrder, statuses: Mapping[OrderStatus, str]) -> None:
    order = stored.order
    _text(parent, "OrderID", order_id(order), 50)
    _text(parent, "OrderNumber", order.number or order.order_id, 50)
    _text(parent, "OrderDate", format_iso(order.created_at or stored.modified_at))
    _text(parent, "OrderStatus", statuses.get(stored.status, "on_hold"), 50)
    _text(parent, "LastModified", format_iso(stored.modified_at))
    _text(parent, "ShippingMethod", order.shipping_method, 100)
    if order.currency:
        _text(parent, "CurrencyCode", order.currency, 3)
    _text(parent, "OrderTotal", _money(order.total))
    _text(parent, "TaxAmount", _money(order.tax))
    _text(parent, "ShippingAmount", _money(order.shipping))
    _text(parent, "CustomerNotes", order.note, 1000)
    _text(parent, "InternalNotes", order.tags, 1000)
    _text(parent, "Source", order.channel, 50)
    customer = SubElement(parent, "Customer")
    _text(customer, "CustomerCode", order.email or order_id(order), 50)
    bill = order.bill_to or order.ship_to or Address()
    ship = order.ship_to or order.bill_to or Address()
    bill_to = SubElement(customer, "BillTo")
    _text(bill_to, "Name", bill.name or ship.name or order.email or "Customer", 100)
    _text(bill_to, "Company", bill.company, 100)
    _text(bill_to, "Phone", bill.phone, 50)
    _text(bill_to, "Email", order.email, 100)
    ship_to = SubElement(customer, "ShipTo")
    _text(ship_to, "Name", ship.name or bill.name or "Customer", 100)
    _text(ship_to, "Company", ship.company, 100)
    _text(ship_to, "Address1", ship.street1, 200)
    _text(ship_to, "Address2", ship.street2, 200)
    _text(ship_to, "City", ship.city, 100)
    _text(ship_to, "State", ship.state, 100)
    _text(ship_to, "PostalCode", ship.postal_code, 50)
    _text(ship_to, "Country", ship.country.upper(), 2)
    _text(ship_to, "Phone", ship.phone, 50)
    items = SubElement(parent, "Items")
    refunded: dict[str, int] = {}
    for refund in order.refunds:
        if refund.restock_type in RESTOCKING:
            refunded[refund.line_id] = refunded.get(refund.line_id, 0) + refund.quantity
    for line in order.lines:
        quantity = min(99_999, line.quantity - refunded.get(line.line_id, 0))
        if not line.requires_shipping or quantity <= 0:
            continue
        item = SubElement(items, "Item")
        _text(item, "LineItemID", line.line_id, 50)
        _text(item, "SKU", line.sku or f"NO-SKU-{line.line_id}", 100)
        _text(item, "Name", line.title or line.sku or "Item", 200)
        _text(item, "Quantity", str(quantity))
        _text(item, "UnitPrice", _money(line.unit_price))


def _text(parent: Element, name: str, value: str, limit: int | None = None) -> None:
    clean = _ILLEGAL.sub("", value or "")
    SubElement(parent, name).text = clean[:limit] if limit else clean


def _money(value: str) -> str:
    try:
        return f"{float(value):.2f}"
    except ValueError:
        return "0.00"
