"""Web orders into the POS by hand: "import new orders" and "import all orders", as Lightspeed's
own Shopify integration offers them when its automatic updates are off.

- **All**: every Shopify order of the last 60 days, Shopify's own limit for apps without
  ``read_all_orders`` (an older start is refused, saying so).
- **New**: the orders since the last import by hand finished (the last 60 days the first time).

A job (purpose ``pos_import``) pages through Shopify's orders updated since its start (a superset
of those created since: an order is updated when it is created), one page a chunk: each order is
taken in through the poll's own path (so one Omnistock never saw is known to the ledger first),
then written into the POS exactly as an order's change would be (``WebOrderImport.sync``): one
already in the POS changes nothing, one older than 60 days, cancelled, or without a shipping
method is skipped with its reason. Each chunk is recorded with a condition on the job's cursor,
so a redelivered chunk writes nothing twice (and the sales themselves are exactly-once anyway).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING

from omnistock.channels import ChannelUnavailable
from omnistock.channels.lightspeed.web_order_settings import SHOPIFY_ORDER_WINDOW, WebOrderSettings
from omnistock.channels.lightspeed.web_orders import WebOrderImport
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound
from omnistock.models import POS_IMPORT, Job

if TYPE_CHECKING:
    from omnistock.channels import OrdersPort
    from omnistock.channels.shopify.intake import ShopifyIntake
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.job_store import JobStore

LAST_BY_HAND = "lightspeed:web-orders:by-hand"  # cursor: when the last import by hand started
SCOPES = ("new", "all")


class ImportRequests:
    """The admin side: start an import by hand, read its progress (no platform credentials)."""

    def __init__(self, jobs: JobStore, cursors: CursorStore, clock: Callable[[], datetime] = utc_now) -> None:
        self.jobs, self.cursors, self.clock = jobs, cursors, clock

    def start(self, settings: WebOrderSettings, scope: str, since: str | None = None) -> Job:
        if settings.mode == "off":
            raise InvalidRequest("web orders into the POS are off: set lightspeed.web_orders first")
        if scope not in SCOPES:
            raise InvalidRequest(f"scope is one of {', '.join(SCOPES)}")
        now = self.clock()
        oldest = now - SHOPIFY_ORDER_WINDOW
        start = oldest if scope == "all" else parse_iso(self.cursors.cursor(LAST_BY_HAND) or iso(oldest))
        if since is not None:
            start = parse_iso(since)
            if start < oldest:
                raise InvalidRequest(
                    "orders older than 60 days cannot be imported: Shopify shows them only to apps granted "
                    "read_all_orders"
                )
        if any(job.purpose == POS_IMPORT for job in self.jobs.running_before("~")):
            raise Conflict("an import of web orders is running: follow it (GET /pos-sales/imports/{job_id})")
        stamp = iso(now)
        job = Job(uuid.uuid4().hex, "lightspeed", None, "running", 0, 0, 0, 0, "", stamp, stamp, purpose=POS_IMPORT)
        job = replace(job, options=(f"since={iso(max(start, oldest))}", f"scope={scope}"))
        self.jobs.create(job)
        return job

    def job(self, job_id: str) -> Job:
        found = self.jobs.get(job_id)
        if found is None or found.purpose != POS_IMPORT:
            raise NotFound(f"import {job_id!r} does not exist")
        return found


class WebOrderBackfill:
    """The job's side, where the credentials are (the POS-sales function)."""

    def __init__(
        self,
        jobs: JobStore,
        cursors: CursorStore,
        importer: WebOrderImport,
        shopify: ShopifyIntake | None,
        orders: OrdersPort | None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.jobs, self.cursors, self.importer = jobs, cursors, importer
        self.shopify, self.orders, self.clock = shopify, orders, clock

    def run_chunk(self, job: Job) -> Job | None:
        """One page of Shopify's orders into the POS; the job as recorded, or None when another
        delivery of this chunk recorded it first (or the job is over)."""
        current = self.jobs.get(job.job_id)
        if current is None or current.state != "running" or current.cursor != job.cursor:
            return None
        reasons = dict(job.reasons)
        if self.shopify is None or self.orders is None:
            reasons["not connected"] = reasons.get("not connected", 0) + 1
            return self._record(job, replace(job, state="done", reasons=reasons))
        since = dict(option.split("=", 1) for option in job.options).get("since", "")
        try:
            nodes, after = self.orders.orders_since(since, job.cursor or None)
        except ChannelUnavailable:  # the stalled-job nudge runs this page again later
            return None
        applied = failed = 0
        for node in nodes:
            order = self.shopify.ingest_read(node)
            if order is None:
                reasons["unreadable"] = reasons.get("unreadable", 0) + 1
                continue
            result = self.importer.sync(order.channel, order.order_id, by_hand=True)
            reasons[result.result] = reasons.get(result.result, 0) + 1
            applied += result.result == "imported"
            failed += result.result == "refused"
        done = job.done + len(nodes)
        progressed = replace(
            job,
            done=done,
            total=max(job.total, done),
            applied=job.applied + applied,
            failed=job.failed + failed,
            reasons=reasons,
            cursor=after or "",
            state="running" if after else "done",
        )
        return self._record(job, progressed)

    def _record(self, job: Job, progressed: Job) -> Job | None:
        progressed = replace(progressed, updated_at=iso(self.clock()))
        if not self.jobs.advance(job, progressed):
            return None
        if progressed.state == "done":  # the next "import new orders" starts where this one started
            self.cursors.advance_cursor(LAST_BY_HAND, job.created_at)
        return progressed
