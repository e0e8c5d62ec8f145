"""Token-bucket rate limits, per key, in one worker's memory.

Each worker enforces the configured rate on its own share of the traffic; with N workers a
client can reach N times the rate at most. That bound is what matters here (stop a runaway
client), and it costs no round trip.
"""

from __future__ import annotations

import math
import time


class RateLimiter:
    def __init__(self, rate_per_second: float, burst: int, *, max_keys: int = 100_000) -> None:
        self.rate = rate_per_second
        self.burst = float(burst)
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last refill)

    def take(self, key: str, now: float | None = None) -> int:
        """Take one token; returns 0 when allowed, else seconds to wait (Retry-After)."""
        if self.rate <= 0:
            return 0
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > self._max_keys:
                self._prune(now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def _prune(self, now: float) -> None:
        """Forget buckets that have refilled completely: they behave like new ones."""
        full_after = self.burst / self.rate
        self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < full_after}
