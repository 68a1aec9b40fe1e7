"""Composition helpers for the storage backend and the cloud sync (used by ``main``).

``OBSVTY_STORAGE`` picks the primary store; ``MONGODB_CLOUD_URI`` adds the background sync of the
primary store, whichever it is, to a cloud MongoDB.
"""

from __future__ import annotations

import logging

from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.mongodb.store import MongoDBStore, MongoSettings
from obsvty.application.sync import CircuitBreaker, SyncService
from obsvty.config import Settings, parse_size
from obsvty.ports.store import StoreError

log = logging.getLogger(__name__)

PrimaryStore = DuckDBStore | MongoDBStore


def _retention_days(settings: Settings) -> float | None:
    age = getattr(settings, "obsvty_retention", None)
    if age:
        return float(age.total_seconds()) / 86400
    return settings.mongodb_retention_days


def mongo_settings(settings: Settings, *, cloud: bool = False) -> MongoSettings:
    uri = settings.mongodb_cloud_uri if cloud else settings.mongodb_uri
    if not uri:
        raise StoreError(
            "OBSVTY_STORAGE=mongodb needs MONGODB_URI (a mongodb:// connection string)"
        )
    return MongoSettings(
        uri=uri,
        database=settings.mongodb_cloud_database if cloud else settings.mongodb_database,
        write_concern=settings.mongodb_write_concern,
        timeout_ms=settings.mongodb_timeout_ms,
        max_pool_size=settings.mongodb_max_pool_size,
        retry_writes=settings.mongodb_retry_writes,
        insert_batch_size=settings.mongodb_insert_batch_size,
        retention_days=_retention_days(settings),
    )


def build_store(settings: Settings) -> PrimaryStore:
    if settings.obsvty_storage == "mongodb":
        return MongoDBStore(
            mongo_settings(settings), publish_watermark=bool(settings.mongodb_cloud_uri)
        )
    if settings.duckdb_process:
        log.warning("DUCKDB_PROCESS is removed and ignored: the DuckDB store runs in this process")
    return DuckDBStore(
        settings.obsvty_db_path,
        threads=settings.duckdb_threads,
        memory_limit=parse_size(settings.duckdb_memory_limit),
        dedupe_window=settings.duckdb_dedupe_window,
    )


def build_cloud_sync(settings: Settings, store: PrimaryStore) -> SyncService | None:
    """The sync service when ``MONGODB_CLOUD_URI`` is set (not started). Must run before the
    flusher writes: a DuckDB source adds its ``sync_seq`` columns here."""
    if not settings.mongodb_cloud_uri:
        return None
    from obsvty.adapters.storage.duckdb.sync import DuckDBSyncSource
    from obsvty.adapters.storage.mongodb.sync import MongoSyncSource, MongoSyncTarget

    source: DuckDBSyncSource | MongoSyncSource
    if isinstance(store, DuckDBStore):
        source = DuckDBSyncSource(store.cursor())
    else:
        source = MongoSyncSource(store.db)
    return SyncService(
        source,
        MongoSyncTarget(mongo_settings(settings, cloud=True)),
        batch_size=settings.sync_batch_size,
        interval=settings.sync_interval_ms / 1000,
        max_backoff=settings.sync_max_backoff_s,
        breaker=CircuitBreaker(settings.sync_breaker_failures, settings.sync_breaker_reset_s),
    )
