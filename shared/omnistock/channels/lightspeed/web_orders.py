"""Web orders into Lightspeed X-Series: each Shopify or CommentSold order becomes a POS sale per
outlet, as Lightspeed's own Shopify integration does it, written by Omnistock exactly once.

What an order becomes:
- one sale per register (``registers``: ledger location -> register), holding the order's lines
  whose units the ledger took at that location; lines the ledger placed nowhere (a gift card,
  an untracked item) go on the sale of the order's first register. Recorded by the chosen POS
  user and, when the order is paid, paid with the chosen payment type; an unpaid order (bank
  deposit) is a sale on account, paid in the POS when the web order is paid later;
- the receipt (invoice) number is the web order's number, so staff find it in Sales History;
- shipping is a line of a non-inventory "Shipping" product Omnistock creates once;
- a line whose product the POS lacks is created (and published) in the POS first;
- a later change of the units the order takes (a refund with restock, a cancel, an edit) is a
  further document of the difference: a return for units back, a sale for units added. Refunds
  without restock take nothing back, so they write nothing.

Exactly once: every document has a sale id chosen here (uuid5 of the store, order, register and
the document's number) and is recorded *before* the call. Each attempt claims the record
(conditional), and an attempt after one whose answer was lost looks the sale up before creating
it, so a timeout, a lost answer, a redelivered webhook or two runs at once never make a second
sale, whatever X-Series does with a repeated id.

The ledger closes itself: the POS's answer (its version for the sale) confirms the order's
pending units at that outlet, so a count at or after that version clears them and a count from
before it cannot bring them back (DESIGN.md §3.3). The sale is tagged ``source.type``
"omnistock" with the order's id, so its echo (``sale.update``) confirms the same lots again,
which changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels import ChannelUnavailable
from omnistock.channels.lightspeed.sales_api import CreatedSale, SaleRefused
from omnistock.channels.lightspeed.web_order_settings import SHOPIFY_ORDER_WINDOW, WebOrderSettings
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.orders import PosDocument

if TYPE_CHECKING:
    from omnistock.channels.lightspeed.intake import LightspeedIntake
    from omnistock.orders import LineRecord, StoredOrder
    from omnistock.store.listing_store import ListingStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.pos_sale_store import PosSaleStore
    from omnistock.store.problem_store import ProblemStore
    from omnistock.store.push_store import PushStore

SOURCE = "lightspeed"
SALE_SOURCE = "omnistock"  # the sales' source.type: how their echo is known
NAMESPACE = uuid.UUID("5b0b6f5e-8f1e-4d0e-9f63-6f6d6e697374")
ROUNDS = 3  # looks at an order a run wrote for again (a change may have come meanwhile)
STALE_CLAIM = timedelta(minutes=2)  # a claim older than this died with its run: take it over
FIRST_RETRY, LAST_RETRY = timedelta(minutes=5), timedelta(hours=1)  # a refused order, backing off
PAID = frozenset({"paid", "partially_refunded", "refunded"})
ON_ACCOUNT = frozenset({"ONACCOUNT", "LAYBY", "SAVED"})  # sale statuses with a balance left to pay


class SalesPort(Protocol):
    calls: int

    def sale(self, sale_id: str) -> CreatedSale | None: ...
    def create_sale(self, body: dict[str, Any]) -> CreatedSale: ...
    def update_sale(self, sale_id: str, body: dict[str, Any]) -> CreatedSale: ...
    def find_product(self, sku: str) -> str | None: ...
    def create_product(self, sku: str, name: str, price: str, *, tracked: bool) -> str: ...


@dataclass(frozen=True)
class ImportResult:
    result: str  # imported | unchanged | skipped | refused | waiting | busy
    detail: str = ""
    documents: int = 0

    @property
    def ok(self) -> bool:
        """Nothing is left to do (or to retry) for the order now."""
        return self.result in ("imported", "unchanged", "skipped")

    def as_dict(self) -> dict[str, Any]:
        return {"result": self.result, "detail": self.detail, "documents": self.documents}


class Refused(Exception):
    """The order cannot be imported as it stands (a line without a SKU, a product the POS
    refuses): kept, with the reason, until it is fixed. ``document``: the one this run claimed
    and the POS refused (known not to exist there); None when no call was made."""

    def __init__(self, message: str, document: PosDocument | None = None) -> None:
        super().__init__(message)
        self.document = document


class WebOrderImport:
    def __init__(
        self,
        orders: OrderStore,
        documents: PosSaleStore,
        listings: ListingStore,
        intake: LightspeedIntake,
        history: PushStore,
        problems: ProblemStore,
        settings: WebOrderSettings,
        pos: SalesPort | None,
        *,
        store_name: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.orders, self.documents, self.listings = orders, documents, listings
        self.intake, self.history, self.problems = intake, history, problems
        self.settings, self.pos = settings, pos
        self.store_name = store_name  # in every sale id: two stores never share one
        self.clock = clock

    # ================================================================ one order
    def sync(self, channel: str, order_id: str, *, by_hand: bool = False) -> ImportResult:
        """Bring the POS in line with the order: create what is missing, pay what was paid
        since, return what came back. Safe to run any number of times, in any order.
        ``by_hand``: asked for (an import by hand, a retry), not an order's change on the stream.

        A run that wrote something looks at the order again: a change that arrived meanwhile
        found this run's sale in the making and left it to this run ("busy")."""
        settings = self.settings
        wanted = settings.mode == "automatic" or (settings.mode == "by_hand" and by_hand)
        if not settings.imports(channel) or not wanted:
            return ImportResult("skipped", "web orders are not imported from this channel now")
        written = 0
        for _ in range(ROUNDS):
            outcome = self._sync_once(channel, order_id)
            written += outcome.documents
            if outcome.result != "imported":
                break
        return replace(outcome, result="imported", documents=written) if written and outcome.ok else outcome

    def _sync_once(self, channel: str, order_id: str) -> ImportResult:
        kept = self.orders.load(channel, order_id)
        if kept.stored is None:
            return ImportResult("skipped", "the order is not stored")
        documents = {(d.register_id, d.number): d for d in kept.pos_sales}
        if not documents:
            why = self._never(kept.stored)
            if why:
                return ImportResult("skipped", why)
        if self.pos is None:
            return ImportResult("waiting", "Lightspeed is not connected")
        try:
            plan = self._plan(kept.stored, list(kept.lines.values()))
            outcome = self._carry_out(kept.stored, plan, dict(documents), list(kept.lines.values()))
        except Refused as refused:
            self._refuse(kept.stored, str(refused), refused.document)
            return ImportResult("refused", str(refused))
        except ChannelUnavailable as error:
            return ImportResult("waiting", f"the POS did not answer ({error}); retried")
        if outcome.result == "imported" and any(d.error for d in documents.values()):
            self.problems.clear("not_imported", SOURCE, _subject(channel, order_id))
        return outcome

    def _never(self, stored: StoredOrder) -> str:
        """Why an order not yet imported is not imported ("" when it is)."""
        order = stored.order
        if order.cancelled or stored.status.value == "cancelled":
            return "cancelled before it was imported: never imported"
        if self.settings.shipping_only and not order.shipping_method:
            return "no shipping method (only orders with one are imported)"
        created = order.created_at or order.updated_at
        if created and parse_iso(created) < self.clock() - SHOPIFY_ORDER_WINDOW:
            return "older than 60 days: Shopify shows older orders only to apps granted read_all_orders"
        return ""

    # ================================================================ what the POS should hold
    def _plan(self, stored: StoredOrder, lines: list[LineRecord]) -> dict[str, dict[str, int]]:
        """Units per SKU on each register's sales, as the order stands."""
        settings, plan = self.settings, dict[str, dict[str, int]]()
        by_id = {line.line_id: line for line in stored.order.lines}
        placed_nowhere: dict[str, int] = {}
        for line_id, ordered in by_id.items():
            record = next((r for r in lines if r.line_id == line_id), None)
            if record is not None and record.location and record.taken > 0:
                register = settings.register_at(record.location)
                if register:  # units a location the POS is not master of took: not the POS's
                    units = plan.setdefault(register, {})
                    units[record.sku] = units.get(record.sku, 0) + record.taken
                continue
            if record is not None and record.location:
                continue  # took units once and gave them all back
            wanted = 0 if stored.order.cancelled else ordered.quantity
            if wanted <= 0:
                continue  # nothing of it is sold: nothing to write, nothing to refuse
            if ordered.tracked and ordered.sku and record is not None and record.unmapped:
                raise Refused(f"line {line_id}: {record.unmapped}")
            if not ordered.sku:
                raise Refused(f"line {line_id} has no SKU: the POS needs one for its product")
            placed_nowhere[ordered.sku] = placed_nowhere.get(ordered.sku, 0) + wanted
        if placed_nowhere:
            first = sorted(plan)[0] if plan else settings.registers[0][1]
            for sku, count in placed_nowhere.items():
                plan.setdefault(first, {})[sku] = plan.get(first, {}).get(sku, 0) + count
        return plan

    def _carry_out(
        self,
        stored: StoredOrder,
        plan: dict[str, dict[str, int]],
        documents: dict[tuple[str, int], PosDocument],
        lines: list[LineRecord],
    ) -> ImportResult:
        written, busy = 0, False
        first = sorted(plan)[0] if plan else ""
        for register in sorted(set(plan) | {r for r, _ in documents}):
            mine = sorted((d for (r, _), d in documents.items() if r == register), key=lambda d: d.number)
            done: list[PosDocument] = []
            for kept in mine:  # finish what earlier runs began before deciding anything new
                document = kept
                if kept.state == "refused":  # written again with what the order now needs
                    units = _difference(plan.get(register, {}), done + [d for d in mine if d is not kept])
                    document = replace(kept, units=units)
                finished = self._finish(stored, document, lines, shipping=register == first)
                busy |= finished is None
                written += finished is not None and finished.state == "created" and kept.state != "created"
                done.append(finished or document)
            if busy:
                continue
            units = _difference(plan.get(register, {}), done)
            if units:
                document, ours = self._new_document(stored, register, len(mine), units)
                shipping = register == first and not mine
                finished = self._finish(stored, document, lines, shipping=shipping, claimed=ours)
                busy |= finished is None
                written += finished is not None and finished.state == "created"
        if busy:
            return ImportResult("busy", "another run is writing this order's sales; it finishes them")
        return ImportResult("imported" if written else "unchanged", "", written)

    def _new_document(
        self, stored: StoredOrder, register: str, number: int, units: dict[str, int]
    ) -> tuple[PosDocument, bool]:
        """The document recorded before its call, claimed by this run for its first attempt
        (True); or, when another run recorded it first, that one as it stands (False)."""
        order, now = stored.order, iso(self.clock())
        name = f"{self.store_name}:{order.channel}:{order.order_id}:{register}:{number}"
        document = PosDocument(
            order.channel,
            order.order_id,
            register,
            number,
            str(uuid.uuid5(NAMESPACE, name)),
            units,
            attempts=1,
            claimed_at=now,
            at=now,
        )
        if self.documents.record(document):
            return document, True
        found = {
            d.number: d for d in self.documents.documents(order.channel, order.order_id) if d.register_id == register
        }
        return found[number], False  # another run recorded it first: the same document, carried on

    # ================================================================ one document
    def _finish(
        self,
        stored: StoredOrder,
        document: PosDocument,
        lines: list[LineRecord],
        *,
        shipping: bool,
        claimed: bool = False,
    ) -> PosDocument | None:
        """Carry a document to created, confirmed and (when the order is) paid; None when
        another run holds it. ``claimed``: this run recorded it, and holds its first attempt."""
        if document.state in ("calling", "refused"):
            now = self.clock()
            recent = bool(document.claimed_at) and parse_iso(document.claimed_at) > now - STALE_CLAIM
            if document.state == "calling" and recent and not claimed:
                return None  # another run is calling for it now
            ours = document if claimed else self.documents.claim(document, iso(now))
            if ours is None:
                return None
            claimed_document = ours
            try:
                document = self._create(stored, claimed_document, lines, shipping=shipping)
            except ChannelUnavailable:  # the outcome is unknown: the next run looks before it writes
                self.documents.replace(claimed_document, replace(claimed_document, claimed_at=""))
                raise
        if document.state != "created":
            return document
        if not document.confirmed:
            document = self._confirm(document, lines)
        if document.number == 0 and not document.paid and _paid(stored):
            document = self._pay(stored, document, shipping=shipping)
        return document

    def _create(
        self, stored: StoredOrder, document: PosDocument, lines: list[LineRecord], *, shipping: bool
    ) -> PosDocument:
        """Write the sale (or find it, after a lost answer), confirm the lots it takes, and
        record it created and confirmed in one write: a run that dies before that write is
        followed by one that finds the sale and confirms again, which changes nothing."""
        assert self.pos is not None  # noqa: S101 - checked by sync
        if not document.units:  # retried after a refusal, and nothing is left to write
            done = replace(document, state="created", confirmed=True, paid=True, error="")
            return done if self.documents.replace(document, done) else document
        found = self.pos.sale(document.sale_id) if document.attempts > 1 else None  # a lost answer?
        if found is None:
            try:
                found = self.pos.create_sale(self._sale_body(stored, document, shipping=shipping))
            except SaleRefused as refused:
                for sku in document.units:  # a product id kept from before may be gone: look again
                    self.listings.forget_product_of(SOURCE, sku)
                raise Refused(str(refused), document) from refused
            except Refused as refused:  # a product the POS would not make: no sale was written
                raise Refused(str(refused), document) from refused
        # paid as the sale says (a sale found after a lost answer was written as it was then)
        paid = found.status not in ON_ACCOUNT if found.status else (_paid(stored) or document.number > 0)
        created = replace(document, state="created", version=found.version, receipt=found.receipt, paid=paid, error="")
        self._confirm_lots(created, lines)
        created = replace(created, confirmed=True)
        if not self.documents.replace(document, created):
            raise ChannelUnavailable("the sale's record moved while it was written")  # the next run re-reads it
        return created

    def _pay(self, stored: StoredOrder, document: PosDocument, *, shipping: bool) -> PosDocument:
        """The web order was paid after it was imported on account: pay the POS sale too."""
        assert self.pos is not None  # noqa: S101 - checked by sync
        # The whole sale as written, now paid: whether X-Series' update merges or replaces is not
        # documented, and the whole body is right either way (no line is ever dropped).
        try:
            answer = self.pos.update_sale(document.sale_id, self._sale_body(stored, document, shipping=shipping))
        except SaleRefused as refused:
            raise Refused(f"the payment of sale {document.receipt}: {refused}") from refused
        paid = replace(document, paid=True, version=max(document.version, answer.version))
        return paid if self.documents.replace(document, paid) else document

    def _confirm(self, document: PosDocument, lines: list[LineRecord]) -> PosDocument:
        self._confirm_lots(document, lines)
        confirmed = replace(document, confirmed=True)
        return confirmed if self.documents.replace(document, confirmed) else document

    def _confirm_lots(self, document: PosDocument, lines: list[LineRecord]) -> None:
        """The POS took the units the sale carries: the order's pending lots there are confirmed
        at the sale's version. Returns (units back) confirm nothing."""
        location = next((loc for loc, reg in self.settings.registers if reg == document.register_id), None)
        taken = {sku: units for sku, units in document.units.items() if units > 0}
        if taken and location is not None:
            self.intake.confirm_order_lots(
                document.channel, document.order_id, document.sale_id, document.version, taken, location, lines
            )

    # ================================================================ the sale as sent
    def _sale_body(self, stored: StoredOrder, document: PosDocument, *, shipping: bool) -> dict[str, Any]:
        order, settings = stored.order, self.settings
        prices = {line.sku: line.unit_price for line in order.lines if line.sku}
        titles = {line.sku: line.title for line in order.lines if line.sku}
        with_shipping = shipping and document.number == 0 and _amount(order.shipping) > 0
        products = self._products(document.units, prices, titles, settings.shipping_sku if with_shipping else "")
        lines: list[dict[str, Any]] = [
            {"product": {"id": products[sku]}, "quantity": units, "pricing": {"price": _money(prices.get(sku))}}
            for sku, units in sorted(document.units.items())
            if units
        ]
        if with_shipping:
            product = products[settings.shipping_sku]
            lines.append({"product": {"id": product}, "quantity": 1, "pricing": {"price": _money(order.shipping)}})
        total = sum((_amount(line["pricing"]["price"]) * int(line["quantity"]) for line in lines), Decimal(0))
        paid = _paid(stored) or document.number > 0
        number = order.number.removeprefix("#") or order.order_id
        body: dict[str, Any] = {
            "id": document.sale_id,
            "source": {
                "author_id": settings.user_id,
                "register_id": document.register_id,
                "id": order.order_id,
                "type": SALE_SOURCE,
            },
            "state": "closed" if paid else "pending",
            "attributes": [] if paid else ["onaccount"],
            "invoice_number": number if document.number == 0 else f"{number}-{document.number}",
            "note": f"{order.channel} order {order.number or order.order_id}",
            "line_items": lines,
            "payments": [{"amount": f"{total:.2f}", "type": {"config_id": settings.payment_type_id}}] if paid else [],
        }
        if order.created_at:
            body["date"] = order.created_at
        return body

    def _products(
        self, units: dict[str, int], prices: dict[str, str], titles: dict[str, str], shipping_sku: str
    ) -> dict[str, str]:
        """The POS product of each SKU (and of the shipping product): remembered (one read for
        all), else found or created now."""
        known = self.listings.product_of(SOURCE, [*units, *([shipping_sku] if shipping_sku else [])])
        for sku in units:
            if sku not in known:
                known[sku] = self._product(sku, titles.get(sku, sku), _money(prices.get(sku)), tracked=True)
        if shipping_sku and shipping_sku not in known:
            known[shipping_sku] = self._product(shipping_sku, "Shipping", "0.00", tracked=False)
        return known

    def _product(self, sku: str, name: str, price: str, *, tracked: bool) -> str:
        """Found in the POS, or created (and published) there now; remembered either way."""
        assert self.pos is not None  # noqa: S101 - checked by sync
        try:
            product = self.pos.find_product(sku) or self.pos.create_product(sku, name, price, tracked=tracked)
        except SaleRefused as refused:
            raise Refused(f"SKU {sku!r} cannot be created in the POS: {refused}") from refused
        self.listings.remember_product_of(SOURCE, sku, product)
        return product

    # ================================================================ refusals
    def _refuse(self, stored: StoredOrder, why: str, refused: PosDocument | None) -> None:
        """Keep the reason: on the document the POS refused (known not to be there), or on a first
        one recorded as refused when the order has none yet (so the retry schedule finds it);
        and in the sync history and the problems inbox. A document whose call may have been
        answered (another run's, or one whose answer was lost) is left as it is: only a look at
        the POS may settle it."""
        order, now = stored.order, self.clock()
        if refused is not None:
            current = next(
                (d for d in self.documents.documents(order.channel, order.order_id) if d.key == refused.key), None
            )
            if current is not None and current.state != "created":
                wait = min(FIRST_RETRY * 2 ** max(0, current.attempts - 1), LAST_RETRY)
                marked = replace(current, state="refused", error=why[:500], claimed_at="", retry_at=iso(now + wait))
                self.documents.replace(current, marked)
        elif not self.documents.documents(order.channel, order.order_id):
            register = self.settings.registers[0][1] if self.settings.registers else "-"
            name = f"{self.store_name}:{order.channel}:{order.order_id}:{register}:0"
            sale_id = str(uuid.uuid5(NAMESPACE, name))
            placeholder = PosDocument(order.channel, order.order_id, register, 0, sale_id, at=iso(now))
            self.documents.record(
                replace(placeholder, state="refused", error=why[:500], retry_at=iso(now + FIRST_RETRY))
            )
        subject = _subject(order.channel, order.order_id)
        self.history.note(subject, SOURCE, f"web order {order.number} into the POS", "not_imported", why, now)

    # ================================================================ the schedule
    def retry_unfinished(self, out_of_time: Callable[[], bool], limit: int = 50) -> dict[str, int]:
        """Orders whose documents are still calling (a run died or the POS did not answer) or
        refused (tried again, backing off from 5 minutes to an hour, in case the cause was
        fixed; the problems inbox's Retry tries at once), oldest first."""
        report: dict[str, int] = {}
        # a run at work on one holds its claim: the sync sees it and leaves it be
        for channel, order_id in self.documents.unfinished(iso(self.clock()) + "~", limit):
            if out_of_time():
                break
            result = self.sync(channel, order_id, by_hand=True).result
            report[result] = report.get(result, 0) + 1
        return report


def _difference(wanted: dict[str, int], documents: list[PosDocument]) -> dict[str, int]:
    """Units per SKU the POS still needs: wanted minus what created (or calling) documents carry.
    A refused first document carries nothing yet: it is written again, whole."""
    carried: dict[str, int] = {}
    for document in documents:
        if document.state in ("created", "calling"):
            for sku, units in document.units.items():
                carried[sku] = carried.get(sku, 0) + units
    change = {sku: wanted.get(sku, 0) - carried.get(sku, 0) for sku in set(wanted) | set(carried)}
    return {sku: units for sku, units in sorted(change.items()) if units}


def _paid(stored: StoredOrder) -> bool:
    return stored.order.financial_status in PAID


def _subject(channel: str, order_id: str) -> str:
    return f"order:{channel}:{order_id}"


def _amount(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0")
    except InvalidOperation:
        return Decimal(0)


def _money(text: str | None) -> str:
    return f"{_amount(text):.2f}"
