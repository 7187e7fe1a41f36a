"""End-to-end tests run against ``python -m local`` in a subprocess, on free ports.

The session fixture ``stack`` starts it once (schedules slowed to hourly, so tests trigger
them with ``stack.run_schedule``) and gives a client that sends the dev token.
"""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from local.launcher import LaunchFailed, launch


@dataclass
class RunningStack:
    url: str
    dev_token: str
    client: httpx.Client
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)  # the stack's stdout and stderr so far

    def drain(self, timeout: float = 10.0) -> dict[str, Any]:
        """Wait until the stream consumers have seen every write so far; their counters."""
        response = self.client.post("/_local/stream/drain", params={"timeout": timeout}, timeout=timeout + 5)
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    def run_schedule(self, logical_id: str) -> Any:
        """Run a function's schedule now; the handler's result."""
        response = self.client.post(f"/_local/schedules/{logical_id}", timeout=60)
        response.raise_for_status()
        return response.json()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def stack() -> Iterator[RunningStack]:
    token = secrets.token_urlsafe(16)
    try:
        with launch("--schedule-every", "3600", "--dev-token", token) as launched:
            client = httpx.Client(base_url=launched.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            with client:
                yield RunningStack(launched.url, token, client, launched.process, launched.output)
    except LaunchFailed as error:
        pytest.fail(str(error))


SHOPIFY_LOCATION = "gid://shopify/Location/9001"  # the Shopify channel's location in the sandbox


@pytest.fixture(scope="session")
def sandbox(stack: RunningStack) -> httpx.Client:
    """The Shopify sandbox's control API, with the stack's Shopify channel configured."""
    url = stack.client.get("/_local/health").json()["shopify_sandbox"]
    body = {"locations": ["shop", "web"], "platform": "shopify", "target_location": SHOPIFY_LOCATION}
    assert stack.client.put("/channels/shopify", json=body).status_code == 200
    return httpx.Client(base_url=url, timeout=10)
