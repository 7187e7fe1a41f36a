"""The Admin API token as Shopify issues it today: a Dev Dashboard app's client credentials
exchanged for a 24-hour token (renewed before it expires, and once after a 401), or a legacy
permanent token; the secret reread through the cache, so a rotation takes effect without a
redeploy. Against the Shopify sandbox in-process (no socket)."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from local.sandbox import ShopifySandbox
from omnistock.channels import ChannelUnavailable, QuantityWrite
from omnistock.channels.shopify.admin import from_secret
from omnistock.channels.shopify.auth import RENEW_BEFORE, ShopifyToken, parse_secret
from omnistock.errors import SecretUnavailable
from tests.fakes import SecondsClock

SHOP = "omnistock-sandbox.myshopify.com"
LOCATION = "gid://shopify/Location/1"
ITEM = "gid://shopify/InventoryItem/1"


class Vault:
    """The secret as Secrets Manager holds it, and how often it was read (refreshes apart)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.refreshes = 0

    def read(self, refresh: bool) -> str:
        self.refreshes += refresh
        return self.text


@pytest.fixture
def sandbox() -> ShopifySandbox:
    shop = ShopifySandbox(sleep=lambda _: None)
    shop.stock(ITEM, LOCATION, 3)
    return shop


def app_secret(sandbox: ShopifySandbox, secret: str | None = None) -> str:
    return json.dumps({"client_id": sandbox.client_id, "client_secret": secret or sandbox.client_secret})


def port_for(sandbox: ShopifySandbox, vault: Vault, clock: SecondsClock) -> tuple[object, ShopifyToken]:
    http = httpx.Client(transport=sandbox.transport())
    token = ShopifyToken(
        vault.read,
        "omnistock/shopify",
        SHOP,
        client=http,
        token_url=f"{sandbox.url}/admin/oauth/access_token",
        clock=clock,
    )
    from omnistock.channels.shopify.admin import ShopifyInventory

    return ShopifyInventory(SHOP, token, endpoint=sandbox.graphql_url(), client=http, sleep=lambda _: None), token


def test_a_dev_dashboard_app_gets_its_token_by_the_grant_and_renews_it_before_it_expires(
    sandbox: ShopifySandbox,
) -> None:
    clock = SecondsClock()
    port, token = port_for(sandbox, Vault(app_secret(sandbox)), clock)
    assert port.read_quantities([(ITEM, LOCATION)]) == {(ITEM, LOCATION): 3}  # type: ignore[attr-defined]
    port.read_quantities([(ITEM, LOCATION)])  # type: ignore[attr-defined]
    assert token.grants == 1 and "write_inventory" in (token.scopes or ())
    clock.advance(sandbox.token_lifetime - RENEW_BEFORE + 1)  # close to expiry: renewed before use
    port.read_quantities([(ITEM, LOCATION)])  # type: ignore[attr-defined]
    assert token.grants == 2


def test_a_401_renews_the_token_once_and_the_call_goes_through(sandbox: ShopifySandbox) -> None:
    clock, vault = SecondsClock(), Vault(app_secret(sandbox))
    port, token = port_for(sandbox, vault, clock)
    port.read_quantities([(ITEM, LOCATION)])  # type: ignore[attr-defined]
    sandbox.expire_granted_tokens()  # revoked early, or the clock of the container drifted
    outcome = port.set_quantities([QuantityWrite(ITEM, LOCATION, 7, 3)], "k1")  # type: ignore[attr-defined]
    assert outcome[0].applied and sandbox.available(ITEM, LOCATION) == 7
    assert (token.grants, vault.refreshes) == (2, 1)


def test_a_rotated_secret_is_used_without_a_redeploy(sandbox: ShopifySandbox) -> None:
    clock, vault = SecondsClock(), Vault(app_secret(sandbox))
    port, token = port_for(sandbox, vault, clock)
    port.read_quantities([(ITEM, LOCATION)])  # type: ignore[attr-defined]
    sandbox.client_secret = "rotated-secret"
    vault.text = app_secret(sandbox, "rotated-secret")  # the cache hands out the new text within minutes
    port.read_quantities([(ITEM, LOCATION)])  # type: ignore[attr-defined]
    assert token.grants == 2  # a token from other credentials is not reused


def test_a_wrong_client_secret_fails_as_the_channel_without_echoing_it(
    sandbox: ShopifySandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    port, _ = port_for(sandbox, Vault(app_secret(sandbox, "wrong-secret-value")), SecondsClock())
    with pytest.raises(ChannelUnavailable, match="client credentials") as raised:
        port.read_quantities([(ITEM, LOCATION)])  # type: ignore[attr-defined]
    assert "wrong-secret-value" not in str(raised.value) + caplog.text
    assert sandbox.available(ITEM, LOCATION) == 3


def test_a_legacy_permanent_token_still_works(sandbox: ShopifySandbox) -> None:
    port, token = port_for(sandbox, Vault(sandbox.token), SecondsClock())
    assert port.read_quantities([(ITEM, LOCATION)]) == {(ITEM, LOCATION): 3}  # type: ignore[attr-defined]
    assert token.grants == 0 and token.scopes is None


def test_an_unreadable_secret_fails_as_the_channel(sandbox: ShopifySandbox) -> None:
    def unreadable(_: bool) -> str:
        raise SecretUnavailable("secret 'omnistock/shopify' could not be read: AccessDenied")

    token = ShopifyToken(unreadable, "omnistock/shopify", SHOP)
    with pytest.raises(ChannelUnavailable, match="could not be read"):
        token.token()


def test_from_secret_takes_the_token_endpoint_from_the_sandbox_url(sandbox: ShopifySandbox) -> None:
    port = from_secret("s", SHOP, "2026-04", Vault(app_secret(sandbox)).read, endpoint=sandbox.graphql_url())
    port._client = httpx.Client(transport=sandbox.transport())
    port._token._client = port._client  # type: ignore[union-attr]
    assert port.read_quantities([(ITEM, LOCATION)]) == {(ITEM, LOCATION): 3}


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "empty"), ("{", "not valid JSON"), ('{"client_id": "x"}', "neither")],
)
def test_secrets_of_no_known_form_are_named_not_echoed(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem) as raised:
        parse_secret(text, "omnistock/shopify")
    assert "omnistock/shopify" in str(raised.value)
