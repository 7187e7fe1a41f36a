"""Schedule (every 5 minutes): for every pushed channel, compare what it shows with what it
should for recently moved SKUs, and repair it; failed pushes and deferred raises (past their
grace window) are retried the same way, and Sync Now jobs that stopped advancing are nudged.
Every repair lands in the sync history."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.observability import PUSHES_FAILED, count, logger, observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    reports = runtime.app().sync.reconcile_all()
    results = {
        name: {"calls": report.calls, "repaired": report.applied, "deferred": report.deferred, "failed": report.failed}
        for name, report in reports.items()
    }
    count(PUSHES_FAILED, sum(report.failed for report in reports.values()))
    logger.info("reconciled", extra={"channels": results})
    return results
