"""A cost-based leaky bucket as Shopify's GraphQL Admin API describes it (shopify.md §4.1): the
bucket holds up to ``maximum_available`` points and refills at ``restore_rate`` points a second;
a request runs only if the bucket holds its *requested* cost, which is taken before it runs, and
the difference between requested and *actual* cost is refunded afterwards.

Not thread-safe on its own: the sandbox calls it under its lock. The clock is injected
(seconds, monotonic) so tests can move time by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any


class CostBucket:
    def __init__(self, maximum_available: float, restore_rate: float, clock: Callable[[], float]) -> None:
        if maximum_available <= 0 or restore_rate <= 0:
            raise ValueError("maximum_available and restore_rate must be positive")
        self.maximum_available = float(maximum_available)
        self.restore_rate = float(restore_rate)
        self._clock = clock
        self._available = self.maximum_available
        self._stamp = clock()

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._stamp)
        self._available = min(self.maximum_available, self._available + elapsed * self.restore_rate)
        self._stamp = now

    @property
    def available(self) -> float:
        self._refill()
        return self._available

    def try_take(self, cost: float) -> bool:
        """Take ``cost`` points if the bucket holds them; otherwise take nothing."""
        self._refill()
        if self._available < cost:
            return False
        self._available -= cost
        return True

    def refund(self, points: float) -> None:
        if points > 0:
            self._refill()
            self._available = min(self.maximum_available, self._available + points)

    def seconds_until(self, cost: float) -> float:
        """How long until the bucket holds ``cost`` points: (requested - available) / restoreRate."""
        return max(0.0, (cost - self.available) / self.restore_rate)

    def fill(self) -> None:
        self._available = self.maximum_available
        self._stamp = self._clock()

    def status(self) -> dict[str, Any]:
        """``throttleStatus`` as Shopify reports it (floats for the limits, an int for the level)."""
        return {
            "maximumAvailable": self.maximum_available,
            "currentlyAvailable": math.floor(self.available),
            "restoreRate": self.restore_rate,
        }
