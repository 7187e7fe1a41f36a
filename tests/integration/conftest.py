"""moto with requests serialized (plain moto is not atomic under threads), and the table
built from template.yaml, so tests and the deployed stack share one schema."""

from __future__ import annotations

import threading
from collections.abc import Generator, Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core import botocore_stubber

from local import moto_fixes
from local.template import table_definition
from omnistock import runtime
from omnistock.clients import Clients
from omnistock.config import Config
from omnistock.ledger import Ledger
from omnistock.wiring import Wiring, build
from tests import log_scan, reliability
from tests.fakes import Clock
from tests.helpers import TEMPLATE

TABLE = "omnistock-test"

_original_process_request = botocore_stubber.BotocoreStubber.process_request
_moto_lock = threading.RLock()


def _serialized(self: Any, request: Any) -> Any:
    with _moto_lock:
        return _original_process_request(self, request)


botocore_stubber.BotocoreStubber.process_request = _serialized  # type: ignore[method-assign]
moto_fixes.apply()


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


@pytest.fixture
def dynamodb(aws: None) -> Any:
    client = boto3.client("dynamodb")
    client.create_table(**table_definition(TEMPLATE, TABLE))
    return client


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 12, 0, tzinfo=UTC))


@pytest.fixture
def wiring(dynamodb: Any, clock: Clock) -> Wiring:
    """The stack's object graph on the moto table, as the deployed wiring builds it."""
    return build(Config.for_table(TABLE), Clients(dynamodb=dynamodb), clock=clock)


@pytest.fixture
def ledger(wiring: Wiring) -> Ledger:
    return wiring.ledger


@pytest.fixture
def tee(ledger: Ledger) -> str:
    """A SKU stocked at two locations, sold on one channel from both."""
    ledger.upsert_catalog("TEE", ["shop", "web"], {"shopify": "1001"}, "T-shirt")
    ledger.set_channel("shopify", ["shop", "web"])
    return "TEE"


@pytest.fixture
def handler_env(dynamodb: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Environment as template.yaml gives the functions, pointed at the moto table."""
    monkeypatch.setenv("TABLE_NAME", TABLE)
    runtime.reset()
    yield
    runtime.reset()


class StreamReader:
    """Reads the table's stream from where it last stopped, as Lambda's poller would."""

    def __init__(self, client: Any) -> None:
        arn = client.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
        self.streams = boto3.client("dynamodbstreams")
        shard = self.streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
        self.iterator = self.streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
            "ShardIterator"
        ]

    def read(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        while True:
            response = self.streams.get_records(ShardIterator=self.iterator)
            self.iterator = response["NextShardIterator"]
            if not response["Records"]:
                return records
            records.extend(map(_as_lambda_delivers, response["Records"]))


def _as_lambda_delivers(record: dict[str, Any]) -> dict[str, Any]:
    """boto3 parses the record's creation time; Lambda sends it as epoch seconds."""
    created = record["dynamodb"].get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        record["dynamodb"]["ApproximateCreationDateTime"] = int(created.timestamp())
    return record


@pytest.fixture
def stream(dynamodb: Any) -> StreamReader:
    return StreamReader(dynamodb)


def snapshot(ledger: Ledger, sku: str) -> list[tuple[Any, ...]]:
    """What a SKU's stock is made of, ignoring revisions and timestamps."""
    return [
        (
            level.location,
            level.on_hand,
            level.held,
            level.pending,
            level.available,
            level.master_version,
            tuple(sorted((key, lot.qty, lot.applied_version) for key, lot in level.lots.items())),
        )
        for level in sorted(ledger.store.stock_levels(sku), key=lambda level: level.location)
    ]


log_scan.remember_stored_secrets()
LEAKED = pytest.StashKey[bool]()


@pytest.fixture(autouse=True)
def logs_carry_no_secrets(request: pytest.FixtureRequest) -> Iterator[log_scan.Capture]:
    """What every test logs is scanned afterwards: no secret, token or customer data may show
    (what it writes to stdout and stderr is scanned by the hook below)."""
    with log_scan.capturing() as captured:
        yield captured
    found = captured.findings()
    reliability.record("security", log_scans=1)
    if found:
        reliability.failed("security")
        request.node.stash[LEAKED] = True
        pytest.fail(f"{request.node.nodeid} logged {'; '.join(map(str, found))}", pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """After the teardown, what the test wrote to stdout and stderr is scanned as pytest captured
    it (Powertools' handlers keep the stream they were built with, so a capsys-style fixture
    would miss them or leave them writing to a closed stream). A leak's report shows the
    captured output with the values replaced by their kind."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.when != "teardown":
        return
    found = log_scan.output_findings(report.sections) if report.passed else []
    if found:
        reliability.failed("security")
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} wrote {'; '.join(map(str, found))}"
    if found or item.stash.get(LEAKED, False):
        report.sections = [(title, log_scan.redact(text)) for title, text in report.sections]
