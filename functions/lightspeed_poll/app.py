"""Schedule (every 5 minutes): Lightspeed's products, inventory and sales changed since each
version cursor, through the same idempotent paths as its webhooks (which are hints: Lightspeed
does not guarantee delivery). A 429 stops the run; the next runs wait for its Retry-After."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels import ChannelUnavailable

logger = Logger()
SPARE_MS = 60_000  # stop starting pages a minute before the timeout; the cursors keep the place


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    feed = runtime.lightspeed_feed()
    if feed is None:
        logger.info("lightspeed is not connected; nothing to poll")
        return {"polled": False}
    try:
        report = runtime.lightspeed_intake().poll(feed, lambda: context.get_remaining_time_in_millis() < SPARE_MS)
    except ChannelUnavailable as error:  # the cursors keep what was applied; the next run goes on
        logger.warning("lightspeed poll stopped", extra={"problem": str(error)[:300]})
        return {"polled": False, "error": str(error)[:300]}
    logger.info("lightspeed polled", extra=report)
    return {"polled": True, **report}
