"""After the run: is every acknowledged span in the DuckDB file, exactly once?"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True, slots=True)
class StoreCheck:
    acknowledged: int
    """Spans in requests the server acknowledged (all spans accepted)."""
    stored_rows: int
    missing: int
    """Acknowledged spans not in the store: acknowledged data lost."""
    duplicates: int
    """Rows beyond the first for the same span id."""
    unacknowledged_stored: int
    """Stored spans whose request got no acknowledgement (e.g. a timeout): not an error."""

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
