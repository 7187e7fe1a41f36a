"""Who may do what through the console.

The console calls the admin API's own routes under ``/console/api``: one route of the HTTP API
(``ANY /console/api/{proxy+}``, and the connection check's own) with a JWT authorizer on the
stack's Cognito user pool, so the gateway has checked the token's signature, issuer, audience
and expiry before the function runs. The group claim it passes on (signed, like the rest of the
token) decides: ``admin`` may do anything the admin API does, ``viewer`` may only read. Scripts
keep the IAM-signed routes, where IAM policy decides. The route key is the gateway's own (the
route it matched), never something the caller sends."""

from __future__ import annotations

from typing import Any

CONSOLE_API_PREFIX = "/console/api"
CONSOLE_ROUTE_KEYS = frozenset({"ANY /console/api/{proxy+}", "GET /console/api/connections"})
ADMIN, VIEWER = "admin", "viewer"
READS = frozenset({"GET", "HEAD"})


def groups_of(claims: dict[str, Any]) -> set[str]:
    """The user's groups. An HTTP API's JWT authorizer passes an array claim as one string,
    "[admin viewer]"; a list is taken as it is."""
    raw = claims.get("cognito:groups")
    if isinstance(raw, list):
        return {str(group) for group in raw}
    if isinstance(raw, str):
        return {part for part in raw.strip("[]").replace(",", " ").split() if part}
    return set()


def console_refusal(event: dict[str, Any]) -> tuple[int, str] | None:
    """(403, why) when a console request may not do what it asks; None when it may, or when
    the request did not come through the console's route."""
    context = event.get("requestContext") or {}
    if context.get("routeKey") not in CONSOLE_ROUTE_KEYS:
        return None
    claims = ((context.get("authorizer") or {}).get("jwt") or {}).get("claims") or {}
    groups = groups_of(claims)
    method = str((context.get("http") or {}).get("method", "")).upper()
    if ADMIN in groups or (VIEWER in groups and method in READS):
        return None
    if VIEWER in groups:
        return 403, "a viewer can look but not change anything: ask an admin"
    return 403, "this user is in neither the admin nor the viewer group"
