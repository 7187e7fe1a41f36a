"""What the HTTP handlers share: the raw body of an API Gateway (HTTP API 2.0) event, and answers."""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

_ID_LIKE = re.compile(r"[A-Za-z0-9._:/#-]{1,80}")


def raw_body(event: dict[str, Any]) -> bytes | None:
    """The request body exactly as sent (signatures are over these bytes); None when the
    gateway marked it base64 and it is not."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return None
    try:
        return str(body).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: no bytes were ever sent like that
        return None


def json_answer(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}


def lowered_headers(event: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): value for name, value in (event.get("headers") or {}).items()}


def loggable(value: str) -> str:
    """A header value fit for a log line: an id or a topic as platforms send them; anything else
    (whatever a sender put there, customer data included) is not written out."""
    return value if _ID_LIKE.fullmatch(value) else "(not an id)"
