"""Orders from every channel: one shape, and the rule for how many units each line takes.

A channel reports an order as a snapshot (a webhook, or the poll that makes up for missed
ones) and refunds as separate notices. Both arrive duplicated, late and in any order, so a
line's stock effect is never "apply this event" but "make the line take what the newest
facts say it takes":

- not cancelled: the units ordered (after edits) minus the units refunded *with restock*;
- cancelled: the units already shipped (they left the building) minus those returned; every
  unfulfilled unit is released, whatever the cancel's own restock choice.

Refunds are facts that never go stale; the rest of a snapshot is ordered by the channel's own
``updated_at``, so an older snapshot never replaces a newer one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

# Refund line restock types that put units back (Shopify RefundLineItemRestockType).
RESTOCKING = frozenset({"cancel", "return", "legacy_restock"})
RETURNING = frozenset({"return", "legacy_restock"})  # units that were shipped and came back


class OrderStatus(StrEnum):
    """Omnistock's order states (ShipStation's export maps these to its own)."""

    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_SHIPMENT = "awaiting_shipment"
    PARTIALLY_SHIPPED = "partially_shipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    ON_HOLD = "on_hold"


@dataclass(frozen=True)
class Address:
    name: str = ""
    company: str = ""
    street1: str = ""
    street2: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = ""
    phone: str = ""


@dataclass(frozen=True)
class OrderLine:
    line_id: str
    sku: str  # "" when the channel's line has none (custom items)
    title: str
    quantity: int  # ordered, after edits (refunded units included: refunds are counted apart)
    fulfilled: int = 0  # units shipped so far
    unit_price: str = "0.00"
    tracked: bool = True  # False: the channel does not track stock for it; it moves nothing
    requires_shipping: bool = True
    variant_id: str = ""
    hold_id: str = ""  # the cart hold (live sale) whose units the line checks out, if any


@dataclass(frozen=True)
class RefundLine:
    refund_line_id: str
    line_id: str
    quantity: int
    restock_type: str  # cancel | return | legacy_restock | no_restock


@dataclass(frozen=True)
class ChannelOrder:
    """A channel's order as of ``updated_at`` (UTC ISO-8601, the channel's own clock)."""

    channel: str
    order_id: str
    number: str  # what people call it: "#1042"
    created_at: str
    updated_at: str
    lines: tuple[OrderLine, ...]
    refunds: tuple[RefundLine, ...] = ()
    financial_status: str = ""
    cancelled: bool = False
    # A fulfillment hold. None: this snapshot cannot say (a Shopify REST body); the last known
    # reading stands, and until there is one ShipStation is not offered the order (it could be
    # held: it must never be exported as paid).
    on_hold: bool | None = False
    email: str = ""
    note: str = ""
    tags: str = ""
    currency: str = ""
    total: str = "0.00"
    tax: str = "0.00"
    shipping: str = "0.00"
    shipping_method: str = ""
    ship_to: Address | None = None
    bill_to: Address | None = None
    channel_ref: str = ""  # the channel's API id (e.g. a Shopify GID), for fulfillments
    source_version: int = 0  # the source's own version of this snapshot, where it has one (POS sales)


@dataclass(frozen=True)
class LineFacts:
    """What the ledger knows about one order line, merged from every snapshot and refund."""

    sku: str = ""
    quantity: int | None = None  # None until a snapshot of the order has arrived
    fulfilled: int = 0
    cancelled: bool = False
    tracked: bool = True
    as_of: str = ""  # updated_at of the snapshot the fields above come from
    restocks: dict[str, tuple[int, str]] = field(default_factory=dict)  # refund line -> (qty, type)

    def with_snapshot(self, line: OrderLine, cancelled: bool, as_of: str) -> LineFacts:
        if as_of < self.as_of or (as_of == self.as_of and self.cancelled and not cancelled):
            return self  # an older snapshot (or one as old that would undo a cancel): only its refunds count
        # A line the channel once tracked stays tracked: a variant deleted or untracked later
        # does not bring back units that were sold.
        tracked = line.tracked or (self.tracked and self.quantity is not None)
        return LineFacts(line.sku, line.quantity, line.fulfilled, cancelled, tracked, as_of, self.restocks)

    def with_refunds(self, refunds: list[RefundLine]) -> LineFacts:
        restocks = dict(self.restocks) | {r.refund_line_id: (r.quantity, r.restock_type) for r in refunds}
        return LineFacts(self.sku, self.quantity, self.fulfilled, self.cancelled, self.tracked, self.as_of, restocks)

    def units_taken(self) -> int:
        """How many units the line takes out of stock, from what is known now."""
        if self.quantity is None or not self.tracked:
            return 0
        if self.cancelled:
            returned = sum(qty for qty, kind in self.restocks.values() if kind in RETURNING)
            return max(0, min(self.fulfilled, self.quantity) - returned)
        restocked = sum(qty for qty, kind in self.restocks.values() if kind in RESTOCKING)
        return max(0, self.quantity - restocked)


def order_status(order: ChannelOrder, shipped: dict[str, int] | None = None) -> OrderStatus:
    """The order's state from the channel's facts and the shipments recorded in Omnistock
    (``shipped``: units per line), whichever has got further."""
    if order.cancelled or order.financial_status in ("refunded", "voided"):
        return OrderStatus.CANCELLED
    if order.on_hold:
        return OrderStatus.ON_HOLD
    restocked: dict[str, int] = {}
    for refund in order.refunds:
        if refund.restock_type in RESTOCKING:
            restocked[refund.line_id] = restocked.get(refund.line_id, 0) + refund.quantity
    done = {}
    for line in order.lines:
        wanted = line.quantity - restocked.get(line.line_id, 0)
        if line.requires_shipping and wanted > 0:
            done[line.line_id] = (max(line.fulfilled, (shipped or {}).get(line.line_id, 0)), wanted)
    if done and all(units >= wanted for units, wanted in done.values()):
        return OrderStatus.SHIPPED
    if any(units > 0 for units, _ in done.values()):
        return OrderStatus.PARTIALLY_SHIPPED
    if order.financial_status in ("pending", "authorized", "expired", ""):
        return OrderStatus.AWAITING_PAYMENT
    return OrderStatus.AWAITING_SHIPMENT


@dataclass(frozen=True)
class LineReport:
    line_id: str
    sku: str
    before: int
    after: int
    result: str  # moved | unchanged | unmapped | untracked | waiting
    detail: str = ""


@dataclass(frozen=True)
class IntakeReport:
    order_id: str
    saved: bool  # the order record took this snapshot (False: a newer one is stored)
    lines: tuple[LineReport, ...] = ()

    @property
    def moved(self) -> int:
        return sum(1 for line in self.lines if line.result == "moved")


def needs_shipping(order: ChannelOrder) -> bool:
    """Whether the order belongs in the shipping export: some line ships something."""
    return any(line.requires_shipping and line.quantity > 0 for line in order.lines)


# ==================================================================== records kept of orders
@dataclass(frozen=True)
class StoredOrder:
    order: ChannelOrder
    status: OrderStatus
    modified_at: str
    rev: int


@dataclass(frozen=True)
class LineRecord:
    """One order line as the ledger applied it: ``taken`` units out of stock at ``location``."""

    channel: str
    order_id: str
    line_id: str
    facts: LineFacts = field(default_factory=LineFacts)
    location: str = ""  # chosen when the line first takes units
    sku: str = ""  # the SKU its units were taken from: what they go back to, whatever the line says later
    hold: str = ""  # the hold whose units it checked out (their lot is the hold's)
    taken: int = 0
    unmapped: str = ""  # why the line moves nothing although it should ("" when mapped)
    rev: int = 0


@dataclass(frozen=True)
class Shipment:
    channel: str
    order_id: str
    shipment_id: str
    carrier: str
    service: str
    tracking_number: str
    shipped_at: str
    lines: dict[str, int]  # line id -> units shipped
    state: str = "pending"  # pending | sending | sent | failed | not_sent (the channel takes none)
    fulfillment_id: str = ""
    error: str = ""
    attempts: int = 0
    claimed_at: str = ""  # when the sender now at work took it (state "sending")


@dataclass(frozen=True)
class OrderFile:
    """Everything kept about one order, read with one query on its partition."""

    stored: StoredOrder | None
    lines: dict[str, LineRecord]
    shipments: list[Shipment]
    pos_sales: list[PosDocument] = field(default_factory=list)  # what the POS was told of it
    erp_orders: list[PosDocument] = field(default_factory=list)  # what the ERP was told of it

    def shipped(self) -> dict[str, int]:
        """Units per line that shipments recorded in Omnistock have shipped."""
        units: dict[str, int] = {}
        for shipment in self.shipments:
            for line_id, qty in shipment.lines.items():
                units[line_id] = units.get(line_id, 0) + qty
        return units


@dataclass(frozen=True)
class LineMove:
    """An order line's stock change at one location: ``sold`` units into a new pending lot
    (one per increase, so a lot the master has confirmed never grows), or units released:
    out of the line's lots (``taken``: lot key, units it holds now, units out) and, for
    units whose lots a count already cleared, ``to_on_hand`` back onto the counted units."""

    sku: str
    location: str
    sold: int = 0
    new_lot: str = ""
    taken: tuple[tuple[str, int, int], ...] = ()
    to_on_hand: int = 0
    applied_version: int | None = None

    @property
    def from_lots(self) -> int:
        return sum(units for _, _, units in self.taken)


@dataclass(frozen=True)
class PosDocument:
    """One sale (``units`` positive) or return (negative) for one register of one web order."""

    channel: str
    order_id: str
    register_id: str
    number: int  # 0: the order's sale; 1, 2, ...: later changes (returns, added units)
    sale_id: str
    units: dict[str, int] = field(default_factory=dict)  # SKU -> units the document carries
    state: str = "calling"  # calling | created | refused
    attempts: int = 0
    claimed_at: str = ""
    version: int = 0  # the POS's version for the sale, once created
    receipt: str = ""
    paid: bool = False
    confirmed: bool = False  # the order's pending lots were confirmed at ``version``
    error: str = ""
    at: str = ""  # when it was recorded
    retry_at: str = ""  # a refused one: when the schedule tries it again (backing off)
    destination: str = "POSSALE"  # POSSALE (a POS sale; register_id a register) | ERPORDER (an ERP
    # sales order; register_id its warehouse code)

    @property
    def key(self) -> str:
        register = self.register_id.replace("%", "%25").replace("#", "%23")
        return f"{self.destination}#{register}#{self.number:04d}"
