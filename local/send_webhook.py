"""Send a webhook to the local stack the way Shopify does: TEST EQUIPMENT.

    python -m local.send_webhook orders/create tests/fixtures/shopify/orders_create.json
    python -m local.send_webhook orders/paid tests/fixtures/shopify/orders_paid.json --repeat 3

FILE's bytes are sent exactly as read, never parsed and re-serialised: Shopify signs the raw
body (base64 of HMAC-SHA256 with the app's secret, ``omnistock.channels.shopify.signature.sign``),
and a re-serialised body would not match (Shopify escapes ``/`` and ``&``, a parser does not).

Headers, as Shopify sends them (tests/fixtures/shopify/webhook_headers_example.json):
``Content-Type``, ``X-Shopify-Topic``, ``X-Shopify-Hmac-Sha256``, ``X-Shopify-Shop-Domain``,
``X-Shopify-API-Version``, ``X-Shopify-Webhook-Id`` (a uuid4 unless ``--webhook-id`` is given),
``X-Shopify-Event-Id`` and ``X-Shopify-Triggered-At`` (now, UTC, with ``Z``). Shopify keeps the
webhook id when it retries a delivery, so ``--repeat N`` sends the same webhook (same ids, same
bytes) N times: the receiver should act once and acknowledge the rest as duplicates.

Defaults: ``--url http://127.0.0.1:3000/webhooks/shopify``; ``--secret LOCAL_WEBHOOK_SECRET``
("local-shopify-webhook-secret"), which the local stack seeds as its Shopify webhook secret, so
webhooks sent with the defaults verify; ``--shop omnistock-sandbox.myshopify.com`` (the shop the
local stack's Shopify sandbox stands in for); ``--api-version 2026-04``.

Prints one line per delivery: the HTTP status and the response body (truncated). Exits 0 when
every delivery got a 2xx, 1 otherwise, 2 when FILE cannot be read. ``deliver(...)`` does one
delivery for tests and for the sandbox's ``POST /_sandbox/webhooks/deliver``.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path

import httpx

from omnistock.channels.shopify.signature import sign

LOCAL_WEBHOOK_SECRET = "local-shopify-webhook-secret"  # noqa: S105 - a fixed local test value, not a secret
DEFAULT_URL = os.environ.get("OMNISTOCK_URL", "http://127.0.0.1:3000").rstrip("/") + "/webhooks/shopify"
DEFAULT_SHOP = "omnistock-sandbox.myshopify.com"
DEFAULT_API_VERSION = "2026-04"
SHOWN_BODY = 200  # characters of the response body printed per delivery


def webhook_headers(
    topic: str,
    body: bytes,
    secret: str,
    *,
    webhook_id: str,
    event_id: str,
    shop: str = DEFAULT_SHOP,
    api_version: str = DEFAULT_API_VERSION,
) -> dict[str, str]:
    """The headers Shopify sends with ``body``, signed over exactly these bytes."""
    return {
        "Content-Type": "application/json",
        "X-Shopify-Topic": topic,
        "X-Shopify-Hmac-Sha256": sign(body, secret),
        "X-Shopify-Shop-Domain": shop,
        "X-Shopify-API-Version": api_version,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Event-Id": event_id,
        "X-Shopify-Triggered-At": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
    }


def deliver(
    url: str,
    topic: str,
    body: bytes,
    secret: str = LOCAL_WEBHOOK_SECRET,
    webhook_id: str | None = None,
    shop: str = DEFAULT_SHOP,
    client: httpx.Client | None = None,
    *,
    api_version: str = DEFAULT_API_VERSION,
    event_id: str | None = None,
    timeout: float = 10.0,
) -> httpx.Response:
    """POST one signed webhook and return the answer (httpx errors propagate). Ids default to
    fresh uuid4s; pass the same ``webhook_id`` again to send a duplicate."""
    headers = webhook_headers(
        topic,
        body,
        secret,
        webhook_id=webhook_id or str(uuid.uuid4()),
        event_id=event_id or str(uuid.uuid4()),
        shop=shop,
        api_version=api_version,
    )
    if client is not None:
        return client.post(url, content=body, headers=headers)
    with httpx.Client(timeout=timeout) as own:
        return own.post(url, content=body, headers=headers)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m local.send_webhook", description="Send a signed Shopify webhook (test equipment)."
    )
    parser.add_argument("topic", metavar="TOPIC", help="e.g. orders/create, refunds/create, inventory_levels/update")
    parser.add_argument("file", metavar="FILE", type=Path, help="the body, sent byte for byte")
    parser.add_argument("--url", default=DEFAULT_URL, help=f"receiver (default {DEFAULT_URL})")
    parser.add_argument("--secret", default=LOCAL_WEBHOOK_SECRET, help="signing secret (default: the local stack's)")
    parser.add_argument("--webhook-id", help="X-Shopify-Webhook-Id (default: a new uuid4)")
    parser.add_argument("--shop", default=DEFAULT_SHOP, help=f"X-Shopify-Shop-Domain (default {DEFAULT_SHOP})")
    parser.add_argument("--api-version", default=DEFAULT_API_VERSION, help=f"default {DEFAULT_API_VERSION}")
    parser.add_argument("--repeat", type=int, default=1, help="send the same webhook (same id) N times (default 1)")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    return args


def main(argv: list[str] | None = None, client: httpx.Client | None = None) -> int:
    """The command line; ``client`` lets tests answer in-process."""
    args = _arguments(argv)
    try:
        body = args.file.read_bytes()
    except OSError as error:
        print(f"cannot read {args.file}: {error.strerror or error}", file=sys.stderr)
        return 2
    webhook_id, event_id = args.webhook_id or str(uuid.uuid4()), str(uuid.uuid4())
    failed = 0
    with nullcontext(client) if client is not None else httpx.Client(timeout=10.0) as http:
        for attempt in range(1, args.repeat + 1):
            prefix = f"[{attempt}/{args.repeat}] {args.topic} {webhook_id}"
            try:
                response = deliver(
                    args.url,
                    args.topic,
                    body,
                    args.secret,
                    webhook_id,
                    args.shop,
                    http,
                    api_version=args.api_version,
                    event_id=event_id,
                )
            except httpx.HTTPError as error:
                print(f"{prefix}: {type(error).__name__}: {error}", flush=True)
                failed += 1
                continue
            text = " ".join(response.text.split())
            shown = text if len(text) <= SHOWN_BODY else text[:SHOWN_BODY] + "..."
            print(f"{prefix}: HTTP {response.status_code} {shown}", flush=True)
            failed += not response.is_success
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
