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

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from omnistock import runtime, safe_json
from omnistock.channels.shopify.intake import Delivery
from omnistock.channels.shopify.payloads import PayloadError, utc_micros
from omnistock.channels.shopify.signature import verify
from omnistock.errors import StoreUnavailable
from omnistock.web import json_answer, loggable, lowered_headers, raw_body

logger = Logger()


def _time(header: str | None) -> str:
    """The trigger time, or "" when absent or unreadable (it only orders reports)."""
    try:
        return utc_micros(header) if header else ""
    except PayloadError:
        return ""


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = lowered_headers(event)
    raw = raw_body(event) or b""  # an undecodable body fails the signature check
    signature = headers.get("x-shopify-hmac-sha256") or headers.get("shopify-hmac-sha256")
    try:
        verified = runtime.signature_holds(
            runtime.shopify_webhook_secrets, lambda secrets: verify(raw, signature, secrets), bool(signature)
        )
    except (BotoCoreError, ClientError, ValueError):
        logger.exception("shopify webhook not checked: the signing secret could not be read")
        return json_answer(503, {"error": "the signing secret is unavailable; retry"})
    if not verified:
        logger.warning("shopify webhook refused: bad or missing signature")
        return json_answer(401, {"error": "invalid or missing X-Shopify-Hmac-Sha256"})
    topic = headers.get("x-shopify-topic") or headers.get("shopify-topic") or ""
    webhook_id = (headers.get("x-shopify-webhook-id") or headers.get("shopify-webhook-id") or "")[:200]
    logger.append_keys(topic=loggable(topic), webhook_id=loggable(webhook_id))
    try:
        body = safe_json.loads(raw, safe_json.WEBHOOK_BYTES)
        triggered = headers.get("x-shopify-triggered-at") or headers.get("shopify-triggered-at")
        delivery = Delivery(topic, body, webhook_id, _time(triggered))
        result = runtime.shopify_intake().handle(delivery)
    except safe_json.UnreadableJson as error:
        logger.warning("shopify webhook refused: unreadable JSON", extra={"problem": str(error)[:200]})
        return json_answer(error.status, {"error": str(error)[:300]})
    except (ValueError, PayloadError) as error:  # PayloadError is a ValueError
        logger.warning("shopify webhook refused: not the topic's JSON", extra={"problem": str(error)[:200]})
        return json_answer(400, {"error": f"the body is not a valid {topic or 'webhook'} payload: {error}"[:300]})
    except StoreUnavailable:
        logger.exception("shopify webhook not applied: storage failed")
        return json_answer(503, {"error": "storage is unavailable; retry"})
    logger.info("shopify webhook applied", extra=result)
    return json_answer(200, result)
