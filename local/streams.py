"""DynamoDB stream event source mappings: poll moto's stream and feed functions in batches.

Per consumer, as Lambda does: filter records (FilterCriteria), batch up to BatchSize or until
MaximumBatchingWindowInSeconds passes, honour ``batchItemFailures`` (retry from the first
failed record), retry errors up to MaximumRetryAttempts, bisect a failing batch when
BisectBatchOnFunctionError is on (bisecting does not use up retries), and then give up on
the records (logged as sent to the on-failure destination). MaximumRecordAgeInSeconds and
ParallelizationFactor are not simulated.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from local.filters import any_filter_matches
from local.lambdas import LocalFunction
from local.template import StreamSpec

log = logging.getLogger("local.streams")

POLL_SECONDS = 0.2
_RETRY_PAUSE_SECONDS = 0.05


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A ``get_records`` record (as boto3 returns it) in the shape Lambda delivers."""
    dynamodb = dict(raw["dynamodb"])
    created = dynamodb.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):  # boto3 parses it; Lambda sends epoch seconds
        dynamodb["ApproximateCreationDateTime"] = int(created.timestamp())
    return {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": dynamodb,
        "eventSourceARN": stream_arn,
    }


class StreamReader:
    """Reads every shard of a stream in order, following shard changes."""

    def __init__(self, client: Any, stream_arn: str, starting_position: str) -> None:
        self.client = client
        self.stream_arn = stream_arn
        self.starting_position = "LATEST" if starting_position == "LATEST" else "TRIM_HORIZON"
        self._iterators: dict[str, str] = {}
        self._last_sequence: dict[str, str] = {}
        self._closed: set[str] = set()
        self._refresh = True

    def open(self) -> None:
        """Take the starting position now (LATEST means: from this moment)."""
        self._discover()

    def read(self) -> list[dict[str, Any]]:
        if self._refresh:
            self._discover()
        records: list[dict[str, Any]] = []
        for shard_id in list(self._iterators):
            try:
                self._read_shard(shard_id, records)
            except ClientError as error:  # expired or trimmed iterator: start again after the last record
                log.warning("stream shard %s: %s; reopening", shard_id, error)
                del self._iterators[shard_id]
                self._refresh = True
            except BotoCoreError as error:  # moto unreachable (stopping?): try again next poll
                log.warning("stream shard %s: %s", shard_id, error)
        return records

    def _read_shard(self, shard_id: str, records: list[dict[str, Any]]) -> None:
        """Append the shard's new records; the position advances only past records returned."""
        while True:
            response = self.client.get_records(ShardIterator=self._iterators[shard_id], Limit=1000)
            batch = response.get("Records", [])
            records.extend(batch)
            if batch:
                self._last_sequence[shard_id] = batch[-1]["dynamodb"]["SequenceNumber"]
            iterator = response.get("NextShardIterator")
            if not iterator:  # the shard is closed and read to its end; its children carry on
                del self._iterators[shard_id]
                self._closed.add(shard_id)
                self._refresh = True
                return
            self._iterators[shard_id] = iterator
            if not batch:
                return

    def _discover(self) -> None:
        description = self.client.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        for shard in description.get("Shards", []):
            shard_id = shard["ShardId"]
            if shard_id in self._iterators or shard_id in self._closed:
                continue
            kwargs: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": shard_id}
            if shard_id in self._last_sequence:
                kwargs.update(ShardIteratorType="AFTER_SEQUENCE_NUMBER", SequenceNumber=self._last_sequence[shard_id])
            else:
                kwargs["ShardIteratorType"] = self.starting_position
            self._iterators[shard_id] = self.client.get_shard_iterator(**kwargs)["ShardIterator"]
        self._refresh = False


class StreamConsumer:
    """One DynamoDB event of one function: its own reader, batches, retries and counters."""

    def __init__(self, spec: StreamSpec, function: LocalFunction, reader: StreamReader) -> None:
        self.spec = spec
        self.function = function
        self.reader = reader
        self.counters = {"delivered": 0, "failed": 0, "batches": 0, "filtered": 0, "retries": 0, "errors": 0}
        self._pending: deque[dict[str, Any]] = deque()
        self._first_pending_at = 0.0
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._changed = threading.Condition()
        self._requested = 0  # drain tickets handed out
        self._drained = 0  # highest ticket fully delivered
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return f"{self.spec.function}.{self.spec.event}"

    def start(self) -> None:
        self.reader.open()
        self._thread = threading.Thread(target=self._loop, name=f"stream-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def drain(self, timeout: float) -> bool:
        """Wait until every record written before this call was delivered or given up on."""
        with self._changed:
            self._requested += 1
            ticket = self._requested
        self._wake.set()
        with self._changed:
            return self._changed.wait_for(lambda: self._drained >= ticket, timeout=timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            ticket = self._requested  # read before the stream, so the read sees what preceded it
            try:
                self._pull()
                read_ok = True
            except Exception:
                log.exception("%s: reading the stream failed", self.name)
                read_ok = False
            flush = ticket > self._drained
            while self._pending and not self._stop.is_set() and (flush or self._batch_ready()):
                count = min(self.spec.batch_size, len(self._pending))
                self._deliver([self._pending.popleft() for _ in range(count)])
            if flush and read_ok and not self._pending:
                with self._changed:
                    self._drained = max(self._drained, ticket)
                    self._changed.notify_all()
            self._wake.wait(POLL_SECONDS)

    def _pull(self) -> None:
        for raw in self.reader.read():
            record = lambda_record(raw, self.reader.stream_arn, self.function.region)
            if not any_filter_matches(self.spec.filters, record):
                self.counters["filtered"] += 1
                continue
            if not self._pending:
                self._first_pending_at = time.monotonic()
            self._pending.append(record)

    def _batch_ready(self) -> bool:
        waited = time.monotonic() - self._first_pending_at
        return len(self._pending) >= self.spec.batch_size or waited >= self.spec.window_seconds

    def _deliver(self, batch: list[dict[str, Any]]) -> None:
        work: deque[tuple[list[dict[str, Any]], int]] = deque([(batch, 0)])
        while work:
            records, retries = work.popleft()
            failed_at, raised = self._invoke(records)
            if failed_at is None:
                self.counters["delivered"] += len(records)
                continue
            self.counters["delivered"] += failed_at
            remaining = records[failed_at:]
            if raised and self.spec.bisect and len(remaining) > 1:
                half = len(remaining) // 2
                work.extendleft([(remaining[half:], retries), (remaining[:half], retries)])
            elif 0 <= self.spec.max_retries <= retries or self._stop.is_set():
                self._give_up(remaining)
            else:
                self.counters["retries"] += 1
                work.appendleft((remaining, retries + 1))
                self._stop.wait(_RETRY_PAUSE_SECONDS)

    def _invoke(self, records: list[dict[str, Any]]) -> tuple[int | None, bool]:
        """(index of the first record to retry or None, whether the function raised)."""
        self.counters["batches"] += 1
        try:
            result = self.function.invoke({"Records": records})
        except Exception:
            self.counters["errors"] += 1
            log.exception("%s failed on a batch of %d records", self.name, len(records))
            return 0, True
        if not self.spec.report_batch_item_failures or result is None:
            return None, False
        if not isinstance(result, dict):  # not a response Lambda can read: the whole batch failed
            return 0, False
        failures = result.get("batchItemFailures")
        if not failures:
            return None, False
        positions = {record["dynamodb"]["SequenceNumber"]: i for i, record in enumerate(records)}
        if not isinstance(failures, list) or not all(isinstance(item, dict) for item in failures):
            return 0, False
        # An identifier that is not in the batch makes the whole batch a failure, as in Lambda.
        return min(positions.get(item.get("itemIdentifier"), 0) for item in failures), False

    def _give_up(self, records: list[dict[str, Any]]) -> None:
        self.counters["failed"] += len(records)
        first, last = records[0]["dynamodb"]["SequenceNumber"], records[-1]["dynamodb"]["SequenceNumber"]
        log.error(
            "%s: gave up on %d records (sequence numbers %s..%s); sent to the on-failure destination %s",
            self.name,
            len(records),
            first,
            last,
            self.spec.on_failure or "(none configured: dropped)",
        )
