"""``GET /connections`` (IAM; and for the console's signed-in staff): the connection check. Per
platform: its secrets readable, its credentials and scopes (one cheap call), its channels'
settings and their failed pushes in the last 24 hours, each with a one-line fix. A function of
its own: it alone may read every platform's secrets (the admin API reads none)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock import runtime
from omnistock.connections import diagnose
from omnistock.console_access import console_refusal
from omnistock.observability import observed
from omnistock.web import json_answer


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    refused = console_refusal(event)
    if refused is not None:
        return json_answer(refused[0], {"message": refused[1]})
    checks = diagnose(runtime.app())
    return json_answer(200, {"ok": all(check.ok for check in checks), "checks": [asdict(c) for c in checks]})
