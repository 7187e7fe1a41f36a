"""CommentSold's REST API as a ChannelPort (absolute shelf writes, level reads) plus the reads the
poll needs (reservations, orders).

Facts relied on (CommentSold's official PHP SDK and its API docs page):

- Tokens: ``POST {token_url}`` with ``x-api-key: <partner private key>`` and the body
  ``{"payload": {"audience": "openapi", "partner_id": ..., "shop": <shop id, lower-cased>}}``
  answers ``{"token": ...}``. A token lasts 24 hours and should be reused: this port keeps one for
  23 hours, and a 401 from the API fetches a new one once and sends the request again.
- The API lives at ``{api_base}/{shop}/...`` with ``Authorization: Bearer <token>``; JSON both
  ways, money in cents, times in epoch seconds. Lists answer ``{"data": [...], "pagination":
  {"total", "count", "perPage", "currentPage", "totalPages"}}`` and take ``page``/``perPage``.
- ``PUT .../inventory_levels/{variant_id}/set_absolute_shelf_quantity`` with ``{"variant_id",
  "absolute_quantity", "note"}`` sets the SHELF quantity: what is available plus what viewers hold
  in carts. The SDK says "use with extreme caution": a caller that sends what it wants AVAILABLE
  erases every cart hold. ``GET .../inventory_levels/{variant_id}`` answers the level, whose
  ``total_available_quantity`` is the AVAILABLE quantity (shelf minus carts).
- Shop POST/PATCH/PUT honour ``x-idempotency-key`` for 48 hours, and keys are unique across URLs:
  a repeat answers the first answer and is not applied again.
- Rate limits are not documented: a 429 is waited out (``Retry-After``, seconds) and a 5xx or a
  lost connection is retried with full-jitter backoff, up to ``max_attempts`` per request.

ASSUMED (CommentSold does not publish the meaning of the orders list's ``filter[]`` values):
``filter[updated_at_min]=<epoch seconds>`` selects the orders updated at or after that moment.
``ORDERS_SINCE_FILTER`` is the one place that says so.

Never log payloads, ids or the token: logs carry operation names, HTTP statuses and attempt
numbers only.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx

from omnistock.channels import ChannelUnavailable, QuantityWrite, WriteOutcome

log = logging.getLogger(__name__)

PRODUCTION_API = "https://openapi.commentsold.com/v1"
PRODUCTION_TOKEN_URL = "https://tokens.cs-api.com/tokenize"  # noqa: S105 - a URL, not a secret
SANDBOX_API = "https://openapi.commentsoldpartners.com/v1"
SANDBOX_TOKEN_URL = "https://tokens-partners.cs-api.com/tokenize"  # noqa: S105 - a URL, not a secret

TOKEN_REUSE_SECONDS = 23 * 3600  # tokens last 24 h; an hour of margin for clock skew and long pushes
PER_PAGE = 100  # poll pages
# ASSUMED, see the module docstring: the only place the orders filter is named.
ORDERS_SINCE_FILTER = "filter[updated_at_min]"
DEFAULT_NOTE = "Omnistock sync"
BACKOFF_BASE = 0.5  # seconds; the first retry waits up to this much
MAX_WAIT = 30.0  # no single wait may eat a Lambda's time budget
ITEM_ERRORS = {400: "INVALID", 404: "NOT_FOUND", 422: "INVALID"}  # refusals of one write, not of the shop


class CommentSoldApi:
    """One shop's CommentSold API. ``location_id`` of the port's items is echoed back unchanged:
    CommentSold keeps one quantity per variant, with no locations."""

    max_batch = 50  # one request per write: keeps a push call well inside a Lambda's time
    # Writes set the shelf: CommentSold's own number leaves its carts out, so Omnistock adds back
    # the units it holds for CommentSold's carts (see push.targets). An absolute shelf write is
    # chosen over add/subtract deltas: a delta that is lost or applied twice is wrong for good,
    # while an absolute write (with its idempotency key) is right whenever it lands, and keeps the
    # carts CommentSold holds now, which Omnistock knows exactly (every claim is a hold).
    writes_shelf = True

    def __init__(
        self,
        shop: str,
        partner_id: str,
        private_key: str,
        *,
        api_base: str = PRODUCTION_API,
        token_url: str = PRODUCTION_TOKEN_URL,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 6,
        note: str = DEFAULT_NOTE,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not shop.strip():
            raise ValueError("shop is required")
        self.shop = shop.strip()
        self.api_base = api_base.rstrip("/")
        self.token_url = token_url
        self._partner_id = partner_id
        self._private_key = private_key
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        self._sleep = sleep
        self._clock = clock
        self.max_attempts = max_attempts
        self.note = note
        self.calls = 0  # HTTP requests to the API
        self.token_requests = 0  # HTTP requests to the token endpoint
        self.throttled = 0  # 429 answers seen (either endpoint)
        self.refreshes = 0  # tokens dropped because the API answered 401
        self._token: str | None = None
        self._token_at = 0.0  # clock() when the token was issued

    def __repr__(self) -> str:  # no key, no token: this may reach a log line
        return f"CommentSoldApi(shop={self.shop!r}, api_base={self.api_base!r})"

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    # ---- ChannelPort: writes --------------------------------------------------------------

    def set_quantities(self, writes: list[QuantityWrite], idempotency_key: str) -> list[WriteOutcome]:
        """Set each variant's ABSOLUTE SHELF quantity: ``QuantityWrite.quantity`` must already
        include the units held in CommentSold carts (available + held), because CommentSold
        recomputes available as shelf minus carts; sending only what should be available would
        erase the viewers' carts.

        One ``PUT .../set_absolute_shelf_quantity`` per write, with the header
        ``x-idempotency-key: {idempotency_key}:{listing_id}``: the same push sent again (after a
        timeout, or a ChannelUnavailable halfway through the batch) derives the same keys, so
        CommentSold answers the writes it already applied from its record instead of applying
        them again (for 48 hours).

        ``change_from`` is ignored: CommentSold has no compare-and-set, so no outcome is ever
        ``stale``. A 400/404/422 is that write's ``error``; a platform failure (5xx or 429 that
        outlast the retries, transport errors, a refused token) raises ChannelUnavailable."""
        if len(writes) > self.max_batch:
            raise ValueError(f"{len(writes)} writes exceed the cap of {self.max_batch} per call")
        outcomes: list[WriteOutcome] = []
        for write in writes:
            if write.quantity < 0:
                outcomes.append(WriteOutcome(write.listing_id, write.location_id, applied=False, error="NEGATIVE"))
                continue
            body = {"variant_id": _id_value(write.listing_id), "absolute_quantity": write.quantity, "note": self.note}
            response = self._api(
                "set_absolute_shelf_quantity",
                "PUT",
                f"inventory_levels/{_segment(write.listing_id)}/set_absolute_shelf_quantity",
                body=body,
                idempotency_key=f"{idempotency_key}:{write.listing_id}",
            )
            status = response.status_code
            if 200 <= status < 300:
                outcomes.append(WriteOutcome(write.listing_id, write.location_id, applied=True))
            elif status in ITEM_ERRORS:
                error = ITEM_ERRORS[status]
                message = _message(response)
                outcomes.append(
                    WriteOutcome(
                        write.listing_id,
                        write.location_id,
                        applied=False,
                        error=f"{error}: {message}" if message else error,
                    )
                )
            else:
                raise _unexpected("set_absolute_shelf_quantity", status)
        return outcomes

    # ---- ChannelPort: reads ---------------------------------------------------------------

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """``total_available_quantity`` (AVAILABLE: shelf minus carts) per (variant, location);
        one request per distinct variant; variants CommentSold does not know are left out."""
        found: dict[tuple[str, str], int] = {}
        for variant in dict.fromkeys(listing for listing, _ in items):
            available = self.available(variant)
            if available is None:
                continue
            for listing, location in items:
                if listing == variant:
                    found[(listing, location)] = available
        return found

    def available(self, variant_id: str) -> int | None:
        """One variant's available quantity, or None when CommentSold answers 404."""
        response = self._api("read_level", "GET", f"inventory_levels/{_segment(variant_id)}")
        if response.status_code == 404:
            return None
        data = _json(response, "read_level").get("data")
        quantity = data.get("total_available_quantity") if isinstance(data, dict) else None
        if isinstance(quantity, bool) or not isinstance(quantity, int):
            raise ChannelUnavailable("CommentSold answered an inventory level without total_available_quantity")
        return quantity

    # ---- poll reads -----------------------------------------------------------------------

    def reservations(self, page: int) -> tuple[list[dict[str, Any]], bool]:
        """One page (1-based, 100 a page) of the shop's live reservations (cart holds), and
        whether more pages follow."""
        return self._page("reservations", "reservations", {}, page)

    def orders_since(self, since_epoch: int, page: int) -> tuple[list[dict[str, Any]], bool]:
        """One page (1-based, 100 a page) of the orders updated at or after ``since_epoch``
        (epoch seconds; the filter is ASSUMED, see ``ORDERS_SINCE_FILTER``), and whether more
        pages follow."""
        return self._page("orders", "orders", {ORDERS_SINCE_FILTER: str(int(since_epoch))}, page)

    def order(self, order_id: str) -> dict[str, Any] | None:
        """One order (``GET .../order/{id}``), or None when CommentSold answers 404."""
        response = self._api("order", "GET", f"order/{_segment(order_id)}")
        if response.status_code == 404:
            return None
        data = _json(response, "order").get("data")
        if not isinstance(data, dict):
            raise ChannelUnavailable("CommentSold answered an order without data")
        return data

    def _page(self, operation: str, path: str, params: dict[str, str], page: int) -> tuple[list[dict[str, Any]], bool]:
        if page < 1:
            raise ValueError("pages start at 1")
        response = self._api(operation, "GET", path, params={**params, "page": str(page), "perPage": str(PER_PAGE)})
        payload = _json(response, operation)
        data = payload.get("data")
        if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
            raise ChannelUnavailable(f"CommentSold answered {operation} without a data list")
        pagination = payload.get("pagination")
        more = False
        if isinstance(pagination, dict) and data:
            current, total = pagination.get("currentPage", page), pagination.get("totalPages", page)
            more = isinstance(current, int) and isinstance(total, int) and current < total
        return data, more

    # ---- transport: token, retries ---------------------------------------------------------

    def _api(
        self,
        operation: str,
        method: str,
        path: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> httpx.Response:
        """Send one API request and return its answer, whatever its status except 401, 403, 409,
        429 and 5xx: those are retried (a 401 once, with a new token) or raise ChannelUnavailable."""
        url = f"{self.api_base}/{_segment(self.shop)}/{path}"
        for fresh in (False, True):
            headers = {
                "Authorization": f"Bearer {self._current_token()}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            }
            if idempotency_key is not None:
                headers["x-idempotency-key"] = idempotency_key

            def send(headers: dict[str, str] = headers) -> httpx.Response:
                self.calls += 1
                return self._client.request(method, url, params=params, json=body, headers=headers)

            response = self._exchange(operation, send)
            status = response.status_code
            if status == 401 and not fresh:
                log.info("commentsold %s: token refused (HTTP 401), fetching a new one", operation)
                self._token = None
                self.refreshes += 1
                continue
            if status in (401, 403):
                raise ChannelUnavailable(f"CommentSold refused the shop token (HTTP {status})")
            if status == 409:
                raise ChannelUnavailable("CommentSold has no database for this shop (HTTP 409): check the shop id")
            return response
        raise ChannelUnavailable(f"CommentSold {operation}: no answer")  # pragma: no cover - the loop returns

    def _current_token(self) -> str:
        if self._token is not None and self._clock() - self._token_at < TOKEN_REUSE_SECONDS:
            return self._token
        self._token = None
        body = {"payload": {"audience": "openapi", "partner_id": self._partner_id, "shop": self.shop.lower()}}
        headers = {"x-api-key": self._private_key, "Content-Type": "application/json", "Accept": "application/json"}

        def send() -> httpx.Response:
            self.token_requests += 1
            return self._client.post(self.token_url, json=body, headers=headers)

        issued_at = self._clock()
        response = self._exchange("tokenize", send)
        status = response.status_code
        if status in (401, 403):
            raise ChannelUnavailable(f"CommentSold refused the partner key (HTTP {status})")
        if not 200 <= status < 300:
            raise _unexpected("tokenize", status)
        token = _json(response, "tokenize").get("token")
        if not isinstance(token, str) or not token:
            raise ChannelUnavailable("CommentSold answered the token request without a token")
        self._token, self._token_at = token, issued_at
        return token

    def _exchange(self, operation: str, send: Callable[[], httpx.Response]) -> httpx.Response:
        """``send`` until an answer that is neither a 429, a 5xx nor a transport error, waiting
        between attempts; ChannelUnavailable once ``max_attempts`` are spent."""
        problem = "no attempt allowed"
        for attempt in range(1, self.max_attempts + 1):
            wait: float | None = None
            try:
                response = send()
            except httpx.TransportError as exc:  # timeouts, refused or reset connections
                problem = type(exc).__name__
            else:
                status = response.status_code
                if status == 429:
                    self.throttled += 1
                    problem, wait = "HTTP 429", _retry_after(response)
                elif status >= 500:
                    problem = f"HTTP {status}"
                else:
                    return response
            log.warning("commentsold %s: %s, attempt %d of %d", operation, problem, attempt, self.max_attempts)
            if attempt < self.max_attempts:
                self._pause(self._backoff(attempt) if wait is None else wait)
        raise ChannelUnavailable(f"CommentSold {operation} failed after {self.max_attempts} attempts ({problem})")

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads the retries of concurrent pushes instead of synchronising them.
        return random.uniform(0, min(MAX_WAIT, BACKOFF_BASE * 2 ** (attempt - 1)))

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self._sleep(min(seconds, MAX_WAIT))


def from_secret(
    secret_name: str,
    shop: str,
    secrets_client: Any,
    api_base: str | None = None,
    token_url: str | None = None,
) -> CommentSoldApi:
    """Build the port with the partner credentials read from Secrets Manager by name. The secret
    string is JSON ``{"partner_id": ..., "private_key": ...}``."""
    secret = secrets_client.get_secret_value(SecretId=secret_name)["SecretString"]
    try:
        parsed = json.loads(secret)
        partner_id, private_key = parsed["partner_id"], parsed["private_key"]
    except (ValueError, KeyError, TypeError):
        # Never echo the secret: its name only.
        raise ValueError(f"secret {secret_name!r} is not JSON with partner_id and private_key") from None
    if not isinstance(private_key, str) or not private_key or not isinstance(partner_id, str | int):
        raise ValueError(f"secret {secret_name!r} is not JSON with partner_id and private_key")
    return CommentSoldApi(
        shop,
        str(partner_id),
        private_key,
        api_base=api_base or PRODUCTION_API,
        token_url=token_url or PRODUCTION_TOKEN_URL,
    )


def _segment(value: str) -> str:
    """One path segment, escaped so an id can never reach another URL."""
    return quote(str(value), safe="")


def _id_value(listing_id: str) -> int | str:
    """CommentSold's ids are integers; anything else is sent as it is and refused by the API."""
    return int(listing_id) if listing_id.isascii() and listing_id.isdigit() else listing_id


def _json(response: httpx.Response, operation: str) -> dict[str, Any]:
    if not 200 <= response.status_code < 300:
        raise _unexpected(operation, response.status_code)
    try:
        payload = response.json()
    except ValueError:  # e.g. an HTML maintenance page served with 200
        raise ChannelUnavailable(f"CommentSold answered {operation} with an unparseable body") from None
    if not isinstance(payload, dict):
        raise ChannelUnavailable(f"CommentSold answered {operation} with an unexpected shape")
    return payload


def _message(response: httpx.Response) -> str:
    """The refusal's ``message`` (CommentSold's error bodies carry one), short; "" without one."""
    try:
        payload = response.json()
    except ValueError:
        return ""
    message = payload.get("message") if isinstance(payload, dict) else None
    return message[:200] if isinstance(message, str) else ""


def _unexpected(operation: str, status: int) -> ChannelUnavailable:
    return ChannelUnavailable(f"CommentSold answered {operation} with HTTP {status}")


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers["Retry-After"])  # seconds, may be fractional
    except (KeyError, ValueError):
        return None
    return seconds if seconds > 0 else None  # "0" or nonsense: back off rather than hammer
