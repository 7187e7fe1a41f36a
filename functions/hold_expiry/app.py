"""Schedule (every minute): end the holds whose expiry has passed, each exactly once."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.observability import HOLDS_EXPIRED, count, logger, observed


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    report = runtime.app().ledger.expire_due_holds()
    count(HOLDS_EXPIRED, report.expired)
    logger.info("hold sweep", extra={"expired": report.expired, "already_ended": report.already_ended})
    return {"expired": report.expired, "already_ended": report.already_ended}
