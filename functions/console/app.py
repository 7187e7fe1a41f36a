"""The console's files: its page, script and style, and how it signs in (config.json). No data
passes here: the page reads and changes everything through /console/api, signed in.

Every answer carries a strict Content-Security-Policy: scripts and styles only from this
origin (no inline script, no CDN), requests only to this origin and to Cognito's endpoint, and
never framed, so a hostile SKU title or order name that slipped through the page's escaping
still could not run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from omnistock.observability import observed

STATIC = Path(__file__).parent / "static"
ASSETS = {  # name -> media type; nothing else under /console is served
    "index.html": "text/html; charset=utf-8",
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}


def _headers(media_type: str, region: str) -> dict[str, str]:
    return {
        "Content-Type": media_type,
        "Content-Security-Policy": (
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' https://cognito-idp.{region}.amazonaws.com; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def sign_in_config(environment: dict[str, str]) -> dict[str, str]:
    """How the page signs in: with the stack's Cognito user pool, or locally with the dev token."""
    if environment.get("CONSOLE_SIGN_IN") == "dev":
        return {"signIn": "dev"}
    return {
        "signIn": "cognito",
        "region": environment.get("AWS_REGION") or environment.get("AWS_DEFAULT_REGION", ""),
        "clientId": environment.get("CONSOLE_USER_POOL_CLIENT_ID", ""),
    }


@observed
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")
    asset = (event.get("pathParameters") or {}).get("asset", "index.html")
    if asset == "config.json":
        body = json.dumps(sign_in_config(dict(os.environ)))
        return {"statusCode": 200, "headers": _headers("application/json", region), "body": body}
    if asset not in ASSETS:
        return {"statusCode": 404, "headers": _headers("text/plain; charset=utf-8", region), "body": "not found"}
    body = (STATIC / asset).read_text(encoding="utf-8")
    return {"statusCode": 200, "headers": _headers(ASSETS[asset], region), "body": body}
