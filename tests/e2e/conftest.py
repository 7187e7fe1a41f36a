"""End-to-end tests run against ``python -m local`` in a subprocess, on free ports.

The session fixture ``stack`` starts it once (schedules slowed to hourly, so tests trigger
them with ``stack.run_schedule``) and gives a client that sends the dev token.
"""

from __future__ import annotations

import os
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from cli.channels import go_live
from local.launcher import LaunchFailed, launch
from tests import log_scan
from tests.reliability import failed, record


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
    """The stack for the whole session; at its end, its output is scanned for secrets (an
    assertion error in teardown, so a leak fails the run loudly)."""
    yield from running_stack()


def running_stack(*arguments: str) -> Iterator[RunningStack]:
    """A local stack (schedules slowed to hourly, extra ``arguments`` for ``python -m local``) for
    as long as the caller iterates; then its output is scanned for secrets. Suites that change
    what others rely on (random admin calls, a short grace window) start their own."""
    token = secrets.token_urlsafe(16)
    try:
        # "=": a token may start with "-", which argparse would take for an option
        with launch("--schedule-every", "3600", f"--dev-token={token}", *arguments) as launched:
            client = httpx.Client(base_url=launched.url, headers={"Authorization": f"Bearer {token}"}, timeout=30)
            with client:
                running = RunningStack(launched.url, token, client, launched.process, launched.output)
                yield running
                stored = stack_secrets(running)
    except LaunchFailed as error:
        pytest.fail(str(error))
    assert_output_carries_no_secrets(launched.output, stored)


def stack_secrets(stack: RunningStack) -> list[log_scan.Sensitive]:
    """Every version of every secret the stack stores (the Lightspeed tokens it rotated too), read
    from its moto while it runs, and the dev token its gateway checks."""
    import boto3

    moto = stack.client.get("/_local/health").json()["moto"]
    client = boto3.client("secretsmanager", endpoint_url=moto, region_name=os.environ.get("AWS_DEFAULT_REGION"))
    found = [log_scan.Sensitive(stack.dev_token, "the local dev token")]
    for page in client.get_paginator("list_secrets").paginate():
        for secret in page["SecretList"]:
            versions = client.list_secret_version_ids(SecretId=secret["ARN"], IncludeDeprecated=True)["Versions"]
            for version in versions:
                stored = client.get_secret_value(SecretId=secret["ARN"], VersionId=version["VersionId"])
                found += log_scan.secret_values(secret["Name"], stored.get("SecretString", ""))
    return found


def assert_output_carries_no_secrets(output: list[str], stored: list[log_scan.Sensitive]) -> None:
    shown = [line for line in output if not line.startswith("dev token")]  # the banner tells the developer
    found = log_scan.scan_lines(shown, stored, "the local stack's output")
    record("security", log_scans=1)
    if found:
        failed("security")
    assert not found, "the local stack logged " + "; ".join(map(str, found))


SHOPIFY_LOCATION = "gid://shopify/Location/9001"  # the Shopify channel's location in the sandbox


def live_channel(client: httpx.Client, name: str, body: dict[str, Any]) -> None:
    """Configure a pushed channel and take it live (a new one starts in shadow mode)."""
    answer = client.put(f"/channels/{name}", json=body)
    assert answer.status_code == 200, answer.text
    if answer.json()["mode"] == "shadow":
        go_live(client, name)


@pytest.fixture(scope="session")
def sandbox(stack: RunningStack) -> httpx.Client:
    """The Shopify sandbox's control API, with the stack's Shopify channel configured and live."""
    url = stack.client.get("/_local/health").json()["shopify_sandbox"]
    body = {"locations": ["shop", "web"], "platform": "shopify", "target_location": SHOPIFY_LOCATION}
    live_channel(stack.client, "shopify", body)
    return httpx.Client(base_url=url, timeout=10)
