"""Stream consumer: one movement-log entry (before, after, why) per committed stock change, and
the problems inbox's shortfalls (a level promising more than it counts) opened and closed.

Entries are written in stream order; if a write fails, the batch reports the first record
not written so Lambda retries from there (entries are keyed by revision: rewriting is harmless).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.errors import StoreRefused, StoreUnavailable
from omnistock.observability import logger, observed
from omnistock.store.stream import movement_from_record


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    store, problems = runtime.app().stock, runtime.app().problem_store
    for start in range(0, len(records), 25):
        chunk = records[start : start + 25]
        movements = [m for m in (movement_from_record(record) for record in chunk) if m is not None]
        try:
            store.save_movements(movements)
            problems.note_shortfalls(movements)  # the problems inbox's shortfalls, opened and closed
        except (StoreUnavailable, StoreRefused):  # a refused one ends on the failure queue after its retries
            logger.exception("movement log write failed", extra={"records_left": len(records) - start})
            return {"batchItemFailures": [{"itemIdentifier": chunk[0]["dynamodb"]["SequenceNumber"]}]}
    logger.info("movements written", extra={"records": len(records)})
    return {"batchItemFailures": []}
