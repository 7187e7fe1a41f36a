"""Route matching, HTTP API 2.0 events and responses of the local gateway (offline)."""

from __future__ import annotations

import base64
import json

import pytest

from local.events import Router, build_event, http_response
from local.template import HttpRoute


def _route(method: str, path: str, auth: str | None = "AWS_IAM") -> HttpRoute:
    return HttpRoute(function="Fn", event=f"{method}{path}", method=method, path=path, auth=auth)


ROUTER = Router(
    [
        _route("GET", "/skus/{sku}"),
        _route("GET", "/skus/special"),
        _route("ANY", "/skus/{sku}/movements"),
        _route("GET", "/skus/{sku}/movements"),
        _route("GET", "/files/{path+}"),
        _route("POST", "/holds"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "expected", "params"),
    [
        ("GET", "/skus/TEE-1", "GET /skus/{sku}", {"sku": "TEE-1"}),
        ("GET", "/skus/special", "GET /skus/special", {}),
        ("GET", "/skus/A%20B", "GET /skus/{sku}", {"sku": "A B"}),
        ("GET", "/skus/A/movements", "GET /skus/{sku}/movements", {"sku": "A"}),
        ("DELETE", "/skus/A/movements", "ANY /skus/{sku}/movements", {"sku": "A"}),
        ("GET", "/files/a/b/c.txt", "GET /files/{path+}", {"path": "a/b/c.txt"}),
        ("POST", "/holds", "POST /holds", {}),
    ],
)
def test_router_picks_the_most_specific_route(method, path, expected, params):
    found = ROUTER.match(method, path)
    assert found is not None
    route, matched = found
    assert route.route_key == expected
    assert matched == params


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/holds"), ("POST", "/skus/A"), ("GET", "/skus/"), ("GET", "/skus/A/B"), ("GET", "/files"), ("GET", "/")],
)
def test_router_misses(method, path):
    assert ROUTER.match(method, path) is None


def test_default_route_catches_the_rest():
    router = Router([_route("ANY", "$default"), _route("GET", "/a")])
    assert router.match("GET", "/a")[0].path == "/a"
    assert router.match("PUT", "/anything/else")[0].route_key == "$default"


def test_event_has_the_payload_2_0_shape():
    event = build_event(
        route=_route("POST", "/skus/{sku}/counts"),
        path_parameters={"sku": "TEE-1"},
        method="POST",
        raw_path="/skus/TEE-1/counts",
        raw_query="a=1&b=2&a=3&empty=",
        headers=[
            ("Host", "127.0.0.1:3000"),
            ("Content-Type", "application/json"),
            ("X-Multi", "1"),
            ("x-multi", "2"),
            ("Cookie", "s=1; t=2"),
            ("User-Agent", "curl/8"),
        ],
        body=b'{"on_hand": 5}',
        source_ip="127.0.0.1",
        now=1_700_000_000.5,
    )
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /skus/{sku}/counts"
    assert event["rawPath"] == "/skus/TEE-1/counts"
    assert event["rawQueryString"] == "a=1&b=2&a=3&empty="
    assert event["queryStringParameters"] == {"a": "1,3", "b": "2", "empty": ""}
    assert event["pathParameters"] == {"sku": "TEE-1"}
    assert event["headers"]["content-type"] == "application/json"
    assert event["headers"]["x-multi"] == "1,2"
    assert "cookie" not in event["headers"]
    assert event["cookies"] == ["s=1", "t=2"]
    assert event["body"] == '{"on_hand": 5}'
    assert event["isBase64Encoded"] is False
    context = event["requestContext"]
    assert context["http"] == {
        "method": "POST",
        "path": "/skus/TEE-1/counts",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "curl/8",
    }
    assert context["stage"] == "$default"
    assert context["routeKey"] == event["routeKey"]
    assert context["timeEpoch"] == 1_700_000_000_500
    assert context["time"] == "14/Nov/2023:22:13:20 +0000"
    assert context["requestId"]
    assert "iam" in context["authorizer"]
    json.dumps(event)  # what Lambda would serialize


def test_event_without_body_query_or_params_omits_them():
    event = build_event(
        route=_route("POST", "/holds", auth=None),
        path_parameters={},
        method="POST",
        raw_path="/holds",
        raw_query="",
        headers=[],
        body=b"",
        source_ip="127.0.0.1",
    )
    for key in ("body", "queryStringParameters", "pathParameters", "cookies"):
        assert key not in event
    assert "authorizer" not in event["requestContext"]


def test_binary_body_is_base64():
    event = build_event(
        route=_route("POST", "/holds"),
        path_parameters={},
        method="POST",
        raw_path="/holds",
        raw_query="",
        headers=[],
        body=b"\xff\x00",
        source_ip="127.0.0.1",
    )
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\xff\x00"


def test_response_with_status_headers_cookies():
    status, headers, body = http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/json", "Content-Length": "999"},
            "multiValueHeaders": {"X-A": ["1", "2"]},
            "cookies": ["a=1; Path=/"],
            "body": '{"ok": true}',
        }
    )
    assert status == 201
    assert ("Content-Type", "application/json") in headers
    assert ("X-A", "1") in headers
    assert ("X-A", "2") in headers
    assert ("Set-Cookie", "a=1; Path=/") in headers
    assert all(name.lower() != "content-length" for name, _ in headers)
    assert body == b'{"ok": true}'


def test_response_base64_and_inferred():
    assert http_response({"statusCode": 200, "body": "AAE=", "isBase64Encoded": True})[2] == b"\x00\x01"
    status, headers, body = http_response({"expired": 1})
    assert (status, json.loads(body)) == (200, {"expired": 1})
    assert ("Content-Type", "application/json") in headers


@pytest.mark.parametrize("result", [{"statusCode": "abc"}, {"statusCode": 99}, {"statusCode": 200, "body": {"a": 1}}])
def test_invalid_responses_are_rejected(result):
    with pytest.raises(ValueError):  # noqa: PT011 - the gateway turns any of these into a 500
        http_response(result)
