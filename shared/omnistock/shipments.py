"""Shipments: recorded once (ShipStation's notice, or the admin API), then sent to the order's
channel as a fulfillment through the outbox.

Recording writes the shipment and the order's new status and ``modified_at`` in one
transaction; the shipment item's insert reaches the fulfillment function on the table's
stream, so a slow channel never delays the caller and a lost function run loses nothing
(the poll schedule retries what is still unsent). The channel port makes the fulfillment
itself once (see ``OrdersPort.fulfil``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from omnistock.channels import ChannelUnavailable, FulfillmentRequest, OrdersPort
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.errors import Conflict, InvalidRequest, NotFound
from omnistock.models import SyncEntry
from omnistock.orders import OrderStatus, Shipment, StoredOrder, order_status
from omnistock.store.order_store import OrderStore
from omnistock.store.push_store import PushStore

MAX_ATTEMPTS = 8  # then the shipment stays failed, in the sync history, for a person to look at
CLAIM_LEASE = timedelta(minutes=5)  # a sender holding a shipment longer than this has died


class AlreadyShipped(Conflict):
    """A shipment of "everything still unshipped" for an order with nothing left to ship (a
    re-ship's new label, say): refused, never recorded as an empty shipment."""


class ShipmentDesk:
    def __init__(
        self,
        orders: OrderStore,
        history: PushStore,
        port_for: Callable[[str], OrdersPort | None],
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.orders = orders
        self.history = history
        self.port_for = port_for
        self.clock = clock

    def changed_on(self, day: str, after: str, limit: int) -> tuple[str, list[StoredOrder], str]:
        """The day asked (today, UTC, when none), a page of the orders that need shipping changed
        on it, newest first, and the cursor of the next page."""
        chosen = day or iso(self.clock())[:10]
        found, cursor = self.orders.changed_on(chosen, after, limit)
        return chosen, found, cursor

    def record(
        self,
        channel: str,
        order_id: str,
        shipment_id: str,
        *,
        carrier: str,
        service: str,
        tracking_number: str,
        lines: dict[str, int] | None,
        shipped_at: str | None = None,
    ) -> tuple[Shipment, bool]:
        """Record a shipment (``lines`` None: everything not yet shipped); returns it and whether
        it is new (a repeated notice returns the first one)."""
        kept = self.orders.load(channel, order_id)
        if kept.stored is None:
            raise NotFound(f"order {order_id!r} of {channel!r} is not in the order store")
        previous = next((s for s in kept.shipments if s.shipment_id == shipment_id), None)
        if previous is not None:
            return previous, False
        order = kept.stored.order
        shipped = kept.shipped()
        open_units = {
            line.line_id: max(0, line.quantity - max(line.fulfilled, shipped.get(line.line_id, 0)))
            for line in order.lines
            if line.requires_shipping
        }
        chosen = {k: v for k, v in open_units.items() if v > 0} if lines is None else dict(lines)
        if not chosen and any(line.requires_shipping for line in order.lines):
            raise AlreadyShipped(
                f"order {order.number or order_id} is already fully shipped: a shipment"
                f"{' with tracking ' + tracking_number if tracking_number else ''} (a re-ship?) is not recorded; "
                "add its tracking to the order in the channel by hand"
            )
        for line_id, qty in chosen.items():
            if line_id not in open_units:
                raise InvalidRequest(f"order {order.number or order_id} has no shippable line {line_id!r}")
            if qty <= 0:
                raise InvalidRequest("shipped quantities must be positive")
        now = self.clock()
        shipment = Shipment(
            channel,
            order_id,
            shipment_id,
            carrier,
            service,
            tracking_number,
            shipped_at or iso(now),
            chosen,
            state="pending" if chosen else "not_sent",
        )
        after = {k: shipped.get(k, 0) + chosen.get(k, 0) for k in set(shipped) | set(chosen)}
        status = order_status(order, after)
        if status is OrderStatus.CANCELLED:
            status = kept.stored.status
        if not self.orders.add_shipment(kept.stored, shipment, status, now):
            first = self.orders.shipment(channel, order_id, shipment_id)
            return first or shipment, False
        return shipment, True

    def send(self, channel: str, order_id: str, shipment_id: str) -> str:
        """Tell the channel (once); returns the shipment's state afterwards. The sender first
        takes the shipment (a conditional write on its state and attempt count), so the stream's
        run and the schedule's retry never both send it; one that died holding it is taken over
        once its claim is older than CLAIM_LEASE (the port then finds what it already made)."""
        shipment = self.orders.shipment(channel, order_id, shipment_id)
        now = self.clock()
        if shipment is None or not _sendable(shipment, now):
            return shipment.state if shipment else "missing"
        port = self.port_for(channel)
        stored = self.orders.order(channel, order_id)
        if port is None or stored is None or not stored.order.channel_ref:
            done = replace(shipment, state="not_sent", error="the channel takes no fulfillments")
            self.orders.update_shipment(done, shipment)
            return done.state
        claimed = replace(shipment, state="sending", attempts=shipment.attempts + 1, claimed_at=iso(now))
        if not self.orders.update_shipment(claimed, shipment):
            return "sending"  # another run took it first
        request = FulfillmentRequest(
            stored.order.channel_ref, shipment.lines, shipment.carrier, shipment.service, shipment.tracking_number
        )
        try:
            fulfillment_id = port.fulfil(request)
        except ChannelUnavailable as error:
            failed = replace(claimed, state="failed", error=str(error)[:500])
            self.orders.update_shipment(failed, claimed)
            self._note(failed, "failed", str(error))
            return failed.state
        sent = replace(claimed, state="sent", fulfillment_id=fulfillment_id, error="")
        self.orders.update_shipment(sent, claimed)
        self._note(sent, "applied", "" if fulfillment_id else "nothing was left to fulfil")
        return sent.state

    def retry_unsent(self, channel: str) -> dict[str, int]:
        """The schedule's pass over shipments their channel has not accepted yet."""
        results: dict[str, int] = {}
        for shipment in self.orders.unsent_shipments(channel):
            if shipment.attempts >= MAX_ATTEMPTS:
                continue
            state = self.send(channel, shipment.order_id, shipment.shipment_id)
            results[state] = results.get(state, 0) + 1
        return results

    def _note(self, shipment: Shipment, result: str, error: str) -> None:
        now = self.clock()
        entry = SyncEntry(
            sku=f"order:{shipment.order_id}",
            channel=shipment.channel,
            attempt=f"shipment:{shipment.shipment_id}:{shipment.attempts}",
            at=iso(now),
            before=None,
            after=sum(shipment.lines.values()),
            why="fulfillment",
            result=result,
            error=error,
        )
        self.history.record_sync([entry], now)


def _sendable(shipment: Shipment, now: datetime) -> bool:
    """Unsent and nobody at work on it (a claim older than the lease was a sender that died)."""
    if shipment.state == "sending":
        return not shipment.claimed_at or now - parse_iso(shipment.claimed_at) >= CLAIM_LEASE
    return shipment.state in ("pending", "failed")
