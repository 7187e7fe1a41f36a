"""What the poll reads from Lightspeed's change feeds, without the HTTP client (the webhook
function imports the intake, and must not pay for httpx at cold start)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from omnistock.channels import ChannelUnavailable

COLLECTIONS = ("products", "inventory", "sales")  # products first: inventory records name products


class RateLimited(ChannelUnavailable):
    """Lightspeed's quota is spent until ``retry_at``."""

    def __init__(self, retry_at: datetime) -> None:
        super().__init__(f"Lightspeed rate limit reached; retry after {retry_at.isoformat()}")
        self.retry_at = retry_at


@dataclass(frozen=True)
class FeedPage:
    records: list[dict[str, Any]]
    max_version: int  # ``after`` for the next page
