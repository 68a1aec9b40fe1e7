"""Retention on the DuckDB file: chunked deletes by time, CHECKPOINT to reclaim.

What DuckDB gives back: a CHECKPOINT after deletes vacuums the deleted rows and returns the
blocks they occupied to the file's free list, where new data reuses them; the file itself does
not shrink (DuckDB's documentation: compact only by copying the database, e.g. ``COPY FROM
DATABASE``). So the size limit is measured on the blocks in use (``PRAGMA database_size``),
not on the file's size on disk.
"""

from __future__ import annotations

import contextlib
import logging

import duckdb

from obsvty.adapters.storage.duckdb.single_row import single_row
from obsvty.adapters.storage.duckdb.store import DuckDBStore

log = logging.getLogger(__name__)

# the time each row is kept by; a log record without a time is aged by when it was observed
_TIME = {
    "spans": "start_time_unix_nano",
    "logs": "CASE WHEN time_unix_nano > 0 THEN time_unix_nano ELSE observed_time_unix_nano END",
    "metric_points": "time_unix_nano",
}


class DuckDBRetention:
    """:class:`~obsvty.ports.retention.RetentionStorePort` on a :class:`DuckDBStore`, through a
    cursor of its own (MVCC: deletes of old rows do not block the flusher's inserts)."""

    tables = tuple(_TIME)

    def __init__(self, store: DuckDBStore) -> None:
        self._con = store.cursor()

    def time_range(self, table: str) -> tuple[int, int] | None:
        ts = _TIME[table]
        row = single_row(self._con, f"SELECT min({ts}), max({ts}) FROM {table}")  # noqa: S608
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        ts = _TIME[table]
        sql = (
            f"DELETE FROM {table} WHERE rowid IN "  # noqa: S608 - table and column are ours
            f"(SELECT rowid FROM {table} WHERE {ts} < ? LIMIT ?)"
        )
        row = single_row(self._con, sql, [cutoff_unix_nano, limit])
        if table == "spans":  # the time ranges of traces now wholly deleted go too
            self._con.execute("DELETE FROM trace_times WHERE start_max < ?", [cutoff_unix_nano])
        return int(row[0]) if row else 0

    def used_bytes(self) -> int:
        row = single_row(
            self._con,
            "SELECT block_size * used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()",
        )
        return int(row[0]) if row and row[0] is not None else 0

    def reclaim(self) -> bool:
        try:
            self._con.execute("CHECKPOINT")
        except duckdb.Error as exc:  # another transaction is running: try on the next pass
            log.debug("retention checkpoint deferred: %s", exc)
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self._con.close()
