"""ShipStation's Custom Store URL through its handler, on moto with the table from the template.

The export is checked against the Custom Store guide's required elements, lengths and formats
(``assert_valid_export``); dates at minute boundaries, across midnight UTC and unpadded; paging
while orders change; every bad-input case; shipment notices once, partial, and unknown.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from xml.etree.ElementTree import Element

import boto3
import pytest
from defusedxml.ElementTree import fromstring
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from omnistock import runtime
from omnistock.channels.shipstation import wiring as shipstation_wiring
from omnistock.order_desk import OrderDesk
from omnistock.orders import Address, ChannelOrder, OrderLine
from omnistock.wiring import build
from tests.fakes import Clock
from tests.helpers import FakeContext, http_event, load_function

USER, PASSWORD = "shipstation", "s3cret pass"
DATE = re.compile(r"^\d{2}/\d{2}/\d{4} \d{2}:\d{2}$")
MONEY = re.compile(r"^-?\d{1,7}\.\d{2}$")
REQUIRED_ORDER = ("OrderID", "OrderNumber", "OrderDate", "OrderStatus", "LastModified", "OrderTotal")
REQUIRED_SHIP_TO = ("Name", "Address1", "City", "State", "PostalCode", "Country")
LIMITS = {"OrderID": 50, "OrderNumber": 50, "CustomerCode": 50, "Name": 200, "Address1": 200, "City": 100}


def assert_valid_export(document: str) -> Element:
    """The guide's export contract: root Orders with pages, every required element once,
    dates UTC MM/dd/yyyy HH:mm, money with two decimals, quantities 1..99999, country 2 letters."""
    assert document.startswith('<?xml version="1.0" encoding="utf-8"?>')
    root = fromstring(document.encode())
    assert root.tag == "Orders" and root.get("pages", "").isdigit()
    for order in root.findall("Order"):
        for name in REQUIRED_ORDER:
            assert len(order.findall(name)) == 1 and (order.findtext(name) or "").strip(), name
        assert DATE.match(order.findtext("OrderDate") or "") and DATE.match(order.findtext("LastModified") or "")
        for money in ("OrderTotal", "TaxAmount", "ShippingAmount"):
            assert order.find(money) is None or MONEY.match(order.findtext(money) or ""), money
        assert (order.findtext("Customer/CustomerCode") or "").strip()
        assert (order.findtext("Customer/BillTo/Name") or "").strip()
        for name in REQUIRED_SHIP_TO:
            assert order.find(f"Customer/ShipTo/{name}") is not None, name
        assert len(order.findtext("Customer/ShipTo/Country") or "") == 2
        items = order.findall("Items/Item")
        assert items
        for item in items:
            for name in ("SKU", "Name", "Quantity", "UnitPrice"):
                assert (item.findtext(name) or "").strip(), name
            assert 1 <= int(item.findtext("Quantity") or "0") <= 99_999
            assert MONEY.match(item.findtext("UnitPrice") or "")
        for element in order.iter():
            if element.tag in LIMITS:
                assert len(element.text or "") <= LIMITS[element.tag], element.tag
    return root


@pytest.fixture
def shipstation(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> Callable[..., dict[str, Any]]:
    monkeypatch.setenv("SHIPSTATION_SECRET_NAME", "omnistock/shipstation-credentials")
    monkeypatch.setenv("SHIPSTATION_PAGE_SIZE", "100")
    secret = f'{{"username": "{USER}", "password": "{PASSWORD}"}}'
    boto3.client("secretsmanager").create_secret(Name="omnistock/shipstation-credentials", SecretString=secret)
    handler = load_function("shipstation").lambda_handler

    def call(method: str = "GET", body: str | None = None, auth: str | None = "basic", **query: str) -> dict[str, Any]:
        event = http_event(method, "/shipstation", body)
        event["queryStringParameters"] = None
        event["rawQueryString"] = urlencode(query)
        if auth == "basic":
            event["headers"]["authorization"] = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
        answer: dict[str, Any] = handler(event, FakeContext())
        return answer

    return call


@pytest.fixture
def desk(handler_env: None, clock: Clock) -> OrderDesk:
    deployed = runtime.app()
    deployed.ledger.set_channel("web", ["shop"])
    return build(deployed.config, deployed.clients, clock=clock).order_desk  # the deployed wiring, on the test's clock


def place(desk: OrderDesk, number: int, *, note: str = "", lines: int = 1) -> ChannelOrder:
    order = ChannelOrder(
        channel="web",
        order_id=str(number),
        number=f"#{number}",
        created_at="2026-11-23T11:00:00.000Z",
        updated_at=f"2026-11-23T11:00:00.{number % 1000:03d}Z",
        lines=tuple(OrderLine(f"{number}-{n}", f"SKU-{n}", f"Item {n}", 2, unit_price="9.5") for n in range(lines)),
        financial_status="paid",
        email="buyer@example.com",
        note=note,
        total="19.00",
        ship_to=Address("Alex Example", "", "1 Example St", "", "Springfield", "IL", "62701", "US"),
    )
    desk.ingest(order)
    return order


def export(call: Callable[..., dict[str, Any]], start: str, end: str, page: str = "1") -> Element:
    answer = call(action="export", start_date=start, end_date=end, page=page)
    assert answer["statusCode"] == 200, answer["body"]
    assert answer["headers"]["Content-Type"].startswith("text/xml")
    return assert_valid_export(answer["body"])


def numbers(root: Element) -> list[str]:
    return [order.findtext("OrderNumber") or "" for order in root.findall("Order")]


# ==================================================================== export
def test_an_order_exports_with_every_required_element(shipstation: Any, desk: OrderDesk, clock: Clock) -> None:
    place(desk, 1, note="fragile ]]> <b>&amp; \x01 café")
    root = export(shipstation, "11/23/2026 12:00", "11/23/2026 12:00")
    (order,) = root.findall("Order")
    assert root.get("pages") == "1"
    assert order.findtext("OrderID") == "web:1" and order.findtext("OrderStatus") == "paid"
    assert order.findtext("LastModified") == "11/23/2026 12:00" and order.findtext("OrderDate") == "11/23/2026 11:00"
    assert order.findtext("CustomerNotes") == "fragile ]]> <b>&amp;  café"  # escaped; the control char dropped
    assert order.findtext("Items/Item/UnitPrice") == "9.50" and order.findtext("Items/Item/LineItemID") == "1-0"


def test_minute_boundaries_midnight_and_unpadded_dates(shipstation: Any, desk: OrderDesk, clock: Clock) -> None:
    clock.now = datetime(2026, 11, 23, 23, 59, 59, 999_000, tzinfo=UTC)
    place(desk, 1)
    clock.now = datetime(2026, 11, 24, 0, 0, 0, tzinfo=UTC)
    place(desk, 2)
    clock.now = datetime(2026, 11, 24, 8, 5, tzinfo=UTC)
    place(desk, 3)
    assert numbers(export(shipstation, "11/23/2026 23:59", "11/23/2026 23:59")) == ["#1"]  # its last millisecond
    assert numbers(export(shipstation, "11/24/2026 00:00", "11/24/2026 00:00")) == ["#2"]
    assert numbers(export(shipstation, "11/23/2026 23:58", "11/24/2026 00:01")) == ["#1", "#2"]  # across midnight
    assert numbers(export(shipstation, "11/24/2026 8:05", "11/24/2026 8:05")) == ["#3"]  # unpadded hour
    assert numbers(export(shipstation, "11/24/2026 8:05 AM", "11/24/2026 08:05:30")) == ["#3"]
    assert numbers(export(shipstation, "11/24/2026 08:06", "11/24/2026 09:00")) == []


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, "11/24/2026 00:00"),
        ("", "11/24/2026 00:00"),
        ("2026-11-24 00:00", "11/24/2026 00:01"),
        ("13/45/2026 10:00", "11/24/2026 00:01"),
        ("11/24/2026 25:00", "11/24/2026 00:01"),
        ("11/24/2026 10:00", "11/24/2026 09:00"),
        ("11/24/2026", "11/24/2026 10:00"),
    ],
)
def test_malformed_windows_are_refused_never_exported_in_full(
    shipstation: Any, desk: OrderDesk, start: str | None, end: str
) -> None:
    place(desk, 1)
    query = {"action": "export", "end_date": end} | ({"start_date": start} if start is not None else {})
    answer = shipstation(**query)
    assert answer["statusCode"] == 400 and answer["body"]


def test_pages_stay_put_while_orders_change(shipstation: Any, desk: OrderDesk, clock: Clock) -> None:
    for number in range(250):
        place(desk, number)
    window = ("11/23/2026 12:00", "11/23/2026 12:00")
    first = export(shipstation, *window)
    assert first.get("pages") == "3" and len(first.findall("Order")) == 100
    clock.advance(minutes=2)
    place(desk, 5, note="changed after page 1")  # on page 1: moves to a later window
    place(desk, 150, note="changed after page 1")  # on page 2
    second, third = (export(shipstation, *window, page=page) for page in ("2", "3"))
    seen = numbers(first) + numbers(second) + numbers(third)
    assert sorted(seen) == sorted(f"#{n}" for n in range(250))  # nothing skipped, nothing twice
    assert numbers(export(shipstation, *window, page="4")) == []  # past the last: empty and valid
    later = export(shipstation, "11/23/2026 12:02", "11/23/2026 12:02")
    assert sorted(numbers(later)) == ["#150", "#5"]


def test_an_order_changed_twice_in_a_window_is_in_the_response_once_as_it_is_now(
    shipstation: Any, desk: OrderDesk
) -> None:
    place(desk, 3)
    place(desk, 3, note="gift wrap")  # the same minute: two entries in the log, one order in the answer
    place(desk, 4)
    root = export(shipstation, "11/23/2026 12:00", "11/23/2026 12:00")
    assert numbers(root) == ["#3", "#4"]
    assert root.findall("Order")[0].findtext("CustomerNotes") == "gift wrap"


def test_the_refresh_action_exports_an_order_again(shipstation: Any, desk: OrderDesk, clock: Clock) -> None:
    place(desk, 7)
    clock.advance(hours=1)
    admin = load_function("admin_api").lambda_handler
    with_clock = shipstation_wiring.desk(runtime.app())
    with_clock.clock = clock
    answer = admin(http_event("POST", "/orders/web/7/refresh"), FakeContext())
    assert answer["statusCode"] == 200, answer["body"]
    assert numbers(export(shipstation, "11/23/2026 13:00", "11/23/2026 13:00")) == ["#7"]


def test_status_map_is_configurable(shipstation: Any, desk: OrderDesk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHIPSTATION_STATUS_MAP", "awaiting_shipment=Ready To Ship")
    runtime.reset()
    place(desk, 1)
    (order,) = export(shipstation, "11/23/2026 12:00", "11/23/2026 12:00").findall("Order")
    assert order.findtext("OrderStatus") == "Ready To Ship"


# ==================================================================== credentials and actions
def test_credentials(shipstation: Any, desk: OrderDesk) -> None:
    window = {"action": "export", "start_date": "11/23/2026 12:00", "end_date": "11/23/2026 12:00"}
    refused = shipstation(auth=None, **window)
    assert refused["statusCode"] == 401 and refused["headers"]["WWW-Authenticate"].startswith("Basic")
    assert shipstation(auth=None, **window, **{"SS-UserName": USER, "SS-Password": "wrong"})["statusCode"] == 401
    assert shipstation(auth=None, **window, **{"SS-UserName": USER, "SS-Password": PASSWORD})["statusCode"] == 200
    assert shipstation(action="import")["statusCode"] == 400
    assert shipstation(method="POST", action="export")["statusCode"] == 400


# ==================================================================== shipnotify
def notice(items: str = "", order_id: str = "web:1", tracking: str = "1Z999") -> str:
    return (
        "<?xml version='1.0' encoding='utf-8'?><ShipNotice>"
        f"<OrderNumber>#1</OrderNumber><OrderID>{order_id}</OrderID><CustomerCode>c</CustomerCode>"
        "<LabelCreateDate>11/23/2026 13:00</LabelCreateDate><ShipDate>11/23/2026</ShipDate>"
        f"<Carrier>UPS</Carrier><Service>Ground</Service><TrackingNumber>{tracking}</TrackingNumber>"
        f"<ShippingCost>5.00</ShippingCost><Items>{items}</Items></ShipNotice>"
    )


def item(line: str, qty: int) -> str:
    return f"<Item><LineItemID>{line}</LineItemID><SKU>x</SKU><Name>n</Name><Quantity>{qty}</Quantity></Item>"


def notify(call: Any, body: str, number: str = "#1", tracking: str = "1Z999") -> dict[str, Any]:
    return call(  # type: ignore[no-any-return]
        "POST",
        body,
        action="shipnotify",
        order_number=number,
        carrier="UPS",
        service="Ground",
        tracking_number=tracking,
    )


def test_a_notice_records_one_shipment_and_partial_ones_mark_only_their_lines(
    shipstation: Any, desk: OrderDesk
) -> None:
    place(desk, 1, lines=2)
    orders = runtime.app().orders
    before = orders.order("web", "1")
    first = notify(shipstation, notice(item("1-0", 2)))
    assert first["statusCode"] == 200 and first["body"] == "recorded"
    assert notify(shipstation, notice(item("1-0", 2)))["body"] == "recorded before"
    kept = orders.load("web", "1")
    assert [s.lines for s in kept.shipments] == [{"1-0": 2}]
    assert kept.stored is not None and kept.stored.status.value == "partially_shipped"
    notify(shipstation, notice(item("1-1", 2), tracking="1Z998"), tracking="1Z998")
    kept = orders.load("web", "1")
    assert kept.stored is not None and kept.stored.status.value == "shipped" and len(kept.shipments) == 2
    assert before is not None and kept.stored.modified_at != before.modified_at


def test_a_new_label_for_a_fully_shipped_order_is_refused_clearly_never_an_empty_shipment(
    shipstation: Any, desk: OrderDesk
) -> None:
    place(desk, 1)
    assert notify(shipstation, notice(item("1-0", 2)))["body"] == "recorded"
    answer = notify(shipstation, notice(tracking="1Z555"), tracking="1Z555")  # a re-ship: a new label, no items
    assert answer["statusCode"] == 400 and "already fully shipped" in answer["body"] and "1Z555" in answer["body"]
    assert [s.tracking_number for s in runtime.app().orders.load("web", "1").shipments] == ["1Z999"]
    (entry,) = [e for e in runtime.app().pushes.sync_history(channel="shipstation") if e.result == "rejected"]
    assert entry.sku == "order:web:1" and "1Z555" in entry.error  # and so in the problems inbox
    admin = load_function("admin_api").lambda_handler
    again = admin(http_event("POST", "/orders/web/1/shipments", {"shipment_id": "s-9"}), FakeContext())
    assert again["statusCode"] == 409 and "already fully shipped" in again["body"]


def test_an_unknown_order_is_refused_and_written_to_the_sync_history(shipstation: Any, desk: OrderDesk) -> None:
    answer = notify(shipstation, notice(order_id="web:404"), number="#404")
    assert answer["statusCode"] == 400 and "unknown order number" in answer["body"]
    entries = runtime.app().pushes.sync_history(channel="shipstation")
    assert [(e.result, e.why) for e in entries] == [("unknown_order", "shipnotify")]


@pytest.mark.parametrize(
    "body",
    [
        '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x "boom">]><ShipNotice><OrderID>&x;</OrderID></ShipNotice>',
        '<?xml version="1.0"?><!DOCTYPE s [<!ENTITY x SYSTEM "file:///etc/passwd">]><ShipNotice>&x;</ShipNotice>',
        '<!DOCTYPE lolz [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><ShipNotice>&b;</ShipNotice>',
        "<ShipNotice><Items><Item><Quantity>lots</Quantity></Item></Items></ShipNotice>",
        "<ShipNotice><OrderID>web:1",
        "not xml at all",
        "<Other/>",
        "<ShipNotice>" + "<X>y</X>" * 60_000 + "</ShipNotice>",
    ],
)
def test_hostile_or_malformed_notices_are_refused_and_store_nothing(
    shipstation: Any, desk: OrderDesk, body: str
) -> None:
    place(desk, 1)
    answer = notify(shipstation, body)
    assert answer["statusCode"] == 400, answer["body"]
    assert runtime.app().orders.load("web", "1").shipments == []


def test_a_notice_for_a_line_the_order_does_not_have_is_refused(shipstation: Any, desk: OrderDesk) -> None:
    place(desk, 1)
    assert notify(shipstation, notice(item("nope", 1)))["statusCode"] == 400
    assert runtime.app().orders.load("web", "1").shipments == []


def test_paging_a_window_of_several_hours(shipstation: Any, desk: OrderDesk, clock: Clock) -> None:
    """Whole hours are counted by their hour, the ends by their minutes: every page is right."""
    placed = []
    for number in range(230):
        clock.now = datetime(2026, 11, 23, 9, 40, tzinfo=UTC) + timedelta(minutes=number)  # 09:40 to 13:29
        placed.append(place(desk, number).number)
    window = ("11/23/2026 09:45", "11/23/2026 13:20")
    first = export(shipstation, *window)
    assert first.get("pages") == "3"
    pages = [first, *(export(shipstation, *window, page=page) for page in ("2", "3"))]
    seen = [number for page in pages for number in numbers(page)]
    assert seen == placed[5:221]  # oldest first, each once


TEXT = st.text(st.characters(codec="utf-8"), max_size=40)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture], derandomize=True)
@given(
    method=st.sampled_from(["GET", "POST"]),
    query=st.dictionaries(
        st.sampled_from(["action", "start_date", "end_date", "page", "order_number", "tracking_number", "carrier"]),
        st.one_of(st.sampled_from(["export", "shipnotify", "11/23/2026 12:00", "0", "99999999"]), TEXT),
    ),
    body=st.one_of(
        st.none(), TEXT, st.sampled_from(["<ShipNotice/>", "<ShipNotice><Items><Item/></Items></ShipNotice>"])
    ),
)
def test_nothing_a_caller_sends_is_a_500_or_stores_a_shipment(
    shipstation: Any, desk: OrderDesk, method: str, query: dict[str, str], body: str | None
) -> None:
    if runtime.app().orders.order("web", "1") is None:
        place(desk, 1)
    answer = shipstation(method, body, **query)
    assert answer["statusCode"] in (200, 400), answer
    assert runtime.app().orders.load("web", "1").shipments == [] or answer["statusCode"] == 200
