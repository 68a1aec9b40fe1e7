"""How much memory DuckDB itself holds, for the ``obsvty_duckdb_*`` gauges of ``/metrics``.

DuckDB accounts for the memory of its buffer manager (cached blocks of the file, rows not yet
checkpointed, query state) by tag in ``duckdb_memory()``, and for what it spilled to its temp
directory next to it. Read at scrape time on a cursor of its own: the table function reads
counters, takes no table lock and does not wait for the writer's transaction.
"""

from __future__ import annotations

import logging
import threading
from typing import NamedTuple

import duckdb

from obsvty.adapters.storage.duckdb.single_row import single_row
from obsvty.adapters.storage.duckdb.store import DuckDBStore

log = logging.getLogger(__name__)

_USAGE = (
    "SELECT coalesce(sum(memory_usage_bytes), 0)::BIGINT, "
    "coalesce(sum(temporary_storage_bytes), 0)::BIGINT FROM duckdb_memory()"
)


class MemoryUsage(NamedTuple):
    memory_bytes: int
    """Bytes held in memory by DuckDB's buffer manager, all tags."""
    temporary_bytes: int
    """Bytes DuckDB spilled to its temp directory."""


class DuckDBMemory:
    """Reads a DuckDB store's memory usage (callable, for :class:`StateSources`)."""

    def __init__(self, store: DuckDBStore) -> None:
        self._cursor = store.cursor()
        self._lock = threading.Lock()  # both listeners serve /metrics: one query at a time

    def __call__(self) -> MemoryUsage | None:
        """The usage now, or ``None`` when the store cannot answer (closed at shutdown)."""
        with self._lock:
            try:
                row = single_row(self._cursor, _USAGE)
            except duckdb.Error as exc:
                log.debug("DuckDB memory usage unavailable: %s", exc)
                return None
        if row is None:  # pragma: no cover - an aggregate always returns a row
            return None
        return MemoryUsage(int(row[0]), int(row[1]))
