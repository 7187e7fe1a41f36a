"""Lightspeed X-Series change feeds: API 2.0 collections paged by ``version``.

Facts relied on (vendor docs: "Pagination", "Rate limiting", "Authorization"):

- ``GET https://{domain_prefix}.retail.lightspeed.app/api/2.0/{collection}?after=N&page_size=M``
  answers ``{"data": [...], "version": {"min", "max"}}``: records changed after version N,
  oldest first. Ask again with ``after=version.max`` until ``data`` is empty. Deleted records
  come back with ``deleted_at`` set.
- ``/api/2.0/inventory`` is the only inventory list with a change cursor. The vendor marks it
  deprecated in favour of the dated ``POST /api/2026-04/inventory``, which is offset-paged and has
  none, so the poll keeps 2.0 for inventory (and for products and sales, where 2.0 is current).
- Quota: 300 requests per register + 50 per 5 minutes. Over it: 429 with ``Retry-After`` as an
  HTTP date (RFC 1123), not seconds. The poll stops at the first 429 and resumes after that date
  (the vendor's advice: defer the work, do not sleep after every call).
- ``Authorization: Bearer <access token>``; a 401 refreshes the token once (``tokens``).

Never log records or tokens: errors name the collection and the HTTP status only.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

import httpx

from omnistock.channels import ChannelUnavailable
from omnistock.channels.lightspeed.feed import COLLECTIONS, FeedPage, RateLimited
from omnistock.channels.lightspeed.tokens import Tokens
from omnistock.models import MAX_VERSION

PAGE_SIZE = 200  # the documented maximum
DEFAULT_WAIT = timedelta(seconds=60)  # a 429 without a readable Retry-After


def api_base(domain_prefix: str) -> str:
    return f"https://{domain_prefix}.retail.lightspeed.app"


def token_url(base: str) -> str:
    return f"{base}/api/1.0/token"


class LightspeedFeed:
    def __init__(self, base: str, tokens: Tokens, http: httpx.Client, page_size: int = PAGE_SIZE) -> None:
        self.base = base.rstrip("/")
        self.tokens = tokens
        self.http = http
        self.page_size = page_size
        self.calls = 0

    def __repr__(self) -> str:  # no token: this may reach a log line
        return f"LightspeedFeed({self.base!r})"

    def changes(self, collection: str, after: int) -> FeedPage:
        """The next page of ``collection`` records changed after version ``after``."""
        if collection not in COLLECTIONS:
            raise ValueError(f"unknown collection {collection!r}")
        token = self.tokens.current()
        for attempt in range(2):
            response = self._get(collection, after, token)
            if response.status_code == 401 and attempt == 0:
                token = self.tokens.renewed(token)
                continue
            return _page(collection, response, after)
        raise ChannelUnavailable(f"Lightspeed refused a fresh token reading {collection}")

    def _get(self, collection: str, after: int, token: str) -> httpx.Response:
        self.calls += 1
        try:
            return self.http.get(
                f"{self.base}/api/2.0/{collection}",
                params={"after": after, "page_size": self.page_size},
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"Lightspeed {collection}: {type(error).__name__}") from error


def _page(collection: str, response: httpx.Response, after: int) -> FeedPage:
    if response.status_code == 429:
        raise RateLimited(retry_at(response.headers.get("Retry-After"), datetime.now(UTC)))
    if response.status_code != 200:
        raise ChannelUnavailable(f"Lightspeed {collection} answered {response.status_code}")
    try:
        body = response.json()
        records = body["data"]
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            raise TypeError
        versions = body.get("version") or {}
        found = [int(versions.get("max") or 0), *(int(r.get("version") or 0) for r in records)]
        top = max(v for v in found if v <= MAX_VERSION)  # a cursor past it would skip everything after
    except (ValueError, KeyError, TypeError, AttributeError):
        raise ChannelUnavailable(f"Lightspeed {collection} answered a page that is not a version page") from None
    if records and top <= after:
        raise ChannelUnavailable(f"Lightspeed {collection} answered a page that does not move past {after}")
    return FeedPage(records, top)


def retry_at(header: str | None, now: datetime) -> datetime:
    """When a 429 says to come back: an HTTP date (Lightspeed's form) or seconds; a minute if neither."""
    if header:
        text = header.strip()
        if text.isdigit():
            return now + timedelta(seconds=int(text))
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return now + DEFAULT_WAIT
        return when if when.tzinfo else when.replace(tzinfo=UTC)
    return now + DEFAULT_WAIT
