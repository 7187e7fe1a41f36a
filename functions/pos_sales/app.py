"""Web orders into the POS. Three triggers, one path:

- the table's stream (the outbox): an order written (new, paid, refunded, cancelled) is brought
  into line in Lightspeed: its sales created, paid or returned, exactly once;
- the stream too: an import by hand (a ``pos_import`` job) runs a page of Shopify's orders a chunk;
- a schedule (every 5 minutes): orders whose POS documents are still unfinished (a run died, the
  POS did not answer, or it refused until a setting is fixed) are tried again.

The importer decides everything (``channels/lightspeed/web_orders.py``); this maps results."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.handlers import run_stream
from omnistock.models import POS_IMPORT
from omnistock.observability import logger, observed
from omnistock.store.stream import changed_order, job_from_record

MARGIN_MS = 20_000  # stop taking orders this long before the timeout


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    app = runtime.app()
    importer = lightspeed.web_orders(app, fresh=True)  # switched off means off now
    if "Records" not in event:  # the schedule
        report = importer.retry_unfinished(lambda: context.get_remaining_time_in_millis() < MARGIN_MS)
        logger.info("unfinished POS sales tried again", extra={"results": report})
        return {"results": report}

    def apply(record: dict[str, Any]) -> str | None:
        found, job = changed_order(record), job_from_record(record)
        if job is not None and job.purpose == POS_IMPORT:
            ran = lightspeed.backfill(app).run_chunk(job)
            return f"import {ran.state}" if ran is not None else "import chunk done before"
        return importer.sync(*found).result if found is not None else None

    return run_stream(event["Records"], apply, "web orders into the POS")
