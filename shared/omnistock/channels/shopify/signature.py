"""Shopify webhook signatures: base64 HMAC-SHA256 of the raw body with the app's client secret.

Checked on the exact bytes received (never on re-serialized JSON: Shopify escapes ``/`` and
``&``, which a parser normalizes away), in constant time, against the current secret and the
previous one (Shopify may keep signing with the old secret for up to an hour after a rotation).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable


def sign(raw_body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()).decode()


def verify(raw_body: bytes, header_value: str | None, secrets: Iterable[str]) -> bool:
    if not raw_body or not header_value:
        return False
    try:
        given = base64.b64decode(header_value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return False
    matched = False
    for secret in secrets:
        if secret:  # every secret is tried, so the time taken does not say which one matched
            expected = hmac.new(secret.encode(), raw_body, hashlib.sha256).digest()
            matched |= hmac.compare_digest(expected, given)
    return matched
