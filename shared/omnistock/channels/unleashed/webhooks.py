"""Unleashed's webhooks: hints, never truth. A verified delivery (signing.webhook_holds: the
timestamp and body signed, within five minutes) is noted as a hint keyed by its entity, so a
repeat notes nothing new; the next poll reads what changed through the API (the poll is what makes
the ledger complete), and a hint lets a poll the month's budget has slowed run at once.

The body (unverified shape, from integrators): ``{"eventNotificationId", "eventType":
"salesorder.updated", "data": {"salesOrderGuid": ...}}``; field casing varies, so both are read.
"""

from __future__ import annotations

from typing import Any

from omnistock import safe_json

HINTS = "unleashed:hints"
MAX_BYTES = 64 * 1024  # a thin event: an id or two


class PayloadError(ValueError):
    """The body is not an Unleashed webhook event."""


def hint_of(raw: bytes) -> str:
    """What the delivery says changed: ``<event type>:<entity id>`` (the notification's id when it
    names no entity)."""
    body = safe_json.loads(raw, MAX_BYTES)
    if not isinstance(body, dict):
        raise PayloadError("an event is a JSON object")
    kind = str(body.get("eventType") or body.get("EventType") or "").strip().lower()
    if not kind or "." not in kind or len(kind) > 60:
        raise PayloadError("an event names its eventType, such as salesorder.updated")
    data: Any = body.get("data") or body.get("Data") or {}
    entity = next(
        (str(v) for k, v in (data.items() if isinstance(data, dict) else []) if k.lower().endswith("guid")), ""
    )
    ref = entity or str(body.get("eventNotificationId") or body.get("EventNotificationId") or "")
    if not ref or len(ref) > 100:
        raise PayloadError("an event names its entity or its notification")
    return f"{kind}:{ref}"
