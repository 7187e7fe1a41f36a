"""Stream consumer (the outbox): stock, catalog and policy changes become channel pushes; a
channel's new settings start a job that pushes everything it lists; Sync Now jobs run their
next chunk.

Only the newest value per SKU and channel goes out (the engine reads current state, once per
SKU per batch). When a channel fails as a whole, the batch is reported failed from its first
record, so Lambda retries it (bounded, bisecting) before it goes to the failure queue; the
sync history keeps the failed attempts for the reconcile schedule either way.
"""

from __future__ import annotations

import time
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.observability import PUSH_LATENCY, PUSHES_FAILED, count, logger, milliseconds, observed
from omnistock.store.stream import changed_channel, changed_sku, job_from_record, oldest_change_by_sku


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    records = event.get("Records") or []
    skus = [sku for sku in map(changed_sku, records) if sku is not None]
    jobs = [job for job in map(job_from_record, records) if job is not None]
    channels = [change for change in map(changed_channel, records) if change is not None]
    changed_at = oldest_change_by_sku(records)
    report = runtime.app().sync.on_changes(skus, jobs, channels, changed_at)
    count(PUSHES_FAILED, report.failed)
    if changed_at and report.applied:  # the oldest change of the batch: what the channel waited longest for
        milliseconds(PUSH_LATENCY, max(0.0, time.time() - min(changed_at.values())) * 1000)
    logger.info(
        "pushed",
        extra={
            "skus": len(set(skus)),
            "jobs": len(jobs),
            "calls": report.calls,
            "applied": report.applied,
            "deferred": report.deferred,
            "failed": report.failed,
        },
    )
    if report.unavailable and records:  # Lambda retries the batch (bisecting), then the failure queue
        return {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}
    return {"batchItemFailures": []}
