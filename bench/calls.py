"""Count the DynamoDB calls a client makes, by operation, with botocore's event hooks."""

from __future__ import annotations

from collections import Counter
from typing import Any

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


class CallCounter:
    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        self.items_read = 0
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after_query)

    def _before(self, model: Any, **kwargs: Any) -> None:
        self.calls[model.name] += 1

    def _after_query(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        self.items_read += int(parsed.get("ScannedCount", 0))

    def reset(self) -> None:
        self.calls.clear()
        self.items_read = 0

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in WRITES)
