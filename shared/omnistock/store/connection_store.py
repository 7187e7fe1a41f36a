"""What a platform's connection keeper last found (its webhook subscriptions), one item per
platform and subject: the connection check reads it rather than asking the platform."""

from __future__ import annotations

from typing import Any

from omnistock.store import keys
from omnistock.store.table import Table


class ConnectionStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def save(self, platform: str, subject: str, record: dict[str, Any]) -> None:
        item = {"pk": keys.CONNECTIONS_PK, "sk": f"{platform}#{subject}", "kind": "connection"}
        self.table.put(item | {"record": record})

    def get(self, platform: str, subject: str) -> dict[str, Any] | None:
        item = self.table.get(keys.CONNECTIONS_PK, f"{platform}#{subject}")
        return dict(item["record"]) if item else None
