"""Paid web orders into Unleashed as sales orders. Two triggers, one path:

- the table's stream (the outbox): an order written (new, or paid now) is sent, exactly once;
- a schedule (every 5 minutes): sales orders still unfinished (a run died, Unleashed did not
  answer, or it refused until something is fixed) are tried again.

The writer decides everything (``channels/unleashed/sales_orders.py``); this maps results."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.handlers import run_stream
from omnistock.observability import logger, observed
from omnistock.store.stream import changed_order

MARGIN_MS = 20_000  # stop taking orders this long before the timeout


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    writer = unleashed.sales_orders(runtime.app(), fresh=True)  # switched off means off now
    if "Records" not in event:  # the schedule
        report = writer.retry_unfinished(lambda: context.get_remaining_time_in_millis() < MARGIN_MS)
        logger.info("unfinished Unleashed sales orders tried again", extra={"results": report})
        return {"results": report}

    def apply(record: dict[str, Any]) -> str | None:
        found = changed_order(record)
        return writer.sync(*found) if found is not None else None

    return run_stream(event["Records"], apply, "web orders into Unleashed")
