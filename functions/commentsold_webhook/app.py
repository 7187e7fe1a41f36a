"""``POST /webhooks/commentsold``: CommentSold's live-sale webhooks, verified and applied.

The signature (an HMAC-SHA256 of the raw body; its header and encoding are configuration, as
CommentSold does not publish them) is checked in constant time before anything is parsed or
stored. A claim's answer says whether the units are held (``"held": false`` with a reason for a
sold-out or unknown item: the waitlist's cue), never an error. Answers: 401 bad or missing
signature; 400 a body that is not the assumed shape (a quantity of 0 or an absurd one, say)
or nests too deep, 413 one over 3 MB; 200 applied, refused, duplicate, ignored (signed longer
ago than the replay window) or rejected (the table cannot hold it: recorded); 503 when storage fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime, safe_json
from omnistock.channels.commentsold import wiring as commentsold
from omnistock.channels.commentsold.webhooks import verify
from omnistock.handlers import Webhook, answer_webhook
from omnistock.observability import observed


def _check(raw: bytes, signature: str | None, secrets: list[str]) -> bool:
    return verify(raw, signature, secrets, commentsold.settings(runtime.app()).signature_encoding)


def _apply(raw: bytes, headers: Mapping[str, str], _: bool) -> dict[str, Any]:
    return commentsold.intake(runtime.app()).handle(safe_json.loads(raw, safe_json.WEBHOOK_BYTES))


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    header = commentsold.settings(runtime.app()).signature_header
    hook = Webhook(
        platform="commentsold",
        header=header,
        signature=lambda headers: headers.get(header),
        secrets=lambda refresh=False: commentsold.webhook_secrets(runtime.app(), refresh),
        check=_check,
        apply=_apply,
        beat=lambda: runtime.app().heartbeats.beat("commentsold:delivery"),
    )
    return answer_webhook(hook, event)
