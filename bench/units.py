"""What DynamoDB bills for the calls a client makes: request units, by table, index and partition key.

Units are on-demand request units (WRU, RRU); on provisioned capacity the same numbers are WCU
and RCU. A ``UnitMeter`` hooks the measured client's botocore events ("before-call" and
"after-call": the request as sent, the response as parsed) and reads the items each write
touches, just before and just after it, with GetItem on a second client (the *probe*) that
nothing measures. On in-process moto those reads cost nothing and change nothing (no stream
records); against real DynamoDB they would cost units of their own: this is a benchmark tool.

Item size (AWS docs, "DynamoDB item sizes and formats", CapacityUnitCalculations.html)
  - the sum over attributes of the name's UTF-8 length plus the value's size;
  - string: its UTF-8 length; binary: its raw length; boolean, null: 1 byte;
  - number: "about 1 byte per two significant digits, plus 1". Here digits are paired from the
    decimal point (DynamoDB stores base-100 digits), leading and trailing zero pairs dropped,
    +1 byte when negative, 1 byte for zero, at most 21: how published item-size calculators
    reproduce the sizes DynamoDB reports. An approximation, within a byte or two;
  - list, map: 3 bytes, plus 1 byte and the size of each element (and its name, in a map);
  - set: the sum of its elements' sizes;
  - the 100 bytes of storage overhead per item (and per index entry) are storage only, not
    part of the size that request units are counted on.

Writes (AWS docs, "DynamoDB read and write operations"; a write request unit writes 1 KB)
  - PutItem, UpdateItem: ceil(the larger of the item's size before and after / 1 KB), at
    least 1. DeleteItem: the deleted item's size, at least 1 (1 when there was none);
  - a condition that fails: the existing item's size, at least 1; no index write;
  - BatchWriteItem: each put or delete as above; unprocessed ones are not counted;
  - TransactWriteItems: 2 x each action, one write to prepare and one to commit (AWS docs,
    "Capacity management for transactions");
  - ConditionCheck in a transaction (ASSUMPTION; the docs do not say): billed as a write of the
    checked item's current size, 2 x (at least 2), as measurements against real DynamoDB
    published by emulator conformance suites report (a ConditionCheck of a small item: 2 WCU,
    write, not read);
  - a cancelled transaction (ASSUMPTION; the docs do not say, and the cancelled response
    reports no consumed capacity): its prepare phase is billed, 1 x each action by the
    existing item's size (``CANCELLED_TRANSACTION_FACTOR``), as a failed conditional write is.
    Cancelled for another reason than conditions or conflicts (validation, throttling): 0.

Index writes (AWS docs, "Global secondary indexes", provisioned throughput considerations)
  For each write that changed an item and each index, with the item's *entry* in the index =
  the table's key, the index's key and the projected attributes, present only when the item
  has the index's key attributes:
  - entering the index (no entry before): ceil(new entry / 1 KB); leaving: ceil(old entry / 1 KB);
  - the index key changed: both, a delete and a put;
  - same index key, a projected attribute changed: ceil(the larger entry / 1 KB);
  - nothing projected changed, or in the index neither before nor after: 0.
  Index writes of a transaction are not doubled (ASSUMPTION: the index is brought up to date
  after the commit, not in it).

Reads (a read request unit reads 4 KB strongly consistent, twice that eventually consistent)
  - GetItem: ceil(item size / 4 KB), at least 1, even when no item is found; half when
    eventually consistent (the default). The whole item counts, whatever the projection;
  - BatchGetItem: each key as a GetItem; unprocessed keys are not counted;
  - TransactGetItems: 2 x each item, at least 2;
  - Query, Scan: ceil(the sum of the sizes of the items *evaluated* / 4 KB), at least 1, halved
    when eventually consistent (always, on a global secondary index). Evaluated = before any
    filter, whatever the projection or Select: such a query is run again on the probe without
    them (same key condition, Limit and start key) to see what it read. On an index, the sizes
    are those of the index entries.

Partition keys
  A write's table units go to its item's partition key value, its index units to the index
  entry's partition key value (a key change: the delete to the old value, the put to the new);
  a query's units to the partition key it names. A Scan's units go to no key.

Images: the old image is read just before the call, the new one just after. With one writer
at a time (the benchmarks) this is exact; with concurrent writers of the same item an image
may already hold a neighbour's write.
"""

from __future__ import annotations

import base64
import json
import math
import re
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

from botocore.exceptions import ClientError

KB = 1024
WRITE_BLOCK = KB
READ_BLOCK = 4 * KB
TRANSACTION_FACTOR = 2  # prepare + commit
CANCELLED_TRANSACTION_FACTOR = 1  # assumption: the prepare phase only
MAX_NUMBER_SIZE = 21
TABLE = ""  # the "index name" of the table itself in a Target

Attrs = dict[str, Any]  # an item or key in DynamoDB JSON: {"name": {"S": "..."}}

_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
_READS = frozenset({"GetItem", "BatchGetItem", "TransactGetItems", "Query", "Scan"})
# Cancellation reasons of a transaction that still ran its prepare phase.
_BILLED_CANCELLATIONS = frozenset({"", "None", "NONE", "ConditionalCheckFailed", "TransactionConflict"})
_EXACT = Context(prec=40)  # DynamoDB numbers have up to 38 significant digits
_PENDING = "bench.units"  # where a call's plan waits in botocore's request context
_NOT_EVALUATED = ("FilterExpression", "ProjectionExpression", "AttributesToGet", "QueryFilter", "ScanFilter")
_EQUALS = re.compile(r"([#\w.\-]+)\s*=\s*(:[\w\-]+)")
_NAME_OR_VALUE = re.compile(r"[#:][\w\-]+")


# ---------------------------------------------------------------------------------- sizes
def item_size(item: Attrs | None) -> int:
    """Bytes of an item (DynamoDB JSON; binary as bytes or base64 text) by DynamoDB's rules."""
    if not item:
        return 0
    return sum(_utf8(name) + value_size(value) for name, value in item.items())


def value_size(value: dict[str, Any]) -> int:
    """Bytes of one attribute value, without its name."""
    ((kind, data),) = value.items()
    if kind not in _SIZES:
        raise ValueError(f"unknown DynamoDB type {kind!r}")
    return _SIZES[kind](data)


def number_size(text: str) -> int:
    """Bytes of a number: its significant digits in pairs aligned on the decimal point, + 1
    (+ 1 more when negative); zero is 1 byte."""
    number = Decimal(text)
    if number.is_zero():
        return 1
    sign, digits, exponent = number.as_tuple()  # digits without leading zeros
    assert isinstance(exponent, int)
    highest = exponent + len(digits) - 1  # the power of ten of the first and last significant digits
    lowest = exponent + len(digits) - len("".join(map(str, digits)).rstrip("0"))
    pairs = highest // 2 - lowest // 2 + 1
    return min(MAX_NUMBER_SIZE, pairs + 1 + sign)


def write_units(size: int) -> int:
    """Write request units of one item write: 1 per KB, at least 1."""
    return max(1, math.ceil(size / WRITE_BLOCK))


def read_units(size: int, *, consistent: bool) -> float:
    """Read request units of reading ``size`` bytes (one item, or a query's items together):
    1 per 4 KB strongly consistent, half of it eventually consistent; at least one block."""
    blocks = max(1, math.ceil(size / READ_BLOCK))
    return float(blocks) if consistent else blocks / 2


def _utf8(text: str) -> int:
    return len(text.encode("utf-8"))


def _binary_length(data: bytes | str) -> int:
    return len(data) if isinstance(data, bytes | bytearray) else len(base64.b64decode(data))


_SIZES: dict[str, Callable[[Any], int]] = {
    "S": _utf8,
    "N": number_size,
    "B": _binary_length,
    "BOOL": lambda _: 1,
    "NULL": lambda _: 1,
    "SS": lambda strings: sum(_utf8(s) for s in strings),
    "NS": lambda numbers: sum(number_size(n) for n in numbers),
    "BS": lambda blobs: sum(_binary_length(b) for b in blobs),
    "L": lambda elements: 3 + sum(1 + value_size(e) for e in elements),
    "M": lambda elements: 3 + sum(1 + _utf8(name) + value_size(e) for name, e in elements.items()),
}


# ---------------------------------------------------------------------------------- schema
@dataclass(frozen=True)
class Index:
    name: str
    hash_key: str
    range_key: str | None
    projection: str  # ALL, KEYS_ONLY or INCLUDE
    included: frozenset[str] = frozenset()

    def entry(self, item: Attrs | None, table_keys: Iterable[str]) -> Attrs | None:
        """The item as this index holds it; None when it is not in the index."""
        if not item or self.hash_key not in item or (self.range_key and self.range_key not in item):
            return None
        if self.projection == "ALL":
            return dict(item)
        names = {*table_keys, *self.key_names}
        if self.projection == "INCLUDE":
            names |= self.included
        return {name: value for name, value in item.items() if name in names}

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)


@dataclass(frozen=True)
class Schema:
    table: str
    hash_key: str
    range_key: str | None
    indexes: tuple[Index, ...] = ()

    @classmethod
    def from_description(cls, table: dict[str, Any]) -> Schema:
        """From DescribeTable's ``Table`` (or create_table's keyword arguments)."""
        hash_key, range_key = _key_schema(table["KeySchema"])
        indexes = []
        for index in [*table.get("GlobalSecondaryIndexes", []), *table.get("LocalSecondaryIndexes", [])]:
            index_hash, index_range = _key_schema(index["KeySchema"])
            projection = index.get("Projection", {})
            indexes.append(
                Index(
                    index["IndexName"],
                    index_hash or hash_key,
                    index_range,
                    projection.get("ProjectionType", "ALL"),
                    frozenset(projection.get("NonKeyAttributes", [])),
                )
            )
        return cls(table["TableName"], hash_key, range_key, tuple(indexes))

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.hash_key, self.range_key) if self.range_key else (self.hash_key,)

    def key(self, item: Attrs) -> Attrs:
        return {name: item[name] for name in self.key_names}

    def index(self, name: str) -> Index:
        return next(index for index in self.indexes if index.name == name)


def _key_schema(elements: list[dict[str, str]]) -> tuple[str, str | None]:
    hash_key = next(e["AttributeName"] for e in elements if e["KeyType"] == "HASH")
    range_key = next((e["AttributeName"] for e in elements if e["KeyType"] == "RANGE"), None)
    return hash_key, range_key


# ----------------------------------------------------------------------------------- usage
@dataclass(frozen=True, order=True)
class Target:
    """A table (index "") or one of its indexes."""

    table: str
    index: str = TABLE


def _floats() -> defaultdict[str, float]:
    return defaultdict(float)


@dataclass
class Usage:
    """Request units consumed: table writes, index writes by index, reads (table and indexes),
    and both by partition key value."""

    write_units: float = 0.0  # the tables' own WRU
    read_units: float = 0.0  # RRU, tables and indexes
    index_write_units: defaultdict[str, float] = field(default_factory=_floats)  # by index name
    index_read_units: defaultdict[str, float] = field(default_factory=_floats)  # part of read_units
    key_write_units: dict[Target, defaultdict[str, float]] = field(default_factory=dict)
    key_read_units: dict[Target, defaultdict[str, float]] = field(default_factory=dict)

    @property
    def total_write_units(self) -> float:
        """What is billed for writes: the tables' and the indexes'."""
        return self.write_units + sum(self.index_write_units.values())

    def wrote(self, target: Target, key: str, units: float) -> None:
        if target.index:
            self.index_write_units[target.index] += units
        else:
            self.write_units += units
        self.key_write_units.setdefault(target, _floats())[key] += units

    def read(self, target: Target, key: str | None, units: float) -> None:
        self.read_units += units
        if target.index:
            self.index_read_units[target.index] += units
        if key is not None:
            self.key_read_units.setdefault(target, _floats())[key] += units

    def add(self, other: Usage) -> None:
        self.write_units += other.write_units
        self.read_units += other.read_units
        for mine, theirs in (
            (self.index_write_units, other.index_write_units),
            (self.index_read_units, other.index_read_units),
        ):
            for name, units in theirs.items():
                mine[name] += units
        for mine_by_key, theirs_by_key in (
            (self.key_write_units, other.key_write_units),
            (self.key_read_units, other.key_read_units),
        ):
            for target, by_key in theirs_by_key.items():
                into = mine_by_key.setdefault(target, _floats())
                for key, units in by_key.items():
                    into[key] += units

    def clear(self) -> None:
        self.write_units = self.read_units = 0.0
        for counts in (self.index_write_units, self.index_read_units, self.key_write_units, self.key_read_units):
            counts.clear()

    def hottest(self, n: int = 3, *, reads: bool = False) -> dict[Target, list[tuple[str, float]]]:
        """Per table and per index, its ``n`` partition key values with the most units (write
        units, or read units with ``reads``), most first; ties by key."""
        by_key = self.key_read_units if reads else self.key_write_units
        return {
            target: sorted(((k, u) for k, u in units.items() if u), key=lambda ku: (-ku[1], ku[0]))[:n]
            for target, units in sorted(by_key.items())
            if any(units.values())
        }

    def peak_key_write_units(self) -> float:
        """The most write units on any one partition key (of a table or an index)."""
        return max((u for units in self.key_write_units.values() for u in units.values()), default=0.0)


# ----------------------------------------------------------------------------------- meter
@dataclass
class _Action:
    """One item a write call names, with the item as it was just before the call."""

    target: Target
    verb: str  # Put, Update, Delete, ConditionCheck
    key: Attrs
    old: Attrs | None


class UnitMeter:
    """Request units of the calls ``client`` makes, in ``usage``. ``probe`` reads the items
    written (just before and after each write) and the schemas; by default a new client on
    the same region and endpoint, which nothing measures."""

    def __init__(self, client: Any, probe: Any | None = None) -> None:
        self.usage = Usage()
        self.probe = probe if probe is not None else probe_client(client)
        self.unmetered: Counter[str] = Counter()  # calls whose items the probe could not read
        self._schemas: dict[str, Schema] = {}
        self._lock = threading.Lock()
        client.meta.events.register("before-call.dynamodb", self._before)
        client.meta.events.register("after-call.dynamodb", self._after)

    def schema(self, table: str) -> Schema:
        if table not in self._schemas:
            self._schemas[table] = Schema.from_description(self.probe.describe_table(TableName=table)["Table"])
        return self._schemas[table]

    # ---- hooks
    def _before(self, model: Any, params: dict[str, Any], context: dict[str, Any], **kwargs: Any) -> None:
        operation = model.name
        if operation not in _WRITES and operation not in _READS:
            return
        request = _request_body(params)
        try:
            actions = list(self._actions(operation, request)) if operation in _WRITES else None
        except ClientError:  # the call is impossible (no such table...): let it fail on its own
            self.unmetered[operation] += 1
            return
        context[_PENDING] = (operation, request, actions)

    def _after(self, parsed: dict[str, Any], context: dict[str, Any], http_response: Any, **kwargs: Any) -> None:
        pending = context.pop(_PENDING, None)
        if pending is None:
            return
        operation, request, actions = pending
        code = parsed.get("Error", {}).get("Code", "") if http_response.status_code >= 300 else ""
        usage = Usage()
        try:
            if actions is not None:
                self._count_writes(operation, actions, parsed, code, usage)
            elif not code:
                self._count_reads(operation, request, parsed, usage)
        except ClientError:
            self.unmetered[operation] += 1
            return
        with self._lock:
            self.usage.add(usage)

    # ---- writes
    def _actions(self, operation: str, request: dict[str, Any]) -> Iterator[_Action]:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            yield self._action(operation.removesuffix("Item"), request)
        elif operation == "TransactWriteItems":
            for entry in request["TransactItems"]:
                ((verb, body),) = entry.items()
                yield self._action(verb, body)
        else:  # BatchWriteItem
            for table, requests in request["RequestItems"].items():
                for entry in requests:
                    if "PutRequest" in entry:
                        yield self._action("Put", {"TableName": table, **entry["PutRequest"]})
                    else:
                        yield self._action("Delete", {"TableName": table, **entry["DeleteRequest"]})

    def _action(self, verb: str, body: dict[str, Any]) -> _Action:
        schema = self.schema(body["TableName"])
        key = schema.key(body["Item"]) if verb == "Put" else body["Key"]
        return _Action(Target(schema.table), verb, key, self._get(schema.table, key))

    def _count_writes(
        self, operation: str, actions: list[_Action], parsed: dict[str, Any], code: str, usage: Usage
    ) -> None:
        if operation == "TransactWriteItems":
            if not code:
                for action in actions:
                    self._applied(action, TRANSACTION_FACTOR, usage)
            elif code == "TransactionCanceledException":
                reasons = [r.get("Code") or "" for r in parsed.get("CancellationReasons") or []]
                if all(reason in _BILLED_CANCELLATIONS for reason in reasons):
                    for action in actions:
                        self._unchanged(action, CANCELLED_TRANSACTION_FACTOR, usage)
        elif operation == "BatchWriteItem":
            if not code:
                unprocessed = self._unprocessed(parsed)
                for action in actions:
                    if (action.target.table, _key_id(action.key)) not in unprocessed:
                        self._applied(action, 1, usage)
        elif not code:
            self._applied(actions[0], 1, usage)
        elif code == "ConditionalCheckFailedException":
            self._unchanged(actions[0], 1, usage)

    def _unprocessed(self, parsed: dict[str, Any]) -> set[tuple[str, str]]:
        """(table, key) of the writes a BatchWriteItem left unprocessed."""
        found = set()
        for table, entries in (parsed.get("UnprocessedItems") or {}).items():
            for entry in entries:
                put = entry.get("PutRequest")
                key = self.schema(table).key(put["Item"]) if put else entry["DeleteRequest"]["Key"]
                found.add((self.schema(table).table, _key_id(key)))
        return found

    def _applied(self, action: _Action, factor: int, usage: Usage) -> None:
        if action.verb == "ConditionCheck":
            self._unchanged(action, factor, usage)
            return
        new = None if action.verb == "Delete" else self._get(action.target.table, action.key)
        schema = self.schema(action.target.table)
        units = write_units(max(item_size(action.old), item_size(new)))
        usage.wrote(action.target, _partition(action.key, schema.hash_key), factor * units)
        for index in schema.indexes:
            for key, index_units in index_writes(index, schema.key_names, action.old, new):
                usage.wrote(Target(schema.table, index.name), key, index_units)

    def _unchanged(self, action: _Action, factor: int, usage: Usage) -> None:
        """Nothing written: the existing item's size is billed (at least 1)."""
        hash_key = self.schema(action.target.table).hash_key
        usage.wrote(action.target, _partition(action.key, hash_key), factor * write_units(item_size(action.old)))

    # ---- reads
    def _count_reads(self, operation: str, request: dict[str, Any], parsed: dict[str, Any], usage: Usage) -> None:
        if operation == "GetItem":
            schema = self.schema(request["TableName"])
            item = parsed.get("Item")
            if item and ("ProjectionExpression" in request or "AttributesToGet" in request):
                item = self._get(schema.table, request["Key"])
            units = read_units(item_size(item), consistent=bool(request.get("ConsistentRead")))
            usage.read(Target(schema.table), _partition(request["Key"], schema.hash_key), units)
        elif operation == "BatchGetItem":
            for table, spec in request["RequestItems"].items():
                schema = self.schema(table)
                unprocessed = {_key_id(k) for k in (parsed.get("UnprocessedKeys") or {}).get(table, {}).get("Keys", [])}
                for key in spec["Keys"]:
                    if _key_id(key) not in unprocessed:
                        size = item_size(self._get(table, key))
                        units = read_units(size, consistent=bool(spec.get("ConsistentRead")))
                        usage.read(Target(table), _partition(key, schema.hash_key), units)
        elif operation == "TransactGetItems":
            for entry in request["TransactItems"]:
                body = entry["Get"]
                schema = self.schema(body["TableName"])
                units = TRANSACTION_FACTOR * read_units(
                    item_size(self._get(schema.table, body["Key"])), consistent=True
                )
                usage.read(Target(schema.table), _partition(body["Key"], schema.hash_key), units)
        else:  # Query, Scan
            schema = self.schema(request["TableName"])
            index_name = request.get("IndexName", TABLE)
            hash_key = schema.index(index_name).hash_key if index_name else schema.hash_key
            size = sum(item_size(item) for item in self._evaluated(operation, request, parsed))
            units = read_units(size, consistent=bool(request.get("ConsistentRead")))
            key = _queried_partition(request, hash_key) if operation == "Query" else None
            usage.read(Target(schema.table, index_name), key, units)

    def _evaluated(self, operation: str, request: dict[str, Any], parsed: dict[str, Any]) -> list[Attrs]:
        """The items a Query or Scan read: its response's, unless a filter, projection or Select
        left some out; then the same read again on the probe without them."""
        complete = request.get("Select") in (None, "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES")
        if complete and not any(name in request for name in _NOT_EVALUATED):
            items: list[Attrs] = parsed.get("Items", [])
            return items
        dropped = (*_NOT_EVALUATED, "Select", "ConditionalOperator", "ReturnConsumedCapacity")
        again = {k: v for k, v in request.items() if k not in dropped}
        again["Select"] = "ALL_PROJECTED_ATTRIBUTES" if request.get("IndexName") else "ALL_ATTRIBUTES"
        used = set(_NAME_OR_VALUE.findall(again.get("KeyConditionExpression", "")))
        for placeholders in ("ExpressionAttributeNames", "ExpressionAttributeValues"):
            kept = {k: v for k, v in again.pop(placeholders, {}).items() if k in used}
            if kept:
                again[placeholders] = kept
        for attrs in ("ExpressionAttributeValues", "ExclusiveStartKey"):
            if attrs in again:
                again[attrs] = client_attrs(again[attrs])
        response = self.probe.query(**again) if operation == "Query" else self.probe.scan(**again)
        found: list[Attrs] = response.get("Items", [])
        return found

    def _get(self, table: str, key: Attrs) -> Attrs | None:
        response = self.probe.get_item(TableName=table, Key=client_attrs(key), ConsistentRead=True)
        item: Attrs | None = response.get("Item")
        return item


def index_writes(
    index: Index, table_keys: Iterable[str], old: Attrs | None, new: Attrs | None
) -> list[tuple[str, int]]:
    """(index partition key value, write units) an item's change from ``old`` to ``new`` costs
    ``index``: a put, a delete, both (its index key changed) or one update."""
    table_keys = tuple(table_keys)
    before, after = index.entry(old, table_keys), index.entry(new, table_keys)
    if before is None and after is None:
        return []
    if before is None:
        assert after is not None
        return [(_partition(after, index.hash_key), write_units(item_size(after)))]
    if after is None:
        return [(_partition(before, index.hash_key), write_units(item_size(before)))]
    if any(_canonical(before[k]) != _canonical(after[k]) for k in index.key_names):
        return [
            (_partition(before, index.hash_key), write_units(item_size(before))),
            (_partition(after, index.hash_key), write_units(item_size(after))),
        ]
    if _canonical(before) == _canonical(after):
        return []
    return [(_partition(after, index.hash_key), write_units(max(item_size(before), item_size(after))))]


def probe_client(client: Any) -> Any:
    """A DynamoDB client on ``client``'s region and endpoint, with its own (empty) event hooks."""
    import boto3

    return boto3.session.Session().client(
        "dynamodb", region_name=client.meta.region_name, endpoint_url=client.meta.endpoint_url
    )


def client_attrs(attrs: Attrs) -> Attrs:
    """Attribute values as sent on the wire (binary as base64 text) -> as a client takes them."""
    return {name: _client_value(value) for name, value in attrs.items()}


def _client_value(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, data),) = value.items()
    if kind == "B" and isinstance(data, str):
        return {"B": base64.b64decode(data)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) if isinstance(b, str) else b for b in data]}
    if kind == "L":
        return {"L": [_client_value(v) for v in data]}
    if kind == "M":
        return {"M": client_attrs(data)}
    return value


def _canonical(value: Any) -> Any:
    """A value to compare: binary as base64 text, numbers by value."""
    if isinstance(value, dict):
        if len(value) == 1 and "N" in value:
            return {"N": Decimal(value["N"]).normalize(_EXACT)}
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    return value


def _partition(item: Attrs, hash_key: str) -> str:
    return _text(item[hash_key])


def _text(value: dict[str, Any]) -> str:
    ((_, data),) = value.items()
    return base64.b64encode(data).decode() if isinstance(data, bytes | bytearray) else str(data)


def _key_id(key: Attrs) -> str:
    return json.dumps(_canonical(key), sort_keys=True, default=str)


def _queried_partition(request: dict[str, Any], hash_key: str) -> str | None:
    """The partition key value a Query's key condition names ("#pk = :pk" or "pk = :v")."""
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    for name, placeholder in _EQUALS.findall(request.get("KeyConditionExpression", "")):
        if names.get(name, name) == hash_key and placeholder in values:
            return _text(values[placeholder])
    for name, condition in (request.get("KeyConditions") or {}).items():
        if name == hash_key:
            return _text(condition["AttributeValueList"][0])
    return None


def _request_body(params: dict[str, Any]) -> dict[str, Any]:
    body = params.get("body") or b"{}"
    loaded: dict[str, Any] = json.loads(body) if isinstance(body, bytes | str) else body
    return loaded
