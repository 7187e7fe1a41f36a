"""Unleashed's two signatures.

- **API requests** [vendor: Authentication help]: ``api-auth-signature`` is the HMAC-SHA256 of the
  query string alone (no path, no ``?``; "" when there is none), keyed with the API key, base64.
  The string signed must be the one sent, byte for byte: callers build the query once and sign it.
- **Webhooks** [integrators, unverified by the vendor page]: ``x-unleashed-signature`` is the
  base64 HMAC-SHA256 of ``"{x-unleashed-timestamp}.{raw body}"`` with the subscription's signing
  key; a delivery older (or newer) than five minutes is refused as a possible replay.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

REPLAY_WINDOW_SECONDS = 300


def query_signature(query: str, api_key: str) -> str:
    digest = hmac.new(api_key.encode(), query.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_signature(timestamp: str, body: bytes, signing_key: str) -> str:
    digest = hmac.new(signing_key.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def webhook_holds(body: bytes, timestamp: str | None, given: str | None, keys: list[str], now: float) -> bool:
    """The delivery is signed by one of ``keys`` and was sent within the replay window."""
    if not timestamp or not given or not timestamp.strip().isdigit():
        return False
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        return False
    return any(hmac.compare_digest(webhook_signature(timestamp, body, key).encode(), given.encode()) for key in keys)


def combined(timestamp: str | None, signature: str | None) -> str | None:
    """The two signed headers as the one value a webhook check takes ("" parts when missing)."""
    if not timestamp and not signature:
        return None
    return f"{timestamp or ''}|{signature or ''}"
