"""The monthly bill's arithmetic (bench/cost.py) on fixed units: known units give known dollars,
twice the events cost twice as much where the bill grows with events, the prices say where they
come from, and the template's schedules are the ones measured. No moto: the measuring itself runs
in `python -m bench.cost`."""

from __future__ import annotations

from datetime import date

import pytest

from bench import cost
from bench.cost import (
    EVENTS,
    GB,
    HUNDRED_X,
    MID_SIZE,
    MONTH_SECONDS,
    PER_LINE,
    PRICES,
    Measured,
    Profile,
    Stack,
    Units,
    bill,
    monthly_events,
)

STACK = Stack(
    memory_mb={"ShopifyWebhookFunction": 1024},
    schedules={},
    secrets=2,
    alarm_metrics=3,
    alarms=2,
    custom_metrics=0,
    log_retention_days=0,
    stream_windows={},
    retention_days={},
    export_page_size=100,
)


def measured(**events: Units) -> Measured:
    """Every event kind costing nothing, but those given."""
    kinds = [
        *EVENTS,
        *(kind + PER_LINE for kind in ("web order", "order update", "POS import", "live order", "shipment")),
    ]
    return Measured(
        events={kind: events.get(kind.replace(" ", "_"), Units()) for kind in kinds},
        schedules={},
        push_sku=Units(),
        push_channel=Units(),
        reconcile_mark=Units(),
        export_page=Units(),
        export_entry=Units(),
        sku=Units(),
    )


def only_web_orders(orders: float) -> Profile:
    return Profile(
        "orders only",
        orders_per_month=orders,
        lines_per_order=0,
        pos_counts_per_month=0,
        till_sales_per_month=0,
        claims_per_month=0,
        admin_requests_per_month=0,
        skus=0,
        channels=0,
        webhooks_per_order=1,
        shipstation_polls_per_day=0,
        months_of_orders=12,
    )


def test_known_units_give_known_dollars() -> None:
    order = Units(
        write=2.0,
        read=4.0,
        requests=1.0,
        invocations={"ShopifyWebhookFunction": 1.0},
        stored={None: GB / 1_000_000},  # a million orders keep 1 GB a month, for good
    )
    result = bill(only_web_orders(1_000_000), measured(web_order=order), STACK)
    lines = {line.service: line.dollars for line in result.lines}

    assert lines["DynamoDB writes (on-demand)"] == pytest.approx(1.25)  # 2 M WRU at $0.625 a million
    assert lines["DynamoDB reads (on-demand)"] == pytest.approx(0.50)  # 4 M RRU at $0.125 a million
    assert lines["DynamoDB storage + PITR: what events keep"] == pytest.approx(12 * 0.45)  # 12 GB after a year
    assert lines["DynamoDB storage + PITR: the SKUs"] == 0
    assert lines["Lambda requests"] == pytest.approx(0.20)
    ms = cost.DURATION_MS["ShopifyWebhookFunction"]
    assert lines["Lambda duration (arm64)"] == pytest.approx(1_000_000 * ms / 1000 * 1.0 * 0.0000133334)
    assert lines["HTTP API requests"] == pytest.approx(1.00)
    logged = 1_000_000 * (cost.LOG_BYTES_PER_INVOCATION + cost.ACCESS_LOG_BYTES_PER_REQUEST) / GB
    assert lines["CloudWatch Logs ingestion"] == pytest.approx(0.50 * logged)
    assert lines["X-Ray traces"] == pytest.approx(5.00)  # under one a second: every invocation traced
    assert lines["CloudWatch alarms"] == pytest.approx(0.30)
    assert lines["Secrets Manager"] == pytest.approx(0.80)
    assert result.total == pytest.approx(sum(lines.values()))
    assert result.total - result.variable == pytest.approx(0.30 + 0.80)


def test_doubling_events_doubles_what_grows_with_them() -> None:
    every = Units(
        write=3.0,
        read=1.5,
        requests=1.0,
        invocations={"ShopifyWebhookFunction": 1.0},
        stored={30: 400.0, None: 100.0},
        changes=0.5,
        channel_calls=1.0,
    )
    events = {kind.replace(" ", "_"): every for kind in EVENTS}
    units = measured(**events)
    units.push_sku, units.push_channel = Units(read=3.0), Units(write=7.0, stored={30: 800.0})
    units.sku = Units(stored={None: 2_500.0})
    profile = MID_SIZE
    twice = profile.scaled("twice", 2, profile.skus)

    once, doubled = bill(profile, units, STACK), bill(twice, units, STACK)

    assert doubled.variable == pytest.approx(2 * once.variable)
    assert doubled.total - doubled.variable == pytest.approx(once.total - once.variable)
    assert doubled.monthly.write == pytest.approx(2 * once.monthly.write)
    assert doubled.channel_calls == pytest.approx(2 * once.channel_calls)


def test_batching_and_sampling_grow_slower_than_the_events() -> None:
    few, many = 100_000.0, 50_000_000.0  # a month: well under, and well over, one a second
    assert cost.batched(few, 1.0) == pytest.approx(few, rel=0.05)
    assert cost.batched(2 * many, 1.0) < 2 * cost.batched(many, 1.0)
    assert cost.batched(many, 0.0) == many
    assert cost.traced(few) == pytest.approx(few)
    assert cost.traced(many) == pytest.approx(MONTH_SECONDS + 0.05 * (many - MONTH_SECONDS))


def test_prices_say_where_they_come_from() -> None:
    for name, price in PRICES.items():
        assert price.source.startswith("https://aws.amazon.com/"), name
        assert date.fromisoformat(price.read_on) >= date(2024, 11, 1), name
        assert price.dollars > 0
        assert price.per in (1, 1e6)
    # On-demand throughput after the November 2024 reduction (half the earlier $1.25 and $0.25).
    assert PRICES["DynamoDB writes"].of(1_000_000) == pytest.approx(0.625)
    assert PRICES["DynamoDB reads"].of(1_000_000) == pytest.approx(0.125)


def test_a_profile_makes_its_events() -> None:
    month = monthly_events(MID_SIZE)
    assert month["web order" + PER_LINE] == 3_000 * 2.5
    assert month["release"] == 5_000 * (1 - 0.6)
    assert month["live order"] == 5_000 * 0.6 / 2
    assert month["shipment"] == 3_000 + 1_500
    assert month["order update"] == 3_000 * 3
    hundred = monthly_events(HUNDRED_X)
    assert all(hundred[kind] == pytest.approx(100 * n) for kind, n in month.items())
    assert HUNDRED_X.skus == 100_000
    assert HUNDRED_X.shipstation_polls_per_day == MID_SIZE.shipstation_polls_per_day


def test_lines_are_fitted_from_one_and_three() -> None:
    order, line = cost.fitted(Units(write=12.0, stored={30: 100.0}), Units(write=26.0, stored={30: 300.0}))
    assert (order.write, line.write) == (5.0, 7.0)
    assert (order.stored, line.stored) == ({30: 0.0}, {30: 100.0})


def test_bytes_move_to_their_retention_when_an_item_gets_one() -> None:
    before = {"hold": (880, None, "hold"), "gone": (300, None, "lot")}
    after = {"hold": (900, 30, "hold"), "new": (500, 90, "movement")}
    assert cost._stored_delta(before, after) == {None: -1_180.0, 30: 900.0, 90: 500.0}


def test_the_template_schedules_are_the_measured_ones() -> None:
    stack = cost.read_stack()
    assert set(stack.schedules) <= set(cost.SCHEDULES)
    assert stack.schedules["HoldExpiryFunction"] == pytest.approx(MONTH_SECONDS / 60)
    assert stack.retention_days["MovementRetentionDays"] == 90
    assert stack.secrets >= 1
    assert stack.memory_mb


def test_every_profile_number_is_a_flag() -> None:
    numbers = {f for f in Profile.__dataclass_fields__ if f != "name"}
    assert set(cost.FLAGS) == numbers
