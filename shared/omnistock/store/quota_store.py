"""API calls counted per platform and calendar month (UTC), for platforms whose quota is monthly
(Unleashed blocks every request at 100% until the 1st). One atomic add per call counted."""

from __future__ import annotations

from omnistock.store import keys
from omnistock.store.table import Table


class QuotaStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def count(self, platform: str, month: str, calls: int = 1) -> int:
        """Count ``calls`` more in ``month`` ("2026-12"); the month's total so far."""
        extra = {"kind": "quota", "platform": platform, "month": month}
        return self.table.add(keys.quota_pk(platform), month, "calls", calls, extra)

    def used(self, platform: str, month: str) -> int:
        item = self.table.get(keys.quota_pk(platform), month)
        return int(item["calls"]) if item else 0
