"""Lambda functions in-process: environment, module loading, context and invocation."""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from local.cfn import ACCOUNT_ID
from local.template import STACK_NAME, FunctionSpec

log = logging.getLogger("local.lambdas")

# Read when a handler module is imported (Powertools' Logger takes its service name then), so
# a per-function value is applied while importing that function's module.
IMPORT_TIME_VARIABLES = frozenset({"POWERTOOLS_SERVICE_NAME"})

_import_lock = threading.Lock()


@dataclass(frozen=True)
class EnvironmentPlan:
    common: dict[str, str]  # set once in os.environ
    per_function: dict[str, dict[str, str]]  # applied while importing each function
    problems: list[str] = field(default_factory=list)


def plan_environment(functions: list[FunctionSpec]) -> EnvironmentPlan:
    """The union of the functions' variables; those they disagree on are applied per function
    at import, which is only enough for variables read at import time (else: a problem)."""
    values: dict[str, dict[str, str]] = {}
    for function in functions:
        for name, value in function.environment.items():
            values.setdefault(name, {})[function.logical_id] = value
    common, differing, problems = {}, set(), []
    for name, by_function in values.items():
        if len(set(by_function.values())) == 1:
            common[name] = next(iter(by_function.values()))
            continue
        differing.add(name)
        if name not in IMPORT_TIME_VARIABLES:
            problems.append(
                f"functions disagree on {name} ({by_function}); one process cannot give each its own value, "
                f"so {name} is only set while each module is imported"
            )
    per_function = {
        f.logical_id: {name: value for name, value in f.environment.items() if name in differing} for f in functions
    }
    return EnvironmentPlan(common, per_function, problems)


@contextlib.contextmanager
def _environ(overrides: dict[str, str]) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in overrides}
    os.environ.update(overrides)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def load_handler(spec: FunctionSpec, overrides: dict[str, str], instance: int = 0) -> Callable[[Any, Any], Any]:
    """Import the handler's module by file path under a unique name: every function's module
    is called app.py, so a plain import would return the first one for all. Each ``instance``
    is a fresh copy of the module, like a new Lambda execution environment."""
    path = spec.handler_file
    module_name = f"omnistock_fn_{spec.logical_id}" + (f"_{instance}" if instance else "")
    with _import_lock, _environ(overrides):
        module_spec = importlib.util.spec_from_file_location(module_name, path)
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"{spec.logical_id}: cannot load {path}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[module_name] = module  # dataclasses and pickling look modules up by name
        module_spec.loader.exec_module(module)
    handler = getattr(module, spec.handler_name, None)
    if not callable(handler):
        raise ImportError(f"{spec.logical_id}: {path} has no function {spec.handler_name}")
    return handler


class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools use."""

    def __init__(self, function: FunctionSpec, region: str) -> None:
        self.function_name = f"{STACK_NAME}-{function.logical_id}"
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{ACCOUNT_ID}:function:{self.function_name}"
        self.memory_limit_in_mb = function.memory
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]local")
        self.identity = None
        self.client_context = None
        self._deadline = time.monotonic() + function.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class LocalFunction:
    """One function, called the way Lambda calls it: each execution environment (here, its own
    copy of the handler's module) serves one invocation at a time, and concurrent invocations
    get more environments, up to ``max_environments`` (or the reserved concurrency). Handlers
    may keep per-invocation state in module globals (Powertools' resolvers do), so one module
    must never serve two requests at once."""

    def __init__(
        self,
        spec: FunctionSpec,
        overrides: dict[str, str],
        region: str,
        max_environments: int = 8,
    ) -> None:
        self.spec = spec
        self.overrides = overrides
        self.region = region
        # Reserved concurrency 1 (the hold sweep) means never two at once; locally we queue
        # instead of throttling.
        self.max_environments = spec.reserved_concurrency or max_environments
        self._idle: list[Callable[[Any, Any], Any]] = [load_handler(spec, overrides)]  # fail fast at start
        self._created = 1
        self._available = threading.Condition()

    def _acquire(self) -> Callable[[Any, Any], Any]:
        with self._available:
            while not self._idle and self._created >= self.max_environments:
                self._available.wait()
            if self._idle:
                return self._idle.pop()
            self._created += 1
            instance = self._created - 1
        return load_handler(self.spec, self.overrides, instance)  # a cold start

    def _release(self, handler: Callable[[Any, Any], Any]) -> None:
        with self._available:
            self._idle.append(handler)
            self._available.notify()

    @property
    def name(self) -> str:
        return self.spec.logical_id

    def invoke(self, event: Any) -> Any:
        """The handler's result after a JSON round trip, as a Lambda caller would receive it.
        Raises what the handler raised (or TypeError for a result that is not JSON)."""
        payload = json.loads(json.dumps(event))
        context = LambdaContext(self.spec, self.region)
        started = time.monotonic()
        handler = self._acquire()
        try:
            result = handler(payload, context)
        finally:
            self._release(handler)
        elapsed = time.monotonic() - started
        if elapsed > self.spec.timeout:
            log.warning(
                "%s ran %.1f s, over its %d s timeout (Lambda stops it there)", self.name, elapsed, self.spec.timeout
            )
        return json.loads(json.dumps(result))
