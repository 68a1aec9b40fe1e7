"""Retention on the DuckDB file: deletes in the order rows were stored (by age, or a share for
the size limit), in chunks of whole row groups where the table has them, CHECKPOINT to reclaim.

The order of storage is DuckDB's ``rowid``: it grows as rows are appended (a checkpoint that
merges row groups renumbers the rows after them, in the same order), and a scan returns rows in
that order (``preserve_insertion_order``, on by default). Rows stored first fill whole row
groups, so deleting them frees those row groups outright, where deleting by start time alone
would leave holes in every row group that holds spans which started long before they arrived.

Why whole row groups: a checkpoint drops a row group whose rows are all deleted at no cost, but
one left with a few live rows is merged with the row groups after it into fewer (DuckDB merges
consecutive row groups whose rows fit in fewer), and that rewrite holds up the flusher's commits
for as long as it takes, a second or more under load. So each delete ends where a row group
ends, when one lies close enough to where it should end (:func:`_aligned_end`).

What DuckDB gives back: a CHECKPOINT after deletes vacuums the deleted rows and returns the
blocks they occupied to the file's free list, where new data reuses them; the file itself does
not shrink (DuckDB's documentation: compact only by copying the database, e.g. ``COPY FROM
DATABASE``). So the size limit is measured on the blocks in use (``PRAGMA database_size``),
not on the file's size on disk.
"""

from __future__ import annotations

import bisect
import contextlib
import logging
from dataclasses import dataclass
from itertools import accumulate

import duckdb

from obsvty.adapters.storage.duckdb.single_row import single_row
from obsvty.adapters.storage.duckdb.store import DuckDBStore

log = logging.getLogger(__name__)

# the time each row is kept by; a log record without a time is aged by when it was observed
_TIME = {
    "spans": "start_time_unix_nano",
    "logs": "CASE WHEN time_unix_nano > 0 THEN time_unix_nano ELSE observed_time_unix_nano END",
    "metric_points": "time_unix_nano",
    "trace_times": "start_max",
}

YOUNG_OUTLIERS = 1_000
"""Rows newer than the age limit that may lie among older ones (stored first) without holding
back their deletion: spans from a client whose clock runs ahead. They are kept; the rows around
them go."""

RECLAIM_WAIT_SECONDS = 10.0
"""Longest wait for a checkpoint made by writes before reclaiming with one of its own
(:meth:`DuckDBStore.wait_for_checkpoint`): writes checkpoint every ``CHECKPOINT_ROWS`` rows, so
at under 10,000 rows/s retention checkpoints itself, and the next checkpoint rewrites the rows
appended until then."""

_ROW_GROUPS = """
SELECT list(n ORDER BY g) FROM (
    SELECT row_group_id AS g, max(start + count) AS n
    FROM pragma_storage_info('{table}') WHERE column_id = 0 GROUP BY g)
"""
"""The rows each of a table's row groups holds, deleted ones included until a checkpoint
vacuums them, in storage order (~300 ms for 20M spans)."""

_TOTALS = """
SELECT (SELECT count(*) FROM {table}), estimated_size
FROM duckdb_tables() WHERE table_name = '{table}' AND database_name = current_database()
"""
"""A table's rows, and its rows with the deleted ones a checkpoint has not vacuumed yet."""


@dataclass(slots=True)
class _Plan:
    """The deletion of a table's first ``end`` rows (positions in storage order, counted when
    the plan was made), chunk by chunk."""

    end: int
    group_ends: list[int]
    """Where row groups end before ``end``: chunks end there."""
    cutoff: int | None = None
    """Only rows older than this go (age retention); ``None``: every row (size limit)."""
    done: int = 0
    """Position up to which chunks have run."""
    deleted: int = 0
    """Rows deleted so far: the live rows before a position are that many fewer than when the
    plan was made, all of them before it."""

    def next_end(self, limit: int) -> int | None:
        """Where the next chunk ends: at the last row group end within ``limit`` rows (at least
        one row group), else ``limit`` rows on; ``None`` once the plan is done."""
        if self.done >= self.end:
            return None
        ends = self.group_ends
        i = bisect.bisect_right(ends, self.done + limit) - 1
        if i >= 0 and ends[i] > self.done:
            return ends[i]
        if i + 1 < len(ends):  # the next row group holds more than ``limit`` rows: it whole
            return ends[i + 1]
        return min(self.end, self.done + limit)


def _aligned_end(group_ends: list[int], rows: int) -> int:
    """Where to stop deleting the first ``rows`` rows: at the last row group end between half
    of them and all of them, so that no row group is left with a few live rows (at most as many
    rows as are deleted wait for a later pass); else at ``rows`` exactly (a small table, all in
    one row group that a checkpoint rewrites at little cost)."""
    i = bisect.bisect_right(group_ends, rows) - 1
    if i >= 0 and group_ends[i] * 2 >= rows:
        return group_ends[i]
    return rows


def _plan(group_ends: list[int], rows: int, cutoff: int | None) -> _Plan:
    end = _aligned_end(group_ends, rows)
    return _Plan(end, group_ends[: bisect.bisect_right(group_ends, end)], cutoff)


class DuckDBRetention:
    """:class:`~obsvty.ports.retention.RetentionStorePort` on a :class:`DuckDBStore`, through a
    cursor of its own (MVCC: deletes of old rows do not block the flusher's inserts)."""

    tables = ("spans", "logs", "metric_points")

    def __init__(self, store: DuckDBStore, *, reclaim_wait: float = RECLAIM_WAIT_SECONDS) -> None:
        self._store = store
        self._reclaim_wait = reclaim_wait
        self._con = store.cursor()
        self._plans: dict[str, _Plan] = {}

    def time_range(self, table: str) -> tuple[int, int] | None:
        ts = _TIME[table]
        row = single_row(self._con, f"SELECT min({ts}), max({ts}) FROM {table}")  # noqa: S608
        if row is None or row[0] is None:
            return None
        return int(row[0]), int(row[1])

    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        plan = self._plans.get(table)
        if plan is None or plan.cutoff != cutoff_unix_nano:
            plan = self._plans[table] = self._aged_plan(table, cutoff_unix_nano)
        deleted = self._next_chunk(table, plan, limit)
        if deleted == 0 and table == "spans":  # the time ranges of traces whose spans are gone
            self._delete_all("trace_times", self._aged_plan("trace_times", cutoff_unix_nano), limit)
        return deleted

    def _aged_plan(self, table: str, cutoff: int) -> _Plan:
        """Delete rows older than ``cutoff`` stored before the young ones begin. A row that
        arrived late (a span that started long before it was sent) stays until the rows stored
        before it have aged out too, rather than leaving a hole in a recent row group."""
        ts = _TIME[table]
        row = single_row(
            self._con,
            f"SELECT count(*) FROM {table} WHERE rowid < coalesce("  # noqa: S608
            f"(SELECT rowid FROM {table} WHERE {ts} >= ? LIMIT 1 OFFSET ?), 2**63 - 1)",
            [cutoff, YOUNG_OUTLIERS],
        )
        return _plan(self._group_ends(table), int(row[0]) if row else 0, cutoff)

    def stored_bound(self, table: str, share: float) -> int | None:
        share = min(1.0, max(0.0, share))
        plan = self._plans[table] = self._share_plan(table, share)
        if plan.end == 0:
            return None
        if table == "spans":  # each write appends its traces' time ranges along with its spans
            self._plans["trace_times"] = self._share_plan("trace_times", share)
        return plan.end

    def _share_plan(self, table: str, share: float) -> _Plan:
        group_ends = self._group_ends(table)
        return _plan(group_ends, int(share * (group_ends[-1] if group_ends else 0)), None)

    def delete_stored_through(self, table: str, bound: int, limit: int) -> int:
        plan = self._plans.get(table)
        if plan is None or plan.end != bound or plan.cutoff is not None:
            return 0
        deleted = self._next_chunk(table, plan, limit)
        if deleted == 0 and table == "spans":
            # the spans are done: their traces' time ranges go too (a range whose spans are
            # gone only widens a lookup; one missing makes that trace be looked for everywhere)
            ranges = self._plans.pop("trace_times", None)
            if ranges is not None:
                self._delete_all("trace_times", ranges, limit)
        return deleted

    def _delete_all(self, table: str, plan: _Plan, limit: int) -> None:
        while self._next_chunk(table, plan, limit):
            pass

    def _next_chunk(self, table: str, plan: _Plan, limit: int) -> int:
        """Run the plan's chunks until one deletes rows (a chunk of young rows deletes none);
        each is its own transaction. Returns the rows deleted, 0 once the plan is done."""
        while (end := plan.next_end(limit)) is not None:
            # the last row of the chunk, found by its position among the rows left now
            last = single_row(
                self._con,
                f"SELECT rowid FROM {table} LIMIT 1 OFFSET ?",  # noqa: S608 - our table name
                [end - plan.deleted - 1],
            )
            plan.done = end
            if last is None:
                break
            if plan.cutoff is None:
                sql = f"DELETE FROM {table} WHERE rowid <= ?"  # noqa: S608
                row = single_row(self._con, sql, [last[0]])
            else:
                sql = f"DELETE FROM {table} WHERE rowid <= ? AND {_TIME[table]} < ?"  # noqa: S608
                row = single_row(self._con, sql, [last[0], plan.cutoff])
            deleted = int(row[0]) if row else 0
            plan.deleted += deleted
            if deleted:
                return deleted
        self._plans.pop(table, None)
        return 0

    def _group_ends(self, table: str) -> list[int]:
        """Where each row group of ``table`` ends, as positions among its rows in storage
        order; the last is the number of rows; empty when unknown this time. Deleted rows that
        a checkpoint has not vacuumed yet still fill their row group: they are taken to lie
        before the live ones (deletes go in storage order)."""
        stored, vacuum = self._totals(table)
        row = single_row(self._con, _ROW_GROUPS.format(table=table))
        if row is None or not row[0] or self._totals(table)[1] != vacuum:
            return []  # empty, or a checkpoint vacuumed meanwhile: positions would be off
        ends = list(accumulate(int(n) for n in row[0]))
        return [e - vacuum for e in ends if vacuum < e < stored + vacuum] + [stored]

    def _totals(self, table: str) -> tuple[int, int]:
        """The table's rows, and its deleted rows not vacuumed yet. Read while writes are held
        off (a few milliseconds): a commit between the two counts would shift every position;
        the row groups themselves are read outside, as rows appended since only add to the
        last."""
        with self._store.writes_held():
            row = single_row(self._con, _TOTALS.format(table=table))
        if row is None or row[1] is None:
            return 0, 0
        return int(row[0]), int(row[1]) - int(row[0])

    def used_bytes(self) -> int:
        row = single_row(
            self._con,
            "SELECT block_size * used_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()",
        )
        return int(row[0]) if row and row[0] is not None else 0

    def reclaim(self) -> bool:
        """Let a checkpoint vacuum the deleted rows: the next one the store's writes make,
        else (few writes) one made here."""
        if self._store.wait_for_checkpoint(self._reclaim_wait):
            return True
        try:
            self._store.checkpoint_on(self._con)
        except duckdb.Error as exc:  # another transaction is running: try on the next pass
            log.debug("retention checkpoint deferred: %s", exc)
            return False
        return True

    def close(self) -> None:
        with contextlib.suppress(duckdb.Error):
            self._con.close()
