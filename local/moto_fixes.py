"""Make moto's DynamoDB Streams behave like DynamoDB's under cancelled transactions.

moto undoes a cancelled TransactWriteItems by swapping in a deep copy of each table taken
before it ran. The copy carries a copy of the stream shard, so stream readers holding the
original shard (every open shard iterator does) keep records of writes that never committed
and stop seeing new ones. DynamoDB only streams committed writes. Here the shard is shared,
not copied, and a cancelled transaction trims what it appended. Sharing also stops every
transaction from copying the whole stream, which made them slower as the stream grew.
"""

from __future__ import annotations

from typing import Any

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import StreamShard

_applied = False


def apply() -> None:
    global _applied  # noqa: PLW0603 - patch once per process
    if _applied:
        return
    _applied = True
    StreamShard.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        shards = {
            name: (table.stream_shard, len(table.stream_shard.items))
            for name, table in self.tables.items()
            if table.stream_shard is not None
        }
        try:
            original(self, transact_items)
        except Exception:
            for name, (shard, length) in shards.items():
                del shard.items[length:]
                if name in self.tables:
                    shard.table = self.tables[name]
                    self.tables[name].stream_shard = shard
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
