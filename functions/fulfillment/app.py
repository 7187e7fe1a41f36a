"""Stream consumer (the outbox): a shipment recorded in Omnistock becomes a fulfillment on the
order's channel, once. A channel that fails leaves the shipment "failed" (with the error in
the sync history); the order poll schedule sends it again."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.errors import StoreRefused, StoreUnavailable
from omnistock.observability import logger, observed
from omnistock.store.stream import new_shipment


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    failures = []
    states: dict[str, int] = {}
    for record in event.get("Records") or []:
        found = new_shipment(record)
        if found is None:
            continue
        try:
            state = runtime.app().shipment_desk.send(*found)
        except (StoreUnavailable, StoreRefused):  # a refused one ends on the failure queue after its retries
            failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
            continue
        states[state] = states.get(state, 0) + 1
    logger.info("shipments sent", extra={"states": states, "retrying": len(failures)})
    return {"batchItemFailures": failures}
