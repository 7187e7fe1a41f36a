"""Make moto's Query read a partition, as DynamoDB does, not the whole table.

moto answers every Query (on the table or on an index) by sorting every item of the table and
filtering it: each query costs the table's size. At tens of thousands of SKUs a page of the
inventory list (some 46 index queries) took twenty seconds locally, and more than a minute and a
half at 100,000, where DynamoDB reads only the partitions asked for.

Here a Query sees only its candidates: a table query the items of its partition (moto keeps them
apart already), an index query those whose index partition key matches, from a map of each
index's partitions built on the first query after a write and kept until the next write. moto's
own query code then sorts, pages and filters them as before, so answers are the same, only
cheaper. Writes are the table's put, update and delete, and transactions (including one undone:
local.moto_fixes puts items back by hand). moto serves one request at a time here (DESIGN.md §9).
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType, Item
from moto.dynamodb.models.table import Table

_applied = False
_writes = 0  # bumped by every write; a map built before the last write is rebuilt
INDEX_NAME_ARG = 7  # Table.query(hash_key, range_comparison, range_values, limit, start, forward, projection, index)


def apply() -> None:
    global _applied  # noqa: PLW0603 - patch once per process
    if _applied:
        return
    _applied = True
    for owner, name in (
        (Table, "put_item"),
        (Table, "delete_item"),
        (DynamoDBBackend, "update_item"),
        (DynamoDBBackend, "transact_write_items"),
    ):
        setattr(owner, name, _counting(getattr(owner, name)))
    original = Table.query

    def query(self: Table, hash_key: DynamoType | None, *args: Any, **kwargs: Any) -> Any:
        index_name = kwargs.get("index_name", args[INDEX_NAME_ARG - 1] if len(args) >= INDEX_NAME_ARG else None)
        candidates = _candidates(self, hash_key, index_name, kwargs.get("hash_key_conditions"))
        if candidates is None:
            return original(self, hash_key, *args, **kwargs)
        self.all_items = lambda: candidates  # type: ignore[method-assign]  # this call only
        try:
            return original(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    Table.query = query  # type: ignore[method-assign]


def written() -> None:
    """Something changed items without the patched methods (a transaction undone by hand)."""
    global _writes  # noqa: PLW0603 - moto serves one request at a time
    _writes += 1


def _counting(method: Any) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        finally:
            written()

    return counted


def _candidates(
    table: Table, hash_key: DynamoType | None, index_name: str | None, conditions: list[tuple[str, DynamoType]] | None
) -> list[Item] | None:
    """The items the query can match, in moto's order; None to leave the query as it was."""
    if not index_name:
        if hash_key is None:
            return None
        partition = table.items.get(hash_key)
        if partition is None:
            return []
        if not table.range_key_attr:
            return [partition]  # type: ignore[list-item]
        return sorted(partition.values(), key=lambda item: item.range_key)
    if not conditions:
        return None
    attribute, value = conditions[0]
    return _index_map(table, index_name, attribute).get(_key(value), [])


def _index_map(table: Table, index_name: str, attribute: str) -> dict[Any, list[Item]]:
    cache: dict[tuple[str, str], dict[Any, list[Item]]]
    built, cache = getattr(table, "_partitions_of", (None, {}))
    if built != _writes:
        cache = {}
        table._partitions_of = (_writes, cache)  # type: ignore[attr-defined]
    if (index_name, attribute) not in cache:
        partitions: dict[Any, list[Item]] = {}
        for item in Table.all_items(table):
            value = item.attrs.get(attribute)
            if value is not None:
                partitions.setdefault(_key(value), []).append(item)
        cache[(index_name, attribute)] = partitions
    return cache[(index_name, attribute)]


def _key(value: DynamoType) -> Any:
    return (value.type, str(value.value))
