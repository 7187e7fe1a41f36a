"""Sync Now jobs and the reconcile pass: forced pushes, in chunks, with progress.

A Sync Now job is one item. Creating it answers at once; its insert reaches the push
function on the stream, which pushes one chunk and writes the job's progress (a conditional
write on the cursor, so a redelivered record does not push a chunk twice). That write is on
the stream too and brings the next chunk: a job runs one chunk at a time, survives a dying
function, and never outruns the channel's rate limits (the adapter paces each call).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from omnistock.clock import iso, utc_now
from omnistock.errors import InvalidRequest, NotFound
from omnistock.models import Job, SyncEntry
from omnistock.policy import SkuPolicy
from omnistock.push import PushEngine, PushReport
from omnistock.store.job_store import JobStore
from omnistock.store.push_store import PushStore
from omnistock.store.stock_store import StockStore

CHUNK = 250  # one Shopify call's worth of SKUs
VERIFY_CHUNK = 250  # marked SKUs verified together: one read and at most one write call on Shopify
STALLED = timedelta(minutes=2)  # a running job not advanced for this long is nudged


class SyncService:
    def __init__(
        self,
        stock: StockStore,
        pushes: PushStore,
        jobs: JobStore,
        engine: PushEngine,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.stock = stock
        self.pushes = pushes
        self.jobs = jobs
        self.engine = engine
        self.clock = clock

    # ---- policies and history (admin API)
    def set_policy(self, sku: str, channel: str, policy: SkuPolicy) -> SkuPolicy:
        if self.stock.catalog(sku) is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog")
        if self.stock.channel(channel) is None:
            raise NotFound(f"channel {channel!r} is not configured")
        self.pushes.save_policy(sku, channel, policy, self.clock())
        return policy

    def history(self, sku: str | None, channel: str | None, failed_only: bool, limit: int) -> list[SyncEntry]:
        if sku is None and channel is None:
            raise InvalidRequest("give a sku or a channel")
        return self.pushes.sync_history(sku=sku, channel=channel, failed_only=failed_only, limit=limit)

    # ---- Sync Now
    def start(self, channel: str | None, skus: list[str] | None) -> Job:
        if channel is not None and self.stock.channel(channel) is None:
            raise NotFound(f"channel {channel!r} is not configured")
        chosen = tuple(sorted(set(skus))) if skus is not None else None
        if chosen == ():
            raise InvalidRequest("give at least one SKU, or none for the whole catalog")
        total = len(chosen) if chosen is not None else self.jobs.catalog_size()
        now = iso(self.clock())
        job = Job(uuid.uuid4().hex, channel, chosen, "running", total, 0, 0, 0, "", now, now)
        self.jobs.create(job)
        return job

    def on_changes(self, skus: list[str], jobs: list[Job], channel_changes: list[tuple[str, str]]) -> PushReport:
        """One batch of the table's stream: new channel settings start a job that pushes all
        the channel lists; changed SKUs are pushed; jobs run their next chunk."""
        for channel, change_id in channel_changes:
            self.start_for_channel_change(channel, change_id)
        report = self.engine.push(skus, "stock change") if skus else PushReport()
        for job in jobs:
            self.run_chunk(job)
        return report

    def reconcile_all(self, out_of_time: Callable[[], bool] = lambda: False) -> dict[str, PushReport]:
        """The schedule's pass: every pushed channel reconciled, stalled jobs nudged (and, on
        a stack upgraded from before the catalog was counted, its count seeded once)."""
        self.jobs.seed_catalog_count()
        self.nudge_stalled_jobs()
        return {c.name: self.reconcile(c.name, out_of_time) for c in self.stock.channels() if c.platform}

    def start_for_channel_change(self, channel: str, change_id: str) -> None:
        """One job per change (its id comes from the stream record), however often the record
        is delivered."""
        now = iso(self.clock())
        job_id = hashlib.sha256(f"{channel}:{change_id}".encode()).hexdigest()[:32]
        job = Job(job_id, channel, None, "running", self.jobs.catalog_size(), 0, 0, 0, "", now, now)
        self.jobs.create(job, only_if_new=True)

    def job(self, job_id: str) -> Job:
        found = self.jobs.get(job_id)
        if found is None:
            raise NotFound(f"sync job {job_id!r} does not exist")
        return found

    def run_chunk(self, job: Job) -> Job | None:
        """Push the job's next chunk and record progress; None if another delivery of the
        same record already did (or the job is finished)."""
        current = self.jobs.get(job.job_id)  # a redelivered record must not push its chunk again
        if current is None or current.state != "running" or current.cursor != job.cursor:
            return None
        if job.skus is not None:
            chunk = [sku for sku in job.skus if sku > job.cursor][:CHUNK]
            cursor = chunk[-1] if chunk else job.cursor
            finished = not chunk or chunk[-1] == job.skus[-1]
        else:
            chunk, cursor, finished = self.jobs.catalog_page(job.cursor, CHUNK)
        report = self.engine.push(chunk, "sync now", force=True, channel=job.channel) if chunk else PushReport()
        done = job.done + len(chunk)
        progressed = replace(
            job,
            done=done,
            total=max(job.total, done),
            applied=job.applied + report.applied,
            failed=job.failed + report.failed + report.deferred,
            cursor=cursor,
            state="done" if finished else "running",
            updated_at=iso(self.clock()),
        )
        return progressed if self.jobs.advance(job, progressed) else None

    # ---- reconcile (schedule)
    def reconcile(self, channel: str, out_of_time: Callable[[], bool] = lambda: False) -> PushReport:
        """Verify every SKU marked since its last verification (each push attempt marks its
        SKUs, in the request that records it): what the channel shows is read and repaired,
        failed and interrupted pushes are retried, and raises deferred past their grace window
        are decided (see push.py). Each mark is verified once and then forgotten, unless the
        verification itself had to write (a new change: marked again). A pass that runs out of
        time leaves the rest marked for the next one and reports them as its backlog."""
        due = self.pushes.due_verifications(channel, iso(self.clock()))
        report = PushReport()
        for start in range(0, len(due), VERIFY_CHUNK):
            if out_of_time():
                report.backlog = len(due) - start
                break
            chunk = due[start : start + VERIFY_CHUNK]
            done = self.engine.push([mark.sku for mark in chunk], "reconcile", force=True, channel=channel)
            report.add(done)
            if channel in done.unavailable:  # nothing was verified: every mark stays for the next pass
                report.backlog = len(due) - start
                break
            for mark in chunk:
                self.pushes.verified(mark)
        return report

    def nudge_stalled_jobs(self) -> int:
        """Jobs whose chunk was lost (a failed batch) get a touch, which brings the next chunk."""
        stalled = self.jobs.running_before(iso(self.clock() - STALLED))
        for job in stalled:
            self.jobs.touch(job, iso(self.clock()))
        return len(stalled)
