"""The webhook sender (test equipment): raw bytes signed as Shopify signs them, Shopify's headers,
one id across repeats. Requests are answered in-process by httpx.MockTransport (no sockets)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from pathlib import Path

import pytest

from local.send_webhook import DEFAULT_SHOP, LOCAL_WEBHOOK_SECRET, deliver, main
from omnistock.channels.shopify.signature import verify
from tests.fakes import WebhookReceiver

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures/shopify"
VECTORS = json.loads((FIXTURES / "hmac_test_vectors.json").read_text())
URL = "http://stack.local/webhooks/shopify"


def test_the_file_bytes_are_sent_as_read_and_signed_like_vector_1() -> None:
    vector = VECTORS["vectors"][0]
    body = (FIXTURES / vector["body_file"]).read_bytes()
    receiver = WebhookReceiver(text='{"ok": true}')

    with receiver.client() as client:
        response = deliver(URL, "orders/create", body, VECTORS["secret"], client=client)

    [request] = receiver.requests
    assert response.status_code == 200
    assert request.content == body  # byte for byte, never re-serialised
    assert request.headers["X-Shopify-Hmac-Sha256"] == vector["x_shopify_hmac_sha256"]
    assert verify(request.content, request.headers["X-Shopify-Hmac-Sha256"], [VECTORS["secret"]])


def test_escaped_bytes_keep_their_signature_and_a_reserialised_body_would_not() -> None:
    escaped, reserialised = VECTORS["vectors"][1], VECTORS["vectors"][2]
    receiver = WebhookReceiver(text='{"ok": true}')

    with receiver.client() as client:
        deliver(URL, "orders/updated", escaped["body_utf8"].encode(), VECTORS["secret"], client=client)
        deliver(URL, "orders/updated", reserialised["body_utf8"].encode(), VECTORS["secret"], client=client)

    first, second = (request.headers["X-Shopify-Hmac-Sha256"] for request in receiver.requests)
    assert first == escaped["x_shopify_hmac_sha256"]
    assert second == reserialised["x_shopify_hmac_sha256_of_these_bytes"] != first


def test_headers_are_shopifys() -> None:
    receiver = WebhookReceiver(text='{"ok": true}')

    with receiver.client() as client:
        deliver(URL, "refunds/create", b"{}", client=client, api_version="2026-01")

    headers = receiver.requests[0].headers
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Shopify-Topic"] == "refunds/create"
    assert headers["X-Shopify-Shop-Domain"] == DEFAULT_SHOP == "omnistock-sandbox.myshopify.com"
    assert headers["X-Shopify-API-Version"] == "2026-01"
    assert uuid.UUID(headers["X-Shopify-Webhook-Id"]).version == 4
    assert uuid.UUID(headers["X-Shopify-Event-Id"]).version == 4
    triggered = headers["X-Shopify-Triggered-At"]
    assert triggered.endswith("Z")
    assert datetime.fromisoformat(triggered.replace("Z", "+00:00")).utcoffset() is not None
    assert verify(b"{}", headers["X-Shopify-Hmac-Sha256"], [LOCAL_WEBHOOK_SECRET])


def test_a_given_webhook_id_and_shop_are_used() -> None:
    receiver = WebhookReceiver(text='{"ok": true}')

    with receiver.client() as client:
        deliver(URL, "orders/paid", b"{}", "s", webhook_id="hook-1", shop="other.myshopify.com", client=client)

    assert receiver.requests[0].headers["X-Shopify-Webhook-Id"] == "hook-1"
    assert receiver.requests[0].headers["X-Shopify-Shop-Domain"] == "other.myshopify.com"


def test_the_command_repeats_one_webhook_id_and_prints_a_line_per_delivery(capsys: pytest.CaptureFixture[str]) -> None:
    receiver = WebhookReceiver(text="duplicate " * 50)
    file = FIXTURES / "orders_paid.json"

    with receiver.client() as client:
        code = main(["orders/paid", str(file), "--url", URL, "--repeat", "3", "--secret", "s"], client=client)

    assert code == 0
    assert [request.content for request in receiver.requests] == [file.read_bytes()] * 3
    assert len({request.headers["X-Shopify-Webhook-Id"] for request in receiver.requests}) == 1
    assert len({request.headers["X-Shopify-Event-Id"] for request in receiver.requests}) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 3
    assert lines[0].startswith("[1/3] orders/paid ")
    assert " HTTP 200 duplicate " in lines[0]
    assert lines[0].endswith("...")  # the body is cut short
    assert len(lines[0]) < 320


def test_the_command_fails_on_a_non_2xx_answer_and_on_a_missing_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    receiver = WebhookReceiver(then=401, text="bad signature")

    with receiver.client() as client:
        refused = main(["orders/create", str(FIXTURES / "orders_create.json"), "--url", URL], client=client)
        missing = main(["orders/create", str(tmp_path / "nope.json"), "--url", URL], client=client)

    assert (refused, missing) == (1, 2)
    assert "HTTP 401 bad signature" in capsys.readouterr().out
    assert len(receiver.requests) == 1


def test_repeat_must_be_positive() -> None:
    with pytest.raises(SystemExit):
        main(["orders/create", "x.json", "--repeat", "0"])


@pytest.mark.parametrize("module", ["local.send_webhook", "local"])
def test_the_documented_commands_run_without_make(module: str) -> None:
    """README writes `.venv/bin/python -m local ...`: it must find the layer's code without the
    PYTHONPATH that make sets."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent.parent
    env = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-m", module, "--help"], check=False, cwd=root, env=env, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr[-500:].decode(errors="replace")
