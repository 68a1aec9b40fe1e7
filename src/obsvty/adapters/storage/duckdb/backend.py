"""The DuckDB backend: the store in one file, with its query side, retention, memory gauges and
cloud-sync source, built from the DuckDB settings group."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from pathlib import Path

from obsvty.adapters.storage.duckdb.memory import DuckDBMemory
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import DEDUPE_WINDOW, DuckDBStore
from obsvty.ports.storage_backend import BatchForm, StorageBackend
from obsvty.ports.sync import SyncSourcePort


@dataclass(frozen=True, slots=True)
class DuckDBSettings:
    path: Path
    threads: int | None = None
    memory_limit: int | None = None
    """Bytes DuckDB may use; ``None``: DuckDB's default (80% of RAM)."""
    dedupe_window: int = DEDUPE_WINDOW


def file_size(path: Path) -> int:
    """Bytes a DuckDB database occupies on disk: its file and its write-ahead log."""
    total = 0
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(OSError):
            total += p.stat().st_size
    return total


def duckdb_backend(settings: DuckDBSettings) -> StorageBackend:
    """Open (or create) the database file and bundle what DuckDB offers."""
    store = DuckDBStore(
        settings.path,
        threads=settings.threads,
        memory_limit=settings.memory_limit,
        dedupe_window=settings.dedupe_window,
    )

    def sync_source() -> SyncSourcePort:
        from obsvty.adapters.storage.duckdb.sync import DuckDBSyncSource

        return DuckDBSyncSource(store.cursor())

    def store_size() -> int:
        return file_size(settings.path)

    return StorageBackend(
        store=store,
        sync_source=sync_source,
        query=DuckDBQuery(store),
        retention=DuckDBRetention(store),
        store_size=store_size,
        memory=DuckDBMemory(store),
        observe_checkpoints=store.observe_checkpoints,
        batch_form=BatchForm.ARROW,
    )
