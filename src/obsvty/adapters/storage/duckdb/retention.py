"""Retention on the DuckDB file: chunked deletes in the order rows were stored (by age, or a
share for the size limit), CHECKPOINT to reclaim.

The order of storage is DuckDB's ``rowid``: it grows as rows are appended (a checkpoint that
merges row groups renumbers the rows after them, in the same order), and a scan returns rows in
that order (``preserve_insertion_order``, on by default). Rows stored first fill whole row
groups, so deleting them frees those row groups outright, where deleting by start time alone
would leave holes in every row group that holds spans which started long before they arrived;
each vacuuming checkpoint then rewrites those row groups while it holds up the flusher's
commits.

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


YOUNG_OUTLIERS = 1_000
"""Rows newer than the age limit that may lie among older ones (stored first) without holding
back their deletion: spans from a client whose clock runs ahead. They are kept; the rows around
them go."""

_NO_ROW = 2**63 - 1
"""A rowid past every row."""


class DuckDBRetention:
    """:class:`~obsvty.ports.retention.RetentionStorePort` on a :class:`DuckDBStore`, through a
    cursor of its own (MVCC: deletes of old rows do not block the flusher's inserts)."""

    tables = tuple(_TIME)

    def __init__(self, store: DuckDBStore) -> None:
        self._con = store.cursor()
        self._trace_times_bound: int | None = None
        """Where ``trace_times`` is cut once the spans up to a :meth:`stored_bound` are gone."""

    def time_range(self, table: str) -> tuple[int, int] | None:
        ts = _TIME[table]
        row = single_row(self._con, f"SELECT min({ts}), max({ts}) FROM {table}")  # noqa: S608
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        deleted = self._delete_aged(table, _TIME[table], cutoff_unix_nano, limit)
        if table == "spans":  # the time ranges of traces whose spans are gone go too
            self._delete_aged("trace_times", "start_max", cutoff_unix_nano, None)
        return deleted

    def _delete_aged(self, table: str, ts: str, cutoff: int, limit: int | None) -> int:
        """Delete rows older than ``cutoff`` stored before the young ones begin: those fill
        whole row groups, which a checkpoint drops as they are. A row that arrived late (a span
        that started long before it was sent) stays until the rows stored before it have aged
        out too, rather than leaving a hole in a recent row group that a checkpoint would
        rewrite while it holds up the flusher's commits."""
        young = single_row(
            self._con,
            f"SELECT rowid FROM {table} WHERE {ts} >= ? LIMIT 1 OFFSET ?",  # noqa: S608
            [cutoff, YOUNG_OUTLIERS],
        )
        sql = (
            f"DELETE FROM {table} WHERE rowid IN "  # noqa: S608 - table and column are ours
            f"(SELECT rowid FROM {table} WHERE {ts} < ? AND rowid < ? LIMIT ?)"
        )
        bound = int(young[0]) if young else _NO_ROW
        row = single_row(self._con, sql, [cutoff, bound, limit])
        return int(row[0]) if row else 0

    def stored_bound(self, table: str, share: float) -> int | None:
        bound = self._share_bound(table, share)
        if table == "spans":  # each write appends its traces' time ranges along with its spans
            self._trace_times_bound = self._share_bound("trace_times", share)
        return bound

    def _share_bound(self, table: str, share: float) -> int | None:
        row = single_row(self._con, f"SELECT count(*) FROM {table}")  # noqa: S608
        count = int(min(1.0, max(0.0, share)) * (int(row[0]) if row else 0))
        if count == 0:
            return None
        sql = f"SELECT rowid FROM {table} LIMIT 1 OFFSET ?"  # noqa: S608 - our table name
        row = single_row(self._con, sql, [count - 1])
        return int(row[0]) if row else None

    def delete_stored_through(self, table: str, bound: int, limit: int) -> int:
        deleted = self._delete_through(table, bound, limit)
        if table == "spans" and deleted < limit and self._trace_times_bound is not None:
            # the spans are done: their traces' time ranges go too (a range whose spans are
            # gone only widens a lookup; one missing makes that trace be looked for everywhere)
            self._delete_through("trace_times", self._trace_times_bound, None)
            self._trace_times_bound = None
        return deleted

    def _delete_through(self, table: str, bound: int, limit: int | None) -> int:
        sql = (
            f"DELETE FROM {table} WHERE rowid IN "  # noqa: S608 - table and column are ours
            f"(SELECT rowid FROM {table} WHERE rowid <= ? LIMIT ?)"
        )
        row = single_row(self._con, sql, [bound, limit])
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
