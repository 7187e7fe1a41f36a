"""Lightspeed X-Series webhooks and change-feed records: verified, then read into plain facts.

Delivery (vendor docs, "Webhooks"): a POST, ``application/x-www-form-urlencoded``, whose form
field ``payload`` holds the entity as a JSON string in the API 1.0 shape. ``type``,
``domain_prefix`` and ``retailer_id`` fields may come too; only ``payload`` is promised, so the
type is the form's ``type``, else the route's ``type`` query parameter, else the
payload's shape; a type the payload's shape contradicts is refused.

Signature: ``X-Signature: signature=<value>,algorithm=HMAC-SHA256``, an HMAC keyed with the
app's client secret over "the webhook request body". The docs do not say whether "body" is the
raw form bytes or the decoded ``payload`` string, nor whether the value is hex or base64, so
all four readings are accepted. That weakens nothing: each is an HMAC with the client secret,
so none can be made without it. Each candidate is compared in constant time and all are
compared, whatever matches first.

Records carry Lightspeed's ``version``: a retailer-wide number that grows with every change of
any record. It orders counts (a delivery at or below the applied version changes nothing) and
says when the POS applied a sale, so a count can be known to include it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import parse_qs

from omnistock import safe_json
from omnistock.clock import iso
from omnistock.models import MAX_VERSION
from omnistock.orders import Address

SIGNATURE_HEADER = "x-signature"
ALGORITHM = "HMAC-SHA256"
FORM_TYPE = "application/x-www-form-urlencoded"
TYPES = ("inventory.update", "sale.update", "product.update")
MAX_FIELDS = 20  # a delivery has a handful of form fields
MAX_UNITS = 1_000_000
MAX_ID = 100


class PayloadError(ValueError):
    """The delivery or record is not the shape Lightspeed sends."""


# ==================================================================== signatures
def sign(message: bytes, secret: str, encoding: str = "hex") -> str:
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return digest.hex() if encoding == "hex" else base64.b64encode(digest).decode()


def signature_header(raw_body: bytes, secret: str) -> str:
    """The header Lightspeed sends (hex over the raw body: what integrators report)."""
    return f"signature={sign(raw_body, secret)},algorithm={ALGORITHM}"


def signature_value(header: str | None) -> str | None:
    """The ``signature=`` value of an ``X-Signature`` header whose algorithm is HMAC-SHA256."""
    if not header:
        return None
    fields: dict[str, str] = {}
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        fields.setdefault(name.strip().lower(), value.strip())
    algorithm = fields.get("algorithm", ALGORITHM)
    value = fields.get("signature", "")
    return value if algorithm.upper() == ALGORITHM and value else None


def verify(raw_body: bytes, header: str | None, secrets: list[str]) -> bool:
    """Whether ``header`` signs this delivery with one of ``secrets`` (current, previous)."""
    return bool(signed_part(raw_body, header, secrets))


def signed_part(raw_body: bytes, header: str | None, secrets: list[str]) -> str:
    """What ``header`` signs: "form" (the raw form bytes, every field), "payload" (the
    ``payload`` field alone: the other form fields are then anyone's) or "" (nothing)."""
    given = signature_value(header)
    if not raw_body or given is None:
        return ""
    payload = _payload_field(raw_body)
    messages = {"form": raw_body, "payload": payload.encode() if payload is not None else None}
    hex_given, b64_given = given.lower().encode(), given.encode()
    matched = dict.fromkeys(messages, False)
    for secret in filter(None, secrets):
        for part, message in messages.items():
            if message is None:
                continue
            digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
            matched[part] |= hmac.compare_digest(digest.hex().encode(), hex_given)
            matched[part] |= hmac.compare_digest(base64.b64encode(digest), b64_given)
    return next((part for part, hit in matched.items() if hit), "")


def _payload_field(raw_body: bytes) -> str | None:
    try:
        fields = parse_qs(raw_body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError):
        return None
    values = fields.get("payload") or []
    return values[0] if len(values) == 1 else None


# ==================================================================== deliveries
@dataclass(frozen=True)
class Delivery:
    type: str
    payload: dict[str, Any]
    domain_prefix: str = ""  # the store it came from, when the signed form says


def delivery(raw_body: bytes, content_type: str, signed: str = "form") -> Delivery:
    """A verified delivery's type and payload; PayloadError when it is not form-encoded or its
    ``payload`` is not a JSON object. Only signed content decides: the form's ``type`` and
    ``domain_prefix`` count when the whole form is signed (``signed`` "form"); when only the
    payload is, they are anyone's and the type is the payload's shape. (The subscription URL's
    ``?type=`` is never signed, so it decides nothing.)"""
    if content_type.split(";", maxsplit=1)[0].strip().lower() != FORM_TYPE:
        raise PayloadError(f"a delivery is {FORM_TYPE}")
    try:
        fields = parse_qs(raw_body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as error:
        raise PayloadError("the form is not UTF-8 form-encoding") from error
    values = fields.get("payload") or []
    if len(values) != 1:
        raise PayloadError("a delivery has one payload field")
    try:
        payload = safe_json.loads(values[0], safe_json.WEBHOOK_BYTES)
    except safe_json.UnreadableJson as error:
        raise PayloadError(f"the payload field is not JSON we read: {error}") from error
    if not isinstance(payload, dict):
        raise PayloadError("the payload is not a JSON object")
    shape = _shape(payload)
    form = fields if signed == "form" else {}
    kind = ((form.get("type") or [""])[0] or shape).strip().lower()
    if shape and kind in TYPES and kind != shape:
        raise PayloadError(f"the payload is not a {kind} payload")
    return Delivery(kind, payload, (form.get("domain_prefix") or [""])[0].strip().lower()[:MAX_ID])


def _shape(payload: dict[str, Any]) -> str:
    if "register_sale_products" in payload or "invoice_number" in payload:
        return "sale.update"
    if "outlet_id" in payload and "product_id" in payload and "count" in payload:
        return "inventory.update"
    if "sku" in payload and "id" in payload:
        return "product.update"
    return ""


# ==================================================================== facts
@dataclass(frozen=True)
class InventoryCount:
    """A product's count at an outlet, as of ``version``. ``sku`` is given by webhooks (their
    payload nests the product); feed records name only the product."""

    product_id: str
    outlet_id: str
    count: int
    version: int
    sku: str = ""


@dataclass(frozen=True)
class SaleLine:
    line_id: str
    product_id: str
    quantity: int  # negative for a returned line
    price: str = ""  # the unit price as the POS writes it ("56.52174"), when given


@dataclass(frozen=True)
class PosSale:
    sale_id: str
    invoice_number: str
    status: str
    version: int
    lines: tuple[SaleLine, ...]
    outlet_id: str = ""  # feed records carry it; webhook payloads name the register
    register_id: str = ""
    deleted: bool = False
    sold_at: str = ""  # ISO UTC; "" when the payload has no readable date
    source: str = ""  # "USER" for a sale rung up at the till; the importer's name for an imported one
    source_id: str = ""  # an imported sale's id in the system it came from (a web order's id)
    # who it goes to, from the customer the payload nests (its ``physical_*`` address: the
    # field names are integrators' reading, unverified, so every field is optional)
    email: str = ""
    ship_to: Address | None = None  # None: no street to ship to


@dataclass(frozen=True)
class Product:
    product_id: str
    sku: str
    version: int
    deleted: bool


def inventory_count(payload: dict[str, Any]) -> InventoryCount:
    """An ``inventory.update`` payload (API 1.0: ``count``) or a 2.0 inventory record
    (``inventory_level``, or ``current_amount``)."""
    raw = next((payload[key] for key in ("count", "inventory_level", "current_amount") if key in payload), None)
    product = payload.get("product")
    sku = product.get("sku") if isinstance(product, dict) else None
    return InventoryCount(
        product_id=_id(payload.get("product_id"), "product_id"),
        outlet_id=_id(payload.get("outlet_id"), "outlet_id"),
        count=_units(raw, "count", negative=True),
        version=_version(payload.get("version")),
        sku=_text(sku),
    )


def pos_sale(payload: dict[str, Any]) -> PosSale:
    """A ``sale.update`` payload (API 1.0: ``register_sale_products``) or a 2.0 sale record
    (``line_items``)."""
    raw_lines = payload.get("register_sale_products", payload.get("line_items"))
    if not isinstance(raw_lines, list):
        raise PayloadError("a sale lists its products")
    lines = []
    for index, raw in enumerate(raw_lines):
        if not isinstance(raw, dict):
            raise PayloadError("a sale line is an object")
        lines.append(
            SaleLine(
                line_id=_text(raw.get("id")) or str(index),
                product_id=_id(raw.get("product_id"), "a line's product_id"),
                quantity=_units(raw.get("quantity"), "a line's quantity", negative=True),
                price=_text(raw.get("price"))[:30],
            )
        )
    return PosSale(
        sale_id=_id(payload.get("id"), "sale id"),
        invoice_number=_text(payload.get("invoice_number"))[:MAX_ID],
        status=_text(payload.get("status")).upper(),
        version=_version(payload.get("version")),
        lines=tuple(lines),
        outlet_id=_text(payload.get("outlet_id"))[:MAX_ID],
        register_id=_text(payload.get("register_id"))[:MAX_ID],
        deleted=bool(payload.get("deleted_at")),
        sold_at=_moment(payload.get("sale_date") or payload.get("created_at")),
        source=_text(payload.get("source")).upper()[:MAX_ID],
        source_id=_text(payload.get("source_id"))[:MAX_ID],
        email=_customer_email(payload.get("customer")),
        ship_to=_ship_to(payload.get("customer")),
    )


def _customer_email(raw: Any) -> str:
    return _text(raw.get("email"))[:200] if isinstance(raw, dict) else ""


def _ship_to(raw: Any) -> Address | None:
    if not isinstance(raw, dict):
        return None

    def field(*names: str) -> str:
        return next((_text(raw.get(n))[:200] for n in names if _text(raw.get(n))), "")

    street = field("physical_address1", "physical_address_1")
    if not street:
        return None
    return Address(
        name=" ".join(p for p in (field("first_name"), field("last_name")) if p) or field("name"),
        company=field("company_name"),
        street1=street,
        street2=field("physical_address2", "physical_address_2"),
        city=field("physical_city", "physical_suburb"),
        state=field("physical_state"),
        postal_code=field("physical_postcode"),
        country=field("physical_country_id"),
        phone=field("phone", "mobile"),
    )


def product(payload: dict[str, Any]) -> Product:
    return Product(
        product_id=_id(payload.get("id"), "product id"),
        sku=_text(payload.get("sku")),
        version=_version(payload.get("version")),
        deleted=bool(payload.get("deleted_at")),
    )


def _id(value: Any, what: str) -> str:
    text = _text(value)
    if not text or len(text) > MAX_ID:
        raise PayloadError(f"{what} is missing")
    return text


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (dict, list)) else str(value).strip()


def _moment(value: Any) -> str:
    """An ISO UTC time from Lightspeed's "2017-12-06T04:30:36Z" or "2017-12-06 04:30:39" (UTC)."""
    try:
        moment = datetime.fromisoformat(_text(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _version(value: Any) -> int:
    if isinstance(value, bool):
        raise PayloadError("version is a whole number")
    try:
        version = int(value)
    except (TypeError, ValueError):
        raise PayloadError("version is a whole number") from None
    if not 0 <= version <= MAX_VERSION:  # past it, every later count would be stale
        raise PayloadError(f"version is a whole number from 0 to {MAX_VERSION}")
    return version


def _units(value: Any, what: str, *, negative: bool = False) -> int:
    """A whole number of units (the 1.0 shape may send "10.00000")."""
    if isinstance(value, bool) or value is None:
        raise PayloadError(f"{what} is a whole number")
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise PayloadError(f"{what} is a whole number") from None
    if not number.is_finite() or number != number.to_integral_value() or abs(number) > MAX_UNITS:
        raise PayloadError(f"{what} is a whole number")
    if number < 0 and not negative:
        raise PayloadError(f"{what} is zero or more")
    return int(number)
