"""A catalog imported from a platform, as a job that reads one page a chunk.

From a channel (Shopify): every variant is read with its inventory item and what it shows at
the channel's location; listings are mapped onto ledger SKUs by SKU. The report names SKUs
only on the channel (added to the catalog when the request says ``add_new``), SKUs only in
the ledger (or whose listing the channel no longer has), and SKUs used by two variants: those
are never mapped, and one this import mapped before the second turned up is unmapped again.
Where the channel is the master of its location (a shop with no POS), what it shows is that
location's count, through the same path as its inventory webhooks.

From a master (the POS): its own importer turns products into catalog entries and applies
their counts by version (see the platform's package).

Runs like a Sync Now job (sync.py): each chunk is one page, recorded with a conditional
write on the cursor, so a redelivered chunk does nothing and a rerun page maps the same way.
With ``check`` nothing is written but the report.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from omnistock.channels import (
    CatalogImporter,
    CatalogReader,
    ChannelRefused,
    ChannelUnavailable,
    ImportStep,
    SourceItem,
    SourcePage,
)
from omnistock.clock import iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound
from omnistock.ledger import Ledger
from omnistock.listings import ListingDesk
from omnistock.models import CatalogEntry, Channel, ImportLine, Job
from omnistock.store.import_store import Claim, ImportStore
from omnistock.store.job_store import JobStore
from omnistock.store.listing_store import ListingStore

IMPORT = "import"  # the job purpose
CHECK, ADD_NEW = "check", "add_new"  # job options
LEDGER_PHASE = "ledger:"  # cursor prefix once the channel is read: the ledger's SKUs are compared
CHANNEL_PHASE = "channel:"
LEDGER_CHUNK = 250
HELD = "held"  # a SKU an earlier import found twice: not mapped on sight
log = logging.getLogger(__name__)
KINDS = (
    "created",
    "mapped",
    "remapped",
    "counted",
    "only_in_channel",
    "only_in_ledger",
    "duplicate",
    "conflict",
    "no_sku",
    "untracked",
    "refused",
)


@dataclass(frozen=True)
class Sources:
    """Where an import reads: a channel's reader, or a master's importer (None when its
    platform is not connected where the job runs); and which platforms have either."""

    reader: Callable[[Channel], CatalogReader | None]
    importer: Callable[[str], CatalogImporter | None]
    readable: Callable[[str], bool]  # a channel of this platform can be read
    importable: Callable[[str], bool]  # a platform of this name has its own importer


class ChannelImports:
    def __init__(
        self,
        ledger: Ledger,
        jobs: JobStore,
        store: ImportStore,
        listings: ListingStore,
        listing_desk: ListingDesk,
        sources: Sources,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger = ledger
        self.stock = ledger.store
        self.jobs = jobs
        self.store = store
        self.listings = listings
        self.listing_desk = listing_desk
        self.sources = sources
        self.clock = clock

    # ---- requests
    def start(self, source: str, *, add_new: bool, check: bool) -> Job:
        """Start importing from a channel (its name) or a master (its platform's name)."""
        channel = self.stock.channel(source)
        if channel is not None:
            if not self.sources.readable(channel.platform):
                raise InvalidRequest(f"channel {source!r} is on no platform a catalog can be read from")
            if not channel.target_location:
                raise InvalidRequest(f"channel {source!r} names no target_location to read its numbers at")
        elif not self.sources.importable(source):
            raise NotFound(f"{source!r} is neither a channel nor a platform that has a catalog")
        running = [j for j in self.jobs.running_before("~") if j.purpose == IMPORT and j.channel == source]
        if running:  # two would hold and release each other's duplicate SKUs
            raise Conflict(f"an import from {source!r} is running: follow /catalog/imports/{running[0].job_id}")
        now = iso(self.clock())
        options = tuple(name for name, on in ((CHECK, check), (ADD_NEW, add_new)) if on)
        job = Job(uuid.uuid4().hex, source, None, "running", 0, 0, 0, 0, "", now, now, purpose=IMPORT)
        job = replace(job, options=options)
        self.jobs.create(job)
        return job

    def job(self, job_id: str) -> Job:
        found = self.jobs.get(job_id)
        if found is None or found.purpose != IMPORT:
            raise NotFound(f"import {job_id!r} does not exist")
        return found

    def report(self, job_id: str, kind: str, after: str, limit: int) -> tuple[Job, list[ImportLine]]:
        job = self.job(job_id)
        return job, self.store.lines(job_id, kind, after, limit)

    # ---- the job
    def run_chunk(self, job: Job) -> Job | None:
        """Import the next page and record progress; None if another delivery did it first."""
        current = self.jobs.get(job.job_id)
        if current is None or current.state != "running" or current.cursor != job.cursor:
            return None
        check, add_new = CHECK in job.options, ADD_NEW in job.options
        try:
            step = self._step(job, check=check, add_new=add_new)
        except ChannelRefused as error:  # retrying cannot help: the import ends, saying why
            step = ImportStep(0, job.cursor, True, [ImportLine("refused", job.channel or "", str(error)[:300])])
        except ChannelUnavailable as error:  # the stalled-job nudge runs the same page again later
            log.warning("import %s waits: %s", job.job_id, error)
            return None
        self.store.record(job.job_id, step.lines, self.clock())
        reasons = dict(job.reasons)
        for line in step.lines:
            reasons[line.kind] = reasons.get(line.kind, 0) + 1
        done = job.done + step.read
        applied = sum(1 for line in step.lines if line.kind in ("created", "mapped", "remapped", "counted"))
        progressed = replace(
            job,
            done=done,
            total=max(job.total, done),
            applied=job.applied + (0 if check else applied),
            failed=job.failed + sum(1 for line in step.lines if line.kind in ("conflict", "refused")),
            reasons=reasons,
            cursor=step.cursor,
            state="done" if step.last else "running",
            updated_at=iso(self.clock()),
        )
        return progressed if self.jobs.advance(job, progressed) else None

    def _step(self, job: Job, *, check: bool, add_new: bool) -> ImportStep:
        source = job.channel or ""
        channel = self.stock.channel(source)
        if channel is None:
            importer = self.sources.importer(source)
            if importer is None:
                return _not_connected(source)
            return importer.import_page(job.cursor, check=check, add_new=add_new)
        if job.cursor.startswith(LEDGER_PHASE):
            return self._ledger_page(job, channel, job.cursor.removeprefix(LEDGER_PHASE))
        reader = self.sources.reader(channel)
        if reader is None:
            return _not_connected(channel.platform)
        read_at = self.clock().strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # before the read: never newer than it
        page = reader.catalog_page(channel, job.cursor.removeprefix(CHANNEL_PHASE))
        lines = self._map_page(job, channel, page, read_at, check=check, add_new=add_new)
        if page.last:
            lines += self._settle_duplicates(job, channel, check)
        cursor = f"{LEDGER_PHASE}" if page.last else f"{CHANNEL_PHASE}{page.cursor}"
        return ImportStep(len(page.items), cursor, False, lines)

    # ---- a channel's page
    def _map_page(
        self, job: Job, channel: Channel, page: SourcePage, read_at: str, *, check: bool, add_new: bool
    ) -> list[ImportLine]:
        lines, by_sku = _sort_out(page.items)
        claims = self.store.claims(job.job_id, list(by_sku))
        duplicates = {
            sku: group
            for sku, group in by_sku.items()
            if len({i.listing_id for i in group}) > 1
            or (sku in claims and (claims[sku].duplicate or claims[sku].listing_id != group[0].listing_id))
        }
        lines += self._duplicates(job, channel, duplicates, claims, check)
        single = [group[0] for sku, group in by_sku.items() if sku not in duplicates]
        entries = self.stock.catalogs([item.sku for item in single])
        plan, refused = self._plan(channel, single, entries, add_new)
        lines += refused
        # Every sighting is claimed, mapped or not: a second variant with the SKU, pages later,
        # is a duplicate whatever became of the first.
        planned = dict(plan)
        self.store.claim(
            job.job_id,
            [
                Claim(
                    i.sku,
                    i.listing_id,
                    mapped=planned.get(i.sku, "") not in ("", HELD) and not check,
                    variant_id=i.variant_id,
                    previous=(entries[i.sku].listings.get(channel.name, "") if i.sku in entries else ""),
                )
                for i in single
                if i.sku not in claims
            ],
            self.clock(),
        )
        applied = []
        for item in single:
            what = planned.get(item.sku)
            if what is None or what == HELD:
                continue
            line = self._apply(channel, item, what, entries.get(item.sku), check) if what else None
            if line is not None:
                lines.append(line)
            if line is None or line.kind != "conflict":
                applied.append(item)
        if not check:
            self._map_variants(channel, applied)
            lines += self._counts(job, channel, applied, read_at)
        return lines

    def _map_variants(self, channel: Channel, items: list[SourceItem]) -> None:
        """Orders name variants: point each mapped one at its SKU (only where it points elsewhere)."""
        variants = [(item.variant_id, item.sku) for item in items if item.variant_id]
        known = self.stock.listing_owners([(channel.name, variant) for variant, _ in variants])
        self.listings.map_variants(channel.name, [v for v in variants if known.get((channel.name, v[0])) != v[1]])

    def _plan(
        self, channel: Channel, items: list[SourceItem], entries: dict[str, CatalogEntry], add_new: bool
    ) -> tuple[list[tuple[str, str]], list[ImportLine]]:
        """What to do with each SKU found once: (sku, created | mapped | remapped | "" (mapped
        already) | HELD); and the lines of those that cannot be mapped."""
        owners = self.stock.listing_owners([(channel.name, item.listing_id) for item in items])
        # Found on two variants by an earlier import: not mapped until this one has read every
        # variant and found it on one (settled once the channel is read).
        held_back = self.listings.held_duplicates(channel.name, [item.sku for item in items])
        plan: list[tuple[str, str]] = []
        lines = []
        for item in items:
            owner = owners.get((channel.name, item.listing_id))
            entry = entries.get(item.sku)
            mapped = entry.listings.get(channel.name) if entry else None
            if not item.tracked:
                why = "the platform does not track this variant's inventory: turn tracking on to sync it"
                lines.append(ImportLine("untracked", item.sku, why, item.listing_id))
            elif item.sku in held_back:
                plan.append((item.sku, HELD))
            elif owner is not None and owner != item.sku:
                why = f"the listing belongs to SKU {owner!r}: change the SKU on the platform or in the ledger"
                lines.append(ImportLine("conflict", item.sku, why, item.listing_id))
            elif entry is None and not add_new:
                why = "on the channel, not in the ledger: import again with add_new, or add it by CSV"
                lines.append(ImportLine("only_in_channel", item.sku, why, item.listing_id))
            elif entry is None:
                plan.append((item.sku, "created"))
            else:
                plan.append((item.sku, "" if mapped == item.listing_id else "remapped" if mapped else "mapped"))
        return plan, lines

    def _apply(
        self, channel: Channel, item: SourceItem, what: str, entry: CatalogEntry | None, check: bool
    ) -> ImportLine:
        before = entry.listings.get(channel.name, "") if entry else ""
        detail = {
            "created": f"added at {', '.join(channel.locations)} (auto sync: {channel.auto_sync_for('channel')})",
            "mapped": "listing mapped",
            "remapped": f"listing was {before!r}",
        }[what]
        if check:
            return ImportLine(what, item.sku, f"would be {what}: {detail}", item.listing_id)
        try:
            if what == "created":
                listings = {channel.name: item.listing_id}
                self.ledger.upsert_catalog(item.sku, list(channel.locations), listings, item.title, entry_way="channel")
            else:
                self.ledger.patch_catalog(item.sku, listings={channel.name: item.listing_id})
        except (Conflict, InvalidRequest) as error:
            return ImportLine("conflict", item.sku, str(error)[:300], item.listing_id)
        return ImportLine(what, item.sku, detail, item.listing_id)

    def _duplicates(
        self,
        job: Job,
        channel: Channel,
        duplicates: dict[str, list[SourceItem]],
        claims: dict[str, Claim],
        check: bool,
    ) -> list[ImportLine]:
        """SKUs on two variants: none is mapped; one this import mapped earlier goes back to the
        listing it had before (none, for a SKU it created or mapped first)."""
        lines = []
        marked = []
        for sku, group in duplicates.items():
            first = claims.get(sku)
            listings = list(dict.fromkeys([*([first.listing_id] if first else []), *(i.listing_id for i in group)]))
            if first is not None and first.mapped and not check:
                self._undo_mapping(channel, first)
            named = ", ".join(listings[:5])
            why = f"{len(listings)} variants use this SKU ({named}): none mapped; give each its own SKU"
            lines.append(ImportLine("duplicate", sku, why, listings[0]))
            marked.append(Claim(sku, listings[0], mapped=False, duplicate=True))
        self.store.claim(job.job_id, marked, self.clock())
        if not check:
            self.listings.hold_duplicates(channel.name, [claim.sku for claim in marked])
        return lines

    def _undo_mapping(self, channel: Channel, claim: Claim) -> None:
        entry = self.stock.catalog(claim.sku)
        if entry is None or entry.listings.get(channel.name) != claim.listing_id:
            return  # changed since: not this import's to undo
        try:
            self.ledger.patch_catalog(claim.sku, listings={channel.name: claim.previous or None}, allow_drop=True)
        except (Conflict, InvalidRequest):  # changed meanwhile, or the old listing taken: leave it
            log.warning("import: a duplicate SKU's mapping could not be undone")
        if claim.variant_id:
            self.listings.forget_variant(channel.name, claim.variant_id)

    def _settle_duplicates(self, job: Job, channel: Channel, check: bool) -> list[ImportLine]:
        """Once every variant is read: a SKU an earlier import found twice and this one found
        once is mapped now (and forgotten as a duplicate); one found twice again stays held."""
        held = self.listings.held_duplicates_of(channel.name)
        claims = self.store.claims(job.job_id, held)
        entries = self.stock.catalogs([sku for sku in held if sku in claims])
        lines = []
        for sku in held:
            claim = claims.get(sku)
            if claim is not None and claim.duplicate:
                continue
            entry = entries.get(sku)
            if claim is not None and entry is not None and entry.listings.get(channel.name) != claim.listing_id:
                what = "remapped" if entry.listings.get(channel.name) else "mapped"
                item = SourceItem(sku, "", claim.variant_id, claim.listing_id)
                line = self._apply(channel, item, what, entry, check)
                lines.append(line)
                if line.kind != "conflict" and not check:
                    self._map_variants(channel, [item])
            if not check:
                self.listings.release_duplicate(channel.name, sku)
        return lines

    def _counts(self, job: Job, channel: Channel, items: list[SourceItem], read_at: str) -> list[ImportLine]:
        """A channel that is master of its location: what it shows is a count, as of the level's
        own time (or, when the platform gives none, the moment before the page was read), through
        the inventory webhooks' path: a newer count already applied wins."""
        if not channel.master_location:
            return []
        lines = []
        for item in items:
            if item.shown is None:
                continue
            event_id = f"import:{job.job_id}:{item.listing_id}"
            outcome = self.listing_desk.on_level(
                channel, item.listing_id, channel.target_location, item.shown, item.shown_at or read_at, event_id
            )
            if outcome.result == "count":
                lines.append(ImportLine("counted", item.sku, f"{item.shown} at {channel.master_location}"))
        return lines

    # ---- the ledger's side
    def _ledger_page(self, job: Job, channel: Channel, cursor: str) -> ImportStep:
        """SKUs of the ledger with no listing on the channel, or whose listing this import did
        not find there."""
        skus, after, last = self.jobs.catalog_page(cursor, LEDGER_CHUNK)
        entries = self.stock.catalogs(skus)
        claims = self.store.claims(job.job_id, skus)
        lines = []
        for sku in skus:
            entry = entries.get(sku)
            listing = entry.listings.get(channel.name, "") if entry else ""
            if sku in claims:
                continue  # found on the channel (mapped, or would be; or reported as a duplicate)
            if not listing:
                lines.append(ImportLine("only_in_ledger", sku, "no listing on the channel: it is not pushed there"))
            else:
                why = f"its listing {listing!r} was not found on the channel: deleted there, or its SKU changed"
                lines.append(ImportLine("only_in_ledger", sku, why, listing))
        return ImportStep(0, f"{LEDGER_PHASE}{after}", last, lines)


def _sort_out(items: list[SourceItem]) -> tuple[list[ImportLine], dict[str, list[SourceItem]]]:
    """Lines for variants without a SKU; the rest by SKU (untracked ones too: they still make a
    SKU used twice a duplicate)."""
    lines: list[ImportLine] = []
    by_sku: dict[str, list[SourceItem]] = {}
    for item in items:
        if not item.sku:
            why = f"{item.title or 'a variant'} has no SKU: give it one to sync it"
            lines.append(ImportLine("no_sku", f"variant:{item.variant_id}", why, item.listing_id))
        else:
            by_sku.setdefault(item.sku, []).append(item)
    return lines, by_sku


def _not_connected(platform: str) -> ImportStep:
    why = f"{platform} is not connected (GET /connections says what is missing): nothing was read"
    return ImportStep(0, "", True, [ImportLine("refused", platform, why)])
