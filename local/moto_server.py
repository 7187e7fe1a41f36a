"""moto's server, serialized: one request at a time.

moto does not lock its backends, so concurrent conditional writes and transactions are not
atomic (8 threads doing conditional decrements oversell). Running every request under one
lock gives DynamoDB's single-item atomicity back, at about the same throughput (the GIL
serializes most of moto's work anyway). It does not simulate TransactionConflict.
"""

from __future__ import annotations

import logging
import threading
import urllib.request
from collections.abc import Iterable
from typing import Any

from werkzeug.serving import make_server

from local.serving import InBackground


class MotoServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self.port = port
        self._running: InBackground | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> MotoServer:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        from local import moto_fixes

        moto_fixes.apply()  # cancelled transactions must not detach the stream from its readers
        app = DomainDispatcherApplication(create_backend_app)
        lock = threading.Lock()

        def serialized(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
            with lock:
                return list(app(environ, start_response))

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # it logs every request otherwise
        server = make_server(self.host, self.port, serialized, threaded=True)
        self.port = server.server_port
        self._running = InBackground(server, "moto")
        self.reset()
        return self

    def reset(self) -> None:
        """Empty every moto backend: they are per process, and a stack starts and ends empty."""
        request = urllib.request.Request(f"{self.url}/moto-api/reset", method="POST")  # noqa: S310 - http, ours
        direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never via an HTTP proxy
        with direct.open(request, timeout=10) as response:
            response.read()

    def stop(self) -> None:
        if self._running is not None:
            self.reset()
            self._running.stop()
            self._running = None
