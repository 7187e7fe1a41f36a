"""Lightspeed OAuth tokens that rotate: spending a refresh token revokes it once the next one is
issued, so two refreshes racing with the same token would leave one of them (and, if it wrote
last, the store) holding a dead token. Refreshes therefore run under a lease in the table, re-read
the store once they hold it (someone may have refreshed meanwhile), and write the new pair back
before giving the lease up. A personal token (a plain string) is used as it is and never refreshed.

Never log a token: messages name the step and the HTTP status only.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from omnistock.channels import ChannelUnavailable

log = logging.getLogger(__name__)
LEASE = "lightspeed-token"
LEASE_SECONDS = 60  # far longer than a refresh call's timeout
EARLY_SECONDS = 300  # refresh this long before the access token runs out
WAIT_ROUNDS, WAIT_SECONDS = 20, 0.5  # how long to wait for someone else's refresh


class TokenRefused(ChannelUnavailable):
    """Lightspeed refused the refresh (or personal) token: the app must be connected again."""


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str = ""
    expires_at: int = 0  # epoch seconds; 0: not known (a personal token)
    extra: tuple[tuple[str, str], ...] = ()  # client id and secret, domain prefix: kept as they are

    def fresh(self, now: float) -> bool:
        return bool(self.access_token) and (not self.expires_at or self.expires_at - EARLY_SECONDS > now)

    def as_json(self) -> str:
        body: dict[str, Any] = dict(self.extra)
        body |= {"access_token": self.access_token, "refresh_token": self.refresh_token, "expires_at": self.expires_at}
        return json.dumps(body)

    def value(self, key: str) -> str:
        return dict(self.extra).get(key, "")


def parse_pair(text: str) -> TokenPair:
    """The stored secret: JSON with the OAuth pair, or a personal token as a plain string."""
    text = text.strip()
    if not text.startswith("{"):
        return TokenPair(access_token=text)
    try:
        body = json.loads(text)
        extra = tuple(
            (str(k), str(v)) for k, v in body.items() if k not in ("access_token", "refresh_token", "expires_at")
        )
        return TokenPair(
            str(body.get("access_token") or ""),
            str(body.get("refresh_token") or ""),
            int(body.get("expires_at") or 0),
            extra,
        )
    except (ValueError, TypeError, AttributeError):
        raise ValueError("the Lightspeed token secret is JSON without a token pair") from None


class PairStore(Protocol):
    def read(self) -> TokenPair: ...

    def write(self, pair: TokenPair) -> None: ...


class LeaseTaker(Protocol):
    def take(self, name: str, holder: str, now_epoch: float, seconds: int) -> bool: ...

    def give_back(self, name: str, holder: str) -> None: ...


class SecretPairStore:
    """The pair in Secrets Manager, by name (each write is a new version; AWSCURRENT is the newest)."""

    def __init__(self, secrets_client: Any, name: str) -> None:
        self.client = secrets_client
        self.name = name

    def read(self) -> TokenPair:
        return parse_pair(self.client.get_secret_value(SecretId=self.name)["SecretString"])

    def write(self, pair: TokenPair) -> None:
        self.client.put_secret_value(SecretId=self.name, SecretString=pair.as_json())


class Tokens:
    def __init__(
        self,
        store: PairStore,
        leases: LeaseTaker,
        http: httpx.Client,
        token_url: str,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        may_refresh: bool = True,
    ) -> None:
        self.store = store
        # False where the secret may only be read (the connection check): a refresh revokes the
        # refresh token used, so one whose new pair cannot be written back would lose the store.
        self.may_refresh = may_refresh
        self.leases = leases
        self.http = http
        self.token_url = token_url
        self.clock = clock
        self.sleep = sleep
        self._pair: TokenPair | None = None

    def current(self) -> str:
        """An access token that is not about to run out (refreshed first if it is)."""
        pair = self._pair if self._pair is not None and self._pair.fresh(self.clock()) else self.store.read()
        self._pair = pair
        if pair.fresh(self.clock()):
            return pair.access_token
        return self.renewed(pair.access_token)

    def renewed(self, stale: str) -> str:
        """A token other than ``stale`` (which Lightspeed refused or is running out): someone
        else's fresh refresh if there is one, else ours, made under the lease."""
        for _ in range(WAIT_ROUNDS):
            pair = self.store.read()
            if pair.access_token != stale and pair.fresh(self.clock()):
                self._pair = pair
                return pair.access_token
            if not pair.refresh_token:
                raise TokenRefused("Lightspeed refused the personal token; issue a new one")
            if not self.may_refresh:
                raise TokenRefused("the access token is due for a refresh, which the poll makes; check again after it")
            holder = uuid.uuid4().hex
            if self.leases.take(LEASE, holder, self.clock(), LEASE_SECONDS):
                try:
                    pair = self.store.read()  # a refresh may have finished between the read and the lease
                    if pair.access_token != stale and pair.fresh(self.clock()):
                        self._pair = pair
                        return pair.access_token
                    self._pair = self._refresh(pair)
                    return self._pair.access_token
                finally:
                    self.leases.give_back(LEASE, holder)
            self.sleep(WAIT_SECONDS)
        raise ChannelUnavailable("another Lightspeed token refresh is still running; retry")

    def _refresh(self, pair: TokenPair) -> TokenPair:
        form = {
            "grant_type": "refresh_token",
            "refresh_token": pair.refresh_token,
            "client_id": pair.value("client_id"),
            "client_secret": pair.value("client_secret"),
        }
        try:
            response = self.http.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as error:
            raise ChannelUnavailable(f"Lightspeed token refresh failed: {type(error).__name__}") from error
        if response.status_code in (400, 401):
            raise TokenRefused(f"Lightspeed refused the refresh token ({response.status_code}); connect the app again")
        if response.status_code != 200:
            raise ChannelUnavailable(f"Lightspeed token refresh answered {response.status_code}")
        try:
            body = response.json()
            expires = int(body.get("expires") or 0) or int(self.clock()) + int(body["expires_in"])
            rotated = str(body.get("refresh_token") or pair.refresh_token)  # kept if none comes back
            new = TokenPair(str(body["access_token"]), rotated, expires, pair.extra)
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ChannelUnavailable("Lightspeed's token answer is not a token pair") from None
        # The old refresh token is dead now: the new pair must reach the store, whatever it takes
        # (this container keeps using it meanwhile).
        self._pair = new
        for attempt in range(3):
            try:
                self.store.write(new)
                return new
            except Exception:
                if attempt == 2:
                    log.error("the refreshed Lightspeed token pair could not be saved; connect the app again")
                    raise
                self.sleep(0.2 * 2**attempt)
        return new
