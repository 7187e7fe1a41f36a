"""CommentSold's live-sale events, applied to the ledger.

A viewer's claim (a reservation) becomes a hold that the cart's expiry ends unless the cart
checks out first; the answer says whether the units are held, so a sold-out claim can go to
the waitlist. A removal releases the hold; an order checks its reservations' holds out and
lands in the order store; a cancel or a refund with restock gives units back through the
order's lines. Each effect is keyed by CommentSold's own ids (reservation, order, line), so a
duplicate, a reordering, or the poll after a webhook changes nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels.commentsold import PLATFORM, webhooks
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.errors import InvalidRequest, StoreRefused
from omnistock.ledger import Ledger
from omnistock.models import Channel, HoldState, Outcome
from omnistock.order_desk import OrderDesk, choose_location
from omnistock.web import loggable

if TYPE_CHECKING:  # the stores arrive built (the wiring); a platform never reaches into the table
    from omnistock.store.cursor_store import CursorStore
    from omnistock.store.listing_store import ListingStore

log = logging.getLogger(__name__)

OVERLAP_SECONDS = 300  # orders updated while a poll walked its pages are read again
FIRST_LOOKBACK = 24 * 3600  # the first poll of a new connection
CART_GRACE_SECONDS = 60  # a hold younger than this may be a claim the listing does not show yet
# A delivery signed longer ago than this is refused: longer than any platform retries for
# (48 hours is the longest we know of), far shorter than the 30 days event ids are kept for
# dedupe, so a replayed claim can never outlive the record that makes it a duplicate.
REPLAY_WINDOW = timedelta(hours=72)
CLOCK_SKEW = timedelta(minutes=5)  # a delivery dated this far ahead of our clock is still taken


class CommentSoldPolls(Protocol):
    def orders_since(self, since_epoch: int, page: int) -> tuple[list[dict[str, Any]], bool]: ...

    def reservations(self, page: int) -> tuple[list[dict[str, Any]], bool]: ...


class CommentSoldIntake:
    def __init__(
        self,
        ledger: Ledger,
        listings: ListingStore,
        order_desk: OrderDesk,
        cursors: CursorStore,
        *,
        cart_minutes: int = 15,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.ledger = ledger
        self.listings = listings
        self.order_desk = order_desk
        self.cursors = cursors
        self.cart_minutes = cart_minutes
        self.clock = clock

    def channel(self) -> Channel | None:
        """The stack's CommentSold channel (one shop per stack)."""
        channels = sorted(self.ledger.store.channels(), key=lambda c: c.name)
        return next((c for c in channels if c.platform == PLATFORM.name), None)

    def handle(self, body: Any) -> dict[str, Any]:
        """Apply one verified delivery. Raises webhooks.PayloadError for a body that is not the
        assumed shape of its topic (nothing is stored then)."""
        event = webhooks.event(body)
        channel = self.channel()
        if channel is None:
            return {"result": "ignored", "detail": "no CommentSold channel is configured"}
        if event.created_at is not None and not self._in_window(event.created_at):
            log.warning("commentsold delivery signed outside the replay window; ignored")
            return {"result": "ignored", "detail": "signed outside the replay window (72 hours): a replay"}
        try:
            return self._apply(channel, event)
        except StoreRefused as error:  # final: recorded, and answered so CommentSold stops retrying
            self._note_rejected(channel, f"{event.topic}:{loggable(event.delivery_id[:80])}", str(error))
            return {"result": "rejected", "detail": "the table cannot hold this delivery as sent; recorded"}

    def _in_window(self, created_at: str) -> bool:
        now = self.clock()
        return now - REPLAY_WINDOW <= parse_iso(created_at) <= now + CLOCK_SKEW

    def _note_rejected(self, channel: Channel, reference: str, problem: str, why: str = "webhook") -> None:
        self.order_desk.history.note(reference, channel.name, why, "rejected", problem, self.clock())

    def _apply(self, channel: Channel, event: webhooks.Event) -> dict[str, Any]:
        if event.topic == "reservation.created":
            return self.claim(channel, webhooks.claim(event.data))
        if event.topic == "reservation.deleted":
            return self.release(channel, webhooks.reservation_id(event.data))
        if event.topic in ("order.created", "order.updated", "order.refunded", "order.cancelled"):
            return self.order(channel, event.data, cancelled=event.topic == "order.cancelled")
        log.info("commentsold webhook topic %s is not handled; ignored", loggable(event.topic))
        return {"result": "ignored", "detail": "topic not handled"}

    def claim(self, channel: Channel, claim: webhooks.Claim) -> dict[str, Any]:
        hold_id = webhooks.hold_id(channel.name, claim.reservation_id)
        existing = self.ledger.store.hold(hold_id)
        if existing is not None:  # a duplicate (or the claim of a cart already released)
            held = existing.qty > 0 and existing.state in (HoldState.ACTIVE, HoldState.CHECKED_OUT)
            return {"result": "duplicate", "held": held, "hold_id": hold_id, "state": existing.state.value}
        sku = self.listings.owner(channel.name, claim.variant_id)
        if sku is None:
            return _refusal(hold_id, 404, f"variant {claim.variant_id} is not mapped to a SKU")
        location = choose_location(self.ledger.store, channel, sku, claim.quantity)
        if not location:
            return _refusal(hold_id, 404, f"SKU {sku!r} is not stocked where {channel.name} sells")
        try:
            result = self.ledger.place_hold(
                hold_id,
                sku,
                location,
                claim.quantity,
                channel.name,
                f"reservation:{claim.reservation_id}",
                expires_at=claim.expires_at,
                minutes=None if claim.expires_at else self.cart_minutes,
            )
        except InvalidRequest as error:  # the cart expired before its claim arrived, say
            return _refusal(hold_id, 409, str(error))
        if result.outcome is Outcome.REFUSED:
            # Remembered as ended, so every later delivery of this claim (a redelivery, the cart
            # poll) answers as this one did, even once a unit has come free: the viewer was sent
            # to the waitlist, and the units must not be held for a cart that holds nothing.
            self.ledger.release_hold(hold_id, channel.name, f"refused:{claim.reservation_id}")
            return {"result": "refused", "held": False, "hold_id": hold_id, "reason": "sold out: waitlist"}
        held = result.hold is not None and result.hold.qty > 0
        expires = result.hold.expires_at if result.hold else None
        return {"result": result.outcome.value, "held": held, "hold_id": hold_id, "expires_at": expires, "sku": sku}

    def release(self, channel: Channel, reservation: str) -> dict[str, Any]:
        hold_id = webhooks.hold_id(channel.name, reservation)
        result = self.ledger.release_hold(hold_id, channel.name, f"reservation-deleted:{reservation}")
        return {"result": result.outcome.value, "hold_id": hold_id}

    def order(self, channel: Channel, data: dict[str, Any], cancelled: bool = False) -> dict[str, Any]:
        variants = {str(line.get("variant_id")) for line in data.get("line_items") or [] if isinstance(line, dict)} - {
            "None"
        }
        skus = {v: sku for v in variants if (sku := self.listings.owner(channel.name, v))}
        order = webhooks.order(channel.name, data, skus, cancelled)
        report = self.order_desk.ingest(order)
        return {"result": "applied", "order": order.order_id, "lines_moved": report.moved, "saved": report.saved}

    def poll(self, api: CommentSoldPolls, out_of_time: Callable[[], bool]) -> dict[str, int]:
        """Make the webhooks complete: orders updated since the cursor (minus an overlap) through
        the same path, page by page (the cursor moves once a page is applied); then the carts
        CommentSold holds now: a claim never delivered becomes a hold, and a hold whose cart is
        gone (removed or expired there; a checkout came with the orders) is released."""
        report = {"orders": 0, "claims": 0, "released": 0}
        channel = self.channel()
        if channel is None:
            return report
        started = self.clock()
        # Carts first, orders second: a cart that checks out between the two reads is in one
        # of them, so a checked-out cart is never taken for a vanished one.
        carts, report["claims"] = self._read_carts(api, channel)
        report["orders"] = self._poll_orders(api, channel, started, out_of_time)
        if not out_of_time():
            report["released"] = self._release_vanished(channel, carts, started)
        return report

    def _poll_orders(
        self, api: CommentSoldPolls, channel: Channel, started: datetime, out_of_time: Callable[[], bool]
    ) -> int:
        name = f"{channel.name}:orders"
        cursor = self.cursors.cursor(name)
        since = (
            int(parse_iso(cursor).timestamp()) - OVERLAP_SECONDS
            if cursor
            else int(started.timestamp()) - FIRST_LOOKBACK
        )
        applied, page, more = 0, 1, True
        while more and not out_of_time():
            orders, more = api.orders_since(since, page)
            last = ""
            for data in orders:
                try:
                    order = self.order(channel, data)["order"]
                except webhooks.PayloadError:
                    continue  # skipped: it would stop every poll; its webhook says more
                except StoreRefused as error:  # stepped past, and recorded
                    reference = f"order:{loggable(str(data.get('id', ''))[:80])}"
                    self._note_rejected(channel, reference, str(error), "order poll")
                    continue
                applied += 1
                stored = self.order_desk.orders.order(channel.name, order)
                last = max(last, stored.order.updated_at if stored else "")
            if last:
                self.cursors.advance_cursor(name, last)
            page += 1
        return applied

    def _read_carts(self, api: CommentSoldPolls, channel: Channel) -> tuple[set[str], int]:
        """The holds of the carts CommentSold lists now; a listed claim never delivered is held."""
        carts: set[str] = set()
        claimed, page, more = 0, 1, True
        while more:
            reservations, more = api.reservations(page)
            for data in reservations:
                try:
                    claim = webhooks.claim(data)
                except webhooks.PayloadError:
                    continue
                carts.add(webhooks.hold_id(channel.name, claim.reservation_id))
                try:
                    claimed += self.claim(channel, claim)["result"] == "applied"
                except StoreRefused as error:  # stepped past, and recorded
                    reference = f"reservation:{loggable(claim.reservation_id)}"
                    self._note_rejected(channel, reference, str(error), "cart poll")
            page += 1
        return carts, claimed

    def _release_vanished(self, channel: Channel, carts: set[str], started: datetime) -> int:
        """Release the holds whose carts CommentSold has not listed in two polls running (one
        absence may be a listing that shifted while it was paged) and that are not too new."""
        name = f"{channel.name}:vanished-carts"
        settled = iso(started - timedelta(seconds=CART_GRACE_SECONDS))
        missing = set()
        for hold_id in self.ledger.store.active_holds(channel.name):
            hold = self.ledger.store.hold(hold_id) if hold_id not in carts else None
            if hold is not None and hold.created_at < settled:
                missing.add(hold_id)
        previous, released = self.cursors.marks(name), 0
        for hold_id in missing & previous:
            result = self.ledger.release_hold(hold_id, channel.name, f"cart-gone:{hold_id}")
            released += result.outcome is Outcome.APPLIED
        self.cursors.save_marks(name, missing - previous)  # absent once: looked at next time
        return released


def _refusal(hold_id: str, status: int, reason: str) -> dict[str, Any]:
    return {"result": "refused", "held": False, "hold_id": hold_id, "refusal": {"status": status, "reason": reason}}
