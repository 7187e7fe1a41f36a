"""ShipStation's credentials: HTTP Basic, or the ``SS-UserName``/``SS-Password`` query form
(both values taken from the same place, the header first), compared in constant time."""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping


def given_credentials(headers: Mapping[str, str], query: Mapping[str, str]) -> tuple[str, str] | None:
    """(user, password) from the Basic header, else from the query; header names lowercased,
    query names matched without regard to case."""
    header = headers.get("authorization", "")
    if header[:6].lower() == "basic ":
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, ValueError):
            return None
        user, sep, password = decoded.partition(":")
        return (user, password) if sep else None
    lowered = {name.lower(): value for name, value in query.items()}
    if "ss-username" in lowered and "ss-password" in lowered:
        return lowered["ss-username"], lowered["ss-password"]
    return None


def matches(given: tuple[str, str] | None, expected: tuple[str, str]) -> bool:
    if given is None or not expected[0] or not expected[1]:
        return False
    user_ok = hmac.compare_digest(given[0].encode(), expected[0].encode())
    password_ok = hmac.compare_digest(given[1].encode(), expected[1].encode())
    return user_ok and password_ok
