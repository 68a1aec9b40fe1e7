"""Read one row through a long-lived cursor without leaving its transaction open.

DuckDB streams a query's result, and its transaction stays open until the result has been read
to the end or the cursor runs its next statement: ``fetchone()`` on a cursor kept for the next
scrape or pass leaves it open for as long as the cursor idles. While a transaction older than the
last commit is open, every checkpoint is a concurrent one, which cannot vacuum deleted rows (and
old row versions stay in memory): retention's deletes give no space back, and a size cap is never
met. Reading the whole result ends the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb


def single_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[object] = ()
) -> tuple[Any, ...] | None:
    """The first row of ``sql``'s result (``None`` when it has none), its transaction ended."""
    rows = con.execute(sql, list(params)).fetchall()
    return rows[0] if rows else None
