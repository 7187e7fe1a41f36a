"""Start ``python -m local`` in its own process on free ports, as a developer would run it,
and wait for its ready line (end-to-end tests and benchmarks use this)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
READY = re.compile(r"^Omnistock local stack ready on (http://\S+)$")


class LaunchFailed(RuntimeError):
    pass


@dataclass
class Launched:
    url: str
    process: subprocess.Popen[str]
    output: list[str] = field(default_factory=list)  # the stack's stdout and stderr so far


@contextmanager
def launch(*arguments: str, timeout: float = 60.0) -> Iterator[Launched]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)]),
        "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "local", "--port", "0", "--moto-port", "0", *arguments]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output: list[str] = []
    ready = threading.Event()
    found: list[str] = []

    def pump() -> None:  # keep reading, or the stack blocks once the pipe fills
        for line in process.stdout or ():
            output.append(line.rstrip("\n"))
            match = READY.match(line.strip())
            if match and not ready.is_set():
                found.append(match.group(1))
                ready.set()
        ready.set()  # the process ended: stop waiting

    threading.Thread(target=pump, name="local-stack-output", daemon=True).start()
    deadline = time.monotonic() + timeout
    while not ready.wait(0.05) and time.monotonic() < deadline:
        pass
    try:
        if not found:
            tail = "\n".join(output[-40:])
            raise LaunchFailed(f"the local stack did not start (exit {process.poll()}):\n{tail}")
        yield Launched(found[0], process, output)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
