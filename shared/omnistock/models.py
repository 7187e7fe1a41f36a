"""The ledger's vocabulary. Plain dataclasses: cheap to build, easy to compare in tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# The largest master version taken anywhere (a signed 64-bit integer, what POS systems count
# in): a version past it would make every later count stale, and nothing real comes near it.
MAX_VERSION = 2**63 - 1


class Outcome(StrEnum):
    APPLIED = "applied"  # the event moved stock (or changed a hold) now
    DUPLICATE = "duplicate"  # the event was applied before; nothing changed
    REFUSED = "refused"  # not enough available; nothing changed
    STALE = "stale"  # an older master report than the one applied; nothing changed


class HoldState(StrEnum):
    ACTIVE = "active"
    RELEASED = "released"
    EXPIRED = "expired"
    CHECKED_OUT = "checked_out"


class MovementKind(StrEnum):
    COUNT = "count"
    ADJUSTMENT = "adjustment"
    HOLD = "hold"
    RELEASE = "release"
    EXPIRY = "expiry"
    CHECKOUT = "checkout"
    SALE = "sale"
    RESTOCK = "restock"
    CONFIRMATION = "confirmation"
    RETURN = "return"  # an order line gave units back (edited down, cancelled, refunded with restock)


@dataclass(frozen=True)
class Cause:
    """Why stock moved: which source reported which event, and what kind of movement it is."""

    source: str
    event_id: str
    kind: MovementKind
    note: str = ""

    @property
    def key(self) -> str:
        return f"{self.source}:{self.event_id}"


@dataclass(frozen=True)
class Lot:
    """Units sold through a channel and not yet known to be in a master report.

    ``applied_version`` is the master's version at which the master itself reflects the
    sale; until it is known the lot stays pending whatever the master reports.
    """

    qty: int
    sold_at: str
    applied_version: int | None = None


@dataclass(frozen=True)
class StockLevel:
    sku: str
    location: str
    on_hand: int = 0
    held: int = 0
    pending: int = 0
    available: int = 0
    master_version: int | None = None
    master_at: str | None = None
    lots: dict[str, Lot] = field(default_factory=dict)
    rev: int = 0
    updated_at: str | None = None

    @property
    def shortfall(self) -> int:
        """Units promised (held or pending) beyond what the master counted."""
        return max(0, -self.available)


@dataclass(frozen=True)
class Hold:
    hold_id: str
    sku: str
    location: str
    qty: int
    state: HoldState
    expires_at: str
    created_at: str
    source: str
    event_id: str
    ended_at: str | None = None
    ended_by: str | None = None


@dataclass(frozen=True)
class CatalogEntry:
    sku: str
    locations: tuple[str, ...]
    listings: dict[str, str] = field(default_factory=dict)
    title: str = ""
    rev: int = 0
    updated_at: str | None = None


@dataclass(frozen=True)
class ParkedCount:
    """A master count that arrived before its SKU was in the catalog at its location: kept,
    and applied (by its version, like any count) once the SKU is there."""

    sku: str
    location: str
    on_hand: int
    version: int
    source: str
    event_id: str


LIVE, SHADOW = "live", "shadow"
# The ways a SKU enters the catalog; each channel has an auto-sync rule for each (see
# Channel.auto_sync_for). "order": created from an order line, its quantity unknown.
ENTRY_WAYS = ("manual", "file", "channel", "order")
DEFAULT_ENTRY_RULES = {"order": False}  # an order-created SKU's unknown quantity is never pushed as 0


@dataclass(frozen=True)
class Channel:
    """A place that sells: the ledger locations it sells from, where its number goes on the
    platform, and its default policies (see omnistock.policy)."""

    name: str
    locations: tuple[str, ...]
    platform: str = ""  # "shopify", ...; empty: the channel is not pushed to
    target_location: str = ""  # the platform's location id that shows the channel's number
    buffer: int = 0
    max_shown: int | None = None
    auto_sync: bool = True  # the rule for new SKUs
    updated_at: str | None = None
    # The ledger location whose physical truth the platform's own counts at target_location
    # are (the shop has no POS there); empty: the platform only sells.
    master_location: str = ""
    # "shadow": the channel is read and previewed, never written; "live": pushed. Channels
    # stored before shadow mode existed are live.
    mode: str = "live"
    # Auto sync for new SKUs by the way they entered the catalog (ENTRY_WAYS); a way not named
    # follows ``auto_sync``, except "order", off unless named.
    entry_rules: dict[str, bool] = field(default_factory=dict)

    def auto_sync_for(self, entry_way: str) -> bool:
        rules = {**DEFAULT_ENTRY_RULES, **self.entry_rules}
        return rules.get(entry_way, self.auto_sync)

    @property
    def pushed(self) -> bool:
        return bool(self.platform and self.target_location and self.mode == LIVE)


@dataclass(frozen=True)
class Quantities:
    on_hand: int
    held: int
    pending: int
    available: int


@dataclass(frozen=True)
class Movement:
    sku: str
    location: str
    at: str
    rev: int
    source: str
    event_id: str
    kind: MovementKind
    note: str
    before: Quantities
    after: Quantities


@dataclass(frozen=True)
class StockResult:
    outcome: Outcome
    stock: StockLevel | None
    detail: str = ""


@dataclass(frozen=True)
class HoldResult:
    outcome: Outcome
    hold: Hold | None
    stock: StockLevel | None = None
    detail: str = ""


@dataclass(frozen=True)
class StockExplained:
    catalog: CatalogEntry
    levels: tuple[StockLevel, ...]
    movements: tuple[Movement, ...]

    @property
    def total_available(self) -> int:
        return max(0, sum(level.available for level in self.levels))


@dataclass(frozen=True)
class Job:
    """A Sync Now job: a forced push of chosen SKUs (or all) to one channel (or all), in chunks."""

    job_id: str
    channel: str | None  # None: every pushed channel
    skus: tuple[str, ...] | None  # None: the whole catalog
    state: str  # running | done
    total: int
    done: int
    applied: int
    failed: int
    cursor: str  # the last SKU pushed ("" before the first chunk)
    created_at: str
    updated_at: str
    # "sync": a forced push; "preview": the channel read and compared, nothing written (its
    # differences kept apart); "go_live": a forced push of one preview's differences;
    # "import": a platform's catalog read page by page (channel_import.py); "pos_import": web
    # orders written into the POS by hand (channels/lightspeed/backfill.py).
    purpose: str = "sync"
    source: str = ""  # go_live: the preview job whose differences it pushes
    differing: int = 0  # preview: SKUs whose channel number differs from what would be set
    reasons: dict[str, int] = field(default_factory=dict)  # preview: differing SKUs by reason; import: lines by kind
    options: tuple[str, ...] = ()  # import: "check" (report only), "add_new" (SKUs only on the platform join)


POS_IMPORT = "pos_import"  # a job's purpose: web orders into the POS, by hand


@dataclass(frozen=True)
class SyncEntry:
    """One attempt to tell a channel something, kept in the sync history."""

    sku: str
    channel: str
    attempt: str  # the push call's idempotency key
    at: str
    before: int | None  # what the channel was believed to show
    after: int  # what Omnistock asked it to show
    why: str
    result: str  # applied | deferred | failed | skipped
    error: str = ""
    waited_ms: int | None = None  # a push: from the change being written to the channel being told

    @property
    def failed(self) -> bool:
        return self.result == "failed"


@dataclass(frozen=True)
class ImportLine:
    """One SKU in a catalog import's report: what the import found, or did, and why."""

    kind: str  # channel_import.KINDS
    sku: str
    detail: str = ""
    listing_id: str = ""


@dataclass(frozen=True)
class MasteredProduct:
    """What a product master last wrote of a SKU to the other side: the master's version of it
    (stale reports never win), its fields' fingerprint (an unchanged product costs no call), and
    the ids it has there (so the next change updates what the first made)."""

    sku: str
    version: int  # the master's modified time of what was written (ms)
    fingerprint: str
    product_id: str = ""  # the other side's ids: Shopify product, variant, inventory item;
    variant_id: str = ""  # Unleashed's product Guid (in product_id)
    item_id: str = ""
    made: bool = False  # made by Omnistock (so its every field is Omnistock's to write)
