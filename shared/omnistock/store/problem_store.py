"""Open problems: one item per thing someone must look at (a failed push, an unmapped line, a
refused report, a ship notice for an unknown order), in one partition in (kind, channel,
subject) order, so the problems inbox is a query, never a scan of the sync history.

A problem is written with the sync-history entry that reports it (same batch); a repeat of the
same problem overwrites it. It leaves when it is resolved: by
a later successful push (noticed when the inbox is read), by the retry that fixed it, or by
someone dismissing it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from omnistock.clock import epoch_seconds_after
from omnistock.models import Movement, SyncEntry
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.table import Item, Table

PROBLEMS_PK = "PROBLEMS"
# Results of sync-history entries that need someone: each is a kind in the inbox.
PROBLEM_KINDS = ("failed", "unmapped", "rejected", "unknown_order", "not_imported")
SHORTFALL = "shortfall"  # a location promising more than it counts: from the movement log's stream
RETENTION_DAYS = 90  # a problem nobody resolved in three months is dropped (the history keeps its entry)


@dataclass(frozen=True)
class Problem:
    problem_id: str  # its sort key: kind, channel and subject
    kind: str
    channel: str
    subject: str  # a SKU, or an order, line or product named by its ids
    why: str
    error: str
    attempt: str
    at: str
    after: int


def problem_id(kind: str, channel: str, subject: str) -> str:
    return f"{kind}#{keys.escape(channel)}#{subject}"


def problem_item(entry: SyncEntry, now: datetime) -> Item | None:
    """The inbox item for ``entry``, or None if its result needs nobody."""
    if entry.result not in PROBLEM_KINDS:
        return None
    # An unmapped order line is a problem of its own (two orders of an unknown SKU are two lines
    # to settle); other problems are one per subject.
    line = entry.result == "unmapped" and entry.attempt.startswith("order:")
    return {
        "pk": PROBLEMS_PK,
        "sk": problem_id(entry.result, entry.channel, entry.sku + (f"#{entry.attempt}" if line else "")),
        "kind": "problem",
        "problem": entry.result,
        "channel": entry.channel,
        "subject": entry.sku,
        "why": entry.why,
        "error": entry.error,
        "attempt": entry.attempt,
        "at": entry.at,
        "after": entry.after,
        "purge_at": epoch_seconds_after(now, RETENTION_DAYS),
    }


class ProblemStore:
    def __init__(self, table: Table) -> None:
        self.table = table

    def page(self, kind: str, after: str, limit: int) -> list[Problem]:
        """Up to ``limit`` open problems (of ``kind``, or all for ""), in id order after ``after``."""
        return [_problem(item) for item in self._after(f"{kind}#" if kind else "", after, limit)]

    def failed(self, channel: str, prefix: str, after: str, limit: int) -> list[Problem]:
        """Open failed pushes to ``channel`` of SKUs starting with ``prefix`` (after the SKU
        ``after``), in SKU order."""
        base = problem_id("failed", channel, "")
        found = self._after(base + prefix, base + after if after else "", limit)
        return [_problem(item) for item in found]

    def shortfalls(self, location: str, prefix: str, after: str, limit: int) -> list[Problem]:
        """Open shortfalls at ``location`` of SKUs starting with ``prefix`` (after the SKU
        ``after``), in SKU order."""
        base = problem_id(SHORTFALL, location, "")
        return [_problem(item) for item in self._after(base + prefix, base + after if after else "", limit)]

    def _after(self, prefix: str, after: str, limit: int) -> list[Item]:
        """Items whose sort key starts with ``prefix``, after ``after``, in order."""
        low, high = max(after, prefix), keys.prefix_end(prefix) if prefix else "~"
        if low >= high:
            return []
        items = self.table.query(
            "pk = :pk AND sk BETWEEN :low AND :high",
            {":pk": PROBLEMS_PK, ":low": low or "#", ":high": high},
            limit=limit + 1,  # the bound is inclusive: the cursor itself may come back
        )
        return [item for item in items if item["sk"] != after][:limit]

    def note_shortfalls(self, movements: list[Movement]) -> None:
        """Keep one open problem per (SKU, location) while it promises more than it counts
        (available below zero), from its movements in stream order; it leaves when the level
        is whole again. Only movements into, within or out of a shortfall write anything."""
        latest: dict[str, Item | None] = {}
        for movement in movements:
            if movement.after.available >= 0 and movement.before.available >= 0:
                continue
            key = problem_id(SHORTFALL, movement.location, movement.sku)
            latest[key] = None if movement.after.available >= 0 else _shortfall_item(key, movement)
        changes = list(latest.items())
        for start in range(0, len(changes), 25):
            chunk = changes[start : start + 25]
            puts = [item for _, item in chunk if item is not None]
            self.table.batch_write(puts, [(PROBLEMS_PK, key) for key, item in chunk if item is None])

    def open_failures(self, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """(channel, SKU) -> when its last push failed, for the pairs with an open failure."""
        keys_wanted = [(PROBLEMS_PK, problem_id("failed", channel, sku)) for channel, sku in pairs]
        return {(item["channel"], item["subject"]): item["at"] for item in self.table.batch_get(keys_wanted)}

    def get(self, problem_id: str) -> Problem | None:
        item = self.table.get(PROBLEMS_PK, problem_id)
        return _problem(item) if item else None

    def clear(self, kind: str, channel: str, subject: str) -> None:
        """Drop a problem its own path has fixed (an order imported after all)."""
        self.table.delete(PROBLEMS_PK, problem_id(kind, channel, subject))

    def resolve(self, problem: Problem) -> bool:
        """Drop the problem unless it was reported again since it was read (then it stays)."""
        expr = Expression()
        condition = expr.attach({"ConditionExpression": f"{expr.name('at')} = {expr.value(problem.at)}"})
        return self.table.delete_if(PROBLEMS_PK, problem.problem_id, condition)

    def pushed_since(self, problems: list[Problem]) -> set[str]:
        """Ids of failed-push problems whose SKU was pushed to that channel after the failure."""
        failed = [p for p in problems if p.kind == "failed"]
        wanted = {(keys.sku_pk(p.subject), keys.pushed_sk(p.channel)): p for p in failed}
        resolved = set()
        for item in self.table.batch_get(list(wanted)):
            problem = wanted.get((item["pk"], item["sk"]))
            if problem is not None and str(item.get("at", "")) > problem.at:
                resolved.add(problem.problem_id)
        return resolved


def _shortfall_item(key: str, movement: Movement) -> Item:
    short = -movement.after.available
    return {
        "pk": PROBLEMS_PK,
        "sk": key,
        "kind": "problem",
        "problem": SHORTFALL,
        "channel": movement.location,  # a location's problem: shown where a channel would be
        "subject": movement.sku,
        "why": f"{movement.kind.value} ({movement.source} {movement.event_id})",
        "error": f"{short} units promised (held or sold) beyond the {movement.after.on_hand} counted",
        "attempt": "",
        "at": movement.at,
        "after": short,
    }


def _problem(item: Item) -> Problem:
    return Problem(
        problem_id=item["sk"],
        kind=item["problem"],
        channel=item["channel"],
        subject=item["subject"],
        why=item.get("why", ""),
        error=item.get("error", ""),
        attempt=item.get("attempt", ""),
        at=item["at"],
        after=int(item.get("after", 0)),
    )
