"""Health reporting: each part of the pipeline that can be unhealthy says so through this port.

Components (the buffer, the flusher, retention, a cloud sink, ...) implement
:class:`HealthReporter` and register with the application's health registry; the ``/healthz``,
``/readyz`` and ``/metrics`` endpoints read them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True, slots=True)
class ComponentHealth:
    """One component's state at one moment."""

    name: str
    live: bool = True
    """``False`` only when the component is broken beyond recovery: the process should restart."""
    ready: bool = True
    """``False`` when obsvty should not be sent more telemetry now (store failing, buffer full)."""
    reason: str = ""
    """Why it is not ready or not live, or degraded; empty when it is fine."""
    details: dict[str, object] = field(default_factory=dict)
    """JSON-serialisable facts (sizes, ages in seconds, counts). Never telemetry content."""
    lag: float | None = None
    """For a sink: items (or seconds, see ``details``) it is behind the local store."""
    dead_letters: int | None = None
    """For a sink: items it gave up on and parked in a dead-letter queue."""
    degraded: bool = False
    """Ready, but something waits for an operator (e.g. batches the store refused)."""


class HealthReporter(Protocol):
    """A component that can report its own health. Must be cheap and must not block: it is
    called on every probe, from the event loop."""

    @property
    def name(self) -> str: ...

    def health(self) -> ComponentHealth: ...
