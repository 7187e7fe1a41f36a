"""Orders in the Shopify sandbox: TEST EQUIPMENT, not a Shopify implementation.

``SandboxOrders`` belongs to a ``ShopifySandbox`` (``shop.orders``) and shares its lock, its cost
bucket and its faults (``fail_next`` and ``throttle_storm`` hit these documents too). Seed it with
``create_order``, change orders with ``cancel_order``, ``edit_line`` and ``refund``, read them
with ``order``/``orders``. The GraphQL endpoint answers three more documents (the ones
``omnistock.channels.shopify.orders_api`` sends), recognised by regular expressions:

1. ``orders(first: $first, after: $after, sortKey: UPDATED_AT, query: $query) { pageInfo nodes }``;
2. ``order(id: $id) { id fulfillments fulfillmentOrders }``;
3. ``mutation ... { fulfillmentCreate(fulfillment: $fulfillment) { fulfillment userErrors } }``;
4. ``fulfillmentOrder(id: $id) { order { ... } }`` (the order a hold webhook's fulfillment order
   belongs to, as the orders query's node). ``hold`` puts an order's fulfillment order on hold.

What it mirrors (Shopify's Admin API and webhook references; the REST shapes are those of
tests/fixtures/shopify/orders_create.json, orders_cancelled.json and refunds_create.json):

* Orders are kept in the REST webhook shape: numeric ids plus ``admin_graphql_api_id``, names
  "#1001", "#1002", ..., timestamps with the shop's UTC offset (-04:00, as in the fixtures; here
  with milliseconds), line items with ``quantity`` (as ordered), ``current_quantity`` (after
  edits and refunds), ``fulfillable_quantity`` and ``variant_inventory_management`` ("shopify"
  for tracked variants, null for custom items). GraphQL answers the same order as a node:
  GIDs, ``legacyResourceId``, money as ``{shopMoney: {amount}}``, upper-case enums
  (``displayFinancialStatus``, ``restockType``), ``tags`` as a list.
* A sale commits stock: creating an order lowers ``available`` of each line's inventory item at
  the order's location, if the sandbox stocks it there (``on_hand`` stays until fulfilment).
  Fulfilling lowers ``on_hand``. Restocking unfulfilled units (``cancel``) raises ``available``;
  a ``return`` raises both; ``no_restock`` moves nothing.
* Cancelling (orders_cancelled.json) refunds every unfulfilled unit with ``restock_type``
  "cancel" ("no_restock" for untracked lines or ``restock=False``), leaves ``current_quantity``
  at the units shipped, sets ``cancelled_at``/``closed_at`` and ``financial_status`` "refunded"
  ("voided" if nothing was paid), and closes the fulfillment order.
* A refund lowers ``current_quantity`` whatever its restock type (refunds_create.json: 2
  ordered, 1 returned, ``current_quantity`` 1). "cancel" takes unfulfilled units only,
  "return" shipped ones only, the others unfulfilled units first.
* ``orders``: ``first`` 1..250; ``sortKey`` ID (the default) or UPDATED_AT, then id. The cursor
  is base64 JSON ``{"last_id", "last_value"}`` (what Shopify's own cursors decode to): the next
  page starts after that *position in the sort*, so an order updated between two pages moves
  behind the cursor and comes again later. (An offset cursor would shift the rest of the list
  down by one and lose an order.) ``endCursor`` is null on an empty page.
* One fulfillment order per order, at the order's location: OPEN, IN_PROGRESS once something
  shipped, CLOSED when nothing remains (or the order is cancelled); ``remainingQuantity`` is the
  line's ``fulfillable_quantity``.
* ``fulfillmentCreate`` is not idempotent: every accepted call ships. Quantities are checked
  against ``remainingQuantity``; problems are userErrors ``{field, message}`` and nothing changes;
  omitted ``fulfillmentOrderLineItems`` ship all that remains on that fulfillment order.
* Webhooks: each change queues the topics Shopify would send (``orders/create``,
  ``orders/paid`` when created paid, ``orders/updated``, ``orders/cancelled``,
  ``refunds/create``), each with the body as of that change and its own webhook id, which a
  redelivery keeps (as Shopify's retries do).

Sandbox-only (no Shopify counterpart):

* ``query`` understands only ``updated_at:>='<ISO 8601 with offset or Z>'`` (quotes optional);
  anything else is a top-level ``BAD_REQUEST`` error (Shopify ignores search terms it cannot
  read, which would hide a typo). Error and userError wording is the sandbox's.
* Costs: ``orders`` requests 1 + first x 10 (so ``first`` 100 and up exceeds the 1000 cap) and
  costs 1 + 10 per order returned; ``order(id:)`` and ``fulfillmentCreate`` 10 each.
* ``edit_line`` sets a line's quantity in place and reopens the one fulfillment order (Shopify
  would open another); it emits ``orders/updated``.

Control API (no auth), routed here from ``ShopifySandbox._control``:

* ``POST /_sandbox/orders`` ``{"lines": [{"sku", "quantity", "inventory_item_id"?, "variant_id"?,
  "price"?, "tracked"?}], "financial_status"?: "paid", "location"?}`` -> the REST order;
* ``GET /_sandbox/orders`` -> ``{"orders": [...]}``; ``GET /_sandbox/orders/<id>`` -> one order;
* ``POST /_sandbox/orders/<id>/cancel`` ``{"restock"?: true, "reason"?: "other"}`` -> the order;
* ``POST /_sandbox/orders/<id>/refunds`` ``{"lines": [{"line_id", "quantity", "restock_type"}]}``
  -> the refund;
* ``POST /_sandbox/orders/<id>/lines/<line id>`` ``{"quantity"}`` (an order edit) -> the order;
* ``GET /_sandbox/fulfillments`` -> ``{"fulfillments": [...]}`` (REST shape plus ``order_id``);
* ``GET /_sandbox/webhooks`` -> ``{"webhooks": [{"id", "topic", "body", "queued_at"}]}``;
* ``POST /_sandbox/webhooks/deliver`` ``{"url", "secret"?}`` signs and POSTs every queued
  webhook with ``local.send_webhook.deliver`` (secret defaults to its ``LOCAL_WEBHOOK_SECRET``),
  drops those answered 2xx and returns ``{"deliveries": [{"id", "topic", "status"}], "queued"}``.
Unknown orders are 404, bad input 400.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from local.sandbox.server import SandboxResponse, json_response

if TYPE_CHECKING:
    import httpx

    from local.sandbox.shopify import ShopifySandbox

MAX_PAGE_SIZE = 250
ORDER_COST_EACH = 10
READ_COST = 10
CREATE_COST = 10
ID_BASE = 5_000_000_000_000  # ids look like Shopify's 13-digit ones and only grow
FIRST_ORDER_NUMBER = 1001
SHOP_OFFSET = timezone(timedelta(hours=-4))
DEFAULT_LOCATION = "gid://shopify/Location/1"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # the time half of the sort key when sorting by id
DEFAULT_PRICE = "10.00"
FINANCIAL_STATUSES = frozenset(
    {"pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded", "voided"}
)
PAID = frozenset({"paid", "partially_paid", "partially_refunded"})
RESTOCK_TYPES = frozenset({"no_restock", "cancel", "return", "legacy_restock"})
ADDRESS = {
    "first_name": "Sam",
    "last_name": "Sandbox",
    "name": "Sam Sandbox",
    "company": None,
    "address1": "1 Example Street",
    "address2": None,
    "city": "Springfield",
    "province_code": "IL",
    "country_code": "US",
    "zip": "62701",
    "phone": None,
}

_MUTATION = re.compile(r"^\s*mutation\b")
_ORDERS = re.compile(r"(?<!query )\borders\s*\((?P<args>[^)]*)\)")
_ORDER = re.compile(r"(?<!query )\border\s*\((?P<args>[^)]*)\)")
_CREATE = re.compile(r"\bfulfillmentCreate\s*\((?P<args>[^)]*)\)")
_HELD = re.compile(r"\bfulfillmentOrder\s*\((?P<args>[^)]*)\)")
_ARGUMENT = r'\b{}\s*:\s*(?:\$(?P<var>\w+)|(?P<int>-?\d+)|"(?P<text>(?:[^"\\]|\\.)*)"|(?P<enum>[A-Za-z_]\w*))'
_SINCE = re.compile(r"""^\s*updated_at\s*:\s*>=\s*(?P<quote>['"]?)(?P<at>[^'"\s]+)(?P=quote)\s*$""")
_MISSING = object()


class OrdersQueryError(Exception):
    """A top-level GraphQL error for one of these documents: nothing runs."""

    def __init__(self, message: str, code: str = "BAD_REQUEST", cost: int = 0) -> None:
        super().__init__(message)
        self.cost = cost
        self.error: dict[str, Any] = {"message": message, "extensions": {"code": code}}


@dataclass(frozen=True)
class OrdersPage:
    first: int
    since: datetime | None
    by_updated: bool  # sortKey UPDATED_AT (else ID)
    after: tuple[datetime, int] | None  # the sort key of the last order already read

    @property
    def cost(self) -> int:
        return 1 + self.first * ORDER_COST_EACH


@dataclass(frozen=True)
class OrderRead:
    order_gid: str
    cost: int = READ_COST


@dataclass(frozen=True)
class HeldOrderRead:
    fulfillment_order_gid: str
    cost: int = READ_COST


@dataclass(frozen=True)
class FulfillmentCreate:
    fulfillment: dict[str, Any]
    cost: int = CREATE_COST


OrdersOperation = OrdersPage | OrderRead | HeldOrderRead | FulfillmentCreate


@dataclass
class _Order:
    rest: dict[str, Any]
    updated: datetime
    location: str
    items: dict[int, str | None]  # line id -> inventory item GID (None: a custom item)
    fulfillment_order: int
    fulfillment_order_lines: dict[int, int]  # line id -> fulfillment order line item id
    held: bool = False  # a fulfillment hold on its fulfillment order


@dataclass
class _State:
    orders: dict[int, _Order] = field(default_factory=dict)
    by_fulfillment_order: dict[int, int] = field(default_factory=dict)  # -> order id
    outbox: list[dict[str, Any]] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    ids: int = 0
    numbers: int = FIRST_ORDER_NUMBER - 1
    last: datetime | None = None


class SandboxOrders:
    """The orders of one sandbox shop; every method is safe to call from any thread."""

    def __init__(
        self,
        shop: ShopifySandbox,
        lock: threading.RLock,
        *,
        wall_clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._shop = shop
        self._lock = lock
        self.wall_clock = wall_clock  # replaceable, so tests can pin the dates
        self.location: str | None = None  # orders' location; None: the first stocked, else Location/1
        self.webhook_client: httpx.Client | None = None  # for deliver_webhooks; tests inject one
        self._s = _State()

    # ---- changes ---------------------------------------------------------------------------

    def create_order(
        self,
        lines: Iterable[dict[str, Any]],
        financial_status: str = "paid",
        order_id: int | None = None,
        location_id: str | int | None = None,
        *,
        email: str = "buyer@example.com",
        tags: str = "",
        shipping: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Create an order and return it in REST shape. Each line: ``sku``, ``quantity``, and
        optionally ``inventory_item_id``, ``variant_id`` (null: a custom item), ``price``,
        ``tracked``, ``requires_shipping``, ``name``. ``shipping``: ``{"title", "price"}`` of
        its shipping line (none without)."""
        specs = list(lines)
        if not specs:
            raise ValueError("an order needs at least one line")
        if financial_status not in FINANCIAL_STATUSES:
            raise ValueError(f"financial_status must be one of {sorted(FINANCIAL_STATUSES)}")
        with self._lock:
            state = self._s
            if order_id is not None and order_id in state.orders:
                raise ValueError(f"order {order_id} exists")
            location = _gid("Location", location_id) if location_id is not None else self._default_location()
            _number(location)  # a location must have a numeric id: REST shapes carry it
            built = [self._line(spec) for spec in specs]
            at = self._tick()
            oid = order_id if order_id is not None else self._next_id()
            state.numbers += 1
            shipping_lines = [_shipping_line(shipping, self._next_id())] if shipping else []
            subtotal = sum(Decimal(line["price"]) * line["quantity"] for line, _ in built)
            total = _money(subtotal + sum(Decimal(s["price"]) for s in shipping_lines))
            rest: dict[str, Any] = {
                "id": oid,
                "admin_graphql_api_id": _gid("Order", oid),
                "cancel_reason": None,
                "cancelled_at": None,
                "closed_at": None,
                "confirmation_number": f"SBX{state.numbers}",
                "confirmed": True,
                "contact_email": email,
                "created_at": _rest_time(at),
                "currency": "USD",
                "email": email,
                "financial_status": financial_status,
                "fulfillment_status": None,
                "location_id": None,
                "name": f"#{state.numbers}",
                "note": None,
                "number": state.numbers - 1000,
                "order_number": state.numbers,
                "payment_gateway_names": ["manual"],
                "presentment_currency": "USD",
                "processed_at": _rest_time(at),
                "source_name": "web",
                "subtotal_price": _money(subtotal),
                "tags": tags,
                "test": True,
                "total_price": total,
                "total_tax": "0.00",
                "updated_at": _rest_time(at),
                "shipping_address": dict(ADDRESS),
                "billing_address": dict(ADDRESS),
                "line_items": [line for line, _ in built],
                "shipping_lines": shipping_lines,
                "fulfillments": [],
                "refunds": [],
                "returns": [],
            }
            order = _Order(
                rest,
                at,
                location,
                {line["id"]: item for line, item in built},
                self._next_id(),
                {line["id"]: self._next_id() for line, _ in built},
            )
            state.orders[oid] = order
            state.by_fulfillment_order[order.fulfillment_order] = oid
            for line, _ in built:
                self._move(order, line["id"], available=-line["quantity"])
            self._queue(order, "orders/create", *(["orders/paid"] if financial_status == "paid" else []))
            return copy.deepcopy(rest)

    def hold(self, order_id: int | str, held: bool = True) -> dict[str, Any]:
        """Put the order's fulfillment order on hold (or release it): queues
        ``fulfillment_orders/placed_on_hold`` (``hold_released``), whose body names the fulfillment
        order only, as Shopify's does. The order's ``updated_at`` is left as it is: whether Shopify
        moves it is not documented, so a client must not rely on the orders query to see it."""
        with self._lock:
            order = self._order(order_id)
            order.held = bool(held)
            status = "on_hold" if held else "open"
            body = {"fulfillment_order": {"id": _gid("FulfillmentOrder", order.fulfillment_order), "status": status}}
            self._enqueue(f"fulfillment_orders/{'placed_on_hold' if held else 'hold_released'}", body)
            return self._node(order)

    def cancel_order(self, order_id: int | str, restock: bool = True, reason: str = "other") -> dict[str, Any]:
        """Cancel: refund every unfulfilled unit (restocked unless ``restock`` is False or the
        line is untracked), close the fulfillment order. Returns the REST order."""
        with self._lock:
            order = self._order(order_id)
            rest = order.rest
            if rest["cancelled_at"]:
                raise ValueError(f"order {rest['id']} is already cancelled")
            unfulfilled = [line for line in rest["line_items"] if line["fulfillable_quantity"] > 0]
            lines = [
                (
                    line["id"],
                    line["fulfillable_quantity"],
                    "cancel" if restock and self._tracked(line) else "no_restock",
                )
                for line in unfulfilled
            ]
            at = self._tick()
            refund = self._apply_refund(order, lines, at) if lines else None
            rest["cancelled_at"] = rest["closed_at"] = _rest_time(at)
            rest["cancel_reason"] = reason
            rest["financial_status"] = "refunded" if rest["financial_status"] in PAID else "voided"
            self._touch(order, at)
            if refund is not None:
                self._queue_refund(order, refund)
            self._queue(order, "orders/cancelled", "orders/updated")
            return copy.deepcopy(rest)

    def refund(self, order_id: int | str, lines: Iterable[tuple[int | str, int, str]]) -> dict[str, Any]:
        """Refund ``(line id, quantity, restock_type)`` lines, all or nothing; returns the refund."""
        wanted = [(_number(line_id), quantity, restock_type) for line_id, quantity, restock_type in lines]
        if not wanted:
            raise ValueError("a refund needs at least one line")
        with self._lock:
            order = self._order(order_id)
            at = self._tick()
            refund = self._apply_refund(order, wanted, at)
            rest = order.rest
            if rest["financial_status"] in PAID:
                left = sum(line["current_quantity"] for line in rest["line_items"])
                rest["financial_status"] = "partially_refunded" if left else "refunded"
            self._touch(order, at)
            self._queue_refund(order, refund)
            self._queue(order, "orders/updated")
            return copy.deepcopy(refund)

    def edit_line(self, order_id: int | str, line_id: int | str, new_quantity: int) -> dict[str, Any]:
        """An order edit: the line now holds ``new_quantity`` units (not fewer than it shipped).
        Added units are committed, removed ones restocked. Returns the REST order."""
        with self._lock:
            order = self._order(order_id)
            if order.rest["cancelled_at"]:
                raise ValueError("a cancelled order cannot be edited")
            line = self._line_of(order, line_id)
            shipped_held = line["current_quantity"] - line["fulfillable_quantity"]
            if _whole(new_quantity, "quantity") < shipped_held:
                raise ValueError(f"line {line['id']} cannot hold fewer than the {shipped_held} units shipped")
            delta = new_quantity - line["current_quantity"]
            line["current_quantity"] += delta
            line["fulfillable_quantity"] += delta
            line["quantity"] += max(0, delta)
            self._move(order, line["id"], available=-delta)
            self._touch(order, self._tick())
            self._queue(order, "orders/updated")
            return copy.deepcopy(order.rest)

    # ---- reads -----------------------------------------------------------------------------

    def order(self, order_id: int | str) -> dict[str, Any]:
        """The REST shape of one order (KeyError if unknown)."""
        with self._lock:
            return copy.deepcopy(self._order(order_id).rest)

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return [copy.deepcopy(order.rest) for order in self._s.orders.values()]

    def fulfillments(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {**copy.deepcopy(fulfillment), "order_id": order.rest["id"]}
                for order in self._s.orders.values()
                for fulfillment in order.rest["fulfillments"]
            ]

    def webhooks(self) -> list[dict[str, Any]]:
        """The outbox: queued webhooks, oldest first."""
        with self._lock:
            return copy.deepcopy(self._s.outbox)

    def counters(self) -> dict[str, int]:
        keys = ("orders_queries", "order_reads", "fulfillments_created", "fulfillment_user_errors")
        with self._lock:
            return {key: self._s.counters[key] for key in keys}

    def reset(self) -> None:
        with self._lock:
            self._s = _State()

    def deliver_webhooks(self, url: str, secret: str | None = None) -> dict[str, Any]:
        """POST every queued webhook to ``url``, signed with ``secret``; those answered 2xx leave
        the outbox. The lock is not held while sending: the receiver may call back in."""
        import httpx

        from local.send_webhook import LOCAL_WEBHOOK_SECRET, deliver

        deliveries = []
        for webhook in self.webhooks():
            entry: dict[str, Any] = {"id": webhook["id"], "topic": webhook["topic"]}
            try:
                body = json.dumps(webhook["body"]).encode()
                signed_with = secret or LOCAL_WEBHOOK_SECRET
                response = deliver(url, webhook["topic"], body, signed_with, webhook["id"], client=self.webhook_client)
                entry["status"] = response.status_code
            except (httpx.HTTPError, httpx.InvalidURL) as error:  # reported; the webhook stays queued
                entry["status"], entry["error"] = None, f"{type(error).__name__}: {error}"
            deliveries.append(entry)
        done = {entry["id"] for entry in deliveries if entry["status"] is not None and 200 <= entry["status"] < 300}
        with self._lock:
            self._s.outbox = [webhook for webhook in self._s.outbox if webhook["id"] not in done]
            queued = len(self._s.outbox)
        return {"deliveries": deliveries, "queued": queued}

    # ---- GraphQL (recognise and run are called under the sandbox's lock) -------------------

    def recognise(self, query: str, variables: dict[str, Any]) -> OrdersOperation | None:
        """One of the three documents, or None (not an orders document: the sandbox goes on)."""
        if _MUTATION.match(query):
            creates = list(_CREATE.finditer(query))
            if len(creates) != 1 or "inventorySetQuantities" in query:
                return None
            given = _argument(creates[0]["args"], "fulfillment", variables)
            return FulfillmentCreate(_check_fulfillment(given))
        held = list(_HELD.finditer(query))
        if len(held) == 1:  # fulfillmentOrder(id:) { order { ... } }: the orders query's node
            given = _argument(held[0]["args"], "id", variables)
            if not isinstance(given, str) or "/FulfillmentOrder/" not in given or _id_in(given) is None:
                raise OrdersQueryError(f"Invalid global id '{given}'", "INVALID_VARIABLE", READ_COST)
            return HeldOrderRead(given)
        pages, reads = list(_ORDERS.finditer(query)), list(_ORDER.finditer(query))
        if len(pages) + len(reads) != 1:
            return None
        if reads:
            order_gid = _argument(reads[0]["args"], "id", variables)
            if not isinstance(order_gid, str) or _id_in(order_gid) is None or "/Order/" not in order_gid:
                raise OrdersQueryError(f"Invalid global id '{order_gid}'", "INVALID_VARIABLE", READ_COST)
            return OrderRead(order_gid)
        return _orders_page(pages[0]["args"], variables)

    def run(self, operation: OrdersOperation) -> tuple[dict[str, Any], int]:
        """``(data, actual cost)`` for a recognised operation the bucket has paid for."""
        if isinstance(operation, OrdersPage):
            return self._page(operation)
        if isinstance(operation, HeldOrderRead):
            self._s.counters["held_order_reads"] += 1
            owner = self._s.by_fulfillment_order.get(_number(operation.fulfillment_order_gid))
            found = self._s.orders.get(owner) if owner is not None else None
            return {"fulfillmentOrder": {"order": self._node(found)} if found else None}, operation.cost
        if isinstance(operation, OrderRead):
            self._s.counters["order_reads"] += 1
            order = self._s.orders.get(_number(operation.order_gid))
            return {"order": self._fulfillment_view(order) if order else None}, operation.cost
        return self._fulfil(operation.fulfillment), operation.cost

    def _page(self, page: OrdersPage) -> tuple[dict[str, Any], int]:
        self._s.counters["orders_queries"] += 1

        def key(order: _Order) -> tuple[datetime, int]:
            return (order.updated if page.by_updated else EPOCH, order.rest["id"])

        found = sorted(
            (order for order in self._s.orders.values() if page.since is None or order.updated >= page.since), key=key
        )
        if page.after is not None:
            after = page.after
            found = [order for order in found if key(order) > after]
        taken = found[: page.first]
        end = None
        if taken:
            last_value = _graphql_time(taken[-1].updated) if page.by_updated else None
            end = _cursor(taken[-1].rest["id"], last_value)
        data = {
            "orders": {
                "pageInfo": {"hasNextPage": len(found) > len(taken), "endCursor": end},
                "nodes": [self._node(order) for order in taken],
            }
        }
        return data, 1 + len(taken) * ORDER_COST_EACH

    def _fulfil(self, given: dict[str, Any]) -> dict[str, Any]:
        errors, plan, order_ids = self._plan(given["lineItemsByFulfillmentOrder"])
        if len(order_ids) > 1:
            errors.append(_error(["lineItemsByFulfillmentOrder"], "All fulfillment orders must belong to one order."))
        if errors or not plan:
            self._s.counters["fulfillment_user_errors"] += 1
            errors = errors or [_error(["lineItemsByFulfillmentOrder"], "Nothing remains to fulfil.")]
            return {"fulfillmentCreate": {"fulfillment": None, "userErrors": errors}}
        order = self._s.orders[order_ids.pop()]
        rest, at, fid = order.rest, self._tick(), self._next_id()
        tracking = given.get("trackingInfo") or {}
        numbers = [tracking["number"]] if tracking.get("number") else []
        urls = [tracking["url"]] if tracking.get("url") else []
        shipped = []
        for line_id, quantity in plan.items():
            line = self._line_of(order, line_id)
            line["fulfillable_quantity"] -= quantity
            self._move(order, line_id, on_hand=-quantity)
            shown = ("id", "admin_graphql_api_id", "sku", "name", "variant_id", "price")
            shipped.append({**{key: line[key] for key in shown}, "quantity": quantity})
        rest["fulfillments"].append(
            {
                "id": fid,
                "admin_graphql_api_id": _gid("Fulfillment", fid),
                "order_id": rest["id"],
                "status": "success",
                "created_at": _rest_time(at),
                "updated_at": _rest_time(at),
                "location_id": _number(order.location),
                "name": f"{rest['name']}.{len(rest['fulfillments']) + 1}",
                "service": "manual",
                "shipment_status": None,
                "tracking_company": tracking.get("company"),
                "tracking_number": numbers[0] if numbers else None,
                "tracking_numbers": numbers,
                "tracking_url": urls[0] if urls else None,
                "tracking_urls": urls,
                "line_items": shipped,
            }
        )
        self._touch(order, at)
        self._queue(order, "orders/updated")
        self._s.counters["fulfillments_created"] += 1
        fulfillment = {"id": _gid("Fulfillment", fid), "status": "SUCCESS", "trackingInfo": _tracking(tracking)}
        return {"fulfillmentCreate": {"fulfillment": fulfillment, "userErrors": []}}

    def _plan(self, groups: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[int, int], set[int]]:
        """userErrors, units per line to ship, and the orders the groups belong to."""
        errors: list[dict[str, Any]] = []
        plan: dict[int, int] = {}
        order_ids: set[int] = set()
        for g, group in enumerate(groups):
            where = ["lineItemsByFulfillmentOrder", str(g)]
            order_id = self._s.by_fulfillment_order.get(_id_in(group["fulfillmentOrderId"]) or 0)
            if order_id is None:
                errors.append(_error([*where, "fulfillmentOrderId"], "Fulfillment order does not exist."))
                continue
            order = self._s.orders[order_id]
            order_ids.add(order_id)
            if self._status(order) == "CLOSED":
                errors.append(_error([*where, "fulfillmentOrderId"], "Fulfillment order is closed."))
                continue
            lines_of = {fo_line: line for line, fo_line in order.fulfillment_order_lines.items()}
            remaining = {line["id"]: line["fulfillable_quantity"] for line in order.rest["line_items"]}
            items = group.get("fulfillmentOrderLineItems") or [
                {"id": _gid("FulfillmentOrderLineItem", order.fulfillment_order_lines[line_id]), "quantity": left}
                for line_id, left in remaining.items()
                if left > 0
            ]
            for i, item in enumerate(items):
                line_id = lines_of.get(_id_in(item["id"]) or 0)
                if line_id is None:
                    errors.append(_error([*where, "fulfillmentOrderLineItems", str(i), "id"], "Line item not found."))
                    continue
                plan[line_id] = plan.get(line_id, 0) + item["quantity"]
                if item["quantity"] < 1 or plan[line_id] > remaining[line_id]:
                    errors.append(
                        _error(
                            [*where, "fulfillmentOrderLineItems", str(i), "quantity"],
                            "Invalid fulfillment order line item quantity requested.",
                        )
                    )
        return [{**e, "field": ["fulfillment", *e["field"]]} for e in errors], plan, order_ids

    # ---- shapes ----------------------------------------------------------------------------

    def _node(self, order: _Order) -> dict[str, Any]:
        """The order as the orders query's node (orders_api.ORDERS_QUERY's selection)."""
        rest = order.rest
        return {
            "id": rest["admin_graphql_api_id"],
            "legacyResourceId": str(rest["id"]),
            "name": rest["name"],
            "createdAt": _graphql_time(_stored(rest["created_at"])),
            "updatedAt": _graphql_time(order.updated),
            "cancelledAt": _graphql_time(_stored(rest["cancelled_at"])) if rest["cancelled_at"] else None,
            "displayFinancialStatus": rest["financial_status"].upper(),
            "displayFulfillmentStatus": self._display_fulfillment(order),
            "email": rest["email"],
            "note": rest["note"],
            "tags": [tag.strip() for tag in rest["tags"].split(",") if tag.strip()],
            "currencyCode": rest["currency"],
            "totalPriceSet": _shop_money(rest["total_price"]),
            "totalTaxSet": _shop_money(rest["total_tax"]),
            "totalShippingPriceSet": _shop_money(_money(sum(Decimal(s["price"]) for s in rest["shipping_lines"]))),
            "shippingLine": {"title": rest["shipping_lines"][0]["title"]} if rest["shipping_lines"] else None,
            "shippingAddress": _graphql_address(rest["shipping_address"]),
            "billingAddress": _graphql_address(rest["billing_address"]),
            "lineItems": {"nodes": [self._line_node(order, line) for line in rest["line_items"]]},
            "fulfillments": [_fulfillment_node(fulfillment) for fulfillment in rest["fulfillments"]],
            "refunds": [
                {
                    "id": refund["admin_graphql_api_id"],
                    "refundLineItems": {
                        "nodes": [
                            {
                                "id": _gid("RefundLineItem", item["id"]),
                                "quantity": item["quantity"],
                                "restockType": item["restock_type"].upper(),
                                "lineItem": {"id": _gid("LineItem", item["line_item_id"])},
                            }
                            for item in refund["refund_line_items"]
                        ]
                    },
                }
                for refund in rest["refunds"]
            ],
        }

    def _line_node(self, order: _Order, line: dict[str, Any]) -> dict[str, Any]:
        item = order.items[line["id"]]
        variant: dict[str, Any] | None = None
        if line["variant_id"] is not None:
            variant = {"id": _gid("ProductVariant", line["variant_id"]), "inventoryItem": None}
            if item is not None:
                variant["inventoryItem"] = {"id": item, "tracked": self._tracked(line)}
        return {
            "id": line["admin_graphql_api_id"],
            "sku": line["sku"] or None,
            "name": line["name"],
            "quantity": line["quantity"],
            "currentQuantity": line["current_quantity"],
            "unfulfilledQuantity": line["fulfillable_quantity"],
            "requiresShipping": line["requires_shipping"],
            "originalUnitPriceSet": _shop_money(line["price"]),
            "variant": variant,
        }

    def _fulfillment_view(self, order: _Order) -> dict[str, Any]:
        """The order as orders_api.FULFILLMENT_ORDERS_QUERY reads it."""
        rest = order.rest
        return {
            "id": rest["admin_graphql_api_id"],
            "fulfillments": [
                {
                    "id": fulfillment["admin_graphql_api_id"],
                    "status": fulfillment["status"].upper(),
                    "trackingInfo": _tracking(
                        {"company": fulfillment["tracking_company"], "number": fulfillment["tracking_number"]}
                    ),
                    "fulfillmentLineItems": _fulfillment_node(fulfillment)["fulfillmentLineItems"],
                }
                for fulfillment in rest["fulfillments"]
            ],
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": _gid("FulfillmentOrder", order.fulfillment_order),
                        "status": self._status(order),
                        "lineItems": {
                            "nodes": [
                                {
                                    "id": _gid("FulfillmentOrderLineItem", order.fulfillment_order_lines[line["id"]]),
                                    "remainingQuantity": line["fulfillable_quantity"],
                                    "lineItem": {"id": line["admin_graphql_api_id"]},
                                }
                                for line in rest["line_items"]
                            ]
                        },
                    }
                ]
            },
        }

    # ---- internals (under the lock) --------------------------------------------------------

    def _line(self, spec: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
        """One new REST line item and its inventory item GID (None for a custom item)."""
        if not isinstance(spec, dict) or not isinstance(spec.get("sku", ""), str):
            raise ValueError("a line is {sku, quantity, ...}")
        quantity = _whole(spec.get("quantity"), "a line's quantity")
        if quantity < 1:
            raise ValueError("a line's quantity must be at least 1")
        custom = "variant_id" in spec and spec["variant_id"] is None
        tracked = bool(spec.get("tracked", True)) and not custom
        sku = spec.get("sku", "")
        line_id = self._next_id()
        name = str(spec.get("name") or sku or "Custom item")
        line = {
            "id": line_id,
            "admin_graphql_api_id": _gid("LineItem", line_id),
            "current_quantity": quantity,
            "fulfillable_quantity": quantity,
            "fulfillment_service": "manual",
            "fulfillment_status": None,
            "gift_card": False,
            "grams": 0,
            "name": name,
            "price": _money(spec.get("price", DEFAULT_PRICE)),
            "product_exists": not custom,
            "product_id": None if custom else self._next_id(),
            "properties": [],
            "quantity": quantity,
            "requires_shipping": bool(spec.get("requires_shipping", True)),
            "sku": sku,
            "taxable": True,
            "title": name,
            "total_discount": "0.00",
            "variant_id": None if custom else _number(spec.get("variant_id") or self._next_id()),
            "variant_inventory_management": "shopify" if tracked else None,
            "variant_title": None,
            "vendor": None,
            "tax_lines": [],
            "discount_allocations": [],
            "duties": [],
        }
        item = None if custom else _gid("InventoryItem", spec.get("inventory_item_id") or self._next_id())
        return line, item

    def _apply_refund(self, order: _Order, lines: list[tuple[int, int, str]], at: datetime) -> dict[str, Any]:
        """Check every refund line against a copy first, so a bad one changes nothing."""
        trial = copy.deepcopy(order.rest["line_items"])
        by_id = {line["id"]: line for line in trial}
        moves: list[tuple[int, int, int]] = []
        for line_id, quantity, restock_type in lines:
            line = by_id.get(line_id)
            if line is None:
                raise ValueError(f"order {order.rest['id']} has no line {line_id}")
            if restock_type not in RESTOCK_TYPES:
                raise ValueError(f"restock_type must be one of {sorted(RESTOCK_TYPES)}")
            unfulfilled = line["fulfillable_quantity"]
            shipped_held = line["current_quantity"] - unfulfilled
            limit = {"cancel": unfulfilled, "return": shipped_held}.get(restock_type, line["current_quantity"])
            if not 1 <= _whole(quantity, "a refund quantity") <= limit:
                raise ValueError(f"line {line_id}: {restock_type} can take 1 to {limit} units, not {quantity}")
            from_unfulfilled = 0 if restock_type == "return" else min(quantity, unfulfilled)
            line["current_quantity"] -= quantity
            line["fulfillable_quantity"] -= from_unfulfilled
            if restock_type in ("cancel", "legacy_restock"):
                moves.append((line_id, from_unfulfilled, 0))
            if restock_type in ("return", "legacy_restock"):
                back = quantity - from_unfulfilled
                moves.append((line_id, back, back))
        order.rest["line_items"] = trial
        for line_id, available, on_hand in moves:
            self._move(order, line_id, available=available, on_hand=on_hand)
        rid = self._next_id()
        refund = {
            "id": rid,
            "admin_graphql_api_id": _gid("Refund", rid),
            "order_id": order.rest["id"],
            "created_at": _rest_time(at),
            "processed_at": _rest_time(at),
            "note": None,
            "restock": any(restock_type != "no_restock" for _, _, restock_type in lines),
            "user_id": None,
            "refund_line_items": [
                {
                    "id": self._next_id(),
                    "line_item_id": line_id,
                    "location_id": None if restock_type == "no_restock" else _number(order.location),
                    "quantity": quantity,
                    "restock_type": restock_type,
                    "subtotal": float(Decimal(by_id[line_id]["price"]) * quantity),
                    "total_tax": 0.0,
                }
                for line_id, quantity, restock_type in lines
            ],
            "transactions": [],
            "order_adjustments": [],
            "refund_shipping_lines": [],
        }
        order.rest["refunds"].append(refund)
        return refund

    def _touch(self, order: _Order, at: datetime) -> None:
        """After a change: statuses from the lines, and a new ``updated_at``."""
        rest = order.rest
        shipped: dict[int, int] = {}
        for fulfillment in rest["fulfillments"]:
            for item in fulfillment["line_items"]:
                shipped[item["id"]] = shipped.get(item["id"], 0) + item["quantity"]
        for line in rest["line_items"]:
            line["fulfillment_status"] = _fulfillment_status(shipped.get(line["id"], 0), line["fulfillable_quantity"])
        left = sum(line["fulfillable_quantity"] for line in rest["line_items"])
        rest["fulfillment_status"] = _fulfillment_status(sum(shipped.values()), left)
        order.updated = at
        rest["updated_at"] = _rest_time(at)

    def _display_fulfillment(self, order: _Order) -> str:
        if order.held:
            return "ON_HOLD"
        if not order.rest["fulfillments"]:
            return "UNFULFILLED"
        left = any(line["fulfillable_quantity"] for line in order.rest["line_items"])
        return "PARTIALLY_FULFILLED" if left else "FULFILLED"

    def _status(self, order: _Order) -> str:
        rest = order.rest
        if rest["cancelled_at"] or not any(line["fulfillable_quantity"] for line in rest["line_items"]):
            return "CLOSED"
        if order.held:
            return "ON_HOLD"
        return "IN_PROGRESS" if rest["fulfillments"] else "OPEN"

    def _move(self, order: _Order, line_id: int, available: int = 0, on_hand: int = 0) -> None:
        """Move the shop's stock of a line's item at the order's location, if it is stocked there."""
        item = order.items[line_id]
        line = self._line_of(order, line_id)
        if item is None or not self._tracked(line) or (available == 0 and on_hand == 0):
            return
        now_available = self._shop.available(item, order.location)
        now_on_hand = self._shop.on_hand(item, order.location)
        if now_available is not None and now_on_hand is not None:
            self._shop.stock(item, order.location, now_available + available, now_on_hand + on_hand)

    def _queue(self, order: _Order, *topics: str) -> None:
        for topic in topics:
            self._enqueue(topic, order.rest)

    def _queue_refund(self, order: _Order, refund: dict[str, Any]) -> None:
        """``refunds/create`` carries each refunded line item too (refunds_create.json)."""
        lines = {line["id"]: line for line in order.rest["line_items"]}
        body = copy.deepcopy(refund)
        for item in body["refund_line_items"]:
            item["line_item"] = copy.deepcopy(lines[item["line_item_id"]])
        self._enqueue("refunds/create", body)

    def _enqueue(self, topic: str, body: dict[str, Any]) -> None:
        queued_at = _rest_time(self._s.last)
        self._s.outbox.append(
            {"id": str(uuid.uuid4()), "topic": topic, "body": copy.deepcopy(body), "queued_at": queued_at}
        )

    def _order(self, order_id: int | str) -> _Order:
        order = self._s.orders.get(_number(order_id))
        if order is None:
            raise KeyError(f"no order {order_id}")
        return order

    @staticmethod
    def _line_of(order: _Order, line_id: int | str) -> dict[str, Any]:
        wanted = _number(line_id)
        for line in order.rest["line_items"]:
            if line["id"] == wanted:
                return line
        raise KeyError(f"order {order.rest['id']} has no line {line_id}")

    @staticmethod
    def _tracked(line: dict[str, Any]) -> bool:
        return line["variant_inventory_management"] == "shopify"

    def _default_location(self) -> str:
        if self.location is not None:
            return _gid("Location", self.location)
        levels = self._shop.levels()
        return str(levels[0]["location"]) if levels else DEFAULT_LOCATION

    def _next_id(self) -> int:
        self._s.ids += 1
        return ID_BASE + self._s.ids

    def _tick(self) -> datetime:
        """Now, in whole milliseconds, and at least 1 ms after the last change: ``updated_at``
        must order every change even within one second."""
        now = self.wall_clock().astimezone(UTC)
        now = now.replace(microsecond=now.microsecond // 1000 * 1000)
        last = self._s.last
        if last is not None and now <= last:
            now = last + timedelta(milliseconds=1)
        self._s.last = now
        return now

    # ---- control API -----------------------------------------------------------------------

    def _change(self, order_id: str, change: list[str], body: dict[str, Any]) -> Any:
        """``POST /_sandbox/orders/{id}/cancel|hold|refunds|lines/{line}``; None: no such route."""
        match change:
            case ["cancel"]:
                return self.cancel_order(order_id, bool(body.get("restock", True)), str(body.get("reason", "other")))
            case ["hold"]:
                return self.hold(order_id, bool(body.get("held", True)))
            case ["refunds"]:
                return self.refund(order_id, _refund_lines(body.get("lines")))
            case ["lines", line_id]:
                return self.edit_line(order_id, line_id, _whole(body.get("quantity"), "quantity"))
        return None

    def control(self, method: str, path: str, payload: Any) -> SandboxResponse | None:
        """Answer the order routes of the control API (see the module docstring), or None."""
        body = payload if isinstance(payload, dict) else {}
        answer: Any = None
        try:
            match [method, *path.rstrip("/").split("/")[2:]]:  # the parts after /_sandbox
                case ["POST", "orders"]:
                    lines, status = body.get("lines") or [], body.get("financial_status", "paid")
                    shipping = body.get("shipping")
                    answer = self.create_order(lines, status, None, body.get("location"), shipping=shipping)
                case ["GET", "orders"]:
                    answer = {"orders": self.orders()}
                case ["GET", "orders", order_id]:
                    answer = self.order(order_id)
                case ["POST", "orders", order_id, *change]:
                    answer = self._change(order_id, change, body)
                case ["GET", "fulfillments"]:
                    answer = {"fulfillments": self.fulfillments()}
                case ["GET", "webhooks"]:
                    answer = {"webhooks": self.webhooks()}
                case ["POST", "webhooks", "deliver"]:
                    if not isinstance(body.get("url"), str):
                        raise ValueError('expected {"url": ..., "secret"?: ...}')
                    answer = self.deliver_webhooks(body["url"], body.get("secret"))
        except KeyError as missing:
            return json_response(404, {"error": str(missing.args[0]) if missing.args else "not found"})
        except (TypeError, ValueError) as error:
            return json_response(400, {"error": str(error)})
        return None if answer is None else json_response(200, answer)


# ---- parsing ---------------------------------------------------------------------------------


def _fulfillment_node(fulfillment: dict[str, Any]) -> dict[str, Any]:
    """A REST fulfillment as the GraphQL ``Fulfillment`` the queries select."""
    return {
        "id": fulfillment["admin_graphql_api_id"],
        "status": fulfillment["status"].upper(),
        "fulfillmentLineItems": {
            "nodes": [
                {"quantity": item["quantity"], "lineItem": {"id": _gid("LineItem", item["id"])}}
                for item in fulfillment["line_items"]
            ]
        },
    }


def _argument(args: str, name: str, variables: dict[str, Any]) -> Any:
    """A field argument's value: a ``$variable``, an int, a string or an enum literal."""
    match = re.search(_ARGUMENT.format(name), args)
    if match is None:
        return _MISSING
    if match["var"] is not None:
        return variables.get(match["var"])
    if match["int"] is not None:
        return int(match["int"])
    if match["text"] is not None:
        return json.loads(f'"{match["text"]}"')
    return None if match["enum"] == "null" else match["enum"]


def _orders_page(args: str, variables: dict[str, Any]) -> OrdersPage:
    first = _argument(args, "first", variables)
    if not isinstance(first, int) or isinstance(first, bool) or not 1 <= first <= MAX_PAGE_SIZE:
        raise OrdersQueryError(f"orders(first:) must be a whole number from 1 to {MAX_PAGE_SIZE}, not {first!r}.")
    cost = 1 + first * ORDER_COST_EACH
    sort_key = _argument(args, "sortKey", variables)
    if sort_key not in (_MISSING, None, "ID", "UPDATED_AT"):
        raise OrdersQueryError(f"orders(sortKey: {sort_key}): the sandbox sorts by ID or UPDATED_AT.", cost=cost)
    by_updated = sort_key == "UPDATED_AT"
    since = None
    search = _argument(args, "query", variables)
    if search not in (_MISSING, None):
        match = _SINCE.match(search) if isinstance(search, str) else None
        since = _parse(match["at"], strict=True) if match else None
        if since is None:
            raise OrdersQueryError(
                f"orders(query: {search!r}): the sandbox understands only updated_at:>='<ISO 8601 with offset>'.",
                cost=cost,
            )
    after = _argument(args, "after", variables)
    cursor = None if after in (_MISSING, None) else _read_cursor(after, by_updated, cost)
    return OrdersPage(first, since, by_updated, cursor)


def _check_fulfillment(given: Any) -> dict[str, Any]:
    """Variable coercion for FulfillmentInput!: a wrong shape fails the whole request."""

    def bad(where: str, explanation: str) -> OrdersQueryError:
        message = f"Variable $fulfillment of type FulfillmentInput! was provided invalid value{where} ({explanation})"
        return OrdersQueryError(message, "INVALID_VARIABLE", CREATE_COST)

    if not isinstance(given, dict):
        raise bad("", "Expected value to not be null")
    groups = given.get("lineItemsByFulfillmentOrder")
    if not isinstance(groups, list) or not groups:
        raise bad(" for lineItemsByFulfillmentOrder", "Expected a non-empty list")
    for g, group in enumerate(groups):
        if not isinstance(group, dict) or not isinstance(group.get("fulfillmentOrderId"), str):
            raise bad(f" for lineItemsByFulfillmentOrder.{g}.fulfillmentOrderId", "Expected an ID")
        for i, item in enumerate(group.get("fulfillmentOrderLineItems") or []):
            where = f" for lineItemsByFulfillmentOrder.{g}.fulfillmentOrderLineItems.{i}"
            if not isinstance(item, dict) or not isinstance(item.get("id"), str):
                raise bad(f"{where}.id", "Expected an ID")
            if not isinstance(item.get("quantity"), int) or isinstance(item["quantity"], bool):
                raise bad(f"{where}.quantity", "Expected an Int")
    if not isinstance(given.get("trackingInfo") or {}, dict):
        raise bad(" for trackingInfo", "Expected an object")
    return given


def _refund_lines(given: Any) -> list[tuple[Any, Any, Any]]:
    if not isinstance(given, list) or not all(isinstance(entry, dict) for entry in given):
        raise ValueError('expected {"lines": [{"line_id", "quantity", "restock_type"}]}')
    return [(entry.get("line_id"), entry.get("quantity"), entry.get("restock_type")) for entry in given]


def _cursor(last_id: int, last_value: str | None) -> str:
    return base64.b64encode(json.dumps({"last_id": last_id, "last_value": last_value}).encode()).decode()


def _read_cursor(value: Any, by_updated: bool, cost: int) -> tuple[datetime, int]:
    try:
        decoded = json.loads(base64.b64decode(str(value), validate=True))
        last_id = decoded["last_id"]
        last_value = _parse(decoded["last_value"], strict=True) if by_updated else EPOCH
        if not isinstance(last_id, int) or last_value is None:
            raise ValueError(value)
    except (ValueError, TypeError, KeyError):
        raise OrdersQueryError("Invalid cursor for the current pagination sort.", cost=cost) from None
    return last_value, last_id


# ---- small shapes ----------------------------------------------------------------------------


def _gid(kind: str, value: Any) -> str:
    text = str(value)
    return text if text.startswith("gid://") else f"gid://shopify/{kind}/{text}"


def _number(value: Any) -> int:
    """The numeric id in a GID or a number (ValueError if there is none)."""
    found = _id_in(value)
    if found is None:
        raise ValueError(f"not an id: {value!r}")
    return found


def _id_in(value: Any) -> int | None:
    tail = str(value).rsplit("/", 1)[-1].split("?", 1)[0]
    return int(tail) if tail.isdigit() else None


def _whole(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise ValueError(f"{what} must be a whole number")
    return value


def _money(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None


def _shop_money(amount: str) -> dict[str, Any]:
    return {"shopMoney": {"amount": amount}}


def _tracking(tracking: dict[str, Any]) -> list[dict[str, Any]]:
    if not tracking.get("number"):
        return []
    return [{"company": tracking.get("company"), "number": tracking["number"], "url": tracking.get("url")}]


def _graphql_address(address: dict[str, Any] | None) -> dict[str, Any] | None:
    if address is None:
        return None
    return {
        "name": address.get("name"),
        "company": address.get("company"),
        "address1": address.get("address1"),
        "address2": address.get("address2"),
        "city": address.get("city"),
        "provinceCode": address.get("province_code"),
        "zip": address.get("zip"),
        "countryCodeV2": address.get("country_code"),
        "phone": address.get("phone"),
    }


def _fulfillment_status(shipped: int, left: int) -> str | None:
    if shipped == 0:
        return None
    return "partial" if left else "fulfilled"


def _error(path: list[str], message: str) -> dict[str, Any]:
    return {"field": path, "message": message}


def _rest_time(moment: datetime | None) -> str:
    """REST webhooks carry the shop's offset: 2025-06-03T10:15:03.123-04:00."""
    return (moment or datetime.now(UTC)).astimezone(SHOP_OFFSET).isoformat(timespec="milliseconds")


def _graphql_time(moment: datetime) -> str:
    """GraphQL DateTime in UTC with Z (here with milliseconds): 2025-06-03T14:15:03.123Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _stored(text: str) -> datetime:
    """One of the sandbox's own REST timestamps, back as UTC."""
    return datetime.fromisoformat(text).astimezone(UTC)


def _parse(text: Any, strict: bool = False) -> datetime | None:
    """An ISO 8601 timestamp with an offset (or Z) as an aware datetime; None if it is not one."""
    try:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None if strict else moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _shipping_line(shipping: Any, line_id: int) -> dict[str, Any]:
    if not isinstance(shipping, dict) or not isinstance(shipping.get("title"), str):
        raise ValueError('shipping is {"title": "...", "price": "5.00"}')
    price = _money(Decimal(str(shipping.get("price") or "0")))
    return {"id": line_id, "code": shipping["title"], "title": shipping["title"], "price": price, "source": "shopify"}
