"""Schedule (every 5 minutes): for every pushed channel, compare what it shows with what it
should for recently moved SKUs, and repair it; failed pushes and deferred raises (past their
grace window) are retried the same way, and Sync Now jobs that stopped advancing are nudged.
Every repair lands in the sync history."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.observability import PUSHES_FAILED, RECONCILE_BACKLOG, count, logger, observed

# A chunk starts only with this much time left: its calls to a throttled channel may retry for
# up to about 3.5 minutes. What is left is the next pass's (the marks stay).
SPARE_MS = 240_000


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reports = runtime.app().sync.reconcile_all(lambda: context.get_remaining_time_in_millis() < SPARE_MS)
    results = {
        name: {
            "calls": report.calls,
            "repaired": report.applied,
            "deferred": report.deferred,
            "failed": report.failed,
            "backlog": report.backlog,
        }
        for name, report in reports.items()
    }
    count(PUSHES_FAILED, sum(report.failed for report in reports.values()))
    count(RECONCILE_BACKLOG, sum(report.backlog for report in reports.values()))
    logger.info("reconciled", extra={"channels": results})
    return results
