"""Shop orders out to ShipStation: POS sales marked for delivery (and, as a setting, parked or on
account ones: X-Series' counterparts of the "invoices or orders" choice) become orders in the
order store, channel ``lightspeed``, so the ShipStation export carries them by their modified time
with their customer and delivery address.

- The sale's ``version`` orders its snapshots: a late or repeated delivery changes nothing, and any
  newer save of the sale in the POS (a re-save included) exports it again.
- Its lines move no stock here (``tracked`` false): the POS's own count does.
- A sale dispatched in the POS (``DISPATCHED_CLOSED``) exports as shipped; one voided, deleted or
  closed at the till without delivery exports as cancelled, so ShipStation never ships it.
- Sales Omnistock itself wrote (web orders, ``source`` OMNISTOCK) are exported under their own
  channel already, never twice.

A ShipStation ship notice for such an order is recorded once, like any; it is not written back to
the POS (marking a sale dispatched through the API is not confirmed), so staff mark it dispatched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from omnistock.clock import iso, utc_now
from omnistock.errors import StoreUnavailable
from omnistock.orders import ChannelOrder, OrderLine, order_status

if TYPE_CHECKING:
    from omnistock.channels.lightspeed.webhooks import PosSale
    from omnistock.store.listing_store import ListingStore
    from omnistock.store.order_store import OrderStore

SOURCE = "lightspeed"
KINDS = {"delivery": ("AWAITING_DISPATCH",), "parked": ("SAVED",), "on_account": ("ONACCOUNT", "LAYBY")}
DISPATCHED = "DISPATCHED_CLOSED"
OURS = "OMNISTOCK"  # the web orders Omnistock writes into the POS


@dataclass(frozen=True)
class DeliverySettings:
    export: bool = False
    include: tuple[str, ...] = ("delivery",)

    @property
    def statuses(self) -> frozenset[str]:
        return frozenset(status for kind in self.include for status in KINDS.get(kind, ()))


def checked_settings(value: Any) -> dict[str, Any]:
    """The ``lightspeed.shipstation`` setting as stored; ValueError saying what is wrong."""
    if not isinstance(value, dict) or set(value) - {"export", "include"}:
        raise ValueError('{"export": true|false, "include": ["delivery", "parked", "on_account"]}')
    if not isinstance(value.get("export", False), bool):
        raise ValueError("export is true or false")
    include = value.get("include", ["delivery"])
    if not isinstance(include, list) or not include or any(kind not in KINDS for kind in include):
        raise ValueError(f"include is a non-empty list of {', '.join(KINDS)}")
    return dict(value)


def settings_of(value: dict[str, Any]) -> DeliverySettings:
    return DeliverySettings(bool(value.get("export")), tuple(value.get("include") or ("delivery",)))


class PosDeliveries:
    def __init__(
        self,
        orders: OrderStore,
        listings: ListingStore,
        settings: DeliverySettings,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.orders, self.listings, self.settings, self.clock = orders, listings, settings, clock

    def sale(self, sale: PosSale) -> str:
        """Export (or update) the sale for shipping; what happened: exported, stale, or ""
        when it is not one to ship."""
        if not self.settings.export or sale.source == OURS:
            return ""
        stored = self.orders.order(SOURCE, sale.sale_id)
        if stored is None and (sale.status not in self.settings.statuses or sale.deleted):
            return ""
        for _ in range(3):
            if stored is not None and stored.order.source_version >= sale.version:
                return "stale"
            order = self._order(sale)
            if self.orders.save_order(order, order_status(order), stored, self.clock()) is not None:
                return "exported"
            stored = self.orders.order(SOURCE, sale.sale_id)  # saved meanwhile by another delivery
        raise StoreUnavailable(f"POS sale {sale.sale_id} kept changing; retry")

    def _order(self, sale: PosSale) -> ChannelOrder:
        dispatched = sale.status == DISPATCHED
        lines = tuple(
            OrderLine(
                line_id=line.line_id,
                sku=self.listings.owner(SOURCE, line.product_id) or "",
                title=self.listings.owner(SOURCE, line.product_id) or f"product {line.product_id}",
                quantity=line.quantity,
                fulfilled=line.quantity if dispatched else 0,
                unit_price=line.price or "0.00",
                tracked=False,  # the POS's own count moves its stock
            )
            for line in sale.lines
            if line.quantity > 0
        )
        gone = sale.deleted or sale.status == "VOIDED"
        taken_away = sale.status not in self.settings.statuses and not dispatched  # closed at the till
        return ChannelOrder(
            channel=SOURCE,
            order_id=sale.sale_id,
            number=sale.invoice_number or sale.sale_id,
            created_at=sale.sold_at,
            updated_at=iso(self.clock()),
            lines=lines,
            financial_status="paid",  # the retailer chose to ship it
            cancelled=gone or taken_away,
            email=sale.email,
            ship_to=sale.ship_to,
            bill_to=sale.ship_to,
            source_version=sale.version,
        )
