"""The stream-fed movement log and the hold-expiry schedule, through their handlers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from omnistock import runtime
from omnistock.clock import iso
from omnistock.models import HoldState, MovementKind
from tests.helpers import FakeContext, load_function
from tests.integration.conftest import StreamReader


def test_every_stock_change_is_logged_with_before_after_and_why(handler_env: None, stream: StreamReader) -> None:
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    ledger.report_count("TEE", "shop", 10, 1, "pos", "count-1")
    ledger.place_hold("h1", "TEE", "shop", 2, "live", "claim-1")
    ledger.sell("TEE", "shop", 1, "shopify", "order-1")
    ledger.release_hold("h1", "live", "remove-1")
    ledger.sell("TEE", "shop", 1, "shopify", "order-1")  # duplicate: no change, no movement

    records = stream.read()
    handler = load_function("movement_log").lambda_handler
    assert handler({"Records": records}, FakeContext()) == {"batchItemFailures": []}
    handler({"Records": records}, FakeContext())  # redelivered batch: entries are rewritten, not added

    movements = list(reversed(ledger.movements("TEE", 50)))
    assert [(m.kind, m.source, m.event_id) for m in movements] == [
        (MovementKind.COUNT, "pos", "count-1"),
        (MovementKind.HOLD, "live", "claim-1"),
        (MovementKind.SALE, "shopify", "order-1"),
        (MovementKind.RELEASE, "live", "remove-1"),
    ]
    assert [(m.before.available, m.after.available) for m in movements] == [(0, 10), (10, 8), (8, 7), (7, 9)]
    assert movements[1].after.held == 2 and movements[3].after.held == 0


def test_movement_log_reports_the_first_unwritten_record(handler_env: None, stream: StreamReader) -> None:
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    for version in range(1, 4):
        ledger.report_count("TEE", "shop", version, version, "pos", f"c{version}")
    records = [r for r in stream.read() if r["dynamodb"]["Keys"]["sk"]["S"].startswith("LOC#")]
    client = runtime.app().clients.dynamodb

    def fail(**kwargs: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "InternalServerError", "Message": "x"}}, "BatchWriteItem")  # type: ignore[typeddict-item]

    client.meta.events.register("before-call.dynamodb.BatchWriteItem", fail)
    try:
        answer = load_function("movement_log").lambda_handler({"Records": records}, FakeContext())
    finally:
        client.meta.events.unregister("before-call.dynamodb.BatchWriteItem", fail)
    assert answer == {"batchItemFailures": [{"itemIdentifier": records[0]["dynamodb"]["SequenceNumber"]}]}


def test_expiry_schedule_ends_due_holds_once(handler_env: None) -> None:
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    ledger.report_count("TEE", "shop", 5, 1, "pos", "c1")
    soon = iso(datetime.now(UTC) + timedelta(milliseconds=800))
    ledger.place_hold("due", "TEE", "shop", 2, "live", "r1", expires_at=soon)
    ledger.place_hold("later", "TEE", "shop", 1, "live", "r2", minutes=30)
    time.sleep(1.0)
    handler = load_function("hold_expiry").lambda_handler
    event = {"detail-type": "Scheduled Event", "source": "aws.events", "detail": {}}
    assert handler(event, FakeContext()) == {"expired": 1, "already_ended": 0}
    assert handler(event, FakeContext()) == {"expired": 0, "already_ended": 0}
    assert ledger.hold("due").state is HoldState.EXPIRED
    stock = ledger.store.stock("TEE", "shop")
    assert stock is not None and (stock.held, stock.available) == (1, 4)


def test_sweep_reads_only_what_expired(handler_env: None) -> None:
    """Work proportional to what expired: the index query returns only due holds."""
    ledger = runtime.app().ledger
    ledger.upsert_catalog("TEE", ["shop"], {})
    ledger.report_count("TEE", "shop", 500, 1, "pos", "c1")
    soon = iso(datetime.now(UTC) + timedelta(milliseconds=600))
    for n in range(5):
        ledger.place_hold(f"due-{n}", "TEE", "shop", 1, "live", f"d{n}", expires_at=soon)
    for n in range(60):
        ledger.place_hold(f"live-{n}", "TEE", "shop", 1, "live", f"l{n}", minutes=30)
    time.sleep(0.8)
    read: list[int] = []
    client = runtime.app().clients.dynamodb

    def count_items(parsed: dict[str, Any], **kwargs: Any) -> None:
        read.append(parsed.get("ScannedCount", 0))

    client.meta.events.register("after-call.dynamodb.Query", count_items)
    try:
        report = ledger.expire_due_holds()
    finally:
        client.meta.events.unregister("after-call.dynamodb.Query", count_items)
    assert report.expired == 5
    assert sum(read) == 5
