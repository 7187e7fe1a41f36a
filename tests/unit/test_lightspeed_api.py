"""Lightspeed's feed client and rotating tokens (HTTP stubbed with httpx.MockTransport): version
pages, a 429's HTTP-date Retry-After, a 401 refreshing once, and refreshes that never spend the
same refresh token twice, even when two pollers race."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest

from omnistock.channels import ChannelUnavailable
from omnistock.channels.lightspeed.api import LightspeedFeed, retry_at
from omnistock.channels.lightspeed.feed import RateLimited
from omnistock.channels.lightspeed.tokens import TokenPair, TokenRefused, Tokens, parse_pair

NOW = 1_795_435_200.0


class MemoryPairs:
    def __init__(self, pair: TokenPair) -> None:
        self.pair = pair
        self.writes = 0

    def read(self) -> TokenPair:
        return self.pair

    def write(self, pair: TokenPair) -> None:
        self.writes += 1
        self.pair = pair


class MemoryLeases:
    def __init__(self) -> None:
        self.holder: str | None = None
        self.lock = threading.Lock()

    def take(self, name: str, holder: str, now_epoch: float, seconds: int) -> bool:
        with self.lock:
            if self.holder is None:
                self.holder = holder
                return True
            return False

    def give_back(self, name: str, holder: str) -> None:
        with self.lock:
            if self.holder == holder:
                self.holder = None


class TokenServer:
    """Issues pairs; a refresh token works once (Lightspeed rotates them)."""

    def __init__(self, slow: float = 0.0) -> None:
        self.slow = slow  # seconds a refresh takes: long enough for racers to pile up
        self.live_refresh = "r0"
        self.issued = 0
        self.refused = 0
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        time.sleep(self.slow)
        with self.lock:
            if form.get("refresh_token") != self.live_refresh or form.get("client_secret") != "cs":
                self.refused += 1
                return httpx.Response(400, json={"error": "invalid_grant"})
            self.issued += 1
            self.live_refresh = f"r{self.issued}"
            body = {"access_token": f"a{self.issued}", "refresh_token": self.live_refresh, "expires_in": 604800}
            return httpx.Response(200, json=body | {"token_type": "Bearer", "expires": 0})


def keeper(pairs: MemoryPairs, server: TokenServer, leases: MemoryLeases | None = None, pause: float = 0.0) -> Tokens:
    http = httpx.Client(transport=httpx.MockTransport(server))
    url = "https://x/api/1.0/token"
    return Tokens(pairs, leases or MemoryLeases(), http, url, clock=lambda: NOW, sleep=lambda _: time.sleep(pause))


def stored(access: str = "a0", expires_at: int = int(NOW) + 3600) -> TokenPair:
    return parse_pair(
        json.dumps(
            {
                "access_token": access,
                "refresh_token": "r0",
                "expires_at": expires_at,
                "client_id": "ci",
                "client_secret": "cs",
            }
        )
    )


def test_a_fresh_token_is_used_and_one_running_out_is_refreshed_and_stored() -> None:
    pairs, server = MemoryPairs(stored()), TokenServer()
    assert keeper(pairs, server).current() == "a0" and server.issued == 0
    pairs.pair = stored(expires_at=int(NOW) + 60)  # within five minutes of running out
    assert keeper(pairs, server).current() == "a1"
    assert pairs.pair.refresh_token == "r1" and pairs.writes == 1
    assert json.loads(pairs.pair.as_json())["client_secret"] == "cs"  # the app's credentials are kept


def test_racing_refreshes_spend_the_refresh_token_once() -> None:
    pairs, server, leases = MemoryPairs(stored()), TokenServer(slow=0.1), MemoryLeases()
    keepers = [keeper(pairs, server, leases, pause=0.02) for _ in range(6)]
    got: list[str] = []
    threads = [threading.Thread(target=lambda k=k: got.append(k.renewed("a0"))) for k in keepers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.issued == 1 and server.refused == 0
    assert got == ["a1"] * 6 and pairs.pair.refresh_token == "r1"


def test_a_refused_refresh_says_to_reconnect_and_a_personal_token_is_never_refreshed() -> None:
    pairs, server = MemoryPairs(stored()), TokenServer()
    server.live_refresh = "someone-else-spent-it"
    with pytest.raises(TokenRefused, match="connect the app again"):
        keeper(pairs, server).renewed("a0")
    personal = MemoryPairs(parse_pair("personal-token"))
    assert keeper(personal, server).current() == "personal-token"
    with pytest.raises(TokenRefused, match="personal token"):
        keeper(personal, server).renewed("personal-token")


def feed(handler: Any, pairs: MemoryPairs | None = None, server: TokenServer | None = None) -> LightspeedFeed:
    tokens = keeper(pairs or MemoryPairs(stored()), server or TokenServer())
    return LightspeedFeed(
        "https://store.retail.lightspeed.app", tokens, httpx.Client(transport=httpx.MockTransport(handler))
    )


def test_pages_follow_the_version_cursor() -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params) | {"auth": request.headers["authorization"], "path": request.url.path})
        after = int(request.url.params["after"])
        if after == 0:
            return httpx.Response(
                200,
                json={
                    "data": [{"id": "a", "version": 7}, {"id": "b", "version": 11}],
                    "version": {"min": 7, "max": 11},
                },
            )
        return httpx.Response(200, json={"data": [], "version": None})

    client = feed(handler)
    page = client.changes("inventory", 0)
    assert [r["id"] for r in page.records] == ["a", "b"] and page.max_version == 11
    assert client.changes("inventory", page.max_version).records == []
    assert seen[0] == {"after": "0", "page_size": "200", "auth": "Bearer a0", "path": "/api/2.0/inventory"}
    assert seen[1]["after"] == "11"


def test_a_429_gives_its_http_date_and_a_5xx_or_odd_page_is_unavailable() -> None:
    headers = {"Retry-After": "Wed, 25 Nov 2026 15:04:05 GMT", "X-RateLimit-Remaining": "0"}
    throttled = feed(lambda r: httpx.Response(429, headers=headers, json={"error": "Too Many Requests"}))
    with pytest.raises(RateLimited) as raised:
        throttled.changes("sales", 0)
    assert raised.value.retry_at == datetime(2026, 11, 25, 15, 4, 5, tzinfo=UTC)
    with pytest.raises(ChannelUnavailable):
        feed(lambda r: httpx.Response(503)).changes("sales", 0)
    with pytest.raises(ChannelUnavailable):
        feed(lambda r: httpx.Response(200, json={"data": "nope"})).changes("sales", 0)
    with pytest.raises(ChannelUnavailable, match="does not move past"):
        feed(lambda r: httpx.Response(200, json={"data": [{"version": 3}], "version": {"max": 3}})).changes("sales", 5)
    now = datetime(2026, 11, 24, tzinfo=UTC)
    assert (retry_at("30", now) - now).seconds == 30 and (retry_at("garbage", now) - now).seconds == 60


def test_a_401_refreshes_once_and_retries() -> None:
    pairs, server = MemoryPairs(stored()), TokenServer()

    def handler(request: httpx.Request) -> httpx.Response:
        if request.headers["authorization"] == "Bearer a0":
            return httpx.Response(401, json={"error": "unauthorized"})
        return httpx.Response(200, json={"data": [], "version": None})

    assert feed(handler, pairs, server).changes("products", 0).records == []
    assert server.issued == 1 and pairs.pair.access_token == "a1"
    with pytest.raises(ChannelUnavailable):
        feed(lambda r: httpx.Response(401), MemoryPairs(stored()), TokenServer()).changes("products", 0)


def test_a_refresh_finished_while_the_lease_was_taken_is_used_not_repeated() -> None:
    """The narrow race: another poller refreshes between our read and our lease."""
    pairs, server = MemoryPairs(stored()), TokenServer()
    other = keeper(pairs, server)

    class RacedLeases(MemoryLeases):
        def take(self, name: str, holder: str, now_epoch: float, seconds: int) -> bool:
            if server.issued == 0:
                other.renewed("a0")  # finishes (and gives its lease back) just before ours
            return super().take(name, holder, now_epoch, seconds)

    assert keeper(pairs, server, RacedLeases()).renewed("a0") == "a1"
    assert server.issued == 1 and server.refused == 0
