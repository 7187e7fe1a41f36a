"""The omnistock command's pieces that need no server."""

from __future__ import annotations

import httpx
import pytest

from cli.__main__ import progress_line
from cli.signing import SigV4


def test_progress_line() -> None:
    line = progress_line({"total": 4, "done": 2, "applied": 2, "failed": 0})
    assert line.startswith("[" + "#" * 15 + "-" * 15 + "]")
    assert line.endswith("2/4 SKUs  pushed 2  failed 0")


def test_requests_are_signed_for_the_iam_authorizer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    request = httpx.Request("POST", "https://api.example.com/sync-now", json={"channel": None})
    signed = next(SigV4("eu-west-1").auth_flow(request))
    authorization = signed.headers["Authorization"]
    assert authorization.startswith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/")
    assert "/eu-west-1/execute-api/aws4_request" in authorization
    assert "X-Amz-Date" in signed.headers
