"""The console's files: what is served, how the page signs in, and the headers that keep a
hostile value from running as script."""

from __future__ import annotations

from typing import Any

import pytest

from tests.helpers import FakeContext, load_function


def _get(asset: str | None, monkeypatch: pytest.MonkeyPatch, **environment: str) -> dict[str, Any]:
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    event = {"rawPath": "/console", "pathParameters": {"asset": asset} if asset else None}
    answer: dict[str, Any] = load_function("console").lambda_handler(event, FakeContext())
    return answer


def test_the_page_and_its_files_come_with_a_strict_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    for asset, media in ((None, "text/html"), ("console.js", "text/javascript"), ("console.css", "text/css")):
        answer = _get(asset, monkeypatch, AWS_REGION="eu-west-1")
        assert answer["statusCode"] == 200
        assert answer["headers"]["Content-Type"].startswith(media)
        policy = answer["headers"]["Content-Security-Policy"]
        assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy
        assert "connect-src 'self' https://cognito-idp.eu-west-1.amazonaws.com" in policy
        assert "frame-ancestors 'none'" in policy
        assert answer["headers"]["X-Content-Type-Options"] == "nosniff"


def test_only_the_console_s_own_files_are_served(monkeypatch: pytest.MonkeyPatch) -> None:
    for asset in ("app.py", "..", "%2e%2e", "static", "index.htm"):
        assert _get(asset, monkeypatch)["statusCode"] == 404


def test_the_page_never_writes_markup_from_data() -> None:
    """Text from the API reaches the page as text nodes: no innerHTML, outerHTML writes,
    insertAdjacentHTML, document.write or eval in the script."""
    script = (load_function("console").STATIC / "console.js").read_text()
    for sink in ("innerHTML", "outerHTML =", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script, sink


def test_sign_in_is_cognito_deployed_and_the_dev_token_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    deployed = _get("config.json", monkeypatch, CONSOLE_SIGN_IN="cognito", CONSOLE_USER_POOL_CLIENT_ID="abc123")
    assert deployed["body"] == '{"signIn": "cognito", "region": "us-east-1", "clientId": "abc123"}'
    assert _get("config.json", monkeypatch, CONSOLE_SIGN_IN="dev")["body"] == '{"signIn": "dev"}'
