"""The stream poller's batching, partial failures, retries and bisecting, with a fake stream."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from local.streams import StreamConsumer, lambda_record
from local.template import StreamSpec

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x"


def _raw(seq: int, sk: str = "LOC#shop", name: str = "MODIFY") -> dict[str, Any]:
    return {
        "eventID": f"e{seq}",
        "eventName": name,
        "eventVersion": "1.0",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": datetime(2026, 11, 23, tzinfo=UTC),
            "Keys": {"pk": {"S": "SKU#A"}, "sk": {"S": sk}},
            "SequenceNumber": str(seq),
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }


class _Reader:
    stream_arn = ARN

    def __init__(self) -> None:
        self.waiting: list[dict[str, Any]] = []
        self.lock = threading.Lock()

    def open(self) -> None:
        pass

    def write(self, *records: dict[str, Any]) -> None:
        with self.lock:
            self.waiting.extend(records)

    def read(self) -> list[dict[str, Any]]:
        with self.lock:
            taken, self.waiting = self.waiting, []
        return taken


class _Function:
    region = "us-east-1"

    def __init__(self, behaviour: Any) -> None:
        self.behaviour = behaviour
        self.batches: list[list[str]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        sequences = [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]
        self.batches.append(sequences)
        return self.behaviour(sequences)


def _spec(**overrides: Any) -> StreamSpec:
    values: dict[str, Any] = {
        "function": "Fn",
        "event": "Changes",
        "table": "T",
        "starting_position": "TRIM_HORIZON",
        "batch_size": 100,
        "window_seconds": 0.0,
        "max_retries": 2,
        "bisect": False,
        "report_batch_item_failures": True,
        "filters": (),
        "on_failure": "arn:aws:sqs:us-east-1:123456789012:dlq",
    }
    values.update(overrides)
    return StreamSpec(**values)


def _run(spec: StreamSpec, behaviour: Any, *records: dict[str, Any]) -> tuple[StreamConsumer, _Function]:
    reader, function = _Reader(), _Function(behaviour)
    consumer = StreamConsumer(spec, function, reader)  # type: ignore[arg-type]
    consumer.start()
    try:
        reader.write(*records)
        assert consumer.drain(timeout=5)
    finally:
        consumer.stop()
    return consumer, function


def test_lambda_record_shape():
    record = lambda_record(_raw(7), ARN, "eu-west-1")
    assert record["eventVersion"] == "1.1"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == ARN
    assert record["dynamodb"]["ApproximateCreationDateTime"] == int(datetime(2026, 11, 23, tzinfo=UTC).timestamp())
    assert record["dynamodb"]["SequenceNumber"] == "7"


def test_batches_are_cut_at_batch_size():
    consumer, function = _run(_spec(batch_size=2), lambda seqs: None, *(_raw(i) for i in range(1, 6)))
    assert function.batches == [["1", "2"], ["3", "4"], ["5"]]
    assert consumer.counters["delivered"] == 5
    assert consumer.counters["batches"] == 3


def test_filtered_records_are_not_delivered():
    spec = _spec(filters=({"dynamodb": {"Keys": {"sk": {"S": [{"prefix": "LOC#"}]}}}},))
    consumer, function = _run(spec, lambda seqs: None, _raw(1), _raw(2, sk="CATALOG"), _raw(3))
    assert function.batches == [["1", "3"]]
    assert consumer.counters["filtered"] == 1


def test_partial_batch_failure_retries_from_the_reported_record():
    failed_once: set[str] = set()

    def fail_3_once(seqs: list[str]) -> Any:
        if "3" in seqs and "3" not in failed_once:
            failed_once.add("3")
            return {"batchItemFailures": [{"itemIdentifier": "3"}]}
        return {"batchItemFailures": []}

    consumer, function = _run(_spec(), fail_3_once, *(_raw(i) for i in range(1, 5)))
    assert function.batches == [["1", "2", "3", "4"], ["3", "4"]]
    assert consumer.counters["delivered"] == 4
    assert consumer.counters["failed"] == 0


def test_unknown_item_identifier_fails_the_whole_batch():
    consumer, function = _run(
        _spec(max_retries=1), lambda seqs: {"batchItemFailures": [{"itemIdentifier": "nope"}]}, _raw(1), _raw(2)
    )
    assert function.batches == [["1", "2"], ["1", "2"]]
    assert consumer.counters["failed"] == 2


def test_batch_item_failures_are_ignored_without_the_response_type():
    spec = _spec(report_batch_item_failures=False)
    consumer, function = _run(spec, lambda seqs: {"batchItemFailures": [{"itemIdentifier": "1"}]}, _raw(1))
    assert function.batches == [["1"]]
    assert consumer.counters["delivered"] == 1


def test_errors_are_retried_then_given_up(caplog):
    def always(seqs: list[str]) -> Any:
        raise RuntimeError("poison")

    consumer, function = _run(_spec(max_retries=2), always, _raw(1), _raw(2))
    assert len(function.batches) == 3  # the first try and two retries
    assert consumer.counters["failed"] == 2
    assert consumer.counters["delivered"] == 0
    assert "on-failure destination arn:aws:sqs" in caplog.text


def test_bisecting_isolates_the_poison_record():
    def poison_2(seqs: list[str]) -> Any:
        if "2" in seqs:
            raise RuntimeError("poison")
        return None

    consumer, function = _run(_spec(max_retries=1, bisect=True), poison_2, *(_raw(i) for i in range(1, 5)))
    assert consumer.counters["delivered"] == 3
    assert consumer.counters["failed"] == 1
    assert function.batches[:3] == [["1", "2", "3", "4"], ["1", "2"], ["1"]]
    assert function.batches.count(["2"]) == 2  # bisecting is free; the single record used its one retry
    assert ["3", "4"] in function.batches


@pytest.mark.parametrize("window", [0.0, 0.3])
def test_drain_does_not_wait_for_the_batching_window(window):
    consumer, function = _run(_spec(window_seconds=window), lambda seqs: None, _raw(1))
    assert function.batches == [["1"]]
    assert consumer.counters["delivered"] == 1


def test_reader_follows_moto_stream():
    import boto3
    from moto import mock_aws

    from local.streams import StreamReader
    from local.template import create_table

    template = Path(__file__).resolve().parents[2] / "template.yaml"
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name="us-east-1")
        create_table(dynamodb, template, "t-streams")
        arn = dynamodb.describe_table(TableName="t-streams")["Table"]["LatestStreamArn"]
        reader = StreamReader(boto3.client("dynamodbstreams", region_name="us-east-1"), arn, "TRIM_HORIZON")
        reader.open()
        dynamodb.put_item(TableName="t-streams", Item={"pk": {"S": "SKU#A"}, "sk": {"S": "LOC#shop"}})
        dynamodb.put_item(TableName="t-streams", Item={"pk": {"S": "SKU#A"}, "sk": {"S": "LOC#shop"}, "n": {"N": "1"}})
        first = [lambda_record(raw, arn, "us-east-1") for raw in reader.read()]
        assert [record["eventName"] for record in first] == ["INSERT", "MODIFY"]
        assert first[1]["dynamodb"]["OldImage"] == {"pk": {"S": "SKU#A"}, "sk": {"S": "LOC#shop"}}
        assert reader.read() == []
        dynamodb.delete_item(TableName="t-streams", Key={"pk": {"S": "SKU#A"}, "sk": {"S": "LOC#shop"}})
        assert [raw["eventName"] for raw in reader.read()] == ["REMOVE"]
