"""``POST /webhooks/unleashed``: Unleashed's webhooks, verified, noted as hints for the poll.

``x-unleashed-signature`` (base64 HMAC-SHA256 of ``"{x-unleashed-timestamp}.{raw body}"``, keyed
with the subscription's signing key) is checked in constant time, and the timestamp must be within
five minutes, before anything is parsed or stored. Answers: 401 bad, missing or stale signature
(nothing stored); 400 a body that is not an event; 200 noted; 503 when storage or the secret fails.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.channels.unleashed.signing import combined, webhook_holds
from omnistock.channels.unleashed.webhooks import PayloadError, hint_of
from omnistock.handlers import Webhook, answer_webhook
from omnistock.observability import observed


def _signed(raw: bytes, given: str | None, keys: list[str]) -> bool:
    timestamp, _, signature = (given or "").partition("|")
    return webhook_holds(raw, timestamp, signature, keys, time.time())


def _apply(raw: bytes, headers: Mapping[str, str], signed: bool) -> dict[str, Any]:
    hint = hint_of(raw)
    unleashed.note_hint(runtime.app(), hint)
    return {"result": "applied", "type": hint.partition(":")[0]}


HOOK = Webhook(
    platform="unleashed",
    header="x-unleashed-signature",
    signature=lambda headers: combined(headers.get("x-unleashed-timestamp"), headers.get("x-unleashed-signature")),
    secrets=lambda refresh=False: unleashed.webhook_secrets(runtime.app(), refresh),
    check=_signed,
    apply=_apply,
    payload_errors=(PayloadError,),
    beat=lambda: runtime.app().heartbeats.beat("unleashed:delivery"),
)


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer_webhook(HOOK, event)
