"""Logs and business metrics, in one place.

One Powertools ``Logger`` for every function (JSON lines with the invocation's context); the
domain's own ``logging.getLogger(__name__)`` loggers are routed through it, so their lines
carry the same keys. Business metrics go out as CloudWatch embedded metric format (EMF) lines
in the log, so they cost no API call: the few an operator alarms on are named here.
Handlers record metrics from the reports the domain returns; the domain never imports this.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers

NAMESPACE = "Omnistock"

# The metrics (names are the alarms' contract with template.yaml).
WEBHOOKS_REFUSED = "WebhooksRefused"  # bad signature or not a delivery: a wrong secret, or a probe
PUSHES_FAILED = "PushesFailed"  # channel writes that did not apply (reconcile retries them)
UNMAPPED = "UnmappedLines"  # deliveries naming a product, outlet or SKU the catalog does not know
HOLDS_EXPIRED = "HoldsExpired"  # carts that ran out and gave their units back
HOLDS_LEFT_DUE = "HoldsLeftDue"  # expired holds a sweep left for the next run (it ran out of time)
PUSH_LATENCY = "PushLatency"  # from the change being written to the channel being told (ms)
RECONCILE_BACKLOG = "ReconcileBacklog"  # marked SKUs a reconcile pass left for the next one

logger = Logger()
_recorder: list[Any] = []  # the Powertools Metrics, made when the first metric is recorded
logging.getLogger("omnistock")  # the domain's loggers are its children: they log through it
copy_config_to_registered_loggers(source_logger=logger, include={"omnistock"})

Handler = TypeVar("Handler", bound=Callable[..., Any])


def metrics() -> Any:
    """Powertools Metrics, imported on first use: an invocation that records none (most of them)
    does not pay for it at cold start."""
    if not _recorder:
        from aws_lambda_powertools import Metrics

        # One series per stack (template.yaml names the namespace after the stack), whichever
        # function records it: the alarms watch the stack, the log lines say which function.
        namespace = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or NAMESPACE
        _recorder.append(Metrics(namespace=namespace, service="omnistock"))
    return _recorder[0]


def count(name: str, value: int = 1) -> None:
    if value:
        metrics().add_metric(name=name, unit="Count", value=value)


def milliseconds(name: str, value: float) -> None:
    metrics().add_metric(name=name, unit="Milliseconds", value=round(value, 1))


def observed(handler: Handler) -> Handler:
    """A Lambda handler with the invocation's context in its log lines (cleared between
    invocations) and the metrics it recorded flushed as one EMF line when it ends."""
    with_context = logger.inject_lambda_context(clear_state=True)(handler)

    @wraps(handler)
    def run(event: Any, context: Any) -> Any:
        try:
            return with_context(event, context)
        finally:
            if _recorder and _recorder[0].metric_set:
                _recorder[0].flush_metrics()

    return run  # type: ignore[return-value]
