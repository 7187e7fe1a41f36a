"""Plumbing shared by the sandboxes: an in-process response type, case-insensitive headers, and
a threaded loopback HTTP server that hands every request to a ``handle`` function.

Keeping the request logic in a plain ``handle(method, target, headers, body)`` lets unit tests
(which may not open sockets) call it directly, while people and end-to-end tests talk HTTP.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self

from local.serving import InBackground

HeaderPairs = list[tuple[str, str]]
HeadersIn = Mapping[str, str] | Iterable[tuple[str, str]]


@dataclass(frozen=True)
class SandboxResponse:
    """What a sandbox answers: status, headers (in order) and the raw body."""

    status: int
    headers: HeaderPairs = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), None)

    def json(self) -> Any:
        return json.loads(self.body)


def json_response(status: int, payload: Any, extra_headers: HeaderPairs | None = None) -> SandboxResponse:
    headers = [("Content-Type", "application/json; charset=utf-8"), *(extra_headers or [])]
    return SandboxResponse(status, headers, json.dumps(payload).encode())


def lower_headers(headers: HeadersIn | None) -> dict[str, str]:
    """Header names lowercased (HTTP names are case-insensitive); the first value wins."""
    pairs = headers.items() if isinstance(headers, Mapping) else (headers or [])
    lowered: dict[str, str] = {}
    for name, value in pairs:
        lowered.setdefault(name.lower(), value)
    return lowered


Handler = Callable[[str, str, HeaderPairs, bytes], SandboxResponse]


class LoopbackServer:
    """A ThreadingHTTPServer on ``host:port`` (0 picks a free port) that serves ``handler``."""

    def __init__(self, handler: Handler, host: str, port: int, name: str, log: logging.Logger) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.name = name
        self.log = log
        self._running: InBackground | None = None

    @property
    def running(self) -> bool:
        return self._running is not None

    def start(self) -> None:
        if self._running is not None:
            return
        server = _Server((self.host, self.port), _RequestHandler)
        server.owner = self
        self.port = server.server_address[1]
        self._running = InBackground(server, self.name)

    def stop(self) -> None:
        if self._running is not None:
            self._running.stop()
            self._running = None


class LoopbackSandbox:
    """What every sandbox does with its server: serve on loopback (``with Sandbox() as s``),
    say where (``banner``), stop."""

    _server: LoopbackServer
    log: logging.Logger

    @property
    def url(self) -> str:
        return f"http://{self._server.host}:{self._server.port}"

    def banner(self) -> str:
        return "a sandbox (test equipment)"

    def start(self) -> Self:
        self._server.start()
        self.log.info("%s on %s", self.banner(), self.url)
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    owner: LoopbackServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as httpx and the SDKs expect
    server: _Server

    def _serve(self) -> None:
        started = time.monotonic()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        owner = self.server.owner
        try:
            response = owner.handler(self.command, self.path, list(self.headers.items()), body)
        except Exception:  # a bug in the sandbox must not hang the client
            owner.log.exception("%s %s failed inside the sandbox", self.command, self.path)
            response = json_response(500, {"errors": "sandbox internal error (see its log)"})
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)
        owner.log.debug(
            "%s %s -> %d (%.0f ms)", self.command, self.path, response.status, (time.monotonic() - started) * 1000
        )

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Requests are logged in _serve, at DEBUG."""
