"""ShipStation export and shipnotify costs with 50,000 orders in the table (moto, table from
template.yaml): items read per order returned, pages, and DynamoDB calls per notice.

The 50,000 orders (five a minute over a week) are written as the order store writes them (the
same items, the same counts), in batches, to keep the set-up short; the orders shipped in the
notice benchmark go through the order store itself."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.calls import CallCounter
from bench.moto_table import moto_table
from omnistock.channels.shipstation import wiring as shipstation

ORDERS = 50_000
PER_MINUTE = 5
START = datetime(2026, 11, 1, tzinfo=UTC)
NOTICES = 50


def main() -> None:
    with moto_table(clock=lambda: START + timedelta(days=8)) as (client, wiring):
        _seed(wiring.table)
        counter = CallCounter(client)
        desk = shipstation.desk(wiring)
        print(f"ShipStation export ({ORDERS} orders in the table, {PER_MINUTE} modified a minute, 100 a page)")
        _export(desk, counter, START + timedelta(days=3), 20, "100-order window")
        _export(desk, counter, START + timedelta(days=4, minutes=7), 400, "2,000-order window")
        _notices(wiring.table, desk, counter)


def _seed(table: Any) -> None:
    from omnistock.clock import iso
    from omnistock.orders import Address, ChannelOrder, OrderLine, OrderStatus
    from omnistock.store.export_store import export_log_writes
    from omnistock.store.items import order_item
    from omnistock.store.table import from_attrs

    entries, counts = [], Counter[tuple[str, str]]()
    for number in range(ORDERS):
        at = START + timedelta(seconds=60 * number // PER_MINUTE)
        order = ChannelOrder(
            "shopify",
            str(number),
            f"#{number}",
            iso(at),
            iso(at),
            (OrderLine(f"{number}-1", f"SKU-{number % 300}", "Trail Sock", 2, unit_price="12.00"),),
            financial_status="paid",
            email="buyer@example.com",
            total="24.00",
            ship_to=Address("Alex Example", "", "1 Example Street", "", "Springfield", "IL", "62701", "US"),
        )
        item = order_item(order, OrderStatus.AWAITING_SHIPMENT, iso(at), 1)
        put, *updates = export_log_writes(item, 0)
        entries.append(from_attrs(put["Put"]["Item"]))
        for update in updates:
            key = from_attrs(update["Update"]["Key"])
            counts[(key["pk"], key["sk"])] += 1
    entries += [{"pk": pk, "sk": sk, "kind": "export_count", "n": n} for (pk, sk), n in counts.items()]
    for start in range(0, len(entries), 25):
        table.batch_put(entries[start : start + 25])


def _export(desk: Any, counter: CallCounter, start: datetime, minutes: int, label: str) -> None:
    from defusedxml.ElementTree import fromstring

    fmt = "%m/%d/%Y %H:%M"
    window = (start.strftime(fmt), (start + timedelta(minutes=minutes - 1)).strftime(fmt))
    expected = minutes * PER_MINUTE
    counter.reset()
    first = desk.export(*window, "1")
    returned, read, seen = first.returned, first.items_read, _ids(fromstring(first.document))
    for page in range(2, first.pages + 2):  # one past the last: it must be empty
        found = desk.export(*window, str(page))
        returned, read = returned + found.returned, read + found.items_read
        seen += _ids(fromstring(found.document))
    pages_right = first.pages == -(-expected // 100) and len(seen) == len(set(seen)) == expected
    print(
        f"  {label}: {returned} orders in {first.pages} pages (expected {expected} in {-(-expected // 100)}), "
        f"each once: {pages_right}"
    )
    print(
        f"    items read {read} (counted by DynamoDB: {counter.items_read}), "
        f"per order returned {read / max(1, returned):.2f}; queries {counter.calls['Query']}"
    )


def _ids(root: Any) -> list[str]:
    return [order.findtext("OrderID") for order in root.findall("Order")]


def _notices(table: Any, desk: Any, counter: CallCounter) -> None:
    from omnistock.channels.shipstation.notice import NoticeItem, ShipNotice
    from omnistock.orders import ChannelOrder, OrderLine, OrderStatus

    for number in range(NOTICES):
        order = ChannelOrder(
            "shopify",
            f"n{number}",
            f"#N{number}",
            "2026-11-23T10:00:00.000Z",
            "2026-11-23T10:00:00.000Z",
            (OrderLine("1", "SKU-1", "Trail Sock", 2), OrderLine("2", "SKU-2", "Rain Shell", 1)),
            financial_status="paid",
        )
        desk.orders.save_order(order, OrderStatus.AWAITING_SHIPMENT, None, datetime(2026, 11, 23, 10, tzinfo=UTC))

    def notify(number: int) -> None:
        notice = ShipNotice(
            f"shopify:n{number}", f"#N{number}", "UPS", "Ground", f"1Z{number:08d}", "", (NoticeItem("1", "SKU-1", 2),)
        )
        desk.ship_notify(f"#N{number}", "UPS", "Ground", f"1Z{number:08d}", notice)

    for label in ("new notice", "repeated notice"):
        counter.reset()
        for number in range(NOTICES):
            notify(number)
        print(
            f"  shipnotify, {label}: {counter.total / NOTICES:.2f} DynamoDB calls "
            f"({counter.writes / NOTICES:.2f} writes) per notice"
        )
