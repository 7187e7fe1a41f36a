"""``POST /webhooks/shopify``: Shopify's webhooks, verified and applied.

The signature is checked on the raw body, in constant time, before anything is parsed or
stored (a failure rereads the secret once: it may have just been rotated). Then the topic's
payload is applied through the same idempotent path as the order poll, well inside
Shopify's 5-second budget. Answers: 401 bad or missing signature; 400 a body that is not
the topic's JSON (or nests too deep), 413 one over 3 MB; 200 applied, duplicate, ignored (an
unknown topic) or rejected (the table cannot hold it: recorded in the sync history, so Shopify
stops retrying it); 503 when storage fails for a while, so Shopify retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime, safe_json
from omnistock.channels.shopify import wiring as shopify
from omnistock.channels.shopify.intake import Delivery
from omnistock.channels.shopify.payloads import PayloadError, utc_micros
from omnistock.channels.shopify.signature import verify
from omnistock.handlers import Webhook, answer_webhook
from omnistock.observability import logger, observed
from omnistock.web import loggable


def _header(headers: Mapping[str, str], name: str) -> str:
    return headers.get(f"x-shopify-{name}") or headers.get(f"shopify-{name}") or ""


def _time(header: str) -> str:
    """The trigger time, or "" when absent or unreadable (it only breaks ties inside a second)."""
    try:
        return utc_micros(header) if header else ""
    except PayloadError:
        return ""


def _apply(raw: bytes, headers: Mapping[str, str], _: bool) -> dict[str, Any]:
    topic, webhook_id = _header(headers, "topic"), _header(headers, "webhook-id")[:200]
    logger.append_keys(topic=loggable(topic), webhook_id=loggable(webhook_id))
    body = safe_json.loads(raw, safe_json.WEBHOOK_BYTES)
    delivery = Delivery(topic, body, webhook_id, _time(_header(headers, "triggered-at")))
    return shopify.intake(runtime.app()).handle(delivery)


HOOK = Webhook(
    platform="shopify",
    header="X-Shopify-Hmac-Sha256",
    signature=lambda headers: _header(headers, "hmac-sha256") or None,
    secrets=lambda refresh=False: shopify.webhook_secrets(runtime.app(), refresh),
    check=verify,
    apply=_apply,
    beat=lambda: runtime.app().heartbeats.beat("shopify:delivery"),
)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer_webhook(HOOK, event)
