"""Paid web orders into Unleashed as sales orders, exactly once, as Unleashed's own Shopify
integration sends them (and the CommentSold ones too, per setting).

What an order becomes: one sales order per Unleashed warehouse whose location the order's units
were taken from (lines sold from elsewhere are not the ERP's), ``Placed`` (so it allocates its
units), for the chosen customer, numbered with the channel's prefix and the order's number, lines
by product code at the order's prices, shipping as a ``Charge`` line, and the order's tax spread
over the lines so that ``SubTotal``, ``TaxTotal`` and ``Total`` add up to the cent, as Unleashed
checks. Only paid orders go (the status Unleashed's integration waits for); one cancelled before
it was sent never goes.

Exactly once: the sales order's Guid is chosen here (uuid5 of the order and the warehouse) and
recorded before the call (``POST /SalesOrders/{guid}``); each attempt claims the record, and an
attempt after a lost answer looks the Guid up first. Unleashed's answer confirms the order's
pending units at that warehouse at the order's modified time: a stock count at or after it
includes the allocation [assumed: an allocation moves the stock row's modified time, as the
sandbox does; if not, units stay pending, shown short, until a later count or an admin confirms].

A refusal (an unknown product code or customer, totals Unleashed will not take, a warehouse gone)
is kept with its reason in the sync history and the problems inbox, and retried, never half-sent.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, Protocol

from omnistock.channels import ChannelUnavailable
from omnistock.channels.unleashed.api import UnleashedRefused, unleashed_time
from omnistock.clock import iso, parse_iso, utc_now
from omnistock.order_desk import confirm_master_lots
from omnistock.orders import PosDocument

if TYPE_CHECKING:
    from omnistock.ledger import Ledger
    from omnistock.orders import LineRecord, StoredOrder
    from omnistock.store.listing_store import ListingStore
    from omnistock.store.order_store import OrderStore
    from omnistock.store.pos_sale_store import PosSaleStore
    from omnistock.store.problem_store import ProblemStore
    from omnistock.store.push_store import PushStore

SOURCE = "unleashed"
DESTINATION = "ERPORDER"
NAMESPACE = uuid.UUID("0b1f6a3e-6c5d-4e8f-9a7b-756e6c656173")
PAID = frozenset({"paid", "partially_refunded"})
STALE_CLAIM = timedelta(minutes=2)
ROUNDS = 3  # looks at an order a run wrote for again (a change may have come meanwhile)
FIRST_RETRY, LAST_RETRY = timedelta(minutes=5), timedelta(hours=1)
CENT = Decimal("0.01")
NO_PRODUCT = "00000000-0000-0000-0000-000000000000"  # a Charge line names no product
CUSTOMERS = "unleashed-customer"  # the customers made in Unleashed, remembered (listing_store)


@dataclass(frozen=True)
class SalesOrderSettings:
    mode: str = "off"  # off | automatic
    channels: tuple[str, ...] = ()  # empty: every channel
    customer_code: str = ""  # the one Unleashed customer web orders are sold to ("single")
    customers: str = "single"  # single | per_customer (one Unleashed customer per web customer)
    prefixes: tuple[tuple[str, str], ...] = ()  # channel -> order number prefix (default: "<CHANNEL>_")

    def prefix(self, channel: str) -> str:
        return dict(self.prefixes).get(channel, f"{channel.upper()}_")


def checked_settings(value: Any) -> dict[str, Any]:
    """The ``unleashed.sales_orders`` setting as stored; ValueError saying what is wrong."""
    if not isinstance(value, dict) or set(value) - {"mode", "channels", "customer_code", "customers", "prefixes"}:
        raise ValueError(
            '{"mode": "off|automatic", "customers": "single|per_customer", "customer_code": "...", '
            '"channels": [], "prefixes": {}}'
        )
    if value.get("customers", "single") not in ("single", "per_customer"):
        raise ValueError("customers is single (the customer_code) or per_customer")
    if value.get("mode", "off") not in ("off", "automatic"):
        raise ValueError("mode is off or automatic")
    code, single = value.get("customer_code", ""), value.get("customers", "single") == "single"
    if not isinstance(code, str) or len(code) > 50 or (value.get("mode") == "automatic" and single and not code):
        raise ValueError("customer_code is the Unleashed customer's code (needed to send orders)")
    channels, prefixes = value.get("channels", []), value.get("prefixes", {})
    if not isinstance(channels, list) or not all(isinstance(c, str) and c for c in channels):
        raise ValueError("channels is a list of channel names")
    if not isinstance(prefixes, dict) or not all(isinstance(p, str) and len(p) <= 20 for p in prefixes.values()):
        raise ValueError('prefixes is {"<channel>": "<order number prefix>"}')
    return dict(value)


def settings_of(value: dict[str, Any]) -> SalesOrderSettings:
    return SalesOrderSettings(
        mode=value.get("mode", "off"),
        channels=tuple(value.get("channels") or ()),
        customer_code=value.get("customer_code", ""),
        customers=value.get("customers", "single"),
        prefixes=tuple(sorted((value.get("prefixes") or {}).items())),
    )


class ErpPort(Protocol):
    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None: ...
    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]: ...
    def delete(self, path: str) -> bool: ...


class SalesOrderWriter:
    def __init__(
        self,
        orders: OrderStore,
        documents: PosSaleStore,
        ledger: Ledger,
        history: PushStore,
        problems: ProblemStore,
        settings: SalesOrderSettings,
        warehouses: dict[str, str],
        api: ErpPort | None,
        clock: Callable[[], datetime] = utc_now,
        known_customers: ListingStore | None = None,  # where customers made once are remembered
    ) -> None:
        self.orders, self.documents, self.ledger = orders, documents, ledger
        self.history, self.problems, self.settings = history, problems, settings
        self.warehouse_of = {location: code for code, location in warehouses.items()}
        self.api, self.clock = api, clock
        self.known_customers = known_customers

    def sync(self, channel: str, order_id: str) -> str:
        """Send the order (once) if it should go; what happened: sent, unchanged, skipped,
        cancelled, waiting (Unleashed did not answer; retried), busy or refused. A run that
        wrote something looks at the order again: a change that came meanwhile found this run's
        document in the making (busy) and left it to this run."""
        result = wrote = self._sync_once(channel, order_id)
        for _ in range(ROUNDS - 1):
            if result not in ("sent", "cancelled"):
                break
            result = self._sync_once(channel, order_id)
        return wrote if result in ("unchanged", "sent", "cancelled") else result

    def _sync_once(self, channel: str, order_id: str) -> str:  # noqa: PLR0911 - one answer per reason
        settings = self.settings
        if settings.mode != "automatic" or (settings.channels and channel not in settings.channels):
            return "skipped"
        kept = self.orders.load(channel, order_id)
        if kept.stored is None:
            return "skipped"
        sales = {d.register_id: d for d in kept.erp_orders if d.number == 0}
        if not sales and (kept.stored.order.cancelled or kept.stored.order.financial_status not in PAID):
            return "skipped"  # not paid yet (or cancelled before it was): nothing goes
        if self.api is None:
            return "waiting"
        if kept.stored.order.cancelled and sales:
            try:
                cancels = self._cancel_all(kept.stored, sales, kept.erp_orders)
            except ChannelUnavailable:  # the documents stay: the order's next change, or a retry, cancels
                return "waiting"
            if "busy" in cancels:
                return "busy"
            return "cancelled" if cancels and all(c == "cancelled" for c in cancels) else (cancels or ["unchanged"])[0]
        plan = self._plan(list(kept.lines.values()))
        if not plan and not sales:
            return "skipped"
        results, first = [], min(plan or sales)  # the first warehouse's order carries the shipping charge
        for warehouse in sorted(set(plan) | set(sales)):
            credits = sorted((d for d in kept.erp_orders if d.register_id == warehouse and d.number > 0), key=_number)
            try:
                results += self._warehouse(
                    kept.stored,
                    warehouse,
                    plan.get(warehouse, {}),
                    sales.get(warehouse),
                    credits,
                    kept.lines,
                    warehouse == first,
                )
            except UnleashedRefused as refused:
                self._refuse(kept.stored, str(refused))
                return "refused"
            except ChannelUnavailable:
                return "waiting"
        if "sent" in results and any(d.error for d in kept.erp_orders):
            self.problems.clear("not_imported", SOURCE, f"order:{channel}:{order_id}")
        return "busy" if "busy" in results else "sent" if "sent" in results else "unchanged"

    def _warehouse(
        self,
        stored: StoredOrder,
        warehouse: str,
        units: dict[str, int],
        sale: PosDocument | None,
        credits: list[PosDocument],
        lines: dict[str, LineRecord],
        shipping: bool,
    ) -> list[str]:
        """The sales order of one warehouse, then credit notes for units taken back since (a
        refund with restock): whatever is unfinished first, then what the order now needs."""
        if sale is None or sale.state != "created":
            if not units:
                return ["unchanged"]
            return [self._send(stored, warehouse, 0, units, sale, lines, shipping)]
        results = [
            self._send(stored, warehouse, c.number, c.units, c, lines, False) for c in credits if c.state != "created"
        ]
        if "busy" in results:
            return results
        carried = dict(sale.units)
        for credit in credits:
            for sku, count in credit.units.items():
                carried[sku] = carried.get(sku, 0) + count
        back = {sku: units.get(sku, 0) - count for sku, count in carried.items() if units.get(sku, 0) < count}
        if back:  # units only ever come back: added units are a new order, as Unleashed's own rule has it
            results.append(self._send(stored, warehouse, len(credits) + 1, back, None, lines, False))
        return results or ["unchanged"]

    def _plan(self, lines: list[LineRecord]) -> dict[str, dict[str, int]]:
        plan: dict[str, dict[str, int]] = {}
        for record in lines:
            warehouse = self.warehouse_of.get(record.location)
            if warehouse and record.taken > 0:
                units = plan.setdefault(warehouse, {})
                units[record.sku] = units.get(record.sku, 0) + record.taken
        return plan

    def _send(
        self,
        stored: StoredOrder,
        warehouse: str,
        number: int,
        units: dict[str, int],
        document: PosDocument | None,
        lines: dict[str, LineRecord],
        shipping: bool,
    ) -> str:
        """Write one document exactly once: the sales order (``number`` 0) or a credit note."""
        assert self.api is not None  # noqa: S101 - checked by sync
        order, now = stored.order, self.clock()
        endpoint = "SalesOrders" if number == 0 else "CreditNotes"
        if document is None:
            name = f"{order.channel}:{order.order_id}:{warehouse}" + (f":credit:{number}" if number else "")
            guid = str(uuid.uuid5(NAMESPACE, name))
            fresh = PosDocument(order.channel, order.order_id, warehouse, number, guid, units, attempts=1)
            fresh = replace(fresh, claimed_at=iso(now), at=iso(now), destination=DESTINATION)
            if not self.documents.record(fresh):
                return "busy"  # another run recorded it a moment ago, and is sending it
            claimed = fresh
        else:
            recent = document.claimed_at and parse_iso(document.claimed_at) > now - STALE_CLAIM
            if document.state == "calling" and recent:
                return "busy"
            again = replace(document, units=units) if number == 0 and document.state == "refused" else document
            taken = self.documents.claim(again, iso(now))  # a call whose answer may have come keeps its units
            if taken is None:
                return "busy"
            claimed = taken
        try:
            answer = self.api.get(f"{endpoint}/{claimed.sale_id}") if claimed.attempts > 1 else None
            if answer is None:  # not there: written now (the body only now: it may cost calls)
                body = self._body(stored, claimed, shipping=shipping) if number == 0 else self._credit(stored, claimed)
                answer = self.api.post(f"{endpoint}/{claimed.sale_id}", body)
        except UnleashedRefused as refused:  # refused as sent: known not to be there; tried again later
            wait = min(FIRST_RETRY * 2 ** max(0, claimed.attempts - 1), LAST_RETRY)
            marked = replace(claimed, state="refused", error=str(refused)[:500], claimed_at="")
            self.documents.replace(claimed, replace(marked, retry_at=iso(now + wait)))
            raise
        except ChannelUnavailable:  # the outcome is unknown: the next attempt looks first
            self.documents.replace(claimed, replace(claimed, claimed_at=""))
            raise
        modified = unleashed_time(answer.get("LastModifiedOn")) or now
        version = int(modified.timestamp() * 1000)
        if number > 0:  # a credit note: the units are back in Unleashed (its next count says so)
            credited = replace(claimed, state="created", version=version, confirmed=True, error="")
            if not self.documents.replace(claimed, credited):
                raise ChannelUnavailable("the credit note's record moved while it was sent")
            return "sent"
        location = next((loc for loc, code in self.warehouse_of.items() if code == warehouse), "")
        mine = [r for r in lines.values() if r.location == location]
        confirm_master_lots(
            self.ledger, mine, (order.channel, order.order_id), f"so:{claimed.sale_id}", version, units, SOURCE
        )
        so_number = str(answer.get("OrderNumber") or "")
        if so_number:  # its shipments name it by number: they find the order through this
            self.documents.remember_number(so_number, order.channel, order.order_id)
        created = replace(claimed, state="created", version=version, receipt=so_number, confirmed=True, error="")
        if not self.documents.replace(claimed, created):
            raise ChannelUnavailable("the sales order's record moved while it was sent")
        return "sent"

    @staticmethod
    def _tax_share(stored: StoredOrder, lines: list[dict[str, Any]]) -> Decimal:
        """This sales order's part of the order's tax: the order's tax in proportion to what its
        lines are worth of all the order's goods and shipping (one warehouse of several pays
        its own share, to the cent)."""
        order = stored.order
        whole = sum((_money(line.unit_price) * line.quantity for line in order.lines), Decimal(0))
        whole += _money(order.shipping)
        mine = sum((Decimal(line["LineTotal"]) for line in lines), Decimal(0))
        if whole <= 0 or mine >= whole:
            return _money(order.tax)
        return (_money(order.tax) * mine / whole).quantize(CENT, ROUND_HALF_UP)

    def _customer(self, stored: StoredOrder) -> str:
        """The Unleashed customer the order is sold to: the named one, or (per customer) one per
        web customer, coded from their e-mail, found or created once (a Guid chosen here, so a
        lost answer never makes a second; the code is remembered in the table)."""
        order = stored.order
        if self.settings.customers == "single" or not order.email:
            return self.settings.customer_code
        assert self.api is not None  # noqa: S101 - checked by sync
        key = order.email.strip().lower()
        code = "WEB-" + uuid.uuid5(NAMESPACE, key).hex[:12].upper()
        if self.known_customers is not None and self.known_customers.product_of(CUSTOMERS, [code]):
            return code
        found = self.api.get("Customers", {"customerCode": code}) or {}
        if not any(c.get("CustomerCode") == code for c in found.get("Items") or [] if isinstance(c, dict)):
            name = (order.ship_to.name if order.ship_to else "") or key
            body = {"CustomerCode": code, "CustomerName": name[:100], "Email": key}
            try:
                self.api.post(f"Customers/{uuid.uuid5(NAMESPACE, 'customer:' + key)}", body)
            except UnleashedRefused:
                again = self.api.get("Customers", {"customerCode": code}) or {}
                if not any(c.get("CustomerCode") == code for c in again.get("Items") or [] if isinstance(c, dict)):
                    raise
        if self.known_customers is not None:
            self.known_customers.remember_product_of(CUSTOMERS, code, code)
        return code

    def _credit(self, stored: StoredOrder, document: PosDocument) -> dict[str, Any]:
        """A credit note for units taken back [shape unverified: Unleashed's CreditNotes page was
        not readable; integrators list CreditLines by product code]."""
        order = stored.order
        prices = {line.sku: _money(line.unit_price) for line in order.lines if line.sku}
        lines: list[dict[str, Any]] = [
            {
                "LineNumber": line_number,
                "Product": {"ProductCode": sku},
                "CreditQuantity": -count,
                "CreditPrice": f"{prices.get(sku, Decimal(0)):.2f}",
                "CreditLineTotal": f"{prices.get(sku, Decimal(0)) * -count:.2f}",
            }
            for line_number, (sku, count) in enumerate(sorted(document.units.items()), start=1)
            if count < 0
        ]
        total = sum((Decimal(line["CreditLineTotal"]) for line in lines), Decimal(0))
        number = f"{self.settings.prefix(order.channel)}{order.number.removeprefix('#') or order.order_id}"
        return {
            "Guid": document.sale_id,
            "SalesOrderNumber": number,
            "Customer": {"CustomerCode": self._customer(stored)},
            "Warehouse": {"WarehouseCode": document.register_id},
            "Comments": f"{order.channel} order {order.number or order.order_id}: units taken back",
            "CreditLines": lines,
            "SubTotal": f"{total:.2f}",
            "TaxTotal": "0.00",
            "Total": f"{total:.2f}",
        }

    def _cancel_all(
        self, stored: StoredOrder, sales: dict[str, PosDocument], documents: list[PosDocument]
    ) -> list[str]:
        """Each warehouse's sales order of a cancelled order, undone. A document whose answer
        was lost (still calling) may be in Unleashed: it is looked up first, and undone if it is
        (a chaos replay found one left allocating for good); one never made is closed."""
        results = []
        for warehouse, sale in sales.items():
            credits = []
            for credit in (c for c in documents if c.register_id == warehouse and c.number > 0):
                settled = self._settle(credit, "CreditNotes")
                if settled is None:
                    return ["busy"]
                credits.append(settled)
            settled = self._settle(sale, "SalesOrders")
            if settled is None:
                return ["busy"]
            if settled.state == "created":
                results.append(self._cancel(stored, settled, credits))
        return results

    def _settle(self, document: PosDocument, endpoint: str) -> PosDocument | None:
        """A document of a cancelled order as Unleashed has it: created (it is there) or
        cancelled (it never was, and now never will be); None while another run is calling."""
        assert self.api is not None  # noqa: S101 - checked by sync
        if document.state not in ("calling", "refused"):
            return document
        now = self.clock()
        if document.state == "refused":
            gone = replace(document, state="cancelled", error="", claimed_at="")
            return gone if self.documents.replace(document, gone) else None
        recent = document.claimed_at and parse_iso(document.claimed_at) > now - STALE_CLAIM
        taken = None if recent else self.documents.claim(document, iso(now))
        if taken is None:
            return None
        try:
            answer = self.api.get(f"{endpoint}/{taken.sale_id}")
        except ChannelUnavailable:
            self.documents.replace(taken, replace(taken, claimed_at=""))
            raise
        if answer is None:
            settled = replace(taken, state="cancelled", claimed_at="", error="")
        else:
            receipt = str(answer.get("OrderNumber") or taken.receipt)
            settled = replace(taken, state="created", claimed_at="", error="", receipt=receipt)
        return settled if self.documents.replace(taken, settled) else None

    def _cancel(self, stored: StoredOrder, document: PosDocument, credits: list[PosDocument]) -> str:
        """The order was cancelled after it was sent: its sales order is deleted in Unleashed
        while its status allows (Parked, Placed: the allocation goes back); once it is picked or
        further along Unleashed refuses, and the problems inbox says to cancel it there.

        Deleting the sales order gives back every unit it allocated, refunded ones included; so
        the credit notes written for its refunds are deleted too, or those units would count
        twice (found by the chaos replay). Each delete is safe to repeat (gone is done), and the
        sales order goes first: if Unleashed keeps it, its credit notes must stay."""
        assert self.api is not None  # noqa: S101 - checked by sync
        order = stored.order
        subject = f"order:{order.channel}:{order.order_id}"
        try:
            self.api.delete(f"SalesOrders/{document.sale_id}")
        except UnleashedRefused as refused:
            why = f"cancelled on {order.channel}, but Unleashed keeps sales order {document.receipt}: {refused}"
            self.history.note(subject, SOURCE, f"cancel of order {order.number}", "rejected", why, self.clock())
            return "refused"
        for credit in (c for c in credits if c.state == "created"):
            try:
                self.api.delete(f"CreditNotes/{credit.sale_id}")
            except UnleashedRefused as refused:  # kept: its units now count twice there until staff fix it
                why = (
                    f"sales order {document.receipt} was deleted, but Unleashed keeps credit note "
                    f"{credit.sale_id} for its refund: delete it in Unleashed ({refused})"
                )
                self.history.note(subject, SOURCE, f"cancel of order {order.number}", "rejected", why, self.clock())
            self.documents.replace(credit, replace(credit, state="cancelled", error=""))
        gone = replace(document, state="cancelled", error="")
        return "cancelled" if self.documents.replace(document, gone) else "busy"

    def _body(self, stored: StoredOrder, document: PosDocument, *, shipping: bool) -> dict[str, Any]:
        order = stored.order
        prices = {line.sku: _money(line.unit_price) for line in order.lines if line.sku}
        lines: list[dict[str, Any]] = []
        for number, (sku, quantity) in enumerate(sorted(document.units.items()), start=1):
            price = prices.get(sku, Decimal(0))
            lines.append(_line(number, {"ProductCode": sku}, quantity, price))
        freight = _money(order.shipping)
        if shipping and freight > 0:
            charge = _line(len(lines) + 1, {"Guid": NO_PRODUCT}, 1, freight)
            lines.append(charge | {"LineType": "Charge", "ProductDescription": f"Shipping: {order.shipping_method}"})
        _spread_tax(lines, self._tax_share(stored, lines))
        subtotal = sum((Decimal(line["LineTotal"]) for line in lines), Decimal(0))
        tax = sum((Decimal(line["LineTax"]) for line in lines), Decimal(0))
        body: dict[str, Any] = {
            "Guid": document.sale_id,
            "OrderNumber": f"{self.settings.prefix(order.channel)}{order.number.removeprefix('#') or order.order_id}",
            "OrderStatus": "Placed",
            "OrderDate": order.created_at,
            "Customer": {"CustomerCode": self._customer(stored)},
            "Warehouse": {"WarehouseCode": document.register_id},
            "Comments": f"{order.channel} order {order.number or order.order_id}",
            "SalesOrderLines": lines,
            "SubTotal": f"{subtotal:.2f}",
            "TaxTotal": f"{tax:.2f}",
            "Total": f"{subtotal + tax:.2f}",
        }
        if order.currency:
            body["Currency"] = {"CurrencyCode": order.currency}
        if order.ship_to is not None:
            to = order.ship_to
            body |= {"DeliveryName": to.name, "DeliveryStreetAddress": to.street1, "DeliveryStreetAddress2": to.street2}
            body |= {"DeliveryCity": to.city, "DeliveryRegion": to.state, "DeliveryPostCode": to.postal_code}
            body |= {"DeliveryCountry": to.country, "DeliveryMethod": order.shipping_method}
        return body

    def _refuse(self, stored: StoredOrder, why: str) -> None:
        """The refusal in the sync history and the problems inbox (the refused document itself
        was marked where it was refused, and is tried again, less often each time)."""
        order = stored.order
        subject = f"order:{order.channel}:{order.order_id}"
        self.history.note(subject, SOURCE, f"order {order.number} into Unleashed", "not_imported", why, self.clock())

    def retry_unfinished(self, out_of_time: Callable[[], bool], limit: int = 50) -> dict[str, int]:
        """Orders whose sales orders are still calling or were refused: tried again."""
        report: dict[str, int] = {}
        for channel, order_id in self.documents.unfinished(iso(self.clock()) + "~", limit):
            if out_of_time():
                break
            result = self.sync(channel, order_id)
            report[result] = report.get(result, 0) + 1
        return report


def _number(document: PosDocument) -> int:
    return document.number


def _line(number: int, product: dict[str, str], quantity: int, price: Decimal) -> dict[str, Any]:
    total = (price * quantity).quantize(CENT, ROUND_HALF_UP)
    return {
        "LineNumber": number,
        "Product": product,
        "OrderQuantity": quantity,
        "UnitPrice": f"{price:.2f}",
        "LineTotal": f"{total:.2f}",
        "LineTax": "0.00",
    }


def _spread_tax(lines: list[dict[str, Any]], tax: Decimal) -> None:
    """The order's tax over the lines by their totals, in cents, the remainder on the last line,
    so the lines' tax adds up to the order's to the cent."""
    base = sum((Decimal(line["LineTotal"]) for line in lines), Decimal(0))
    if tax <= 0 or base <= 0:
        return
    given = Decimal(0)
    for line in lines[:-1]:
        share = (tax * Decimal(line["LineTotal"]) / base).quantize(CENT, ROUND_HALF_UP)
        line["LineTax"] = f"{share:.2f}"
        given += share
    lines[-1]["LineTax"] = f"{tax - given:.2f}"


def _money(text: str | None) -> Decimal:
    try:
        return Decimal(text or "0").quantize(CENT, ROUND_HALF_UP)
    except InvalidOperation:
        return Decimal(0)
