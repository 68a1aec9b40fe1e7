"""The background sync of the primary store, whichever it is, to a cloud MongoDB
(``MONGODB_CLOUD_URI``), built from the sync settings group."""

from __future__ import annotations

from dataclasses import dataclass

from obsvty.adapters.storage.mongodb.store import MongoSettings
from obsvty.application.sync import CircuitBreaker, SyncService
from obsvty.ports.sync import SyncSourcePort


@dataclass(frozen=True, slots=True)
class CloudSyncSettings:
    target: MongoSettings
    batch_size: int = 1000
    interval_s: float = 1.0
    max_backoff_s: float = 60.0
    breaker_failures: int = 5
    breaker_reset_s: float = 30.0


def cloud_sync(settings: CloudSyncSettings, source: SyncSourcePort) -> SyncService:
    """The sync service from ``source`` to the cloud (not started)."""
    from obsvty.adapters.storage.mongodb.sync import MongoSyncTarget

    return SyncService(
        source,
        MongoSyncTarget(settings.target),
        batch_size=settings.batch_size,
        interval=settings.interval_s,
        max_backoff=settings.max_backoff_s,
        breaker=CircuitBreaker(settings.breaker_failures, settings.breaker_reset_s),
    )
