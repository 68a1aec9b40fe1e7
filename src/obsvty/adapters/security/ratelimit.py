"""Per-client token-bucket rate limiting, one bucket per client and signal.

A bucket holds up to ``burst`` tokens and refills at ``rate`` tokens a second; each export
request takes one. When the bucket is empty the caller is told how long until the next token,
which becomes gRPC ``RetryInfo`` or an HTTP ``Retry-After``: OTLP exporters wait that long and
send the same request again, so a well-behaved client loses nothing.

The limiter is confined to the event loop that serves both receivers, so it takes no lock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from obsvty.domain.model import Signal

DEFAULT_MAX_CLIENTS = 100_000


@dataclass(frozen=True, slots=True)
class Rate:
    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a rate needs per_second > 0 and burst >= 1")


class TokenBucket:
    __slots__ = ("_burst", "_rate", "_stamp", "_tokens")

    def __init__(self, rate: Rate, now: float) -> None:
        self._rate = rate.per_second
        self._burst = float(rate.burst)
        self._tokens = self._burst
        self._stamp = now

    def take(self, now: float) -> float:
        """Take one token: ``0.0`` when granted, else the seconds until one is available."""
        tokens = min(self._burst, self._tokens + (now - self._stamp) * self._rate)
        self._stamp = now
        if tokens >= 1.0:
            self._tokens = tokens - 1.0
            return 0.0
        self._tokens = tokens
        return (1.0 - tokens) / self._rate


class RateLimiter:
    """Buckets per (client, signal), created on first use. At most ``max_clients`` buckets are
    kept; beyond that the longest-known one is forgotten (it starts full again if it returns)."""

    def __init__(
        self,
        rates: Mapping[Signal, Rate],
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = DEFAULT_MAX_CLIENTS,
    ) -> None:
        self._rates = dict(rates)
        self._clock = clock
        self._max_clients = max_clients
        self._buckets: dict[tuple[str, Signal], TokenBucket] = {}
        self.refused = 0
        """Requests refused so far (for metrics and tests)."""

    @property
    def enabled(self) -> bool:
        return bool(self._rates)

    def limits(self, signal: Signal) -> bool:
        return signal in self._rates

    def check(self, client: str, signal: Signal) -> float:
        """``0.0`` when ``client`` may send one ``signal`` request now, else the seconds to wait."""
        rate = self._rates.get(signal)
        if rate is None:
            return 0.0
        now = self._clock()
        key = (client, signal)
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self._max_clients:
                del self._buckets[next(iter(self._buckets))]
            bucket = self._buckets[key] = TokenBucket(rate, now)
        wait = bucket.take(now)
        if wait:
            self.refused += 1
        return wait


def retry_after_seconds(wait: float) -> int:
    """A ``Retry-After`` header takes whole seconds: round up, at least one."""
    return max(1, math.ceil(wait))
