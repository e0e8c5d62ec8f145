"""When to try an item again: exponential backoff with jitter, up to a limit. Pure.

The delay before attempt n+1 is `base * 2**(n-1)`, capped at `max_delay`, then "equal
jitter": a random point in its upper half. Jitter spreads the retries of a batch that failed
together (a vendor outage) so that they do not all return at the same instant; keeping half
the delay fixed guarantees the vendor some rest. A Retry-After the vendor sent raises the
delay (up to the cap), never lowers it.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.outgoing.failures import Failure


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 2.0
    max_delay: float = 300.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < self.base_delay:
            raise ValueError("0 <= base_delay <= max_delay")

    def backoff(self, attempt: int, rand: float) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based); rand in [0, 1)."""
        exponent = min(attempt - 1, 32)  # 2**32 * any sane base is past every cap
        ceiling = min(self.max_delay, self.base_delay * 2.0**exponent)
        return ceiling / 2 + ceiling / 2 * rand

    def next_delay(self, failure: Failure, attempt: int, rand: float) -> float | None:
        """Seconds until the next attempt, or None: this failure is final."""
        if not failure.retryable or attempt >= self.max_attempts:
            return None
        delay = self.backoff(attempt, rand)
        if failure.retry_after is not None:
            delay = max(delay, min(failure.retry_after, self.max_delay))
        return delay

    def exhausted(self, attempts: int) -> bool:
        """True when an item has been claimed more often than the policy allows, which happens
        only when workers died holding it (each death is a claim without a settled outcome)."""
        return attempts > self.max_attempts
