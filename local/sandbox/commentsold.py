"""CommentSold sandbox: TEST EQUIPMENT, not a CommentSold implementation.

``CommentSoldSandbox`` stands in for CommentSold's token service and one shop's REST API, so the
local stack and the tests can push shelf quantities to "CommentSold", play a live sale (viewers
claim items into carts, remove them, let them expire, check out) and receive the webhooks such a
sale would send. It serves:

1. ``POST /tokenize`` (the token service);
2. the shop API under ``/v1/{shop}/``: ``GET inventory_levels`` (paged), ``GET
   inventory_levels/{variant_id}``, ``PUT inventory_levels/{variant_id}/add``, ``/subtract`` and
   ``/set_absolute_shelf_quantity``; ``GET reservations`` (paged), ``POST reservations``, ``DELETE
   reservations/{id}``; ``GET orders`` (paged, filtered), ``GET order/{id}``;
3. control routes without auth under ``/_sandbox/commentsold/`` (see below).

What it mirrors (CommentSold's official PHP SDK and API docs page):

* Tokens: ``POST https://tokens.cs-api.com/tokenize`` with ``x-api-key: <partner private key>``
  and ``{"payload": {"audience": "openapi", "partner_id": ..., "shop": <lower-cased shop id, or
  null for a partner-scope token>}}`` answers ``{"token": ...}``; "tokens are valid for 24 hours".
  A wrong key is 401 here; a token is good for the shop it names, for 24 hours by the sandbox's
  clock. ``Authorization: Bearer <token>`` on the API must carry a token this sandbox issued for
  the shop of the URL and not yet expired, else 401 ``{"message": "Unauthenticated."}``.
* A shop id that is not this sandbox's shop answers the documented 409 ``{"message": "No
  database found for this shop!"}``.
* Money in cents, ids and times (epoch seconds) are integers. Lists answer ``{"data": [...],
  "pagination": {"total", "count", "perPage", "currentPage", "totalPages"}}`` and take
  ``page``/``perPage`` (the SDK's default perPage is 10).
* Inventory level record ``{variant_id, product_id, total_available_quantity, created_at,
  updated_at}``. Writes: ``add``/``subtract`` with ``{variant_id, relative_quantity, note?}`` move
  the quantity by a delta; ``set_absolute_shelf_quantity`` with ``{variant_id, absolute_quantity,
  note?}`` sets the "on-shelf (available + held in carts)" quantity, which the SDK says to "use
  with extreme caution".
* ``x-idempotency-key`` on POST/PATCH/PUT: "duplicates within 48h are not reprocessed; keys must
  be unique across URLs". A repeat (same key, same method, URL and body) answers the stored first
  answer and changes nothing; the stored answers are kept 48 hours by the sandbox's clock.
* Reservations are the API-level cart holds: ``{id, customer_id, external_customer_id,
  variant_id, quantity, created_at, updated_at}``; creating one takes ``{variant_id, quantity,
  customer_id | external_customer_id, do_not_hold?, meta?}``.
* Orders ``{id, status, customer_id, reservation_ids, line_items: [{id, product_id, variant_id,
  quantity, price, reservation_id, is_returned}], customer, shipping_address, subtotal,
  tax_total, shipping_total, total, created_at, updated_at}``.
* Webhook deliveries are ASSUMED (omnistock.channels.commentsold.webhooks says what and why):
  ``{"id", "topic", "created_at", "data"}``, HMAC-SHA256 of the raw body in a configurable header
  (default ``X-CommentSold-Signature``, hex).

The sandbox's own choices, where CommentSold documents nothing:

* Stock: available = shelf - held, never below 0. A claim or ``POST reservations`` needs that
  many units available (else ``claim`` answers None and the API 422) and moves them from
  available to held, the shelf unchanged; a removal or an expiry gives them back; a checkout
  takes them off the shelf and ends the carts. ``set_absolute_shelf_quantity`` sets the shelf
  and recomputes available = shelf - held; a shelf below what carts hold leaves available at 0
  and the write is recorded as ``clamped`` (a checkout that would take the shelf below 0 stops
  at 0 and counts as ``clamped`` too). ``subtract`` beyond what is available is 422.
* The orders filter is the one Omnistock ASSUMES (``ORDERS_SINCE_FILTER``,
  ``filter[updated_at_min]=<epoch seconds>``: updated at or after); any other ``filter[...]`` is
  422, so a client that drifts from the assumption fails loudly. Orders list oldest update first.
* ``perPage`` is 1 to 100. ``do_not_hold`` and ``meta`` are accepted and ignored.
* An idempotency key sent again with another method, URL or body is 422 (the docs only say keys
  "must be unique across URLs"), so a client that reuses keys fails loudly rather than silently
  losing writes. 5xx answers are not stored.
* Webhooks: every simulated change queues the delivery it would cause in an outbox:
  ``reservation.created`` (a claim, ``POST reservations``), ``reservation.deleted`` (removal, with
  ``reason`` "removed"; expiry, "expired"; ``DELETE reservations/{id}``, "removed"),
  ``order.created`` (a checkout; its carts end without a ``reservation.deleted``),
  ``order.cancelled`` and ``order.refunded``. Inventory writes queue nothing (no topic is assumed
  for them). ``deliver_webhooks`` POSTs the outbox; 2xx answers leave it.
* Fault injection: ``fail_next(n, status=503, after_apply=False)`` (``after_apply`` runs the
  request and loses the answer: the write lands, the client sees the error),
  ``throttle_next(n)`` (429 with ``Retry-After: 0.05``); both count every request but the
  control routes, the token service's included. ``revoke_tokens()`` forgets every token issued.

Control routes (no auth; JSON bodies; for people and end-to-end tests), under
``/_sandbox/commentsold``:

* ``GET /inventory``: levels (with shelf, held and available), live reservations, orders;
* ``POST /stock`` ``{variant_id, shelf, product_id?, price?}`` or a list of them;
* ``POST /claim`` ``{variant_id, quantity?, customer_id?}`` -> ``{"reservation": ... | null}``;
* ``POST /remove`` ``{reservation_id}``; ``POST /expire`` ``{reservation_id}``;
* ``POST /checkout`` ``{reservation_ids: [...]}`` -> the order;
* ``POST /cancel`` ``{order_id, restock?}``; ``POST /refund`` ``{order_id, line_ids?, restock?}``;
* ``POST /deliver`` ``{url, secret, header?, encoding?}`` -> the deliveries;
* ``GET /writes``, ``GET /webhooks``, ``GET /counters``; ``POST /faults`` ``{fail_next?, status?,
  after_apply?, throttle_next?}``; ``POST /reset``.

All state sits behind one lock, so requests are applied one at a time.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import math
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from local.sandbox.server import HeadersIn, LoopbackServer, SandboxResponse, json_response, lower_headers
from omnistock.channels.commentsold.api import ORDERS_SINCE_FILTER
from omnistock.channels.commentsold.webhooks import sign

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("local.sandbox.commentsold")

DEFAULT_SHOP = "omnistock-sandbox"
DEFAULT_PARTNER_ID = "omnistock-partner"
DEFAULT_PRIVATE_KEY = "cs_sandbox_private_key"  # a fixed test credential, not a secret
DEFAULT_PRICE = 1500  # cents
SIGNATURE_HEADER = "X-CommentSold-Signature"
TOKEN_SECONDS = 24 * 3600
IDEMPOTENCY_SECONDS = 48 * 3600
THROTTLE_RETRY_AFTER = "0.05"
DEFAULT_PER_PAGE = 10
MAX_PER_PAGE = 100
MAX_QUANTITY = 1_000_000
WRITE_KINDS = ("add", "subtract", "set_absolute_shelf_quantity")
UNAUTHENTICATED = "Unauthenticated."
NO_SHOP = "No database found for this shop!"
SHIPPING_ADDRESS = {
    "name": "Sandbox Viewer",
    "address1": "1 Live Sale Way",
    "address2": "",
    "city": "Louisville",
    "state": "KY",
    "zip": "40202",
    "country_code": "US",
    "phone": "",
}


@dataclass
class _Variant:
    variant_id: int | str  # as the API shows it
    product_id: int
    shelf: int
    price: int
    created_at: int
    updated_at: int


@dataclass(frozen=True)
class _Stored:
    """The first answer to an idempotency key."""

    fingerprint: str
    response: SandboxResponse
    at: float


@dataclass
class _Faults:
    fail_next: int = 0
    fail_status: int = 503
    fail_after_apply: bool = False
    throttle_next: int = 0


@dataclass
class _State:
    variants: dict[str, _Variant] = field(default_factory=dict)
    reservations: dict[int, dict[str, Any]] = field(default_factory=dict)  # live cart holds
    orders: dict[int, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, tuple[str | None, float]] = field(default_factory=dict)  # token -> (shop, issued at)
    idempotency: dict[str, _Stored] = field(default_factory=dict)
    writes: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    last_webhook: dict[str, Any] | None = None
    counters: Counter[str] = field(default_factory=Counter)
    faults: _Faults = field(default_factory=_Faults)
    ids: Counter[str] = field(default_factory=Counter)


class _Refusal(Exception):
    """An API answer other than 2xx, raised from deep inside a route."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.response = json_response(status, {"message": message, **({"errors": errors} if errors else {})})


class CommentSoldSandbox:
    """TEST EQUIPMENT: a local stand-in for CommentSold's token service and one shop's API.

    ``with CommentSoldSandbox() as cs:`` serves ``cs.url`` on 127.0.0.1 (a free port unless
    ``port`` is given): point the client at ``cs.api_base`` and ``cs.token_url``. ``cs.handle``
    and ``cs.transport()`` answer the same way in-process, without a socket. Seed it with
    ``stock(variant_id, shelf)``; play the sale with ``claim``/``remove``/``expire``/``checkout``.
    """

    def __init__(
        self,
        shop: str = DEFAULT_SHOP,
        partner_id: str = DEFAULT_PARTNER_ID,
        private_key: str = DEFAULT_PRIVATE_KEY,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.shop = shop
        self.partner_id = partner_id
        self.private_key = private_key
        self._clock = clock
        self._lock = threading.RLock()
        self._state = _State()
        self.webhook_client: httpx.Client | None = None  # for deliver_webhooks; tests inject one
        self._server = LoopbackServer(self.handle, host, port, "commentsold-sandbox", log)

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    @property
    def api_base(self) -> str:
        """Stands in for ``https://openapi.commentsold.com/v1``."""
        return f"{self.url}/v1"

    @property
    def token_url(self) -> str:
        """Stands in for ``https://tokens.cs-api.com/tokenize``."""
        return f"{self.url}/tokenize"

    def start(self) -> CommentSoldSandbox:
        self._server.start()
        log.info("CommentSold sandbox (test equipment) on %s, shop %s", self.url, self.shop)
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> CommentSoldSandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # ---- seeding and inspection ------------------------------------------------------------

    def stock(
        self, variant_id: str | int, shelf: int, *, product_id: int | None = None, price: int | None = None
    ) -> dict[str, Any]:
        """Create the variant or set its shelf (as a person would in CommentSold's admin); carts
        stay, available = shelf - held (0 at least). Returns the level as the API shows it."""
        _check_quantity(shelf, "shelf")
        key = str(variant_id)
        with self._lock:
            now = self._now()
            variant = self._state.variants.get(key)
            if variant is None:
                self._state.ids["product"] += 1
                variant = _Variant(
                    variant_id=_api_id(key),
                    product_id=product_id if product_id is not None else 8000 + self._state.ids["product"],
                    shelf=shelf,
                    price=price if price is not None else DEFAULT_PRICE,
                    created_at=now,
                    updated_at=now,
                )
                self._state.variants[key] = variant
            else:
                variant.shelf, variant.updated_at = shelf, now
                if product_id is not None:
                    variant.product_id = product_id
                if price is not None:
                    variant.price = price
            return self._level(variant)

    def available(self, variant_id: str | int) -> int:
        """What may still be claimed or sold: shelf - held, 0 at least. KeyError if unknown."""
        with self._lock:
            return self._available(self._variant(variant_id))

    def shelf(self, variant_id: str | int) -> int:
        """On the shelf: available + held in carts (unless a write clamped it). KeyError if unknown."""
        with self._lock:
            return self._variant(variant_id).shelf

    def held(self, variant_id: str | int) -> int:
        """Units in live carts (reservations). KeyError if the variant is unknown."""
        with self._lock:
            return self._held(self._variant(variant_id))

    def levels(self) -> list[dict[str, Any]]:
        """Every variant's level as the API shows it, plus ``shelf`` and ``held``."""
        with self._lock:
            return [
                {**self._level(variant), "shelf": variant.shelf, "held": self._held(variant)}
                for variant in self._state.variants.values()
            ]

    def reservations(self) -> list[dict[str, Any]]:
        """The live reservations (cart holds), oldest first."""
        with self._lock:
            return copy.deepcopy(list(self._state.reservations.values()))

    def orders(self) -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(list(self._state.orders.values()))

    def order(self, order_id: int | str) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._order(order_id))

    def writes(self) -> list[dict[str, Any]]:
        """The inventory writes received and applied, oldest first: ``{seq, at, kind, variant_id,
        quantity, note, idempotency_key, shelf_before, shelf_after, held, available_after,
        clamped}``. Replays of a stored answer are not recorded again (see ``counters``)."""
        with self._lock:
            return copy.deepcopy(self._state.writes)

    def counters(self) -> dict[str, int]:
        """``token_requests``, ``tokens_issued``, ``calls`` (API requests), ``unauthorized``,
        ``writes`` (applied), ``replays``, ``key_mismatches``, ``refused`` (4xx other than auth),
        ``reads``, ``clamped``, ``reservations_created``, ``reservations_deleted``,
        ``claims_refused``, ``orders_created``, ``throttled``, ``faults``, ``webhooks_queued``,
        ``webhooks_delivered``."""
        keys = (
            "token_requests",
            "tokens_issued",
            "calls",
            "unauthorized",
            "writes",
            "replays",
            "key_mismatches",
            "refused",
            "reads",
            "clamped",
            "reservations_created",
            "reservations_deleted",
            "claims_refused",
            "orders_created",
            "throttled",
            "faults",
            "webhooks_queued",
            "webhooks_delivered",
        )
        with self._lock:
            return {key: self._state.counters[key] for key in keys}

    def reset(self) -> None:
        """Forget everything: stock, carts, orders, tokens, idempotency keys, outbox, faults."""
        with self._lock:
            self._state = _State()

    # ---- the live sale ----------------------------------------------------------------------

    def claim(
        self,
        variant_id: str | int,
        quantity: int = 1,
        *,
        customer_id: int | None = None,
        external_customer_id: str | None = None,
    ) -> dict[str, Any] | None:
        """A viewer's claim: a reservation holding ``quantity`` units if that many are available
        (available drops, the shelf stays), else None (sold out: the viewer would be waitlisted).
        Queues ``reservation.created``. KeyError if the variant is unknown."""
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise ValueError(f"a claim is 1 to {MAX_QUANTITY} units")
        with self._lock:
            variant = self._variant(variant_id)
            if quantity > self._available(variant):
                self._state.counters["claims_refused"] += 1
                return None
            return copy.deepcopy(self._reserve(variant, quantity, customer_id, external_customer_id))

    def remove(self, reservation_id: int | str) -> dict[str, Any]:
        """The viewer took the item out of the cart: the hold ends, its units are available again.
        Queues ``reservation.deleted`` (reason "removed"). KeyError if not a live reservation."""
        with self._lock:
            return copy.deepcopy(self._release(reservation_id, "removed"))

    def expire(self, reservation_id: int | str) -> dict[str, Any]:
        """The cart timer ran out: as ``remove``, with reason "expired"."""
        with self._lock:
            return copy.deepcopy(self._release(reservation_id, "expired"))

    def checkout(self, reservation_ids: Iterable[int | str], *, shipping_total: int = 0) -> dict[str, Any]:
        """The carts check out: one order whose lines are the reservations; each variant's shelf
        drops by the line's quantity (0 at least), the carts end, available is unchanged. Queues
        ``order.created``. KeyError if one is not a live reservation; ValueError for none."""
        with self._lock:
            wanted = [self._reservation(rid) for rid in dict.fromkeys(str(r) for r in reservation_ids)]
            if not wanted:
                raise ValueError("a checkout needs at least one reservation")
            now = self._now()
            lines = []
            for reservation in wanted:
                variant = self._variant(reservation["variant_id"])
                del self._state.reservations[reservation["id"]]
                taken = min(variant.shelf, reservation["quantity"])
                if taken < reservation["quantity"]:
                    self._state.counters["clamped"] += 1
                variant.shelf -= taken
                variant.updated_at = now
                lines.append(
                    {
                        "id": self._next_id("line", 7000),
                        "product_id": variant.product_id,
                        "variant_id": variant.variant_id,
                        "quantity": reservation["quantity"],
                        "price": variant.price,
                        "reservation_id": reservation["id"],
                        "is_returned": False,
                    }
                )
            customer_id = wanted[0]["customer_id"]
            subtotal = sum(line["price"] * line["quantity"] for line in lines)
            order = {
                "id": self._next_id("order", 5000),
                "status": "paid",
                "customer_id": customer_id,
                "reservation_ids": [reservation["id"] for reservation in wanted],
                "line_items": lines,
                "customer": {
                    "id": customer_id,
                    "name": f"Viewer {customer_id}",
                    "email": f"viewer{customer_id}@example.com",
                },
                "shipping_address": dict(SHIPPING_ADDRESS, name=f"Viewer {customer_id}"),
                "subtotal": subtotal,
                "tax_total": 0,
                "shipping_total": shipping_total,
                "total": subtotal + shipping_total,
                "created_at": now,
                "updated_at": now,
            }
            self._state.orders[order["id"]] = order
            self._state.counters["orders_created"] += 1
            self._enqueue("order.created", order)
            return copy.deepcopy(order)

    def cancel(self, order_id: int | str, *, restock: bool = True) -> dict[str, Any]:
        """Cancel an order; with ``restock`` its lines go back on the shelf. Queues
        ``order.cancelled``. KeyError if unknown."""
        with self._lock:
            order = self._order(order_id)
            if order["status"] != "cancelled":
                order["status"] = "cancelled"
                if restock:
                    for line in order["line_items"]:
                        if not line["is_returned"]:
                            self._shelve(line["variant_id"], line["quantity"])
                order["updated_at"] = self._now()
            self._enqueue("order.cancelled", order)
            return copy.deepcopy(order)

    def refund(
        self, order_id: int | str, line_ids: Iterable[int | str] | None = None, *, restock: bool = True
    ) -> dict[str, Any]:
        """Return lines (all when ``line_ids`` is None): each is marked ``is_returned`` with
        ``restock``; restocked units go back on the shelf. Queues ``order.refunded``."""
        with self._lock:
            order = self._order(order_id)
            wanted = None if line_ids is None else {str(line_id) for line_id in line_ids}
            for line in order["line_items"]:
                if (wanted is None or str(line["id"]) in wanted) and not line["is_returned"]:
                    line["is_returned"], line["restock"] = True, restock
                    if restock:
                        self._shelve(line["variant_id"], line["quantity"])
            if all(line["is_returned"] for line in order["line_items"]):
                order["status"] = "refunded"
            order["updated_at"] = self._now()
            self._enqueue("order.refunded", order)
            return copy.deepcopy(order)

    # ---- webhooks -----------------------------------------------------------------------------

    def webhooks(self) -> list[dict[str, Any]]:
        """The outbox: ``{id, topic, body}`` per queued delivery, oldest first."""
        with self._lock:
            return copy.deepcopy(self._state.outbox)

    def duplicate_last(self) -> dict[str, Any]:
        """Queue the most recent webhook again, same delivery id and body (a redelivery, for
        replay tests). LookupError if nothing was ever queued."""
        with self._lock:
            last = self._state.last_webhook
            if last is None:
                raise LookupError("no webhook was queued yet")
            self._state.outbox.append(copy.deepcopy(last))
            self._state.counters["webhooks_queued"] += 1
            return copy.deepcopy(last)

    def deliver_webhooks(
        self, url: str, secret: str, header: str = SIGNATURE_HEADER, encoding: str = "hex"
    ) -> dict[str, Any]:
        """POST every queued webhook to ``url``, its raw body signed with ``secret``
        (``webhooks.sign``) in ``header``; those answered 2xx leave the outbox. The lock is not
        held while sending: the receiver may call back in."""
        import httpx

        if encoding not in ("hex", "base64"):
            raise ValueError("encoding is 'hex' or 'base64'")
        deliveries: list[dict[str, Any]] = []
        done: list[int] = []  # positions in the outbox snapshot
        queued = self.webhooks()
        client = self.webhook_client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        try:
            for position, webhook in enumerate(queued):
                raw = json.dumps(webhook["body"]).encode()
                headers = {"Content-Type": "application/json", header: sign(raw, secret, encoding)}
                entry: dict[str, Any] = {"id": webhook["id"], "topic": webhook["topic"]}
                try:
                    response = client.post(url, content=raw, headers=headers)
                    entry["status"] = response.status_code
                except (httpx.HTTPError, httpx.InvalidURL) as error:  # reported; the webhook stays queued
                    entry["status"], entry["error"] = None, f"{type(error).__name__}: {error}"
                if isinstance(entry["status"], int) and 200 <= entry["status"] < 300:
                    done.append(position)
                deliveries.append(entry)
        finally:
            if self.webhook_client is None:
                client.close()
        with self._lock:
            delivered = [queued[position] for position in done]
            for webhook in delivered:  # remove one queued copy per delivered one
                if webhook in self._state.outbox:
                    self._state.outbox.remove(webhook)
            self._state.counters["webhooks_delivered"] += len(delivered)
            left = len(self._state.outbox)
        return {"deliveries": deliveries, "queued": left}

    # ---- fault injection ----------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, *, after_apply: bool = False) -> None:
        """Answer the next ``n`` requests (token service included) with HTTP ``status``. With
        ``after_apply`` the request is processed first (a write lands, its idempotent answer is
        stored) and only the answer is replaced: a lost response."""
        with self._lock:
            faults = self._state.faults
            faults.fail_next, faults.fail_status, faults.fail_after_apply = max(0, n), status, after_apply

    def throttle_next(self, n: int = 1) -> None:
        """Answer the next ``n`` requests with HTTP 429 and ``Retry-After: 0.05``."""
        with self._lock:
            self._state.faults.throttle_next = max(0, n)

    def clear_faults(self) -> None:
        with self._lock:
            self._state.faults = _Faults()

    def revoke_tokens(self) -> None:
        """Forget every token issued: the next API request answers 401."""
        with self._lock:
            self._state.tokens.clear()

    # ---- in-process clients ---------------------------------------------------------------------

    def issue_token(self, shop: str | None = None) -> str:
        """A token for ``shop`` (this sandbox's by default), as ``POST /tokenize`` would issue."""
        with self._lock:
            return self._issue(self.shop.lower() if shop is None else shop)

    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        idempotency_key: str | None = None,
    ) -> SandboxResponse:
        """Send ``method /v1/{shop}/{path}`` in-process (no socket), with a fresh token unless
        ``token`` is given."""
        headers = [("Authorization", f"Bearer {token or self.issue_token()}"), ("Content-Type", "application/json")]
        if idempotency_key is not None:
            headers.append(("x-idempotency-key", idempotency_key))
        raw = b"" if body is None else json.dumps(body).encode()
        return self.handle(method, f"/v1/{self.shop}/{path.lstrip('/')}", headers, raw)

    def transport(self) -> httpx.MockTransport:
        """An ``httpx`` transport that answers from this sandbox in-process, for code under test
        that takes an ``httpx.Client``: any host, the paths of ``api_base`` and ``token_url``."""
        import httpx

        def answer(request: httpx.Request) -> httpx.Response:
            target = request.url.raw_path.decode("ascii")
            response = self.handle(request.method, target, list(request.headers.items()), request.read())
            return httpx.Response(response.status, headers=response.headers, content=response.body)

        return httpx.MockTransport(answer)

    # ---- HTTP ---------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: HeadersIn | None, body: bytes) -> SandboxResponse:
        """Answer one HTTP request (the server calls this; unit tests may call it directly)."""
        parts = urlsplit(target)
        path, method = parts.path, method.upper()
        if path == "/_sandbox/commentsold" or path.startswith("/_sandbox/commentsold/"):
            return self._control(method, path, body)
        segments = [unquote(segment) for segment in path.strip("/").split("/")]
        if segments == ["tokenize"]:
            return self._faulty("token_requests", method, lambda: self._tokenize(method, lower_headers(headers), body))
        if len(segments) >= 3 and segments[0] == "v1":
            query = parse_qs(parts.query, keep_blank_values=True)
            hdrs = lower_headers(headers)
            return self._faulty(
                "calls", method, lambda: self._api(method, segments[1], segments[2:], query, hdrs, body)
            )
        return json_response(404, {"message": "Not Found"})

    def _faulty(self, counter: str, method: str, run: Callable[[], SandboxResponse]) -> SandboxResponse:
        with self._lock:
            self._state.counters[counter] += 1
            faults = self._state.faults
            if faults.throttle_next > 0:
                faults.throttle_next -= 1
                self._state.counters["faults"] += 1
                self._state.counters["throttled"] += 1
                return json_response(429, {"message": "Too Many Attempts."}, [("Retry-After", THROTTLE_RETRY_AFTER)])
            status, after_apply = None, False
            if faults.fail_next > 0:
                faults.fail_next -= 1
                self._state.counters["faults"] += 1
                status, after_apply = faults.fail_status, faults.fail_after_apply
            if status is not None and not after_apply:
                return _failure(status)
            response = run()
            return response if status is None else _failure(status)

    def _tokenize(self, method: str, headers: dict[str, str], body: bytes) -> SandboxResponse:  # noqa: PLR0911
        if method != "POST":
            return json_response(405, {"message": "Method Not Allowed"}, [("Allow", "POST")])
        key = headers.get("x-api-key", "")
        if not hmac.compare_digest(key.encode(), self.private_key.encode()):
            self._state.counters["unauthorized"] += 1
            return json_response(401, {"message": UNAUTHENTICATED})
        try:
            payload = _body(body)
        except _Refusal as refusal:
            return refusal.response
        request = payload.get("payload") if isinstance(payload, dict) else None
        if not isinstance(request, dict) or request.get("audience") != "openapi":
            return _invalid("payload.audience", "The payload must be {audience: openapi, partner_id, shop}.")
        if str(request.get("partner_id")) != str(self.partner_id):
            self._state.counters["unauthorized"] += 1
            return json_response(401, {"message": UNAUTHENTICATED})
        shop = request.get("shop")
        if shop is not None and (not isinstance(shop, str) or shop != shop.lower() or not shop):
            return _invalid("payload.shop", "The shop id must be lower-cased.")
        return json_response(200, {"token": self._issue(shop)})

    def _issue(self, shop: str | None) -> str:
        token = f"cs_sandbox_{secrets.token_urlsafe(18)}"
        self._state.tokens[token] = (shop, self._clock())
        self._state.counters["tokens_issued"] += 1
        return token

    def _api(
        self,
        method: str,
        shop: str,
        route: list[str],
        query: dict[str, list[str]],
        headers: dict[str, str],
        body: bytes,
    ) -> SandboxResponse:
        if not self._authorised(headers.get("authorization", ""), shop):
            self._state.counters["unauthorized"] += 1
            return json_response(401, {"message": UNAUTHENTICATED})
        if shop.lower() != self.shop.lower():
            return json_response(409, {"message": NO_SHOP})
        key = headers.get("x-idempotency-key")
        try:
            if key and method in ("POST", "PATCH", "PUT"):
                return self._idempotent(
                    key, method, shop, route, body, lambda: self._route(method, route, query, body, key)
                )
            return self._route(method, route, query, body, None)
        except _Refusal as refusal:
            self._state.counters["refused"] += 1
            return refusal.response

    def _authorised(self, header: str, shop: str) -> bool:
        scheme, _, token = header.partition(" ")
        issued = self._state.tokens.get(token.strip()) if scheme.lower() == "bearer" else None
        if issued is None:
            return False
        token_shop, at = issued
        if self._clock() - at >= TOKEN_SECONDS:
            return False
        return token_shop is not None and token_shop == shop.lower()

    def _idempotent(
        self, key: str, method: str, shop: str, route: list[str], body: bytes, run: Callable[[], SandboxResponse]
    ) -> SandboxResponse:
        now = self._clock()
        canonical = json.dumps(_body(body), sort_keys=True) if body.strip() else ""
        fingerprint = hashlib.sha256(f"{method} {shop.lower()}/{'/'.join(route)} {canonical}".encode()).hexdigest()
        stored = self._state.idempotency.get(key)
        if stored is not None and now - stored.at < IDEMPOTENCY_SECONDS:
            if stored.fingerprint != fingerprint:
                self._state.counters["key_mismatches"] += 1
                return _invalid("x-idempotency-key", "The idempotency key was already used for another request.")
            self._state.counters["replays"] += 1
            return SandboxResponse(
                stored.response.status, [*stored.response.headers, ("X-Sandbox-Replay", "1")], stored.response.body
            )
        response = run()
        if response.status < 500:
            self._state.idempotency[key] = _Stored(fingerprint, response, now)
        return response

    def _route(  # noqa: PLR0911 - one answer per route
        self, method: str, route: list[str], query: dict[str, list[str]], body: bytes, key: str | None
    ) -> SandboxResponse:
        try:
            match [method, *route]:
                case ["GET", "inventory_levels"]:
                    self._state.counters["reads"] += 1
                    return self._paged([self._level(v) for v in self._state.variants.values()], query)
                case ["GET", "inventory_levels", variant_id]:
                    self._state.counters["reads"] += 1
                    return json_response(200, {"data": self._level(self._found_variant(variant_id))})
                case ["PUT", "inventory_levels", variant_id, kind] if kind in WRITE_KINDS:
                    return json_response(200, {"data": self._write(kind, variant_id, _body(body), key)})
                case ["GET", "reservations"]:
                    return self._paged(copy.deepcopy(list(self._state.reservations.values())), query)
                case ["POST", "reservations"]:
                    return json_response(201, {"data": copy.deepcopy(self._api_reserve(_body(body)))})
                case ["DELETE", "reservations", reservation_id]:
                    try:
                        released = self._release(reservation_id, "removed")
                    except KeyError:
                        raise _Refusal(404, "Reservation not found.") from None
                    return json_response(200, {"data": copy.deepcopy(released)})
                case ["GET", "orders"]:
                    return self._paged(self._orders_since(query), query)
                case ["GET", "order", order_id]:
                    try:
                        return json_response(200, {"data": copy.deepcopy(self._order(order_id))})
                    except KeyError:
                        raise _Refusal(404, "Order not found.") from None
            return json_response(404, {"message": "Not Found"})
        except _Refusal as refusal:
            self._state.counters["refused"] += 1
            return refusal.response

    # ---- routes (called under the lock) --------------------------------------------------------

    def _write(self, kind: str, variant_id: str, payload: Any, key: str | None) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise _Refusal(422, "The body must be a JSON object.")
        if str(payload.get("variant_id")) != variant_id:
            raise _Refusal(422, "The variant id must match the URL.", {"variant_id": ["The variant id is invalid."]})
        field_name = "absolute_quantity" if kind == "set_absolute_shelf_quantity" else "relative_quantity"
        quantity = payload.get(field_name)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 0 <= quantity <= MAX_QUANTITY:
            raise _Refusal(
                422,
                f"The {field_name.replace('_', ' ')} field must be a whole number.",
                {field_name: [f"The {field_name.replace('_', ' ')} must be an integer from 0 to {MAX_QUANTITY}."]},
            )
        note = payload.get("note")
        if note is not None and not isinstance(note, str):
            raise _Refusal(422, "The note must be a string.", {"note": ["The note must be a string."]})
        variant = self._found_variant(variant_id)
        held, before = self._held(variant), variant.shelf
        if kind == "add":
            variant.shelf += quantity
        elif kind == "subtract":
            if quantity > self._available(variant):
                raise _Refusal(422, "Not enough available quantity to subtract.")
            variant.shelf -= quantity
        else:
            variant.shelf = quantity
        clamped = variant.shelf < held
        if clamped:
            self._state.counters["clamped"] += 1
            log.info(
                "commentsold sandbox: shelf %d below %d held in carts; available clamped at 0", variant.shelf, held
            )
        now = self._now()
        variant.updated_at = now
        self._state.counters["writes"] += 1
        self._state.writes.append(
            {
                "seq": len(self._state.writes) + 1,
                "at": now,
                "kind": kind,
                "variant_id": variant.variant_id,
                "quantity": quantity,
                "note": note,
                "idempotency_key": key,
                "shelf_before": before,
                "shelf_after": variant.shelf,
                "held": held,
                "available_after": self._available(variant),
                "clamped": clamped,
            }
        )
        return self._level(variant)

    def _api_reserve(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("variant_id"), int | str):
            raise _Refusal(422, "The variant id field is required.", {"variant_id": ["The variant id is required."]})
        quantity = payload.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise _Refusal(422, "The quantity must be at least 1.", {"quantity": ["The quantity must be at least 1."]})
        customer = payload.get("customer_id")
        external = payload.get("external_customer_id")
        if customer is not None and (isinstance(customer, bool) or not isinstance(customer, int)):
            raise _Refusal(422, "The customer id must be an integer.", {"customer_id": ["Invalid customer id."]})
        if external is not None and not isinstance(external, str):
            raise _Refusal(422, "The external customer id must be a string.")
        variant = self._found_variant(str(payload["variant_id"]))
        if quantity > self._available(variant):
            self._state.counters["claims_refused"] += 1
            raise _Refusal(422, "Not enough inventory available.")
        return self._reserve(variant, quantity, customer, external)

    def _orders_since(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        since = 0
        for name, values in query.items():
            if not name.startswith("filter["):
                continue
            if name != ORDERS_SINCE_FILTER:
                raise _Refusal(422, f"The sandbox knows only {ORDERS_SINCE_FILTER}.", {name: ["Unsupported filter."]})
            since = _whole(values[-1], name)
        orders = [order for order in self._state.orders.values() if order["updated_at"] >= since]
        orders.sort(key=lambda order: (order["updated_at"], order["id"]))
        return copy.deepcopy(orders)

    def _paged(self, items: list[dict[str, Any]], query: dict[str, list[str]]) -> SandboxResponse:
        page = _whole(query.get("page", ["1"])[-1], "page")
        per_page = _whole(query.get("perPage", [str(DEFAULT_PER_PAGE)])[-1], "perPage")
        if page < 1:
            raise _Refusal(422, "The page must be at least 1.", {"page": ["The page must be at least 1."]})
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise _Refusal(422, f"The per page must be 1 to {MAX_PER_PAGE}.", {"perPage": ["Out of range."]})
        chunk = items[(page - 1) * per_page : page * per_page]
        pagination = {
            "total": len(items),
            "count": len(chunk),
            "perPage": per_page,
            "currentPage": page,
            "totalPages": max(1, math.ceil(len(items) / per_page)),
        }
        return json_response(200, {"data": chunk, "pagination": pagination})

    # ---- state (called under the lock) ------------------------------------------------------------

    def _reserve(
        self, variant: _Variant, quantity: int, customer_id: int | None, external_customer_id: str | None
    ) -> dict[str, Any]:
        now = self._now()
        reservation: dict[str, Any] = {
            "id": self._next_id("reservation", 9000),
            "customer_id": customer_id if customer_id is not None else self._next_id("customer", 300),
            "external_customer_id": external_customer_id,
            "variant_id": variant.variant_id,
            "quantity": quantity,
            "created_at": now,
            "updated_at": now,
        }
        self._state.reservations[reservation["id"]] = reservation
        self._state.counters["reservations_created"] += 1
        self._enqueue("reservation.created", reservation)
        return reservation

    def _release(self, reservation_id: int | str, reason: str) -> dict[str, Any]:
        reservation = self._reservation(reservation_id)
        del self._state.reservations[reservation["id"]]
        self._state.counters["reservations_deleted"] += 1
        self._enqueue("reservation.deleted", {**reservation, "reason": reason})
        return reservation

    def _reservation(self, reservation_id: int | str) -> dict[str, Any]:
        text = str(reservation_id)
        reservation = self._state.reservations.get(int(text)) if text.isascii() and text.isdigit() else None
        if reservation is None:
            raise KeyError(f"reservation {text} is not a live reservation")
        return reservation

    def _order(self, order_id: int | str) -> dict[str, Any]:
        text = str(order_id)
        order = self._state.orders.get(int(text)) if text.isascii() and text.isdigit() else None
        if order is None:
            raise KeyError(f"order {text} is unknown")
        return order

    def _variant(self, variant_id: str | int) -> _Variant:
        variant = self._state.variants.get(str(variant_id))
        if variant is None:
            raise KeyError(f"variant {variant_id} is unknown; call stock() first")
        return variant

    def _found_variant(self, variant_id: str) -> _Variant:
        try:
            return self._variant(variant_id)
        except KeyError:
            raise _Refusal(404, "Inventory level not found.") from None

    def _shelve(self, variant_id: int | str, quantity: int) -> None:
        variant = self._state.variants.get(str(variant_id))
        if variant is not None:
            variant.shelf += quantity
            variant.updated_at = self._now()

    def _held(self, variant: _Variant) -> int:
        key = str(variant.variant_id)
        return sum(r["quantity"] for r in self._state.reservations.values() if str(r["variant_id"]) == key)

    def _available(self, variant: _Variant) -> int:
        return max(0, variant.shelf - self._held(variant))

    def _level(self, variant: _Variant) -> dict[str, Any]:
        return {
            "variant_id": variant.variant_id,
            "product_id": variant.product_id,
            "total_available_quantity": self._available(variant),
            "created_at": variant.created_at,
            "updated_at": variant.updated_at,
        }

    def _enqueue(self, topic: str, data: dict[str, Any]) -> None:
        delivery_id = self._next_id("delivery", 0)
        webhook = {
            "id": delivery_id,
            "topic": topic,
            "body": {"id": delivery_id, "topic": topic, "created_at": self._now(), "data": copy.deepcopy(data)},
        }
        self._state.outbox.append(webhook)
        self._state.last_webhook = copy.deepcopy(webhook)
        self._state.counters["webhooks_queued"] += 1

    def _next_id(self, kind: str, base: int) -> int:
        self._state.ids[kind] += 1
        return base + self._state.ids[kind]

    def _now(self) -> int:
        return int(self._clock())

    # ---- control API (no auth; for people and end-to-end tests) --------------------------------

    def _control(self, method: str, path: str, body: bytes) -> SandboxResponse:
        """The routes listed in the module docstring."""
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_response(400, {"error": "body must be JSON"})
        parts = path.rstrip("/").split("/")[3:]  # the parts after /_sandbox/commentsold
        route = self._control_routes().get((method, "/".join(parts)))
        if route is None:
            return json_response(404, {"error": f"no sandbox control route {method} {path}"})
        try:
            answer = route(payload)
        except KeyError as missing:
            return json_response(404, {"error": str(missing.args[0]) if missing.args else "not found"})
        except (TypeError, ValueError, _Refusal) as error:
            return json_response(400, {"error": str(error)})
        return json_response(200, answer)

    def _control_routes(self) -> dict[tuple[str, str], Callable[[Any], Any]]:
        return {
            ("GET", "inventory"): lambda _: {
                "levels": self.levels(),
                "reservations": self.reservations(),
                "orders": self.orders(),
            },
            ("POST", "stock"): lambda payload: {"levels": self._control_stock(payload)},
            ("POST", "claim"): self._control_claim,
            ("POST", "remove"): lambda payload: {"reservation": self.remove(_given(payload, "reservation_id"))},
            ("POST", "expire"): lambda payload: {"reservation": self.expire(_given(payload, "reservation_id"))},
            ("POST", "checkout"): lambda payload: self.checkout(_listed(payload, "reservation_ids")),
            ("POST", "cancel"): lambda payload: self.cancel(
                _given(payload, "order_id"), restock=bool(payload.get("restock", True))
            ),
            ("POST", "refund"): lambda payload: self.refund(
                _given(payload, "order_id"),
                _listed(payload, "line_ids") if payload.get("line_ids") is not None else None,
                restock=bool(payload.get("restock", True)),
            ),
            ("POST", "deliver"): self._control_deliver,
            ("GET", "writes"): lambda _: {"writes": self.writes()},
            ("GET", "webhooks"): lambda _: {"webhooks": self.webhooks()},
            ("GET", "counters"): lambda _: {"counters": self.counters()},
            ("POST", "faults"): self._control_faults,
            ("POST", "reset"): self._control_reset,
        }

    def _control_reset(self, _: Any) -> dict[str, Any]:
        self.reset()
        return {"reset": True}

    def _control_claim(self, payload: Any) -> dict[str, Any]:
        customer = payload.get("customer_id") if isinstance(payload, dict) else None
        reservation = self.claim(
            _given(payload, "variant_id"),
            _whole(payload.get("quantity", 1), "quantity"),
            customer_id=None if customer is None else _whole(customer, "customer_id"),
        )
        return {"reservation": reservation, "held": reservation is not None}

    def _control_deliver(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict) or not isinstance(payload.get("url"), str):
            raise ValueError('expected {"url": ..., "secret": ..., "header"?, "encoding"?}')
        if not isinstance(payload.get("secret"), str):
            raise ValueError('expected {"url": ..., "secret": ..., "header"?, "encoding"?}')
        header = str(payload.get("header", SIGNATURE_HEADER))
        return self.deliver_webhooks(payload["url"], payload["secret"], header, str(payload.get("encoding", "hex")))

    def _control_faults(self, payload: Any) -> dict[str, Any]:
        if not isinstance(payload, dict):
            raise ValueError("expected {fail_next?, status?, after_apply?, throttle_next?}")
        if "fail_next" in payload:
            self.fail_next(
                _whole(payload["fail_next"], "fail_next"),
                _whole(payload.get("status", 503), "status"),
                after_apply=bool(payload.get("after_apply")),
            )
        if "throttle_next" in payload:
            self.throttle_next(_whole(payload["throttle_next"], "throttle_next"))
        with self._lock:
            return {"faults": dict(vars(self._state.faults))}

    def _control_stock(self, payload: Any) -> list[dict[str, Any]]:
        entries = payload if isinstance(payload, list) else [payload]
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("variant_id"), int | str):
                raise ValueError("expected {variant_id, shelf[, product_id, price]}")
            for name in ("shelf", "product_id", "price"):
                if name in entry:
                    _whole(entry[name], name)
        return [
            self.stock(
                entry["variant_id"], entry.get("shelf", 0), product_id=entry.get("product_id"), price=entry.get("price")
            )
            for entry in entries
        ]


def _api_id(text: str) -> int | str:
    return int(text) if text.isascii() and text.isdigit() else text


def _check_quantity(value: Any, what: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_QUANTITY:
        raise ValueError(f"{what} is a whole number from 0 to {MAX_QUANTITY}")


def _whole(value: Any, what: str) -> int:
    """An integer from JSON or a query string; a refusal for anything else."""
    if isinstance(value, bool):
        raise _Refusal(422, f"The {what} must be an integer.", {what: ["Not an integer."]})
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isascii() and value.strip().lstrip("-").isdigit():
        return int(value)
    raise _Refusal(422, f"The {what} must be an integer.", {what: ["Not an integer."]})


def _given(payload: Any, name: str) -> int | str:
    value = payload.get(name) if isinstance(payload, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"expected {{{name!r}: ...}}")
    return value


def _listed(payload: Any, name: str) -> list[Any]:
    value = payload.get(name) if isinstance(payload, dict) else None
    if not isinstance(value, list):
        raise ValueError(f"expected {{{name!r}: [...]}}")
    return value


def _body(body: bytes) -> Any:
    try:
        return json.loads(body) if body.strip() else None
    except ValueError:
        raise _Refusal(400, "The body must be JSON.") from None


def _invalid(field_name: str, message: str) -> SandboxResponse:
    return json_response(422, {"message": message, "errors": {field_name: [message]}})


def _failure(status: int) -> SandboxResponse:
    return json_response(status, {"message": f"sandbox fault injection: HTTP {status}"}, [("X-Sandbox-Fault", "1")])
