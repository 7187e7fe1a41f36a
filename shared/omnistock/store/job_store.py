"""Sync Now jobs, and the catalog read in SKU order (index gsi2) that whole-catalog jobs page through."""

from __future__ import annotations

from typing import Any

from omnistock.models import Job
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Item, Table, to_attrs


class JobStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, job: Job, *, only_if_new: bool = False) -> bool:
        """Save a new job; with ``only_if_new``, False when it existed (nothing written)."""
        if not only_if_new:
            self.table.put(_job_item(job))
            return True
        put = {"Item": to_attrs(_job_item(job)), "ConditionExpression": "attribute_not_exists(pk)"}
        return self.table.transact([{"Put": put}]) is None  # cancelled when the job exists

    def get(self, job_id: str) -> Job | None:
        item = self.table.get(keys.job_pk(job_id), keys.JOB_SK)
        return job_from_item(item) if item else None

    def advance(self, seen: Job, progressed: Job) -> bool:
        """Record a chunk's progress unless another delivery recorded it first."""
        expr = Expression()
        fields: dict[tuple[str, ...], Any] = {
            (name,): getattr(progressed, name)
            for name in ("state", "total", "done", "applied", "failed", "cursor", "updated_at", "differing", "reasons")
        }
        running = progressed.state == "running"
        if running:
            fields[("gsi2sk",)] = progressed.updated_at
        body: dict[str, Any] = {
            "Key": to_attrs({"pk": keys.job_pk(seen.job_id), "sk": keys.JOB_SK}),
            "UpdateExpression": expr.update(set_=fields, remove=None if running else [("gsi2pk",), ("gsi2sk",)]),
            "ConditionExpression": f"{expr.name('cursor')} = {expr.value(seen.cursor)} AND "
            f"{expr.name('done')} = {expr.value(seen.done)}",
        }
        expr.attach(body)
        return self.table.transact([{"Update": body}]) is None

    def running(self, limit: int) -> list[Job]:
        """Running jobs (Sync Now, previews, going live, imports, policy changes), the most
        recently advanced first: the sparse index of running jobs, never a scan."""
        items = self.table.query(
            "gsi2pk = :pk", {":pk": keys.RUNNING_JOBS_PK}, index="gsi2", forward=False, limit=limit
        )
        return [job for item in items if (job := self.get(item["job_id"])) is not None and job.state == "running"]

    def running_before(self, updated_before: str) -> list[Job]:
        """Running jobs last advanced before ``updated_before`` (index gsi2: running jobs only)."""
        items = self.table.query(
            "gsi2pk = :pk AND gsi2sk < :before", {":pk": keys.RUNNING_JOBS_PK, ":before": updated_before}, index="gsi2"
        )
        return [job for item in items if (job := self.get(item["job_id"])) is not None and job.state == "running"]

    def touch(self, job: Job, now: str) -> None:
        """Rewrite the job as it is (a new updated_at): its stream record runs the next chunk."""
        self.table.put(_job_item(job) | {"updated_at": now, "gsi2sk": now})

    def catalog_size(self) -> int:
        """How many SKUs the catalog has: its counters (one per shard, added to as SKUs are
        added) and their seed, in one query."""
        return sum(int(item.get("skus", 0)) for item in self._catalog_counters())

    def seed_catalog_count(self) -> bool:
        """Count, once, the SKUs saved before the counters existed (the schedule does it, not
        a request). A SKU added while it counts may be counted twice: the figure is a job's
        progress total. True when it counted."""
        counters = self._catalog_counters()
        if any(item["sk"] == keys.CATALOG_COUNT_SEED_SK for item in counters):
            return False
        counted = sum(int(item.get("skus", 0)) for item in counters)
        total = sum(self.table.count("gsi2pk = :pk", {":pk": pk}, index="gsi2") for pk in keys.catalog_index_pks())
        seed = {"pk": keys.CATALOG_COUNT_PK, "sk": keys.CATALOG_COUNT_SEED_SK, "kind": "catalog_count"}
        put = {
            "Item": to_attrs(seed | {"skus": max(0, total - counted)}),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
        self.table.transact([{"Put": put}])  # cancelled when another pass seeded first
        return True

    def _catalog_counters(self) -> list[Item]:
        return self.table.query("pk = :pk", {":pk": keys.CATALOG_COUNT_PK})

    def catalog_page(self, cursor: str, limit: int) -> tuple[list[str], str, bool]:
        """Up to ``limit`` SKUs after ``cursor`` ("" for the first page), the cursor after them,
        and whether the catalog is exhausted. The catalog index's partitions are walked one
        after another (a cursor is "@<partition>/<last SKU>"), so a page costs one query, or
        one more where a partition ends. A cursor of an older form (a SKU) starts over: a Sync
        Now pushes compare-and-set, so a repeat is harmless."""
        partitions = keys.catalog_index_pks()
        number, _, after = cursor[1:].partition("/") if cursor.startswith("@") else ("0", "", "")
        index = int(number) if number.isdigit() else 0
        skus: list[str] = []
        while index < len(partitions) and len(skus) < limit:
            if after:
                condition, values = "gsi2pk = :pk AND gsi2sk > :after", {":pk": partitions[index], ":after": after}
            else:
                condition, values = "gsi2pk = :pk", {":pk": partitions[index]}
            share = limit - len(skus)
            found = [item["sku"] for item in self.table.query(condition, values, index="gsi2", limit=share)]
            skus += found
            if len(found) < share:
                index, after = index + 1, ""
            else:
                after = found[-1]
        if index >= len(partitions):
            return skus, f"@{len(partitions)}/", True
        return skus, f"@{index}/{after}", False


def _job_item(job: Job) -> Item:
    item: Item = {
        "pk": keys.job_pk(job.job_id),
        "sk": keys.JOB_SK,
        "kind": "job",
        "job_id": job.job_id,
        "channel": job.channel or "",
        "state": job.state,
        "total": job.total,
        "done": job.done,
        "applied": job.applied,
        "failed": job.failed,
        "cursor": job.cursor,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "purpose": job.purpose,
        "source": job.source,
        "differing": job.differing,
        "reasons": dict(job.reasons),
        "options": list(job.options),
    }
    if job.skus is not None:
        item["skus"] = list(job.skus)
    if job.state == "running":  # sparse index of running jobs, by when they last moved
        item["gsi2pk"], item["gsi2sk"] = keys.RUNNING_JOBS_PK, job.updated_at
    return item


def job_from_item(item: Item) -> Job:
    return Job(
        job_id=item["job_id"],
        channel=item.get("channel") or None,
        skus=tuple(item["skus"]) if "skus" in item else None,
        state=item["state"],
        total=int(item["total"]),
        done=int(item["done"]),
        applied=int(item.get("applied", 0)),
        failed=int(item.get("failed", 0)),
        cursor=item.get("cursor", ""),
        created_at=item["created_at"],
        updated_at=item["updated_at"],
        purpose=item.get("purpose", "sync"),
        source=item.get("source", ""),
        differing=int(item.get("differing", 0)),
        reasons={name: int(n) for name, n in (item.get("reasons") or {}).items()},
        options=tuple(item.get("options") or ()),
    )
