"""``POST /webhooks/lightspeed``: Lightspeed X-Series webhooks, verified and applied.

The ``X-Signature`` HMAC (keyed with the app's client secret) is checked on the raw body in
constant time before anything is parsed or stored. Only signed content decides: the type is
the form's ``type`` when the whole form is signed, else the payload's shape (the subscription
URL's ``?type=`` is not signed, so it routes nothing). Answers: 401 bad or missing signature;
400 a body that is not form-encoded, a ``payload`` that is not JSON or not its type's shape;
200 applied, stale, unmapped, ignored or rejected; 503 when storage or the secret fails
(Lightspeed retries for 48 hours, and the poll makes up for what never arrives).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.lightspeed.webhooks import SIGNATURE_HEADER, PayloadError, delivery, signed_part
from omnistock.handlers import Webhook, answer_webhook
from omnistock.observability import logger, observed
from omnistock.web import loggable


def _apply(raw: bytes, headers: Mapping[str, str], signed: str) -> dict[str, Any]:
    received = delivery(raw, headers.get("content-type", ""), signed)
    logger.append_keys(type=loggable(received.type))
    return lightspeed.intake(runtime.app()).handle(received)


HOOK = Webhook(
    platform="lightspeed",
    header="X-Signature",
    signature=lambda headers: headers.get(SIGNATURE_HEADER),
    secrets=lambda refresh=False: lightspeed.webhook_secrets(runtime.app(), refresh),
    check=signed_part,
    apply=_apply,
    payload_errors=(PayloadError,),
    beat=lambda: runtime.app().heartbeats.beat("lightspeed:delivery"),
)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer_webhook(HOOK, event)
