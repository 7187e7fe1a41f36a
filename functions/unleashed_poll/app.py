"""Schedule (every 5 minutes): Unleashed's stock on hand changed since the cursor becomes master
counts for the warehouses' locations, and shipments dispatched there become fulfillments on the
orders' channels, within the month's API budget (slower from 90%, stopped before it runs out)."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.handlers import run_poll
from omnistock.observability import observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = runtime.app()
    beat = partial(app.heartbeats.beat, "unleashed:poll")
    return run_poll("unleashed", unleashed.api(app), unleashed.poll(app), context.get_remaining_time_in_millis, beat)
