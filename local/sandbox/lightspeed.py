"""Lightspeed Retail X-Series sandbox: TEST EQUIPMENT, not a Lightspeed implementation.

``LightspeedSandbox`` stands in for one retailer's ``https://{prefix}.retail.lightspeed.app`` so
the local stack and the tests can ring up sales, recount stock and import web orders at a POS
and watch Omnistock follow. It serves:

1. ``POST /api/1.0/token`` (form-encoded refresh grant). Refresh tokens ROTATE: the one used is
   revoked, so reusing it (or wrong client credentials) answers 400 ``{"error": "invalid_grant"}``.
   Only the newest access token is good, for ``access_ttl`` seconds; any other bearer on the API
   answers 401 ``{"error": "unauthorized"}``.
2. ``GET /api/2.0/products|inventory|sales?after=<version>&page_size=<n>``: records changed after
   ``after``, lowest version first, as ``{"data": [...], "version": {"min", "max"}}`` (``"version":
   null`` when none: a client stops on an empty page). As in Lightspeed, one retailer-wide version
   grows, by more than 1, on every change of any record, and a record shows only its latest state.
   Answers carry ``X-RateLimit-Limit``/``-Remaining`` (counted per 5-minute window, not enforced:
   throttling is injected with ``throttle_next``, whose ``Retry-After`` is an HTTP date).
3. Control routes without auth under ``/_sandbox/lightspeed/`` (listed in ``_control``): each
   runs the Python method of the same purpose, its keyword arguments the JSON body (the query for
   GET), e.g. ``POST products {"sku": "A", "counts": {"outlet-shop": 3}}`` -> ``{"id": ...}``.

4. Writing sales as an integration does (the dated API, ``/api/2026-04``): ``POST sales`` with a
   caller-chosen ``id`` (a second POST of that id answers 409 ``sale_exists``: which of 409 or an
   update Lightspeed answers is unverified, and the product must be safe with both), ``GET`` and
   ``PUT sales/{id}`` (payments, state), ``POST products`` (``sku`` unique: a duplicate answers
   422), and ``GET /api/2.0/registers|users|payment_types`` and ``/api/2.0/search?type=products&sku=``.
   A sale is refused (400) unless its register, author and payment types exist and are not
   archived and its products exist. A ``closed`` sale, and a ``pending`` one on account, take
   their units as the till's do; a parked one takes none. ``lose_next_answers`` commits the next
   writes and answers 504 as a gateway whose upstream went quiet would (the answer lost).

A sale takes its version first, then each line's inventory record a higher one, so a count whose
version is above a sale's already includes that sale. Every change also queues the webhook the POS
would send, in the API 1.0 shapes (``inventory.update`` with ``count``; ``sale.update`` naming the
register, not the outlet; ``product.update`` with its counts); ``deliver_webhooks`` POSTs them
form-encoded, signed with the client secret in ``X-Signature``. All state sits behind one lock.
"""

from __future__ import annotations

import copy
import email.utils
import json
import logging
import math
import secrets
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from local.sandbox.server import (
    HeadersIn,
    LoopbackSandbox,
    LoopbackServer,
    SandboxResponse,
    json_response,
    lower_headers,
)
from omnistock.channels.lightspeed.webhooks import signature_header

if TYPE_CHECKING:
    import httpx

Record = dict[str, Any]
Lines = Iterable[tuple[str, int]]  # (product_id, quantity)
log = logging.getLogger("local.sandbox.lightspeed")

CONTROL = "/_sandbox/lightspeed"
TOKEN_PATH = "/api/1.0/token"  # noqa: S105 - a path, not a password
FEEDS = ("products", "inventory", "sales")
FIRST_VERSION = 1_000_000
VERSION_STEP = 3  # Lightspeed's versions are not +1 per change; a client must not assume so
RATE_LIMIT, RATE_WINDOW = 350, 300.0
DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE = 200, 10_000
FIRST_INVOICE = 1000
DATED = "/api/2026-04"  # the date version the sale and product writes are served under
LISTS = ("registers", "users", "payment_types")
WEB_USER, WEB_PAYMENT_TYPE = "user-web-orders", "payment-type-web"
TAKES_UNITS = ("CLOSED", "ONACCOUNT", "LAYBY", "AWAITING_DISPATCH", "DISPATCHED_CLOSED", "ONACCOUNT_CLOSED")
LINE_PRICE = 10  # every unit sells for 10.00000: totals are not what the sandbox is for
RETAILER_ID = "retailer-1"
LEVEL_DEFAULTS = {"reorder_point": "0", "restock_level": "0"}
THROTTLED = {"error": "Too Many Requests", "message": "Rate limiting enforced"}


@dataclass
class _Faults:
    throttle_next: int = 0
    retry_after: float = 2.0
    fail_next: int = 0
    fail_status: int = 503
    lose_answers: int = 0


@dataclass
class _State:
    products: dict[str, Record] = field(default_factory=dict)
    inventory: dict[tuple[str, str], Record] = field(default_factory=dict)  # (product, outlet)
    sales: dict[str, Record] = field(default_factory=dict)
    outbox: list[Record] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    api_calls: Counter[str] = field(default_factory=Counter)
    faults: _Faults = field(default_factory=_Faults)
    invoice: int = FIRST_INVOICE
    registers: dict[str, Record] = field(default_factory=dict)
    users: dict[str, Record] = field(default_factory=dict)
    payment_types: dict[str, Record] = field(default_factory=dict)
    window: tuple[float, int] = (-math.inf, 0)  # rate-limit window start, calls in it


class LightspeedSandbox(LoopbackSandbox):
    """TEST EQUIPMENT: a local stand-in for one Lightspeed X-Series retailer.

    ``with LightspeedSandbox() as ls:`` serves ``ls.url`` on loopback; ``ls.handle`` (and
    ``ls.transport()``) answer the same way in-process. Store ``ls.initial_tokens()`` where the
    product keeps its tokens; seed with ``add_product``, then ``sell``/``set_count``.
    """

    log = log  # the base class logs its banner here

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        domain_prefix: str = "omnistock-sandbox",
        client_id: str = "local-lightspeed-client",
        client_secret: str = "local-lightspeed-client-secret",  # noqa: S107 - a fixed local value
        outlets: Iterable[str] = ("outlet-shop",),
        access_ttl: int = 3600,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._outlets = tuple(outlets)
        if not self._outlets or len(set(self._outlets)) != len(self._outlets):
            raise ValueError("outlets are one or more distinct ids")
        self.domain_prefix, self.client_id, self.client_secret = domain_prefix, client_id, client_secret
        self.access_ttl, self._clock = access_ttl, clock
        self._lock = threading.RLock()
        self._state = _State()
        self._version = FIRST_VERSION  # never goes back, not even on reset(): consumers keep cursors
        self._access, self._refresh, self._expires = "", "", 0.0
        self._seed_setup()
        self._issue()
        self._initial = {"access_token": self._access, "refresh_token": self._refresh, "expires_at": int(self._expires)}
        self._initial |= {"client_id": client_id, "client_secret": client_secret, "domain_prefix": domain_prefix}
        self.webhook_client: httpx.Client | None = None  # for deliver_webhooks; tests inject one
        self._server = LoopbackServer(self.handle, host, port, "lightspeed-sandbox", log)

    @property
    def api_base(self) -> str:
        """Stands in for ``https://{domain_prefix}.retail.lightspeed.app``."""
        return self.url

    @property
    def token_url(self) -> str:
        return self.url + TOKEN_PATH

    @property
    def outlets(self) -> tuple[str, ...]:
        return self._outlets

    @property
    def registers(self) -> dict[str, str]:
        """Each outlet's one register id, by outlet id."""
        return {outlet: f"register-{outlet}" for outlet in self._outlets}

    def banner(self) -> str:
        return f"Lightspeed sandbox (test equipment), outlets {', '.join(self._outlets)}"

    def initial_tokens(self) -> Record:
        """The pair issued at construction, as the product stores it (stale after a refresh)."""
        return dict(self._initial)

    def expire_access_token(self) -> None:
        """The current access token expires now: the next API call answers 401."""
        with self._lock:
            self._expires = self._clock()

    def _issue(self) -> None:
        self._access = f"ls_access_{secrets.token_urlsafe(18)}"
        self._refresh = f"ls_refresh_{secrets.token_urlsafe(18)}"
        self._expires = self._clock() + self.access_ttl

    def add_product(self, sku: str, counts: dict[str, int] | None = None, name: str = "") -> str:
        """A new product with a count per outlet (0 unless given); returns its id. Queues
        ``product.update`` and one ``inventory.update`` per outlet."""
        counts = dict(counts or {})
        if not isinstance(sku, str) or not sku or not isinstance(name, str):
            raise ValueError("sku is a non-empty string, name a string")
        for outlet, count in counts.items():
            self._outlet(outlet)
            _whole(count, "count")
        with self._lock:
            if any(product["sku"] == sku for product in self._state.products.values()):
                raise ValueError(f"sku {sku!r} already exists")
            product_id = str(uuid.uuid4())
            product = {"id": product_id, "sku": sku, "name": name or sku, "version": self._bump(), "deleted_at": None}
            self._state.products[product_id] = product
            for outlet in self._outlets:
                count = counts.get(outlet, 0)
                record: Record = {"id": str(uuid.uuid4()), "product_id": product_id, "outlet_id": outlet}
                record |= {"inventory_level": count, "current_amount": count, "version": self._bump()}
                self._state.inventory[(product_id, outlet)] = record | {"deleted_at": None}
            self._queue("product.update", self._product_payload(product))
            for outlet in self._outlets:
                self._queue("inventory.update", self._inventory_payload(self._state.inventory[(product_id, outlet)]))
            return product_id

    def set_count(self, product_id: str, outlet_id: str, count: int) -> Record:
        """A recount or a consignment received: the count becomes ``count`` at a new version.
        Queues ``inventory.update``; returns the inventory record."""
        _whole(count, "count")
        with self._lock:
            record = self._record(product_id, outlet_id)
            self._set_level(record, count)
            return copy.deepcopy(record)

    def sell(
        self,
        outlet_id: str,
        lines: Lines,
        *,
        invoice_number: str | None = None,
        source: str = "USER",
        status: str = "CLOSED",
        customer: Record | None = None,
    ) -> Record:
        """A sale at the outlet's register (closed unless ``status`` says otherwise: e.g.
        ``AWAITING_DISPATCH`` for one marked for delivery, with the ``customer`` it goes to, as
        API 1.0 nests it): the sale's version first, then each line's count drops (below 0 if
        need be, as a POS allows) at a higher one. Queues ``sale.update`` then the
        ``inventory.update``s; returns the sale record."""
        wanted = [(str(product_id), _whole(quantity, "quantity")) for product_id, quantity in lines]
        if not wanted or any(quantity == 0 for _, quantity in wanted):
            raise ValueError("a sale has lines of non-zero quantity")
        with self._lock:
            records = [self._record(product_id, outlet_id) for product_id, _ in wanted]  # all known first
            if invoice_number is None:
                invoice_number, self._state.invoice = str(self._state.invoice), self._state.invoice + 1
            sale: Record = {"id": str(uuid.uuid4()), "outlet_id": outlet_id}
            sale |= {"register_id": self.registers[outlet_id], "invoice_number": str(invoice_number)}
            sale |= {"status": str(status), "source": str(source)}
            sale |= {"customer": dict(customer)} if isinstance(customer, dict) else {}
            sale |= {"created_at": datetime.fromtimestamp(int(self._clock()), tz=UTC).isoformat()}
            sale |= {"version": self._bump(), "deleted_at": None}
            sale["line_items"] = [{"id": str(uuid.uuid4()), "product_id": p, "quantity": q} for p, q in wanted]
            self._state.sales[sale["id"]] = sale
            self._queue("sale.update", self._sale_payload(sale))
            for record, (_, quantity) in zip(records, wanted, strict=True):
                self._set_level(record, record["inventory_level"] - quantity)
            return copy.deepcopy(sale)

    def resave(self, sale_id: str, status: str | None = None) -> Record:
        """Save a sale again (its status changed, or not): a new version and ``sale.update``."""
        with self._lock:
            sale = self._state.sales.get(sale_id)
            if sale is None:
                raise KeyError(f"no sale {sale_id!r}")
            sale.update(status=status or sale["status"], version=self._bump())
            self._queue("sale.update", self._sale_payload(sale))
            return copy.deepcopy(sale)

    def import_web_order(self, outlet_id: str, lines: Lines, order_number: str) -> Record:
        """How a POS imports a web order: a sale whose receipt number is the order's number."""
        return self.sell(outlet_id, lines, invoice_number=order_number, source="SHOPIFY")

    def count(self, product_id: str, outlet_id: str) -> int:
        with self._lock:
            return int(self._record(product_id, outlet_id)["inventory_level"])

    def product_id_for(self, sku: str) -> str:
        with self._lock:
            found = [p["id"] for p in self._state.products.values() if p["sku"] == sku]
        if not found:
            raise KeyError(f"no product with sku {sku!r}")
        return str(found[0])

    def version(self) -> int:
        """The retailer-wide version: the last one any change took."""
        with self._lock:
            return self._version

    def counters(self) -> Record:
        """``refreshes``, ``refused_refreshes``, ``unauthorized``, ``throttled``, ``failed``,
        ``webhooks_queued``, ``webhooks_delivered``, and ``api_calls`` by path."""
        keys = (
            "refreshes",
            "refused_refreshes",
            "unauthorized",
            "throttled",
            "failed",
            "webhooks_queued",
            "lost_answers",
        )
        with self._lock:
            counts: Record = {k: self._state.counters[k] for k in (*keys, "webhooks_delivered")}
            return counts | {"api_calls": dict(self._state.api_calls)}

    def webhooks(self) -> list[Record]:
        """The queued deliveries, oldest first: ``{"type", "payload"}``."""
        with self._lock:
            return copy.deepcopy(self._state.outbox)

    def reset_outbox(self) -> None:
        """Forget the queued webhooks (a test that delivered them itself)."""
        with self._lock:
            self._state.outbox.clear()

    def reset(self) -> None:
        """Forget records, webhooks, counters and faults. Tokens stay valid (the product has them
        stored) and versions keep growing, as a consumer's cursor expects."""
        with self._lock:
            self._state = _State()
            self._seed_setup()

    def _seed_setup(self) -> None:
        """Each outlet's register, a user for web orders and a "Shopify" payment type."""
        state = self._state
        for outlet, register in self.registers.items():
            state.registers[register] = {"id": register, "name": f"Register {outlet}", "outlet_id": outlet}
        state.users[WEB_USER] = {"id": WEB_USER, "display_name": "Web orders"}
        state.payment_types[WEB_PAYMENT_TYPE] = {"id": WEB_PAYMENT_TYPE, "name": "Shopify"}
        for table in (state.registers, state.users, state.payment_types):
            for record in table.values():
                record.update(version=self._version, deleted_at=None)  # not a change a feed reports

    def archive(self, kind: str, record_id: str) -> None:
        """Archive (delete) a register, user or payment type, as a retailer does in Setup."""
        with self._lock:
            table = self._list(kind)
            if record_id not in table:
                raise KeyError(f"no {kind} {record_id!r}")
            table[record_id].update(deleted_at=datetime.fromtimestamp(self._clock(), tz=UTC).isoformat())
            table[record_id]["version"] = self._bump()

    def _list(self, kind: str) -> dict[str, Record]:
        if kind not in LISTS:
            raise ValueError(f"kind is one of {', '.join(LISTS)}")
        table: dict[str, Record] = getattr(self._state, kind)
        return table

    def lose_next_answers(self, n: int = 1) -> None:
        """The next ``n`` writes (sale and product creation and updates) commit, then answer 504."""
        with self._lock:
            self._state.faults.lose_answers = max(0, _whole(n, "n"))

    def sale(self, sale_id: str) -> Record:
        with self._lock:
            if sale_id not in self._state.sales:
                raise KeyError(f"no sale {sale_id!r}")
            return copy.deepcopy(self._state.sales[sale_id])

    def sales_from(self, source: str) -> list[Record]:
        """Every sale written by an integration naming itself ``source``, oldest first."""
        with self._lock:
            found = [s for s in self._state.sales.values() if s.get("source") == source]
            return copy.deepcopy(sorted(found, key=lambda sale: sale["version"]))

    def throttle_next(self, n: int = 1, retry_after_seconds: float = 2) -> None:
        """The next ``n`` API calls (not token refreshes) answer 429, ``Retry-After`` a date."""
        if isinstance(retry_after_seconds, bool) or not isinstance(retry_after_seconds, int | float):
            raise ValueError("retry_after_seconds is a number")
        with self._lock:
            self._state.faults.throttle_next = max(0, _whole(n, "n"))
            self._state.faults.retry_after = retry_after_seconds

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        """The next ``n`` API calls (not token refreshes) answer ``status``."""
        with self._lock:
            self._state.faults.fail_next, self._state.faults.fail_status = max(0, _whole(n, "n")), _whole(status, "s")

    def clear_faults(self) -> None:
        with self._lock:
            self._state.faults = _Faults()

    def delivery_request(self, webhook: Record, secret: str | None = None) -> tuple[bytes, dict[str, str]]:
        """The raw form body and headers Lightspeed would POST for one queued webhook."""
        form = {"payload": json.dumps(webhook["payload"]), "type": webhook["type"]}
        raw = urlencode(form | {"domain_prefix": self.domain_prefix, "retailer_id": RETAILER_ID}).encode()
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return raw, headers | {"X-Signature": signature_header(raw, secret or self.client_secret)}

    def deliver_webhooks(
        self, url: str, *, duplicate_every: int = 0, reverse: bool = False, secret: str | None = None
    ) -> list[int]:
        """POST the queued webhooks to ``url`` (newest first with ``reverse``; every k-th twice
        with ``duplicate_every=k``); those answered 2xx leave the queue. Returns every answer's
        status, 0 where none came. The lock is not held while sending: the receiver may call back."""
        import httpx

        _whole(duplicate_every, "duplicate_every")
        queued, statuses, delivered = self.webhooks(), [], []
        client = self.webhook_client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        try:
            for position, webhook in enumerate(reversed(queued) if reverse else queued, start=1):
                raw, headers = self.delivery_request(webhook, secret)
                sends = 2 if duplicate_every > 0 and position % duplicate_every == 0 else 1
                for _ in range(sends):
                    try:
                        statuses.append(client.post(url, content=raw, headers=headers).status_code)
                    except (httpx.HTTPError, httpx.InvalidURL) as error:  # reported; it stays queued
                        log.warning("lightspeed sandbox: delivery to %s failed: %s", url, error)
                        statuses.append(0)
                if any(200 <= status < 300 for status in statuses[-sends:]):
                    delivered.append(webhook)
        finally:
            if self.webhook_client is None:
                client.close()
        with self._lock:
            for webhook in delivered:
                if webhook in self._state.outbox:
                    self._state.outbox.remove(webhook)
            self._state.counters["webhooks_delivered"] += len(delivered)
        return statuses

    def transport(self) -> httpx.MockTransport:
        """An httpx transport answering from this sandbox in-process (any host)."""
        import httpx

        def answer(request: httpx.Request) -> httpx.Response:
            target = request.url.raw_path.decode("ascii")
            response = self.handle(request.method, target, list(request.headers.items()), request.read())
            return httpx.Response(response.status, headers=response.headers, content=response.body)

        return httpx.MockTransport(answer)

    def handle(self, method: str, target: str, headers: HeadersIn | None, body: bytes) -> SandboxResponse:
        """Answer one HTTP request (the server calls this; unit tests may call it directly)."""
        parts = urlsplit(target)
        path, method = parts.path.rstrip("/") or "/", method.upper()
        query = {name: values[-1] for name, values in parse_qs(parts.query, keep_blank_values=True).items()}
        if path == CONTROL or path.startswith(CONTROL + "/"):
            return self._control(method, path[len(CONTROL) :].strip("/"), query, body)
        feed = path.removeprefix("/api/2.0/")
        with self._lock:
            if path == TOKEN_PATH:
                return self._token(method, body)
            if path.startswith("/api/2.0/") and feed in FEEDS:
                self._state.api_calls[path] += 1
                limits = [("X-RateLimit-Limit", str(RATE_LIMIT)), ("X-RateLimit-Remaining", str(self._remaining()))]
                refusal = self._refusal(lower_headers(headers), limits)
                return refusal or self._feed(method, feed, query, limits)
            if (path.startswith("/api/2.0/") and feed in (*LISTS, "search")) or path.startswith(DATED + "/"):
                parts_of = path.split("/")
                self._state.api_calls["/".join(parts_of[:4] + (["{id}"] if len(parts_of) > 4 else []))] += 1
                limits = [("X-RateLimit-Limit", str(RATE_LIMIT)), ("X-RateLimit-Remaining", str(self._remaining()))]
                refusal = self._refusal(lower_headers(headers), limits)
                return refusal or self._writes(method, path, query, body, limits)
        return json_response(404, {"error": "not_found"})

    # ---------------------------------------------------------------- what an integration writes
    def _writes(
        self, method: str, path: str, query: dict[str, str], body: bytes, limits: list[tuple[str, str]]
    ) -> SandboxResponse:
        if method == "GET" and path.startswith("/api/2.0/"):
            return self._lists(path.removeprefix("/api/2.0/"), query, limits)
        try:
            payload = json.loads(body) if body.strip() else {}
            if not isinstance(payload, dict):
                raise ValueError
        except ValueError:
            return json_response(400, {"error": "bad_request", "message": "the body is a JSON object"}, limits)
        status, answer = self._dated(method, path.removeprefix(DATED + "/").split("/"), payload)
        if status < 300 and method != "GET" and self._state.faults.lose_answers > 0:
            self._state.faults.lose_answers -= 1  # committed; the answer never arrives
            self._state.counters["lost_answers"] += 1
            return json_response(504, {"error": "gateway timeout"}, [*limits, ("X-Sandbox-Fault", "1")])
        if status >= 300:
            return json_response(status, answer, limits)
        return json_response(status, {"data": self._dated_sale(answer) if "line_items" in answer else answer}, limits)

    def _lists(self, name: str, query: dict[str, str], limits: list[tuple[str, str]]) -> SandboxResponse:
        if name in LISTS:
            records = sorted(self._list(name).values(), key=lambda r: r["version"])
            return json_response(200, {"data": copy.deepcopy(records), "version": None}, limits)
        if query.get("type") != "products" or not query.get("sku"):
            return json_response(400, {"error": "bad_request", "message": "type=products&sku="}, limits)
        found = [p for p in self._state.products.values() if p["sku"] == query["sku"] and not p["deleted_at"]]
        return json_response(200, {"data": copy.deepcopy(found)}, limits)

    def _dated(self, method: str, route: list[str], payload: Record) -> tuple[int, Record]:
        if route == ["products"] and method == "POST":
            return self._create_product(payload)
        if route == ["sales"] and method == "POST":
            return self._create_sale(payload)
        if len(route) == 2 and route[0] == "sales" and method in ("GET", "PUT"):
            sale = self._state.sales.get(route[1])
            if sale is None:
                return 404, {"error": "not_found"}
            return (200, sale) if method == "GET" else self._update_sale(sale, payload)
        return 404, {"error": "not_found"}

    def _create_product(self, body: Record) -> tuple[int, Record]:
        sku, name = body.get("sku"), body.get("name")
        if not isinstance(sku, str) or not sku.strip() or not isinstance(name, str) or not name.strip():
            return 400, {"error": "bad_request", "message": "name and sku are required"}
        if any(p["sku"] == sku and not p["deleted_at"] for p in self._state.products.values()):
            return 422, {"error": "validation_failed", "message": f"sku {sku!r} is already in use"}
        tracked = body.get("has_inventory", True) is not False
        product_id = str(uuid.uuid4())
        product = {"id": product_id, "sku": sku, "name": name, "version": self._bump(), "deleted_at": None}
        product |= {"has_inventory": tracked, "is_active": body.get("is_active", True) is not False}
        self._state.products[product_id] = product
        if tracked:
            for outlet in self._outlets:
                record: Record = {"id": str(uuid.uuid4()), "product_id": product_id, "outlet_id": outlet}
                record |= {"inventory_level": 0, "current_amount": 0, "version": self._bump(), "deleted_at": None}
                self._state.inventory[(product_id, outlet)] = record
        self._queue("product.update", self._product_payload(product))
        return 201, copy.deepcopy(product)

    def _create_sale(self, body: Record) -> tuple[int, Record]:
        state, source = self._state, body.get("source") or {}
        refusal = self._sale_refusal(body)
        if refusal:
            return (409 if refusal == "sale_exists" else 400), {"error": "validation_failed", "message": refusal}
        register = state.registers[source["register_id"]]
        items = [
            {"id": str(uuid.uuid4()), "product_id": line["product"]["id"], "quantity": line["quantity"]}
            | {"price": str((line.get("pricing") or {}).get("price") or "0")}
            for line in body["line_items"]
        ]
        status = _status(str(body.get("state") or ""), body.get("attributes") or [])
        invoice = str(body.get("invoice_number") or "")
        if not invoice:
            invoice, state.invoice = str(state.invoice), state.invoice + 1
        sale: Record = {"id": body["id"], "outlet_id": register["outlet_id"], "register_id": register["id"]}
        sale |= {"invoice_number": invoice, "status": status, "state": body.get("state"), "source": source.get("type")}
        sale |= {
            "source_id": str(source.get("id") or ""),
            "user_id": source["author_id"],
            "note": str(body.get("note") or ""),
        }
        sale |= {"attributes": list(body.get("attributes") or []), "payments": body.get("payments") or []}
        sale |= {"created_at": datetime.fromtimestamp(int(self._clock()), tz=UTC).isoformat()}
        sale |= {"version": self._bump(), "deleted_at": None, "line_items": items}
        state.sales[sale["id"]] = sale
        self._queue("sale.update", self._sale_payload(sale))
        if status in TAKES_UNITS:
            self._take_units(sale)
        return 201, sale

    def _sale_refusal(self, body: Record) -> str:  # noqa: PLR0911 - one check, one answer
        """Why a sale cannot be created as sent ("" when it can)."""
        state, source = self._state, body.get("source")
        if not isinstance(body.get("id"), str) or not body["id"] or not isinstance(source, dict):
            return "id and source are required"
        if body["id"] in state.sales:
            return "sale_exists"
        if self._live(state.registers, source.get("register_id")) is None:
            return "source.register_id is not a register (or it is archived)"
        if self._live(state.users, source.get("author_id")) is None:
            return "source.author_id is not a user (or they are archived)"
        lines, payments = body.get("line_items"), body.get("payments") or []
        if not isinstance(lines, list) or not lines or not isinstance(payments, list):
            return "line_items is a non-empty list"
        if not self._payments_known(payments):
            return "a payment's type.config_id is not a payment type (or it is archived)"
        for line in lines:
            product_id = ((line if isinstance(line, dict) else {}).get("product") or {}).get("id")
            quantity = line.get("quantity") if isinstance(line, dict) else None
            if product_id not in state.products or isinstance(quantity, bool) or not isinstance(quantity, int):
                return "a line's product.id is not a product, or its quantity not a whole number"
        return ""

    def _payments_known(self, payments: Any) -> bool:
        return isinstance(payments, list) and all(
            isinstance(p, dict) and self._live(self._state.payment_types, (p.get("type") or {}).get("config_id"))
            for p in payments
        )

    def _update_sale(self, sale: Record, body: Record) -> tuple[int, Record]:
        payments = body.get("payments", sale["payments"])
        if not self._payments_known(payments):
            return 400, {"error": "validation_failed", "message": "a payment's type.config_id is not a payment type"}
        took = sale["status"] in TAKES_UNITS
        sale["state"] = body.get("state", sale.get("state"))
        sale["attributes"] = list(body.get("attributes", sale.get("attributes")) or [])
        sale.update(payments=payments, status=_status(str(sale["state"]), sale["attributes"]), version=self._bump())
        self._queue("sale.update", self._sale_payload(sale))
        if sale["status"] in TAKES_UNITS and not took:
            self._take_units(sale)
        return 200, sale

    def _take_units(self, sale: Record) -> None:
        for line in sale["line_items"]:
            record = self._state.inventory.get((line["product_id"], sale["outlet_id"]))
            if record is not None:  # a product without inventory (shipping) has no count
                self._set_level(record, record["inventory_level"] - line["quantity"])

    @staticmethod
    def _live(table: dict[str, Record], record_id: Any) -> Record | None:
        record = table.get(record_id) if isinstance(record_id, str) else None
        return record if record is not None and not record.get("deleted_at") else None

    @staticmethod
    def _dated_sale(sale: Record) -> Record:
        """A sale as the dated API answers it: its receipt number and its version."""
        return copy.deepcopy(sale) | {
            "receipt_number": sale["invoice_number"],
            "_metadata": {"version": sale["version"]},
        }

    def _token(self, method: str, body: bytes) -> SandboxResponse:
        if method != "POST":
            return json_response(405, {"error": "method_not_allowed"}, [("Allow", "POST")])
        form = {name: values[-1] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}
        given = (form.get("refresh_token", ""), form.get("client_id", ""), form.get("client_secret", ""))
        expected = (self._refresh, self.client_id, self.client_secret)
        matched = all(secrets.compare_digest(a.encode(), b.encode()) for a, b in zip(given, expected, strict=True))
        if form.get("grant_type") != "refresh_token" or not matched:
            self._state.counters["refused_refreshes"] += 1
            grant = form.get("grant_type") == "refresh_token"
            return json_response(400, {"error": "invalid_grant" if grant else "unsupported_grant_type"})
        self._issue()  # the refresh token just used is revoked, and so is the old access token
        self._state.counters["refreshes"] += 1
        tokens = {"access_token": self._access, "token_type": "Bearer", "expires": int(self._expires)}
        tokens |= {"expires_in": self.access_ttl, "refresh_token": self._refresh}
        return json_response(200, tokens | {"domain_prefix": self.domain_prefix, "scope": ""})

    def _refusal(self, headers: dict[str, str], limits: list[tuple[str, str]]) -> SandboxResponse | None:
        """An injected fault, else 401 unless the bearer is the newest, unexpired access token."""
        state, faults = self._state, self._state.faults
        if faults.throttle_next > 0:
            faults.throttle_next -= 1
            state.counters["throttled"] += 1
            when = datetime.fromtimestamp(math.ceil(self._clock() + faults.retry_after), tz=UTC)
            retry = ("Retry-After", email.utils.format_datetime(when, usegmt=True))
            return json_response(429, THROTTLED, [retry, limits[0], ("X-RateLimit-Remaining", "0")])
        if faults.fail_next > 0:
            faults.fail_next -= 1
            state.counters["failed"] += 1
            body = {"error": f"sandbox fault injection: HTTP {faults.fail_status}"}
            return json_response(faults.fail_status, body, [*limits, ("X-Sandbox-Fault", "1")])
        scheme, _, token = headers.get("authorization", "").partition(" ")
        current = secrets.compare_digest(token.strip().encode(), self._access.encode())
        if scheme.lower() != "bearer" or not current or self._clock() >= self._expires:
            state.counters["unauthorized"] += 1
            return json_response(401, {"error": "unauthorized"}, limits)
        return None

    def _feed(self, method: str, feed: str, query: dict[str, str], limits: list[tuple[str, str]]) -> SandboxResponse:
        if method != "GET":
            return json_response(405, {"error": "method_not_allowed"}, [*limits, ("Allow", "GET")])
        try:
            after, page_size = int(query.get("after") or 0), int(query.get("page_size") or DEFAULT_PAGE_SIZE)
        except ValueError:
            after, page_size = -1, 0
        if after < 0 or not 1 <= page_size <= MAX_PAGE_SIZE:
            message = f"after is a version >= 0, page_size 1 to {MAX_PAGE_SIZE}"
            return json_response(400, {"error": "bad_request", "message": message}, limits)
        state = self._state
        table = state.products if feed == "products" else state.inventory if feed == "inventory" else state.sales
        records = sorted((r for r in table.values() if r["version"] > after), key=lambda r: r["version"])[:page_size]
        version = {"min": records[0]["version"], "max": records[-1]["version"]} if records else None
        return json_response(200, {"data": copy.deepcopy(records), "version": version}, limits)

    def _remaining(self) -> int:
        start, used = self._state.window
        now = self._clock()
        self._state.window = (start, used + 1) if now - start < RATE_WINDOW else (now, 1)
        return max(0, RATE_LIMIT - self._state.window[1])

    def _bump(self) -> int:
        self._version += VERSION_STEP
        return self._version

    def _outlet(self, outlet_id: str) -> str:
        if outlet_id not in self._outlets:
            raise KeyError(f"outlet {outlet_id!r} is not one of {self._outlets}")
        return outlet_id

    def _record(self, product_id: str, outlet_id: str) -> Record:
        record = self._state.inventory.get((str(product_id), self._outlet(outlet_id)))
        if record is None:
            raise KeyError(f"product {product_id!r} is unknown; call add_product() first")
        return record

    def _set_level(self, record: Record, count: int) -> None:
        record.update(inventory_level=count, current_amount=count, version=self._bump())
        self._queue("inventory.update", self._inventory_payload(record))

    def _queue(self, kind: str, payload: Record) -> None:
        self._state.outbox.append({"type": kind, "payload": copy.deepcopy(payload)})
        self._state.counters["webhooks_queued"] += 1

    def _inventory_payload(self, record: Record) -> Record:
        product = self._state.products[record["product_id"]]
        payload = {k: record[k] for k in ("id", "product_id", "outlet_id", "version")}
        payload["count"] = record["inventory_level"]
        payload["product"] = {k: product[k] for k in ("id", "sku", "name", "deleted_at")} | {"active": True}
        payload["outlet"] = {"id": record["outlet_id"], "name": record["outlet_id"]}
        return payload | {"attributed_cost": "0.00"} | LEVEL_DEFAULTS

    def _product_payload(self, product: Record) -> Record:
        levels = [
            {k: r[k] for k in ("id", "outlet_id", "product_id")} | {"count": r["inventory_level"]} | LEVEL_DEFAULTS
            for r in (self._state.inventory.get((product["id"], outlet)) for outlet in self._outlets)
            if r is not None  # a product without inventory (shipping) has no counts
        ]
        payload = {k: product[k] for k in ("id", "sku", "name", "version", "deleted_at")}
        return payload | {"active": True, "inventory": levels}

    def _sale_payload(self, sale: Record) -> Record:
        """API 1.0 names the register, not the outlet, and writes prices as 5-decimal strings."""
        when = datetime.fromisoformat(sale["created_at"])
        total = f"{LINE_PRICE * sum(line['quantity'] for line in sale['line_items']):.5f}"
        price = {"price": f"{LINE_PRICE:.5f}", "tax": "0.00000"}
        lines = [line | price | {"price_total": f"{LINE_PRICE * line['quantity']:.5f}"} for line in sale["line_items"]]
        payload = {k: sale[k] for k in ("id", "invoice_number", "register_id", "status", "version", "source")}
        payload |= {"created_at": when.strftime("%Y-%m-%d %H:%M:%S"), "sale_date": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
        payload |= {"deleted_at": None, "note": sale.get("note", ""), "register_sale_products": lines}
        payload |= {"source_id": sale["source_id"]} if sale.get("source_id") else {}
        payload |= {"customer": sale["customer"]} if sale.get("customer") else {}
        return payload | {"totals": {"total_price": total, "total_tax": "0.00000", "total_payment": total}}

    def _control(self, method: str, route: str, query: dict[str, str], body: bytes) -> SandboxResponse:
        """Run a route's method with the body's (for GET, the query's) keyword arguments and
        answer ``{<key>: result}``: a KeyError (unknown product, outlet, sku) is 404, bad
        arguments 400. Lines are ``[[product_id, qty], ...]``."""
        routes: dict[tuple[str, str], tuple[Callable[..., Any], str]] = {
            ("POST", "products"): (self.add_product, "id"),
            ("GET", "products"): (self.product_id_for, "id"),
            ("POST", "count"): (self.set_count, "inventory"),
            ("GET", "count"): (self.count, "count"),
            ("POST", "sales"): (self.sell, "sale"),
            ("POST", "web-orders"): (self.import_web_order, "sale"),
            ("GET", "version"): (self.version, "version"),
            ("GET", "counters"): (self.counters, "counters"),
            ("GET", "webhooks"): (self.webhooks, "webhooks"),
            ("GET", "tokens"): (self.initial_tokens, "tokens"),
            ("POST", "webhooks/deliver"): (self.deliver_webhooks, "statuses"),
            ("POST", "faults/throttle"): (self.throttle_next, "ok"),
            ("POST", "faults/fail"): (self.fail_next, "ok"),
            ("POST", "faults/clear"): (self.clear_faults, "ok"),
            ("POST", "expire-token"): (self.expire_access_token, "ok"),
            ("POST", "archive"): (self.archive, "ok"),
            ("POST", "faults/lose-answers"): (self.lose_next_answers, "ok"),
            ("GET", "sale"): (self.sale, "sale"),
            ("POST", "resave"): (self.resave, "sale"),
            ("GET", "sales-from"): (self.sales_from, "sales"),
            ("POST", "reset"): (self.reset, "ok"),
        }
        if (method, route) not in routes:
            return json_response(404, {"error": f"no sandbox control route {method} {CONTROL}/{route}"})
        action, key = routes[(method, route)]
        try:
            arguments = query if method == "GET" else json.loads(body) if body.strip() else {}
            if not isinstance(arguments, dict):
                raise TypeError("the body is a JSON object of keyword arguments")
            result = action(**arguments)
        except KeyError as missing:
            return json_response(404, {"error": str(missing.args[0]) if missing.args else "not found"})
        except (TypeError, ValueError) as error:  # JSON errors are ValueErrors
            return json_response(400, {"error": str(error)})
        return json_response(200, {key: True if result is None else result})


def _status(state: str, attributes: list[Any]) -> str:
    """The legacy status of a dated API sale's state and attributes (vendor: sales statuses)."""
    if state == "closed":
        return "DISPATCHED_CLOSED" if "delivery" in attributes else "CLOSED"
    if state == "pending":
        for attribute, status in (("onaccount", "ONACCOUNT"), ("layby", "LAYBY"), ("delivery", "AWAITING_DISPATCH")):
            if attribute in attributes:
                return status
        return "SAVED"
    return {"voided": "VOIDED"}.get(state, "SAVED")


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} is a whole number")
    return value
