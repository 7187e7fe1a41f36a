"""Wiring for Lambda handlers: configuration from the environment and lazily built clients.

Only handlers import this module; the domain receives what it needs as arguments.
"""

from __future__ import annotations

import os
from datetime import timedelta
from functools import cache

from pydantic import BaseModel, Field


class Settings(BaseModel):
    table_name: str = Field(min_length=1)
    movement_retention_days: int = Field(default=90, ge=1)
    dedupe_retention_days: int = Field(default=30, ge=1)
    default_hold_minutes: int = Field(default=15, ge=1)


@cache
def settings() -> Settings:
    env = os.environ
    return Settings(
        table_name=env.get("TABLE_NAME", ""),
        movement_retention_days=int(env.get("MOVEMENT_RETENTION_DAYS", "90")),
        dedupe_retention_days=int(env.get("DEDUPE_RETENTION_DAYS", "30")),
        default_hold_minutes=int(env.get("DEFAULT_HOLD_MINUTES", "15")),
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
