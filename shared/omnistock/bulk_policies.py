"""A policy change (or a Sync Now) over every SKU in an inventory filter (a prefix, a state on a
channel), as a job: each chunk reads the filter's next page after the job's cursor, changes those policies and
advances the cursor with a conditional write, so a redelivered chunk changes nothing twice and
the job survives a dying function (the Sync Now job's machinery, see sync.py).

The filter is read in SKU order from the cursor on: SKUs the change takes out of the filter (auto
sync turned on over "auto sync off") are behind the cursor already, and SKUs added after the
cursor passed them are not changed (the job changes what the filter held as it went)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from omnistock.clock import iso, utc_now
from omnistock.errors import InvalidRequest, NotFound
from omnistock.inventory_filters import STATES, InventoryFilters
from omnistock.models import Job
from omnistock.store.catalog_index import CatalogIndex
from omnistock.store.job_store import JobStore
from omnistock.sync import POLICIES, SyncService

CHUNK = 250


class BulkPolicies:
    def __init__(
        self,
        sync: SyncService,
        filters: InventoryFilters,
        index: CatalogIndex,
        jobs: JobStore,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sync = sync
        self.filters = filters
        self.index = index
        self.jobs = jobs
        self.clock = clock

    def start(
        self, channel: str, changes: dict[str, Any], prefix: str, state: str | None, *, sync_now: bool = False
    ) -> Job:
        """A job that changes the policies on ``channel`` of every SKU starting with ``prefix``
        (and in ``state`` on that channel, if given), or (``sync_now``) forces their push there."""
        config = self.sync.stock.channel(channel)
        if config is None:
            raise NotFound(f"channel {channel!r} is not configured")
        if state is not None and state not in STATES:
            raise InvalidRequest(f"state is one of {', '.join(STATES)}")
        if sync_now and not config.pushed:
            raise InvalidRequest(f"channel {channel!r} is not pushed (in shadow: preview it; or no platform)")
        if not changes and not sync_now:
            raise InvalidRequest("give at least one of auto_sync, paused, buffer, max_shown")
        total = self.jobs.catalog_size() if not prefix and state is None else 0  # 0: found as it goes
        now = iso(self.clock())
        options: tuple[str, ...] = (
            f"prefix={prefix}",
            f"state={state or ''}",
            f"set={json.dumps(changes, sort_keys=True)}",
        )
        options += ("sync_now=1",) if sync_now else ()
        job = Job(uuid.uuid4().hex, channel, None, "running", total, 0, 0, 0, "", now, now, purpose=POLICIES)
        job = replace(job, options=options)
        self.jobs.create(job)
        return job

    def run_chunk(self, job: Job) -> Job | None:
        current = self.jobs.get(job.job_id)  # a redelivered record must not change its chunk again
        if current is None or current.state != "running" or current.cursor != job.cursor or job.channel is None:
            return None
        prefix, state, changes, sync_now = _filter_of(job)
        if state:
            page = self.filters.page(job.channel, state, prefix, job.cursor, CHUNK)
            skus, finished, cursor = [entry.sku for entry, _ in page.rows], page.last, page.cursor
        else:
            found = self.index.page(prefix, job.cursor, CHUNK)
            skus, finished = [entry.sku for entry in found.entries], found.last or not found.entries
            cursor = skus[-1] if skus else None
        failed = 0
        if sync_now and skus:  # a forced push, as Sync Now's chunks are
            report = self.sync.engine.push(skus, "sync now", force=True, channel=job.channel)
            changed, failed = report.applied, report.failed + report.deferred
        else:  # a SKU dropped from the catalog between the read and the change is passed over
            changed = self.sync.set_policies(skus, job.channel, changes, missing_ok=True) if skus else 0
        done = job.done + len(skus)
        progressed = replace(
            job,
            applied=job.applied + changed,
            failed=job.failed + failed,
            done=done,
            total=max(job.total, done) if not finished else done,
            cursor=cursor or job.cursor,
            state="done" if finished else "running",
            updated_at=iso(self.clock()),
        )
        return progressed if self.jobs.advance(job, progressed) else None


def _filter_of(job: Job) -> tuple[str, str, dict[str, Any], bool]:
    options = dict(option.split("=", 1) for option in job.options)
    changes = json.loads(options.get("set", "{}"))
    return options.get("prefix", ""), options.get("state", ""), changes, options.get("sync_now") == "1"
