"""Run a socketserver-style HTTP server (http.server or werkzeug) on a daemon thread."""

from __future__ import annotations

import threading
from typing import Any

POLL_SECONDS = 0.1  # how soon serve_forever notices shutdown()


class InBackground:
    def __init__(self, server: Any, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": POLL_SECONDS}, name=name, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
