"""What a channel in shadow mode would be told: one preview's differences, by SKU, and which
preview is the channel's latest."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnistock.clock import epoch_seconds_after
from omnistock.store import keys
from omnistock.store.table import Item, Table

RETENTION_DAYS = 30


@dataclass(frozen=True)
class PreviewLine:
    """A SKU whose channel number differs from what Omnistock would set, and why."""

    sku: str
    listing_id: str
    shown: int | None  # what the channel shows; None: the listing is unknown there
    would_set: int | None  # None: nothing would be pushed (no listing, or auto sync off)
    reasons: tuple[str, ...]


class PreviewStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def record(self, channel: str, job_id: str, lines: list[PreviewLine], now: datetime) -> None:
        purge_at = epoch_seconds_after(now, RETENTION_DAYS)
        items: list[Item] = [
            {
                "pk": keys.preview_pk(channel, job_id),
                "sk": line.sku,
                "kind": "preview",
                "sku": line.sku,
                "listing_id": line.listing_id,
                "shown": line.shown,
                "would_set": line.would_set,
                "reasons": list(line.reasons),
                "purge_at": purge_at,
            }
            for line in lines
        ]
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])

    def page(self, channel: str, job_id: str, after: str, limit: int) -> list[PreviewLine]:
        """Up to ``limit`` differences after SKU ``after`` ("" for the first), in SKU order."""
        pk = keys.preview_pk(channel, job_id)
        if after:
            items = self.table.query("pk = :pk AND sk > :after", {":pk": pk, ":after": after}, limit=limit)
        else:
            items = self.table.query("pk = :pk", {":pk": pk}, limit=limit)
        return [
            PreviewLine(
                item["sku"], item["listing_id"], item.get("shown"), item.get("would_set"), tuple(item["reasons"])
            )
            for item in items
        ]

    def set_latest(self, channel: str, job_id: str) -> None:
        self.table.put({"pk": keys.latest_preview_pk(channel), "sk": keys.LATEST_PREVIEW_SK, "job_id": job_id})

    def latest(self, channel: str) -> str | None:
        item = self.table.get(keys.latest_preview_pk(channel), keys.LATEST_PREVIEW_SK)
        return str(item["job_id"]) if item else None
