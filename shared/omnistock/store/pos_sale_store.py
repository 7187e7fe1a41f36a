"""The POS documents (sales and returns) Omnistock writes for one web order, kept in the order's
partition so one query reads the order, its lines and what the POS was told.

A document is recorded (state ``calling``, with the sale id Omnistock chose) *before* the POS is
called, and every attempt claims it by bumping ``attempts`` with a condition, so two runs never
call for the same document at once and a run after a lost answer knows to look the sale up
before creating it. Documents not yet done sit in a sparse index (gsi2) that the retry schedule
reads, oldest first.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from omnistock.orders import PosDocument
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Item, Table, to_attrs

POS_SALE_PREFIX = "POSSALE#"  # orders.PosDocument.key starts with its destination and "#"
ERP_ORDER_PREFIX = "ERPORDER#"


def unfinished_pk(destination: str) -> str:
    """gsi2: a destination's documents still calling, or refused until fixed."""
    return f"{destination}S#UNFINISHED"


def document_item(document: PosDocument) -> Item:
    item: Item = {
        "pk": keys.order_pk(document.channel, document.order_id),
        "sk": document.key,
        "kind": "pos_sale",
        "channel": document.channel,
        "order_id": document.order_id,
        "register_id": document.register_id,
        "number": document.number,
        "sale_id": document.sale_id,
        "units": dict(document.units),
        "state": document.state,
        "attempts": document.attempts,
        "claimed_at": document.claimed_at,
        "version": document.version,
        "receipt": document.receipt,
        "paid": document.paid,
        "confirmed": document.confirmed,
        "error": document.error,
        "at": document.at,
        "retry_at": document.retry_at,
        "destination": document.destination,
    }
    finished = document.state == "cancelled" or (document.state == "created" and document.confirmed)
    if not finished:  # unfinished: the retry schedule finds it
        pk = unfinished_pk(document.destination)
        item["gsi2pk"], item["gsi2sk"] = pk, f"{document.retry_at or document.at}#{item['pk']}#{item['sk']}"
    return item


def document_from_item(item: Item) -> PosDocument:
    return PosDocument(
        channel=item["channel"],
        order_id=item["order_id"],
        register_id=item["register_id"],
        number=int(item["number"]),
        sale_id=item["sale_id"],
        units={sku: int(units) for sku, units in (item.get("units") or {}).items()},
        state=item["state"],
        attempts=int(item.get("attempts", 0)),
        claimed_at=item.get("claimed_at", ""),
        version=int(item.get("version", 0)),
        receipt=item.get("receipt", ""),
        paid=bool(item.get("paid")),
        confirmed=bool(item.get("confirmed")),
        error=item.get("error", ""),
        at=item.get("at", ""),
        retry_at=item.get("retry_at", ""),
        destination=item.get("destination", "POSSALE"),
    )


class PosSaleStore:
    """The documents of one destination (the POS's sales, or the ERP's sales orders)."""

    def __init__(self, table: Table, destination: str = "POSSALE") -> None:
        self.table = table
        self.destination = destination

    def documents(self, channel: str, order_id: str) -> list[PosDocument]:
        items = self.table.query(
            "pk = :pk AND begins_with(sk, :prefix)",
            {":pk": keys.order_pk(channel, order_id), ":prefix": f"{self.destination}#"},
        )
        return [document_from_item(item) for item in items]

    def record(self, document: PosDocument) -> bool:
        """Record a new document before its call; False if one is there already."""
        return self.table.put_new(document_item(document))

    def replace(self, old: PosDocument, new: PosDocument) -> bool:
        """Move a document on from ``old`` (as read: its attempts and state); False if another
        run moved it first."""
        expr = Expression()
        condition = f"{expr.name('attempts')} = {expr.value(old.attempts)}"
        condition += f" AND {expr.name('state')} = {expr.value(old.state)}"
        condition += f" AND {expr.name('confirmed')} = {expr.value(old.confirmed)}"
        condition += f" AND {expr.name('paid')} = {expr.value(old.paid)}"
        put: dict[str, Any] = {"Item": to_attrs(document_item(new)), "ConditionExpression": condition}
        expr.attach(put)
        return self.table.transact([{"Put": put}]) is None

    def claim(self, document: PosDocument, now: str) -> PosDocument | None:
        """Take the document for one attempt (its count goes up by one); None if another run
        took it since it was read."""
        claimed = replace(document, attempts=document.attempts + 1, claimed_at=now)
        return claimed if self.replace(document, claimed) else None

    def unfinished(self, before: str, limit: int) -> list[tuple[str, str]]:
        """(channel, order id) of orders with a document still calling (recorded before
        ``before``) or refused (due to be tried again before it), oldest first."""
        items = self.table.query(
            "gsi2pk = :pk AND gsi2sk < :before",
            {":pk": unfinished_pk(self.destination), ":before": before},
            index="gsi2",
            limit=limit,
        )
        return list(dict.fromkeys((item["channel"], item["order_id"]) for item in items))

    # ---- the destination's own number for a document (an ERP's sales order number)
    def remember_number(self, number: str, channel: str, order_id: str) -> None:
        item = {"pk": f"{self.destination}NO#{number}", "sk": keys.ORDER_SK, "kind": "document_number"}
        self.table.put(item | {"channel": channel, "order_id": order_id})

    def order_numbered(self, number: str) -> tuple[str, str] | None:
        """The (channel, order id) a document the destination numbers ``number`` was written for."""
        item = self.table.get(f"{self.destination}NO#{number}", keys.ORDER_SK)
        return (item["channel"], item["order_id"]) if item else None
