"""Lightspeed deliveries: the X-Signature check against vectors computed with openssl (not with
the code under test), the form envelope, and the payloads read into facts."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import pytest

from omnistock.channels.lightspeed import webhooks

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lightspeed"
SECRET = "lightspeed-test-client-secret"
# printf '%s' "$BODY" | openssl dgst -sha256 -hmac "$SECRET" (-hex, or -binary | base64)
RAW_HEX = "4df7f9798d7f685df2a191bd1b41a5988cb3151e247be813d3cd7716c1a9a6d5"
RAW_B64 = "Tff5eY1/aF3yoZG9G0GlmIyzFR4ke+gT0813FsGpptU="
PAYLOAD_HEX = "eec08ed122a53385f69aace6f80801e4f06d033ffb4ac4558d00967a75babba9"
PAYLOAD_B64 = "7sCO0SKlM4X2mqzm+AgB5PBtAz/7SsRVjQCWenW6u6k="


def fixture(name: str) -> dict:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def vector_body() -> tuple[bytes, str]:
    payload = json.dumps(fixture("inventory.update"), separators=(",", ":"), sort_keys=True)
    raw = urlencode({"payload": payload, "type": "inventory.update", "domain_prefix": "mystore"})
    return raw.encode(), payload


@pytest.mark.parametrize("value", [RAW_HEX, RAW_HEX.upper(), RAW_B64, PAYLOAD_HEX, PAYLOAD_B64])
def test_every_reading_of_the_signed_body_verifies(value: str) -> None:
    raw, _ = vector_body()
    assert webhooks.verify(raw, f"signature={value},algorithm=HMAC-SHA256", [SECRET])
    assert webhooks.verify(raw, f"algorithm=HMAC-SHA256, signature={value}", ["old", SECRET])


def test_the_sandbox_header_is_the_raw_hex_reading() -> None:
    raw, _ = vector_body()
    assert webhooks.signature_header(raw, SECRET) == f"signature={RAW_HEX},algorithm=HMAC-SHA256"


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        f"signature={RAW_HEX},algorithm=HMAC-SHA1",
        f"signature={RAW_HEX[:-2]}00,algorithm=HMAC-SHA256",
        "signature=,algorithm=HMAC-SHA256",
        RAW_HEX,  # a bare value is not the header's form
    ],
)
def test_forged_or_malformed_signatures_fail(header: str | None) -> None:
    raw, _ = vector_body()
    assert not webhooks.verify(raw, header, [SECRET])


def test_a_signature_of_another_body_or_secret_fails() -> None:
    raw, _ = vector_body()
    assert not webhooks.verify(raw + b"&x=1", f"signature={RAW_HEX},algorithm=HMAC-SHA256", [SECRET])
    assert not webhooks.verify(raw, f"signature={RAW_HEX},algorithm=HMAC-SHA256", ["another-secret"])
    assert not webhooks.verify(b"", f"signature={RAW_HEX},algorithm=HMAC-SHA256", [SECRET])


def test_the_envelope_gives_type_and_payload() -> None:
    raw, _ = vector_body()
    received = webhooks.delivery(raw, "application/x-www-form-urlencoded; charset=UTF-8")
    assert received.type == "inventory.update" and received.payload["count"] == 10
    # Without a signed type the payload's shape says it; a signed type the payload contradicts
    # is refused.
    bare = urlencode({"payload": json.dumps(fixture("sale.update"))}).encode()
    assert webhooks.delivery(bare, webhooks.FORM_TYPE).type == "sale.update"
    contradicted = urlencode({"type": "product.update", "payload": json.dumps(fixture("inventory.update"))})
    with pytest.raises(webhooks.PayloadError, match=r"not a product\.update"):
        webhooks.delivery(contradicted.encode(), webhooks.FORM_TYPE)


def test_form_fields_count_only_when_the_form_itself_is_signed() -> None:
    """Where only the payload field is signed, ``type`` and ``domain_prefix`` beside it are
    anyone's: removing or changing them must not route the delivery or pass the store guard."""
    payload = json.dumps(fixture("inventory.update"))
    form = urlencode({"type": "inventory.update", "domain_prefix": "Other-Store", "payload": payload}).encode()
    header_form = webhooks.signature_header(form, SECRET)
    header_payload = webhooks.signature_header(payload.encode(), SECRET)
    assert webhooks.signed_part(form, header_form, [SECRET]) == "form"
    assert webhooks.signed_part(form, header_payload, [SECRET]) == "payload"
    assert webhooks.signed_part(form, header_payload, ["another-secret"]) == ""
    assert webhooks.delivery(form, webhooks.FORM_TYPE, "form").domain_prefix == "other-store"
    unsigned_fields = webhooks.delivery(form, webhooks.FORM_TYPE, "payload")
    assert unsigned_fields.domain_prefix == "" and unsigned_fields.type == "inventory.update"
    retyped = urlencode({"type": "product.update", "payload": payload}).encode()
    assert webhooks.delivery(retyped, webhooks.FORM_TYPE, "payload").type == "inventory.update"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"payload": {}}', "application/json"),
        (b"payload=not-json", webhooks.FORM_TYPE),
        (b"payload=%5B1%2C2%5D", webhooks.FORM_TYPE),  # JSON, but not an object
        (b"other=1", webhooks.FORM_TYPE),
        (b"payload=%7B%7D&payload=%7B%7D", webhooks.FORM_TYPE),
        (b"payload=\xff\xfe", webhooks.FORM_TYPE),
    ],
)
def test_a_body_that_is_not_a_delivery_is_refused(body: bytes, content_type: str) -> None:
    with pytest.raises(webhooks.PayloadError):
        webhooks.delivery(body, content_type)


def test_payloads_read_into_facts() -> None:
    count = webhooks.inventory_count(fixture("inventory.update"))
    assert (count.sku, count.count, count.version) == ("10107", 10, 5105100802)
    sale = webhooks.pos_sale(fixture("sale.update"))
    assert sale.invoice_number == "402" and sale.version == 5307658013 and sale.status == "CLOSED"
    assert [line.quantity for line in sale.lines] == [1, 1]
    assert sale.sold_at == "2017-12-06T04:30:36.000Z"
    product = webhooks.product(fixture("product.update"))
    assert (product.sku, product.deleted) == ("10107", False)
    feed_record = {"product_id": "p", "outlet_id": "o", "inventory_level": "7.00000", "version": "12"}
    assert webhooks.inventory_count(feed_record).count == 7


@pytest.mark.parametrize(
    "change",
    [{"count": 1.5}, {"count": True}, {"count": None}, {"version": -1}, {"version": "x"}, {"product_id": ""}],
)
def test_a_payload_that_is_not_a_count_is_refused(change: dict) -> None:
    with pytest.raises(webhooks.PayloadError):
        webhooks.inventory_count(fixture("inventory.update") | change)
