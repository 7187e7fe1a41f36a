"""The benchmarks' request-unit estimate (bench/units.py): item sizes by DynamoDB's rules, and the
write, index and read units of calls on a moto table built from template.yaml (gsi1 projects
sku, location, qty and source; gsi2 projects everything)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from bench.calls import CallCounter
from bench.moto_table import moto_table
from bench.units import (
    CANCELLED_TRANSACTION_FACTOR,
    Index,
    Target,
    index_writes,
    item_size,
    number_size,
    read_units,
    write_units,
)

TABLE = "units"
KB = 1024


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Any, Any, CallCounter]]:
    with moto_table(TABLE) as (client, wiring):
        yield client, wiring, CallCounter(client, units=True)


@pytest.fixture
def client(stack: tuple[Any, Any, CallCounter]) -> Any:
    return stack[0]


@pytest.fixture
def counter(stack: tuple[Any, Any, CallCounter]) -> CallCounter:
    stack[2].reset()
    return stack[2]


def padded(pk: str, size: int, sk: str = "A", **attrs: dict[str, Any]) -> dict[str, Any]:
    """An item of exactly ``size`` bytes: its keys, ``attrs`` and a string "fill" making up the rest."""
    item = {"pk": {"S": pk}, "sk": {"S": sk}, **attrs}
    fill = size - item_size(item) - len("fill")
    assert fill >= 0
    item["fill"] = {"S": "x" * fill}
    assert item_size(item) == size
    return item


def key(pk: str, sk: str = "A") -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def table(counter: CallCounter) -> dict[str, float]:
    return dict(counter.usage.key_write_units.get(Target(TABLE), {}))


# ------------------------------------------------------------------------------ item sizes
def test_strings_and_names_count_their_utf8_bytes() -> None:
    assert item_size({"pk": {"S": "abc"}}) == 5
    assert item_size({"é": {"S": "日本"}}) == 2 + 6
    assert item_size({}) == 0


@pytest.mark.parametrize(
    ("number", "size"),
    [
        ("0", 1),
        ("7", 2),
        ("123", 3),
        ("1000", 2),  # trailing zeros trimmed
        ("1001", 3),
        ("-12", 3),  # negative: one byte more
        ("0.5", 2),
        ("12.3", 3),
        ("1.001", 4),  # digits pair from the decimal point: 01.00|10
        ("12345678901234567890123456789012345678", 20),
        ("-1E-130", 3),
    ],
)
def test_numbers_take_a_byte_per_two_significant_digits_plus_one(number: str, size: int) -> None:
    assert number_size(number) == size
    assert item_size({"n": {"N": number}}) == 1 + size


def test_binary_booleans_nulls_sets_lists_and_maps() -> None:
    assert item_size({"b": {"B": b"\x00\x01\x02"}}) == 1 + 3
    assert item_size({"b": {"B": "AAEC"}}) == 1 + 3  # base64 on the wire: its raw bytes count
    assert item_size({"t": {"BOOL": True}, "z": {"NULL": True}}) == 2 + 2
    assert item_size({"s": {"SS": ["a", "bc"]}, "n": {"NS": ["1", "100"]}}) == (1 + 3) + (1 + 2 + 2)
    assert item_size({"l": {"L": [{"S": "ab"}, {"N": "1"}]}}) == 1 + 3 + (1 + 2) + (1 + 2)
    assert item_size({"m": {"M": {"k": {"S": "v"}}}}) == 1 + 3 + (1 + 1 + 1)
    assert item_size({"m": {"M": {}}, "l": {"L": []}}) == (1 + 3) * 2
    assert item_size({"m": {"M": {"in": {"L": [{"M": {}}]}}}}) == 1 + 3 + (1 + 2 + (3 + (1 + 3)))


def test_units_round_up_per_item_and_per_read() -> None:
    assert [write_units(s) for s in (0, 1, KB, KB + 1, 3 * KB)] == [1, 1, 1, 2, 3]
    assert read_units(4 * KB, consistent=True) == 1
    assert read_units(4 * KB + 1, consistent=True) == 2
    assert read_units(4 * KB + 1, consistent=False) == 1
    assert read_units(0, consistent=False) == 0.5


def test_an_index_write_by_what_changed_in_the_entry() -> None:
    gsi = Index("g", "gpk", "gsk", "INCLUDE", frozenset({"qty"}))
    keys = ("pk", "sk")
    old = {"pk": {"S": "P"}, "sk": {"S": "A"}, "gpk": {"S": "G1"}, "gsk": {"S": "1"}, "qty": {"N": "1"}}
    assert index_writes(gsi, keys, None, old) == [("G1", 1)]  # enters
    assert index_writes(gsi, keys, old, None) == [("G1", 1)]  # leaves
    assert index_writes(gsi, keys, old, old | {"other": {"S": "x" * 5000}}) == []  # not projected
    assert index_writes(gsi, keys, old, old | {"qty": {"N": "2"}}) == [("G1", 1)]  # projected
    assert index_writes(gsi, keys, old, old | {"qty": {"N": "1.0"}}) == []  # the same number
    assert index_writes(gsi, keys, old, old | {"gpk": {"S": "G2"}}) == [("G1", 1), ("G2", 1)]  # moves
    assert index_writes(gsi, keys, {"pk": {"S": "P"}}, {"pk": {"S": "P"}, "gpk": {"S": "G"}}) == []  # no sort key


# ------------------------------------------------------------------------------ writes on moto
def test_a_put_of_a_one_and_a_half_kb_item_is_two_units(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("put", 1536))
    assert counter.write_units == 2
    assert counter.index_write_units == {}
    assert table(counter) == {"put": 2}
    assert dict(counter.calls) == {"PutItem": 1}  # the probe's reads are not counted


def test_a_transaction_bills_each_item_twice(client: Any, counter: CallCounter) -> None:
    items = [padded("tx", 1536, sk="1"), padded("tx", 100, sk="2"), padded("tx-other", 100)]
    client.transact_write_items(TransactItems=[{"Put": {"TableName": TABLE, "Item": item}} for item in items])
    assert counter.write_units == 2 * (2 + 1 + 1)
    assert table(counter) == {"tx": 6, "tx-other": 2}


def test_a_condition_check_in_a_transaction_is_billed_as_a_write_of_the_checked_item(
    client: Any, counter: CallCounter
) -> None:
    client.put_item(TableName=TABLE, Item=padded("checked", 1536))
    counter.reset()
    client.transact_write_items(
        TransactItems=[
            {
                "ConditionCheck": {
                    "TableName": TABLE,
                    "Key": key("checked"),
                    "ConditionExpression": "attribute_exists(pk)",
                }
            },
            {"Put": {"TableName": TABLE, "Item": padded("checker", 100)}},
        ]
    )
    assert counter.write_units == 2 * 2 + 2 * 1


def test_a_cancelled_transaction_bills_its_prepare_phase_by_the_items_as_they_are(
    client: Any, counter: CallCounter
) -> None:
    client.put_item(TableName=TABLE, Item=padded("taken", 1536))
    counter.reset()
    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(
            TransactItems=[
                {"Put": {"TableName": TABLE, "Item": padded("free", 3000)}},
                {
                    "Put": {
                        "TableName": TABLE,
                        "Item": padded("taken", 100),
                        "ConditionExpression": "attribute_not_exists(pk)",
                    }
                },
            ]
        )
    assert counter.write_units == CANCELLED_TRANSACTION_FACTOR * (1 + 2)  # "free" absent: 1; "taken": 1.5 KB
    assert counter.index_write_units == {}
    assert "Item" not in client.get_item(TableName=TABLE, Key=key("free"))


def test_a_write_bills_the_larger_of_the_item_before_and_after(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("shrinks", 3000))
    counter.reset()
    client.put_item(TableName=TABLE, Item=padded("shrinks", 500))
    assert counter.write_units == 3

    counter.reset()
    client.update_item(
        TableName=TABLE,
        Key=key("shrinks"),
        UpdateExpression="SET fill = :fill",
        ExpressionAttributeValues={":fill": {"S": "y" * 2500}},
    )
    assert item_size(client.get_item(TableName=TABLE, Key=key("shrinks"))["Item"]) == 2 + 7 + 2 + 1 + 4 + 2500
    assert counter.write_units == 3


def test_a_delete_bills_the_deleted_item_and_one_when_there_was_none(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("deleted", 2200))
    counter.reset()
    client.delete_item(TableName=TABLE, Key=key("deleted"))
    assert counter.write_units == 3
    client.delete_item(TableName=TABLE, Key=key("deleted"))
    assert counter.write_units == 3 + 1


def test_a_failed_condition_bills_the_existing_item_and_writes_no_index(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("guarded", 2500))
    counter.reset()
    with pytest.raises(client.exceptions.ConditionalCheckFailedException):
        client.put_item(
            TableName=TABLE,
            Item=padded("guarded", 100, gsi1pk={"S": "G"}, gsi1sk={"S": "1"}),
            ConditionExpression="attribute_not_exists(pk)",
        )
    assert counter.write_units == 3
    assert counter.index_write_units == {}


def test_a_batch_write_bills_each_item(client: Any, counter: CallCounter) -> None:
    items = [padded("batch", 1536, sk="1"), padded("batch", 100, sk="2"), padded("batch", 100, sk="3")]
    client.batch_write_item(RequestItems={TABLE: [{"PutRequest": {"Item": item}} for item in items]})
    assert counter.write_units == 2 + 1 + 1


def test_an_item_entering_leaving_and_moving_in_gsi1_costs_its_projected_entry(
    client: Any, counter: CallCounter
) -> None:
    # 2.5 KB in the table; in gsi1 only keys and qty: well under 1 KB
    held = padded("held", 2500, gsi1pk={"S": "EXP#1"}, gsi1sk={"S": "t1"}, qty={"N": "1"})
    client.put_item(TableName=TABLE, Item=held)
    assert (counter.write_units, counter.index_write_units) == (3, {"gsi1": 1})
    assert counter.hottest()[Target(TABLE, "gsi1")] == [("EXP#1", 1)]

    def update(expression: str, values: dict[str, Any] | None = None) -> tuple[float, dict[str, float]]:
        counter.reset()
        extra = {"ExpressionAttributeValues": values} if values else {}
        client.update_item(TableName=TABLE, Key=key("held"), UpdateExpression=expression, **extra)
        return counter.write_units, counter.index_write_units

    assert update("SET qty = :q", {":q": {"N": "2"}}) == (3, {"gsi1": 1})  # projected: updated
    assert update("SET fill = :p", {":p": {"S": "z" * 2400}}) == (3, {})  # not projected: no index write
    assert update("SET gsi1pk = :k", {":k": {"S": "EXP#2"}}) == (3, {"gsi1": 2})  # delete + put
    assert counter.hottest()[Target(TABLE, "gsi1")] == [("EXP#1", 1), ("EXP#2", 1)]
    assert update("REMOVE gsi1pk") == (3, {"gsi1": 1})  # leaves


def test_gsi2_projects_the_whole_item(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("listed", 1536, gsi2pk={"S": "CAT"}, gsi2sk={"S": "1"}))
    assert (counter.write_units, counter.index_write_units) == (2, {"gsi2": 2})
    counter.reset()
    client.put_item(TableName=TABLE, Item=padded("listed", 1536, gsi2pk={"S": "CAT"}, gsi2sk={"S": "1"}))
    assert (counter.write_units, counter.index_write_units) == (2, {})  # the same item again


# ------------------------------------------------------------------------------ reads on moto
def test_get_item_by_4_kb_halved_when_eventually_consistent(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("read", 5000))
    counter.reset()
    client.get_item(TableName=TABLE, Key=key("read"), ConsistentRead=True)
    client.get_item(TableName=TABLE, Key=key("read"))
    client.get_item(TableName=TABLE, Key=key("read"), ProjectionExpression="pk")  # the whole item is read
    assert counter.read_units == 2 + 1 + 1
    client.get_item(TableName=TABLE, Key=key("nothing"), ConsistentRead=True)
    client.get_item(TableName=TABLE, Key=key("nothing"))
    assert counter.read_units == 4 + 1 + 0.5
    assert counter.hottest(reads=True)[Target(TABLE)] == [("read", 4), ("nothing", 1.5)]


def test_batch_and_transactional_gets_round_each_item(client: Any, counter: CallCounter) -> None:
    # the docs' example: items of 1.5 KB and 6.5 KB read as 4 KB + 8 KB, not as 8 KB together
    client.put_item(TableName=TABLE, Item=padded("pair", 1536, sk="1"))
    client.put_item(TableName=TABLE, Item=padded("pair", 6656, sk="2"))
    keys = [key("pair", "1"), key("pair", "2")]
    counter.reset()
    client.batch_get_item(RequestItems={TABLE: {"Keys": keys, "ConsistentRead": True}})
    assert counter.read_units == 1 + 2
    counter.reset()
    client.batch_get_item(RequestItems={TABLE: {"Keys": keys}})
    assert counter.read_units == (1 + 2) / 2
    counter.reset()
    client.transact_get_items(TransactItems=[{"Get": {"TableName": TABLE, "Key": k}} for k in keys])
    assert counter.read_units == 2 * (1 + 2)


def test_a_query_sums_the_items_it_evaluated_then_rounds(client: Any, counter: CallCounter) -> None:
    for n in range(10):
        client.put_item(TableName=TABLE, Item=padded("small", 100, sk=f"{n}"))
        client.put_item(TableName=TABLE, Item=padded("large", 1000, sk=f"{n}"))
    values = {":pk": {"S": "small"}}

    def query(**kwargs: Any) -> float:
        counter.reset()
        args = {"ExpressionAttributeValues": values, **kwargs}
        client.query(TableName=TABLE, KeyConditionExpression="pk = :pk", **args)
        return counter.read_units

    assert query(ConsistentRead=True) == 1  # 1,000 bytes
    assert query() == 0.5
    values = {":pk": {"S": "large"}}
    assert query(ConsistentRead=True) == 3  # 10,000 bytes: 3 blocks of 4 KB
    assert query(ConsistentRead=True, Select="COUNT") == 3
    assert query(ConsistentRead=True, Limit=4) == 1
    filtered = {"FilterExpression": "fill = :none", "ExpressionAttributeValues": values | {":none": {"S": "-"}}}
    assert query(ConsistentRead=True, **filtered) == 3  # nothing returned, everything read
    assert query(ConsistentRead=True, ProjectionExpression="sk") == 3
    assert counter.hottest(reads=True)[Target(TABLE)] == [("large", 3)]


def test_an_index_query_reads_the_index_entries(client: Any, counter: CallCounter) -> None:
    for n in range(5):
        client.put_item(TableName=TABLE, Item=padded(f"due{n}", 2000, gsi1pk={"S": "DUE"}, gsi1sk={"S": f"{n}"}))
    counter.reset()
    found = client.query(
        TableName=TABLE,
        IndexName="gsi1",
        KeyConditionExpression="gsi1pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "DUE"}},
    )
    assert len(found["Items"]) == 5
    assert counter.read_units == 0.5  # 5 small entries, eventually consistent; the table's items are 10 KB
    assert counter.usage.index_read_units == {"gsi1": 0.5}
    assert counter.hottest(reads=True) == {Target(TABLE, "gsi1"): [("DUE", 0.5)]}


# ------------------------------------------------------------------------------ the counter
def test_hottest_keys_most_first_and_reset_clears_everything(client: Any, counter: CallCounter) -> None:
    client.put_item(TableName=TABLE, Item=padded("hot", 3000))
    client.put_item(TableName=TABLE, Item=padded("warm", 1500))
    client.put_item(TableName=TABLE, Item=padded("cool", 100))
    client.get_item(TableName=TABLE, Key=key("hot"), ConsistentRead=True)
    assert counter.hottest(2) == {Target(TABLE): [("hot", 3), ("warm", 2)]}
    assert counter.usage.peak_key_write_units() == 3
    counter.reset()
    assert (counter.write_units, counter.read_units, counter.index_write_units, counter.hottest()) == (0, 0, {}, {})
    assert counter.total == 0


def test_a_hold_writes_the_stock_twice_over_and_enters_the_expiry_index(
    stack: tuple[Any, Any, CallCounter], counter: CallCounter
) -> None:
    ledger = stack[1].ledger
    ledger.upsert_catalog("UNITS-1", ["shop"], {})
    ledger.report_count("UNITS-1", "shop", 5, 1, "pos", "units-c1")
    counter.reset()
    ledger.place_hold("units-h1", "UNITS-1", "shop", 1, "live", "units-h1")
    assert counter.writes == 1
    assert counter.write_units >= 2 * 2 and counter.write_units % 2 == 0  # a transaction: 2 per KB per item
    assert counter.index_write_units == {"gsi1": 1, "gsi2": 1}  # by expiry, and by source
    ((expiry_key, units),) = counter.hottest()[Target(TABLE, "gsi1")]
    assert expiry_key.startswith("HOLDEXP#") and units == 1


def test_units_are_counted_only_when_asked_for(client: Any) -> None:
    plain = CallCounter(client)
    client.get_item(TableName=TABLE, Key=key("nothing"))
    assert plain.total == 1
    with pytest.raises(RuntimeError, match="units=True"):
        _ = plain.write_units


def test_a_call_the_meter_cannot_follow_still_fails_on_its_own(client: Any, counter: CallCounter) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException):
        client.put_item(TableName="no-such-table", Item=key("x"))
    assert counter.meter is not None and dict(counter.meter.unmetered) == {"PutItem": 1}
    assert counter.write_units == 0
