"""Unleashed as master of its warehouses' counts (moto table from the template, the Unleashed
sandbox on loopback): signed requests, stock on hand by its modified time, all-warehouse totals
and unmapped warehouses, sold units that stay pending, and the month's call budget."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from local.sandbox.unleashed import UnleashedSandbox
from omnistock.channels import ChannelRefused
from omnistock.channels.unleashed import wiring as unleashed
from omnistock.channels.unleashed.api import UnleashedApi
from omnistock.channels.unleashed.wiring import UnleashedSettings
from omnistock.ledger import Ledger
from omnistock.orders import ChannelOrder, OrderLine
from omnistock.wiring import Wiring
from tests.fakes import Clock

NEVER = lambda: False  # noqa: E731


@pytest.fixture
def erp(wiring: Wiring, ledger: Ledger, clock: Clock) -> Iterator[UnleashedSandbox]:
    with UnleashedSandbox(warehouses=("MAIN", "OUTLET"), clock=lambda: clock().timestamp()) as sandbox:
        wiring.clients.secretsmanager.create_secret(Name="erp/api", SecretString=json.dumps(sandbox.credentials()))
        wiring.config = wiring.config.with_sections(
            UnleashedSettings(api_base=sandbox.api_base, api_secret_name="erp/api", warehouses={"MAIN": "warehouse"})
        )
        ledger.upsert_catalog("BOLT", ["warehouse"], {}, "Bolt")
        ledger.set_channel("shopify", ["warehouse"], platform="shopify", target_location="gid://shopify/Location/1")
        yield sandbox


def poll(wiring: Wiring) -> dict[str, object]:
    api = unleashed.api(wiring)
    assert api is not None
    return unleashed.intake(wiring).poll(api, NEVER)


def level(ledger: Ledger) -> tuple[int, int, int]:
    (stock,) = ledger.explain("BOLT", movement_limit=0).levels
    return stock.on_hand, stock.pending, stock.available


def test_stock_on_hand_becomes_master_counts_by_its_modified_time(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    erp.add_product("BOLT", {"MAIN": 40, "OUTLET": 7})
    erp.add_product("NUT", {"MAIN": 3})  # not in the catalog: kept until it is
    mapped = {"MAIN": "warehouse", "RETURNS": "warehouse"}  # two mapped: every row is read, in one pass
    wiring.settings.change("unleashed.warehouses", mapped, "test")
    report = poll(wiring)
    assert report["applied"] == 1 and report["parked"] == 1 and report["unmapped"] == 2, report
    assert level(ledger) == (40, 0, 40)
    unmapped = [e for e in wiring.pushes.sync_history(channel="unleashed") if e.result == "unmapped"]
    assert len(unmapped) == 1 and "OUTLET" in unmapped[0].error  # once per poll and warehouse
    clock.advance(minutes=1)
    erp.set_stock("BOLT", "MAIN", allocated=5)  # a sales order placed in Unleashed allocates 5
    report = poll(wiring)  # the overlap reads the first rows again: they change nothing
    assert level(ledger) == (35, 0, 35) and report["applied"] == 1
    assert poll(wiring)["applied"] == 0
    ledger.upsert_catalog("NUT", ["warehouse"], {}, "Nut")
    assert ledger.explain("NUT", movement_limit=0).levels[0].on_hand == 3


def test_with_one_warehouse_mapped_the_poll_reads_its_rows_only(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox
) -> None:
    erp.add_product("BOLT", {"MAIN": 40, "OUTLET": 7})
    report = poll(wiring)  # neither OUTLET's row nor the all-warehouse total is asked for
    assert (report["rows"], report["applied"], report.get("unmapped", 0)) == (1, 1, 0), report
    assert level(ledger) == (40, 0, 40)


def test_a_count_from_before_a_web_sale_never_brings_its_units_back(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    erp.add_product("BOLT", {"MAIN": 10})
    poll(wiring)
    at = "2026-11-23T12:00:00.000Z"
    line = OrderLine(line_id="1", sku="BOLT", title="Bolt", quantity=2)
    wiring.order_desk.ingest(ChannelOrder("shopify", "w-1", "#1", at, at, (line,), financial_status="paid"))
    assert level(ledger) == (10, 2, 8)
    clock.advance(minutes=1)
    erp.set_stock("BOLT", "MAIN", on_hand=11)  # a receipt of 1, counted without the web sale
    poll(wiring)
    assert level(ledger) == (11, 2, 9)  # the sold units stay off the number until confirmed


def test_every_call_is_signed_and_counted_and_the_budget_is_never_overrun(
    wiring: Wiring, ledger: Ledger, erp: UnleashedSandbox, clock: Clock
) -> None:
    erp.add_product("BOLT", {"MAIN": 10})
    wiring.settings.change("unleashed.monthly_calls", 10, "test")
    api = unleashed.api(wiring)
    assert isinstance(api, UnleashedApi)
    intake = unleashed.intake(wiring)
    intake.poll(api, NEVER)
    assert api.used() == 1 and erp.counters()["calls"] == {"2026-11": 1}
    for _ in range(8):
        clock.advance(minutes=5)
        intake.poll(api, NEVER)
    assert api.used() == 9 and api.budget_state() == "slow"
    clock.advance(minutes=5)
    assert intake.poll(api, NEVER)["budget"] == "90% used: polling every 30 minutes"
    clock.advance(minutes=30)
    intake.poll(api, NEVER)  # the tenth call, half an hour on
    assert api.budget_state() == "stopped" and api.used() == 10
    clock.advance(minutes=30)
    assert "used up" in str(intake.poll(api, NEVER)["budget"])
    assert erp.counters()["calls"] == {"2026-11": 10}  # never past the budget
    clock.advance(days=8)  # December: a new month, a new count; the cursor catches up
    erp.set_stock("BOLT", "MAIN", on_hand=4)
    intake.poll(api, NEVER)
    assert level(ledger) == (4, 0, 4) and api.used() == 1


def test_a_key_unleashed_refuses_stops_the_poll_saying_so(wiring: Wiring, erp: UnleashedSandbox) -> None:
    wiring.clients.secretsmanager.put_secret_value(
        SecretId="erp/api", SecretString=json.dumps({"api_id": erp.api_id, "api_key": "not-the-key"})
    )
    with pytest.raises(ChannelRefused, match="signature"):
        poll(wiring)
    assert erp.counters()["refused"] == 1


def test_the_connection_check_shows_the_months_calls_and_the_second_writer(
    wiring: Wiring, erp: UnleashedSandbox
) -> None:
    from omnistock.connections import diagnose

    erp.add_product("BOLT", {"MAIN": 1})
    wiring.settings.change("unleashed.monthly_calls", 1000, "test")
    poll(wiring)
    checks = {c.name: c for c in diagnose(wiring) if c.platform == "unleashed"}
    assert checks["monthly calls"].ok and checks["monthly calls"].detail == "1 calls this month of 1000 (ok)"
    assert checks["warehouses"].ok and "Export Stock On Hand" in checks["second writer"].detail


def test_webhooks_are_verified_hints_that_let_a_slowed_poll_read_at_once(
    wiring: Wiring,
    ledger: Ledger,
    erp: UnleashedSandbox,
    clock: Clock,
    handler_env: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import time

    from omnistock import runtime
    from omnistock.channels.unleashed.signing import webhook_signature
    from omnistock.channels.unleashed.webhooks import HINTS
    from tests.helpers import FakeContext, http_event, load_function

    monkeypatch.setenv("UNLEASHED_WEBHOOK_SECRET_NAME", "erp/webhook")
    wiring.clients.secretsmanager.create_secret(Name="erp/webhook", SecretString="signing-key")
    runtime.reset()
    hook = load_function("unleashed_webhook")
    body = json.dumps(
        {"eventNotificationId": "n-1", "eventType": "salesorder.updated", "data": {"salesOrderGuid": "g-1"}}
    )

    def delivery(timestamp: int, key: str = "signing-key", raw: str = body) -> dict[str, object]:
        event = http_event("POST", "/webhooks/unleashed", raw)
        signed = webhook_signature(str(timestamp), raw.encode(), key)
        event["headers"] |= {"x-unleashed-timestamp": str(timestamp), "x-unleashed-signature": signed}  # type: ignore[operator]
        return event

    now = int(time.time())
    hints = lambda: runtime.app().cursors.hints(HINTS, 10)  # noqa: E731
    assert hook.lambda_handler(delivery(now, key="not-the-key"), FakeContext())["statusCode"] == 401
    assert hook.lambda_handler(delivery(now - 301), FakeContext())["statusCode"] == 401  # a replay, outside the window
    unsigned = http_event("POST", "/webhooks/unleashed", body)
    assert hook.lambda_handler(unsigned, FakeContext())["statusCode"] == 401
    assert hints() == []  # nothing stored
    assert hook.lambda_handler(delivery(now, raw='{"nothing": 1}'), FakeContext())["statusCode"] == 400
    for _ in range(2):  # Unleashed redelivers: one hint
        assert hook.lambda_handler(delivery(now), FakeContext())["statusCode"] == 200
    assert hints() == ["salesorder.updated:g-1"]
    # the month's budget is 90% used: the poll waits half an hour between runs, unless a hint came
    from omnistock.store.quota_store import QuotaStore

    erp.add_product("BOLT", {"MAIN": 6})
    wiring.settings.change("unleashed.monthly_calls", 40, "test")
    QuotaStore(wiring.table).count("unleashed", clock().strftime("%Y-%m"), 36)
    api = unleashed.api(wiring)
    assert api is not None and api.budget_state() == "slow"
    run = unleashed.poll(wiring)
    assert run(api, NEVER)["hints"] == 1 and hints() == []  # read, and the hint dropped
    clock.advance(minutes=5)
    assert "budget" in run(api, NEVER)  # no hint: it waits
    assert hook.lambda_handler(delivery(now), FakeContext())["statusCode"] == 200
    assert run(api, NEVER)["hints"] == 1 and level(ledger) == (6, 0, 6)
