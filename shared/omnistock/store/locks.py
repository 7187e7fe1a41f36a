"""Leases in the table: one holder at a time for work that must not run twice at once (a token
refresh that revokes the token it spends). A lease ends when released or when it runs out, so a
holder that dies does not block the next one for long."""

from __future__ import annotations

from typing import Any

from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Table, to_attrs


class Leases:
    def __init__(self, table: Table) -> None:
        self.table = table

    def take(self, name: str, holder: str, now_epoch: float, seconds: int) -> bool:
        """Take the lease ``name`` for ``seconds`` unless someone else holds it; True if taken."""
        expr = Expression()
        body: dict[str, Any] = {
            "Item": to_attrs(
                {
                    "pk": keys.lease_pk(name),
                    "sk": keys.LEASE_SK,
                    "kind": "lease",
                    "holder": holder,
                    "until": int(now_epoch) + seconds,
                }
            ),
            "ConditionExpression": f"attribute_not_exists(pk) OR {expr.name('until')} < {expr.value(int(now_epoch))}",
        }
        expr.attach(body)
        return self.table.transact([{"Put": body}]) is None

    def give_back(self, name: str, holder: str) -> None:
        """End the lease if ``holder`` still holds it (one that ran out may be someone else's now)."""
        expr = Expression()
        body: dict[str, Any] = {
            "Key": to_attrs({"pk": keys.lease_pk(name), "sk": keys.LEASE_SK}),
            "ConditionExpression": f"{expr.name('holder')} = {expr.value(holder)}",
        }
        expr.attach(body)
        self.table.transact([{"Delete": body}])
