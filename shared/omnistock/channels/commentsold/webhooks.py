"""CommentSold's webhooks: ASSUMED shapes, all in this module.

CommentSold documents how to subscribe (``POST /v1/{shop}/webhooks`` with ``{topic, url}``) but
not the topics, the delivery body or how deliveries are signed. What Omnistock assumes, until
CommentSold's partner documentation says otherwise (change it here, nowhere else):

- The body is JSON ``{"id": <delivery id>, "topic": "...", "created_at": <epoch seconds>,
  "data": {...}}``; ``data`` is the resource in the shape the API returns (SDK: Reservation,
  Order), ids are integers, money is in cents.
- Topics: ``reservation.created`` (a viewer claimed an item: ``data`` is the reservation
  ``{id, variant_id, quantity, customer_id, expires_at?}``), ``reservation.deleted`` (removed
  from the cart or expired: ``{id, reason?}``), ``order.created`` / ``order.updated`` /
  ``order.cancelled`` (``data`` is the order: ``{id, status, reservation_ids, line_items:
  [{id, variant_id, quantity, price, reservation_id?, is_returned?}], customer, shipping_address,
  subtotal, tax_total, shipping_total, total, created_at, updated_at}``) and ``order.refunded``
  (the order, with the refunded lines marked ``is_returned`` and ``restock``).
- The signature is an HMAC-SHA256 of the raw body with a shared secret, in a header whose name
  and encoding (hex or base64) are configuration (``COMMENTSOLD_SIGNATURE_HEADER``,
  ``COMMENTSOLD_SIGNATURE_ENCODING``), compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from omnistock.clock import iso
from omnistock.orders import Address, ChannelOrder, OrderLine, RefundLine

MAX_QUANTITY = 1000  # a cart claim above this is not a viewer's claim


class PayloadError(ValueError):
    """The body is not the shape assumed for its topic."""


def sign(raw_body: bytes, secret: str, encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def verify(raw_body: bytes, given: str | None, secrets: list[str], encoding: str = "hex") -> bool:
    if not raw_body or not given:
        return False
    matched = False
    for secret in secrets:
        if secret:
            matched |= hmac.compare_digest(sign(raw_body, secret, encoding).encode(), given.strip().encode())
    return matched


@dataclass(frozen=True)
class Event:
    delivery_id: str
    topic: str
    data: dict[str, Any]
    created_at: str | None = None  # UTC ISO: when CommentSold made the delivery (signed)


@dataclass(frozen=True)
class Claim:
    reservation_id: str
    variant_id: str
    quantity: int
    expires_at: str | None  # UTC ISO; None: the shop's cart expiration applies


def event(body: Any) -> Event:
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        raise PayloadError("a delivery is {id, topic, data}")
    return Event(_text(body.get("id")), _text(body.get("topic")), body["data"], _time(body.get("created_at")))


def claim(data: dict[str, Any]) -> Claim:
    quantity = data.get("quantity", 1)
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise PayloadError(f"a reservation's quantity is a whole number from 1 to {MAX_QUANTITY}")
    expires = data.get("expires_at")
    return Claim(
        _id(data.get("id"), "reservation id"), _id(data.get("variant_id"), "variant_id"), quantity, _time(expires)
    )


def reservation_id(data: dict[str, Any]) -> str:
    return _id(data.get("id"), "reservation id")


def order(channel: str, data: dict[str, Any], skus: dict[str, str], cancelled: bool = False) -> ChannelOrder:
    """The order in the ledger's shape; ``skus`` maps variant ids to SKUs (the listing map).
    Lines that came from a reservation check out that reservation's hold."""
    lines, refunds = [], []
    for raw in _list(data.get("line_items")):
        line_id = _id(raw.get("id"), "line item id")
        variant = _id(raw.get("variant_id"), "variant_id")
        quantity = raw.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
            raise PayloadError("a line's quantity is a whole number")
        reservation = raw.get("reservation_id")
        lines.append(
            OrderLine(
                line_id=line_id,
                sku=skus.get(variant, ""),
                title=_text(raw.get("name") or raw.get("title")),
                quantity=quantity,
                unit_price=_cents(raw.get("price")),
                variant_id=variant,
                hold_id=hold_id(channel, _id(reservation, "reservation_id")) if reservation is not None else "",
            )
        )
        if raw.get("is_returned"):
            kind = "return" if raw.get("restock", True) else "no_restock"
            refunds.append(RefundLine(f"{line_id}:returned", line_id, quantity, kind))
    status = _text(data.get("status")).lower()
    customer: dict[str, Any] = data["customer"] if isinstance(data.get("customer"), dict) else {}
    ship_to = _address(data.get("shipping_address"), _text(customer.get("name")))
    return ChannelOrder(
        channel=channel,
        order_id=_id(data.get("id"), "order id"),
        number=_text(data.get("order_number")) or f"CS-{_text(data.get('id'))}",
        created_at=_time(data.get("created_at")) or iso(datetime.now(UTC)),
        updated_at=_time(data.get("updated_at")) or _time(data.get("created_at")) or iso(datetime.now(UTC)),
        lines=tuple(lines),
        refunds=tuple(refunds),
        financial_status="paid" if status not in ("pending", "unpaid") else "pending",
        cancelled=cancelled or status in ("cancelled", "canceled"),
        email=_text(customer.get("email")),
        total=_cents(data.get("total")),
        tax=_cents(data.get("tax_total")),
        shipping=_cents(data.get("shipping_total")),
        # CommentSold names no shipping method: an order with a delivery address ships
        shipping_method=_text(data.get("shipping_method")) or ("Shipping" if ship_to is not None else ""),
        ship_to=ship_to,
        channel_ref=_text(data.get("id")),
    )


def hold_id(channel: str, reservation: str) -> str:
    """The ledger's hold for a reservation: the reservation id is its dedupe key."""
    return f"{channel}:{reservation}"


def _address(value: Any, name: str) -> Address | None:
    if not isinstance(value, dict):
        return None
    return Address(
        name=_text(value.get("name")) or name,
        street1=_text(value.get("address1") or value.get("street")),
        street2=_text(value.get("address2")),
        city=_text(value.get("city")),
        state=_text(value.get("state")),
        postal_code=_text(value.get("zip") or value.get("postal_code")),
        country=_text(value.get("country_code") or value.get("country")),
        phone=_text(value.get("phone")),
    )


def _time(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value < 4_102_444_800:
        raise PayloadError("times are epoch seconds")
    return iso(datetime.fromtimestamp(value, UTC))


def _id(value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise PayloadError(f"{what} is missing")
    text = str(value).strip()
    if len(text) > 100:
        raise PayloadError(f"{what} is too long")
    return text


def _list(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise PayloadError("line_items must be a list of objects")
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return str(value)[:1000]
    raise PayloadError("a text field holds a structure")


def _cents(value: Any) -> str:
    if value is None:
        return "0.00"
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError("money is whole cents")
    return f"{value / 100:.2f}"
