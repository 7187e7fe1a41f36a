"""Shopify Admin GraphQL inventory sandbox: TEST EQUIPMENT, not a Shopify implementation.

``ShopifySandbox`` stands in for one shop's ``POST /admin/api/<version>/graphql.json`` so the
local stack and the tests can push stock to "Shopify" and watch the quantities arrive. It
answers these operations, recognised by regular expressions on the query text plus the
``variables`` (there is no GraphQL engine here):

1. ``mutation ... { inventorySetQuantities(input: $input) @idempotent(key: "...") { ... } }``;
   the key may be a literal or a variable (``@idempotent(key: $key)``);
2. ``query ... { nodes(ids: $ids) { ... on InventoryItem { id inventoryLevels(first: N) { nodes {
   location { id } quantities(names: ["available"]) { name quantity } } } } } }``;
3. the orders documents (``orders``, ``order(id:)``, ``fulfillmentCreate``) of ``shop.orders``,
   a ``SandboxOrders``: see local/sandbox/shopify_orders.py for what they mirror;
4. ``productVariants`` pages and webhook subscriptions of ``shop.catalog``, a ``SandboxCatalog``
   (local/sandbox/shopify_catalog.py).

Anything else gets ``{"errors": [{"message": "unsupported by the sandbox"}]}`` with HTTP 200.
Responses always carry the full documented shape whatever the selection set asks for.

What it mirrors (API 2026-04; facts from Shopify's Admin API documentation and changelog):

* ``X-Shopify-Access-Token`` must equal the configured token, else 401 with Shopify's text.
* ``changeFromQuantity`` is compare-and-set: "2026-04 (breaking): changeFromQuantity is
  mandatory on every quantity: pass an integer or an explicit null; omitting it is an error. ...
  A mismatch returns CHANGE_FROM_QUANTITY_STALE". The enum has no dedicated code for
  an omitted ``changeFromQuantity``, so the sandbox answers ``COMPARE_QUANTITY_REQUIRED`` (the
  listed code that means "the compare value must be given"), field ``[..., "changeFromQuantity"]``.
  ``compareQuantity``/``ignoreCompareQuantity`` "are removed" in 2026-04, so sending them is a
  top-level ``INVALID_VARIABLE`` error, as any undefined input field would be.
* ``name`` "only "available" or "on_hand"", else ``INVALID_NAME``.
* "Max quantities per call: 250 ... a longer array makes the request fail": more than
  250 quantities (or ids) is a top-level ``MAX_INPUT_SIZE_EXCEEDED`` error and nothing runs.
* ``@idempotent`` is "2026-04: mandatory ... calls without it fail at runtime": a
  missing directive is a top-level error (code ``BAD_REQUEST``; the wording is the sandbox's).
  "Sending the same key again returns the original result without applying the change a second
  time": same key + same variables replays the stored ``data`` (userErrors included);
  same key + different variables is userError ``IDEMPOTENCY_KEY_PARAMETER_MISMATCH``.
* ALL-OR-NOTHING. Shopify never documents a partial write; it says "the write happens
  only if the stored value equals compareQuantity", and its stale example
  (payloads/shopify/graphql_examples.json ``inventorySetQuantities_stale_response``) answers
  a two-quantity request with one userError on quantity 0 and ``"inventoryAdjustmentGroup":
  null``, i.e. no group of changes at all. So if any userError exists nothing is written.
* Setting ``available`` moves ``on_hand`` by the same delta and vice versa (the success example
  shows an ``available`` and an ``on_hand`` change of +3 each). Changes with delta 0 are left out.
* Cost-based leaky bucket, one per sandbox (one sandbox = one shop; "per app per
  store"): ``maximum_available`` 2000 and ``restore_rate`` 100/s by default. Requested cost: the
  mutation 10 (as in the success example). The ``nodes`` read, by default (``read_pricing=
  "simple"``), 1 + len(ids), actual 1 + the ids found. ``read_pricing="schema"`` prices it by
  Shopify's published rule instead (shopify.dev GraphQL Admin rate limits: object 1, connection
  2 + the objects asked for, scalar 0): per id 1 + (2 + first x (2 + len(names))), i.e. 153 an
  id for ``first: 50`` and one name, so seven ids pass the 1000 cap; actual cost counts the
  levels returned. Either way the difference is refunded ("afterwards the difference between
  requested and actual cost is refunded"). A request costing more than 1000 or than
  the bucket can ever hold is ``MAX_COST_EXCEEDED``. Structurally invalid requests are
  rejected before the bucket is touched (their cost shows ``actualQueryCost: 0``).
* Throttled: "errors[0].extensions.code == "THROTTLED" (message "Throttled"), actualQueryCost is
  null, and data is absent", HTTP 200 by default; ``throttle_mode="http429"`` answers
  the same body with HTTP 429 and ``Retry-After`` = (requested - currentlyAvailable)/restoreRate
  seconds, fractional.
* Every GraphQL answer carries ``extensions.cost = {requestedQueryCost, actualQueryCost,
  throttleStatus: {maximumAvailable, currentlyAvailable, restoreRate}}``.

Sandbox-only behaviour (no Shopify counterpart; here to exercise the adapter):

* fault injection: ``fail_next(n, status=503, after_apply=False)`` (``after_apply=True`` runs the
  request, then loses the answer: the write lands but the client sees the error, the case
  idempotent retries exist for), ``throttle_storm(n)`` (429 + ``Retry-After: 0.05``),
  ``delay(seconds)`` (every request waits; 0 turns it off);
* reasons are checked against ``DEFAULT_REASONS`` (``reasons=None`` accepts any non-empty one);
* ``GET/POST /_sandbox/...`` control endpoints without auth (see ``ShopifySandbox._control``);
* the InventoryLevel id it returns has Shopify's ``?inventory_item_id=`` suffix.

All state sits behind one lock, so requests are applied one at a time (which is also why
``IDEMPOTENCY_CONCURRENT_REQUEST`` never happens here).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import logging
import re
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import parse_qsl, urlsplit

from local.sandbox.bucket import CostBucket
from local.sandbox.server import HeaderPairs, HeadersIn, LoopbackServer, SandboxResponse, json_response, lower_headers
from local.sandbox.shopify_catalog import CatalogOperation, SandboxCatalog
from local.sandbox.shopify_orders import OrdersOperation, OrdersQueryError, SandboxOrders

if TYPE_CHECKING:
    import httpx

log = logging.getLogger("local.sandbox.shopify")

DEFAULT_API_VERSION = "2026-04"
DEFAULT_TOKEN = "shpat_sandbox_token"  # noqa: S105 - a fixed test credential, not a secret
DEFAULT_CLIENT_ID = "sandbox-client-id"
SANDBOX_SCOPES = (
    "read_inventory",
    "write_inventory",
    "read_products",
    "read_orders",
    "read_merchant_managed_fulfillment_orders",
    "write_merchant_managed_fulfillment_orders",
    "write_products",  # Unleashed as product master writes products
)
DEFAULT_CLIENT_SECRET = "sandbox-client-secret"  # noqa: S105 - a fixed test credential, not a secret
ITEM_PREFIX = "gid://shopify/InventoryItem/"
LOCATION_PREFIX = "gid://shopify/Location/"
QUANTITY_NAMES = ("available", "on_hand")
MAX_INPUT_ITEMS = 250
MAX_PAGE_SIZE = 250
MAX_QUERY_COST = 1000
MAX_QUANTITY = 1_000_000_000
MUTATION_COST = 10
STORM_RETRY_AFTER = "0.05"
THROTTLE_DOCS = "https://shopify.dev/api/usage/rate-limits"
UNAUTHORIZED = "[API] Invalid API key or access token (unrecognized login or wrong password)"
UNSUPPORTED = "unsupported by the sandbox"
DEFAULT_REASONS = frozenset(
    {
        "correction",
        "cycle_count_available",
        "damaged",
        "movement_canceled",
        "movement_created",
        "movement_received",
        "movement_updated",
        "other",
        "promotion",
        "quality_control",
        "received",
        "reservation_created",
        "reservation_deleted",
        "reservation_updated",
        "restock",
        "safety_stock",
        "shrinkage",
    }
)
# Shopify's enum descriptions (InventorySetQuantitiesUserErrorCode), except COMPARE_QUANTITY_REQUIRED.
MESSAGES = {
    "CHANGE_FROM_QUANTITY_STALE": "The changeFromQuantity value does not match persisted value.",
    "COMPARE_QUANTITY_REQUIRED": (
        "changeFromQuantity must be given on every quantity from API version 2026-04 (null skips the check)."
    ),
    "IDEMPOTENCY_KEY_PARAMETER_MISMATCH": (
        "The same idempotency key cannot be used with different operation parameters."
    ),
    "INVALID_INVENTORY_ITEM": "The specified inventory item could not be found.",
    "INVALID_LOCATION": "The specified location could not be found.",
    "INVALID_NAME": "The quantity name must be either 'available' or 'on_hand'.",
    "INVALID_QUANTITY_NEGATIVE": "The quantity can't be negative.",
    "INVALID_QUANTITY_TOO_HIGH": "The total quantity can't be higher than 1,000,000,000.",
    "INVALID_REASON": "The specified reason is invalid.",
    "INVALID_REFERENCE_DOCUMENT": "The specified reference document is invalid.",
    "ITEM_NOT_STOCKED_AT_LOCATION": "The specified inventory item is not stocked at the location.",
    "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR": "The combination of inventoryItemId and locationId must be unique.",
}

ThrottleMode = Literal["graphql", "http429"]
ReadPricing = Literal["simple", "schema"]

_GRAPHQL_PATH = re.compile(r"^/admin/api/(?P<version>[0-9]{4}-[0-9]{2}|unstable)/graphql\.json$")
_MUTATION = re.compile(r"^\s*mutation\b")
_SET_FIELD = re.compile(r"\binventorySetQuantities\s*\(\s*input\s*:\s*\$(?P<var>\w+)\s*\)")
_IDEMPOTENT = re.compile(r'@idempotent\s*\(\s*key\s*:\s*(?:"(?P<literal>(?:[^"\\]|\\.)*)"|\$(?P<var>\w+))\s*\)')
_NODES = re.compile(r"\bnodes\s*\(\s*ids\s*:\s*\$(?P<var>\w+)\s*\)")
_LEVELS_FIRST = re.compile(r"\binventoryLevels\s*\(\s*first\s*:\s*(?:(?P<number>\d+)|\$(?P<var>\w+))")
_LEVEL_AT = re.compile(r"\binventoryLevel\s*\(\s*locationId\s*:\s*\$(?P<var>\w+)\s*\)")
_NAMES_ARG = re.compile(r"\bquantities\s*\(\s*names\s*:\s*(?:\[(?P<list>[^\]]*)\]|\$(?P<var>\w+))")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")
_INPUT_FIELDS = frozenset({"name", "reason", "referenceDocumentUri", "quantities"})
_QUANTITY_FIELDS = frozenset({"inventoryItemId", "locationId", "quantity", "changeFromQuantity"})


def item_gid(value: str | int) -> str:
    """``gid://shopify/InventoryItem/<n>`` from a number (a GID is returned as it is)."""
    return _gid(value, ITEM_PREFIX)


def location_gid(value: str | int) -> str:
    """``gid://shopify/Location/<n>`` from a number (a GID is returned as it is)."""
    return _gid(value, LOCATION_PREFIX)


def _gid(value: str | int, prefix: str) -> str:
    text = str(value)
    return prefix + text if text.isdigit() else text


@dataclass(frozen=True)
class MutationRecord:
    """One executed ``inventorySetQuantities`` (replays are not recorded again)."""

    seq: int
    at: str
    api_version: str
    idempotency_key: str
    name: str
    reason: str
    reference_document_uri: str | None
    quantities: tuple[dict[str, Any], ...]
    changes: tuple[dict[str, Any], ...]
    user_errors: tuple[dict[str, Any], ...]

    @property
    def applied(self) -> bool:
        return not self.user_errors

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "applied": self.applied}


@dataclass
class _Level:
    available: int
    on_hand: int
    number: int  # for the InventoryLevel GID


@dataclass
class _Faults:
    fail_next: int = 0
    fail_status: int = 503
    fail_after_apply: bool = False
    throttle_storm: int = 0
    delay: float = 0.0


@dataclass(frozen=True)
class _SetQuantities:
    key: str
    input: dict[str, Any]
    fingerprint: str
    cost: int = MUTATION_COST


@dataclass(frozen=True)
class _AppInfo:
    """``{ shop { name } currentAppInstallation { accessScopes { handle } } }``: who the token is."""

    cost: int = 1


@dataclass(frozen=True)
class _ReadNodes:
    ids: list[str]
    first: int | None  # None: the query asks for no inventoryLevels
    names: list[str]
    pricing: ReadPricing = "simple"
    location: str | None = None  # inventoryLevel(locationId:): the one level at that location

    @property
    def cost(self) -> int:
        """Requested cost: priced on ``first`` levels per id, whatever the shop holds."""
        if self.pricing == "simple":
            return 1 + len(self.ids)
        if self.location is not None:  # the item, its level and one quantity per name
            return len(self.ids) * (2 + len(self.names))
        return len(self.ids) * self.item_cost(self.first)

    def actual_cost(self, levels_found: list[int | None]) -> int:
        """Actual cost, from what came back: per id found, the levels it had (None: not found)."""
        found = [count for count in levels_found if count is not None]
        if self.pricing == "simple":
            return 1 + len(found)
        return max(1, sum(self.item_cost(count if self.first is not None else None) for count in found))

    def item_cost(self, levels: int | None) -> int:
        """Shopify's documented rule: an object 1, a connection 2 + its objects, scalars 0. A
        level is the level, its location and one InventoryQuantity per name asked for."""
        if levels is None:
            return 1
        return 1 + 2 + levels * (2 + len(self.names))


@dataclass(frozen=True)
class _Fault:
    kind: Literal["storm", "fail"]
    status: int = 503
    after_apply: bool = False


class _TopLevelError(Exception):
    """A GraphQL top-level error: the whole request fails and nothing runs."""

    def __init__(self, message: str, code: str, cost: int = 0, **extra: Any) -> None:
        super().__init__(message)
        self.cost = cost
        self.error: dict[str, Any] = {"message": message, **extra, "extensions": {"code": code}}


@dataclass
class _State:
    items: dict[str, None] = field(default_factory=dict)  # ordered sets
    locations: dict[str, None] = field(default_factory=dict)
    levels: dict[tuple[str, str], _Level] = field(default_factory=dict)
    idempotency: dict[str, tuple[str, dict[str, Any]]] = field(default_factory=dict)
    log: list[MutationRecord] = field(default_factory=list)
    counters: Counter[str] = field(default_factory=Counter)
    faults: _Faults = field(default_factory=_Faults)
    level_numbers: int = 0


class ShopifySandbox:
    """TEST EQUIPMENT: a local stand-in for one shop's Admin GraphQL inventory API.

    ``with ShopifySandbox(token="t") as shop:`` serves ``shop.url`` on 127.0.0.1 (a free port
    unless ``port`` is given); ``shop.handle(...)``/``shop.graphql(...)`` answer the same way
    in-process, without a socket. Seed it with ``stock(item, location, available)``.
    """

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        maximum_available: float = 2000.0,
        restore_rate: float = 100.0,
        throttle_mode: ThrottleMode = "graphql",
        read_pricing: ReadPricing = "simple",
        reasons: Iterable[str] | None = DEFAULT_REASONS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.token = token
        # A Dev Dashboard app installed on the shop: the client credentials grant issues tokens
        # that expire (``expire_granted_tokens()`` ends them all, as 24 hours would).
        self.client_id = DEFAULT_CLIENT_ID
        self.client_secret = DEFAULT_CLIENT_SECRET
        self.token_lifetime = 86_399
        self.scopes = list(SANDBOX_SCOPES)  # what the app was granted (the doctor compares)
        self._granted: set[str] = set()
        self.throttle_mode = throttle_mode
        if read_pricing not in ("simple", "schema"):
            raise ValueError(f"read_pricing must be 'simple' or 'schema', not {read_pricing!r}")
        self.read_pricing = read_pricing
        self.reasons = frozenset(reasons) if reasons is not None else None
        self._check_mode(throttle_mode)
        self._lock = threading.RLock()
        self._clock = clock
        self._sleep = sleep
        self._bucket = CostBucket(maximum_available, restore_rate, clock)
        self._state = _State()
        self.orders = SandboxOrders(self, self._lock)
        self.catalog = SandboxCatalog(self, self._lock)
        self._server = LoopbackServer(self.handle, host, port, "shopify-sandbox", log)

    # ---- lifecycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL, standing in for ``https://<shop>.myshopify.com``."""
        return f"http://{self._server.host}:{self._server.port}"

    def graphql_url(self, version: str = DEFAULT_API_VERSION) -> str:
        return f"{self.url}/admin/api/{version}/graphql.json"

    def start(self) -> ShopifySandbox:
        self._server.start()
        log.info("Shopify sandbox (test equipment) on %s", self.url)
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> ShopifySandbox:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # ---- seeding and inspection ------------------------------------------------------------

    def add_item(self, item_id: str | int) -> str:
        """Make an inventory item known (stocked nowhere yet); returns its GID."""
        gid = item_gid(item_id)
        with self._lock:
            self._state.items[gid] = None
        return gid

    def add_location(self, location_id: str | int) -> str:
        gid = location_gid(location_id)
        with self._lock:
            self._state.locations[gid] = None
        return gid

    def stock(self, item_id: str | int, location_id: str | int, available: int = 0, on_hand: int | None = None) -> None:
        """Stock an item at a location (creating both if new) and set its quantities there.
        ``on_hand`` defaults to ``available`` plus whatever was committed before."""
        item, location = self.add_item(item_id), self.add_location(location_id)
        with self._lock:
            level = self._state.levels.get((item, location))
            if level is None:
                self._state.level_numbers += 1
                level = _Level(available, available, self._state.level_numbers)
                self._state.levels[(item, location)] = level
            committed = level.on_hand - level.available
            level.available = available
            level.on_hand = on_hand if on_hand is not None else available + committed

    def set_available(self, item_id: str | int, location_id: str | int, available: int) -> None:
        """Simulate a manual edit in the Shopify admin: ``available`` and ``on_hand`` move by the
        same delta. The item must already be stocked there (KeyError otherwise)."""
        with self._lock:
            level = self._level(item_id, location_id)
            level.on_hand += available - level.available
            level.available = available

    def sell(self, item_id: str | int, location_id: str | int, quantity: int = 1) -> None:
        """Simulate a sale on Shopify: ``available`` drops (it may go negative, as an oversold
        item does), ``on_hand`` stays until fulfilment, so ``committed`` grows."""
        with self._lock:
            self._level(item_id, location_id).available -= quantity

    def available(self, item_id: str | int, location_id: str | int) -> int | None:
        """``available`` at the location, or None if the item is not stocked there."""
        with self._lock:
            level = self._state.levels.get((item_gid(item_id), location_gid(location_id)))
            return None if level is None else level.available

    def on_hand(self, item_id: str | int, location_id: str | int) -> int | None:
        with self._lock:
            level = self._state.levels.get((item_gid(item_id), location_gid(location_id)))
            return None if level is None else level.on_hand

    def levels(self) -> list[dict[str, Any]]:
        with self._lock:
            return [
                {"item": item, "location": location, "available": level.available, "on_hand": level.on_hand}
                for (item, location), level in self._state.levels.items()
            ]

    @property
    def mutations(self) -> list[MutationRecord]:
        """Every ``inventorySetQuantities`` that wrote something, oldest first."""
        with self._lock:
            return [record for record in self._state.log if record.applied]

    @property
    def rejected_mutations(self) -> list[MutationRecord]:
        """Every ``inventorySetQuantities`` that came back with userErrors (and wrote nothing)."""
        with self._lock:
            return [record for record in self._state.log if not record.applied]

    @property
    def counters(self) -> dict[str, int]:
        """``calls`` (GraphQL endpoint requests), ``throttled``, ``mutations`` (applied),
        ``quantities_set``, ``replays``, ``user_errors``, ``reads``, ``errors`` (top-level),
        ``unsupported``, ``unauthorized``, ``faults``, ``grants`` (tokens issued), and the
        orders' (``SandboxOrders.counters``)."""
        keys = (
            "calls",
            "throttled",
            "mutations",
            "quantities_set",
            "replays",
            "user_errors",
            "reads",
            "errors",
            "unsupported",
            "unauthorized",
            "faults",
            "grants",
        )
        with self._lock:
            counted = {key: self._state.counters[key] for key in keys}
            return {**counted, **self.orders.counters(), **self.catalog.counters()}

    def throttle_status(self) -> dict[str, Any]:
        with self._lock:
            return self._bucket.status()

    def refill(self) -> None:
        """Fill the cost bucket up."""
        with self._lock:
            self._bucket.fill()

    def reset(self) -> None:
        """Forget everything: inventory, orders, idempotency keys, log, counters, faults; bucket full."""
        with self._lock:
            self._state = _State()
            self.orders.reset()
            self.catalog.reset()
            self._bucket.fill()

    # ---- fault injection -------------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503, *, after_apply: bool = False) -> None:
        """Answer the next ``n`` GraphQL requests with HTTP ``status``. With ``after_apply`` the
        request is processed first (a write lands, its idempotent answer is stored) and only the
        answer is replaced: a lost response."""
        with self._lock:
            faults = self._state.faults
            faults.fail_next, faults.fail_status, faults.fail_after_apply = max(0, n), status, after_apply

    def throttle_storm(self, n: int = 1) -> None:
        """Answer the next ``n`` GraphQL requests with HTTP 429, ``Retry-After: 0.05``."""
        with self._lock:
            self._state.faults.throttle_storm = max(0, n)

    def delay(self, seconds: float) -> None:
        """Hold every GraphQL request this long before answering (0 turns it off)."""
        with self._lock:
            self._state.faults.delay = max(0.0, seconds)

    def clear_faults(self) -> None:
        with self._lock:
            self._state.faults = _Faults()

    @property
    def faults(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._state.faults)

    def set_throttle_mode(self, mode: ThrottleMode) -> None:
        self._check_mode(mode)
        with self._lock:
            self.throttle_mode = mode

    # ---- in-process clients ----------------------------------------------------------------

    def graphql(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        version: str = DEFAULT_API_VERSION,
        token: str | None = None,
    ) -> SandboxResponse:
        """POST a GraphQL request in-process (no socket), with the configured token by default."""
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        headers = [("Content-Type", "application/json"), ("X-Shopify-Access-Token", token or self.token)]
        return self.handle("POST", f"/admin/api/{version}/graphql.json", headers, body)

    def transport(self) -> httpx.MockTransport:
        """An ``httpx`` transport that answers from this sandbox in-process, for code under test
        that takes an ``httpx.Client``: ``httpx.Client(transport=shop.transport(), base_url=...)``."""
        import httpx

        def answer(request: httpx.Request) -> httpx.Response:
            target = request.url.raw_path.decode("ascii")
            response = self.handle(request.method, target, list(request.headers.items()), request.read())
            return httpx.Response(response.status, headers=response.headers, content=response.body)

        return httpx.MockTransport(answer)

    # ---- HTTP ------------------------------------------------------------------------------

    def handle(self, method: str, target: str, headers: HeadersIn | None, body: bytes) -> SandboxResponse:
        """Answer one HTTP request (the server calls this; unit tests may call it directly)."""
        path = urlsplit(target).path
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            return self._control(method.upper(), path, body)
        if path == "/admin/oauth/access_token" and method.upper() == "POST":
            return self._grant(body)
        match = _GRAPHQL_PATH.match(path)
        if match is None:
            return json_response(404, {"errors": "Not Found"})
        if method.upper() != "POST":
            return json_response(405, {"errors": "Method Not Allowed"}, [("Allow", "POST")])
        return self._graphql(match["version"], lower_headers(headers), body)

    def _graphql(self, version: str, headers: dict[str, str], body: bytes) -> SandboxResponse:
        with self._lock:
            self._state.counters["calls"] += 1
            pause = self._state.faults.delay
            fault = self._take_fault()
        if pause > 0:
            self._sleep(pause)
        if fault is not None and fault.kind == "storm":
            return self._storm(version)
        if fault is not None and not fault.after_apply:
            return self._failure(fault.status)

        token = headers.get("x-shopify-access-token")
        if token is None or not (hmac.compare_digest(token.encode(), self.token.encode()) or token in self._granted):
            with self._lock:
                self._state.counters["unauthorized"] += 1
            return json_response(401, {"errors": UNAUTHORIZED})
        request = _parse_body(body)
        if isinstance(request, SandboxResponse):
            return request
        with self._lock:
            response = self._run(version, *request)
        if fault is not None:  # after_apply: the work is done, the answer is lost
            return self._failure(fault.status)
        return response

    def _grant(self, body: bytes) -> SandboxResponse:
        """The client credentials grant: a form with grant_type, client_id and client_secret."""
        form = dict(parse_qsl(body.decode("utf-8", "replace")))
        with self._lock:
            self._state.counters["grants"] += 1
        if form.get("grant_type") != "client_credentials":
            return json_response(400, {"error": "unsupported_grant_type"})
        if not (
            hmac.compare_digest(form.get("client_id", "").encode(), self.client_id.encode())
            and hmac.compare_digest(form.get("client_secret", "").encode(), self.client_secret.encode())
        ):
            return json_response(400, {"error": "invalid_client"})
        token = f"shpat_granted_{secrets.token_hex(8)}"
        with self._lock:
            self._granted.add(token)
        scope = ",".join(self.scopes)
        return json_response(200, {"access_token": token, "scope": scope, "expires_in": self.token_lifetime})

    def expire_granted_tokens(self) -> None:
        with self._lock:
            self._granted.clear()

    def _take_fault(self) -> _Fault | None:
        faults = self._state.faults
        if faults.throttle_storm > 0:
            faults.throttle_storm -= 1
            self._state.counters["faults"] += 1
            self._state.counters["throttled"] += 1
            return _Fault("storm")
        if faults.fail_next > 0:
            faults.fail_next -= 1
            self._state.counters["faults"] += 1
            return _Fault("fail", faults.fail_status, faults.fail_after_apply)
        return None

    def _storm(self, version: str) -> SandboxResponse:
        with self._lock:
            body = self._throttled_body(None)
        return json_response(429, body, [("Retry-After", STORM_RETRY_AFTER), *self._headers(version)])

    @staticmethod
    def _failure(status: int) -> SandboxResponse:
        return json_response(status, {"errors": f"sandbox fault injection: HTTP {status}"}, [("X-Sandbox-Fault", "1")])

    @staticmethod
    def _headers(version: str) -> HeaderPairs:
        return [("X-Shopify-API-Version", version), ("X-Sandbox", "omnistock-test-equipment")]

    # ---- GraphQL (called under the lock) ---------------------------------------------------

    def _run(self, version: str, query: str, variables: dict[str, Any]) -> SandboxResponse:
        headers = self._headers(version)
        try:
            operation = self._recognise(query, variables)
        except (_TopLevelError, OrdersQueryError) as failure:
            self._state.counters["errors"] += 1
            return json_response(200, {"errors": [failure.error], "extensions": self._cost(failure.cost, 0)}, headers)
        if operation is None:
            self._state.counters["unsupported"] += 1
            unsupported = {"message": UNSUPPORTED, "extensions": {"code": "UNSUPPORTED_BY_SANDBOX"}}
            return json_response(200, {"errors": [unsupported], "extensions": self._cost(0, 0)}, headers)

        requested = operation.cost
        if requested > min(MAX_QUERY_COST, self._bucket.maximum_available):
            self._state.counters["errors"] += 1
            limit = min(MAX_QUERY_COST, int(self._bucket.maximum_available))
            too_costly = {
                "message": f"Query cost is {requested}, which exceeds the single query max cost limit ({limit}).",
                "extensions": {"code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": limit},
            }
            return json_response(200, {"errors": [too_costly], "extensions": self._cost(requested, 0)}, headers)
        if not self._bucket.try_take(requested):
            self._state.counters["throttled"] += 1
            body = self._throttled_body(requested)
            if self.throttle_mode == "http429":
                retry_after = _seconds(self._bucket.seconds_until(requested))
                return json_response(429, body, [("Retry-After", retry_after), *headers])
            return json_response(200, body, headers)

        if isinstance(operation, _SetQuantities):
            data, actual = self._set_quantities(version, operation), requested
        elif isinstance(operation, _ReadNodes):
            data, actual = self._read_nodes(operation)
        elif isinstance(operation, CatalogOperation):
            data, actual = self.catalog.run(operation)
        elif isinstance(operation, _AppInfo):
            installation = {"accessScopes": [{"handle": scope} for scope in self.scopes]}
            data, actual = {"shop": {"name": "Omnistock sandbox"}, "currentAppInstallation": installation}, 1
        else:
            data, actual = self.orders.run(operation)
        self._bucket.refund(requested - actual)
        return json_response(200, {"data": data, "extensions": self._cost(requested, actual)}, headers)

    def _cost(self, requested: int | None, actual: int | None) -> dict[str, Any]:
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": actual,
                "throttleStatus": self._bucket.status(),
            }
        }

    def _throttled_body(self, requested: int | None) -> dict[str, Any]:
        error = {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": THROTTLE_DOCS}}
        return {"errors": [error], "extensions": self._cost(requested, None)}

    def _recognise(
        self, query: str, variables: dict[str, Any]
    ) -> _SetQuantities | _ReadNodes | _AppInfo | OrdersOperation | CatalogOperation | None:
        elsewhere = self.catalog.recognise(query, variables) or self.orders.recognise(query, variables)
        if elsewhere is not None:
            return elsewhere
        if "currentAppInstallation" in query and not _MUTATION.match(query):
            return _AppInfo()
        if _MUTATION.match(query):
            fields = list(_SET_FIELD.finditer(query))
            if len(fields) != 1 or query.count("inventorySetQuantities") != 1:
                return None
            return self._parse_set(query, fields[0]["var"], variables)
        nodes = list(_NODES.finditer(query))
        if len(nodes) != 1:
            return None
        return self._parse_read(query, nodes[0]["var"], variables)

    def _parse_set(self, query: str, input_var: str, variables: dict[str, Any]) -> _SetQuantities:
        directive = _IDEMPOTENT.search(query)
        if directive is None:
            raise _TopLevelError(
                "inventorySetQuantities must carry the @idempotent(key: ...) directive from API version 2026-04.",
                "BAD_REQUEST",
                MUTATION_COST,
            )
        if directive["var"] is not None:
            key = variables.get(directive["var"])
            if not isinstance(key, str):
                raise _invalid(directive["var"], "String!", [], "Expected value to be a string", MUTATION_COST)
        else:
            key = _string_literal(directive["literal"])
        if not key.strip():
            raise _TopLevelError("The idempotency key must not be blank.", "BAD_REQUEST", MUTATION_COST)

        value = _check_input(input_var, variables.get(input_var))
        fingerprint = hashlib.sha256(json.dumps(variables, sort_keys=True, separators=(",", ":")).encode()).hexdigest()
        return _SetQuantities(key=key, input=value, fingerprint=fingerprint)

    def _parse_read(self, query: str, ids_var: str, variables: dict[str, Any]) -> _ReadNodes:
        ids = variables.get(ids_var)
        if not isinstance(ids, list) or not all(isinstance(one, str) for one in ids):
            raise _invalid(ids_var, "[ID!]!", [], "Expected a list of IDs", 1)
        if len(ids) > MAX_INPUT_ITEMS:
            raise _too_many(len(ids), ["nodes", "ids"], 1 + len(ids))
        first: int | None = None
        levels = _LEVELS_FIRST.search(query)
        if levels is not None:
            raw = int(levels["number"]) if levels["number"] is not None else variables.get(levels["var"])
            if not isinstance(raw, int) or isinstance(raw, bool) or raw < 0:
                raise _TopLevelError("inventoryLevels needs a non-negative integer `first`.", "BAD_REQUEST")
            if raw > MAX_PAGE_SIZE:
                raise _TopLevelError(
                    f"inventoryLevels(first: {raw}) asks for more than {MAX_PAGE_SIZE} records.", "BAD_REQUEST"
                )
            first = raw
        location = None
        level_at = _LEVEL_AT.search(query)
        if level_at is not None:
            location = variables.get(level_at["var"])
            if not isinstance(location, str):
                raise _invalid(level_at["var"], "ID!", [], "Expected an ID", 1)
        names = ["available"]
        names_arg = _NAMES_ARG.search(query)
        if names_arg is not None:
            if names_arg["list"] is not None:
                names = [_string_literal(name) for name in _QUOTED.findall(names_arg["list"])]
            else:
                given = variables.get(names_arg["var"])
                if not isinstance(given, list) or not all(isinstance(name, str) for name in given):
                    raise _invalid(names_arg["var"], "[String!]!", [], "Expected a list of strings", 1)
                names = given
        return _ReadNodes(ids=ids, first=first, names=names, pricing=self.read_pricing, location=location)

    def _read_nodes(self, operation: _ReadNodes) -> tuple[dict[str, Any], int]:
        self._state.counters["reads"] += 1
        nodes: list[dict[str, Any] | None] = []
        returned: list[int | None] = []
        for gid in operation.ids:
            if gid not in self._state.items:
                nodes.append(None)  # as GraphQL answers an id that resolves to nothing
                returned.append(None)
                continue
            node: dict[str, Any] = {"id": gid}
            page: list[tuple[str, _Level]] = []
            if operation.location is not None:  # null when the item is not stocked there
                at = self._state.levels.get((gid, operation.location))
                node["inventoryLevel"] = self._level_node(gid, operation.location, at, operation.names) if at else None
            if operation.first is not None:
                found = [(location, level) for (item, location), level in self._state.levels.items() if item == gid]
                page = found[: operation.first]
                node["inventoryLevels"] = {
                    "nodes": [self._level_node(gid, location, level, operation.names) for location, level in page],
                    "pageInfo": {"hasNextPage": len(found) > len(page), "endCursor": None},
                }
            nodes.append(node)
            returned.append(len(page))
        return {"nodes": nodes}, operation.actual_cost(returned)

    @staticmethod
    def _level_node(item: str, location: str, level: _Level, names: list[str]) -> dict[str, Any]:
        values = {
            "available": level.available,
            "on_hand": level.on_hand,
            "committed": level.on_hand - level.available,
        }
        tail = item.rsplit("/", 1)[-1]
        return {
            "id": f"gid://shopify/InventoryLevel/{level.number}?inventory_item_id={tail}",
            "location": {"id": location},
            "quantities": [{"name": name, "quantity": values.get(name, 0)} for name in names],
        }

    def _set_quantities(self, version: str, operation: _SetQuantities) -> dict[str, Any]:
        state = self._state
        stored = state.idempotency.get(operation.key)
        if stored is not None:
            fingerprint, data = stored
            if fingerprint == operation.fingerprint:
                state.counters["replays"] += 1
                log.info("inventorySetQuantities replayed for idempotency key %s", operation.key)
                return copy.deepcopy(data)
            state.counters["user_errors"] += 1
            return _payload(None, [_user_error("IDEMPOTENCY_KEY_PARAMETER_MISMATCH", None)])

        given = operation.input
        user_errors = self._user_errors(given)
        changes: list[dict[str, Any]] = []
        group: dict[str, Any] | None = None
        seq = len(state.log) + 1
        if not user_errors:
            for quantity in given["quantities"]:
                changes.extend(self._apply(given["name"], quantity))
            group = {
                "id": f"gid://shopify/InventoryAdjustmentGroup/{seq}",
                "createdAt": _now(),
                "reason": given["reason"],
                "referenceDocumentUri": given.get("referenceDocumentUri"),
                "changes": changes,
            }
            state.counters["mutations"] += 1
            state.counters["quantities_set"] += len(given["quantities"])
        else:
            state.counters["user_errors"] += 1
        data = _payload(group, user_errors)
        state.idempotency[operation.key] = (operation.fingerprint, copy.deepcopy(data))
        state.log.append(
            MutationRecord(
                seq=seq,
                at=_now(),
                api_version=version,
                idempotency_key=operation.key,
                name=given["name"],
                reason=given["reason"],
                reference_document_uri=given.get("referenceDocumentUri"),
                quantities=tuple(dict(quantity) for quantity in given["quantities"]),
                changes=tuple(copy.deepcopy(changes)),
                user_errors=tuple(user_errors),
            )
        )
        if user_errors:
            log.info("inventorySetQuantities rejected (key %s): %s", operation.key, [e["code"] for e in user_errors])
        return data

    def _user_errors(self, given: dict[str, Any]) -> list[dict[str, Any]]:
        errors: list[dict[str, Any]] = []
        name = given["name"]
        if name not in QUANTITY_NAMES:
            errors.append(_user_error("INVALID_NAME", ["input", "name"]))
        if not given["reason"] or (self.reasons is not None and given["reason"] not in self.reasons):
            errors.append(_user_error("INVALID_REASON", ["input", "reason"]))
        uri = given.get("referenceDocumentUri")
        if uri is not None and not _URI.match(uri):
            errors.append(_user_error("INVALID_REFERENCE_DOCUMENT", ["input", "referenceDocumentUri"]))
        seen: set[tuple[str, str]] = set()
        for index, quantity in enumerate(given["quantities"]):
            pair = (quantity["inventoryItemId"], quantity["locationId"])
            if pair in seen:
                errors.append(_user_error("NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", _at(index)))
                continue
            seen.add(pair)
            problem = self._quantity_problem(name, quantity)
            if problem is not None:
                code, leaf = problem
                errors.append(_user_error(code, _at(index, leaf)))
        return errors

    def _quantity_problem(  # noqa: PLR0911 - one return per documented error code
        self, name: str, quantity: dict[str, Any]
    ) -> tuple[str, str] | None:
        item, location = quantity["inventoryItemId"], quantity["locationId"]
        if item not in self._state.items:
            return "INVALID_INVENTORY_ITEM", "inventoryItemId"
        if location not in self._state.locations:
            return "INVALID_LOCATION", "locationId"
        level = self._state.levels.get((item, location))
        if level is None:
            return "ITEM_NOT_STOCKED_AT_LOCATION", "locationId"
        if quantity["quantity"] < 0:
            return "INVALID_QUANTITY_NEGATIVE", "quantity"
        if quantity["quantity"] > MAX_QUANTITY:
            return "INVALID_QUANTITY_TOO_HIGH", "quantity"
        if "changeFromQuantity" not in quantity:
            return "COMPARE_QUANTITY_REQUIRED", "changeFromQuantity"
        expected = quantity["changeFromQuantity"]
        if name in QUANTITY_NAMES and expected is not None and expected != getattr(level, name):
            return "CHANGE_FROM_QUANTITY_STALE", "changeFromQuantity"
        return None

    def _apply(self, name: str, quantity: dict[str, Any]) -> list[dict[str, Any]]:
        item, location, target = quantity["inventoryItemId"], quantity["locationId"], quantity["quantity"]
        level = self._state.levels[(item, location)]
        before = getattr(level, name)
        delta = target - before
        if delta == 0:
            return []
        level.available += delta
        level.on_hand += delta
        log.info("Shopify sandbox: %s @ %s %s %d -> %d", item, location, name, before, target)
        other = "on_hand" if name == "available" else "available"
        return [
            _change(name, delta, getattr(level, name), item, location),
            _change(other, delta, getattr(level, other), item, location),
        ]

    def _level(self, item_id: str | int, location_id: str | int) -> _Level:
        key = (item_gid(item_id), location_gid(location_id))
        level = self._state.levels.get(key)
        if level is None:
            raise KeyError(f"{key[0]} is not stocked at {key[1]}; call stock() first")
        return level

    @staticmethod
    def _check_mode(mode: str) -> None:
        if mode not in ("graphql", "http429"):
            raise ValueError(f"throttle_mode must be 'graphql' or 'http429', not {mode!r}")

    # ---- control API (no auth; for people and end-to-end tests) ----------------------------

    def _control(self, method: str, path: str, body: bytes) -> SandboxResponse:  # noqa: PLR0911 - one per route
        """``GET /_sandbox/inventory`` all levels; ``POST /_sandbox/inventory`` ``{item, location,
        available[, on_hand]}`` (or a list of them) stocks/sets; ``GET|POST /_sandbox/faults``
        ``{fail_next, status, after_apply, throttle_storm, delay}``; ``GET /_sandbox/mutations``;
        ``GET /_sandbox/counters``; ``POST /_sandbox/reset``; ``POST /_sandbox/products`` ``{title,
        variants: [{sku, item?, tracked?}]}`` · ``GET`` (every variant); ``GET /_sandbox/subscriptions``; the orders,
        fulfillments and webhooks routes of ``SandboxOrders.control``."""
        route = (method, path.rstrip("/"))
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_response(400, {"error": "body must be JSON"})
        answered = self.orders.control(*route, payload)
        if answered is not None:
            return answered
        if route == ("POST", "/_sandbox/products") and isinstance(payload, dict):
            return json_response(200, self.catalog.add_product(str(payload.get("title", "")), payload["variants"]))
        if route == ("GET", "/_sandbox/products"):
            return json_response(200, {"variants": self.catalog.variants()})
        if route == ("GET", "/_sandbox/subscriptions"):
            return json_response(200, {"subscriptions": self.catalog.subscriptions()})
        if route == ("GET", "/_sandbox/inventory"):
            with self._lock:
                return json_response(
                    200,
                    {
                        "levels": self.levels(),
                        "items": list(self._state.items),
                        "locations": list(self._state.locations),
                    },
                )
        if route == ("POST", "/_sandbox/inventory"):
            return self._control_stock(payload)
        if route == ("GET", "/_sandbox/faults"):
            return json_response(200, self.faults)
        if route == ("POST", "/_sandbox/faults"):
            return self._control_faults(payload)
        if route == ("GET", "/_sandbox/mutations"):
            with self._lock:
                records = [record.as_dict() for record in self._state.log]
            return json_response(200, {"mutations": records})
        if route == ("GET", "/_sandbox/counters"):
            return json_response(200, {"counters": self.counters, "throttleStatus": self.throttle_status()})
        if route == ("POST", "/_sandbox/reset"):
            self.reset()
            return json_response(200, {"reset": True})
        return json_response(404, {"error": f"no sandbox control route {method} {path}"})

    def _control_stock(self, payload: Any) -> SandboxResponse:
        entries = payload if isinstance(payload, list) else [payload]
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("item"), str | int):
                return json_response(400, {"error": "expected {item, location, available[, on_hand]}"})
            if not isinstance(entry.get("location"), str | int):
                return json_response(400, {"error": "expected {item, location, available[, on_hand]}"})
            for key in ("available", "on_hand"):
                if key in entry and (not isinstance(entry[key], int) or isinstance(entry[key], bool)):
                    return json_response(400, {"error": f"{key} must be an integer"})
        for entry in entries:
            self.stock(entry["item"], entry["location"], entry.get("available", 0), entry.get("on_hand"))
        return json_response(200, {"levels": self.levels()})

    def _control_faults(self, payload: Any) -> SandboxResponse:
        if not isinstance(payload, dict):
            return json_response(400, {"error": "expected {fail_next, status, after_apply, throttle_storm, delay}"})
        try:
            if "fail_next" in payload:
                self.fail_next(
                    int(payload["fail_next"]),
                    int(payload.get("status", 503)),
                    after_apply=bool(payload.get("after_apply")),
                )
            if "throttle_storm" in payload:
                self.throttle_storm(int(payload["throttle_storm"]))
            if "delay" in payload:
                self.delay(float(payload["delay"]))
            if "throttle_mode" in payload:
                self.set_throttle_mode(payload["throttle_mode"])
        except (TypeError, ValueError) as error:
            return json_response(400, {"error": str(error)})
        return json_response(200, self.faults)


def _check_input(var: str, value: Any) -> dict[str, Any]:
    """Variable coercion, as GraphQL does it before running anything: a bad shape, an undefined
    field (``compareQuantity`` included, removed in 2026-04) or too many quantities fails the
    whole request."""

    def bad(path: list[str], explanation: str) -> _TopLevelError:
        return _invalid(var, "InventorySetQuantitiesInput!", path, explanation, MUTATION_COST)

    if not isinstance(value, dict):
        raise bad([], "Expected value to not be null")
    unknown = sorted(set(value) - _INPUT_FIELDS)
    if unknown:
        raise bad(unknown[:1], "Field is not defined")
    for required in ("name", "reason"):
        if not isinstance(value.get(required), str):
            raise bad([required], "Expected a string")
    if not isinstance(value.get("referenceDocumentUri", ""), str | None):
        raise bad(["referenceDocumentUri"], "Expected a string")
    quantities = value.get("quantities")
    if not isinstance(quantities, list):
        raise bad(["quantities"], "Expected a list")
    if len(quantities) > MAX_INPUT_ITEMS:
        raise _too_many(len(quantities), ["inventorySetQuantities", "input", "quantities"], MUTATION_COST)
    for index, quantity in enumerate(quantities):
        problem = _quantity_shape_problem(quantity)
        if problem is not None:
            raise bad(["quantities", str(index), *problem[0]], problem[1])
    return value


def _quantity_shape_problem(quantity: Any) -> tuple[list[str], str] | None:
    if not isinstance(quantity, dict):
        return [], "Expected an object"
    unknown = sorted(set(quantity) - _QUANTITY_FIELDS)
    if unknown:
        return unknown[:1], "Field is not defined"
    for id_field in ("inventoryItemId", "locationId"):
        if not isinstance(quantity.get(id_field), str):
            return [id_field], "Expected an ID"
    for int_field in ("quantity", "changeFromQuantity"):
        number = quantity.get(int_field)
        if int_field == "changeFromQuantity" and number is None:
            continue  # explicit null skips the check; omitted is a userError, found later
        if not isinstance(number, int) or isinstance(number, bool):
            return [int_field], "Expected an Int"
    return None


def _parse_body(body: bytes) -> tuple[str, dict[str, Any]] | SandboxResponse:
    """``(query, variables)`` from a GraphQL POST body, or the 400 Shopify gives a bad one."""
    try:
        request = json.loads(body or b"null")
    except ValueError:
        request = None
    if not isinstance(request, dict) or not isinstance(request.get("query"), str):
        return json_response(400, {"errors": {"query": "Required parameter missing or invalid"}})
    variables = request.get("variables") or {}
    if not isinstance(variables, dict):
        return json_response(400, {"errors": {"variables": "must be a JSON object"}})
    return request["query"], variables


def _invalid(var: str, type_name: str, path: list[str], explanation: str, cost: int) -> _TopLevelError:
    where = f" for {'.'.join(path)}" if path else ""
    return _TopLevelError(
        f"Variable ${var} of type {type_name} was provided invalid value{where} ({explanation})",
        "INVALID_VARIABLE",
        cost,
        problems=[{"path": path, "explanation": explanation}],
    )


def _too_many(size: int, path: list[str], cost: int) -> _TopLevelError:
    return _TopLevelError(
        f"The input array size of {size} is greater than the maximum allowed of {MAX_INPUT_ITEMS}.",
        "MAX_INPUT_SIZE_EXCEEDED",
        cost,
        path=path,
    )


def _payload(group: dict[str, Any] | None, user_errors: list[dict[str, Any]]) -> dict[str, Any]:
    return {"inventorySetQuantities": {"inventoryAdjustmentGroup": group, "userErrors": user_errors}}


def _user_error(code: str, path: list[str] | None) -> dict[str, Any]:
    return {"field": path, "message": MESSAGES[code], "code": code}


def _at(index: int, leaf: str | None = None) -> list[str]:
    return ["input", "quantities", str(index), *([leaf] if leaf else [])]


def _change(name: str, delta: int, after: int, item: str, location: str) -> dict[str, Any]:
    return {
        "name": name,
        "delta": delta,
        "quantityAfterChange": after,
        "item": {"id": item},
        "location": {"id": location},
    }


def _string_literal(body: str) -> str:
    """The value of a GraphQL string literal's body (its escapes are JSON's)."""
    try:
        value = json.loads(f'"{body}"')
    except ValueError:
        raise _TopLevelError(f"Invalid string literal: {body!r}", "BAD_REQUEST") from None
    return str(value)


def _seconds(value: float) -> str:
    """A fractional Retry-After, never 0 (a client would spin)."""
    return f"{max(value, 0.001):.3f}".rstrip("0").rstrip(".")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")
