"""Schedule (every minute): end the holds whose expiry has passed, each exactly once, earliest
first, a page at a time; the run stops starting pages near its timeout and the next run goes on
(what is left stays in the expiry index)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.observability import HOLDS_EXPIRED, HOLDS_LEFT_DUE, count, logger, observed

# A page starts only with this much time left: a page's writes (100 holds, one transaction
# each) and the count of what is left take a few seconds at most; the timeout is 55 s.
SPARE_MS = 8_000


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = runtime.app().ledger.expire_due_holds(
        out_of_time=lambda: context.get_remaining_time_in_millis() < SPARE_MS
    )
    count(HOLDS_EXPIRED, report.expired)
    count(HOLDS_LEFT_DUE, report.left_due)
    swept = {"expired": report.expired, "already_ended": report.already_ended, "left_due": report.left_due}
    logger.info("hold sweep", extra=swept)
    return {"expired": report.expired, "already_ended": report.already_ended}
