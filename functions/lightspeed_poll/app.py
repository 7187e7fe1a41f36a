"""Schedule (every 5 minutes): Lightspeed's products, inventory and sales changed since each
version cursor, through the same idempotent paths as its webhooks (which are hints: Lightspeed
does not guarantee delivery). A 429 stops the run; the next runs wait for its Retry-After."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.handlers import run_poll
from omnistock.observability import observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = runtime.app()
    feed = lightspeed.feed(app)
    beat = partial(app.heartbeats.beat, "lightspeed:poll")
    return run_poll("lightspeed", feed, lightspeed.intake(app).poll, context.get_remaining_time_in_millis, beat)
