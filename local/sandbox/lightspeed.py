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

from local.sandbox.server import HeadersIn, LoopbackServer, SandboxResponse, json_response, lower_headers
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
    window: tuple[float, int] = (-math.inf, 0)  # rate-limit window start, calls in it


class LightspeedSandbox:
    """TEST EQUIPMENT: a local stand-in for one Lightspeed X-Series retailer.

    ``with LightspeedSandbox() as ls:`` serves ``ls.url`` on loopback; ``ls.handle`` (and
    ``ls.transport()``) answer the same way in-process. Store ``ls.initial_tokens()`` where the
    product keeps its tokens; seed with ``add_product``, then ``sell``/``set_count``.
    """

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
        self._issue()
        self._initial = {"access_token": self._access, "refresh_token": self._refresh, "expires_at": int(self._expires)}
        self._initial |= {"client_id": client_id, "client_secret": client_secret, "domain_prefix": domain_prefix}
        self.webhook_client: httpx.Client | None = None  # for deliver_webhooks; tests inject one
        self._server = LoopbackServer(self.handle, host, port, "lightspeed-sandbox", log)

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

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

    def start(self) -> LightspeedSandbox:
        self._server.start()
        log.info("Lightspeed sandbox (test equipment) on %s, outlets %s", self.url, ", ".join(self._outlets))
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> LightspeedSandbox:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

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

    def sell(self, outlet_id: str, lines: Lines, *, invoice_number: str | None = None, source: str = "USER") -> Record:
        """A closed sale at the outlet's register: the sale's version first, then each line's
        count drops (below 0 if need be, as a POS allows) at a higher one. Queues ``sale.update``
        then the ``inventory.update``s; returns the sale record."""
        wanted = [(str(product_id), _whole(quantity, "quantity")) for product_id, quantity in lines]
        if not wanted or any(quantity == 0 for _, quantity in wanted):
            raise ValueError("a sale has lines of non-zero quantity")
        with self._lock:
            records = [self._record(product_id, outlet_id) for product_id, _ in wanted]  # all known first
            if invoice_number is None:
                invoice_number, self._state.invoice = str(self._state.invoice), self._state.invoice + 1
            sale: Record = {"id": str(uuid.uuid4()), "outlet_id": outlet_id}
            sale |= {"register_id": self.registers[outlet_id], "invoice_number": str(invoice_number)}
            sale |= {"status": "CLOSED", "source": str(source)}
            sale |= {"created_at": datetime.fromtimestamp(int(self._clock()), tz=UTC).isoformat()}
            sale |= {"version": self._bump(), "deleted_at": None}
            sale["line_items"] = [{"id": str(uuid.uuid4()), "product_id": p, "quantity": q} for p, q in wanted]
            self._state.sales[sale["id"]] = sale
            self._queue("sale.update", self._sale_payload(sale))
            for record, (_, quantity) in zip(records, wanted, strict=True):
                self._set_level(record, record["inventory_level"] - quantity)
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
        keys = ("refreshes", "refused_refreshes", "unauthorized", "throttled", "failed", "webhooks_queued")
        with self._lock:
            counts: Record = {k: self._state.counters[k] for k in (*keys, "webhooks_delivered")}
            return counts | {"api_calls": dict(self._state.api_calls)}

    def webhooks(self) -> list[Record]:
        """The queued deliveries, oldest first: ``{"type", "payload"}``."""
        with self._lock:
            return copy.deepcopy(self._state.outbox)

    def reset(self) -> None:
        """Forget records, webhooks, counters and faults. Tokens stay valid (the product has them
        stored) and versions keep growing, as a consumer's cursor expects."""
        with self._lock:
            self._state = _State()

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
        return json_response(404, {"error": "not_found"})

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
            for r in (self._state.inventory[(product["id"], outlet)] for outlet in self._outlets)
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
        payload |= {"deleted_at": None, "note": "", "register_sale_products": lines}
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


def _whole(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} is a whole number")
    return value
