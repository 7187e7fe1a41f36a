"""The fakes tests share: clocks moved by hand, and in-memory stand-ins for each platform's
ports (stock, orders, feeds). One definition each, so a port's contract changes in one place."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx

from omnistock.channels import ChannelUnavailable, QuantityWrite, WriteOutcome
from omnistock.channels.lightspeed.feed import FeedPage, RateLimited


# ==================================================================== Lambda
@dataclass
class FakeContext:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    function_name: str = "test-function"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    aws_request_id: str = "00000000-0000-0000-0000-000000000000"
    remaining_ms: int = 10_000

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


# ==================================================================== clocks
class Clock:
    """A wall clock (what the domain's ``clock`` returns), moved by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


class SecondsClock:
    """A clock of seconds (``time.time`` or ``time.monotonic``), moved by hand."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# ==================================================================== stock ports
class FakeChannel:
    """Shows what was set; compare-and-set like Shopify; can refuse items or fail whole calls."""

    max_batch = 250

    def __init__(self) -> None:
        self.shown: dict[str, int] = {}
        self.calls: list[list[QuantityWrite]] = []
        self.reads = 0
        self.unknown: set[str] = set()
        self.down = False

    def set_quantities(self, writes: list[QuantityWrite], idempotency_key: str) -> list[WriteOutcome]:
        assert len(writes) <= self.max_batch
        if self.down:
            raise ChannelUnavailable("503 from the channel")
        self.calls.append(writes)
        outcomes = []
        for write in writes:
            if write.listing_id in self.unknown:
                outcomes.append(
                    WriteOutcome(write.listing_id, write.location_id, False, error="INVALID_INVENTORY_ITEM")
                )
            elif write.change_from is not None and self.shown.get(write.listing_id) != write.change_from:
                outcomes.append(WriteOutcome(write.listing_id, write.location_id, False, stale=True))
            else:
                self.shown[write.listing_id] = write.quantity
                outcomes.append(WriteOutcome(write.listing_id, write.location_id, True))
        return outcomes

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        self.reads += 1
        return {(item, loc): self.shown[item] for item, loc in items if item in self.shown}


class ShelfPort:
    """A CommentSold-like port: it reads what the channel may sell, and writes its shelf."""

    max_batch = 50
    writes_shelf = True

    def __init__(self, available: int) -> None:
        self.shown_available = available
        self.writes: list[int] = []

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        return dict.fromkeys(items, self.shown_available)

    def set_quantities(self, writes: list[Any], idempotency_key: str) -> list[Any]:
        self.writes += [w.quantity for w in writes]
        return [WriteOutcome(w.listing_id, w.location_id, applied=True) for w in writes]


# ==================================================================== what the polls read
class FakeShopifyOrders:
    """An OrdersPort over a list of GraphQL order nodes (sorted by updatedAt), two a page."""

    def __init__(self, nodes: list[dict[str, Any]]) -> None:
        self.nodes = nodes
        self.calls: list[str] = []

    def orders_since(self, since: str, after: str | None) -> tuple[list[dict[str, Any]], str | None]:
        self.calls.append(since)
        found = sorted((n for n in self.nodes if n["updatedAt"] >= since), key=lambda n: n["updatedAt"])
        start = int(after or 0)
        page = found[start : start + 2]
        return page, (str(start + 2) if start + 2 < len(found) else None)

    def order_of_fulfillment_order(self, fulfillment_order: str) -> dict[str, Any] | None:
        """Fulfillment order N belongs to the order whose legacyResourceId is N (a fake's rule)."""
        self.calls.append(fulfillment_order)
        number = fulfillment_order.rsplit("/", 1)[-1]
        return next((n for n in self.nodes if str(n.get("legacyResourceId")) == number), None)

    def fulfil(self, request: Any) -> str:
        raise NotImplementedError


class FakeLightspeedFeed:
    """Lightspeed's feeds in memory: records by collection, a 429 on demand."""

    def __init__(self) -> None:
        self.records: dict[str, list[dict[str, Any]]] = {"products": [], "inventory": [], "sales": []}
        self.throttled_until: Any = None
        self.calls = 0

    def changes(self, collection: str, after: int) -> FeedPage:
        self.calls += 1
        if self.throttled_until is not None:
            raise RateLimited(self.throttled_until)
        found = sorted((r for r in self.records[collection] if r["version"] > after), key=lambda r: r["version"])[:2]
        return FeedPage(found, found[-1]["version"] if found else after)


class FakeCommentSold:
    """The two reads the CommentSold poll makes, over lists the test controls (two items a page)."""

    def __init__(self) -> None:
        self.carts: list[dict[str, Any]] = []
        self.orders: list[dict[str, Any]] = []

    def reservations(self, page: int) -> tuple[list[dict[str, Any]], bool]:
        return self.carts[(page - 1) * 2 : page * 2], page * 2 < len(self.carts)

    def orders_since(self, since_epoch: int, page: int) -> tuple[list[dict[str, Any]], bool]:
        found = [o for o in self.orders if o["updated_at"] >= since_epoch]
        return found[(page - 1) * 2 : page * 2], page * 2 < len(found)


# ==================================================================== webhook endpoints (sandboxes send to)
class WebhookReceiver:
    """A webhook endpoint: keeps what arrives; answers ``statuses`` in turn, then ``then``, with
    ``answer`` as JSON (or ``text``)."""

    def __init__(
        self, *statuses: int, then: int = 200, answer: dict[str, Any] | None = None, text: str | None = None
    ) -> None:
        self.statuses, self.then = list(statuses), then
        self.answer, self.text = answer, text
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        status = self.statuses.pop(0) if self.statuses else self.then
        return httpx.Response(status, json=self.answer) if self.text is None else httpx.Response(status, text=self.text)

    def client(self) -> httpx.Client:
        return httpx.Client(transport=httpx.MockTransport(self))

    def payloads(self) -> list[dict[str, Any]]:
        """Form-encoded deliveries' ``payload`` fields (Lightspeed)."""
        return [json.loads(parse_qs(r.content.decode())["payload"][0]) for r in self.requests]

    def bodies(self) -> list[dict[str, Any]]:
        """JSON deliveries' bodies."""
        return [json.loads(request.content) for request in self.requests]
