"""The monthly AWS bill of a retailer, from measured request units and published prices.

``python -m bench.cost`` prints two profiles (a mid-size shop, and 100 times its events);
``python -m bench.cost --orders-per-month 12000 --skus 20000 ...`` prints yours (flags not
given keep the mid-size shop's values). Every assumption is printed with the bill.

Measured, not assumed (in-process moto, the table from template.yaml, the intakes, desks and
stream consumers' code the functions run, bench/units.py's rules for request units):

- DynamoDB write and read request units of each event a retailer sends (a Shopify order and
  its later webhooks, a POS count, a till sale, the POS importing an order, a live-sale claim,
  its release or checkout, a ShipStation notice and export, a staff lookup), *including* what
  the stream consumers then do (the movement log, fulfillments) and what a push to one channel
  costs; the schedules' units per run (hold expiry, reconcile, the three polls);
- the Lambda invocations each event causes: its own function, and each stream consumer whose
  filter (from template.yaml) lets one of its records through;
- the bytes each event leaves in the table (items and index entries, with DynamoDB's 100
  bytes of overhead each), by how long they are kept (the ``purge_at`` the code sets, from the
  template's retention defaults), and the bytes each SKU keeps.

Assumed, and said so: durations, log bytes, how many webhooks Shopify sends an order, shares
(checkouts), X-Ray's default sampling. Free tiers are left out. Prices are us-east-1 list
prices (PRICES, each with its source and the date it was read).
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

TEMPLATE = Path(__file__).parent.parent / "template.yaml"
TABLE = "cost"
N = 3  # events of each kind measured (the units are the same each time; the mean is kept)
DAY = 86_400
MONTH_DAYS = 365 / 12
MONTH_SECONDS = MONTH_DAYS * DAY
GB = 1024**3
ITEM_OVERHEAD = 100  # bytes DynamoDB stores per item and per index entry beyond the item's size

# ---------------------------------------------------------------------------------- prices


@dataclass(frozen=True)
class Price:
    dollars: float  # for ``per`` units
    per: float
    unit: str  # what is billed, as the price list says it ("per million write request units")
    source: str
    read_on: str

    def of(self, quantity: float) -> float:
        return quantity * self.dollars / self.per


ON_DEMAND = "https://aws.amazon.com/dynamodb/pricing/on-demand/"
LAMBDA = "https://aws.amazon.com/lambda/pricing/"
CLOUDWATCH = "https://aws.amazon.com/cloudwatch/pricing/"
READ_ON = "2026-12-05"
# us-east-1 list prices, without free tiers. Each was read at its source on 2026-12-05.
PRICES: dict[str, Price] = {
    # DynamoDB on-demand, Standard table class. On 1 November 2024 on-demand throughput was halved:
    # $1.25 -> $0.625 per million WRU, $0.25 -> $0.125 per million RRU (still current, 2026-12-05).
    "DynamoDB writes": Price(0.625, 1e6, "per million write request units", ON_DEMAND, READ_ON),  # read 2026-12-05
    "DynamoDB reads": Price(0.125, 1e6, "per million read request units", ON_DEMAND, READ_ON),  # read 2026-12-05
    # Table storage (items and index entries) beyond the first 25 GB. Read 2026-12-05.
    "DynamoDB storage": Price(0.25, 1, "per GB-month", ON_DEMAND, READ_ON),
    # Continuous backups (point-in-time recovery, on in template.yaml), by table size. Read 2026-12-05.
    "DynamoDB PITR": Price(0.20, 1, "per GB-month", ON_DEMAND, READ_ON),
    # Lambda: requests, and duration on arm64 (first 7.5 billion GB-seconds a month). Read 2026-12-05.
    "Lambda requests": Price(0.20, 1e6, "per million requests", LAMBDA, READ_ON),
    "Lambda arm64": Price(0.0000133334, 1, "per GB-second", LAMBDA, READ_ON),
    # HTTP API, first 300 million requests a month (a request per 512 KB). Read 2026-12-05.
    "HTTP API": Price(1.00, 1e6, "per million requests", "https://aws.amazon.com/api-gateway/pricing/", READ_ON),
    # CloudWatch Logs, Standard class: ingestion (Lambda's logs: the first 10 TB tier) and storage. Read 2026-12-05.
    "Logs ingestion": Price(0.50, 1, "per GB ingested", CLOUDWATCH, READ_ON),
    "Logs storage": Price(0.03, 1, "per GB-month stored", CLOUDWATCH, READ_ON),
    # CloudWatch alarms (standard resolution: per metric an alarm evaluates), custom metrics. Read 2026-12-05.
    "Alarm metric": Price(0.10, 1, "per alarm metric-month", CLOUDWATCH, READ_ON),
    "Custom metric": Price(0.30, 1, "per metric-month (first 10,000)", CLOUDWATCH, READ_ON),
    # X-Ray traces recorded (the functions' tracing is Active). Read 2026-12-05.
    "X-Ray traces": Price(5.00, 1e6, "per million traces recorded", "https://aws.amazon.com/xray/pricing/", READ_ON),
    # Secrets Manager: per secret per month ($0.05 per 10,000 API calls, left out). Read 2026-12-05.
    "Secret": Price(0.40, 1, "per secret-month", "https://aws.amazon.com/secrets-manager/pricing/", READ_ON),
}


# ---------------------------------------------------------------------------------- assumptions
# Average billed duration of one invocation (ms), cold starts included. Webhooks and the admin API
# do a few DynamoDB calls; push, fulfillment and the polls wait on a platform's API.
DURATION_MS: dict[str, float] = {
    "AdminApiFunction": 60,
    "ShopifyWebhookFunction": 80,
    "CommentSoldWebhookFunction": 60,
    "LightspeedWebhookFunction": 60,
    "ShipStationFunction": 80,
    "MovementLogFunction": 40,
    "PushFunction": 400,
    "FulfillmentFunction": 800,
    "HoldExpiryFunction": 40,
    "ReconcileFunction": 300,
    "ShopifyPollFunction": 500,
    "CommentSoldPollFunction": 600,
    "LightspeedPollFunction": 800,
    "PosSalesFunction": 300,
    "UnleashedPollFunction": 500,
    "ErpOrdersFunction": 300,
}
DEFAULT_DURATION_MS = 100.0
LOG_BYTES_PER_INVOCATION = 1_500  # Lambda's JSON START/REPORT lines and one or two Powertools lines
ACCESS_LOG_BYTES_PER_REQUEST = 200  # one line of the HTTP API's access log (its format in template.yaml)
XRAY_RESERVOIR_PER_SECOND = 1.0  # X-Ray's default rule: the first request each second per function...
XRAY_FIXED_RATE = 0.05  # ...and 5% of the others


# ---------------------------------------------------------------------------------- profiles
@dataclass(frozen=True)
class Profile:
    """A retailer's month. Event counts scale with business; ``shipstation_polls_per_day`` does not."""

    name: str
    orders_per_month: float = 3_000  # web (Shopify) orders
    lines_per_order: float = 2.5
    pos_counts_per_month: float = 20_000  # POS count changes (Lightspeed inventory.update)
    till_sales_per_month: float = 10_000  # till sales (Lightspeed sale.update that only logs a movement)
    claims_per_month: float = 5_000  # live-sale cart claims (CommentSold reservation.created)
    admin_requests_per_month: float = 1_000  # staff lookups through the admin API
    skus: float = 5_000
    channels: float = 2  # channels pushed to (Shopify, CommentSold); the POS is the master, not pushed
    pushes_per_change: float = 1.0  # pushes per stock change and pushed channel (coalescing lowers it)
    checkout_share: float = 0.6  # claims that check out; the rest are released (removed or expired)
    claims_per_live_order: float = 2
    webhooks_per_order: float = 4  # orders/create, then orders/paid, orders/updated (x2)
    shipstation_polls_per_day: float = 24
    months_of_orders: float = 12  # orders are kept for good: storage after this many months

    def scaled(self, name: str, factor: float, skus: float) -> Profile:
        events = (
            "orders_per_month",
            "pos_counts_per_month",
            "till_sales_per_month",
            "claims_per_month",
            "admin_requests_per_month",
        )
        return replace(self, name=name, skus=skus, **{e: getattr(self, e) * factor for e in events})


FLAGS: dict[str, str] = {  # --flag help, by Profile field
    "orders_per_month": "web (Shopify) orders a month",
    "lines_per_order": "lines an order (each on its own SKU)",
    "pos_counts_per_month": "POS count changes a month (Lightspeed inventory.update)",
    "till_sales_per_month": "till sales a month (Lightspeed sale.update)",
    "claims_per_month": "live-sale cart claims a month (CommentSold reservation.created)",
    "admin_requests_per_month": "staff lookups a month (GET /skus/{sku})",
    "skus": "SKUs in the catalog",
    "channels": "channels pushed to (Shopify and CommentSold: 2; the POS is the master)",
    "pushes_per_change": "pushes per stock change and channel (coalescing, buffers and caps lower it)",
    "checkout_share": "share of claims that check out (the rest are released)",
    "claims_per_live_order": "claims a live-sale order checks out",
    "webhooks_per_order": "order webhooks Shopify sends an order (create, paid, updated...)",
    "shipstation_polls_per_day": "ShipStation export pulls a day",
    "months_of_orders": "months of orders kept (they are never purged)",
}
MID_SIZE = Profile("mid-size shop")
HUNDRED_X = MID_SIZE.scaled("100x (every event x 100, 100,000 SKUs)", 100, 100_000)


# ---------------------------------------------------------------------------------- units
Retention = int | None  # days an item is kept (its purge_at), None: for good


@dataclass
class Units:
    """What one event costs: request units, invocations, HTTP requests, bytes kept."""

    write: float = 0.0  # WRU, the table's and its indexes'
    read: float = 0.0  # RRU
    requests: float = 0.0  # HTTP API requests
    invocations: dict[str, float] = field(default_factory=dict)  # by function (logical id)
    stored: dict[Retention, float] = field(default_factory=dict)  # bytes, by how long they are kept
    changes: float = 0.0  # SKUs whose stock or policy changed: each is pushed to every channel
    export_entries: float = 0.0  # entries added to ShipStation's export log
    channel_calls: float = 0.0  # calls to a platform's API (not billed by AWS)

    def plus(self, other: Units, times: float = 1.0) -> Units:
        return Units(
            self.write + times * other.write,
            self.read + times * other.read,
            self.requests + times * other.requests,
            _merged(self.invocations, other.invocations, times),
            _merged(self.stored, other.stored, times),
            self.changes + times * other.changes,
            self.export_entries + times * other.export_entries,
            self.channel_calls + times * other.channel_calls,
        )

    def times(self, factor: float) -> Units:
        return Units().plus(self, factor)

    @property
    def invoked(self) -> float:
        return sum(self.invocations.values())


def _merged(a: Mapping[Any, float], b: Mapping[Any, float], times: float) -> dict[Any, float]:
    merged = dict(a)
    for key, value in b.items():
        merged[key] = merged.get(key, 0.0) + times * value
    return merged


# Kinds of event, what the profile makes of them each month, and where each one enters.
EVENTS: dict[str, str] = {
    "web order": "a Shopify order: orders/create (its lines sold)",
    "order update": "each later webhook of the order: orders/paid, orders/updated",
    "level webhook": "Shopify inventory_levels/update echoing a push",
    "sale level webhook": "Shopify inventory_levels/update after its own sale (one per line sold)",
    "POS count": "a Lightspeed count change (inventory.update)",
    "till sale": "a Lightspeed till sale (sale.update: a movement-log entry, no stock change)",
    "POS import": "the POS importing a web or live order (sale.update confirming its lines)",
    "claim": "a CommentSold cart claim (reservation.created: a hold)",
    "release": "a claim that does not check out (reservation.deleted)",
    "live order": "a CommentSold order checking out claims (order.created)",
    "shipment": "a ShipStation shipnotify, then the fulfillment (stream)",
    "admin request": "a staff lookup (GET /skus/{sku})",
}
PER_LINE = " line"  # "web order line": what each line adds to its order
# The scheduled functions measure() runs (each with nothing to do; reconcile's marks are counted apart).
KEEPER_URL = "https://api.example.com/webhooks/shopify"
SCHEDULES = (
    "ShopifySubscriptionsFunction",
    "HoldExpiryFunction",
    "ReconcileFunction",
    "ShopifyPollFunction",
    "CommentSoldPollFunction",
    "LightspeedPollFunction",
    "PosSalesFunction",
    "UnleashedPollFunction",
    "ErpOrdersFunction",
)


@dataclass
class Measured:
    """Units per event (``EVENTS``, and ``<event> line`` per line for those that have lines), per
    run of each scheduled function (by logical id), and the rest the bill needs."""

    events: dict[str, Units]
    schedules: dict[str, Units]  # per run, by function logical id
    push_sku: Units  # the push function reading one changed SKU (any channels)
    push_channel: Units  # pushing one changed SKU to one channel (sync history, marks, the call)
    reconcile_mark: Units  # reconcile verifying one SKU a push marked
    export_page: Units  # one ShipStation export request (a page), without its entries
    export_entry: Units  # each entry an export reads
    sku: Units  # what one SKU keeps (catalog, stock, listings, policies, values pushed)


# ---------------------------------------------------------------------------------- the template
@dataclass(frozen=True)
class Stack:
    """What the bill reads from template.yaml."""

    memory_mb: dict[str, int]  # by function
    schedules: dict[str, float]  # runs a month, by function
    secrets: int  # Secrets Manager secrets the stack's parameters name
    alarm_metrics: int  # metrics the alarms evaluate (a metric-math alarm: each of its metrics)
    alarms: int
    custom_metrics: int  # business metrics (EMF) and metric filters
    log_retention_days: int
    stream_windows: dict[str, float]  # a stream consumer's batching window (s), by function
    retention_days: dict[str, int]  # the template's retention defaults, by parameter
    export_page_size: int


def read_stack(path: Path = TEMPLATE) -> Stack:
    from local.cfn import load_yaml
    from local.schedules import parse_rate
    from local.template import load_template
    from omnistock import observability

    document = load_yaml(path)
    template = load_template(path)
    parameters = document["Parameters"]
    resources = document["Resources"].values()
    alarms = [r["Properties"] for r in resources if r.get("Type") == "AWS::CloudWatch::Alarm"]
    alarm_metrics = sum(sum(1 for m in a["Metrics"] if "MetricStat" in m) if "Metrics" in a else 1 for a in alarms)
    filters = sum(1 for r in resources if r.get("Type") == "AWS::Logs::MetricFilter")
    business = [v for k, v in vars(observability).items() if k.isupper() and k != "NAMESPACE" and isinstance(v, str)]
    schedules: dict[str, float] = {}
    for schedule in template.schedules:
        if schedule.enabled:
            runs = MONTH_SECONDS / parse_rate(schedule.expression)
            schedules[schedule.function] = schedules.get(schedule.function, 0.0) + runs
    retention = {name: int(spec["Default"]) for name, spec in parameters.items() if name.endswith("RetentionDays")}
    return Stack(
        memory_mb={f.logical_id: f.memory for f in template.functions},
        schedules=schedules,
        secrets=sum(1 for name in parameters if name.endswith("SecretName")),
        alarm_metrics=alarm_metrics,
        alarms=len(alarms),
        custom_metrics=len(business) + filters,
        log_retention_days=retention.pop("LogRetentionDays"),
        stream_windows={s.function: s.window_seconds for s in template.streams},
        retention_days=retention,
        export_page_size=int(parameters["ShipStationPageSize"]["Default"]),
    )


# ---------------------------------------------------------------------------------- the bill
@dataclass(frozen=True)
class Line:
    service: str
    quantity: str
    dollars: float
    variable: bool  # grows with the events (False: fixed by the stack, or by the SKUs kept)


@dataclass(frozen=True)
class Bill:
    profile: Profile
    lines: tuple[Line, ...]
    monthly: Units  # every event and schedule of the month, added up
    invocations: dict[str, float]  # by function, stream batches formed
    stored_bytes: float
    channel_calls: float  # platform API calls (measured: a push at these rates is one call)

    @property
    def total(self) -> float:
        return sum(line.dollars for line in self.lines)

    @property
    def variable(self) -> float:
        return sum(line.dollars for line in self.lines if line.variable)


def monthly_events(profile: Profile) -> dict[str, float]:
    """Events a month, by kind (and ``<kind> line``), before the level webhooks pushes cause."""
    p = profile
    web_lines = p.orders_per_month * p.lines_per_order
    checkouts = p.claims_per_month * p.checkout_share
    live_orders = checkouts / p.claims_per_live_order
    updates = p.orders_per_month * max(0.0, p.webhooks_per_order - 1)
    return {
        "web order": p.orders_per_month,
        "web order" + PER_LINE: web_lines,
        "order update": updates,
        "order update" + PER_LINE: updates * p.lines_per_order,
        "sale level webhook": web_lines,  # Shopify's own decrement of each line it sold
        "POS count": p.pos_counts_per_month,
        "till sale": p.till_sales_per_month,
        "POS import": p.orders_per_month + live_orders,
        "POS import" + PER_LINE: web_lines + checkouts,
        "claim": p.claims_per_month,
        "release": p.claims_per_month - checkouts,
        "live order": live_orders,
        "live order" + PER_LINE: checkouts,
        "shipment": p.orders_per_month + live_orders,
        "shipment" + PER_LINE: web_lines + checkouts,
        "admin request": p.admin_requests_per_month,
    }


def bill(profile: Profile, measured: Measured, stack: Stack) -> Bill:
    """The month of ``profile``: pure arithmetic over measured units, the template and PRICES."""
    p = profile
    month = Units()
    for kind, count in monthly_events(p).items():
        month = month.plus(measured.events[kind], count)
    # Every changed SKU is read once by the push function and pushed to each channel; each push to
    # Shopify comes back as an inventory_levels/update webhook; reconcile verifies each push once.
    changed = month.changes
    pushes = changed * p.channels * p.pushes_per_change
    shopify_pushes = changed * p.pushes_per_change if p.channels >= 1 else 0.0
    month = month.plus(measured.push_sku, changed).plus(measured.push_channel, pushes)
    month = month.plus(measured.events["level webhook"], shopify_pushes)
    month = month.plus(measured.reconcile_mark, pushes)
    for function, runs in stack.schedules.items():
        month = month.plus(measured.schedules[function], runs)
    # ShipStation reads the export log's new entries, a page (one request) per page size.
    polls = p.shipstation_polls_per_day * MONTH_DAYS
    entries = month.export_entries
    pages = polls * max(1, math.ceil(entries / polls / stack.export_page_size)) if polls else 0.0
    month = month.plus(measured.export_page, pages).plus(measured.export_entry, entries)

    sku_bytes = p.skus * sum(measured.sku.stored.values())
    kept_bytes = 0.0
    for kept, monthly_bytes in month.stored.items():
        kept_bytes += monthly_bytes * (p.months_of_orders if kept is None else kept / MONTH_DAYS)
    kept_bytes = max(0.0, kept_bytes)
    invocations = {fn: batched(n, stack.stream_windows.get(fn, 0.0)) for fn, n in month.invocations.items()}
    invoked = sum(invocations.values())
    gb_seconds = sum(
        n * DURATION_MS.get(fn, DEFAULT_DURATION_MS) / 1000 * stack.memory_mb.get(fn, 512) / 1024
        for fn, n in invocations.items()
    )
    log_gb = (invoked * LOG_BYTES_PER_INVOCATION + month.requests * ACCESS_LOG_BYTES_PER_REQUEST) / GB
    log_stored = log_gb * stack.log_retention_days / MONTH_DAYS
    traces = sum(traced(n) for n in invocations.values())
    price = PRICES
    per_gb = price["DynamoDB storage"].of(1) + price["DynamoDB PITR"].of(1)
    lines = (
        Line("DynamoDB writes (on-demand)", f"{_m(month.write)} WRU", price["DynamoDB writes"].of(month.write), True),
        Line("DynamoDB reads (on-demand)", f"{_m(month.read)} RRU", price["DynamoDB reads"].of(month.read), True),
        Line("DynamoDB storage + PITR: what events keep", f"{kept_bytes / GB:.2f} GB", per_gb * kept_bytes / GB, True),
        Line("DynamoDB storage + PITR: the SKUs", f"{sku_bytes / GB:.2f} GB", per_gb * sku_bytes / GB, False),
        Line("Lambda requests", f"{_m(invoked)} invocations", price["Lambda requests"].of(invoked), True),
        Line("Lambda duration (arm64)", f"{gb_seconds:,.0f} GB-s", price["Lambda arm64"].of(gb_seconds), True),
        Line("HTTP API requests", f"{_m(month.requests)} requests", price["HTTP API"].of(month.requests), True),
        Line("CloudWatch Logs ingestion", f"{log_gb:.2f} GB", price["Logs ingestion"].of(log_gb), True),
        Line(
            f"CloudWatch Logs storage ({stack.log_retention_days} days)",
            f"{log_stored:.2f} GB",
            price["Logs storage"].of(log_stored),
            True,
        ),
        Line("X-Ray traces", f"{_m(traces)} traces", price["X-Ray traces"].of(traces), True),
        Line(
            "CloudWatch alarms",
            f"{stack.alarms} alarms, {stack.alarm_metrics} metrics",
            price["Alarm metric"].of(stack.alarm_metrics),
            False,
        ),
        Line(
            "CloudWatch custom metrics",
            f"{stack.custom_metrics} metrics",
            price["Custom metric"].of(stack.custom_metrics),
            False,
        ),
        Line("Secrets Manager", f"{stack.secrets} secrets", price["Secret"].of(stack.secrets), False),
    )
    return Bill(profile, lines, month, invocations, kept_bytes + sku_bytes, month.channel_calls)


def batched(invocations: float, window_seconds: float) -> float:
    """Invocations of a stream consumer whose events would each make one, when each batch also
    takes what arrives during its batching window (the events spread evenly over the month)."""
    return invocations / (1 + invocations / MONTH_SECONDS * window_seconds)


def traced(invocations: float) -> float:
    """Traces X-Ray records of one function's month (its invocations spread evenly)."""
    rate = invocations / MONTH_SECONDS
    sampled = min(rate, XRAY_RESERVOIR_PER_SECOND) + XRAY_FIXED_RATE * max(0.0, rate - XRAY_RESERVOIR_PER_SECOND)
    return sampled * MONTH_SECONDS


def _m(value: float) -> str:
    return f"{value / 1e6:,.2f} M" if value >= 1e5 else f"{value:,.0f}"


# ---------------------------------------------------------------------------------- measuring
class _Port:
    """A channel that applies every write and counts its calls (ChannelPort and OrdersPort)."""

    max_batch = 250

    def __init__(self) -> None:
        self.calls = 0
        self.shown: dict[tuple[str, str], int] = {}

    def set_quantities(self, writes: list[Any], idempotency_key: str) -> list[Any]:
        from omnistock.channels import WriteOutcome

        self.calls += 1
        for w in writes:
            self.shown[w.listing_id, w.location_id] = w.quantity
        return [WriteOutcome(w.listing_id, w.location_id, applied=True) for w in writes]

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        self.calls += 1
        return {item: self.shown[item] for item in items if item in self.shown}

    def fulfil(self, request: Any) -> str:
        self.calls += 1
        return f"gid://shopify/Fulfillment/{self.calls}"

    def orders_since(self, since: str, after: str | None) -> tuple[list[dict[str, object]], str | None]:
        self.calls += 1
        return [], None

    def order_of_fulfillment_order(self, fulfillment_order: str) -> dict[str, Any] | None:
        self.calls += 1
        return None

    # Shopify's webhook subscriptions: every one in place (the keeper's steady state)
    def graphql(self, operation: str, query: str, variables: dict[str, Any], **_: Any) -> Any:
        from omnistock.channels.shopify.subscriptions import NEEDED

        self.calls += 1
        return {"webhookSubscriptions": {"nodes": [{"topic": topic, "uri": KEEPER_URL} for topic in NEEDED]}}

    # CommentSold's poll
    def reservations(self, page: int) -> tuple[list[dict[str, Any]], bool]:
        self.calls += 1
        return [], False

    def orders_since_epoch(self, since_epoch: int, page: int) -> tuple[list[dict[str, Any]], bool]:
        self.calls += 1
        return [], False

    # Lightspeed's poll
    def changes(self, collection: str, after: int) -> Any:
        from omnistock.channels.lightspeed.feed import FeedPage

        self.calls += 1
        return FeedPage([], after)


class _CommentSoldPolls:
    def __init__(self, port: _Port) -> None:
        self.port = port

    def reservations(self, page: int) -> tuple[list[dict[str, Any]], bool]:
        return self.port.reservations(page)

    def orders_since(self, since_epoch: int, page: int) -> tuple[list[dict[str, Any]], bool]:
        return self.port.orders_since_epoch(since_epoch, page)


class _Meter:
    """Runs events on the table and says what each cost, stream consumers included."""

    def __init__(self, client: Any, wiring: Any, clock: Callable[[], datetime], port: _Port) -> None:
        import boto3

        from bench.calls import CallCounter
        from local.streams import StreamReader
        from local.template import load_template

        self.wiring, self.clock, self.port = wiring, clock, port
        self.counter = CallCounter(client, units=True)
        assert self.counter.meter is not None
        self.schema = self.counter.meter.schema(TABLE)
        self.region = client.meta.region_name
        streams = boto3.client("dynamodbstreams", region_name=client.meta.region_name)
        self.arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self.reader = StreamReader(streams, self.arn, "LATEST")
        self.reader.open()
        self.consumers = list(load_template(TEMPLATE).streams)

    # ---- one window of events
    def measure(self, event: Callable[[int], Any], function: str | None, requests: float = 1.0) -> Units:
        """The mean of N events ``event(i)``, each entering through ``function`` (an HTTP request
        each unless ``requests`` says otherwise), then the stream's consumers."""
        return self.deliveries(lambda i: [lambda: event(i)], function, requests)

    def deliveries(
        self, event: Callable[[int], list[Callable[[], Any]]], function: str | None, requests: float = 1.0
    ) -> Units:
        """The mean of N events made of several deliveries each (``event(i)`` lists them)."""
        self.drain()
        before = self.snapshot()
        total = Units()
        for i in range(N):
            for delivery in event(i):
                total = total.plus(self.one(delivery, function, requests))
        after = self.snapshot()
        total.stored = _stored_delta(before, after)
        total.export_entries = sum(
            1 for key, (_, _, kind) in after.items() if kind == "export_entry" and key not in before
        )
        return total.times(1 / N)

    def one(self, event: Callable[[], Any], function: str | None, requests: float = 1.0) -> Units:
        calls = self.port.calls
        self.counter.reset()
        event()
        units = self._taken(Units(requests=requests if function else 0.0))
        if function:
            units.invocations[function] = 1.0
        rounds = 0
        while records := self._records():
            rounds += 1
            assert rounds < 5, "the stream consumers keep writing"
            units = self._consume(records, units)
        units.channel_calls = self.port.calls - calls
        return units

    def _taken(self, units: Units) -> Units:
        usage = self.counter.usage
        units.write += usage.total_write_units
        units.read += usage.read_units
        return units

    def _records(self) -> list[dict[str, Any]]:
        from local.streams import lambda_record

        return [lambda_record(raw, self.arn, "us-east-1") for raw in self.reader.read()]

    def _consume(self, records: list[dict[str, Any]], units: Units) -> Units:
        """Each consumer gets the records its filter passes, in one batch (an event's records are
        written together): one invocation. The push function is only counted here (what a push
        costs is measured once, per SKU and per channel); the others run."""
        from local.filters import any_filter_matches
        from omnistock.store.stream import changed_sku, movement_from_record, new_shipment

        for spec in self.consumers:
            passed = [r for r in records if any_filter_matches(spec.filters, r)]
            if not passed:
                continue
            batches = math.ceil(len(passed) / spec.batch_size)
            units.invocations[spec.function] = units.invocations.get(spec.function, 0.0) + batches
            self.counter.reset()
            if spec.function == "PushFunction":
                units.changes += len({sku for sku in map(changed_sku, passed) if sku})
            elif spec.function == "MovementLogFunction":
                movements = [m for m in map(movement_from_record, passed) if m is not None]
                for start in range(0, len(movements), 25):
                    self.wiring.stock.save_movements(movements[start : start + 25])
            elif spec.function == "FulfillmentFunction":
                for record in passed:
                    if (found := new_shipment(record)) is not None:
                        self.wiring.shipment_desk.send(*found)
            else:
                raise AssertionError(f"a stream consumer this bill does not know: {spec.function}")
            units = self._taken(units)
        return units

    def drain(self) -> None:
        """Forget the stream records of set-up work."""
        while self._records():
            pass

    # ---- bytes kept
    def snapshot(self) -> dict[str, tuple[int, Retention, str]]:
        """Every item: (bytes stored with its index entries, days kept, kind). Read from moto's
        own store, as a Scan would return it (a Scan through the API costs seconds)."""
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends

        from bench.units import item_size

        now = self.clock().timestamp()
        found: dict[str, tuple[int, Retention, str]] = {}
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][self.region].get_table(TABLE)
        for stored in table.all_items():
            item = stored.to_json()["Attributes"]
            size = item_size(item) + ITEM_OVERHEAD
            for index in self.schema.indexes:
                entry = index.entry(item, self.schema.key_names)
                size += item_size(entry) + ITEM_OVERHEAD if entry else 0
            purge = item.get("purge_at", {}).get("N")
            kept = round((float(purge) - now) / DAY) if purge else None
            found[item["pk"]["S"] + "\x00" + item["sk"]["S"]] = (size, kept, item.get("kind", {}).get("S", ""))
        return found


def _stored_delta(
    before: Mapping[str, tuple[int, Retention, str]], after: Mapping[str, tuple[int, Retention, str]]
) -> dict[Retention, float]:
    """Bytes added (or removed) by how long they are kept: an item whose ``purge_at`` was set
    (a hold that ended) moves from "for good" to its retention."""
    delta: dict[Retention, float] = {}
    for key in before.keys() | after.keys():
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is not None:
            delta[old[1]] = delta.get(old[1], 0.0) - old[0]
        if new is not None:
            delta[new[1]] = delta.get(new[1], 0.0) + new[0]
    return {kept: n for kept, n in delta.items() if n}


def fitted(one: Units, three: Units) -> tuple[Units, Units]:
    """(the event without lines, each line) from the same event with one line and with three."""
    line = three.plus(one, -1).times(0.5)
    return one.plus(line, -1), line


LOCATION, OUTLET = "shop", "outlet-shop"
SHOP_LOCATION = "gid://shopify/Location/1"
FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures"


@contextmanager
def _world(stack: Stack) -> Iterator[tuple[_Meter, Any, Any]]:
    """The table, the stack's wiring (retention from the template's defaults, channels that
    apply every write), a Shopify and a CommentSold channel, and a meter."""
    import json

    from bench.moto_table import moto_table
    from omnistock.channels.lightspeed.wiring import LightspeedSettings
    from omnistock.clients import Clients
    from omnistock.config import Config
    from omnistock.wiring import build

    days = stack.retention_days
    now = [datetime(2026, 11, 23, 12, 0, tzinfo=UTC)]

    def clock() -> datetime:
        return now[0]

    with moto_table(TABLE, clock=clock) as (client, _):
        config = Config.for_table(
            TABLE,
            LightspeedSettings(outlets={OUTLET: LOCATION}),
            movement_retention_days=days["MovementRetentionDays"],
            dedupe_retention_days=days["DedupeRetentionDays"],
            sync_retention_days=days["SyncRetentionDays"],
            export_retention_days=days["ExportRetentionDays"],
        )
        port = _Port()
        wiring = build(config, Clients(dynamodb=client), clock=clock, ports=lambda _: port, orders_ports=lambda _: port)
        wiring.ledger.set_channel("shopify", [LOCATION], platform="shopify", target_location=SHOP_LOCATION)
        wiring.ledger.set_channel("live", [LOCATION], platform="commentsold")
        fixtures = {
            name: json.loads((FIXTURES / name).read_text())
            for name in (
                "shopify/orders_create.json",
                "lightspeed/inventory.update.json",
                "lightspeed/sale.update.json",
            )
        }
        meter = _Meter(client, wiring, clock, port)
        yield meter, wiring, fixtures


def measure(stack: Stack) -> Measured:
    """Every event of ``EVENTS``, the schedules, pushes and SKUs, measured on moto."""
    from omnistock.channels.commentsold import wiring as commentsold
    from omnistock.channels.lightspeed import wiring as lightspeed
    from omnistock.channels.lightspeed.webhooks import Delivery as PosDelivery
    from omnistock.channels.shipstation import wiring as shipstation
    from omnistock.channels.shipstation.notice import ShipNotice
    from omnistock.channels.shopify import wiring as shopify
    from omnistock.channels.shopify.intake import Delivery as ShopifyDelivery
    from omnistock.channels.unleashed import wiring as unleashed

    with _world(stack) as (meter, wiring, fixtures):
        ledger, now = wiring.ledger, meter.clock()
        shop, pos, live = shopify.intake(wiring), lightspeed.intake(wiring), commentsold.intake(wiring)
        unleashed_intake = unleashed.intake(wiring)
        desk = shipstation.desk(wiring)
        version = [1_000_000]
        made = [0]

        def next_version() -> int:
            version[0] += 1
            return version[0]

        def count(sku: str, on_hand: int) -> None:
            payload = fixtures["lightspeed/inventory.update.json"] | {"product_id": f"p-{sku}", "outlet_id": OUTLET}
            payload |= {"count": on_hand, "version": next_version(), "product": {"id": f"p-{sku}", "sku": sku}}
            pos.handle(PosDelivery("inventory.update", payload))

        def new_sku() -> str:
            made[0] += 1
            sku = f"S{made[0]}"
            ledger.upsert_catalog(sku, [LOCATION], {"shopify": f"gid://shopify/InventoryItem/{made[0]}", "live": sku})
            count(sku, 100_000)
            wiring.sync.on_changes([sku], [], [])  # its first push to both channels
            return sku

        skus = [new_sku() for _ in range(3 * N)]
        sku_units = meter.measure(lambda i: new_sku(), None)
        sku_units = Units(stored={None: sku_units.stored.get(None, 0.0)})  # what it keeps for good
        # A POS count of a SKU with nothing pending (most counts: a till sale, a recount, a delivery)
        pos_count = meter.measure(lambda i: count(skus[i], 90_000 - i), "LightspeedWebhookFunction")

        # ---- Shopify orders: created, then updated; lines on different SKUs
        orders: dict[str, list[str]] = {}

        def shopify_order(number: str, lines: int, minute: int) -> dict[str, Any]:
            body = dict(fixtures["shopify/orders_create.json"])
            at = (now + timedelta(minutes=minute)).strftime("%Y-%m-%dT%H:%M:%S+00:00")
            template = body["line_items"][0]
            chosen = orders.setdefault(number, [skus[(len(orders) + k) % len(skus)] for k in range(lines)])
            body |= {
                "id": int(number),
                "admin_graphql_api_id": f"gid://shopify/Order/{number}",
                "name": f"#{number}",
                "order_number": int(number),
                "financial_status": "paid",
                "created_at": at if minute == 0 else body["created_at"],
                "updated_at": at,
                "line_items": [
                    template | {"id": int(number) * 10 + k, "sku": sku, "quantity": 1, "current_quantity": 1}
                    for k, sku in enumerate(chosen)
                ],
                "refunds": [],
                "fulfillments": [],
            }
            return body

        def web_order(number: str, lines: int, minute: int = 0) -> None:
            topic = "orders/create" if minute == 0 else "orders/updated"
            shop.handle(ShopifyDelivery(topic, shopify_order(number, lines, minute), f"w{number}-{minute}"))

        web, update, pos_import, shipment = {}, {}, {}, {}
        for lines in (1, 3):
            base = 5_000_000 + 1_000 * lines

            def created(i: int, b: int = base, n: int = lines) -> None:
                web_order(str(b + i), n)

            def updated(i: int, b: int = base, n: int = lines) -> None:
                web_order(str(b + i), n, minute=1)

            web[lines] = meter.measure(created, "ShopifyWebhookFunction")
            update[lines] = meter.measure(updated, "ShopifyWebhookFunction")

            def imported(i: int, b: int = base) -> list[Callable[[], Any]]:
                """The POS's sale.update, then the count it brings for each line (which clears the lots)."""
                number = str(b + i)
                sale = fixtures["lightspeed/sale.update.json"] | {"id": f"sale-{number}", "invoice_number": number}
                sale |= {"version": next_version(), "sale_date": "2026-11-23T12:00:00Z", "register_id": "r"}
                sale |= {"source": "SHOPIFY", "status": "CLOSED"}
                sale["register_sale_products"] = [
                    {"id": str(k), "product_id": f"p-{sku}", "quantity": 1} for k, sku in enumerate(orders[number])
                ]
                steps: list[Callable[[], Any]] = [lambda: pos.handle(PosDelivery("sale.update", sale))]
                steps += [partial(count, sku, 80_000 - i) for sku in orders[number]]
                return steps

            # The counts are among the POS's count changes: the import keeps only what they cost more
            # than a count with nothing pending.
            measured = meter.deliveries(imported, "LightspeedWebhookFunction")
            pos_import[lines] = measured.plus(pos_count, -lines)

            def shipped(i: int, b: int = base) -> None:
                number = str(b + i)
                notice = ShipNotice(f"shopify:{number}", f"#{number}", "UPS", "Ground", f"1Z{number}", "", ())
                desk.ship_notify(f"#{number}", "UPS", "Ground", f"1Z{number}", notice)

            shipment[lines] = meter.measure(shipped, "ShipStationFunction")

        def level(i: int, sold: int = 0) -> None:
            """Shopify reporting the number last pushed (an echo), or that less what it sold."""
            item = int(skus[i].removeprefix("S"))
            body = {
                "inventory_item_id": item,
                "location_id": int(SHOP_LOCATION.rsplit("/", 1)[1]),
                "available": meter.port.shown[f"gid://shopify/InventoryItem/{item}", SHOP_LOCATION] - sold,
                "updated_at": (now + timedelta(seconds=i + 10 * sold)).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            }
            shop.handle(ShopifyDelivery("inventory_levels/update", body, f"level-{i}-{sold}"))

        level_units = meter.measure(level, "ShopifyWebhookFunction")
        sale_level = meter.measure(lambda i: level(i, sold=1), "ShopifyWebhookFunction")

        def till_sale(i: int) -> None:
            sale = fixtures["lightspeed/sale.update.json"] | {"id": f"till-{i}", "invoice_number": f"T{i}"}
            sale |= {"version": next_version(), "sale_date": "2026-11-23T12:00:00Z", "register_id": "r"}
            sale["register_sale_products"] = [{"id": "1", "product_id": f"p-{skus[i]}", "quantity": 1}]
            pos.handle(PosDelivery("sale.update", sale))

        till = meter.measure(till_sale, "LightspeedWebhookFunction")

        # ---- CommentSold: claims, releases, orders checking claims out
        epoch = int(now.timestamp())
        claimed = [0]

        def claim(i: int) -> None:
            claimed[0] += 1
            data = {"id": claimed[0], "variant_id": skus[i % len(skus)], "quantity": 1, "customer_id": 7}
            live.handle({"id": f"c{claimed[0]}", "topic": "reservation.created", "created_at": epoch, "data": data})

        claim_units = meter.measure(claim, "CommentSoldWebhookFunction")
        first = claimed[0] - N + 1
        release = meter.measure(
            lambda i: live.handle(
                {"id": f"r{i}", "topic": "reservation.deleted", "created_at": epoch, "data": {"id": first + i}}
            ),
            "CommentSoldWebhookFunction",
        )
        live_order, variants = {}, {}
        for lines in (1, 3):
            reservations = []
            for i in range(N):
                for k in range(lines):  # each claim of an order on its own SKU
                    claim(i * lines + k)
                    reservations.append(claimed[0])
                    variants[claimed[0]] = skus[(i * lines + k) % len(skus)]
            meter.drain()

            def checkout(i: int, n: int = lines, held: list[int] = reservations) -> None:
                mine = held[i * n : (i + 1) * n]
                data = {
                    "id": 9_000_000 + mine[0],
                    "order_number": f"CS{mine[0]}",
                    "status": "paid",
                    "created_at": epoch,
                    "updated_at": epoch,
                    "customer": {"name": "Viewer", "email": "viewer@example.com"},
                    "line_items": [
                        {"id": r, "variant_id": variants[r], "quantity": 1, "reservation_id": r, "price": 1200}
                        for r in mine
                    ],
                }
                live.handle({"id": f"o{mine[0]}", "topic": "order.created", "created_at": epoch, "data": data})

            live_order[lines] = meter.measure(checkout, "CommentSoldWebhookFunction")

        admin = meter.measure(lambda i: ledger.explain(skus[i], 20), "AdminApiFunction")

        # ---- pushes: a changed SKU read by the push function, and pushed to one channel
        bare = [f"B{i}" for i in range(N)]
        for sku in bare:
            ledger.upsert_catalog(sku, [LOCATION], {})
            count(sku, 50)
        for sku in bare + skus[:N]:
            ledger.adjust(sku, LOCATION, -1, "admin", f"adj-{sku}")
        push_sku = meter.measure(lambda i: wiring.sync.on_changes([bare[i]], [], []), None)
        listed = []
        for i in range(N):  # SKUs listed on one channel only
            sku = f"L{i}"
            ledger.upsert_catalog(sku, [LOCATION], {"shopify": f"gid://shopify/InventoryItem/{900 + i}"})
            count(sku, 50)
            wiring.sync.on_changes([sku], [], [])
            ledger.adjust(sku, LOCATION, -1, "admin", f"adj-{sku}")
            listed.append(sku)
        push_one = meter.measure(lambda i: wiring.sync.on_changes([listed[i]], [], []), None)
        push_channel = push_one.plus(push_sku, -1)

        # ---- schedules, each run with nothing to do; then reconcile with marks to verify
        def run(job: Callable[[], Any]) -> Callable[[int], Any]:
            return lambda i: job()

        from omnistock.channels.shopify.subscriptions import keep
        from omnistock.store.connection_store import ConnectionStore

        never = lambda: False  # noqa: E731
        keeper: Any = meter.port  # answers the keeper's one query as Shopify would
        polls = _CommentSoldPolls(meter.port)
        schedules = {
            "HoldExpiryFunction": meter.measure(run(ledger.expire_due_holds), "HoldExpiryFunction", 0),
            "ShopifyPollFunction": meter.measure(run(lambda: shop.poll(meter.port, never)), "ShopifyPollFunction", 0),
            "CommentSoldPollFunction": meter.measure(
                run(lambda: live.poll(polls, never)), "CommentSoldPollFunction", 0
            ),
            "LightspeedPollFunction": meter.measure(
                run(lambda: pos.poll(meter.port, never)), "LightspeedPollFunction", 0
            ),
            "PosSalesFunction": meter.measure(
                run(lambda: lightspeed.web_orders(wiring).retry_unfinished(never)), "PosSalesFunction", 0
            ),
            "ErpOrdersFunction": meter.measure(
                run(lambda: unleashed.sales_orders(wiring).retry_unfinished(never)), "ErpOrdersFunction", 0
            ),
            # an Unleashed poll with nothing changed: one page read (its call counted in the table)
            "UnleashedPollFunction": meter.measure(
                run(lambda: unleashed_intake.poll(_EmptyErp(wiring), never)), "UnleashedPollFunction", 0
            ),
            "ShopifySubscriptionsFunction": meter.measure(
                run(lambda: keep(keeper, KEEPER_URL, ConnectionStore(wiring.table), wiring.pushes, wiring.clock)),
                "ShopifySubscriptionsFunction",
                0,
            ),
        }
        for _ in range(5):  # verify what the set-up's pushes marked, and what verifying marked again
            if not meter.one(wiring.sync.reconcile_all, None).write:
                break
        schedules["ReconcileFunction"] = meter.measure(run(wiring.sync.reconcile_all), "ReconcileFunction", 0)
        for sku in skus[: 2 * N]:
            ledger.adjust(sku, LOCATION, -1, "admin", f"mark-{sku}")
            wiring.sync.on_changes([sku], [], [])  # two pushes (two channels), two marks
        meter.drain()
        marked = meter.one(wiring.sync.reconcile_all, "ReconcileFunction", 0)
        reconcile_mark = marked.plus(schedules["ReconcileFunction"], -1).times(1 / (4 * N))
        reconcile_mark.invocations = {}

        # ---- ShipStation's export: a request whose window holds nothing, and one holding entries
        fmt = "%m/%d/%Y %H:%M"
        yesterday = (now - timedelta(days=1)).strftime(fmt)
        empty = meter.measure(lambda i: desk.export(yesterday, yesterday, "1"), "ShipStationFunction")
        start, end = now.strftime(fmt), (now + timedelta(minutes=5)).strftime(fmt)
        window = meter.measure(lambda i: desk.export(start, end, "1"), "ShipStationFunction")
        found = desk.export(start, end, "1").returned
        assert 0 < found < stack.export_page_size, found
        export_entry = window.plus(empty, -1).times(1 / found)
        export_entry.invocations, export_entry.requests = {}, 0.0

    events: dict[str, Units] = {
        "level webhook": level_units,
        "sale level webhook": sale_level,
        "POS count": pos_count,
        "till sale": till,
        "claim": claim_units,
        "release": release,
        "admin request": admin,
    }
    for name, by_lines in (
        ("web order", web),
        ("order update", update),
        ("POS import", pos_import),
        ("live order", live_order),
        ("shipment", shipment),
    ):
        events[name], events[name + PER_LINE] = fitted(by_lines[1], by_lines[3])
    assert set(schedules) == set(SCHEDULES), set(schedules) ^ set(SCHEDULES)
    return Measured(events, schedules, push_sku, push_channel, reconcile_mark, empty, export_entry, sku_units)


# ---------------------------------------------------------------------------------- printing
def assumptions(profile: Profile) -> list[str]:
    p = profile
    return [
        f"{p.orders_per_month:,.0f} web orders/month x {p.lines_per_order:g} lines; Shopify sends "
        f"{p.webhooks_per_order:g} webhooks an order, a level per line sold and per push",
        f"{p.pos_counts_per_month:,.0f} POS count changes and {p.till_sales_per_month:,.0f} till sales/month; "
        "the POS imports every order",
        f"{p.claims_per_month:,.0f} live-sale claims/month: {p.checkout_share:.0%} checked out "
        f"({p.claims_per_live_order:g} an order), the rest released",
        f"{p.skus:,.0f} SKUs, pushed to {p.channels:g} channels (the POS is the master), "
        f"{p.pushes_per_change:g} push per stock change and channel",
        f"orders shipped through ShipStation, which pulls {p.shipstation_polls_per_day:g} times a day; "
        f"{p.admin_requests_per_month:,.0f} staff lookups/month",
        f"storage after {p.months_of_orders:g} months: orders are kept, the rest for its retention",
    ]


def report(bills: list[Bill], measured: Measured, stack: Stack, out: Any = sys.stdout) -> None:
    def say(text: str = "") -> None:
        print(text, file=out)

    say(f"Monthly AWS bill: us-east-1 list prices read {READ_ON}, free tiers excluded")
    say("Per event, measured on moto (table, stream filters, retention from template.yaml; units: bench/units.py);")
    say("SKUs moved: SKUs whose stock changed, each pushed to every channel (a push is measured on its own)")
    rows = [(name, measured.events[name]) for name in EVENTS]
    rows += [
        (f"{name}, each line", measured.events[name + PER_LINE])
        for name in EVENTS
        if name + PER_LINE in measured.events
    ]
    rows += [
        ("push: a changed SKU read", measured.push_sku),
        ("push: to one channel", measured.push_channel),
        ("reconcile: a pushed SKU verified", measured.reconcile_mark),
        ("ShipStation export request", measured.export_page),
        ("ShipStation export, each entry", measured.export_entry),
        ("one SKU (what it keeps for good)", measured.sku),
    ]
    rows += [(f"schedule run: {fn.removesuffix('Function')}", units) for fn, units in measured.schedules.items()]
    kinds = sorted({k for _, u in rows for k in u.stored}, key=lambda k: (k is None, k or 0))
    say(f"  {'':<34}{'':>6}{'':>6}{'Lambda':>7}{'SKUs':>6}{'bytes kept, by how long':>{10 * len(kinds)}}")
    kept = "".join(f"{'for good' if k is None else f'{k} days':>10}" for k in kinds)
    say(f"  {'event':<34}{'WRU':>6}{'RRU':>6}{'calls':>7}{'moved':>6}{kept}")
    for name, u in rows:
        stored = "".join(f"{u.stored.get(k, 0.0):>10,.0f}" for k in kinds)
        say(f"  {name:<34}{u.write:>6.1f}{u.read:>6.1f}{u.invoked:>7.2f}{u.changes:>6.2f}{stored}")
    say("Assumed:")
    durations = [f"{fn.removesuffix('Function')} {ms:g}" for fn, ms in DURATION_MS.items()]
    memory = "/".join(map(str, sorted(set(stack.memory_mb.values()))))
    say(f"  ms billed an invocation at {memory} MB arm64, cold starts included:")
    for first in range(0, len(durations), 5):
        say(f"    {', '.join(durations[first : first + 5])}")
    say(f"  log bytes: {LOG_BYTES_PER_INVOCATION:,} an invocation, {ACCESS_LOG_BYTES_PER_REQUEST} an HTTP request")
    say("  X-Ray records 1 invocation a second per function and 5% of the rest (its default rule)")
    windows = ", ".join(f"{fn.removesuffix('Function')} {w:g} s" for fn, w in stack.stream_windows.items())
    say(f"  stream batching windows: {windows} (events spread evenly over the month)")
    runs = [f"{fn.removesuffix('Function')} {n:,.0f}" for fn, n in stack.schedules.items()]
    say(f"  schedule runs a month: {', '.join(runs[:3])},")
    say(f"    {', '.join(runs[3:])}")
    say("  custom metrics all published every hour; left out: stream reads by Lambda and scheduled rules (free),")
    say("    failure queues and SNS (on failures only), KMS, data transfer, Secrets Manager API calls (cached)")
    for b in bills:
        say()
        say(f"{b.profile.name}:")
        for text in assumptions(b.profile):
            say(f"  {text}")
        say(f"  {'service':<44}{'quantity':>24}{'$/month':>10}")
        for line in b.lines:
            say(f"  {line.service:<44}{line.quantity:>24}{line.dollars:>10.2f}")
        say(f"  {'platform API calls (free; pushes, polls...)':<44}{b.channel_calls:>24,.0f}{'-':>10}")
        say(f"  {'total':<44}{'':>24}{b.total:>10.2f}")
        say(f"  {'  of which grows with the events':<44}{'':>24}{b.variable:>10.2f}")
    say()
    say(f"Prices (us-east-1, read {READ_ON}):")
    for name, price in PRICES.items():
        dollars = f"${price.dollars:.10f}".rstrip("0").rstrip(".")
        say(f"  {name:<16}{dollars:>13} {price.unit:<32} {price.source.removeprefix('https://')}")


def summary(bills: list[Bill]) -> str:
    """One line: each profile's total."""
    totals = ", ".join(
        f"{b.profile.name.split(' (')[0]} ${b.total:,.2f} (${b.variable:,.2f} of it growing with the events)"
        for b in bills
    )
    return f"Monthly AWS bill (us-east-1 list prices, python -m bench.cost for the breakdown): {totals}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.cost",
        description="The monthly AWS bill of a retailer: give any of the profile's numbers (the rest keep the "
        "mid-size shop's), or none for the mid-size shop and 100 times it.",
    )
    numbers = [f for f in fields(Profile) if f.name != "name"]
    for f in numbers:
        default = getattr(MID_SIZE, f.name)
        parser.add_argument(
            f"--{f.name.replace('_', '-')}", type=float, metavar="N", help=f"{FLAGS[f.name]} (default {default:,g})"
        )
    parser.add_argument("--summary", action="store_true", help="one line per profile")
    args = parser.parse_args(argv)
    given = {f.name: getattr(args, f.name) for f in numbers if getattr(args, f.name) is not None}
    profiles = [replace(MID_SIZE, name="your profile", **given)] if given else [MID_SIZE, HUNDRED_X]
    stack = read_stack()
    measured = measure(stack)
    bills = [bill(profile, measured, stack) for profile in profiles]
    if args.summary:
        print(summary(bills))
    else:
        report(bills, measured, stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())


class _EmptyErp:
    """Unleashed with nothing changed since the cursor: one page, counted as a call in the table."""

    def __init__(self, wiring: Any) -> None:
        from omnistock.store.quota_store import QuotaStore

        self.quota, self.clock = QuotaStore(wiring.table), wiring.clock

    def budget_state(self) -> str:
        return "ok"

    def page(self, endpoint: str, number: int, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        self.quota.count("unleashed", self.clock().strftime("%Y-%m"))
        return [], 1
