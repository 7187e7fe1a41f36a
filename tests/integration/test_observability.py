"""Logs and business metrics: every function logs through one Powertools logger (the domain's
own loggers included) and records the metrics an operator alarms on as EMF lines, which the
stack's alarms watch by name."""

from __future__ import annotations

import io
import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from local.send_webhook import LOCAL_WEBHOOK_SECRET
from omnistock import observability, runtime
from omnistock.wiring import build
from tests.fakes import FakeChannel
from tests.helpers import ROOT, TEMPLATE, FakeContext, load_function
from tests.integration.conftest import StreamReader

SECRET_NAME = "omnistock/shopify-webhook-secret"


@pytest.fixture
def printed(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Printed:
    out = io.StringIO()
    monkeypatch.setattr(observability.logger.logger_handler, "stream", out)
    return Printed(out, capsys)


class Printed:
    """What the functions print: Powertools' JSON log lines, and the EMF metric lines."""

    def __init__(self, logs: io.StringIO, capsys: pytest.CaptureFixture[str]) -> None:
        self.logs, self.capsys, self.seen = logs, capsys, ""

    def getvalue(self) -> str:
        self.seen += self.capsys.readouterr().out
        return self.logs.getvalue() + self.seen


def emitted(out: Printed) -> dict[str, float]:
    """Metric name -> total over the EMF lines printed."""
    totals: dict[str, float] = {}
    for line in out.getvalue().splitlines():
        if '"_aws"' not in line:
            continue
        document = json.loads(line)
        (directive,) = document["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == observability.NAMESPACE and directive["Dimensions"] == [["service"]]
        assert document["service"] == "omnistock"
        for metric in directive["Metrics"]:
            totals[metric["Name"]] = totals.get(metric["Name"], 0) + sum(document[metric["Name"]])
    return totals


def shopify_event(body: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "shopify-webhook-orders-create.json").read_text())
    if body is not None:
        event["body"] = body
    return event


def test_a_refused_webhook_is_counted_and_an_applied_one_is_not(
    handler_env: None, monkeypatch: pytest.MonkeyPatch, printed: Printed
) -> None:
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET_NAME", SECRET_NAME)
    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=LOCAL_WEBHOOK_SECRET)
    runtime.app().ledger.set_channel(
        "shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1"
    )
    webhook = load_function("shopify_webhook").lambda_handler
    assert webhook(shopify_event(), FakeContext())["statusCode"] == 200
    assert observability.WEBHOOKS_REFUSED not in emitted(printed)
    assert webhook(shopify_event(shopify_event()["body"] + " "), FakeContext())["statusCode"] == 401
    assert webhook(shopify_event(shopify_event()["body"] + " "), FakeContext())["statusCode"] == 401
    assert emitted(printed)[observability.WEBHOOKS_REFUSED] == 2


def test_expired_holds_and_failed_pushes_are_counted(handler_env: None, printed: Printed, stream: StreamReader) -> None:
    deployed = runtime.app()
    deployed.ledger.upsert_catalog("TEE", ["shop"], {})
    deployed.ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    earlier = build(deployed.config, deployed.clients, clock=lambda: datetime.now(UTC) - timedelta(minutes=5))
    for n in range(3):
        earlier.ledger.place_hold(f"h{n}", "TEE", "shop", 1, "web", f"h{n}", minutes=1)
    assert load_function("hold_expiry").lambda_handler({}, FakeContext())["expired"] == 3
    assert emitted(printed)[observability.HOLDS_EXPIRED] == 3

    deployed.ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
    deployed.ledger.upsert_catalog("TEE", ["shop"], {"shopify": "gid://shopify/InventoryItem/1"})
    refusing = FakeChannel()
    refusing.unknown.add("gid://shopify/InventoryItem/1")
    deployed.ports = lambda _: refusing
    answer = load_function("push").lambda_handler({"Records": stream.read()}, FakeContext())
    assert answer == {"batchItemFailures": []}  # refused items are final: recorded, retried by reconcile
    assert emitted(printed)[observability.PUSHES_FAILED] == 1


def test_the_domain_logs_through_the_shared_logger(printed: Printed) -> None:
    logging.getLogger("omnistock.channels.shopify.intake").warning("a domain line", extra={"order": "1001"})
    (line,) = [json.loads(text) for text in printed.getvalue().splitlines() if "a domain line" in text]
    assert line["level"] == "WARNING" and line["order"] == "1001" and line["service"] == observability.logger.service


def test_the_alarms_watch_the_metrics_the_code_emits() -> None:
    from local.cfn import load_yaml

    template = load_yaml(TEMPLATE)
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    watched = {
        props["MetricName"]: props
        for props in (r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::CloudWatch::Alarm")
        if props.get("Namespace") == namespace
    }
    emitted_by_code = {observability.PUSHES_FAILED, observability.WEBHOOKS_REFUSED}
    assert emitted_by_code <= set(watched)  # the rest come from the access log's metric filters
    for name in emitted_by_code:
        assert watched[name]["Dimensions"] == [{"Name": "service", "Value": "omnistock"}]
