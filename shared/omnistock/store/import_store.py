"""A catalog import from a platform: the listing that first claimed each SKU (so a second
variant with the same SKU, pages later, is found), and the report's lines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnistock.clock import epoch_seconds_after
from omnistock.models import ImportLine
from omnistock.store import keys
from omnistock.store.table import Item, Table

RETENTION_DAYS = 30


@dataclass(frozen=True)
class Claim:
    sku: str
    listing_id: str
    mapped: bool  # this import mapped the listing to the SKU (undone if a duplicate turns up)
    duplicate: bool = False
    variant_id: str = ""
    previous: str = ""  # the SKU's listing on the channel before this import mapped it


class ImportStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claims(self, job_id: str, skus: list[str]) -> dict[str, Claim]:
        found = self.table.batch_get([(keys.import_claim_pk(job_id, sku), keys.IMPORT_CLAIM_SK) for sku in skus])
        return {
            item["sku"]: Claim(
                item["sku"],
                item["listing_id"],
                bool(item.get("mapped")),
                bool(item.get("duplicate")),
                item.get("variant_id", ""),
                item.get("previous", ""),
            )
            for item in found
        }

    def claim(self, job_id: str, claims: list[Claim], now: datetime) -> None:
        purge_at = epoch_seconds_after(now, RETENTION_DAYS)
        items: list[Item] = [
            {
                "pk": keys.import_claim_pk(job_id, claim.sku),
                "sk": keys.IMPORT_CLAIM_SK,
                "kind": "import_claim",
                "sku": claim.sku,
                "listing_id": claim.listing_id,
                "mapped": claim.mapped,
                "duplicate": claim.duplicate,
                "variant_id": claim.variant_id,
                "previous": claim.previous,
                "purge_at": purge_at,
            }
            for claim in claims
        ]
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])

    def record(self, job_id: str, lines: list[ImportLine], now: datetime) -> None:
        purge_at = epoch_seconds_after(now, RETENTION_DAYS)
        items: list[Item] = [
            {
                "pk": keys.import_pk(job_id),
                "sk": f"{line.kind}#{line.sku}",
                "kind": "import_line",
                "line_kind": line.kind,
                "sku": line.sku,
                "detail": line.detail,
                "listing_id": line.listing_id,
                "purge_at": purge_at,
            }
            for line in lines
        ]
        unique = list({item["sk"]: item for item in items}.values())  # one line per kind and SKU
        for start in range(0, len(unique), 25):
            self.table.batch_put(unique[start : start + 25])

    def lines(self, job_id: str, kind: str, after: str, limit: int) -> list[ImportLine]:
        """Up to ``limit`` lines of one kind, in SKU order after ``after``."""
        prefix = f"{kind}#"
        condition = "pk = :pk AND sk BETWEEN :from AND :to"
        start = f"{prefix}{after}\x00" if after else prefix
        values = {":pk": keys.import_pk(job_id), ":from": start, ":to": keys.prefix_end(prefix)}
        items = self.table.query(condition, values, limit=limit)
        return [ImportLine(i["line_kind"], i["sku"], i.get("detail", ""), i.get("listing_id", "")) for i in items]
