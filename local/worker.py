"""One Lambda execution environment: a process that imports one handler and runs one
invocation at a time, like the Lambda runtime.

Run by local.lambdas as ``python -m local.worker <handler file> <handler name> <context JSON>``.
Protocol: a JSON line per invocation on stdin ({"event": ..., "deadline_ms": ...}); a JSON line
per answer on the original stdout ({"result": ...} or {"error": {...}}). The handler's own output
(Powertools logs go to stdout) is sent to stderr so it can never corrupt the protocol.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any, TextIO


class LambdaContext:
    """The attributes of the Lambda runtime's context object that handlers and Powertools use."""

    def __init__(self, fields: dict[str, Any], deadline: float) -> None:
        self.function_name: str = fields["function_name"]
        self.function_version = "$LATEST"
        self.invoked_function_arn: str = fields["invoked_function_arn"]
        self.memory_limit_in_mb: int = fields["memory_limit_in_mb"]
        self.log_group_name = f"/aws/lambda/{self.function_name}"
        self.log_stream_name = time.strftime("%Y/%m/%d/[$LATEST]local")
        self.aws_request_id = str(uuid.uuid4())
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _protocol_stream() -> TextIO:
    """Keep the real stdout for answers; everything else printed goes to stderr."""
    answers = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr
    return answers


def main() -> None:
    path, name, context_json = sys.argv[1], sys.argv[2], sys.argv[3]
    answers = _protocol_stream()
    spec = importlib.util.spec_from_file_location("app", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules["app"] = module
    spec.loader.exec_module(module)
    handler = getattr(module, name)
    fields = json.loads(context_json)
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        context = LambdaContext(fields, time.monotonic() + request["deadline_ms"] / 1000)
        try:
            answer: dict[str, Any] = {"result": handler(request["event"], context)}
            text = json.dumps(answer)
        except Exception as error:
            traceback.print_exc()
            text = json.dumps({"error": {"type": type(error).__name__, "message": str(error)}})
        answers.write(text + "\n")


if __name__ == "__main__":
    main()
