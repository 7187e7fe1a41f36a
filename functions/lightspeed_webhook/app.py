"""``POST /webhooks/lightspeed``: Lightspeed X-Series webhooks, verified and applied.

The ``X-Signature`` HMAC (keyed with the app's client secret) is checked on the raw body in
constant time before anything is parsed or stored. Only signed content decides: the type is
the form's ``type`` when the whole form is signed, else the payload's shape (the subscription
URL's ``?type=`` is not signed, so it routes nothing). Answers: 401 bad or
missing signature; 400 a body that is not form-encoded, a ``payload`` that is not JSON or not its
type's shape; 200 applied, stale, unmapped or ignored; 503 when storage or the secret fails
(Lightspeed retries for 48 hours, and the poll makes up for what never arrives).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from omnistock import runtime
from omnistock.channels.lightspeed.webhooks import SIGNATURE_HEADER, PayloadError, delivery, signed_part
from omnistock.errors import StoreUnavailable
from omnistock.web import json_answer, loggable, lowered_headers, raw_body

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    headers = lowered_headers(event)
    raw = raw_body(event) or b""  # an undecodable body fails the signature check
    signature = headers.get(SIGNATURE_HEADER)
    try:
        signed = runtime.signature_holds(
            runtime.lightspeed_webhook_secrets, lambda secrets: signed_part(raw, signature, secrets), bool(signature)
        )
    except (BotoCoreError, ClientError, ValueError):
        logger.exception("lightspeed webhook not checked: the signing secret could not be read")
        return json_answer(503, {"error": "the signing secret is unavailable; retry"})
    if not signed:
        logger.warning("lightspeed webhook refused: bad or missing signature")
        return json_answer(401, {"error": "invalid or missing X-Signature"})
    try:
        received = delivery(raw, headers.get("content-type", ""), signed)
        result = runtime.lightspeed_intake().handle(received)
    except PayloadError as error:
        logger.warning("lightspeed webhook refused: not a delivery", extra={"problem": str(error)[:200]})
        return json_answer(400, {"error": f"the body is not a valid Lightspeed delivery: {error}"[:300]})
    except StoreUnavailable:
        logger.exception("lightspeed webhook not applied: storage failed")
        return json_answer(503, {"error": "storage is unavailable; retry"})
    logger.info("lightspeed webhook applied", extra={"type": loggable(received.type), "result": result.get("result")})
    return json_answer(200, result)
