"""The sample events in events/ (for `sam local invoke -e`) work with their functions."""

from __future__ import annotations

import json

from omnistock import runtime
from tests.helpers import ROOT, FakeContext, load_function


def event(name: str) -> dict:
    return json.loads((ROOT / "events" / name).read_text())


def test_admin_events_in_order(handler_env: None) -> None:
    admin = load_function("admin_api").lambda_handler
    expected = {
        "admin-upsert-catalog.json": 200,
        "admin-record-count.json": 200,
        "admin-place-hold.json": 201,
        "admin-record-sale.json": 200,
        "admin-read-stock.json": 200,
    }
    for name, status in expected.items():
        response = admin(event(name), FakeContext())
        assert response["statusCode"] == status, (name, response["body"])
    stock = json.loads(admin(event("admin-read-stock.json"), FakeContext())["body"])
    shop = stock["locations"][0]
    assert (shop["on_hand"], shop["held"], shop["pending"], shop["available"]) == (12, 1, 1, 10)


def test_stream_and_schedule_events(handler_env: None) -> None:
    answer = load_function("movement_log").lambda_handler(event("movement-log-stream.json"), FakeContext())
    assert answer == {"batchItemFailures": []}
    runtime.ledger().upsert_catalog("TEE-BLK-M", ["shop"], {})
    moved = runtime.ledger().movements("TEE-BLK-M", 5)
    assert [(m.kind.value, m.before.held, m.after.held) for m in moved] == [("hold", 0, 1)]
    swept = load_function("hold_expiry").lambda_handler(event("hold-expiry-scheduled.json"), FakeContext())
    assert swept == {"expired": 0, "already_ended": 0}
