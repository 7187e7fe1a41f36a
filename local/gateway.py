"""The local HTTP API: serves the template's HttpApi routes plus local-only ``/_local/``
control endpoints, on a threading HTTP server.

IAM auth (SigV4) has no local equivalent, so routes that require it take a shared dev token
instead: ``Authorization: Bearer <token>``; missing is 401, wrong is 403. Routes behind a JWT
authorizer (the console's, on the Cognito user pool) take the same token as a signed-in user
of the ``admin`` group, or the token followed by ``:viewer`` as one of the ``viewer`` group: the
gateway passes the claims on as an HTTP API's JWT authorizer does (an array claim as one string).

Paths reach a handler decoded, as an HTTP API passes them (see ``_decoded_path``); the query
string stays raw in ``rawQueryString`` and decoded in ``queryStringParameters`` (``+`` is a
space there, repeated names are joined with commas), and ``Cookie`` headers become ``cookies``
(local.events builds those parts of the event).
"""

from __future__ import annotations

import hmac
import logging
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, quote, unquote_to_bytes, urlsplit

from local.events import Headers, Router, build_event, http_response, json_response
from local.lambdas import LocalFunction
from local.serving import InBackground

log = logging.getLogger("local.gateway")

Response = tuple[int, Headers, bytes]
_NOT_FOUND = json_response(404, {"message": "Not Found"})
_BAD_REQUEST = json_response(400, {"message": "Bad Request"})
# What a request target may carry unescaped: printable ASCII. Anything else (a space, a
# non-ASCII letter written out) stands for its UTF-8 bytes, escaped.
_TARGET_SAFE = "".join(map(chr, range(0x21, 0x7F)))


class Control(Protocol):
    """What the ``/_local/`` endpoints ask of the running stack."""

    def health(self) -> dict[str, Any]: ...

    def run_schedule(self, function: str) -> Any: ...

    def drain(self, timeout: float) -> tuple[bool, dict[str, Any]]: ...


class Gateway:
    def __init__(
        self,
        router: Router,
        functions: dict[str, LocalFunction],
        dev_token: str,
        control: Control,
        host: str = "127.0.0.1",
        port: int = 3000,
    ) -> None:
        self.router = router
        self.functions = functions
        self.dev_token = dev_token
        self.control = control
        self.host = host
        self.port = port
        self._running: InBackground | None = None
        self._server: _Server | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def bind(self) -> _Server:
        """Take the port (a free one for 0) before serving: the functions learn the API's URL
        (PUBLIC_API_URL, as the template gives it deployed) before the first request."""
        if self._server is None:
            self._server = _Server((self.host, self.port), _RequestHandler)
            self._server.gateway = self
            self.port = self._server.server_address[1]
        return self._server

    def start(self) -> None:
        self._running = InBackground(self.bind(), "gateway")

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None

    def handle(self, method: str, target: str, headers: Headers, body: bytes, source_ip: str) -> Response:
        """One request, as API Gateway would answer it."""
        split = urlsplit(quote(target, safe=_TARGET_SAFE))
        raw_path = split.path or "/"
        if raw_path == "/_local" or raw_path.startswith("/_local/"):
            return self._control(method, raw_path, split.query)
        path = _decoded_path(raw_path)
        if path is None:
            return _BAD_REQUEST
        found = self.router.match(method, path)  # no "%" is left: the router's unquoting is a no-op
        if found is None:
            return _NOT_FOUND
        route, params = found
        claims: dict[str, str] | None = None
        if route.auth is not None:
            checked = self._check_token(headers, jwt=route.auth != "AWS_IAM")
            if isinstance(checked, tuple):
                return checked
            claims = checked
        event = build_event(
            route=route,
            path_parameters=params,
            method=method,
            raw_path=path,
            raw_query=split.query,
            headers=headers,
            body=body,
            source_ip=source_ip,
            jwt_claims=claims if route.auth != "AWS_IAM" else None,
        )
        try:
            return http_response(self.functions[route.function].invoke(event))
        except Exception:  # API Gateway hides the error; the function's log shows it
            log.exception("%s failed on %s", route.function, route.route_key)
            return json_response(500, {"message": "Internal Server Error"})

    def _check_token(self, headers: Headers, *, jwt: bool) -> Response | dict[str, str]:
        """The caller's claims (empty for IAM routes), or the gateway's refusal."""
        values = [value for name, value in headers if name.lower() == "authorization"]
        if not values:
            return json_response(401, {"message": "Unauthorized"})
        scheme, _, token = values[0].strip().partition(" ")
        sent = token.strip().encode()
        if scheme.lower() == "bearer" and hmac.compare_digest(sent, self.dev_token.encode()):
            return _local_user("admin") if jwt else {}
        if jwt and scheme.lower() == "bearer" and hmac.compare_digest(sent, f"{self.dev_token}:viewer".encode()):
            return _local_user("viewer")
        return json_response(401 if jwt else 403, {"message": "Unauthorized" if jwt else "Forbidden"})

    def _control(self, method: str, path: str, query: str) -> Response:
        parts = path.strip("/").split("/")[1:]
        if parts == ["health"] and method == "GET":
            return json_response(200, self.control.health())
        if len(parts) == 2 and parts[0] == "schedules" and method == "POST":
            return self._run_schedule(parts[1])
        if parts == ["stream", "drain"] and method == "POST":
            try:
                timeout = float(parse_qs(query).get("timeout", ["10"])[0])
            except ValueError:
                return json_response(400, {"message": "timeout must be a number of seconds"})
            drained, counters = self.control.drain(timeout)
            return json_response(200 if drained else 504, {"drained": drained, **counters})
        return _NOT_FOUND

    def _run_schedule(self, function: str) -> Response:
        try:
            return json_response(200, self.control.run_schedule(function))
        except KeyError:
            return json_response(404, {"message": f"no schedule for function {function}"})
        except Exception as error:  # the shape Lambda gives an invoke that raised
            log.exception("schedule of %s failed", function)
            return json_response(500, {"errorType": type(error).__name__, "errorMessage": str(error)})


def _local_user(group: str) -> dict[str, str]:
    """Claims of a local signed-in user, shaped as an HTTP API's JWT authorizer passes them."""
    return {
        "sub": f"local-{group}",
        "email": f"{group}@localhost",
        "email_verified": "true",
        "cognito:groups": f"[{group}]",
    }


def _decoded_path(raw_path: str) -> str | None:
    """The path an HTTP API hands to the route and the handler, or None where it answers 400.

    Documented: "API Gateway decodes URL-encoded request parameters before passing them to your
    backend integration" (Developer Guide, "Create routes for HTTP APIs").
    Observed on deployed HTTP APIs (published captures; not documented): ``rawPath`` and
    ``requestContext.http.path`` are decoded as well ("/a%20b" arrives as "/a b", "%CE%BB" as
    "λ"), and routes match the decoded path, so "%2F" separates segments like "/" (a parameter
    never holds one; "/skus/A%2Fmovements" is the movements of A). A second decoding follows:
    "%252F" arrives as "/", "%2525" as "%", "%25" before a non-hex pair is a 400; and the path
    is cut at a decoded "?".
    Assumed: "+" is a literal plus (RFC 3986); only a query reads it as a space.

    Decoded here once, as UTF-8. A "%" or "?" left after that (which deployed would decode again
    or cut) and bytes that are not UTF-8 are refused with the 400 deployed gives some of them:
    the safe side, since otherwise a handler could store a name other than the one sent.
    """
    try:
        path = unquote_to_bytes(raw_path).decode("utf-8")
    except UnicodeDecodeError:
        return None
    return None if "%" in path or "?" in path else path


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    gateway: Gateway


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive for clients that reuse connections
    server: _Server

    def _serve(self) -> None:
        started = time.monotonic()
        body = self._read_body()
        # http.server read the request line as Latin-1: recover the bytes sent, escaped
        target = quote(self.path.encode("iso-8859-1"), safe=_TARGET_SAFE)
        status, headers, payload = self.server.gateway.handle(
            self.command, target, list(self.headers.items()), body, self.client_address[0]
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)
        log.info("%s %s -> %d (%.0f ms)", self.command, self.path, status, (time.monotonic() - started) * 1000)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():  # trailers
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged once, with their outcome, in _serve."""
