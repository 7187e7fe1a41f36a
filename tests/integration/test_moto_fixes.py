"""moto streams only committed writes once local.moto_fixes is applied (conftest applies it)."""

from __future__ import annotations

from typing import Any

from omnistock.ledger import Ledger
from tests.integration.conftest import TABLE, StreamReader


def test_cancelled_transactions_leave_no_stream_record(ledger: Ledger, tee: str, stream: StreamReader) -> None:
    stream.read()  # an iterator opened before the writes, as a long-running poller's is
    ledger.report_count(tee, "shop", 1, 1, "pos", "c1")
    ledger.sell(tee, "shop", 1, "shopify", "o1")
    ledger.sell(tee, "shop", 1, "shopify", "o1")  # duplicate: cancelled
    ledger.place_hold("h1", tee, "shop", 1, "live", "r1")  # nothing available: cancelled
    ledger.restock(tee, "shop", 2, "admin", "r1")  # committed after the cancellations
    stock_records = [r for r in stream.read() if r["dynamodb"]["Keys"]["sk"]["S"] == "LOC#shop"]
    revisions: list[Any] = [int(r["dynamodb"]["NewImage"]["rev"]["N"]) for r in stock_records]
    assert revisions == [1, 2, 3]


def test_a_retried_transaction_with_the_same_token_applies_once(ledger: Ledger, tee: str) -> None:
    client = ledger.store.table.client
    ledger.report_count(tee, "shop", 5, 1, "pos", "c1")
    request = {
        "TransactItems": [
            {
                "Update": {
                    "TableName": ledger.store.table.name,
                    "Key": {"pk": {"S": "SKU#TEE"}, "sk": {"S": "LOC#shop"}},
                    "UpdateExpression": "ADD on_hand :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            }
        ],
        "ClientRequestToken": "retry-me",
    }
    client.transact_write_items(**request)
    client.transact_write_items(**request)  # botocore's retry after a timeout sends the same token
    level = ledger.store.stock(tee, "shop")
    assert level is not None
    assert level.on_hand == 6


def test_an_update_that_creates_an_item_streams_one_insert(dynamodb: Any, stream: StreamReader) -> None:
    """DynamoDB streams one INSERT with the whole new image; moto streamed the bare keys first,
    and the movement log choked on them (a stock item with no time)."""
    key = {"pk": {"S": "SKU#NEW"}, "sk": {"S": "LOC#shop"}}
    dynamodb.update_item(
        TableName=TABLE, Key=key, UpdateExpression="SET on_hand = :n", ExpressionAttributeValues={":n": {"N": "3"}}
    )
    dynamodb.transact_write_items(
        TransactItems=[
            {
                "Update": {
                    "TableName": TABLE,
                    "Key": {"pk": {"S": "SKU#NEW"}, "sk": {"S": "LOC#web"}},
                    "UpdateExpression": "ADD on_hand :n",
                    "ExpressionAttributeValues": {":n": {"N": "1"}},
                }
            }
        ]
    )
    records = stream.read()
    assert [(r["eventName"], sorted(r["dynamodb"]["NewImage"])) for r in records] == [
        ("INSERT", ["on_hand", "pk", "sk"]),
        ("INSERT", ["on_hand", "pk", "sk"]),
    ]


def test_a_record_after_an_update_that_created_an_item_is_not_lost(ledger: Ledger, stream: StreamReader) -> None:
    """Dropping moto's bare-keys record left a gap its numbering then filled twice: a reader
    past the created item's record never saw the next one (a new SKU's first count)."""
    stream.read()  # a poller's iterator, opened before
    ledger.upsert_catalog("NEW", ["shop"], {})  # its catalog counter is an UpdateItem that creates it
    first = stream.read()
    ledger.report_count("NEW", "shop", 5, 1, "pos", "c1")
    after = stream.read()
    numbers = [int(r["dynamodb"]["SequenceNumber"]) for r in first + after]
    assert numbers == sorted(set(numbers))
    assert [r["dynamodb"]["Keys"]["sk"]["S"] for r in after] == ["LOC#shop"]
