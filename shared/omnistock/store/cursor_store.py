"""Where each poll has got to: a cursor per feed (moved forward only), and a poll's notes for
its next run (marks). One small item each, under ``CURSOR#<name>``."""

from __future__ import annotations

from typing import Any

from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Table, to_attrs


class CursorStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def cursor(self, name: str) -> str | None:
        item = self.table.get(keys.cursor_pk(name), keys.CURSOR_SK)
        return item["at"] if item else None

    def marks(self, name: str) -> set[str]:
        """A poll's notes for its next run (ids it saw something odd about)."""
        item = self.table.get(keys.cursor_pk(name), keys.CURSOR_SK)
        return set(item.get("ids") or []) if item else set()

    def hint(self, name: str, ref: str, at: str) -> None:
        """A webhook's hint for the next poll: read ``ref`` (one item per id, so two webhooks at
        once never overwrite each other's)."""
        self.table.put({"pk": keys.hints_pk(name), "sk": ref, "kind": "hint", "at": at})

    def hints(self, name: str, limit: int) -> list[str]:
        return [item["sk"] for item in self.table.query("pk = :pk", {":pk": keys.hints_pk(name)}, limit=limit)]

    def drop_hint(self, name: str, ref: str) -> None:
        self.table.delete(keys.hints_pk(name), ref)

    def save_marks(self, name: str, ids: set[str]) -> None:
        self.table.put({"pk": keys.cursor_pk(name), "sk": keys.CURSOR_SK, "kind": "marks", "ids": sorted(ids)})

    def advance_cursor(self, name: str, at: str) -> bool:
        """Move a cursor forward (never back); False if it is already at or past ``at``."""
        expr = Expression()
        body: dict[str, Any] = {
            "Item": to_attrs({"pk": keys.cursor_pk(name), "sk": keys.CURSOR_SK, "kind": "cursor", "at": at}),
            "ConditionExpression": f"attribute_not_exists(pk) OR {expr.name('at')} < {expr.value(at)}",
        }
        expr.attach(body)
        return self.table.transact([{"Put": body}]) is None
