"""Request and response bodies of the admin API, and the mapping from ledger results.

Quantities are strict integers: "3", 3.5 and 3.0 are refused rather than guessed at.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from omnistock.channels import registry as platforms
from omnistock.models import (
    ENTRY_WAYS,
    MAX_VERSION,
    CatalogEntry,
    Channel,
    Hold,
    HoldResult,
    Job,
    Movement,
    Quantities,
    StockExplained,
    StockLevel,
    StockResult,
)
from omnistock.models import Outcome as LedgerOutcome
from omnistock.policy import SkuPolicy

if TYPE_CHECKING:  # the store (and boto3 with it) is not needed to parse a request
    from omnistock.catalog_import import ImportReport
    from omnistock.config import Config
    from omnistock.inventory_filters import ChannelCell
    from omnistock.ledger import InventoryPage
    from omnistock.models import ImportLine, SyncEntry
    from omnistock.orders import OrderFile, Shipment
    from omnistock.settings import SettingView
    from omnistock.store.preview_store import PreviewLine
    from omnistock.store.settings_store import AuditEntry

PRINTABLE = r"^[^\x00-\x1f\x7f]+$"
Identifier = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=PRINTABLE)]
Location = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=PRINTABLE)]
EntryWay = Literal["manual", "file", "channel", "order"]  # models.ENTRY_WAYS
InventoryState = Literal["paused", "auto_sync_off", "push_failed", "shortfall"]  # inventory_filters.STATES


# "hold" names the checkout lots of holds ("hold:<hold id>"): a sale's lot is "<source>:<event id>".
def _not_reserved(source: str) -> str:
    if source == "hold":
        raise ValueError('"hold" is reserved')
    return source


Source = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,39}$"), AfterValidator(_not_reserved)]
Quantity = Annotated[int, Field(strict=True, gt=0, le=1_000_000)]
Count = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
Version = Annotated[int, Field(strict=True, ge=0, le=MAX_VERSION)]
Delta = Annotated[int, Field(strict=True, ge=-1_000_000, le=1_000_000)]
Note = Annotated[str, StringConstraints(max_length=500)]
EARLIEST, LATEST = datetime(2000, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)


def _plausible(moment: datetime) -> datetime:
    """A time stock could have moved at: the 21st century onwards, not the year 31 or 9999
    (which UTC conversion or storage as sortable text cannot hold)."""
    if not EARLIEST <= moment <= LATEST:
        raise ValueError("a time between the years 2000 and 9000")
    return moment


Timestamp = Annotated[
    AwareDatetime,
    AfterValidator(_plausible),
    Field(description="ISO 8601 with a time zone, e.g. 2026-11-23T12:00:00Z"),
]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ==================================================================== requests
ListingChannel = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]
ALLOW_DROP = "Drop a listing, or a location that still has stock, holds or pending units (refused with 409 otherwise)."


class CatalogIn(Body):
    locations: list[Location] = Field(min_length=1, max_length=50)
    listings: dict[ListingChannel, Identifier] = Field(
        default_factory=dict, description="Listing id per channel (for Shopify, the inventory item id)."
    )
    title: Note = ""
    allow_drop: bool = Field(False, description=ALLOW_DROP)


class CatalogImportIn(Body):
    csv: str = Field(
        max_length=80_000,  # JSON-escaped, even the widest characters stay under the 1 MB body limit
        description="CSV text, header first: sku, location, on_hand, optional title, and listing:<channel> "
        "columns. A larger file goes in parts (bin/omnistock import splits it), each with its header.",
    )
    first_line: int = Field(2, ge=2, le=100_000_000, description="The file's line number of the first row.")
    check: bool = Field(False, description="Check every row and change nothing.")


class ImportFromIn(Body):
    add_new: bool = Field(False, description="Add SKUs found only on the platform to the catalog.")
    check: bool = Field(False, description="Report what the import would do and change nothing.")


class PosImportIn(Body):
    scope: Literal["new", "all"] = Field(
        "new",
        description="new: orders since the last import by hand finished (60 days the first time); "
        "all: the last 60 days (Shopify's limit without read_all_orders).",
    )
    since: AwareDatetime | None = Field(None, description="Start here instead (no more than 60 days ago).")


ImportKind = Literal[
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
]


class ImportLineOut(BaseModel):
    sku: str
    kind: str
    detail: str
    listing_id: str


class ImportLinesOut(BaseModel):
    job: JobOut
    kind: str
    lines: list[ImportLineOut]
    next: str | None = Field(description="Pass as `after` for the next page; null: no more.")


class SettingIn(Body):
    value: Any = Field(description="The new value, in the shape GET /settings shows.")


class SettingOut(BaseModel):
    name: str
    description: str
    value: Any
    default: Any = Field(description="The template parameter's value (in force until changed).")
    updated_at: str | None
    updated_by: str | None


class SettingsOut(BaseModel):
    settings: list[SettingOut]


class AuditEntryOut(BaseModel):
    at: str
    who: str
    subject: str
    before: Any
    after: Any


class AuditOut(BaseModel):
    month: str
    entries: list[AuditEntryOut]
    next: str | None = Field(description="Pass as `before` for older entries of the month; null: no more.")


class RowProblemOut(BaseModel):
    line: int
    message: str


class CatalogImportOut(BaseModel):
    rows: int
    skus: int
    applied: bool = Field(description="false: checked only, or refused because a row is bad (nothing changed).")
    created: int
    updated: int
    counted: int
    unchanged: int
    problems: list[RowProblemOut]


class CatalogPatch(Body):
    locations: list[Location] | None = Field(None, min_length=1, max_length=50)
    listings: dict[ListingChannel, Identifier | None] | None = Field(
        None, description="Merged into the SKU's listings; null removes that channel's listing."
    )
    title: Note | None = None
    allow_drop: bool = Field(False, description=ALLOW_DROP)


ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]
Units = Annotated[int, Field(strict=True, ge=0, le=1_000_000)]


def _known_platform(name: str) -> str:
    if name and platforms.platform(name) is None:
        raise ValueError(f"the platforms are {', '.join(platforms.PLATFORMS)} (or empty: not pushed)")
    return name


# The registry's platforms, or "": listed in the document as an enum.
PlatformName = Annotated[
    str,
    Field(json_schema_extra={"enum": ["", *platforms.PLATFORMS]}),
    AfterValidator(_known_platform),
]


class ChannelIn(Body):
    locations: list[Location] = Field(min_length=1, max_length=50, description="Ledger locations it sells from.")
    platform: PlatformName = Field(
        default="", description="The platform the channel is (pushes go to it); empty: not pushed."
    )
    target_location: Identifier | None = Field(
        default=None, description="The platform's location that shows the channel's number (Shopify: location GID)."
    )
    buffer: Units = Field(default=0, description="Units held back from this channel (safety stock).")
    max_shown: Units | None = Field(default=None, description="Never show more than this.")
    auto_sync: bool = Field(default=True, description="Push SKUs that have no policy of their own (new SKUs).")
    auto_sync_by_entry: dict[EntryWay, bool] = Field(
        default_factory=dict,
        description="Auto sync for new SKUs by how they entered the catalog: manual (the admin API), file (a CSV "
        "import), channel (imported from a platform, or its product webhooks), order (an order line). A way not "
        "named follows auto_sync, except order: off unless named, so an unknown quantity is never pushed as 0.",
    )
    master_location: Location | None = Field(
        default=None,
        description="The ledger location whose counts come from this platform's own inventory reports "
        "(a shop with no POS there). Empty: the platform only sells.",
    )

    @model_validator(mode="after")
    def pushed_somewhere(self) -> ChannelIn:
        known = platforms.platform(self.platform)
        if known is not None and known.target_location_needed and not self.target_location:
            raise ValueError(f"a {known.title} channel needs its target_location ({known.target_location_needed})")
        return self


class PolicyIn(Body):
    buffer: Units | None = Field(default=None, description="Overrides the channel's buffer for this SKU.")
    max_shown: Units | None = None
    paused: bool = Field(default=False, description="Show 0 (the `noinventory` practice).")
    auto_sync: bool | None = Field(default=None, description="False: leave this SKU alone on this channel.")
    allocation: Units = Field(default=0, description="Units only this channel may sell; the others do not see them.")


class LiveEventIn(Body):
    event_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.:-]{1,100}$")]
    channel: ChannelName = Field(description="The channel the live sale runs on.")
    allocations: dict[Identifier, Units] = Field(
        default_factory=dict,
        max_length=500,
        description="SKU -> units only this channel sells; the others do not see them.",
    )
    paused: dict[ChannelName, list[Identifier]] = Field(
        default_factory=dict,
        max_length=20,
        description="Channel -> SKUs not pushed to it while the event runs (resumed, with a forced push, at the end).",
    )


class LiveEventOut(BaseModel):
    event_id: str
    channel: str
    state: str
    allocations: dict[str, int]
    paused: dict[str, list[str]]
    started_at: str
    ended_at: str | None = None


class SyncNowIn(Body):
    channel: ChannelName | None = Field(default=None, description="One channel; default: every pushed channel.")
    skus: list[Identifier] | None = Field(
        default=None, min_length=1, max_length=1000, description="Default: the whole catalog (use that for more)."
    )


class CountIn(Body):
    location: Location
    on_hand: Count
    version: Version = Field(description="The master's version of this count; older versions are ignored.")
    event_id: Identifier
    source: Source = "admin"
    as_of: Timestamp | None = None
    reset_version: bool = Field(
        default=False,
        description="Apply this count whatever version was applied before, and make its version the master's: "
        "the way back from a version set by mistake (a later master count then applies if its version is higher).",
    )


class AdjustmentIn(Body):
    location: Location
    delta: Delta
    event_id: Identifier
    note: Note = ""
    source: Source = "admin"


class RestockIn(Body):
    location: Location
    qty: Quantity
    event_id: Identifier
    note: Note = ""
    source: Source = "admin"


class SaleIn(Body):
    location: Location
    qty: Quantity
    event_id: Identifier
    source: Source = "admin"
    applied_version: Version | None = Field(
        default=None, description="Set when the seller is the master: its version that includes this sale."
    )


class ConfirmationIn(Body):
    location: Location
    lot: Identifier = Field(
        description="The pending lot: '<source>:<event_id>' of a sale, 'hold:<hold_id>' of a checkout."
    )
    applied_version: Version
    event_id: Identifier
    source: Source = "admin"


class HoldIn(Body):
    hold_id: Identifier
    sku: Identifier
    location: Location
    qty: Quantity
    minutes: Annotated[int, Field(strict=True, gt=0, le=10_080)] | None = None
    expires_at: Timestamp | None = None
    event_id: Identifier | None = Field(default=None, description="Defaults to the hold id.")
    source: Source = "admin"

    @model_validator(mode="after")
    def one_expiry(self) -> HoldIn:
        if self.minutes is not None and self.expires_at is not None:
            raise ValueError("give minutes or expires_at, not both")
        return self


class HoldEndIn(Body):
    event_id: Identifier
    source: Source = "admin"
    applied_version: Version | None = None


# ==================================================================== responses
class ShipmentIn(Body):
    shipment_id: Identifier = Field(description="Your id for the shipment: a repeat with the same id records nothing.")
    carrier: Annotated[str, StringConstraints(max_length=100)] = ""
    service: Annotated[str, StringConstraints(max_length=100)] = ""
    tracking_number: Annotated[str, StringConstraints(max_length=100, pattern=PRINTABLE)] | None = None
    lines: dict[Identifier, Quantity] | None = Field(
        default=None, max_length=500, description="Line id -> units shipped; omitted: every unshipped unit."
    )
    shipped_at: Timestamp | None = None


class QuantitiesOut(BaseModel):
    on_hand: int
    held: int
    pending: int
    available: int


class LotOut(BaseModel):
    lot: str
    qty: int
    sold_at: str
    applied_version: int | None


class LevelOut(QuantitiesOut):
    location: str
    shortfall: int
    master_version: int | None
    master_at: str | None
    pending_lots: list[LotOut]
    updated_at: str | None


class MovementOut(BaseModel):
    at: str
    location: str
    kind: str
    source: str
    event_id: str
    note: str
    before: QuantitiesOut
    after: QuantitiesOut


class CatalogOut(BaseModel):
    sku: str
    title: str
    locations: list[str]
    listings: dict[str, str]
    updated_at: str | None


class StockOut(BaseModel):
    sku: str
    catalog: CatalogOut
    available: int
    locations: list[LevelOut]
    movements: list[MovementOut]


class ChannelCellOut(BaseModel):
    would_show: int | None = Field(description="What Omnistock makes the channel show; null: auto sync off.")
    pushed: int | None = Field(description="What it last made the channel show; null: never pushed.")
    pushed_at: str | None
    failed: bool = Field(description="The last push failed and nothing was pushed since.")


class InventoryRowOut(BaseModel):
    sku: str
    title: str
    listings: dict[str, str]
    available: int = Field(description="At all its locations (what the ledger has to sell, before channel policies).")
    locations: list[LevelSummaryOut]
    channels: dict[str, ChannelCellOut] | None = Field(
        default=None, description="With channels=true: each pushed channel's column."
    )


class LevelSummaryOut(QuantitiesOut):
    location: str


class InventoryOut(BaseModel):
    skus: list[InventoryRowOut]
    next: str | None = Field(description="Pass as `after` for the next page; null: the last page.")


class MovementsOut(BaseModel):
    sku: str
    movements: list[MovementOut]


class ResultOut(BaseModel):
    outcome: str
    message: str
    level: LevelOut | None = None


class HoldOut(BaseModel):
    hold_id: str
    sku: str
    location: str
    qty: int
    state: str
    expires_at: str
    created_at: str
    ended_at: str | None
    ended_by: str | None


class HoldResultOut(BaseModel):
    outcome: str
    message: str
    hold: HoldOut | None = None
    available: int | None = None


class ChannelOut(BaseModel):
    channel: str
    locations: list[str]
    platform: str
    target_location: str
    buffer: int
    max_shown: int | None
    auto_sync: bool
    auto_sync_by_entry: dict[str, bool] = Field(description="The rule for new SKUs by how they entered the catalog.")
    master_location: str
    mode: str = Field(description="shadow: read and previewed, never written; live: pushed.")


class ChannelsOut(BaseModel):
    channels: list[ChannelOut]


class PolicyOut(BaseModel):
    sku: str
    channel: str
    buffer: int | None
    max_shown: int | None
    paused: bool
    auto_sync: bool | None
    allocation: int


class SyncEntryOut(BaseModel):
    at: str
    sku: str
    channel: str
    before: int | None
    after: int
    why: str
    result: str
    error: str
    attempt: str
    hint: str = Field(default="", description="What the result means and what fixes it, in words.")
    message: str = Field(default="", description="The platform's error code in words, when it is a known one.")
    waited_ms: int | None = Field(
        default=None, description="A push: from the change being written to the channel being told."
    )


class SyncHistoryOut(BaseModel):
    entries: list[SyncEntryOut]


class JobOut(BaseModel):
    job_id: str
    state: str
    channel: str | None
    total: int
    done: int
    applied: int
    failed: int
    created_at: str
    updated_at: str
    purpose: str = Field(
        description="sync (a forced push), preview (read only), go_live, import, or pos_import (web orders, by hand)."
    )
    differing: int = Field(description="preview: SKUs whose channel number would change.")
    reasons: dict[str, int] = Field(
        description="preview: differing SKUs by reason; import: report lines by kind; pos_import: orders by result."
    )
    options: list[str] = Field(default_factory=list, description="import: check, add_new; pos_import: since=, scope=.")


class JobsOut(BaseModel):
    jobs: list[JobOut]


class PreviewLineOut(BaseModel):
    sku: str
    listing_id: str
    shown: int | None = Field(description="What the channel shows; null: the listing is unknown there.")
    would_set: int | None = Field(description="What Omnistock would set; null: nothing can be pushed.")
    reasons: list[str] = Field(description="ledger, paused, allocation, buffer, cap, unmapped.")


class PreviewOut(BaseModel):
    channel: str
    preview: JobOut | None = Field(description="The latest preview's progress and totals; null: none yet.")
    lines: list[PreviewLineOut]
    next: str | None = Field(description="Pass as `after` for the next page; null: the last page.")


class OrderLineOut(BaseModel):
    line_id: str
    sku: str
    title: str
    quantity: int
    fulfilled: int
    taken: int = Field(description="Units the line takes out of stock now.")
    location: str
    unmapped: str


class ShipmentOut(BaseModel):
    shipment_id: str
    carrier: str
    service: str
    tracking_number: str
    shipped_at: str
    lines: dict[str, int]
    state: str
    fulfillment_id: str
    error: str


class PosSaleOut(BaseModel):
    register_id: str
    number: int = Field(description="0: the order's sale; 1, 2, ...: later returns or added units.")
    sale_id: str = Field(description="The sale's id in the POS, chosen by Omnistock before the call.")
    state: str = Field(description="calling (recorded; its call is under way or its answer lost), created, refused")
    units: dict[str, int] = Field(description="Units per SKU (negative: returned).")
    receipt: str
    version: int
    paid: bool
    confirmed: bool = Field(description="The order's pending units there were confirmed at the sale's version.")
    error: str
    attempts: int


class OrderOut(BaseModel):
    channel: str
    order_id: str
    number: str
    status: str
    modified_at: str
    updated_at: str = Field(description="The channel's own time of the snapshot stored.")
    lines: list[OrderLineOut]
    shipments: list[ShipmentOut]
    on_hold: bool | None = Field(
        False, description="A fulfillment hold (None: not known yet, so ShipStation is not offered it until it is)."
    )
    pos_sales: list[PosSaleOut] = Field(
        default_factory=list,
        description="The sales and returns written into the POS for it (web orders into Lightspeed).",
    )


class RefreshOut(BaseModel):
    channel: str
    order_id: str
    modified_at: str


class ShipmentResultOut(BaseModel):
    outcome: Literal["applied", "duplicate"]
    shipment: ShipmentOut


class ChannelAvailabilityOut(BaseModel):
    channel: str
    sku: str
    available: int
    by_location: dict[str, int]


class ErrorOut(BaseModel):
    message: str


class Problem(BaseModel):
    field: str
    problem: str


class InvalidOut(BaseModel):
    message: str
    errors: list[Problem]


# ==================================================================== mapping
def quantities_out(q: Quantities | StockLevel) -> QuantitiesOut:
    return QuantitiesOut(on_hand=q.on_hand, held=q.held, pending=q.pending, available=q.available)


def level_out(level: StockLevel) -> LevelOut:
    return LevelOut(
        location=level.location,
        on_hand=level.on_hand,
        held=level.held,
        pending=level.pending,
        available=level.available,
        shortfall=level.shortfall,
        master_version=level.master_version,
        master_at=level.master_at,
        pending_lots=[
            LotOut(lot=key, qty=lot.qty, sold_at=lot.sold_at, applied_version=lot.applied_version)
            for key, lot in sorted(level.lots.items())
        ],
        updated_at=level.updated_at,
    )


def movement_out(m: Movement) -> MovementOut:
    return MovementOut(
        at=m.at,
        location=m.location,
        kind=m.kind.value,
        source=m.source,
        event_id=m.event_id,
        note=m.note,
        before=quantities_out(m.before),
        after=quantities_out(m.after),
    )


def catalog_out(entry: CatalogEntry) -> CatalogOut:
    return CatalogOut(
        sku=entry.sku,
        title=entry.title,
        locations=list(entry.locations),
        listings=entry.listings,
        updated_at=entry.updated_at,
    )


def stock_out(explained: StockExplained) -> StockOut:
    return StockOut(
        sku=explained.catalog.sku,
        catalog=catalog_out(explained.catalog),
        available=explained.total_available,
        locations=[level_out(level) for level in explained.levels],
        movements=[movement_out(m) for m in explained.movements],
    )


def channel_out(channel: Channel) -> ChannelOut:
    return ChannelOut(
        channel=channel.name,
        locations=list(channel.locations),
        platform=channel.platform,
        target_location=channel.target_location,
        buffer=channel.buffer,
        max_shown=channel.max_shown,
        auto_sync=channel.auto_sync,
        auto_sync_by_entry={way: channel.auto_sync_for(way) for way in ENTRY_WAYS},
        master_location=channel.master_location,
        mode=channel.mode,
    )


def policy_out(sku: str, channel: str, policy: SkuPolicy) -> PolicyOut:
    return PolicyOut(sku=sku, channel=channel, **asdict(policy))


def sync_entry_out(entry: SyncEntry) -> SyncEntryOut:
    from omnistock.problems import hint, readable

    fields = {name: getattr(entry, name) for name in SyncEntryOut.model_fields if name not in ("hint", "message")}
    return SyncEntryOut(**fields, hint=hint(entry.result), message=readable(entry.error))


def job_out(job: Job) -> JobOut:
    return JobOut(**{name: getattr(job, name) for name in JobOut.model_fields})


def preview_out(channel: str, job: Job | None, lines: list[PreviewLine], limit: int) -> PreviewOut:
    return PreviewOut(
        channel=channel,
        preview=job_out(job) if job else None,
        lines=[PreviewLineOut(**asdict(line) | {"reasons": list(line.reasons)}) for line in lines],
        next=lines[-1].sku if len(lines) == limit else None,
    )


def import_lines_out(job: Job, kind: str, lines: list[ImportLine], limit: int) -> ImportLinesOut:
    return ImportLinesOut(
        job=job_out(job),
        kind=kind,
        lines=[ImportLineOut(**asdict(line)) for line in lines],
        next=lines[-1].sku if len(lines) == limit else None,
    )


def inventory_out(page: InventoryPage, cells: dict[str, dict[str, ChannelCell]] | None = None) -> InventoryOut:
    rows = []
    for entry, levels in page.rows:
        located = [
            LevelSummaryOut(
                location=level.location,
                on_hand=level.on_hand,
                held=level.held,
                pending=level.pending,
                available=level.available,
            )
            for level in levels
        ]
        total = max(0, sum(level.available for level in levels))
        rows.append(
            InventoryRowOut(
                sku=entry.sku,
                title=entry.title,
                listings=dict(entry.listings),
                available=total,
                locations=located,
                channels=None
                if cells is None
                else {name: ChannelCellOut(**asdict(cell)) for name, cell in cells.get(entry.sku, {}).items()},
            )
        )
    following = page.cursor or (rows[-1].sku if rows else None)
    return InventoryOut(skus=rows, next=None if page.last else following)


def setting_out(view: SettingView, config: Config) -> SettingOut:
    stored = view.stored
    return SettingOut(
        name=view.spec.name,
        description=view.spec.description,
        value=view.value,
        default=view.spec.default(config),
        updated_at=stored.updated_at if stored else None,
        updated_by=stored.updated_by if stored else None,
    )


def audit_out(month: str, entries: list[AuditEntry], limit: int) -> AuditOut:
    return AuditOut(
        month=month,
        entries=[AuditEntryOut(at=e.at, who=e.who, subject=e.subject, before=e.before, after=e.after) for e in entries],
        next=entries[-1].key if len(entries) == limit else None,
    )


def hold_out(hold: Hold) -> HoldOut:
    return HoldOut(
        hold_id=hold.hold_id,
        sku=hold.sku,
        location=hold.location,
        qty=hold.qty,
        state=hold.state.value,
        expires_at=hold.expires_at,
        created_at=hold.created_at,
        ended_at=hold.ended_at,
        ended_by=hold.ended_by,
    )


_MESSAGES = {
    LedgerOutcome.APPLIED: "applied",
    LedgerOutcome.DUPLICATE: "already applied; nothing changed",
    LedgerOutcome.REFUSED: "refused; nothing changed",
    LedgerOutcome.STALE: "older than the count already applied; nothing changed",
}


def result_out(result: StockResult) -> ResultOut:
    message = result.detail or _MESSAGES[result.outcome]
    level = level_out(result.stock) if result.stock and result.outcome is LedgerOutcome.APPLIED else None
    return ResultOut(outcome=result.outcome.value, message=message, level=level)


def hold_result_out(result: HoldResult) -> HoldResultOut:
    available = None
    if result.outcome is LedgerOutcome.REFUSED and result.hold is None:
        available = max(0, result.stock.available) if result.stock else 0
    return HoldResultOut(
        outcome=result.outcome.value,
        message=result.detail or _MESSAGES[result.outcome],
        hold=hold_out(result.hold) if result.hold else None,
        available=available,
    )


def shipment_out(shipment: Shipment) -> ShipmentOut:
    return ShipmentOut(**{name: getattr(shipment, name) for name in ShipmentOut.model_fields})


def order_out(kept: OrderFile) -> OrderOut:
    if kept.stored is None:
        raise ValueError("no order")
    order = kept.stored.order
    lines = []
    for line in order.lines:
        record = kept.lines.get(line.line_id)
        lines.append(
            OrderLineOut(
                line_id=line.line_id,
                sku=line.sku,
                title=line.title,
                quantity=line.quantity,
                fulfilled=line.fulfilled,
                taken=record.taken if record else 0,
                location=record.location if record else "",
                unmapped=record.unmapped if record else "",
            )
        )
    return OrderOut(
        channel=order.channel,
        order_id=order.order_id,
        number=order.number,
        status=kept.stored.status.value,
        modified_at=kept.stored.modified_at,
        updated_at=order.updated_at,
        lines=lines,
        shipments=[shipment_out(s) for s in kept.shipments],
        on_hold=order.on_hold,
        pos_sales=[
            PosSaleOut(
                register_id=d.register_id,
                number=d.number,
                sale_id=d.sale_id,
                state=d.state,
                units=d.units,
                receipt=d.receipt,
                version=d.version,
                paid=d.paid,
                confirmed=d.confirmed,
                error=d.error,
                attempts=d.attempts,
            )
            for d in kept.pos_sales
        ],
    )


def live_event_out(event: dict[str, Any]) -> LiveEventOut:
    return LiveEventOut.model_validate({name: event.get(name) for name in LiveEventOut.model_fields})


def import_out(report: ImportReport) -> CatalogImportOut:
    fields = asdict(report)
    return CatalogImportOut(**fields)
