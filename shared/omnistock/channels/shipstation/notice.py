"""The ShipNotice body ShipStation posts with ``action=shipnotify``, parsed safely.

defusedxml refuses DTDs, entity declarations and external references outright (no billion
laughs, no XXE); the body is capped before parsing. What matters here: OrderID, OrderNumber,
Carrier, Service, TrackingNumber, ShipDate, and the shipped Items (LineItemID, SKU, Quantity).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.etree.ElementTree import Element

MAX_BODY = 256 * 1024  # a notice lists one shipment's items; anything larger is not one


class NoticeError(ValueError):
    pass


@dataclass(frozen=True)
class NoticeItem:
    line_item_id: str
    sku: str
    quantity: int


@dataclass(frozen=True)
class ShipNotice:
    order_id: str
    order_number: str
    carrier: str
    service: str
    tracking_number: str
    ship_date: str
    items: tuple[NoticeItem, ...]
    label_created: str = ""  # LabelCreateDate: UTC MM/dd/yyyy HH:mm


def parse(body: bytes) -> ShipNotice:
    import defusedxml.ElementTree as safe  # imported here: only shipnotify parses XML
    from defusedxml import DefusedXmlException

    if len(body) > MAX_BODY:
        raise NoticeError("the ShipNotice body is too large")
    if not body.strip():
        return ShipNotice("", "", "", "", "", "", ())  # ShipStation sometimes posts none
    try:
        root = safe.fromstring(body, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise NoticeError("the ShipNotice body declares a DTD or entities, which are not accepted") from None
    except Exception as error:  # ParseError and friends: not XML
        raise NoticeError(f"the ShipNotice body is not well-formed XML ({type(error).__name__})") from None
    if root.tag != "ShipNotice":
        raise NoticeError("the body's root element is not ShipNotice")
    items = []
    for item in root.findall("./Items/Item"):
        quantity = _text(item, "Quantity")
        if not quantity.isdigit() or not 1 <= int(quantity) <= 99_999:
            raise NoticeError("every shipped Item needs a Quantity from 1 to 99999")
        items.append(NoticeItem(_text(item, "LineItemID"), _text(item, "SKU"), int(quantity)))
    return ShipNotice(
        order_id=_text(root, "OrderID"),
        order_number=_text(root, "OrderNumber"),
        carrier=_text(root, "Carrier"),
        service=_text(root, "Service"),
        tracking_number=_text(root, "TrackingNumber"),
        ship_date=_text(root, "ShipDate"),
        items=tuple(items),
        label_created=_text(root, "LabelCreateDate"),
    )


def _text(parent: Element, name: str) -> str:
    found = parent.find(name)
    return (found.text or "").strip()[:200] if found is not None else ""
