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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from omnistock.channel_import import IMPORT
from omnistock.channels import ChannelUnavailable
from omnistock.clock import iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound
from omnistock.models import LIVE, POS_IMPORT, SHADOW, Channel, Job, SyncEntry
from omnistock.policy import ChannelDefaults, SkuPolicy, sellable, shown_steps
from omnistock.push import PushEngine, PushReport
from omnistock.store.job_store import JobStore
from omnistock.store.preview_store import PreviewLine, PreviewStore
from omnistock.store.push_store import Pushed, PushStore
from omnistock.store.stock_store import StockStore

if TYPE_CHECKING:
    from omnistock.bulk_policies import BulkPolicies
    from omnistock.channel_import import ChannelImports

CHUNK = 250  # one Shopify call's worth of SKUs
PREVIEW, GO_LIVE = "preview", "go_live"  # job purposes besides "sync"
POLICIES = "policies"  # a policy change over an inventory filter (bulk_policies.py)
VERIFY_CHUNK = 250  # marked SKUs verified together: one read and at most one write call on Shopify
STALLED = timedelta(minutes=2)  # a running job not advanced for this long is nudged


def refuse_over_allocation(stock: StockStore, sku: str, channel: str, locations: tuple[str, ...], units: int) -> None:
    """An allocation reserves units for one channel: more than there are now is a mistake."""
    available = sum(level.available for level in stock.stock_levels(sku) if level.location in locations)
    if units > available:
        raise Conflict(f"cannot allocate {units} of SKU {sku!r} to {channel!r}: {available} available at its locations")


class SyncService:
    def __init__(
        self,
        stock: StockStore,
        pushes: PushStore,
        jobs: JobStore,
        engine: PushEngine,
        previews: PreviewStore,
        clock: Callable[[], datetime] = utc_now,
        imports: Callable[[], ChannelImports] | None = None,
        platforms: Callable[[], Iterable[str]] = tuple,
        bulk: Callable[[], BulkPolicies] | None = None,
    ) -> None:
        self.stock = stock
        self.pushes = pushes
        self.jobs = jobs
        self.engine = engine
        self.previews = previews
        self.clock = clock
        self.imports = imports  # catalog import jobs run on the same stream as Sync Now jobs
        self.bulk = bulk  # so do policy changes over a filter
        self.platforms = platforms  # their notes (a POS count unmapped, a webhook re-made) are history too

    # ---- policies and history (admin API)
    def set_policy(self, sku: str, channel: str, policy: SkuPolicy) -> SkuPolicy:
        if self.stock.catalog(sku) is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog")
        config = self.stock.channel(channel)
        if config is None:
            raise NotFound(f"channel {channel!r} is not configured")
        if policy.allocation:
            refuse_over_allocation(self.stock, sku, config.name, config.locations, policy.allocation)
        self.pushes.save_policy(sku, channel, policy, self.clock())
        return policy

    def set_policies(self, skus: list[str], channel: str, changes: dict[str, Any], *, missing_ok: bool = False) -> int:
        """Change some fields (auto_sync, paused, buffer, max_shown) of many SKUs' policies on
        ``channel``, keeping the rest of each; each change is pushed like a stock change. How
        many policies changed."""
        if self.stock.channel(channel) is None:
            raise NotFound(f"channel {channel!r} is not configured")
        unknown = set(changes) - {"auto_sync", "paused", "buffer", "max_shown"}
        if unknown or not changes:
            raise InvalidRequest(f"change one or more of auto_sync, paused, buffer, max_shown (not {sorted(unknown)})")
        chosen = list(dict.fromkeys(skus))
        states = self.pushes.push_states(chosen, policies_of=[channel], pushed_to=[], locations=[])
        missing = [sku for sku, state in states.items() if state.catalog is None]
        if missing and not missing_ok:
            raise NotFound(f"{len(missing)} of these SKUs are not in the catalog: {missing[0]!r} ...")
        changed, now = 0, self.clock()
        for sku in (sku for sku in chosen if states[sku].catalog is not None):
            policy = states[sku].policies.get(channel, SkuPolicy())
            updated = replace(policy, **changes)
            if updated != policy:
                self.pushes.save_policy(sku, channel, updated, now)
                changed += 1
        return changed

    def channel_views(self, sku: str) -> tuple[list[ChannelView], dict[str, dict[str, int]]]:
        """Per configured channel: the SKU's policy there, what Omnistock would show and how it
        gets there, and what it last pushed; and the units held in carts per location, by the
        source holding them (two queries on the SKU's partition)."""
        state = self.pushes.push_state(sku)
        if state.catalog is None:
            raise NotFound(f"SKU {sku!r} is not in the catalog")
        views = []
        for channel in self.stock.channels():
            defaults = ChannelDefaults(channel.buffer, channel.max_shown, channel.auto_sync)
            views.append(
                ChannelView(
                    channel=channel,
                    listing=state.catalog.listings.get(channel.name, ""),
                    policy=state.policies.get(channel.name, SkuPolicy()),
                    would_show=sellable(channel.name, state.levels, channel.locations, defaults, state.policies),
                    steps=shown_steps(channel.name, state.levels, channel.locations, defaults, state.policies),
                    pushed=state.pushed.get(channel.name),
                )
            )
        return views, state.held_by

    def push_latency(
        self, window: timedelta = timedelta(hours=1), limit: int = 2000
    ) -> tuple[int, int | None, int | None]:
        """(pushes measured, p50 ms, p99 ms) of the pushes applied in the last ``window``, from
        the change being written to the channel being told (the newest ``limit`` per channel)."""
        since = iso(self.clock() - window)
        waits = sorted(
            entry.waited_ms
            for channel in self.stock.channels()
            if channel.platform
            for entry in self.pushes.sync_history(channel=channel.name, limit=limit, since=since)
            if entry.waited_ms is not None and entry.result == "applied"
        )
        if not waits:
            return 0, None, None
        return len(waits), _percentile(waits, 50), _percentile(waits, 99)

    def history(self, sku: str | None, channel: str | None, failed_only: bool, limit: int) -> list[SyncEntry]:
        """Newest first: of a SKU, of a channel, or (neither given) across every channel, each
        channel's newest merged (at most ``limit`` entries read per channel)."""
        if sku is not None or channel is not None:
            return self.pushes.sync_history(sku=sku, channel=channel, failed_only=failed_only, limit=limit)
        merged = [
            entry
            for name in sorted(
                {c.name for c in self.stock.channels()} | {c.platform for c in self.stock.channels()} - {""}
            )
            for entry in self.pushes.sync_history(channel=name, failed_only=failed_only, limit=limit)
        ]
        return sorted(merged, key=lambda entry: entry.at, reverse=True)[:limit]

    # ---- Sync Now
    def start(self, channel: str | None, skus: list[str] | None) -> Job:
        config = self.stock.channel(channel) if channel is not None else None
        if channel is not None and config is None:
            raise NotFound(f"channel {channel!r} is not configured")
        chosen = tuple(sorted(set(skus))) if skus is not None else None
        if chosen == ():
            raise InvalidRequest("give at least one SKU, or none for the whole catalog")
        if chosen is not None:
            missing = [sku for sku, state in self.pushes.catalog_states(list(chosen)).items() if state.catalog is None]
            if missing:
                shown = ", ".join(repr(sku) for sku in missing[:10]) + (" ..." if len(missing) > 10 else "")
                raise NotFound(f"{len(missing)} of these SKUs are not in the catalog: {shown}")
        total = len(chosen) if chosen is not None else self.jobs.catalog_size()
        purpose = PREVIEW if config is not None and config.mode == SHADOW else "sync"  # shadow: read, never write
        now = iso(self.clock())
        job = Job(uuid.uuid4().hex, channel, chosen, "running", total, 0, 0, 0, "", now, now, purpose=purpose)
        self.jobs.create(job)
        if purpose == PREVIEW and channel is not None and chosen is None:  # a whole-catalog preview
            self.previews.set_latest(channel, job.job_id)
        return job

    # ---- shadow mode: preview, go live
    def start_preview(self, channel: str) -> Job:
        """Read the whole catalog's numbers on ``channel`` and keep what differs from what
        Omnistock would set; nothing is written there (a live channel can be previewed too)."""
        self._pushable(channel)
        now = iso(self.clock())
        job = Job(uuid.uuid4().hex, channel, None, "running", self.jobs.catalog_size(), 0, 0, 0, "", now, now)
        job = replace(job, purpose=PREVIEW)
        self.jobs.create(job)
        self.previews.set_latest(channel, job.job_id)
        return job

    def preview(self, channel: str, after: str, limit: int) -> tuple[Job | None, list[PreviewLine]]:
        """The channel's latest preview (its progress and totals) and a page of its differences."""
        self._pushable(channel)
        latest = self.previews.latest(channel)
        job = self.jobs.get(latest) if latest else None
        return job, self.previews.page(channel, job.job_id, after, limit) if job else []

    def go_live(self, channel: str) -> Job:
        """Take ``channel`` out of shadow: push the latest preview's differences (each re-read
        on the channel and in the ledger first, so only what still differs is written), and
        from then on every change."""
        config = self._pushable(channel)
        if config.mode != SHADOW:
            raise Conflict(f"channel {channel!r} is live already")
        latest = self.previews.latest(channel)
        preview = self.jobs.get(latest) if latest else None
        if preview is None or preview.state != "done":
            raise Conflict(f"preview {channel!r} first (POST /channels/{channel}/preview) and let it finish")
        if preview.failed:
            raise Conflict(f"the latest preview could not read {preview.failed} SKUs on {channel!r}: preview again")
        now = iso(self.clock())
        self.stock.save_channel(replace(config, mode=LIVE, updated_at=now))
        job = Job(uuid.uuid4().hex, channel, None, "running", preview.differing, 0, 0, 0, "", now, now)
        job = replace(job, purpose=GO_LIVE, source=preview.job_id)
        self.jobs.create(job)
        return job

    def to_shadow(self, channel: str) -> Channel:
        """Stop writing to ``channel``: it is read and previewed only, until it goes live again."""
        config = replace(self._pushable(channel), mode=SHADOW, updated_at=iso(self.clock()))
        self.stock.save_channel(config)
        return config

    def _pushable(self, channel: str) -> Channel:
        config = self.stock.channel(channel)
        if config is None:
            raise NotFound(f"channel {channel!r} is not configured")
        if not config.platform or not config.target_location:
            raise InvalidRequest(f"channel {channel!r} is not pushed to a platform: nothing to preview")
        return config

    def on_changes(
        self,
        skus: list[str],
        jobs: list[Job],
        channel_changes: list[tuple[str, str]],
        changed_at: Mapping[str, float] | None = None,
    ) -> PushReport:
        """One batch of the table's stream: new channel settings start a job that pushes all
        the channel lists; changed SKUs are pushed (``changed_at``: when each SKU's oldest
        change of the batch was written); jobs run their next chunk."""
        for channel, change_id in channel_changes:
            self.start_for_channel_change(channel, change_id)
        report = self.engine.push(skus, "stock change", changed_at=changed_at) if skus else PushReport()
        for job in jobs:
            self.run_chunk(job)
        return report

    def reconcile_all(self, out_of_time: Callable[[], bool] = lambda: False) -> dict[str, PushReport]:
        """The schedule's pass: every pushed channel reconciled, stalled jobs nudged (and, on
        a stack upgraded from before the catalog was counted, its count seeded once)."""
        self.jobs.seed_catalog_count()
        self.nudge_stalled_jobs()
        return {c.name: self.reconcile(c.name, out_of_time) for c in self.stock.channels() if c.pushed}

    def start_for_channel_change(self, channel: str, change_id: str) -> None:
        """One job per change (its id comes from the stream record), however often the record
        is delivered."""
        now = iso(self.clock())
        job_id = hashlib.sha256(f"{channel}:{change_id}".encode()).hexdigest()[:32]
        config = self.stock.channel(channel)
        purpose = PREVIEW if config is not None and config.mode == SHADOW else "sync"
        job = Job(job_id, channel, None, "running", self.jobs.catalog_size(), 0, 0, 0, "", now, now, purpose=purpose)
        created = self.jobs.create(job, only_if_new=True)
        if purpose == PREVIEW and created:  # a redelivered change must not bring an older preview back
            self.previews.set_latest(channel, job_id)

    def running_jobs(self, limit: int = 50) -> list[Job]:
        return self.jobs.running(limit)

    def job(self, job_id: str) -> Job:
        found = self.jobs.get(job_id)
        if found is None:
            raise NotFound(f"sync job {job_id!r} does not exist")
        return found

    def run_chunk(self, job: Job) -> Job | None:
        """Push the job's next chunk and record progress; None if another delivery of the
        same record already did (or the job is finished)."""
        if job.purpose == IMPORT:
            return self.imports().run_chunk(job) if self.imports is not None else None
        if job.purpose == POS_IMPORT:  # web orders into the POS: the POS-sales function runs those
            return None
        if job.purpose == POLICIES:
            return self.bulk().run_chunk(job) if self.bulk is not None else None
        current = self.jobs.get(job.job_id)  # a redelivered record must not push its chunk again
        if current is None or current.state != "running" or current.cursor != job.cursor:
            return None
        chunk, cursor, finished = self._next_chunk(job)
        if job.purpose == PREVIEW:
            progressed = self._preview_chunk(job, chunk)
        else:
            why = "go live" if job.purpose == GO_LIVE else "sync now"
            report = self.engine.push(chunk, why, force=True, channel=job.channel) if chunk else PushReport()
            progressed = replace(
                job, applied=job.applied + report.applied, failed=job.failed + report.failed + report.deferred
            )
        done = job.done + len(chunk)
        progressed = replace(
            progressed,
            done=done,
            total=max(job.total, done),
            cursor=cursor,
            state="done" if finished else "running",
            updated_at=iso(self.clock()),
        )
        return progressed if self.jobs.advance(job, progressed) else None

    def _next_chunk(self, job: Job) -> tuple[list[str], str, bool]:
        """(the SKUs, the cursor after them, whether they are the last)."""
        if job.purpose == GO_LIVE and job.channel:  # the preview's differences that can be pushed
            lines = self.previews.page(job.channel, job.source, job.cursor, CHUNK)
            # An unmapped SKU (no listing, or one the channel does not know) needs fixing first.
            pushable = [line.sku for line in lines if "unmapped" not in line.reasons]
            return pushable, lines[-1].sku if lines else job.cursor, len(lines) < CHUNK
        if job.skus is not None:
            chunk = [sku for sku in job.skus if sku > job.cursor][:CHUNK]
            return chunk, chunk[-1] if chunk else job.cursor, not chunk or chunk[-1] == job.skus[-1]
        return self.jobs.catalog_page(job.cursor, CHUNK)

    def _preview_chunk(self, job: Job, chunk: list[str]) -> Job:
        """Read the channel for the chunk and keep what differs; nothing is written there."""
        if not chunk or not job.channel:
            return job
        try:
            lines = self.engine.preview(chunk, job.channel)
        except ChannelUnavailable:
            return replace(job, failed=job.failed + len(chunk))  # the preview says how much it could not read
        self.previews.record(job.channel, job.job_id, lines, self.clock())
        reasons = dict(job.reasons)
        for line in lines:
            for reason in line.reasons:
                reasons[reason] = reasons.get(reason, 0) + 1
        return replace(job, differing=job.differing + len(lines), reasons=reasons)

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


@dataclass(frozen=True)
class ChannelView:
    channel: Channel
    listing: str
    policy: SkuPolicy
    would_show: int | None  # None: auto sync off, nothing is pushed
    steps: list[str]
    pushed: Pushed | None


def _percentile(ordered: list[int], percent: int) -> int:
    """The nearest-rank percentile of sorted values."""
    rank = max(1, -(-len(ordered) * percent // 100))
    return ordered[rank - 1]
