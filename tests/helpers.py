"""Helpers shared by the suites: load a function's handler by path, a Lambda context, HTTP API events."""

from __future__ import annotations

import importlib.util
import json
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from tests.fakes import FakeContext  # noqa: F401  (tests import it from here too)

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "template.yaml"


def load_function(folder: str) -> ModuleType:
    """Import functions/<folder>/app.py under a unique name (every function's module is app.py)."""
    path = ROOT / "functions" / folder / "app.py"
    spec = importlib.util.spec_from_file_location(f"fn_{folder}_app", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def http_event(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    """An API Gateway HTTP API (payload 2.0) event, as the gateway builds it."""
    raw = body if isinstance(body, str) or body is None else json.dumps(body)
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json", "host": "localhost"},
        "queryStringParameters": query,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": "23/Nov/2026:12:00:00 +0000",
            "timeEpoch": 1795435200000,
        },
        "body": raw,
        "isBase64Encoded": False,
    }
