"""Backoff with jitter up to a limit: a pure policy."""

from __future__ import annotations

import pytest

from gateway.outgoing.failures import Failure
from gateway.outgoing.retry import RetryPolicy

POLICY = RetryPolicy(max_attempts=5, base_delay=2.0, max_delay=30.0)
TRANSIENT = Failure("http_5xx", "503", retryable=True)


def test_delay_doubles_and_jitter_keeps_it_in_the_upper_half() -> None:
    for attempt, ceiling in ((1, 2.0), (2, 4.0), (3, 8.0), (4, 16.0)):
        assert POLICY.backoff(attempt, 0.0) == ceiling / 2
        assert POLICY.backoff(attempt, 0.999) == pytest.approx(ceiling, rel=1e-3)


def test_delay_is_capped() -> None:
    assert POLICY.backoff(10, 0.999) <= 30.0
    assert POLICY.backoff(1000, 0.5) <= 30.0


def test_transient_failures_are_retried_until_the_limit() -> None:
    assert POLICY.next_delay(TRANSIENT, 1, 0.5) is not None
    assert POLICY.next_delay(TRANSIENT, 4, 0.5) is not None
    assert POLICY.next_delay(TRANSIENT, 5, 0.5) is None


def test_permanent_failures_are_never_retried() -> None:
    assert POLICY.next_delay(Failure("http_4xx", "422"), 1, 0.5) is None
    assert POLICY.next_delay(Failure("auth", "401"), 1, 0.5) is None


def test_retry_after_raises_the_delay_but_not_past_the_cap() -> None:
    assert POLICY.next_delay(Failure("http_5xx", "", True, 503, 20.0), 1, 0.0) == 20.0
    assert POLICY.next_delay(Failure("http_5xx", "", True, 503, 999.0), 1, 0.0) == 30.0
    assert POLICY.next_delay(Failure("http_5xx", "", True, 503, 0.1), 2, 0.0) == 2.0


def test_items_claimed_more_often_than_allowed_are_exhausted() -> None:
    assert not POLICY.exhausted(5)
    assert POLICY.exhausted(6)


def test_nonsense_policies_are_refused() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="base_delay"):
        RetryPolicy(base_delay=10, max_delay=1)
