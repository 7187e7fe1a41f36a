"""Wiring for Lambda handlers: configuration from the environment and lazily built clients.

Only handlers import this module; the domain receives what it needs as arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # for annotations only: each is imported where first needed
    from omnistock.channels import ChannelPort
    from omnistock.channels.shopify import ShopifyInventory
    from omnistock.ledger import Ledger
    from omnistock.models import Channel
    from omnistock.store.table import Table
    from omnistock.sync import SyncService


@dataclass(frozen=True)
class Settings:
    """What template.yaml gives every function. A plain dataclass: functions that never parse
    a request body do not pay for importing pydantic at cold start."""

    table_name: str
    movement_retention_days: int = 90
    dedupe_retention_days: int = 30
    default_hold_minutes: int = 15
    sync_retention_days: int = 30
    shopify_shop_domain: str = ""
    shopify_api_version: str = "2026-04"
    shopify_token_secret_name: str = ""
    shopify_endpoint: str = ""  # empty: the shop's own; the local sandbox sets it


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = int(env.get(name, str(default)))
    if value < 1:
        raise ValueError(f"{name} must be at least 1")
    return value


@cache
def settings() -> Settings:
    env = os.environ
    table_name = env.get("TABLE_NAME", "")
    if not table_name:
        raise ValueError("TABLE_NAME is not set")
    return Settings(
        table_name=table_name,
        movement_retention_days=_positive(env, "MOVEMENT_RETENTION_DAYS", 90),
        dedupe_retention_days=_positive(env, "DEDUPE_RETENTION_DAYS", 30),
        default_hold_minutes=_positive(env, "DEFAULT_HOLD_MINUTES", 15),
        sync_retention_days=_positive(env, "SYNC_RETENTION_DAYS", 30),
        shopify_shop_domain=env.get("SHOPIFY_SHOP_DOMAIN", ""),
        shopify_api_version=env.get("SHOPIFY_API_VERSION", "2026-04"),
        shopify_token_secret_name=env.get("SHOPIFY_TOKEN_SECRET_NAME", ""),
        shopify_endpoint=env.get("SHOPIFY_ENDPOINT", ""),
    )


@cache
def dynamodb_client() -> Any:
    import boto3  # imported here: a handler that never touches DynamoDB never pays for it
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", config=config)


@cache
def ledger() -> Ledger:
    from omnistock.ledger import Ledger
    from omnistock.store.stock_store import Retention, StockStore

    config = settings()
    retention = Retention(movements_days=config.movement_retention_days, dedupe_days=config.dedupe_retention_days)
    store = StockStore(table(), retention)
    return Ledger(store, default_hold=timedelta(minutes=config.default_hold_minutes))


@cache
def table() -> Table:
    from omnistock.store.table import Table

    return Table(dynamodb_client(), settings().table_name)


@cache
def shopify() -> ShopifyInventory | None:
    """The Shopify port, its token read from Secrets Manager by name; None when not configured."""
    import boto3

    from omnistock.channels.shopify import from_secret

    config = settings()
    if not (config.shopify_shop_domain and config.shopify_token_secret_name):
        return None
    return from_secret(
        config.shopify_token_secret_name,
        config.shopify_shop_domain,
        config.shopify_api_version,
        boto3.client("secretsmanager"),
        endpoint=config.shopify_endpoint or None,
    )


def port_for(channel: Channel) -> ChannelPort | None:
    return shopify() if channel.platform == "shopify" else None


@cache
def sync_service() -> SyncService:
    from omnistock.push import PushEngine
    from omnistock.store.job_store import JobStore
    from omnistock.store.push_store import PushStore
    from omnistock.sync import SyncService

    stock = ledger().store
    pushes = PushStore(table(), settings().sync_retention_days)
    engine = PushEngine(pushes, stock.channels, port_for)
    return SyncService(stock, pushes, JobStore(table()), engine)


def reset() -> None:
    """Forget cached configuration and clients (tests call this)."""
    for cached in (settings, dynamodb_client, ledger, table, shopify, sync_service):
        cached.cache_clear()
