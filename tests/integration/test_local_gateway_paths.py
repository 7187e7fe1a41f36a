"""Names that need encoding in a path, through the local gateway to the real handlers (in process,
on moto): a SKU created as /skus/TEE%20BLUE is "TEE BLUE" to the ledger, so a Shopify order line
naming "TEE BLUE" takes its stock, as it does deployed (API Gateway decodes the path).
"""

from __future__ import annotations

import itertools
import json
import socket
import traceback
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pytest

from local.events import Router
from local.gateway import Gateway
from local.send_webhook import LOCAL_WEBHOOK_SECRET
from local.template import HttpRoute, load_template
from omnistock.channels.shopify import signature as shopify
from tests.helpers import TEMPLATE
from tests.integration.test_webhook_signatures import SHOPIFY_BODY, World, open_world

DEV_TOKEN = "local-dev-token"
ADMIN = [("authorization", f"Bearer {DEV_TOKEN}"), ("content-type", "application/json")]
_serial = itertools.count(1)  # versions and ids: examples share a world, as requests share a table


@dataclass
class InProcess:
    """A template function run on the world's handlers, its event and result through JSON as
    Lambda passes them."""

    world: World
    folder: str
    errors: list[str] = field(default_factory=list)  # what the gateway's 500 hides

    def invoke(self, event: dict[str, Any]) -> Any:
        try:
            return json.loads(json.dumps(self.world.send(self.folder, json.loads(json.dumps(event)))))
        except Exception:
            self.errors.append(traceback.format_exc())
            raise


class LocalApi:
    """The template's HTTP API as the local gateway serves it, without a socket."""

    def __init__(self, world: World) -> None:
        template = load_template(TEMPLATE)
        self.errors: list[str] = []
        functions = {spec.logical_id: InProcess(world, spec.code_uri.name, self.errors) for spec in template.functions}
        self.gateway = Gateway(Router(template.routes), functions, DEV_TOKEN, control=None)
        self.world = world

    def call(
        self, method: str, target: str, body: Any = None, headers: list[tuple[str, str]] | None = None
    ) -> tuple[int, Any]:
        """The status and JSON answer; the world's write counter counts this call alone."""
        raw = body if isinstance(body, bytes) else b"" if body is None else json.dumps(body).encode()
        self.world.counter.reset()
        status, _, payload = self.gateway.handle(method, target, headers or ADMIN, raw, "127.0.0.1")
        assert status < 500, f"{method} {target}: {status} {payload[:300]!r} {''.join(self.errors[-1:])}"
        return status, json.loads(payload) if payload else None

    def stock(self, path: str) -> tuple[int, Any]:
        return self.call("GET", f"/skus/{path}")

    def create(self, path: str, on_hand: int = 1000) -> tuple[int, Any]:
        """PUT the SKU at this path, stocked at the Shopify channel's location; the PUT's answer."""
        status, answer = self.call("PUT", f"/skus/{path}", {"locations": ["shop"], "title": "named in the path"})
        if status == 200:
            n = next(_serial)
            count = {"location": "shop", "on_hand": on_hand, "version": n, "event_id": f"count-{n}"}
            counted, body = self.call("POST", f"/skus/{path}/counts", count)
            assert counted == 200, body
        return status, answer

    def order(self, sku: str, quantity: int = 1) -> tuple[int, Any]:
        """A signed Shopify orders/create with one line naming ``sku``."""
        n = next(_serial)
        order = json.loads(SHOPIFY_BODY)
        line = order["line_items"][0] | {"id": 7_000_000 + n, "sku": sku, "quantity": quantity}
        line["current_quantity"] = line["fulfillable_quantity"] = quantity
        order |= {"id": 6_000_000 + n, "name": f"#P{n}", "order_number": n, "line_items": [line]}
        raw = json.dumps(order).encode()
        headers = [
            ("content-type", "application/json"),
            ("x-shopify-topic", "orders/create"),
            ("x-shopify-webhook-id", f"path-names-{n}"),
            ("x-shopify-hmac-sha256", shopify.sign(raw, LOCAL_WEBHOOK_SECRET)),
        ]
        return self.call("POST", "/webhooks/shopify", raw, headers)


@pytest.fixture
def api(handler_env: None, monkeypatch: pytest.MonkeyPatch) -> LocalApi:
    return LocalApi(open_world(monkeypatch))


@pytest.mark.parametrize("name", ["TEE BLUE", "CAF\u00c9", "T\u00e9e+Blau \u00df"])
def test_a_sku_named_in_the_path_is_that_name_to_the_ledger_and_to_orders(api: LocalApi, name: str) -> None:
    path = quote(name, safe="")
    assert api.create(path)[0] == 200
    status, stock = api.stock(path)
    assert status == 200
    assert (stock["sku"], stock["catalog"]["sku"]) == (name, name)
    before = stock["available"]

    status, applied = api.order(name, 2)
    assert status == 200, applied
    assert api.stock(path)[1]["available"] == before - 2  # the web order took its units


def test_an_encoded_slash_never_makes_a_sku(api: LocalApi) -> None:
    """%2F separates segments, deployed and here: no route takes "A/B" as one SKU."""
    assert api.call("PUT", "/skus/A%2FB", {"locations": ["shop"]}) == (404, {"message": "Not Found"})
    assert api.world.counter.writes == 0


@pytest.mark.parametrize("target", ["/skus/100%25", "/skus/A%2520B", "/skus/A%3FB", "/skus/%FF"])
def test_a_path_deployed_would_alter_or_refuse_writes_nothing(api: LocalApi, target: str) -> None:
    assert api.call("PUT", target, {"locations": ["shop"]}) == (400, {"message": "Bad Request"})
    assert api.world.counter.writes == 0


def test_utf8_in_the_request_line_is_the_name_it_spells() -> None:
    """http.server reads the request line as Latin-1: the gateway recovers the bytes the client
    sent, escaped or not, and decodes them as UTF-8."""
    seen: list[dict[str, Any]] = []

    class Echo:
        def invoke(self, event: dict[str, Any]) -> Any:
            seen.append(event)
            return {"statusCode": 204}

    route = HttpRoute("Fn", "Upsert", "PUT", "/skus/{sku}", None)
    gateway = Gateway(Router([route]), {"Fn": Echo()}, DEV_TOKEN, control=None, port=0)
    gateway.start()
    try:
        for target in ("/skus/CAF%C3%89 BLUE".replace(" ", "%20"), "/skus/CAF\u00c9%20BLUE"):
            with socket.create_connection((gateway.host, gateway.port), timeout=5) as connection:
                request = f"PUT {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
                connection.sendall(request.encode())
                assert connection.recv(4096).startswith(b"HTTP/1.1 204"), target
    finally:
        gateway.stop()
    assert [(event["pathParameters"], event["rawPath"]) for event in seen] == [
        ({"sku": "CAF\u00c9 BLUE"}, "/skus/CAF\u00c9 BLUE")
    ] * 2
