"""Sales channels behind one small interface: what the push engine needs from a platform.

One module per platform (``shopify``, ...) implements ``ChannelPort``. The engine decides
what to write; a port only talks to its platform: batching to its limits, honouring its
rate limits, and reporting per-item outcomes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from omnistock.connections import Check
    from omnistock.models import Channel, ImportLine
    from omnistock.settings import SettingSpec
    from omnistock.wiring import Wiring


@dataclass(frozen=True)
class Platform:
    """What the ledger and the admin API need to know of a platform channels can be (one
    ``PLATFORM`` in each platform's package; ``registry`` lists them)."""

    name: str
    title: str
    # Its webhooks and polls find the stack's channel of it by platform: a second would take
    # the first one's deliveries over.
    one_per_stack: bool = False
    # The location a channel of it is pushed at, when it keeps one number per listing.
    nominal_location: str = ""
    # What a channel of it must name as its target_location ("" when it needs none).
    target_location_needed: str = ""


@dataclass(frozen=True)
class Connector:
    """What the wiring needs of one platform's package (its ``wiring`` module defines one;
    ``registry`` lists them): its section of the configuration, and its ports."""

    name: str
    settings_from_env: Callable[[Mapping[str, str]], Any]
    channel: Platform | None = None  # set when the stack's channels can be of this platform
    stock_port: Callable[[Wiring], ChannelPort | None] | None = None  # None: never pushed to
    orders_port: Callable[[Wiring], OrdersPort | None] | None = None  # None: told no shipments
    doctor: Callable[[Wiring], list[Check]] | None = None  # its connection checks (GET /connections)
    activity: tuple[str, ...] = ()  # "poll", "delivery": work the connection check says it last saw
    settings: tuple[SettingSpec, ...] = ()  # what a retailer may change after deploying (settings.py)
    # Where a catalog import reads it: a channel's listings (mapped by the core), or a master's
    # products and counts (applied by its own importer).
    catalog_reader: Callable[[Wiring], CatalogReader | None] | None = None
    catalog_importer: Callable[[Wiring], CatalogImporter | None] | None = None


def refusal_words(read_json: Callable[[], Any], *fields: str) -> str:
    """A platform's own words for a refusal (the first of ``fields`` its JSON answer has), short:
    they name fields, not customers. "" when the answer is not such JSON."""
    try:
        body = read_json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    return str(next((body[name] for name in fields if body.get(name)), ""))[:200]


def json_object(read_json: Callable[[], Any], where: str) -> dict[str, Any]:
    """A platform's answer as the JSON object it must be; anything else is an answer nobody can
    act on (``ChannelUnavailable``: retried, and looked at before anything is written again)."""
    try:
        body = read_json()
    except ValueError:
        raise ChannelUnavailable(f"{where} answered something that is not JSON") from None
    if not isinstance(body, dict):
        raise ChannelUnavailable(f"{where} answered something that is not an object")
    return body


class ChannelUnavailable(Exception):
    """The platform failed as a whole (5xx, timeout, throttling that outlasted the retries);
    nothing can be said about the writes of the call. Retried later."""


class ChannelRefused(ChannelUnavailable):
    """The platform refused the call in a way retrying cannot change (credentials, scopes, a
    request it does not accept): a job that meets it ends, saying why."""


@dataclass(frozen=True)
class QuantityWrite:
    """Set what the channel may sell of one listing at one of its locations."""

    listing_id: str  # the channel's id for the SKU (Shopify: inventory item GID)
    location_id: str  # the channel's location (Shopify: location GID)
    quantity: int
    # Compare-and-set: the value the channel is believed to show now. None writes
    # unconditionally (used only when lowering, which is always safe).
    change_from: int | None


@dataclass(frozen=True)
class WriteOutcome:
    listing_id: str
    location_id: str
    applied: bool
    stale: bool = False  # compare-and-set failed: the channel's value moved on its own
    error: str = ""  # a per-item refusal (unknown item, not stocked at location, ...)


class ChannelPort(Protocol):
    max_batch: int  # most quantities one call may carry
    # True when the platform's own number already leaves out the units in its carts, and the
    # write sets its shelf (what it may sell plus what its carts hold): Omnistock then adds
    # back the units it holds for this channel's carts (CommentSold). Optional; False if absent.
    # writes_shelf: bool

    def set_quantities(self, writes: list[QuantityWrite], idempotency_key: str) -> list[WriteOutcome]:
        """Apply up to ``max_batch`` writes in one call. Returns one outcome per write, in
        order. Raises ChannelUnavailable when the call as a whole failed."""
        ...

    def read_quantities(self, items: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        """The channel's current sellable quantity per (listing id, location id); items it
        does not know are missing from the answer."""
        ...


@dataclass(frozen=True)
class FulfillmentRequest:
    """Tell the channel an order shipped: which lines, how many, with which tracking."""

    order_ref: str  # the channel's id for the order (Shopify: order GID)
    lines: dict[str, int]  # the channel's line id -> units shipped
    carrier: str
    service: str
    tracking_number: str


class OrdersPort(Protocol):
    def fulfil(self, request: FulfillmentRequest) -> str:
        """Create the fulfillment once (a repeat finds the first) and return its id ("" when the
        channel had nothing left to fulfil for these lines). Raises ChannelUnavailable."""
        ...

    def orders_since(self, since: str, after: str | None) -> tuple[list[dict[str, object]], str | None]:
        """One page of orders updated at or after ``since`` (UTC ISO), oldest first; the raw
        order documents and the cursor of the next page (None after the last)."""
        ...

    def order_of_fulfillment_order(self, fulfillment_order: str) -> dict[str, Any] | None:
        """The raw order document a fulfillment order belongs to (None: gone)."""
        ...


@dataclass(frozen=True)
class SourceItem:
    """One sellable thing on a platform, as a catalog import reads it."""

    sku: str  # "" when the platform has none for it
    title: str
    variant_id: str  # what its orders name (Shopify: variant GID)
    listing_id: str  # what pushes write to (Shopify: inventory item GID)
    tracked: bool = True  # the platform tracks its inventory (untracked ones are never pushed)
    shown: int | None = None  # what the platform shows at the channel's location; None: not stocked there
    shown_at: str = ""  # when that number last changed (UTC ISO, microseconds), as the platform says


@dataclass(frozen=True)
class SourcePage:
    items: list[SourceItem]
    cursor: str  # the platform's cursor after this page
    last: bool


class CatalogReader(Protocol):
    """A channel's listings, page by page (a catalog import maps them by SKU)."""

    @property
    def calls(self) -> int:
        """API requests made."""
        ...

    def catalog_page(self, channel: Channel, cursor: str) -> SourcePage:
        """The page after ``cursor`` ("" for the first). Raises ChannelUnavailable."""
        ...


@dataclass(frozen=True)
class ImportStep:
    read: int  # records read
    cursor: str
    last: bool
    lines: list[ImportLine]


class CatalogImporter(Protocol):
    """A master's catalog (the POS): products become catalog entries, their counts counts."""

    def import_page(self, cursor: str, *, check: bool, add_new: bool) -> ImportStep:
        """Read and apply (or, with ``check``, only report) the page after ``cursor``."""
        ...
