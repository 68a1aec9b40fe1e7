"""Liveness and readiness of the whole pipeline, from the health of each registered component."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from obsvty.application.flush import Flusher
from obsvty.ports.buffer import BufferPort
from obsvty.ports.health import ComponentHealth, HealthReporter
from obsvty.ports.store_dead_letters import StoreDeadLetterError, StoreDeadLetterPort

log = logging.getLogger(__name__)

BUFFER_SATURATION = 0.95
"""Buffer fill (0..1) at or above which obsvty reports itself not ready."""


@dataclass(frozen=True, slots=True)
class HealthReport:
    live: bool
    ready: bool
    components: list[ComponentHealth]

    @property
    def degraded(self) -> bool:
        return any(c.degraded for c in self.components)

    def to_json(self, *, for_readiness: bool) -> dict[str, object]:
        ok = self.ready if for_readiness else self.live
        return {
            "status": ("degraded" if self.degraded else "ok") if ok else "unavailable",
            "live": self.live,
            "ready": self.ready,
            "components": {
                c.name: {
                    "live": c.live,
                    "ready": c.ready,
                    **({"reason": c.reason} if c.reason else {}),
                    **({"degraded": True} if c.degraded else {}),
                    **({"lag": c.lag} if c.lag is not None else {}),
                    **({"dead_letters": c.dead_letters} if c.dead_letters is not None else {}),
                    **c.details,
                }
                for c in self.components
            },
        }


class HealthRegistry:
    """The components obsvty's health is made of. Thread-safe; components may register late."""

    def __init__(self) -> None:
        self._reporters: dict[str, HealthReporter] = {}
        self._lock = threading.Lock()

    def register(self, reporter: HealthReporter) -> None:
        with self._lock:
            if reporter.name in self._reporters:
                raise ValueError(f"a health reporter named {reporter.name!r} is registered")
            self._reporters[reporter.name] = reporter

    def unregister(self, name: str) -> None:
        with self._lock:
            self._reporters.pop(name, None)

    def check(self) -> HealthReport:
        with self._lock:
            reporters = list(self._reporters.values())
        components = [_safe_health(r) for r in reporters]
        return HealthReport(
            live=all(c.live for c in components),
            ready=all(c.ready for c in components),
            components=components,
        )


def _safe_health(reporter: HealthReporter) -> ComponentHealth:
    try:
        return reporter.health()
    except Exception as exc:  # a broken reporter must not break the probe
        log.warning("health reporter %s failed: %s", reporter.name, type(exc).__name__)
        return ComponentHealth(
            reporter.name, ready=False, reason=f"health check failed: {type(exc).__name__}"
        )


class BufferHealth:
    """The buffer: not ready when (nearly) saturated, since new telemetry would be dropped or
    refused."""

    name = "buffer"

    def __init__(self, buffer: BufferPort, saturation: float = BUFFER_SATURATION) -> None:
        self._buffer = buffer
        self._saturation = saturation

    def health(self) -> ComponentHealth:
        size, capacity = self._buffer.size(), self._buffer.capacity
        fill = size / capacity
        saturated = fill >= self._saturation
        return ComponentHealth(
            self.name,
            ready=not saturated,
            reason=f"buffer {fill:.0%} full" if saturated else "",
            details={
                "items": size,
                "capacity": capacity,
                "fill": round(fill, 4),
                "dropped_total": self._buffer.dropped_total,
            },
        )


class StoreHealth:
    """The store, as the flusher sees it: writable unless its last write failed; also how long
    ago data last reached it. ``store_size`` (optional) returns the bytes the store holds."""

    name = "store"

    def __init__(
        self,
        flusher: Flusher,
        *,
        clock: Callable[[], float] = time.monotonic,
        store_size: Callable[[], int] | None = None,
    ) -> None:
        self._flusher = flusher
        self._clock = clock
        self._store_size = store_size
        self._started = clock()

    def health(self) -> ComponentHealth:
        stats = self._flusher.stats
        last = stats.last_flush_monotonic
        writable = stats.last_error is None
        details: dict[str, object] = {
            "writable": writable,
            "last_flush_age_seconds": None if last is None else round(self._clock() - last, 3),
            "uptime_seconds": round(self._clock() - self._started, 3),
            "flushes": stats.flushes,
            "flushed_items": stats.flushed_items,
            "write_failures": stats.failures,
        }
        if self._store_size is not None:
            details["size_bytes"] = self._store_size()
        return ComponentHealth(
            self.name,
            ready=writable,
            reason="" if writable else f"store not writable: {stats.last_error}",
            details=details,
        )


class StoreDeadLetterHealth:
    """Batches the store refused for good: while any wait, obsvty is *degraded* (still ready and
    live: everything else is stored) until an operator replays or drops them."""

    name = "store_dead_letters"

    def __init__(self, letters: StoreDeadLetterPort, flusher: Flusher) -> None:
        self._letters = letters
        self._flusher = flusher

    def health(self) -> ComponentHealth:
        stats = self._flusher.stats
        try:
            waiting = self._letters.waiting()
        except StoreDeadLetterError as exc:
            return ComponentHealth(self.name, degraded=True, reason=str(exc))
        return ComponentHealth(
            self.name,
            degraded=waiting > 0,
            reason=f"{waiting} store dead letter(s) waiting: see obsvty dead-letters list"
            if waiting
            else "",
            details={
                "waiting": waiting,
                "parked_batches": stats.dead_letter_batches,
                "parked_items": stats.dead_letter_items,
            },
        )
