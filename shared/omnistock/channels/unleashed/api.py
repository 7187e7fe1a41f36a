"""The Unleashed API, signed, paged and within the month's call budget.

Facts relied on (vendor docs "Authentication", "Pagination", "StockOnHand"; platforms.md §4):

- ``https://api.unleashedsoftware.com/{Endpoint}[/{page}]?{query}`` with the headers ``api-auth-id``,
  ``api-auth-signature`` (signing.query_signature of the query as sent), ``client-type``, and
  ``Accept``/``Content-Type: application/json``. A wrong signature answers 403.
- Pages: the page number in the path, ``pageSize`` up to 1000; answers ``{"Pagination":
  {"NumberOfPages", ...}, "Items": [...]}``. Dates in JSON are ``/Date(<ms>)/``.
- A monthly quota per account: at 100% every request is refused until 00:00 UTC on the 1st. So
  every call is counted in the table first (quota_store), and a call past the retailer's budget
  is not made: ``QuotaExhausted``. From 90% of it, ``budget_state`` says "slow" and the poll (not
  essential) runs less often, so the account is never blocked by Omnistock.

Never logs bodies (they name customers): the endpoint and the status only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlencode

import httpx

from omnistock.channels import ChannelRefused, ChannelUnavailable, json_object, refusal_words
from omnistock.channels.unleashed.signing import query_signature

if TYPE_CHECKING:
    from omnistock.store.quota_store import QuotaStore

PLATFORM = "unleashed"
PAGE_SIZE = 1000  # the documented maximum: a month's budget goes furthest in big pages
CLIENT_TYPE = "omnistock/sync"  # the vendor asks for "partner_or_account/app_name"
SLOW_AT = 0.9
_DATE = re.compile(r"^/Date\((-?\d+)(?:[+-]\d{4})?\)/$")


class Pager(Protocol):
    def page(self, endpoint: str, number: int, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]: ...


def modified_since(cursor: str | None, overlap: timedelta) -> dict[str, str]:
    """The ``modifiedSince`` filter from a cursor (ISO), less an overlap: rows modified while
    the last read paged are read again (a repeat changes nothing). No cursor: everything."""
    if not cursor:
        return {}
    from omnistock.clock import parse_iso

    return {"modifiedSince": (parse_iso(cursor) - overlap).strftime("%Y-%m-%dT%H:%M:%S")}


@dataclass
class ChangedRows:
    """A list's rows, a page at a time, for as long as there is time: iterate them; ``complete``
    says every page was read (only then may the caller's cursor move on)."""

    api: Pager
    endpoint: str
    params: dict[str, str]
    out_of_time: Callable[[], bool]
    complete: bool = False
    pages: int = 0

    def __iter__(self) -> Iterator[dict[str, Any]]:
        number, count = 1, 1
        while number <= count:
            if self.out_of_time():
                return
            rows, count = self.api.page(self.endpoint, number, self.params)
            self.pages += 1
            yield from rows
            number += 1
        self.complete = True


class QuotaExhausted(ChannelUnavailable):
    """The month's call budget is used up: nothing more is asked of Unleashed until the budget
    is raised or the month turns (cursors keep the place; the next month catches up)."""


class UnleashedRefused(ChannelRefused):
    """Unleashed refused the request as sent (a 4xx): retrying the same cannot help."""


class UnleashedApi:
    def __init__(
        self,
        base: str,
        api_id: str,
        api_key: str,
        http: httpx.Client,
        quota: QuotaStore,
        monthly_budget: int,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.base = base.rstrip("/")
        self.api_id, self._key = api_id, api_key
        self.http, self.quota = http, quota
        self.monthly_budget = monthly_budget  # 0: not known; calls are counted, never refused
        self.clock = clock
        self.calls = 0

    def __repr__(self) -> str:  # no key: this may reach a log line
        return f"UnleashedApi({self.base!r})"

    # ---- the budget
    def month(self) -> str:
        return self.clock().strftime("%Y-%m")

    def used(self) -> int:
        return self.quota.used(PLATFORM, self.month())

    def budget_state(self) -> str:
        """ok, slow (90% or more of the budget used: non-essential polling slows) or stopped."""
        if self.monthly_budget <= 0:
            return "ok"
        share = self.used() / self.monthly_budget
        return "stopped" if share >= 1 else "slow" if share >= SLOW_AT else "ok"

    # ---- calls
    def page(self, endpoint: str, number: int, params: dict[str, str]) -> tuple[list[dict[str, Any]], int]:
        """One page of a list: its items and how many pages there are."""
        body = self.get(f"{endpoint}/{number}", params | {"pageSize": str(PAGE_SIZE)})
        if body is None:
            return [], 0
        items, pagination = body.get("Items"), body.get("Pagination") or {}
        if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
            raise ChannelUnavailable(f"Unleashed {endpoint} answered a page without Items")
        try:
            pages = int(pagination.get("NumberOfPages") or 0)
        except (TypeError, ValueError):
            raise ChannelUnavailable(f"Unleashed {endpoint} answered a page without its count") from None
        return items, pages

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The resource at ``path`` (None when Unleashed has none: 404)."""
        return self._send("GET", path, params or {}, None)

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        answer = self._send("POST", path, {}, body)
        if answer is None:
            raise UnleashedRefused(f"Unleashed POST {_route(path)} answered 404")
        return answer

    def delete(self, path: str) -> bool:
        """Delete the resource; False when Unleashed has none (already gone)."""
        try:
            self._send("DELETE", path, {}, None)
        except UnleashedRefused as refused:
            if " 404" in str(refused):
                return False
            raise
        return True

    def _send(self, method: str, path: str, params: dict[str, str], body: Any) -> dict[str, Any] | None:
        total = self.quota.count(PLATFORM, self.month())  # counted first: a call made is never missed
        if self.monthly_budget > 0 and total > self.monthly_budget:
            raise QuotaExhausted(f"the month's Unleashed budget of {self.monthly_budget} calls is used")
        query = urlencode(params)  # signed exactly as sent
        headers = {
            "api-auth-id": self.api_id,
            "api-auth-signature": query_signature(query, self._key),
            "client-type": CLIENT_TYPE,
            "Accept": "application/json",
            "Content-Type": "application/json",
        }
        url = f"{self.base}/{path}" + (f"?{query}" if query else "")
        self.calls += 1
        try:
            response = self.http.request(method, url, headers=headers, json=body)
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"Unleashed {method} {_route(path)}: {type(error).__name__}") from error
        return _answer(method, path, response)


def _answer(method: str, path: str, response: httpx.Response) -> dict[str, Any] | None:
    status, where = response.status_code, f"Unleashed {method} {_route(path)}"
    if status == 404 and method == "GET":
        return None
    if status in (401, 403):
        raise ChannelRefused(f"{where} answered {status}: the API id, key or signature is refused")
    if status == 429 or status >= 500:
        raise ChannelUnavailable(f"{where} answered {status}")
    if status >= 400:
        raise UnleashedRefused(
            f"{where} answered {status}: {refusal_words(response.json, 'Description', 'description', 'message')}"
        )
    if not response.content:
        return {}  # a DELETE's empty answer
    return json_object(response.json, where)


def _route(path: str) -> str:
    """The endpoint without ids or page numbers."""
    return path.split("/", 1)[0]


def unleashed_time(value: Any) -> datetime | None:
    """``/Date(1475958685963)/`` (JSON) or an ISO time without zone (UTC), as a UTC datetime."""
    text = str(value or "").strip()
    found = _DATE.match(text)
    if found:
        return datetime.fromtimestamp(int(found.group(1)) / 1000, tz=UTC)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
