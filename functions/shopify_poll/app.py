"""Schedule (every 5 minutes): Shopify orders updated since the cursor (minus an overlap)
through the same idempotent path as the webhooks, so a webhook that never came is made up
for; then shipments Shopify has not accepted yet are sent again."""

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
    port = runtime.shopify_orders()
    if port is None:
        logger.info("shopify is not configured; nothing to poll")
        return {"polled": False}
    try:
        report = runtime.shopify_intake().poll(port, lambda: context.get_remaining_time_in_millis() < SPARE_MS)
    except ChannelUnavailable as error:  # the cursor keeps what was applied; the next run goes on
        logger.warning("shopify order poll stopped", extra={"problem": str(error)[:300]})
        return {"polled": False, "error": str(error)[:300]}
    result = {
        "polled": True,
        "pages": report.pages,
        "orders": report.orders,
        "lines_moved": report.lines_moved,
        "unreadable": report.unreadable,
        "rejected": report.rejected,
        "cursor": report.cursor,
        "shipments": report.shipments,
    }
    logger.info("shopify orders polled", extra=result)
    return result
