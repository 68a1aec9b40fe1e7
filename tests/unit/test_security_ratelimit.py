from __future__ import annotations

import pytest

from obsvty.adapters.security.ratelimit import Rate, RateLimiter, retry_after_seconds
from obsvty.domain.model import Signal

pytestmark = pytest.mark.unit


class ManualClock:
    """A clock the test moves by hand (no sleeping, no timing)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_rate_limiter_burst_is_granted_then_the_next_request_waits_for_a_token() -> None:
    # Arrange
    clock = ManualClock()
    limiter = RateLimiter({Signal.TRACES: Rate(per_second=2, burst=3)}, clock)

    # Act
    granted = [limiter.check("a", Signal.TRACES) for _ in range(3)]
    refused = limiter.check("a", Signal.TRACES)

    # Assert
    assert granted == [0.0, 0.0, 0.0]
    assert refused == pytest.approx(0.5)


def test_rate_limiter_refills_at_the_rate_and_caps_at_burst() -> None:
    # Arrange
    clock = ManualClock()
    limiter = RateLimiter({Signal.LOGS: Rate(per_second=1, burst=2)}, clock)
    limiter.check("a", Signal.LOGS)
    limiter.check("a", Signal.LOGS)

    # Act
    clock.now += 1.0
    after_one_second = limiter.check("a", Signal.LOGS)
    clock.now += 60.0
    after_a_minute = [limiter.check("a", Signal.LOGS) for _ in range(3)]

    # Assert
    assert after_one_second == 0.0
    assert after_a_minute[:2] == [0.0, 0.0]
    assert after_a_minute[2] > 0


def test_rate_limiter_keeps_clients_and_signals_apart() -> None:
    # Arrange
    clock = ManualClock()
    limiter = RateLimiter({Signal.TRACES: Rate(1, 1), Signal.LOGS: Rate(1, 1)}, clock)
    limiter.check("a", Signal.TRACES)

    # Act
    same = limiter.check("a", Signal.TRACES)
    other_client = limiter.check("b", Signal.TRACES)
    other_signal = limiter.check("a", Signal.LOGS)
    unlimited_signal = limiter.check("a", Signal.METRICS)

    # Assert
    assert same > 0
    assert other_client == other_signal == unlimited_signal == 0.0
    assert limiter.limits(Signal.TRACES)
    assert not limiter.limits(Signal.METRICS)


def test_rate_limiter_over_max_clients_forgets_the_oldest_bucket() -> None:
    # Arrange
    clock = ManualClock()
    limiter = RateLimiter({Signal.TRACES: Rate(1, 1)}, clock, max_clients=2)
    for client in ("a", "b"):
        limiter.check(client, Signal.TRACES)

    # Act
    limiter.check("c", Signal.TRACES)  # evicts "a"
    first_again = limiter.check("a", Signal.TRACES)
    c_again = limiter.check("c", Signal.TRACES)

    # Assert
    assert first_again == 0.0
    assert c_again > 0


def test_rate_invalid_values_are_refused_and_retry_after_rounds_up() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="per_second"):
        Rate(0, 1)
    with pytest.raises(ValueError, match="burst"):
        Rate(1, 0)
    assert [retry_after_seconds(w) for w in (0.01, 1.0, 1.2)] == [1, 1, 2]
    assert not RateLimiter({}).enabled


def test_rate_limiter_counts_refusals() -> None:
    # Arrange
    limiter = RateLimiter({Signal.TRACES: Rate(1, 1)}, ManualClock())

    # Act
    for _ in range(3):
        limiter.check("a", Signal.TRACES)

    # Assert
    assert limiter.refused == 2
