"""``POST /webhooks/commentsold``: CommentSold's live-sale webhooks, verified and applied.

The signature (an HMAC-SHA256 of the raw body; its header and encoding are configuration, as
CommentSold does not publish them) is checked in constant time before anything is parsed or
stored. A claim's answer says whether the units are held (``"held": false`` with a reason for a
sold-out or unknown item: the waitlist's cue), never an error. Answers: 401 bad or missing
signature; 400 a body that is not the assumed shape (a quantity of 0 or an absurd one, say);
200 applied, refused, duplicate or ignored; 503 when storage fails.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext
from botocore.exceptions import BotoCoreError, ClientError

from omnistock import runtime, safe_json
from omnistock.channels.commentsold.webhooks import PayloadError, verify
from omnistock.errors import StoreUnavailable
from omnistock.web import json_answer, lowered_headers, raw_body

logger = Logger()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    config = runtime.settings()
    headers = lowered_headers(event)
    raw = raw_body(event) or b""  # an undecodable body fails the signature check
    signature = headers.get(config.commentsold_signature_header)
    encoding = config.commentsold_signature_encoding
    try:
        verified = runtime.signature_holds(
            runtime.commentsold_webhook_secrets,
            lambda secrets: verify(raw, signature, secrets, encoding),
            bool(signature),
        )
    except (BotoCoreError, ClientError, ValueError):
        logger.exception("commentsold webhook not checked: the signing secret could not be read")
        return json_answer(503, {"error": "the signing secret is unavailable; retry"})
    if not verified:
        logger.warning("commentsold webhook refused: bad or missing signature")
        return json_answer(401, {"error": f"invalid or missing {config.commentsold_signature_header}"})
    try:
        result = runtime.commentsold_intake().handle(safe_json.loads(raw, safe_json.WEBHOOK_BYTES))
    except safe_json.UnreadableJson as error:
        logger.warning("commentsold webhook refused: unreadable JSON", extra={"problem": str(error)[:200]})
        return json_answer(error.status, {"error": str(error)[:300]})
    except (ValueError, PayloadError) as error:  # PayloadError is a ValueError
        logger.warning("commentsold webhook refused: not the assumed shape", extra={"problem": str(error)[:200]})
        return json_answer(400, {"error": f"the body is not a valid CommentSold delivery: {error}"[:300]})
    except StoreUnavailable:
        logger.exception("commentsold webhook not applied: storage failed")
        return json_answer(503, {"error": "storage is unavailable; retry"})
    logger.info("commentsold webhook applied", extra={k: v for k, v in result.items() if k in ("result", "held")})
    return json_answer(200, result)
