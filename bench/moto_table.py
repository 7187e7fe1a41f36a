"""The table from template.yaml on in-process moto (with the same fixes as the local stack), and
the stack's wiring on it, for the benchmarks that count DynamoDB calls."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from omnistock.clock import utc_now
from omnistock.wiring import Wiring


@contextmanager
def moto_table(name: str = "bench", clock: Callable[[], datetime] = utc_now) -> Iterator[tuple[Any, Wiring]]:
    """(the DynamoDB client, the stack's wiring on it) for the duration of the block."""
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.pop("AWS_ENDPOINT_URL", None)
    import boto3
    from moto import mock_aws

    from local import moto_fixes
    from local.template import table_definition
    from omnistock.clients import Clients
    from omnistock.config import Config
    from omnistock.wiring import build

    moto_fixes.apply()
    with mock_aws():
        client = boto3.client("dynamodb")
        client.create_table(**table_definition("template.yaml", name))
        yield client, build(Config.for_table(name), Clients(dynamodb=client), clock=clock)
