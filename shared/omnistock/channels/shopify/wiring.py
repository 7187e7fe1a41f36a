"""Shopify's part of the wiring: its settings from the environment, its ports and its intake."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from omnistock.channels import Connector
from omnistock.channels.shopify import PLATFORM

if TYPE_CHECKING:
    from omnistock.channels.shopify.admin import ShopifyInventory
    from omnistock.channels.shopify.catalog import ShopifyCatalog
    from omnistock.channels.shopify.intake import ShopifyIntake
    from omnistock.channels.shopify.orders_api import ShopifyOrders
    from omnistock.channels.shopify.subscriptions import SubscriptionState
    from omnistock.connections import Check
    from omnistock.wiring import Wiring


@dataclass(frozen=True)
class ShopifySettings:
    shop_domain: str = ""
    api_version: str = "2026-04"
    token_secret_name: str = ""
    endpoint: str = ""  # empty: the shop's own; the local sandbox sets it
    webhook_secret_name: str = ""
    public_api_url: str = ""  # this stack's HTTP API: its webhook subscriptions point there

    @property
    def connected(self) -> bool:
        return bool(self.shop_domain and self.token_secret_name)


def settings_from_env(env: Mapping[str, str]) -> ShopifySettings:
    return ShopifySettings(
        shop_domain=env.get("SHOPIFY_SHOP_DOMAIN", ""),
        api_version=env.get("SHOPIFY_API_VERSION") or "2026-04",
        token_secret_name=env.get("SHOPIFY_TOKEN_SECRET_NAME", ""),
        endpoint=env.get("SHOPIFY_ENDPOINT", ""),
        webhook_secret_name=env.get("SHOPIFY_WEBHOOK_SECRET_NAME", ""),
        public_api_url=env.get("PUBLIC_API_URL", "").rstrip("/"),
    )


def admin(wiring: Wiring) -> ShopifyInventory | None:
    """The stock port, its credentials read from Secrets Manager by name (through the secrets
    cache, on every use: a rotated secret takes effect within minutes); None when not connected."""

    def make() -> ShopifyInventory | None:
        from omnistock.channels.shopify.admin import from_secret

        config = wiring.config.section(ShopifySettings)
        if not config.connected:
            return None
        name = config.token_secret_name
        return from_secret(
            name,
            config.shop_domain,
            config.api_version,
            lambda refresh: wiring.secrets.text(name, refresh),
            endpoint=config.endpoint or None,
        )

    return wiring.once("shopify.admin", make)


def orders(wiring: Wiring) -> ShopifyOrders | None:
    def make() -> ShopifyOrders | None:
        from omnistock.channels.shopify.orders_api import ShopifyOrders

        port = admin(wiring)
        return ShopifyOrders(port) if port is not None else None

    return wiring.once("shopify.orders", make)


def catalog(wiring: Wiring) -> ShopifyCatalog | None:
    """Its variants for a catalog import (the stock port's credentials and pacing)."""

    def make() -> ShopifyCatalog | None:
        from omnistock.channels.shopify.catalog import ShopifyCatalog

        port = admin(wiring)
        return ShopifyCatalog(port) if port is not None else None

    return wiring.once("shopify.catalog", make)


def intake(wiring: Wiring) -> ShopifyIntake:
    def make() -> ShopifyIntake:
        from omnistock.channels.shopify.intake import ShopifyIntake

        w = wiring
        return ShopifyIntake(w.stock, w.orders, w.order_desk, w.listing_desk, w.shipment_desk, w.cursors, clock=w.clock)

    return wiring.once("shopify.intake", make)


def keep_subscriptions(wiring: Wiring) -> SubscriptionState | None:
    """Every topic subscribed at this stack's /webhooks/shopify (the keeper's schedule); None
    when not connected."""
    from omnistock.channels.shopify.subscriptions import keep
    from omnistock.store.connection_store import ConnectionStore

    port = admin(wiring)
    settings = wiring.config.section(ShopifySettings)
    if port is None or not settings.public_api_url:
        return None
    url = f"{settings.public_api_url}/webhooks/shopify"
    return keep(port, url, ConnectionStore(wiring.table), wiring.pushes, wiring.clock)


def webhook_secrets(wiring: Wiring, refresh: bool = False) -> list[str]:
    return wiring.secrets.signing(wiring.config.section(ShopifySettings).webhook_secret_name, refresh)


def doctor(wiring: Wiring) -> list[Check]:
    """Secrets readable, then (when they are) the credentials and scopes; the channel's settings."""
    from omnistock.channels.shopify import doctor as shopify_checks
    from omnistock.connections import secret_checks

    settings = wiring.config.section(ShopifySettings)
    checks = secret_checks("shopify", settings, wiring.secrets, settings.connected)
    port = admin(wiring) if settings.connected and all(check.ok for check in checks) else None
    if port is not None:
        checks += shopify_checks.credential_checks(port)
    if settings.connected:
        from omnistock.channels.shopify.subscriptions import state_of
        from omnistock.store.connection_store import ConnectionStore

        state = state_of(ConnectionStore(wiring.table))
        checks.append(shopify_checks.subscription_check(state, wiring.clock()))
    return checks + shopify_checks.channel_checks(wiring.stock.channels())


CONNECTOR = Connector(
    "shopify",
    settings_from_env,
    channel=PLATFORM,
    stock_port=admin,
    orders_port=orders,
    doctor=doctor,
    catalog_reader=catalog,
    activity=("poll", "delivery"),
)
