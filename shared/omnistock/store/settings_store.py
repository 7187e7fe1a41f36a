"""Settings changed after deploying (the template's parameters are their first values), and the
audit of every change: who, when, what it was, what it became. A setting and its audit entry
are written in one transaction, conditional on the setting's revision (a concurrent change
is refused, not lost)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnistock.clock import iso
from omnistock.errors import Conflict
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Item, Table, to_attrs


@dataclass(frozen=True)
class Stored:
    name: str
    value: Any
    rev: int
    updated_at: str
    updated_by: str


@dataclass(frozen=True)
class AuditEntry:
    key: str  # pass as ``before`` for the next (older) page
    at: str
    who: str
    subject: str  # "setting lightspeed.outlets", "channel shopify"
    before: Any
    after: Any


class SettingsStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def all(self) -> dict[str, Stored]:
        items = self.table.query("pk = :pk", {":pk": keys.SETTINGS_PK})
        return {
            i["sk"]: Stored(i["sk"], json.loads(i["value"]), int(i["rev"]), i["updated_at"], i["updated_by"])
            for i in items
        }

    def save(self, name: str, value: Any, seen: Stored | None, before: Any, who: str, now: datetime) -> None:
        """Store ``value`` unless the setting changed since ``seen`` (None: never stored)."""
        item: Item = {"pk": keys.SETTINGS_PK, "sk": name, "kind": "setting", "value": json.dumps(value)}
        item |= {"rev": (seen.rev if seen else 0) + 1, "updated_at": iso(now), "updated_by": who}
        expr = Expression()
        condition = "attribute_not_exists(pk)" if seen is None else f"{expr.name('rev')} = {expr.value(seen.rev)}"
        put = expr.attach({"Item": to_attrs(item), "ConditionExpression": condition})
        audit = self._audit_item(f"setting {name}", who, before, value, now)
        if self.table.transact([{"Put": put}, {"Put": {"Item": to_attrs(audit)}}]) is not None:
            raise Conflict(f"setting {name!r} was changed meanwhile: read it again and retry")

    def record(self, subject: str, who: str, before: Any, after: Any, now: datetime) -> None:
        """An audit entry for a change saved elsewhere (a channel's settings)."""
        self.table.put(self._audit_item(subject, who, before, after, now))

    def audit(self, month: str, before: str, limit: int) -> list[AuditEntry]:
        """A month's entries, newest first, older than ``before`` (a sort key; "" for the newest)."""
        condition = "pk = :pk AND sk < :before" if before else "pk = :pk"
        values = {":pk": keys.audit_pk(month)} | ({":before": before} if before else {})
        items = self.table.query(condition, values, forward=False, limit=limit)
        return [
            AuditEntry(i["sk"], i["at"], i["who"], i["subject"], json.loads(i["before"]), json.loads(i["after"]))
            for i in items
        ]

    @staticmethod
    def _audit_item(subject: str, who: str, before: Any, after: Any, now: datetime) -> Item:
        at = iso(now)
        return {
            "pk": keys.audit_pk(at[:7]),
            "sk": f"{at}#{uuid.uuid4().hex[:8]}",
            "kind": "audit",
            "at": at,
            "who": who[:300],
            "subject": subject,
            "before": json.dumps(before, sort_keys=True),
            "after": json.dumps(after, sort_keys=True),
        }
