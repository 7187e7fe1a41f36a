"""The local gateway's answers (auth, errors, control endpoints) without sockets."""

from __future__ import annotations

import json
from typing import Any

import pytest

from local.events import Router
from local.gateway import Gateway
from local.template import HttpRoute

TOKEN = "s3cret"


class _Function:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.events: list[dict[str, Any]] = []

    def invoke(self, event: dict[str, Any]) -> Any:
        self.events.append(event)
        if self.fail:
            raise RuntimeError("boom")
        return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": json.dumps(event)}


class _Control:
    def health(self) -> dict[str, Any]:
        return {"ready": True}

    def run_schedule(self, function: str) -> Any:
        if function == "Broken":
            raise ValueError("bad")
        if function != "Sweep":
            raise KeyError(function)
        return {"expired": 0}

    def drain(self, timeout: float) -> tuple[bool, dict[str, Any]]:
        return timeout > 1, {"delivered": 3, "failed": 0, "batches": 1}


def _gateway(fail: bool = False) -> tuple[Gateway, _Function]:
    function = _Function(fail)
    routes = [
        HttpRoute("Fn", "Read", "GET", "/skus/{sku}", "AWS_IAM"),
        HttpRoute("Fn", "Ping", "GET", "/ping", None),
    ]
    return Gateway(Router(routes), {"Fn": function}, TOKEN, _Control()), function  # type: ignore[dict-item]


def _call(gateway: Gateway, method: str, target: str, headers: list[tuple[str, str]] | None = None):
    status, _, body = gateway.handle(method, target, headers or [], b"", "127.0.0.1")
    return status, json.loads(body)


@pytest.mark.parametrize(
    ("headers", "status", "message"),
    [
        ([], 401, "Unauthorized"),
        ([("Authorization", "Bearer wrong")], 403, "Forbidden"),
        ([("Authorization", f"Basic {TOKEN}")], 403, "Forbidden"),
    ],
)
def test_iam_routes_need_the_dev_token(headers, status, message):
    gateway, function = _gateway()
    assert _call(gateway, "GET", "/skus/A", headers) == (status, {"message": message})
    assert function.events == []


def test_authorized_request_reaches_the_function():
    gateway, _ = _gateway()
    status, event = _call(gateway, "GET", "/skus/A%2FB?movements=5", [("authorization", f"bearer {TOKEN}")])
    assert status == 200
    assert event["pathParameters"] == {"sku": "A/B"}
    assert event["queryStringParameters"] == {"movements": "5"}


def test_open_route_needs_no_token():
    gateway, _ = _gateway()
    assert _call(gateway, "GET", "/ping")[0] == 200


def test_unknown_route_is_404_before_auth():
    gateway, _ = _gateway()
    assert _call(gateway, "GET", "/nope") == (404, {"message": "Not Found"})
    assert _call(gateway, "POST", "/skus/A") == (404, {"message": "Not Found"})


def test_handler_exception_is_500_and_logged(caplog):
    gateway, _ = _gateway(fail=True)
    assert _call(gateway, "GET", "/ping") == (500, {"message": "Internal Server Error"})
    assert "RuntimeError: boom" in caplog.text


def test_control_endpoints():
    gateway, _ = _gateway()
    assert _call(gateway, "GET", "/_local/health") == (200, {"ready": True})
    assert _call(gateway, "POST", "/_local/schedules/Sweep") == (200, {"expired": 0})
    assert _call(gateway, "POST", "/_local/schedules/Other")[0] == 404
    assert _call(gateway, "POST", "/_local/schedules/Broken") == (
        500,
        {"errorType": "ValueError", "errorMessage": "bad"},
    )
    assert _call(gateway, "POST", "/_local/stream/drain") == (
        200,
        {"drained": True, "delivered": 3, "failed": 0, "batches": 1},
    )
    assert _call(gateway, "POST", "/_local/stream/drain?timeout=0.5")[0] == 504
    assert _call(gateway, "GET", "/_local/nothing")[0] == 404
