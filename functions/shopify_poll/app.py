"""Schedule (every 5 minutes): Shopify orders updated since the cursor (minus an overlap)
through the same idempotent path as the webhooks, so a webhook that never came is made up
for; then shipments Shopify has not accepted yet are sent again."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.shopify import wiring as shopify
from omnistock.handlers import run_poll
from omnistock.observability import observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = runtime.app()
    port = shopify.orders(app)
    beat = partial(app.heartbeats.beat, "shopify:poll")
    return run_poll("shopify", port, shopify.intake(app).poll, context.get_remaining_time_in_millis, beat)
