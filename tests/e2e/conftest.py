"""End-to-end tests run against ``python -m local`` in a subprocess, on free ports.

The session fixture ``stack`` starts it once (schedules slowed to hourly, so tests trigger
them with ``stack.run_schedule``) and gives a client that sends the dev token.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
READY = re.compile(r"^Omnistock local stack ready on (http://\S+)$")
START_TIMEOUT_SECONDS = 60


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
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "local", "--port", "0", "--moto-port", "0", "--schedule-every", "3600"]
    process = subprocess.Popen(
        [*command, "--dev-token", token],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    ready = threading.Event()
    found: list[str] = []

    def pump() -> None:  # keep reading, or the stack blocks once the pipe fills
        assert process.stdout is not None
        for line in process.stdout:
            output.append(line.rstrip("\n"))
            match = READY.match(line.strip())
            if match and not ready.is_set():
                found.append(match.group(1))
                ready.set()
        ready.set()  # the process ended: stop waiting

    threading.Thread(target=pump, name="local-stack-output", daemon=True).start()
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while not ready.wait(0.05) and time.monotonic() < deadline:
        pass
    if not found:
        process.kill()
        process.wait(timeout=10)
        tail = "\n".join(output[-40:])
        pytest.fail(f"the local stack did not start (exit {process.returncode}):\n{tail}")
    client = httpx.Client(base_url=found[0], headers={"Authorization": f"Bearer {token}"}, timeout=30)
    try:
        yield RunningStack(found[0], token, client, process, output)
    finally:
        client.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
