"""Wiring for Lambda handlers: configuration from the environment and lazily built clients.

Only handlers import this module; the domain receives what it needs as arguments.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import cache


@dataclass(frozen=True)
class Settings:
    """What template.yaml gives every function. A plain dataclass: functions that never parse
    a request body do not pay for importing pydantic at cold start."""

    table_name: str
    movement_retention_days: int = 90
    dedupe_retention_days: int = 30
    default_hold_minutes: int = 15


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
    )


@cache
def dynamodb_client():  # type: ignore[no-untyped-def]
    import boto3  # imported here: a handler that never touches DynamoDB never pays for it
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=2, read_timeout=5)
    return boto3.client("dynamodb", config=config)


@cache
def ledger():  # type: ignore[no-untyped-def]
    from omnistock.ledger import Ledger
    from omnistock.store.stock_store import Retention, StockStore
    from omnistock.store.table import Table

    config = settings()
    retention = Retention(movements_days=config.movement_retention_days, dedupe_days=config.dedupe_retention_days)
    store = StockStore(Table(dynamodb_client(), config.table_name), retention)
    return Ledger(store, default_hold=timedelta(minutes=config.default_hold_minutes))


def reset() -> None:
    """Forget cached configuration and clients (tests and the local stack call this)."""
    settings.cache_clear()
    dynamodb_client.cache_clear()
    ledger.cache_clear()
