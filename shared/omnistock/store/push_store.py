"""What the push engine reads and writes: a SKU's push state (one query on the SKU's
partition), policies, the last value pushed per channel, and the sync history."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omnistock.clock import epoch_seconds_after, iso
from omnistock.models import CatalogEntry, StockLevel, SyncEntry
from omnistock.policy import SkuPolicy
from omnistock.store import keys
from omnistock.store.expressions import Expression
from omnistock.store.items import catalog_from_item, stock_from_item
from omnistock.store.problem_store import problem_item
from omnistock.store.shards import Reader, merged
from omnistock.store.table import Item, Table, to_attrs


@dataclass(frozen=True)
class Pushed:
    """What Omnistock last made a channel show for a SKU (and for which listing), and since
    when a raise has been waiting because the channel's number moved on its own."""

    quantity: int
    at: str
    listing_id: str = ""
    deferred_since: str | None = None


@dataclass(frozen=True)
class PushState:
    """Everything needed to decide a SKU's pushes, read with two strongly consistent queries
    (its pending lots, which may be many, are skipped)."""

    sku: str
    catalog: CatalogEntry | None
    levels: dict[str, int] = field(default_factory=dict)
    policies: dict[str, SkuPolicy] = field(default_factory=dict)
    pushed: dict[str, Pushed] = field(default_factory=dict)
    revisions: tuple[str, ...] = ()  # changes whenever anything above changes
    held_by: dict[str, dict[str, int]] = field(default_factory=dict)  # location -> source -> units held

    def own_holds(self, channel: str, locations: tuple[str, ...]) -> int:
        """Units held in ``channel``'s own carts at ``locations``."""
        return sum(self.held_by.get(location, {}).get(channel, 0) for location in locations)

    @property
    def fingerprint(self) -> str:
        return "|".join(self.revisions)


@dataclass(frozen=True)
class Verification:
    """A SKU whose channel must be read and repaired if it is wrong, and the change that asked."""

    sku: str
    channel: str
    change: str


class PushStore:
    def __init__(self, table: Table, sync_retention_days: int = 30) -> None:
        self.table = table
        self.sync_retention_days = sync_retention_days

    def push_state(self, sku: str) -> PushState:
        """Everything in the SKU's partition that decides its pushes: two queries (its
        pending lots, between the two ranges, are skipped)."""
        pk = keys.sku_pk(sku)
        items = self.table.query(
            "pk = :pk AND sk BETWEEN :first AND :last",
            {":pk": pk, ":first": keys.CATALOG_SK, ":last": keys.prefix_end(keys.LOCATION_PREFIX)},
        )
        items += self.table.query("pk = :pk AND sk >= :first", {":pk": pk, ":first": keys.POLICY_PREFIX})
        return _push_state(sku, items)

    def push_states(
        self,
        skus: list[str],
        *,
        policies_of: list[str],
        pushed_to: list[str],
        locations: list[str],
        catalogs: dict[str, PushState] | None = None,
    ) -> dict[str, PushState]:
        """The push state of many SKUs in batches of 100 keys: per SKU its catalog entry
        (unless ``catalogs`` holds it already, from ``catalog_states``), its level at each of
        ``locations``, its policy for each channel of ``policies_of`` (every configured
        channel: another channel's allocation reserves units) and its pushed value for each
        of ``pushed_to``. One channel, 2 locations, 3 configured channels: 7 keys a SKU."""
        per_sku = [
            *([] if catalogs is not None else [keys.CATALOG_SK]),
            *(keys.stock_sk(location) for location in locations),
            *(keys.policy_sk(channel) for channel in policies_of),
            *(keys.pushed_sk(channel) for channel in pushed_to),
        ]
        by_sku: dict[str, list[Item]] = {sku: [] for sku in skus}
        for item in self.table.batch_get([(keys.sku_pk(sku), sk) for sku in skus for sk in per_sku]):
            sku = keys.sku_of(item["pk"])
            if sku in by_sku:
                by_sku[sku].append(item)
        return {
            sku: _push_state(sku, sorted(items, key=lambda item: item["sk"]), (catalogs or {}).get(sku))
            for sku, items in by_sku.items()
        }

    def catalog_states(self, skus: list[str]) -> dict[str, PushState]:
        """Push states holding only the SKUs' catalog entries (their listings): 100 SKUs a call."""
        found: dict[str | None, Item] = {
            keys.sku_of(item["pk"]): item
            for item in self.table.batch_get([(keys.sku_pk(s), keys.CATALOG_SK) for s in skus])
        }
        return {sku: _push_state(sku, [found[sku]] if sku in found else []) for sku in skus}

    def save_policy(self, sku: str, channel: str, policy: SkuPolicy, now: datetime) -> None:
        """A policy change lands on the stream like a stock change, so it is pushed the same way."""
        item: Item = {
            "pk": keys.sku_pk(sku),
            "sk": keys.policy_sk(channel),
            "kind": "policy",
            "sku": sku,
            "channel": channel,
            "paused": policy.paused,
            "allocation": policy.allocation,
            "updated_at": iso(now),
        }
        for name in ("buffer", "max_shown", "auto_sync"):
            if getattr(policy, name) is not None:
                item[name] = getattr(policy, name)
        self.table.put(item | keys.policy_state_keys(channel, sku, policy.paused, policy.auto_sync))

    def skus_in_state(self, channel: str, state: str, prefix: str, after: str, limit: int) -> list[str]:
        """SKUs (starting with ``prefix``, after ``after``) whose policy on ``channel`` is in
        ``state`` (PAUSED or AUTO_SYNC_OFF), in SKU order: one index entry read per SKU."""
        index, pk, sk = ("gsi1", "gsi1pk", "gsi1sk") if state == keys.PAUSED else ("gsi2", "gsi2pk", "gsi2sk")
        low = max(after, prefix) if after else prefix
        if prefix and low >= keys.prefix_end(prefix):
            return []
        values: dict[str, Any] = {":pk": keys.policy_state_pk(channel, state)}
        condition = f"{pk} = :pk"
        if prefix:
            condition += f" AND {sk} BETWEEN :low AND :high"
            values |= {":low": low, ":high": keys.prefix_end(prefix)}
        elif low:
            condition += f" AND {sk} >= :low"
            values[":low"] = low
        items = self.table.query(condition, values, index=index, limit=limit + 1)
        return [item[sk] for item in items if item[sk] != after][:limit]

    def record_pushed(self, pushed: dict[tuple[str, str], Pushed]) -> None:
        items = []
        for (sku, channel), record in pushed.items():
            item: Item = {
                "pk": keys.sku_pk(sku),
                "sk": keys.pushed_sk(channel),
                "kind": "pushed",
                "quantity": record.quantity,
                "at": record.at,
                "listing_id": record.listing_id,
            }
            if record.deferred_since:
                item["deferred_since"] = record.deferred_since
            items.append(item)
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])

    def pushed(self, sku: str, channel: str) -> Pushed | None:
        item = self.table.get(keys.sku_pk(sku), keys.pushed_sk(channel))
        if item is None:
            return None
        return Pushed(int(item["quantity"]), item["at"], item.get("listing_id", ""), item.get("deferred_since"))

    def note_channel_level(
        self, sku: str, channel: str, listing_id: str, shown: int, reported: str, now: datetime, *, defer: bool
    ) -> bool:
        """The channel reports it shows ``shown`` (as of ``reported``, UTC ISO): remember it as
        what the channel shows, so the next write compares against it; with ``defer`` a raise
        over it waits for the grace window. False if a later report was noted already."""
        expr = Expression()
        sets: dict[tuple[str, ...], Any] = {
            ("kind",): "pushed",
            ("quantity",): shown,
            ("at",): iso(now),
            ("listing_id",): listing_id,
            ("reported_at",): reported,
        }
        body: dict[str, Any] = {
            "Key": to_attrs({"pk": keys.sku_pk(sku), "sk": keys.pushed_sk(channel)}),
            "UpdateExpression": expr.update(
                set_=sets,
                set_if_absent={"deferred_since": iso(now)} if defer else None,
                remove=None if defer else [("deferred_since",)],
            ),
            "ConditionExpression": f"attribute_not_exists({expr.name('reported_at')}) OR "
            f"{expr.name('reported_at')} < {expr.value(reported)}",
        }
        expr.attach(body)
        return self.table.transact([{"Update": body}]) is None

    def note(
        self,
        subject: str,
        channel: str,
        why: str,
        result: str,
        problem: str,
        now: datetime,
        before: int | None = None,
        after: int = 0,
    ) -> None:
        """One sync-history entry that is not a push: what happened to ``subject`` (a SKU, or an
        order, line or delivery named by its ids) on ``channel``, and why."""
        entry = SyncEntry(subject, channel, f"{why}:{iso(now)}", iso(now), before, after, why, result, problem)
        self.record_sync([entry], now)

    def record_sync(self, entries: list[SyncEntry], now: datetime) -> None:
        """The entries, and for each SKU and channel among them a mark that it must be verified
        (the newest entry's): a SKU's entries and its mark go in the same write request."""
        change = uuid.uuid4().hex  # this record's own: two records in one millisecond differ
        groups: dict[tuple[str, str], list[Item]] = {}
        problems: dict[tuple[str, str], Item] = {}
        for number, entry in enumerate(entries):
            group = groups.setdefault((entry.channel, entry.sku), [])
            group.append(self._sync_item(entry, number, now))
            if entry.failed:
                group.append(self._failure_item(entry, number, now))
            problem = problem_item(entry, now)
            if problem is not None:  # one per key in a batch: the newest entry's
                problems[(problem["pk"], problem["sk"])] = problem
        for problem in problems.values():
            groups[(problem["channel"], problem["subject"])].append(problem)
        batch: list[Item] = []
        for (channel, sku), items in groups.items():
            latest = max((item for item in items if item["kind"] == "sync"), key=lambda item: item["sk"])
            group = [*items, self._verify_item(channel, sku, latest, change, now)]
            for start in range(0, len(group), 25):  # one SKU's group: nearly always a few items
                if len(batch) + len(group[start : start + 25]) > 25:
                    self.table.batch_put(batch)
                    batch = []
                batch += group[start : start + 25]
        if batch:
            self.table.batch_put(batch)

    def mark(self, channel: str, skus: list[str], now: datetime) -> None:
        """Mark SKUs for verification without a push (a channel in shadow: once it is live,
        reconcile brings what changed meanwhile in line)."""
        change, at = uuid.uuid4().hex, iso(now)
        items = [self._verify_item(channel, sku, {"at": at}, change, now) for sku in dict.fromkeys(skus)]
        for start in range(0, len(items), 25):
            self.table.batch_put(items[start : start + 25])

    # ---- the SKUs to verify (read by reconcile)
    def due_verifications(self, channel: str, now: str) -> list[Verification]:
        """Every SKU of ``channel`` marked for verification at or before ``now``, all shards."""
        found = []
        for pk in keys.verify_pks(channel):
            items = self.table.query("pk = :pk", {":pk": pk})
            found += [Verification(item["sku"], channel, item["change"]) for item in items if item["due"] <= now]
        return found

    def verified(self, checked: Verification) -> bool:
        """Forget the mark, unless a newer change has marked the SKU again since it was read."""
        expr = Expression()
        condition = expr.attach({"ConditionExpression": f"{expr.name('change')} = {expr.value(checked.change)}"})
        return self.table.delete_if(keys.verify_pk(checked.channel, checked.sku), checked.sku, condition)

    def _verify_item(self, channel: str, sku: str, latest: Item, change: str, now: datetime) -> Item:
        return {
            "pk": keys.verify_pk(channel, sku),
            "sk": sku,
            "kind": "verify",
            "sku": sku,
            "channel": channel,
            "change": change,  # the record that asked: a newer one replaces the mark
            "due": latest["at"],
            "purge_at": epoch_seconds_after(now, self.sync_retention_days),
        }

    def sync_history(
        self,
        *,
        sku: str | None = None,
        channel: str | None = None,
        failed_only: bool = False,
        limit: int = 100,
        since: str = "",
    ) -> list[SyncEntry]:
        """Newest first, by SKU (its partition) or by channel (its shards of index gsi2; a channel's
        failures from their own partitions, so they never read the rest), from ``since`` on."""
        since = since or "0"  # sorts before any timestamp; key conditions refuse empty strings
        read_limit = None if failed_only or (sku and channel) else limit  # filtered reads page further
        if sku is not None:
            items = self.table.query(
                "pk = :pk AND sk >= :since",
                {":pk": keys.sync_pk(sku), ":since": since},
                forward=False,
                limit=read_limit,
            )
            if channel is not None:
                items = [item for item in items if item["channel"] == channel]
        elif channel is not None and failed_only:
            failures = self._newest_first(since, "pk", "sk")
            items = merged(failures, keys.sync_failed_pks(channel), "sk", limit, descending=True)
        elif channel is not None:
            history = self._newest_first(since, "gsi2pk", "gsi2sk", index="gsi2")
            items = merged(history, keys.sync_channel_pks(channel), "gsi2sk", read_limit, descending=True)
        else:
            raise ValueError("sync history is read by SKU or by channel")
        entries = [_sync(item) for item in items]
        if failed_only:
            entries = [entry for entry in entries if entry.failed]
        return entries[:limit]

    def _newest_first(self, since: str, pk: str, sk: str, index: str | None = None) -> Reader:
        """A reader of one shard for ``merged``: newest first, from ``since`` on, strictly
        older than the sort key it is given."""

        def read(partition: str, before: str | None, limit: int | None) -> list[Item]:
            if before is None:
                condition, values = f"{pk} = :pk AND {sk} >= :since", {":pk": partition, ":since": since}
            else:
                condition = f"{pk} = :pk AND {sk} BETWEEN :since AND :before"
                values = {":pk": partition, ":since": since, ":before": before}
            found = self.table.query(condition, values, index=index, forward=False, limit=limit)
            return [item for item in found if item[sk] != before]

        return read

    def _failure_item(self, entry: SyncEntry, number: int, now: datetime) -> Item:
        """A failed entry again, in its channel's failures (the sync item without its keys)."""
        entry_item = self._sync_item(entry, number, now)
        keys_of_entry = ("pk", "sk", "gsi2pk", "gsi2sk")
        fields = {name: value for name, value in entry_item.items() if name not in keys_of_entry}
        sort_key = keys.sync_sk(entry.at, entry.sku, entry.attempt, number)
        return fields | {"pk": keys.sync_failed_pk(entry.channel, entry.sku), "sk": sort_key, "kind": "sync_failed"}

    def _sync_item(self, entry: SyncEntry, number: int, now: datetime) -> Item:
        return {
            "pk": keys.sync_pk(entry.sku),
            "sk": keys.sync_sk(entry.at, entry.channel, entry.attempt, number),
            "gsi2pk": keys.sync_channel_pk(entry.channel, entry.sku),
            "gsi2sk": keys.sync_channel_sk(entry.at, entry.sku, number),
            "kind": "sync",
            "sku": entry.sku,
            "channel": entry.channel,
            "attempt": entry.attempt,
            "at": entry.at,
            "before": entry.before,
            "after": entry.after,
            "why": entry.why,
            "result": entry.result,
            "error": entry.error,
            "purge_at": epoch_seconds_after(now, self.sync_retention_days),
        } | ({"waited_ms": entry.waited_ms} if entry.waited_ms is not None else {})


def _push_state(sku: str, items: list[Item], known: PushState | None = None) -> PushState:
    """A SKU's push state from its items, in sort-key order (the fingerprint follows it);
    ``known``: its catalog entry, read before (its sort key sorts before every other)."""
    catalog = known.catalog if known else None
    levels: dict[str, int] = {}
    policies: dict[str, SkuPolicy] = {}
    pushed: dict[str, Pushed] = {}
    held_by: dict[str, dict[str, int]] = {}
    revisions = list(known.revisions) if known else []
    for item in items:
        sort_key: str = item["sk"]
        if sort_key == keys.CATALOG_SK:
            catalog = catalog_from_item(item)
        elif sort_key.startswith(keys.LOCATION_PREFIX):
            level: StockLevel = stock_from_item(item)
            levels[level.location] = level.available
            held_by[level.location] = {
                name.removeprefix("held@"): int(n) for name, n in item.items() if name.startswith("held@") and n
            }
        elif sort_key.startswith(keys.POLICY_PREFIX):
            policies[item.get("channel") or keys.policy_channel(sort_key)] = _policy(item)
        elif sort_key.startswith(keys.PUSHED_PREFIX):
            pushed[keys.pushed_channel(sort_key)] = Pushed(
                int(item["quantity"]), item["at"], item.get("listing_id", ""), item.get("deferred_since")
            )
        else:
            continue  # holds, listings: not part of what is pushed
        revisions.append(f"{sort_key}@{item.get('rev', item.get('updated_at', item.get('at', '')))}")
    return PushState(sku, catalog, levels, policies, pushed, tuple(revisions), held_by)


def _policy(item: Item) -> SkuPolicy:
    return SkuPolicy(
        buffer=item.get("buffer"),
        max_shown=item.get("max_shown"),
        paused=bool(item.get("paused", False)),
        auto_sync=item.get("auto_sync"),
        allocation=int(item.get("allocation", 0)),
    )


def _sync(item: Item) -> SyncEntry:
    fields: dict[str, Any] = {
        name: item.get(name)
        for name in ("sku", "channel", "attempt", "at", "before", "after", "why", "result", "error")
    }
    fields["error"] = fields["error"] or ""
    waited = item.get("waited_ms")
    return SyncEntry(**fields, waited_ms=int(waited) if waited is not None else None)
