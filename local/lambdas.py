"""Lambda functions run locally the way Lambda runs them: each execution environment is its
own process (local.worker) with the function's own environment variables, serving one
invocation at a time; concurrent invocations get more environments.

Processes, not threads: handlers keep per-invocation state in globals (Powertools' resolvers
put the current event on a class attribute), so two invocations must never share an
interpreter, exactly as in Lambda.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO, Any

from local.cfn import ACCOUNT_ID
from local.template import STACK_NAME, FunctionSpec

log = logging.getLogger("local.lambdas")
REPO_ROOT = Path(__file__).resolve().parent.parent
MAX_ENVIRONMENTS = 8


class FunctionError(RuntimeError):
    """The handler raised, timed out, or its environment died."""


class Environment:
    """One worker process: imports the handler once, then runs invocations in turn."""

    def __init__(self, spec: FunctionSpec, region: str, environ: dict[str, str]) -> None:
        self.spec = spec
        name = f"{STACK_NAME}-{spec.logical_id}"
        context = {
            "function_name": name,
            "invoked_function_arn": f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{name}",
            "memory_limit_in_mb": spec.memory,
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "local.worker", str(spec.handler_file), spec.handler_name, json.dumps(context)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=environ,
            cwd=REPO_ROOT,
            text=True,
        )
        if self.process.stdin is None or self.process.stdout is None:
            raise FunctionError("the worker has no pipes")
        self.requests: IO[str] = self.process.stdin
        self.answers: IO[str] = self.process.stdout
        if not self._read_line(timeout=60):  # the cold start: imports happen here
            raise FunctionError(f"{spec.logical_id}: the handler did not load (see its output above)")

    def invoke(self, event: Any) -> Any:
        deadline_ms = self.spec.timeout * 1000
        self.requests.write(json.dumps({"event": event, "deadline_ms": deadline_ms}) + "\n")
        self.requests.flush()
        line = self._read_line(timeout=self.spec.timeout + 1)
        if line is None:
            self.stop()
            raise FunctionError(f"{self.spec.logical_id}: Task timed out after {self.spec.timeout} s")
        answer = json.loads(line)
        if "error" in answer:
            raise FunctionError(f"{self.spec.logical_id}: {answer['error']['type']}: {answer['error']['message']}")
        return answer["result"]

    def _read_line(self, timeout: float) -> str | None:
        """The worker's next answer, or None if it died or did not answer in time."""
        result: list[str] = []
        reader = threading.Thread(target=lambda: result.append(self.answers.readline()), daemon=True)
        reader.start()
        reader.join(timeout)
        return result[0] if result and result[0] else None

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.alive:
            self.process.kill()
        self.process.wait(timeout=5)


class LocalFunction:
    """One function: a pool of execution environments, created on demand (cold starts) up to
    ``max_environments`` or the function's reserved concurrency, beyond which calls queue
    (Lambda would throttle)."""

    def __init__(
        self,
        spec: FunctionSpec,
        region: str,
        max_environments: int = MAX_ENVIRONMENTS,
        overrides: dict[str, str] | None = None,
    ) -> None:
        self.spec = spec
        self.region = region
        # Reserved concurrency caps a function deployed; locally the cap is also this machine's.
        self.max_environments = min(spec.reserved_concurrency or max_environments, max_environments)
        self.environ = _environment(spec) | (overrides or {})
        self._idle: list[Environment] = []
        self._count = 0
        self._available = threading.Condition()
        self._stopped = False

    @property
    def name(self) -> str:
        return self.spec.logical_id

    def warm(self) -> None:
        """Start one environment now, so a broken handler fails at startup, not on first use."""
        self._release(self._acquire())

    def invoke(self, event: Any) -> Any:
        """The handler's result after a JSON round trip, as a Lambda caller receives it.
        Raises FunctionError when the handler raised, timed out or its process died."""
        environment = self._acquire()
        try:
            return environment.invoke(json.loads(json.dumps(event)))
        finally:
            self._release(environment)

    def _acquire(self) -> Environment:
        with self._available:
            while not self._idle and self._count >= self.max_environments:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return Environment(self.spec, self.region, self.environ)
        except BaseException:
            with self._available:
                self._count -= 1
                self._available.notify()
            raise

    def _release(self, environment: Environment) -> None:
        with self._available:
            if environment.alive and not self._stopped:
                self._idle.append(environment)
            else:
                self._count -= 1
                environment.stop()
            self._available.notify()

    def stop(self) -> None:
        with self._available:
            self._stopped = True
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for environment in idle:
            environment.stop()


def _environment(spec: FunctionSpec) -> dict[str, str]:
    """This process's environment (AWS endpoint, credentials, region), the function's own
    variables from template.yaml, and its layers on PYTHONPATH as /opt/python would be."""
    paths = [str(layer) for layer in spec.layers] + [str(REPO_ROOT)]
    existing = os.environ.get("PYTHONPATH")
    return {
        **os.environ,
        **spec.environment,
        "PYTHONPATH": os.pathsep.join(paths + ([existing] if existing else [])),
        "PYTHONUNBUFFERED": "1",
    }
