"""Make moto's TransactWriteItems behave like DynamoDB's, and cost what one item costs.

moto undoes a cancelled transaction by swapping in a deep copy of every table it touched,
taken before it ran. Two consequences matter here:

- The copy carries a copy of the stream shard, so stream readers holding the original shard
  (every open shard iterator does) keep records of writes that never committed and stop
  seeing new ones. DynamoDB streams only committed writes.
- Every transaction copies whole tables (items and stream), so it slows down as the table
  grows: a few per second at tens of thousands of items.

Here a transaction snapshots only the items it names and, if cancelled, puts exactly those
back and trims what it appended to the stream. The tables themselves are never copied.

moto also streams two records for an UpdateItem that creates an item (the bare keys, then the
item); DynamoDB streams one. This patch drops the bare one.

moto also ignores ``ClientRequestToken``, which botocore fills in on every TransactWriteItems
so that a retry (after a timeout, say) is not applied twice. DynamoDB honours it for ten
minutes; so does this patch, or a slow serialized moto would turn retries into duplicates.

Call ``apply()`` once per process before moto serves requests.
"""

from __future__ import annotations

import copy
import time
from typing import Any, cast

from moto.core.responses import ActionResult
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.dynamo_type import DynamoType
from moto.dynamodb.models.table import Table
from moto.dynamodb.responses import DynamoHandler

from local import moto_index

_applied = False
_in_transaction = False
TOKEN_SECONDS = 600
_committed_tokens: dict[str, float] = {}


def apply() -> None:
    global _applied  # noqa: PLW0603 - patch once per process
    if _applied:
        return
    _applied = True
    Table.__deepcopy__ = _table_deepcopy  # type: ignore[attr-defined]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        global _in_transaction  # noqa: PLW0603 - moto runs one request at a time here
        snapshots = _snapshot(self, transact_items)
        streams = {
            id(table): (table.stream_shard, len(table.stream_shard.items))
            for table in {id(t): t for t, *_ in snapshots}.values()
            if table.stream_shard is not None
        }
        _in_transaction = True
        try:
            original(self, transact_items)
        except Exception:
            for table, hash_key, range_key, item in snapshots:
                _restore(table, hash_key, range_key, item)
            for shard, length in streams.values():
                del shard.items[length:]
            raise
        finally:
            _in_transaction = False

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    _honour_client_request_tokens()
    _one_stream_record_per_update()
    moto_index.apply()  # last: it counts the writes of the methods patched above


def _one_stream_record_per_update() -> None:
    """moto's UpdateItem on a missing item first puts the bare keys, streaming an INSERT of a
    keys-only item, then streams the real INSERT. DynamoDB streams one record, with the whole
    new image; stream consumers choked on the bare one (a movement with no time)."""
    original = DynamoDBBackend.update_item

    def update_item(self: DynamoDBBackend, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        table = self.get_table(table_name)
        shard = table.stream_shard
        created = table.get_item(*self.get_keys_value(table, key)) is None
        start = len(shard.items) if shard is not None else 0
        item = original(self, table_name, key, *args, **kwargs)
        if created and shard is not None and len(shard.items) - start == 2:
            # The real record takes the bare one's place and sequence number: moto numbers the
            # next record by the shard's length, so a gap would give it a number already used
            # (and a reader past that number would never see it).
            real = shard.items.pop()
            real.record["dynamodb"]["SequenceNumber"] = shard.items[start].record["dynamodb"]["SequenceNumber"]
            shard.items[start] = real
        return item

    DynamoDBBackend.update_item = update_item  # type: ignore[method-assign]


def _honour_client_request_tokens() -> None:
    respond = DynamoHandler.transact_write_items

    def transact_write_items(self: DynamoHandler) -> Any:
        token = self.body.get("ClientRequestToken")
        now = time.monotonic()
        for old in [t for t, at in _committed_tokens.items() if now - at > TOKEN_SECONDS]:
            del _committed_tokens[old]
        if token and token in _committed_tokens:
            # Committed before: the same success, no second effect.
            return ActionResult({"ConsumedCapacity": [], "ItemCollectionMetrics": {}})
        result = respond(self)
        if token:
            _committed_tokens[token] = now
        return result

    DynamoHandler.transact_write_items = transact_write_items  # type: ignore[method-assign]


def _snapshot(
    backend: DynamoDBBackend, transact_items: list[dict[str, Any]]
) -> list[tuple[Table, DynamoType, DynamoType | None, Any]]:
    snapshots = []
    for entry in transact_items:
        if len(entry) != 1:
            continue  # moto rejects it before writing anything
        ((_, op),) = entry.items()
        table = backend.tables.get(op.get("TableName", ""))
        if table is None:
            continue
        keys = op.get("Key") or op.get("Item") or {}
        if table.hash_key_attr not in keys or (table.range_key_attr and table.range_key_attr not in keys):
            continue
        hash_key = DynamoType(keys[table.hash_key_attr])
        range_key = DynamoType(keys[table.range_key_attr]) if table.range_key_attr else None
        snapshots.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return snapshots


def _restore(table: Table, hash_key: DynamoType, range_key: DynamoType | None, item: Any) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    bucket = table.items[hash_key]
    if item is None:
        bucket.pop(range_key, None)
        if not bucket:
            del table.items[hash_key]
    else:
        bucket[range_key] = item


def _table_deepcopy(self: Table, memo: dict[int, Any]) -> Table:
    if _in_transaction:
        return self  # the transaction's own snapshot makes the copy unnecessary
    clone = cast("Table", Table.__new__(Table))
    memo[id(self)] = clone
    for name, value in self.__dict__.items():
        setattr(clone, name, copy.deepcopy(value, memo))
    return clone
