"""The log scan itself: it finds a secret, a token or customer data wherever the code logs it
(a Powertools line, a standard log record's extras or traceback, stdout), names only its kind,
and passes what a handler logs normally. Every integration test runs under it (conftest.py)."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import boto3
import pytest

from local.send_webhook import LOCAL_WEBHOOK_SECRET
from omnistock import observability, runtime
from omnistock.channels.shopify import wiring as shopify
from tests import log_scan
from tests.helpers import ROOT, FakeContext, load_function
from tests.reliability import record

pytestmark = pytest.mark.suite("security")
SECRET_NAME = "omnistock/shopify-webhook-secret"


def sample_webhook() -> dict[str, Any]:
    event: dict[str, Any] = json.loads((ROOT / "events" / "shopify-webhook-orders-create.json").read_text())
    return event


@pytest.fixture
def webhook(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The Shopify webhook function with its signing secret stored as the stack stores it."""
    monkeypatch.setenv("SHOPIFY_WEBHOOK_SECRET_NAME", SECRET_NAME)
    boto3.client("secretsmanager").create_secret(Name=SECRET_NAME, SecretString=LOCAL_WEBHOOK_SECRET)
    runtime.app().ledger.set_channel(
        "shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1"
    )
    return load_function("shopify_webhook")


def kinds(found: list[log_scan.Finding]) -> set[str]:
    return {finding.kind for finding in found}


def test_a_handler_that_logs_its_signing_secret_is_caught(
    webhook: Any, monkeypatch: pytest.MonkeyPatch, logs_carry_no_secrets: log_scan.Capture
) -> None:
    warning = webhook.logger.warning

    def leaky(message: str, *args: Any, **kwargs: Any) -> None:  # a careless edit of the refusal log
        warning(f"{message} (expected one signed with {shopify.webhook_secrets(runtime.app())[0]})", *args, **kwargs)

    monkeypatch.setattr(webhook.logger, "warning", leaky)
    printed = io.StringIO()  # the JSON line Powertools prints, kept out of what pytest captures
    monkeypatch.setattr(webhook.logger.logger_handler, "stream", printed)
    tampered = sample_webhook() | {"body": sample_webhook()["body"] + " "}
    assert webhook.lambda_handler(tampered, FakeContext())["statusCode"] == 401
    found = logs_carry_no_secrets.findings()
    assert log_scan.Finding("Shopify webhook secret", f"a log record of {webhook.logger.name}") in found
    assert LOCAL_WEBHOOK_SECRET not in "; ".join(map(str, found))  # the report names the kind only
    assert "Shopify webhook secret" in kinds(log_scan.findings([("stdout", printed.getvalue())]))
    logs_carry_no_secrets.clear()  # planted: this test's own leak must not fail it
    record("security", checks=1)


def test_customer_data_tokens_and_tracebacks_are_caught(
    aws: None, logs_carry_no_secrets: log_scan.Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The domain's loggers print through the functions' logger: keep this test's planted lines
    # out of what pytest captures (the output scan would rightly fail on them).
    monkeypatch.setattr(observability.logger.logger_handler, "stream", io.StringIO())
    boto3.client("secretsmanager").create_secret(Name="brand-new", SecretString='{"api_key": "never-seen-before-1"}')
    log = logging.getLogger("omnistock.planted")
    log.info("order saved", extra={"ship_to": {"address1": "1 Example Street"}})
    try:
        raise ValueError("refused key never-seen-before-1")
    except ValueError:
        log.exception("call failed")
    found = {(f.kind, f.where) for f in logs_carry_no_secrets.findings()}
    assert ("street address", "a log record of omnistock.planted") in found
    assert ("secret brand-new (api_key)", "a log record of omnistock.planted") in found  # stored by a test: known
    logs_carry_no_secrets.clear()
    record("security", checks=2)


def test_what_reaches_stdout_or_stderr_is_scanned_as_pytest_captured_it() -> None:
    sections = [
        ("Captured log call", "INFO refreshed ls_access_AbCdEf0123456789xyz"),  # records are the fixture's job
        ("Captured stdout call", '{"message": "refreshed", "token": "ls_access_AbCdEf0123456789xyz"}'),
        ("Captured stderr teardown", "shipped to 1 Example Street"),
    ]
    assert [str(f) for f in log_scan.output_findings(sections)] == [
        "Lightspeed OAuth token (in stdout during call)",
        "street address (in stderr during teardown)",
    ]
    assert log_scan.output_findings([("Captured stdout call", '{"message": "shopify webhook applied"}')]) == []
    record("security", checks=2)


def test_what_a_handler_logs_normally_passes(webhook: Any, logs_carry_no_secrets: log_scan.Capture) -> None:
    answer = webhook.lambda_handler(sample_webhook(), FakeContext())
    assert answer["statusCode"] == 200, answer["body"]
    assert logs_carry_no_secrets.records  # something was captured...
    assert logs_carry_no_secrets.findings() == []  # ...and none of it is sensitive
    record("security", checks=1)


def test_every_source_of_sensitive_values_is_read() -> None:
    values = [*log_scan.development_secrets(), *log_scan.customer_data()]
    assert {
        "Shopify webhook secret",
        "CommentSold webhook secret",
        "ShipStation password",
        "Shopify access token",
        "CommentSold private key",
        "Lightspeed client secret",
        "customer email",
        "street address",
        "customer name",
    } <= {value.kind for value in values}
    assert all(len(value.value) >= log_scan.MIN_LENGTH for value in values)
    record("security", checks=len(values))


def test_output_lines_are_scanned_the_same_way() -> None:
    stored = log_scan.secret_values("omnistock/commentsold-api", '{"partner_id": "p", "private_key": "pk-0123456789"}')
    lines = ["INFO local.gateway: POST /webhooks/commentsold -> 200", "retrying with pk-0123456789"]
    assert [str(f) for f in log_scan.scan_lines(lines, stored, "the stack's output")] == [
        "secret omnistock/commentsold-api (private_key) (in the stack's output)"
    ]
    assert log_scan.scan_lines(lines[:1], stored) == []
    record("security", checks=2)
