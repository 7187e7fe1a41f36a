"""Schedule (every 5 minutes): CommentSold's orders updated since the cursor and the carts it
holds now, through the same idempotent path as its webhooks (which are hints): a claim or an
order whose webhook never came is made up for, and a hold whose cart is gone is released."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels import ChannelUnavailable

logger = Logger()
SPARE_MS = 60_000  # stop starting pages a minute before the timeout; the cursor keeps the place


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    api = runtime.commentsold()
    if api is None:
        logger.info("commentsold is not configured; nothing to poll")
        return {"polled": False}
    try:
        report = runtime.commentsold_intake().poll(api, lambda: context.get_remaining_time_in_millis() < SPARE_MS)
    except ChannelUnavailable as error:  # the cursor keeps what was applied; the next run goes on
        logger.warning("commentsold poll stopped", extra={"problem": str(error)[:300]})
        return {"polled": False, "error": str(error)[:300]}
    logger.info("commentsold polled", extra=report)
    return {"polled": True, **report}
