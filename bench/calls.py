"""Count the DynamoDB calls a client makes, by operation, with botocore's event hooks; with
``units=True``, also the request units DynamoDB bills for them (see bench/units.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from bench.units import Target, UnitMeter, Usage

WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})


class CallCounter:
    """Calls by operation (``calls``, ``total``, ``writes``) and the items Queries evaluated
    (``items_read``). With ``units=True``: request units too (``usage``, ``write_units``,
    ``index_write_units``, ``read_units``, ``hottest``), reading the items each write touches
    through ``probe`` (by default a second client on the same endpoint, not counted). Units
    cost extra reads per write: meant for moto, where those are free."""

    def __init__(self, client: Any, *, units: bool = False, probe: Any | None = None) -> None:
        self.calls: Counter[str] = Counter()
        self.items_read = 0
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb.Query", self._after_query)
        self.meter = UnitMeter(client, probe) if units else None

    def _before(self, model: Any, **kwargs: Any) -> None:
        self.calls[model.name] += 1

    def _after_query(self, parsed: dict[str, Any], **kwargs: Any) -> None:
        self.items_read += int(parsed.get("ScannedCount", 0))

    def reset(self) -> None:
        self.calls.clear()
        self.items_read = 0
        if self.meter is not None:
            self.meter.usage.clear()
            self.meter.unmetered.clear()

    @property
    def total(self) -> int:
        return sum(self.calls.values())

    @property
    def writes(self) -> int:
        return sum(n for op, n in self.calls.items() if op in WRITES)

    # ---- request units (units=True)
    @property
    def usage(self) -> Usage:
        if self.meter is None:
            raise RuntimeError("request units are counted only by CallCounter(client, units=True)")
        return self.meter.usage

    @property
    def write_units(self) -> float:
        """Write request units of the tables themselves (index writes are in index_write_units)."""
        return self.usage.write_units

    @property
    def index_write_units(self) -> dict[str, float]:
        """Write request units of each index."""
        return dict(self.usage.index_write_units)

    @property
    def total_write_units(self) -> float:
        """All write request units billed: tables and indexes."""
        return self.usage.total_write_units

    @property
    def read_units(self) -> float:
        """Read request units, of tables and indexes."""
        return self.usage.read_units

    def hottest(self, n: int = 3, *, reads: bool = False) -> dict[Target, list[tuple[str, float]]]:
        """Per table and index, the ``n`` partition keys with the most write (or read) units."""
        return self.usage.hottest(n, reads=reads)
