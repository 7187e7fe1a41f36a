"""Lightspeed X-Series as master of the shop's counts (moto, table from the template): counts
ordered by version, web sales pending until a count known to include them, till sales logged
and confirming imported web orders, unmapped outlets and products, the poll and its cursors."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest

from omnistock.channels.lightspeed import webhooks
from omnistock.channels.lightspeed import wiring as lightspeed
from omnistock.channels.lightspeed.intake import LightspeedIntake
from omnistock.channels.lightspeed.wiring import LightspeedSettings
from omnistock.clients import Clients
from omnistock.config import Config
from omnistock.ledger import Ledger
from omnistock.order_desk import OrderDesk
from omnistock.orders import ChannelOrder, OrderLine
from omnistock.wiring import Wiring, build
from tests.fakes import Clock
from tests.fakes import FakeLightspeedFeed as Feed
from tests.integration.conftest import TABLE

FIXTURES = Path(__file__).parent.parent / "fixtures" / "lightspeed"
OUTLET = "0924dbcd-ef11-11e9-e989-ed89c9e5529a"
PRODUCT = "0924dbcd-ef11-11e9-e989-fcc1c199e772"
SKU = "10107"


def fixture(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / f"{name}.json").read_text())


def counted(count: int, version: int, product: str = PRODUCT, outlet: str = OUTLET) -> webhooks.Delivery:
    payload = fixture("inventory.update") | {"count": count, "version": version, "product_id": product}
    payload["outlet_id"] = outlet
    return webhooks.Delivery("inventory.update", payload)


def sold(
    invoice: str, version: int, quantity: int = 1, sale_id: str = "", status: str = "CLOSED", source: str = "SHOPIFY"
) -> webhooks.Delivery:
    """A sale at the POS: an imported web order unless ``source`` is USER (the till)."""
    payload = fixture("sale.update") | {"invoice_number": invoice, "version": version, "status": status}
    payload["source"] = source
    payload["sale_date"] = "2026-11-23T11:30:00Z"
    payload["id"] = sale_id or f"sale-{invoice}"
    payload["register_sale_products"] = [{"id": "line-1", "product_id": PRODUCT, "quantity": quantity}]
    return webhooks.Delivery("sale.update", payload)


@pytest.fixture
def desk(wiring: Wiring) -> OrderDesk:
    wiring.config = wiring.config.with_sections(LightspeedSettings(outlets={OUTLET: "shop"}))
    return wiring.order_desk


@pytest.fixture
def pos(wiring: Wiring, ledger: Ledger, desk: OrderDesk, clock: Clock) -> LightspeedIntake:
    ledger.upsert_catalog(SKU, ["shop"], {}, "Post Shave Balm")
    ledger.set_channel("shopify", ["shop"], platform="shopify", target_location="gid://shopify/Location/1")
    intake = lightspeed.intake(wiring)
    intake.handle(counted(10, 100))
    return intake


def web_order(desk: OrderDesk, number: str, quantity: int, order_id: str = "") -> None:
    line = OrderLine(line_id="1", sku=SKU, title="Balm", quantity=quantity)
    at = "2026-11-23T11:00:00.000Z"
    order_id = order_id or f"web-{number}"
    desk.ingest(ChannelOrder("shopify", order_id, f"#{number}", at, at, (line,), financial_status="paid"))


def level(ledger: Ledger) -> tuple[int, int, int]:
    (stock,) = ledger.explain(SKU, movement_limit=0).levels
    return stock.on_hand, stock.pending, stock.available


def master_version(ledger: Ledger) -> int:
    (stock,) = ledger.explain(SKU, movement_limit=0).levels
    return stock.master_version or 0


def test_counts_apply_in_version_order(ledger: Ledger, pos: LightspeedIntake) -> None:
    assert pos.handle(counted(7, 300))["result"] == "applied"
    assert pos.handle(counted(9, 200))["result"] == "stale"  # late delivery of an older count
    assert pos.handle(counted(7, 300))["result"] == "stale"  # duplicate
    assert level(ledger) == (7, 0, 7)
    answer = pos.handle(counted(-2, 400))
    assert answer["result"] == "applied" and "fewer than zero" in answer["detail"]
    assert level(ledger) == (0, 0, 0)


def test_unknown_outlets_and_products_are_unmapped_and_move_nothing(
    wiring: Wiring, ledger: Ledger, pos: LightspeedIntake
) -> None:
    assert pos.handle(counted(50, 500, outlet="another-outlet"))["result"] == "unmapped"
    unknown = counted(50, 501, product="another-product")
    unknown.payload["product"] = {"sku": "NOT-IN-CATALOG"}
    assert pos.handle(unknown)["result"] == "unmapped"
    assert level(ledger) == (10, 0, 10)
    entries = wiring.pushes.sync_history(channel="lightspeed")
    assert [e.result for e in entries] == ["unmapped", "unmapped"]
    assert {e.sku for e in entries} == {SKU, "NOT-IN-CATALOG"} and "outlet" in entries[1].error
    assert ledger.store.catalog("NOT-IN-CATALOG") is None


# ---- a web sale, the POS importing it, and counts before and after, in every order
PREDATES = "a count from before the POS imported the web order"
INCLUDES = "a count that includes the imported web order"
IMPORT = "the POS's sale that imports the web order"


@pytest.mark.parametrize("order", list(itertools.permutations([PREDATES, INCLUDES, IMPORT])))
def test_web_sales_stay_pending_until_a_count_that_includes_them(
    ledger: Ledger, pos: LightspeedIntake, desk: OrderDesk, order: tuple[str, ...]
) -> None:
    web_order(desk, "1001", 2)  # on_hand 10 (v100): 2 units pending, 8 sellable
    assert level(ledger) == (10, 2, 8)
    events = {PREDATES: counted(9, 150), INCLUDES: counted(7, 220), IMPORT: sold("1001", 210, quantity=2)}
    # v150: a till sale of 1 before the import; v210: the import; v220: its inventory change.
    for name in (*order, *reversed(order)):  # then every event again, newest first
        pos.handle(events[name])
        on_hand, _pending, available = level(ledger)
        # Free units as of the count applied: the shelf, less the web sale until a count includes it.
        truth = on_hand if master_version(ledger) >= 220 else on_hand - 2
        assert available <= truth, f"{name} brought sold units back"
    assert level(ledger) == (7, 0, 7), "the web sale must end counted once, by the POS"


def test_a_count_that_includes_the_sale_before_its_confirmation_is_safe(
    ledger: Ledger, pos: LightspeedIntake, desk: OrderDesk
) -> None:
    web_order(desk, "1002", 2)
    pos.handle(counted(8, 220))  # the import's inventory change arrives before its sale
    assert level(ledger) == (8, 2, 6)  # off the number twice for now: never oversold
    assert pos.handle(sold("1002", 210, quantity=2))["confirmed_lots"] == 1
    assert level(ledger) == (8, 0, 8)


def test_a_partial_or_voided_import_leaves_the_units_pending(
    ledger: Ledger, pos: LightspeedIntake, desk: OrderDesk
) -> None:
    web_order(desk, "1003", 2)
    assert pos.handle(sold("1003", 210, quantity=1))["confirmed_lots"] == 0
    assert pos.handle(sold("1003", 211, quantity=2, sale_id="voided", status="VOIDED"))["confirmed_lots"] == 0
    pos.handle(counted(9, 220))
    assert level(ledger) == (9, 2, 7)  # 2 still pending: nothing came back


def test_a_till_sale_is_never_taken_for_an_import_whatever_its_number(
    ledger: Ledger, pos: LightspeedIntake, desk: OrderDesk
) -> None:
    """Found by the chaos replay: receipt numbers and web order numbers both count up from about
    1000, so a till receipt "1005" must not confirm web order #1005 (its units would come back)."""
    web_order(desk, "1005", 2)
    assert pos.handle(sold("1005", 210, quantity=2, source="USER"))["confirmed_lots"] == 0
    other = sold("1005", 211, quantity=2, sale_id="imported-elsewhere")
    other.payload["source_id"] = "not-this-order"
    assert pos.handle(other)["confirmed_lots"] == 0
    pos.handle(counted(8, 220))
    assert level(ledger) == (8, 2, 6)  # still pending: shown short, never back
    imported = sold("1005", 212, quantity=2, sale_id="the-import")
    imported.payload["source_id"] = "web-1005"
    assert pos.handle(imported)["confirmed_lots"] == 1
    assert level(ledger) == (8, 0, 8)


def test_a_sale_without_a_web_number_is_logged_once(ledger: Ledger, pos: LightspeedIntake) -> None:
    for _ in range(2):
        answer = pos.handle(sold("402", 210, quantity=3, source="USER"))
        assert answer == {"result": "applied", "sale": "sale-402", "confirmed_lots": 0, "unmapped_lines": 0}
    movements = [m for m in ledger.movements(SKU, 10) if m.source == "lightspeed" and m.kind.value == "sale"]
    assert len(movements) == 1 and "POS sale 402" in movements[0].note and "3 units" in movements[0].note
    assert level(ledger) == (10, 0, 10)  # the POS's count moves the number, not its sale


def test_products_map_and_unmap(ledger: Ledger, pos: LightspeedIntake) -> None:
    product = fixture("product.update") | {"id": "p-2", "sku": SKU, "version": 10}
    assert pos.handle(webhooks.Delivery("product.update", product))["result"] == "applied"
    assert pos.listings.owner("lightspeed", "p-2") == SKU
    gone = product | {"deleted_at": "2026-11-23 10:00:00", "version": 11}
    assert pos.handle(webhooks.Delivery("product.update", gone))["result"] == "unmapped"
    assert pos.listings.owner("lightspeed", "p-2") is None
    assert pos.handle(webhooks.Delivery("product.update", product))["result"] == "stale"  # a late update


# ---- the poll
def never() -> bool:
    return False


def test_the_poll_reads_each_feed_from_its_cursor(ledger: Ledger, pos: LightspeedIntake, desk: OrderDesk) -> None:
    web_order(desk, "1004", 2)
    feed = Feed()
    feed.records["products"] = [{"id": PRODUCT, "sku": SKU, "version": 5}, {"id": "p-x", "sku": "", "version": 6}]
    feed.records["inventory"] = [
        {"product_id": PRODUCT, "outlet_id": OUTLET, "inventory_level": 9, "version": 150},
        {"product_id": PRODUCT, "outlet_id": OUTLET, "inventory_level": 7, "version": 220},
        {"product_id": PRODUCT, "outlet_id": "elsewhere", "inventory_level": 3, "version": 221},
        {"product_id": PRODUCT, "outlet_id": OUTLET, "inventory_level": "x", "version": 222},
    ]
    feed.records["sales"] = [
        {"id": "s-1", "invoice_number": "1004", "outlet_id": OUTLET, "version": 210, "status": "CLOSED",
         "source": "SHOPIFY", "line_items": [{"id": "l", "product_id": PRODUCT, "quantity": 2}]},
    ]  # fmt: skip
    report = pos.poll(feed, never)
    assert report == {"products": 2, "inventory": 3, "sales": 1, "skipped": 1}
    assert level(ledger) == (7, 0, 7)
    calls = feed.calls
    assert pos.poll(feed, never) == {"products": 0, "inventory": 0, "sales": 0, "skipped": 0}
    assert feed.calls - calls == 3  # one empty page per feed: the cursors kept the place


def test_a_429_stops_the_poll_until_its_retry_after(pos: LightspeedIntake, clock: Clock) -> None:
    feed = Feed()
    feed.throttled_until = clock.now.replace(minute=7)
    report = pos.poll(feed, never)
    assert report["rate_limited_until"] == "2026-11-23T12:07:00.000Z" and feed.calls == 1
    feed.throttled_until = None
    assert pos.poll(feed, never)["rate_limited_until"] == "2026-11-23T12:07:00.000Z" and feed.calls == 1
    clock.advance(minutes=8)
    assert "rate_limited_until" not in pos.poll(feed, never) and feed.calls == 4


def test_the_poll_stops_starting_pages_when_out_of_time(pos: LightspeedIntake) -> None:
    feed = Feed()
    calls: list[int] = []

    def out_of_time() -> bool:
        calls.append(1)
        return len(calls) > 1

    feed.records["products"] = [{"id": f"p{n}", "sku": SKU, "version": n} for n in range(1, 6)]
    assert pos.poll(feed, out_of_time)["products"] == 2  # one page of two, then it stopped
    assert pos.poll(feed, never)["products"] == 3  # the next run went on from the cursor


# ---- the webhook function
def test_the_webhook_function_checks_the_signature_before_anything(
    handler_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    import boto3

    from omnistock import runtime
    from tests.helpers import FakeContext, http_event, load_function

    monkeypatch.setenv("LIGHTSPEED_WEBHOOK_SECRET_NAME", "ls-secret")
    monkeypatch.setenv("LIGHTSPEED_OUTLETS", json.dumps({OUTLET: "shop"}))
    boto3.client("secretsmanager").create_secret(Name="ls-secret", SecretString=json.dumps({"client_secret": "shh"}))
    runtime.reset()
    runtime.app().ledger.upsert_catalog(SKU, ["shop"], {})
    handler = load_function("lightspeed_webhook").lambda_handler

    def send(raw: bytes, signature: str | None, content_type: str = webhooks.FORM_TYPE) -> dict[str, Any]:
        event = http_event("POST", "/webhooks/lightspeed", raw.decode("latin-1"))
        event["headers"]["content-type"] = content_type
        if signature is not None:
            event["headers"]["x-signature"] = signature
        answer: dict[str, Any] = handler(event, FakeContext())
        return answer

    from urllib.parse import urlencode

    raw = urlencode({"payload": json.dumps(counted(6, 900).payload)}).encode()
    other = urlencode({"payload": json.dumps(counted(60, 901).payload)}).encode()
    assert send(raw, None)["statusCode"] == 401
    assert send(raw, webhooks.signature_header(raw, "wrong"))["statusCode"] == 401
    assert send(raw, webhooks.signature_header(other, "shh"))["statusCode"] == 401  # replayed onto another body
    assert runtime.app().ledger.store.stock(SKU, "shop") is None
    assert send(raw, webhooks.signature_header(raw, "shh"))["statusCode"] == 200
    assert runtime.app().ledger.store.stock(SKU, "shop").on_hand == 6  # type: ignore[union-attr]
    duplicate = json.loads(send(raw, webhooks.signature_header(raw, "shh"))["body"])
    assert duplicate["result"] == "stale"
    body = b'{"payload": {}}'
    assert send(body, webhooks.signature_header(body, "shh"), "application/json")["statusCode"] == 400
    body = b"payload=%7Bnot-json"
    assert send(body, webhooks.signature_header(body, "shh"))["statusCode"] == 400
    unknown = urlencode({"payload": json.dumps(counted(6, 902, outlet="elsewhere").payload)}).encode()
    answer = send(unknown, webhooks.signature_header(unknown, "shh"))
    assert answer["statusCode"] == 200 and json.loads(answer["body"])["result"] == "unmapped"
    assert runtime.app().ledger.store.stock(SKU, "shop").on_hand == 6  # type: ignore[union-attr]


def test_a_lease_has_one_holder_until_given_back_or_run_out(ledger: Ledger) -> None:
    from omnistock.store.locks import Leases

    leases = Leases(ledger.store.table)
    assert leases.take("token", "a", 1000, 60)
    assert not leases.take("token", "b", 1030, 60)
    leases.give_back("token", "b")  # not b's to give back
    assert not leases.take("token", "b", 1059, 60)
    assert leases.take("token", "b", 1061, 60)  # a's ran out
    leases.give_back("token", "a")  # a's lease is gone: b keeps it
    assert not leases.take("token", "c", 1062, 60)
    leases.give_back("token", "b")
    assert leases.take("token", "c", 1063, 60)


@pytest.mark.suite("POS replay")
@pytest.mark.parametrize("seed", [1])
def test_pos_counts_redelivered_out_of_order_among_web_sales_end_at_the_truth(
    dynamodb: Any, ledger: Ledger, seed: int
) -> None:
    """The benchmark's replay, smaller: POS count changes (till sales, recounts, imported web
    orders) with 30% of deliveries repeated late and out of order, interleaved with web sales
    of the same SKUs: nothing oversold, never more shown than is free, the ledger ends at the
    POS's counts with nothing pending."""
    from bench.calls import CallCounter
    from bench.pos_master import replay
    from tests.reliability import record

    on_real_time = build(Config.for_table(TABLE), Clients(dynamodb=dynamodb))  # as the benchmark runs it
    result = replay(on_real_time, CallCounter(dynamodb), 50, seed=seed, skus=4)
    repeats = result.deliveries["count repeat"] + result.deliveries["sale repeat"]
    record("POS replay", events=sum(result.deliveries.values()) + result.web_orders, duplicates=repeats)
    assert result.deliveries["count repeat"] + result.deliveries["sale repeat"] > 0 and result.web_orders > 0
    assert result.oversold_units == 0 and result.resurrections == 0
    assert result.mismatched_skus == []


# ---- from review
def test_a_product_without_a_sku_is_unmapped_until_it_has_one_and_old_news_never_wins(pos: LightspeedIntake) -> None:
    def product(version: int, sku: str, deleted: bool = False) -> webhooks.Delivery:
        body = fixture("product.update") | {"id": "p-3", "sku": sku, "version": version}
        return webhooks.Delivery("product.update", body | ({"deleted_at": "2026-11-23 10:00:00"} if deleted else {}))

    assert pos.handle(product(10, ""))["result"] == "unmapped"
    assert pos.handle(product(20, SKU))["result"] == "applied"  # a SKU later: mapped
    assert pos.handle(product(15, ""))["result"] == "unmapped"  # an older, blank version arriving late...
    assert pos.handle(product(12, SKU, deleted=True))["result"] == "unmapped"  # ...or an older delete
    assert pos.listings.owner("lightspeed", "p-3") == SKU  # changes nothing


def test_a_till_sale_is_logged_once_whichever_path_names_its_place(
    wiring: Wiring, ledger: Ledger, desk: OrderDesk, clock: Clock
) -> None:
    """The webhook names the register, the feed the outlet: with two outlets mapped, one entry."""
    ledger.upsert_catalog(SKU, ["shop", "back"], {})
    outlets = LightspeedSettings(outlets={OUTLET: "shop", "outlet-2": "back"})
    two = lightspeed.intake(build(wiring.config.with_sections(outlets), wiring.clients, clock=clock))
    two.handle(counted(10, 100))
    webhook = sold("402", 210, quantity=1, source="USER")
    feed = webhooks.Delivery("sale.update", webhook.payload | {"outlet_id": OUTLET})
    undated = webhooks.Delivery(
        "sale.update", webhook.payload | {"id": "no-date", "sale_date": None, "created_at": None}
    )
    for delivery in (webhook, feed, webhook, undated, undated):
        two.handle(delivery)
    logged = [m for m in ledger.movements(SKU, 20) if m.source == "lightspeed"]
    assert [m.event_id for m in logged] == ["sale:sale-402"]
    # it moves nothing here (the POS's count brings it): the level as it stands, not zeros
    assert logged[0].before == logged[0].after and (logged[0].after.on_hand, logged[0].after.available) == (10, 10)


def test_an_import_confirms_the_one_order_it_names_and_only_once_closed(
    ledger: Ledger, pos: LightspeedIntake, desk: OrderDesk
) -> None:
    ledger.set_channel("commentsold", ["shop"], platform="commentsold")
    web_order(desk, "1006", 2)
    line = OrderLine(line_id="1", sku=SKU, title="Balm", quantity=2)
    at = "2026-11-23T11:00:00.000Z"
    desk.ingest(ChannelOrder("commentsold", "cs-1006", "#1006", at, at, (line,)))  # the same number elsewhere
    assert level(ledger) == (10, 4, 6)
    assert pos.handle(sold("1006", 205, quantity=2, status="SAVED"))["confirmed_lots"] == 0  # parked: not taken yet
    assert pos.handle(sold("1006", 210, quantity=2))["confirmed_lots"] == 1  # SHOPIFY: the Shopify order's
    pos.handle(counted(8, 220))
    assert level(ledger) == (8, 2, 6)  # the CommentSold order's units stay pending
    ambiguous = sold("1006", 230, quantity=2, source="API")
    assert pos.handle(ambiguous)["confirmed_lots"] == 0  # two orders, no platform to tell them apart


def test_a_delivery_from_another_store_is_ignored(ledger: Ledger, pos: LightspeedIntake) -> None:
    pos.domain_prefix = "ourstore"
    theirs = webhooks.Delivery("inventory.update", counted(1, 900).payload, domain_prefix="theirstore")
    assert pos.handle(theirs)["result"] == "ignored"
    ours = webhooks.Delivery("inventory.update", counted(1, 901).payload, domain_prefix="ourstore")
    assert pos.handle(ours)["result"] == "applied"
    assert level(ledger) == (1, 0, 1)


def test_a_retry_after_past_the_quota_window_is_not_believed(pos: LightspeedIntake, clock: Clock) -> None:
    feed = Feed()
    feed.throttled_until = clock.now.replace(year=2099)
    assert pos.poll(feed, never)["rate_limited_until"] == "2026-11-23T12:15:00.000Z"


def test_a_count_before_the_sku_is_in_the_catalog_is_applied_once_it_is(wiring: Wiring, ledger: Ledger) -> None:
    """The POS counted 7 before the SKU was added: kept (the newest version), applied when the
    SKU is added at the outlet's location, by version like any count; delivered again, nothing."""
    wiring.config = wiring.config.with_sections(LightspeedSettings(outlets={OUTLET: "shop"}))
    intake = lightspeed.intake(wiring)

    def count(units: int, version: int) -> webhooks.Delivery:
        delivery = counted(units, version)
        delivery.payload["product"] = delivery.payload["product"] | {"sku": "NEW-1"}
        return delivery

    assert intake.handle(count(7, 120))["result"] == "unmapped"
    assert intake.handle(count(3, 110))["result"] == "unmapped"  # older: does not replace the kept one
    ledger.upsert_catalog("NEW-1", ["web"], {})  # not at the outlet's location: still kept
    assert wiring.stock.parked_counts("NEW-1") != []
    ledger.upsert_catalog("NEW-1", ["web", "shop"], {})
    (stock,) = [lv for lv in ledger.explain("NEW-1", movement_limit=0).levels if lv.location == "shop"]
    assert (stock.on_hand, stock.available) == (7, 7) and wiring.stock.parked_counts("NEW-1") == []
    assert intake.handle(count(3, 110))["result"] == "stale"  # a late older count changes nothing
    assert intake.handle(count(7, 120))["result"] in ("duplicate", "stale")
