"""Shopify Admin GraphQL as a ChannelPort: ``inventorySetQuantities`` writes, level reads.

Facts relied on (Shopify Admin API, 2026-04): from 2026-04 every quantity must carry
``changeFromQuantity`` (an int or an explicit null) and the mutation must carry ``@idempotent``;
input arrays are capped at 250; the cost bucket is reported in ``extensions.cost`` on every
response, and throttling shows up as HTTP 429 (fractional ``Retry-After``) or as HTTP 200 with
``errors[0].extensions.code == "THROTTLED"``.

All-or-nothing: neither the reference nor Shopify's docs say whether one refused quantity blocks
the others. The answers on record show ``inventoryAdjustmentGroup: null`` next to one item's
userError (payloads/shopify/graphql_examples.json; a community.shopify.com thread on the sibling
``inventorySetOnHandQuantities``, where one bad line of several got a null group). So this port
decides per response: userErrors without an adjustment group mean nothing was applied, and the
writes that did not fail themselves come back as ``HeldBack`` and are resent once under a derived
key (see ``retry_without``). If Shopify returns a group alongside userErrors, the writes without
errors count as applied.

Never log payloads or the token: logs carry HTTP statuses, error codes and attempt numbers only.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from omnistock.channels import ChannelRefused, ChannelUnavailable, QuantityWrite, WriteOutcome
from omnistock.channels.shopify.auth import ShopifyToken

log = logging.getLogger(__name__)

STALE_CODES = frozenset({"CHANGE_FROM_QUANTITY_STALE", "COMPARE_QUANTITY_STALE"})
# Whole-call userErrors that may succeed when sent again later; any other whole-call code is a
# refusal of every write in the call.
TRANSIENT_CODES = frozenset({"IDEMPOTENCY_CONCURRENT_REQUEST", "INTERNAL_ERROR"})
BACKOFF_BASE = 0.5  # seconds; the first retry waits up to this much
MAX_WAIT = 30.0  # no single wait may eat a Lambda's time budget
QUERY_COST_CAP = 1000  # Shopify refuses any single query whose requested cost exceeds this
SET_COST = 10.0  # requested cost of the mutation in Shopify's own example

SET_MUTATION = """
mutation OmnistockSetAvailable($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
}
""".strip()

READ_QUERY = """
query OmnistockLevels($ids: [ID!]!, $locationId: ID!) {
  nodes(ids: $ids) {
    ... on InventoryItem {
      id
      inventoryLevel(locationId: $locationId) { quantities(names: ["available"]) { name quantity } }
    }
  }
}
""".strip()
# Requested cost per id until an answer reports the real one: the item, its one level at the
# location and one quantity, 1 point each; so a read carries the full 250 ids (under the
# 1000-point cap). Later batches are sized from the requestedQueryCost each answer reports.
READ_COST_PER_ID = 3


@dataclass(frozen=True)
class HeldBack(WriteOutcome):
    """Not applied only because another write of the same call was refused and Shopify applied
    none of the call. Nothing is wrong with this write: resend it as it is, without the refused
    ones (``error`` stays empty and ``stale`` False)."""

    resend: bool = True


class _Retry(Exception):
    """A transient failure: wait ``wait`` seconds (None: back off) and send again."""

    def __init__(self, problem: str, wait: float | None = None, *, refused: bool = False) -> None:
        super().__init__(problem)
        self.problem = problem
        self.wait = wait
        self.refused = refused  # Shopify ran nothing (throttled): safe to resend anything


class TooCostly(ChannelUnavailable):
    """MAX_COST_EXCEEDED: the query asked for more than one query may cost."""


@dataclass
class _Bucket:
    available: float
    maximum: float
    restore_rate: float
    at: float  # clock() when observed


class ShopifyInventory:
    max_batch = 250  # Shopify's cap on every input array

    def __init__(
        self,
        shop_domain: str,
        access_token: str | ShopifyToken,
        api_version: str = "2026-04",
        *,
        endpoint: str | None = None,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        max_attempts: int = 6,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        # The version is pinned by the caller: Shopify falls forward silently from retired ones.
        self.endpoint = endpoint or f"https://{shop_domain}/admin/api/{api_version}/graphql.json"
        self._token = access_token
        self._owns_client = client is None
        self._client = client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        self._sleep = sleep
        self._clock = clock
        self.max_attempts = max_attempts
        self.calls = 0  # HTTP requests made
        self.throttled = 0  # 429 or THROTTLED answers seen
        self._bucket: _Bucket | None = None
        self._slept = 0.0  # seconds slept since the bucket was last observed
        self._requested: float | None = None  # requestedQueryCost of the latest answer
        self._set_cost = SET_COST
        self._read_cost_per_id = float(READ_COST_PER_ID)

    def __repr__(self) -> str:  # endpoint only: the token must never reach a log line
        return f"ShopifyInventory(endpoint={self.endpoint!r})"

    @property
    def last_requested(self) -> float | None:
        """The requestedQueryCost of the latest answer (None when it named none)."""
        return self._requested

    def close(self) -> None:
        if self._owns_client:
            self._client.close()

    # ---- writes -------------------------------------------------------------------------

    def set_quantities(self, writes: list[QuantityWrite], idempotency_key: str) -> list[WriteOutcome]:
        if len(writes) > self.max_batch:
            raise ValueError(f"{len(writes)} writes exceed Shopify's cap of {self.max_batch} per call")
        if not writes:
            return []
        outcomes = self._apply(writes, idempotency_key, idempotency_key)
        # One bad SKU must not block the batch: resend the held-back writes once.
        return self.retry_without(writes, outcomes, f"{idempotency_key}:2", reference=idempotency_key)

    def retry_without(
        self,
        writes: list[QuantityWrite],
        outcomes: list[WriteOutcome],
        idempotency_key: str,
        *,
        reference: str | None = None,
    ) -> list[WriteOutcome]:
        """Resend only the writes that were held back by a refused sibling, under a new key
        (a different set of writes is a distinct request for Shopify's idempotency), and merge
        the answers into ``outcomes``. Returns ``outcomes`` unchanged if nothing was held back."""
        held = [i for i, outcome in enumerate(outcomes) if isinstance(outcome, HeldBack)]
        if not held:
            return outcomes
        again = self._apply([writes[i] for i in held], idempotency_key, reference or idempotency_key)
        merged = list(outcomes)
        for i, outcome in zip(held, again, strict=True):
            merged[i] = outcome
        return merged

    def _apply(self, writes: Sequence[QuantityWrite], key: str, reference: str) -> list[WriteOutcome]:
        variables: dict[str, Any] = {
            "input": {
                "name": "available",
                "reason": "correction",
                "referenceDocumentUri": f"gid://omnistock/Push/{reference}",
                "quantities": [
                    {
                        "inventoryItemId": w.listing_id,
                        "locationId": w.location_id,
                        "quantity": w.quantity,
                        "changeFromQuantity": w.change_from,  # None is sent as the explicit null 2026-04 needs
                    }
                    for w in writes
                ],
            },
            "idempotencyKey": key,
        }
        for attempt in range(1, self.max_attempts + 1):
            data = self.graphql("set", SET_MUTATION, variables, cost=self._set_cost)
            self._set_cost = self._requested or self._set_cost
            result = (data or {}).get("inventorySetQuantities")
            if not isinstance(result, dict) or not isinstance(result.get("userErrors"), list):
                # Never read a missing answer as "no errors, all applied".
                raise ChannelUnavailable("Shopify answered inventorySetQuantities without a result")
            codes = {e.get("code") for e in result.get("userErrors") or []}
            if "IDEMPOTENCY_CONCURRENT_REQUEST" in codes:
                # The same key is still being processed: wait, then ask again with the same key.
                log.warning("shopify idempotency: concurrent request, attempt %d", attempt)
                self._pause(self._backoff(attempt))
                continue
            if "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED" in codes:
                # Shopify wants a new key. Derive it, so a rerun of this push derives the same one
                # and gets Shopify's stored answer instead of applying twice.
                log.warning("shopify idempotency: previous attempt failed, new key, attempt %d", attempt)
                variables["idempotencyKey"] = f"{key}:r{attempt}"
                continue
            return _outcomes(writes, result)
        raise ChannelUnavailable(f"Shopify idempotency conflicts outlasted {self.max_attempts} attempts")

    # ---- reads --------------------------------------------------------------------------

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """What Shopify shows as available, per (item, location); one query per location and
        up to 250 items, each reading only the level at that location."""
        found: dict[tuple[str, str], int] = {}
        for location in dict.fromkeys(location for _, location in items):
            wanted = list(dict.fromkeys(item_id for item_id, at in items if at == location))
            found.update(self._read_at(location, wanted))
        return found

    def _read_at(self, location: str, item_ids: list[str]) -> dict[tuple[str, str], int]:
        pending = list(item_ids)
        found: dict[tuple[str, str], int] = {}
        while pending:
            chunk = pending[: int(min(self.max_batch, max(1, QUERY_COST_CAP // self._read_cost_per_id)))]
            size = len(chunk)
            try:
                variables = {"ids": chunk, "locationId": location}
                data = self.graphql("read", READ_QUERY, variables, cost=self._read_cost_per_id * size)
            except TooCostly:
                if size == 1:
                    raise
                # The estimate was low: price ids by Shopify's answer (above the cap, so the batch
                # shrinks) or, without one, halve the batch; then go again.
                requested = self._requested or 0
                self._read_cost_per_id = requested / size if requested > QUERY_COST_CAP else 2 * self._read_cost_per_id
                continue
            del pending[:size]
            if self._requested:  # learn the real price so the next batch is as large as allowed
                self._read_cost_per_id = max(1.0, self._requested / size)
            found.update(_available(chunk, location, data))
        return found

    # ---- transport: retries, throttling, the cost bucket ---------------------------------

    def graphql(
        self, operation: str, query: str, variables: dict[str, Any], *, cost: float, idempotent: bool = True
    ) -> Any:
        """POST one GraphQL document and return its ``data``, retrying what is worth retrying.
        Inventory mutations are safe to resend: the idempotency key and changeFromQuantity travel
        along. A mutation that is not (``idempotent=False``) is resent only after an answer that
        says it did not run (throttling); after a 5xx or a lost answer the caller decides."""
        body = {"query": query, "variables": variables}
        problem = "no attempt allowed"
        for attempt in range(1, self.max_attempts + 1):
            self._pause(self._bucket_delay(cost))
            try:
                return self._attempt(body)
            except _Retry as retry:
                problem = retry.problem
                if not idempotent and not retry.refused:
                    raise ChannelUnavailable(
                        f"Shopify {operation}: {problem}; it may have run, so not resent"
                    ) from None
                log.warning("shopify %s: %s, attempt %d of %d", operation, problem, attempt, self.max_attempts)
                cost = self._requested or cost  # a throttled answer states what the query needs
                if attempt < self.max_attempts:
                    self._pause(self._backoff(attempt) if retry.wait is None else retry.wait)
        raise ChannelUnavailable(f"Shopify {operation} failed after {self.max_attempts} attempts ({problem})")

    def _access_token(self, renew: bool) -> str:
        if isinstance(self._token, str):
            return self._token
        return self._token.renew() if renew else self._token.token()

    def _post(self, body: dict[str, Any], token: str) -> httpx.Response:
        self.calls += 1
        self._requested = None
        headers = {"X-Shopify-Access-Token": token, "Content-Type": "application/json"}
        try:
            return self._client.post(self.endpoint, json=body, headers=headers)
        except httpx.TransportError as exc:  # timeouts, refused or reset connections
            raise _Retry(type(exc).__name__) from exc

    def _attempt(self, body: dict[str, Any]) -> Any:
        """One HTTP request. Returns ``data``; raises _Retry for transient failures and
        ChannelUnavailable for the ones that a retry cannot fix."""
        response = self._post(body, self._access_token(renew=False))
        if response.status_code == 401 and isinstance(self._token, ShopifyToken):
            response = self._post(body, self._access_token(renew=True))  # expired or rotated: once
        status = response.status_code
        if status == 429:
            self.throttled += 1
            raise _Retry("HTTP 429", _retry_after(response), refused=True)
        if status >= 500:
            raise _Retry(f"HTTP {status}")
        if status in (401, 403):
            raise ChannelRefused(f"Shopify refused the access token or its scopes (HTTP {status})")
        if status == 404:
            raise ChannelRefused("Shopify endpoint not found (HTTP 404): check the shop domain and API version")
        if status >= 400:
            raise ChannelRefused(f"Shopify rejected the request (HTTP {status})")
        try:
            payload = response.json()
        except ValueError:  # e.g. an HTML maintenance page served with 200
            raise _Retry("unparseable response") from None
        if not isinstance(payload, dict):
            raise _Retry("unexpected response shape")
        self._observe(payload)
        code = _error_code(payload)
        if code == "THROTTLED":
            self.throttled += 1
            # The next attempt's pre-wait does the bucket math; back off only if it cannot.
            bucket_knows = self._requested is not None and self._bucket_delay(self._requested) > 0
            raise _Retry(code, 0.0 if bucket_knows else None, refused=True)
        if code == "INTERNAL_SERVER_ERROR":
            raise _Retry(code)
        if code == "MAX_COST_EXCEEDED":
            raise TooCostly("Shopify refused a query above its single-query cost cap")
        if code is not None:
            raise ChannelRefused(f"Shopify GraphQL error {code}")
        return payload.get("data")

    def _observe(self, payload: dict[str, Any]) -> None:
        cost = (payload.get("extensions") or {}).get("cost")
        if not isinstance(cost, dict):
            return
        if cost.get("requestedQueryCost") is not None:
            self._requested = float(cost["requestedQueryCost"])
        status = cost.get("throttleStatus") or {}
        try:
            self._bucket = _Bucket(
                available=float(status["currentlyAvailable"]),
                maximum=float(status["maximumAvailable"]),
                restore_rate=float(status["restoreRate"]),
                at=self._clock(),
            )
            self._slept = 0.0
        except (KeyError, TypeError, ValueError):
            pass

    def _bucket_delay(self, cost: float) -> float:
        """Seconds until the bucket holds ``cost``, from the last observation plus what has
        leaked back in since (by the clock, or by our own sleeps when the clock is faked)."""
        b = self._bucket
        if b is None or b.restore_rate <= 0:
            return 0.0
        elapsed = max(self._clock() - b.at, self._slept)
        available = min(b.maximum, b.available + elapsed * b.restore_rate)
        return max(0.0, (min(cost, b.maximum) - available) / b.restore_rate)

    def _backoff(self, attempt: int) -> float:
        # Full jitter: spreads retries of concurrent pushes instead of synchronising them.
        return random.uniform(0, min(MAX_WAIT, BACKOFF_BASE * 2 ** (attempt - 1)))

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            seconds = min(seconds, MAX_WAIT)
            self._slept += seconds
            self._sleep(seconds)


def from_secret(
    secret_name: str,
    shop_domain: str,
    api_version: str,
    read_secret: Callable[[bool], str],
    endpoint: str | None = None,
    token_url: str | None = None,
) -> ShopifyInventory:
    """The port, its token from the secret named ``secret_name`` (see auth.py: a Dev Dashboard
    app's client id and secret, or a permanent token), read through ``read_secret(refresh)``
    on every use. A secret in neither form fails each call like a channel that is down (naming
    the secret, never its value), so one platform's bad secret never stops another's pushes."""
    if token_url is None and endpoint:  # the sandbox (or a proxy) serves the token endpoint too
        origin = httpx.URL(endpoint)
        token_url = str(origin.copy_with(path="/admin/oauth/access_token", query=None))
    token = ShopifyToken(read_secret, secret_name, shop_domain, token_url=token_url)
    return ShopifyInventory(shop_domain, token, api_version, endpoint=endpoint)


def _outcomes(writes: Sequence[QuantityWrite], result: dict[str, Any]) -> list[WriteOutcome]:
    item_codes: dict[int, str] = {}
    call_codes: list[str] = []
    for error in result.get("userErrors") or []:
        code = error.get("code") or "UNKNOWN"
        index = _write_index(error.get("field"), len(writes))
        if index is None:
            call_codes.append(code)
        else:
            item_codes.setdefault(index, code)
    if call_codes:
        if call_codes[0] in TRANSIENT_CODES:
            raise ChannelUnavailable(f"Shopify refused the call for now ({call_codes[0]})")
        return [WriteOutcome(w.listing_id, w.location_id, applied=False, error=call_codes[0]) for w in writes]
    # No adjustment group next to userErrors: Shopify applied none of the call.
    none_applied = bool(item_codes) and result.get("inventoryAdjustmentGroup") is None
    outcomes: list[WriteOutcome] = []
    for i, w in enumerate(writes):
        code = item_codes.get(i)
        if code in STALE_CODES:
            outcomes.append(WriteOutcome(w.listing_id, w.location_id, applied=False, stale=True))
        elif code:
            outcomes.append(WriteOutcome(w.listing_id, w.location_id, applied=False, error=code))
        elif none_applied:
            outcomes.append(HeldBack(w.listing_id, w.location_id, applied=False))
        else:
            outcomes.append(WriteOutcome(w.listing_id, w.location_id, applied=True))
    return outcomes


def _available(chunk: list[str], location: str, data: Any) -> dict[tuple[str, str], int]:
    found: dict[tuple[str, str], int] = {}
    # nodes answers in the order of ids, null for ids that resolve to nothing; inventoryLevel is
    # null where the item is not stocked at the location.
    for item_id, node in zip(chunk, (data or {}).get("nodes") or [], strict=False):
        for quantity in ((node or {}).get("inventoryLevel") or {}).get("quantities") or []:
            if quantity.get("name") == "available" and quantity.get("quantity") is not None:
                found[(item_id, location)] = int(quantity["quantity"])
    return found


def _write_index(field: Any, count: int) -> int | None:
    """``["input", "quantities", "3", "changeFromQuantity"]`` -> 3; None when not about one write."""
    if not isinstance(field, list) or len(field) < 3 or field[:2] != ["input", "quantities"]:
        return None
    try:
        index = int(field[2])
    except (TypeError, ValueError):
        return None
    return index if 0 <= index < count else None


def _error_code(payload: dict[str, Any]) -> str | None:
    if not payload.get("errors"):
        return None
    errors = payload["errors"]
    first = errors[0] if isinstance(errors, list) else None
    if isinstance(first, dict):
        return str((first.get("extensions") or {}).get("code") or "GRAPHQL_ERROR")
    return "GRAPHQL_ERROR"


def _retry_after(response: httpx.Response) -> float | None:
    try:
        seconds = float(response.headers["Retry-After"])  # seconds, may be fractional
    except (KeyError, ValueError):
        return None
    return seconds if seconds > 0 else None  # "0" or nonsense: back off rather than hammer
