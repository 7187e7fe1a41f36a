"""API Gateway HTTP API (payload format 2.0) on both sides of a handler: route matching, the
event a request becomes, and the HTTP response a handler's result becomes."""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.cfn import ACCOUNT_ID
from local.template import HttpRoute

API_ID = "local"
Headers = list[tuple[str, str]]
_STATIC, _PARAM, _GREEDY, _DEFAULT = 0, 1, 2, 3


@dataclass(frozen=True)
class _Compiled:
    route: HttpRoute
    segments: tuple[str, ...]
    rank: tuple[int, ...]  # smaller is more specific, as API Gateway prefers

    def match(self, method: str, parts: list[str]) -> dict[str, str] | None:
        if self.route.method not in ("ANY", method):
            return None
        if self.route.path == "$default":
            return {}
        params: dict[str, str] = {}
        for index, (segment, kind) in enumerate(zip(self.segments, self.rank, strict=True)):
            value = "/".join(parts[index:]) if kind == _GREEDY else parts[index] if index < len(parts) else None
            if kind == _STATIC and segment != value:
                return None
            if kind != _STATIC:
                if not value:  # parameters match one or more characters
                    return None
                params[segment.strip("{}+")] = value
        greedy = bool(self.rank) and self.rank[-1] == _GREEDY
        return params if greedy or len(parts) == len(self.segments) else None


class Router:
    """Matches a request to the most specific route: static segments beat {params}, which
    beat {greedy+}; an exact method beats ANY; $default catches what is left."""

    def __init__(self, routes: list[HttpRoute]) -> None:
        self._routes = [_compile(route) for route in routes]

    def match(self, method: str, raw_path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        parts = [unquote(part) for part in raw_path.split("/")[1:]]
        found = []
        for compiled in self._routes:
            params = compiled.match(method.upper(), parts)
            if params is not None:
                found.append((compiled.rank, compiled.route.method == "ANY", compiled.route, params))
        if not found:
            return None
        _, _, route, params = min(found, key=lambda entry: (entry[0], entry[1]))
        return route, params


def _compile(route: HttpRoute) -> _Compiled:
    if route.path == "$default":
        return _Compiled(route, (), (_DEFAULT,))
    segments = tuple(route.path.split("/")[1:])
    rank = tuple(
        _GREEDY if s.endswith("+}") else _PARAM if s.startswith("{") and s.endswith("}") else _STATIC for s in segments
    )
    return _Compiled(route, segments, rank)


def build_event(
    *,
    route: HttpRoute,
    path_parameters: dict[str, str],
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Headers,
    body: bytes,
    source_ip: str,
    now: float | None = None,
    jwt_claims: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The payload format 2.0 event API Gateway sends to the route's integration (with the
    claims a JWT authorizer checked, on its routes)."""
    now = time.time() if now is None else now
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        key = name.lower()
        if key == "cookie":  # format 2.0 moves cookies out of the headers
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[key] = f"{merged[key]},{value}" if key in merged else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    context: dict[str, Any] = {
        "accountId": ACCOUNT_ID,
        "apiId": API_ID,
        "domainName": merged.get("host", "localhost"),
        "domainPrefix": merged.get("host", "localhost").split(".")[0],
        "http": {
            "method": method,
            "path": raw_path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": merged.get("user-agent", ""),
        },
        "requestId": str(uuid.uuid4()),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
        "timeEpoch": int(now * 1000),
    }
    if route.auth == "AWS_IAM":
        context["authorizer"] = {"iam": _local_iam_identity()}
    elif jwt_claims is not None:
        context["authorizer"] = {"jwt": {"claims": jwt_claims, "scopes": None}}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = path_parameters
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _local_iam_identity() -> dict[str, Any]:
    return {
        "accessKey": "LOCALDEVACCESSKEY",
        "accountId": ACCOUNT_ID,
        "callerId": "LOCALDEV",
        "cognitoIdentity": None,
        "principalOrgId": None,
        "userArn": f"arn:aws:iam::{ACCOUNT_ID}:user/local-dev",
        "userId": "LOCALDEV",
    }


_HOP_BY_HOP = {"content-length", "transfer-encoding", "connection", "keep-alive"}


def http_response(result: Any) -> tuple[int, Headers, bytes]:
    """The HTTP response API Gateway makes of a handler's result (format 2.0).

    A result without ``statusCode`` is a 200 JSON body, as API Gateway infers it. Raises
    ValueError for a response it would reject (it answers 500 then).
    """
    if not (isinstance(result, dict) and "statusCode" in result):
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    try:
        status = int(result["statusCode"])
    except (TypeError, ValueError) as error:
        raise ValueError(f"statusCode {result['statusCode']!r} is not a number") from error
    if not 100 <= status <= 599:
        raise ValueError(f"statusCode {status} is not an HTTP status")
    headers: Headers = [(str(k), str(v)) for k, v in (result.get("headers") or {}).items()]
    for name, values in (result.get("multiValueHeaders") or {}).items():
        headers.extend((str(name), str(value)) for value in values)
    headers.extend(("Set-Cookie", str(cookie)) for cookie in result.get("cookies") or [])
    headers = [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP]
    body = result.get("body")
    if body is None:
        payload = b""
    elif not isinstance(body, str):
        raise ValueError("body must be a string")
    elif result.get("isBase64Encoded"):
        payload = base64.b64decode(body)
    else:
        payload = body.encode("utf-8")
    return status, headers, payload


def json_response(status: int, body: Any) -> tuple[int, Headers, bytes]:
    return status, [("Content-Type", "application/json")], json.dumps(body).encode()
