"""The local gateway's answers (auth, errors, control endpoints, the path and query a handler
receives) without sockets."""

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
        HttpRoute("Fn", "Upsert", "PUT", "/skus/{sku}", None),
        HttpRoute("Fn", "Movements", "GET", "/skus/{sku}/movements", None),
        HttpRoute("Fn", "Files", "GET", "/files/{path+}", None),
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
    status, event = _call(gateway, "GET", "/skus/A?movements=5", [("authorization", f"bearer {TOKEN}")])
    assert status == 200
    assert event["pathParameters"] == {"sku": "A"}
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


# ==================================================================== paths as API Gateway passes them
def _event(target: str) -> dict[str, Any]:
    gateway, function = _gateway()
    status, _ = _call(gateway, "PUT", target)
    assert status == 200
    (event,) = function.events
    return event


@pytest.mark.parametrize(
    ("target", "name"),
    [
        ("/skus/TEE%20BLUE", "TEE BLUE"),
        ("/skus/CAF%C3%89", "CAF\u00c9"),
        ("/skus/caf%c3%a9", "caf\u00e9"),  # escapes in either case
        ("/skus/%F0%9F%91%95", "\U0001f455"),
        ("/skus/A%23B", "A#B"),
        ("/skus/A%2BB", "A+B"),
        ("/skus/A+B", "A+B"),  # "+" is a space only in a query
        ("/skus/CAF\u00c9", "CAF\u00c9"),  # not escaped by the client: its UTF-8
    ],
)
def test_the_handler_gets_the_path_and_its_parameters_decoded(target: str, name: str) -> None:
    """rawPath (which the admin API routes on) and requestContext.http.path are decoded, like
    pathParameters: a SKU sent as TEE%20BLUE is TEE BLUE to the handler."""
    event = _event(target)
    assert event["pathParameters"] == {"sku": name}
    assert event["rawPath"] == event["requestContext"]["http"]["path"] == f"/skus/{name}"
    assert event["routeKey"] == "PUT /skus/{sku}"


def test_an_encoded_slash_separates_segments_as_deployed() -> None:
    """API Gateway routes the decoded path: %2F is a "/", never part of a parameter."""
    gateway, _ = _gateway()
    assert _call(gateway, "PUT", "/skus/A%2FB") == (404, {"message": "Not Found"})
    status, event = _call(gateway, "GET", "/skus/A%2Fmovements")
    assert status == 200
    assert (event["routeKey"], event["pathParameters"], event["rawPath"]) == (
        "GET /skus/{sku}/movements",
        {"sku": "A"},
        "/skus/A/movements",
    )
    status, event = _call(gateway, "GET", "/files/a%2Fb/c%20d")
    assert (status, event["pathParameters"]) == (200, {"path": "a/b/c d"})


@pytest.mark.parametrize(
    "target",
    [
        "/skus/100%25",  # deployed decodes again, and a "%" that starts no escape is a 400
        "/skus/A%2520B",  # decoded again it would be "A B": a name other than the one sent
        "/skus/A%3FB",  # API Gateway cuts the path at a decoded "?"
        "/skus/A%zzB",  # not an escape
        "/skus/A%",
        "/skus/%FF",  # not UTF-8
        "/skus/%C3",
    ],
)
def test_a_path_deployed_would_refuse_or_alter_is_a_400_that_reaches_no_handler(target: str) -> None:
    gateway, function = _gateway()
    assert _call(gateway, "PUT", target) == (400, {"message": "Bad Request"})
    assert function.events == []


def test_the_query_string_stays_raw_and_its_parameters_are_decoded() -> None:
    raw = "a=1+2&a=%2B&b=x%20y&c=&d=%C3%A9"
    event = _event(f"/skus/A?{raw}")
    assert event["rawQueryString"] == raw
    assert event["queryStringParameters"] == {"a": "1 2,+", "b": "x y", "c": "", "d": "\u00e9"}


def test_cookies_move_out_of_the_headers() -> None:
    gateway, function = _gateway()
    headers = [("Cookie", "a=1; b=2"), ("Cookie", "c=3"), ("X-Twice", "x"), ("x-twice", "y")]
    gateway.handle("GET", "/ping", headers, b"", "127.0.0.1")
    (event,) = function.events
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-twice"] == "x,y"
