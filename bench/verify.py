"""After the run: is every acknowledged item in the DuckDB file, exactly once?

Spans by their ids (``check_store``). Log records and metric data points have no identity, so
they are counted (``check_count``): the rows must equal the acknowledged items, give or take the
items of requests whose fate the client cannot know (a timeout: the server may have stored them).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


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
