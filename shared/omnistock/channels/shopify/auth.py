"""The Admin API access token, as Shopify issues it today.

The secret (in Secrets Manager, by name) holds one of:

- ``{"client_id": "...", "client_secret": "..."}``: a Dev Dashboard app installed on the
  retailer's own store (every custom app created since 1 January 2026). Its token comes from
  the client credentials grant, ``POST https://{shop}/admin/oauth/access_token``, and lasts
  ``expires_in`` seconds (24 hours today): it is fetched on first use, again when less than
  ``RENEW_BEFORE`` is left, and at once after a 401;
- a permanent token (a legacy custom app's ``shpat_...``), raw or as ``{"access_token": "..."}``.

The secret is read through the stack's secrets cache on every use (it rereads after
5 minutes, and at once after a 401), so a changed secret takes effect within minutes without
a redeploy. Neither the secret nor a token ever reaches a log line or an error message.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from omnistock.channels import ChannelRefused, ChannelUnavailable
from omnistock.errors import SecretUnavailable

RENEW_BEFORE = 600.0  # seconds: a token with less left is renewed before it is used
DEFAULT_LIFETIME = 86_399.0  # when the grant's answer does not say


@dataclass(frozen=True)
class Credentials:
    token: str = field(default="", repr=False)  # a permanent token
    client_id: str = ""
    client_secret: str = field(default="", repr=False)

    @property
    def granted(self) -> bool:
        return bool(self.client_id)

    @property
    def fingerprint(self) -> str:
        """Which credentials a cached token came from (a changed secret must not reuse it)."""
        return hashlib.sha256(f"{self.client_id}\0{self.client_secret}\0{self.token}".encode()).hexdigest()


def parse_secret(text: str, name: str) -> Credentials:
    """The credentials in a secret's text; ValueError naming the secret (never its value)."""
    text = text.strip()
    if not text.startswith("{"):
        if not text:
            raise ValueError(f"secret {name!r} is empty")
        return Credentials(token=text)
    try:
        fields = json.loads(text)
    except ValueError:
        raise ValueError(f"secret {name!r} is not valid JSON") from None
    if not isinstance(fields, dict):
        raise ValueError(f"secret {name!r} is not a JSON object")
    if isinstance(fields.get("client_id"), str) and isinstance(fields.get("client_secret"), str):
        return Credentials(client_id=fields["client_id"], client_secret=fields["client_secret"])
    if isinstance(fields.get("access_token"), str) and fields["access_token"]:
        return Credentials(token=fields["access_token"])
    raise ValueError(f"secret {name!r} holds neither client_id and client_secret nor an access_token")


@dataclass(frozen=True)
class _Token:
    value: str = field(repr=False)
    expires_at: float
    scopes: tuple[str, ...]
    source: str  # Credentials.fingerprint


class ShopifyToken:
    """Hands out a valid Admin API token; ``renew()`` after Shopify answered 401."""

    def __init__(
        self,
        read_secret: Callable[[bool], str],
        secret_name: str,
        shop_domain: str,
        *,
        client: httpx.Client | None = None,
        token_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._read_secret = read_secret
        self.secret_name = secret_name
        self.token_url = token_url or f"https://{shop_domain}/admin/oauth/access_token"
        self._client = client
        self._clock = clock
        self._cached: _Token | None = None
        self.grants = 0  # tokens fetched by the grant

    def __repr__(self) -> str:
        return f"ShopifyToken(secret={self.secret_name!r})"

    def token(self) -> str:
        return self._current(self._credentials(refresh=False))

    def renew(self) -> str:
        """After a 401: reread the secret (it may have been rotated) and fetch a new token."""
        self._cached = None
        return self._current(self._credentials(refresh=True))

    @property
    def scopes(self) -> tuple[str, ...] | None:
        """The scopes the last grant gave (None: a permanent token, or none fetched yet)."""
        return self._cached.scopes if self._cached else None

    def _credentials(self, refresh: bool) -> Credentials:
        """The secret's credentials; a secret that cannot be read or used fails the call like
        a channel that is down (the push is retried and reconciled, the doctor names it)."""
        try:
            return parse_secret(self._read_secret(refresh), self.secret_name)
        except (SecretUnavailable, ValueError) as error:
            raise ChannelRefused(str(error)) from None

    def _current(self, credentials: Credentials) -> str:
        if not credentials.granted:
            return credentials.token
        cached = self._cached
        if cached and cached.source == credentials.fingerprint and self._clock() < cached.expires_at - RENEW_BEFORE:
            return cached.value
        self._cached = self._grant(credentials)
        return self._cached.value

    def _grant(self, credentials: Credentials) -> _Token:
        form = {
            "grant_type": "client_credentials",
            "client_id": credentials.client_id,
            "client_secret": credentials.client_secret,
        }
        started = self._clock()
        client = self._client or httpx.Client(timeout=httpx.Timeout(10.0, connect=3.0))
        try:
            response = client.post(self.token_url, data=form, headers={"Accept": "application/json"})
        except httpx.TransportError as error:
            raise ChannelUnavailable(
                f"Shopify's token endpoint could not be reached ({type(error).__name__})"
            ) from None
        finally:
            if self._client is None:
                client.close()
        self.grants += 1
        if response.status_code in (400, 401, 403):
            raise ChannelRefused(
                f"Shopify refused the app's client credentials (HTTP {response.status_code}): check the client id "
                f"and secret in {self.secret_name!r}, and that the app is installed on the store"
            )
        if response.status_code >= 300:
            raise ChannelUnavailable(f"Shopify's token endpoint answered HTTP {response.status_code}")
        try:
            body = response.json()
            value = str(body["access_token"])
        except (ValueError, KeyError, TypeError):
            raise ChannelUnavailable("Shopify's token endpoint answered without an access token") from None
        lifetime = body.get("expires_in")
        seconds = float(lifetime) if isinstance(lifetime, int | float) and lifetime > 0 else DEFAULT_LIFETIME
        scopes = tuple(s for s in str(body.get("scope") or "").split(",") if s)
        return _Token(value, started + seconds, scopes, credentials.fingerprint)
