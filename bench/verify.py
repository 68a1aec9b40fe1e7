"""After the run: is every acknowledged item in the DuckDB file, exactly once?

Spans by their ids (``check_store``; ``check_requests`` from request numbers, for long runs). Log
records and metric data points have no identity, so they are counted (``check_count``): the rows
must equal the acknowledged items, give or take the items of requests whose fate the client cannot
know (a timeout: the server may have stored them).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa


@dataclass(frozen=True, slots=True)
class StoreCheck:
    acknowledged: int
    """Items in requests the server acknowledged (all items accepted)."""
    stored_rows: int
    missing: int
    """Acknowledged items not in the store: acknowledged data lost."""
    duplicates: int
    """Rows beyond the first for the same span id (counted items: rows beyond every item sent
    whose request may have been stored)."""
    unacknowledged_stored: int
    """Stored items whose request got no acknowledgement (e.g. a timeout): not an error."""

    @property
    def ok(self) -> bool:
        return self.missing == 0 and self.duplicates == 0


def check_store(db_path: Path, acknowledged_span_ids: set[str]) -> StoreCheck:
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute("SELECT span_id FROM spans").fetchall()
    finally:
        con.close()
    stored = [row[0] for row in rows]
    distinct = set(stored)
    return StoreCheck(
        acknowledged=len(acknowledged_span_ids),
        stored_rows=len(stored),
        missing=len(acknowledged_span_ids - distinct),
        duplicates=len(stored) - len(distinct),
        unacknowledged_stored=len(distinct - acknowledged_span_ids),
    )


_CHECK_REQUESTS = """
WITH acked AS (
    SELECT printf('%08x%08x', n + 1, slot) AS span_id
    FROM acked_requests, range(1, {spans:d} + 1) AS slots(slot)
),
stored AS (SELECT span_id, count(*) AS copies FROM spans GROUP BY span_id)
SELECT
    (SELECT count(*) FROM acked),
    (SELECT coalesce(sum(copies), 0) FROM stored),
    (SELECT count(*) FROM acked ANTI JOIN stored USING (span_id)),
    (SELECT coalesce(sum(copies - 1), 0) FROM stored),
    (SELECT count(*) FROM stored ANTI JOIN acked USING (span_id))
"""


def check_requests(
    db_path: Path, acknowledged_requests: Sequence[int], spans_per_request: int
) -> StoreCheck:
    """``check_store`` for the requests of a ``bench.payloads.PayloadFactory`` given by number:
    request ``n``'s span ``i`` has the id ``n + 1 || i + 1`` (two big-endian u32), so the
    acknowledged ids are made in DuckDB rather than held in Python, where a set of tens of
    millions of hex strings takes gigabytes and seconds to rehash as it grows."""
    numbers = pa.table({"n": pa.array(acknowledged_requests, pa.int64())})
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        con.register("acked_requests", numbers)
        row = con.execute(_CHECK_REQUESTS.format(spans=int(spans_per_request))).fetchone()
    finally:
        con.close()
    acknowledged, stored, missing, duplicates, unacknowledged = (int(v) for v in row or (0,) * 5)
    return StoreCheck(acknowledged, stored, missing, duplicates, unacknowledged)


COUNTED_TABLES = {"logs": "logs", "metrics": "metric_points"}
"""The table of each signal checked by counting its rows."""


def check_count(db_path: Path, table: str, acknowledged: int, unsure: int = 0) -> StoreCheck:
    """Rows of ``table`` against ``acknowledged`` items, ``unsure`` more allowed (items of
    requests without an answer, or partially rejected, which the server may have stored)."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        row = con.execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608 (fixed names)
    finally:
        con.close()
    stored = int(row[0]) if row else 0
    beyond = max(0, stored - acknowledged)
    return StoreCheck(
        acknowledged=acknowledged,
        stored_rows=stored,
        missing=max(0, acknowledged - stored),
        duplicates=max(0, beyond - unsure),
        unacknowledged_stored=min(beyond, unsure),
    )
