"""Circuit breaker and backoff of the cloud sync."""

from __future__ import annotations

import random

import pytest

from obsvty.application.sync import BreakerState, CircuitBreaker, backoff_delay

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_breaker_after_threshold_failures_opens_then_half_opens_then_closes() -> None:
    # Arrange
    clock = FakeClock()
    breaker = CircuitBreaker(2, 10.0, clock=clock)
    # Act / Assert
    breaker.record_failure()
    assert breaker.state is BreakerState.CLOSED
    breaker.record_failure()
    assert breaker.state is BreakerState.OPEN
    assert not breaker.allow()
    clock.now = 10.0
    assert breaker.state is BreakerState.HALF_OPEN
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state is BreakerState.CLOSED


def test_breaker_half_open_trial_failing_reopens_at_once() -> None:
    # Arrange
    clock = FakeClock()
    breaker = CircuitBreaker(3, 5.0, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now = 5.0
    # Act
    breaker.record_failure()
    # Assert
    assert breaker.state is BreakerState.OPEN
    assert breaker.remaining_open() == 5.0
    assert breaker.opened_count == 2


def test_backoff_delay_grows_exponentially_within_the_cap_with_jitter() -> None:
    # Arrange
    rng = random.Random(7)
    # Act
    delays = [backoff_delay(n, base=1.0, cap=8.0, rng=rng) for n in range(1, 7) for _ in range(50)]
    # Assert
    assert all(0 <= d <= 8.0 for d in delays)
    assert max(delays[:50]) <= 1.0
    assert len({round(d, 6) for d in delays}) > 250
