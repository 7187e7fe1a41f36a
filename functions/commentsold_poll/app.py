"""Schedule (every 5 minutes): CommentSold's orders updated since the cursor and the carts it
holds now, through the same idempotent path as its webhooks (which are hints): a claim or an
order whose webhook never came is made up for, and a hold whose cart is gone is released."""

from __future__ import annotations

from functools import partial
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.commentsold import wiring as commentsold
from omnistock.handlers import run_poll
from omnistock.observability import observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = runtime.app()
    api = commentsold.api(app)
    beat = partial(app.heartbeats.beat, "commentsold:poll")
    return run_poll("commentsold", api, commentsold.intake(app).poll, context.get_remaining_time_in_millis, beat)
