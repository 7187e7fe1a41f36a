"""Schedule (hourly): Shopify's webhook subscriptions made and kept, every topic Omnistock
handles pointed at this stack's /webhooks/shopify (Shopify removes a subscription after
failed deliveries; the order poll covers the gap meanwhile). Also run at will: the local
stack's /_local/schedules route, or ``sam remote invoke`` after a deploy."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels import ChannelUnavailable
from omnistock.channels.shopify import wiring as shopify
from omnistock.observability import logger, observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = runtime.app()
    try:
        state = shopify.keep_subscriptions(app)
    except ChannelUnavailable as error:
        logger.warning("shopify subscriptions not checked", extra={"problem": str(error)[:300]})
        return {"checked": False, "error": str(error)[:300]}
    if state is None:
        return {"checked": False}
    found = {"created": state.created, "failed": sorted(state.failed), "missing": state.missing}
    logger.info("shopify subscriptions checked", extra={f"subscriptions_{key}": value for key, value in found.items()})
    return {"checked": True, **found}
