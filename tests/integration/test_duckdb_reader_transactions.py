"""The store's long-lived cursors (the memory gauge, retention, the cloud sync's source) must not
leave a transaction open after a read: DuckDB keeps the transaction of a result read only in part
(``fetchone``) until the cursor runs its next statement, and while a transaction older than the
last commit is open every checkpoint is a concurrent one, which does not vacuum deleted rows. Then
retention's deletes give no space back and a size cap can never be met."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from obsvty.adapters.storage.duckdb.memory import DuckDBMemory
from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.duckdb.sync import DuckDBSyncSource
from tests.support.duckdb_rows import fill_spans

pytestmark = pytest.mark.integration

NS = 1_000_000_000
ROWS = 300_000

# each: (make the long-lived reader on a store, one read through it)
READERS: dict[str, tuple[Callable[[DuckDBStore], Any], Callable[[Any], object]]] = {
    "memory gauge": (DuckDBMemory, lambda gauge: gauge()),
    "retention used bytes": (DuckDBRetention, lambda r: r.used_bytes()),
    "retention time range": (DuckDBRetention, lambda r: r.time_range("spans")),
    "sync backlog": (lambda s: DuckDBSyncSource(s.cursor()), lambda src: src.backlog()),
    "sync pending": (
        lambda s: DuckDBSyncSource(s.cursor()),
        lambda src: src.pending("spans", 10),
    ),
    "sync dead letters": (
        lambda s: DuckDBSyncSource(s.cursor()),
        lambda src: src.dead_letter_count(),
    ),
}


@pytest.mark.parametrize("name", READERS)
def test_duckdb_long_lived_reader_after_a_read_deletes_are_reclaimed(
    tmp_path: Path, name: str
) -> None:
    # Arrange: a store of several row groups, a reader that has read once and is kept
    make, read = READERS[name]
    store = DuckDBStore(tmp_path / "r.duckdb")
    reader = make(store)
    fill_spans(store.cursor(), ROWS)
    retention = DuckDBRetention(store, reclaim_wait=0)
    retention.reclaim()
    full = retention.used_bytes()
    read(reader)

    # Act: delete the first two row groups (DuckDB's hold 122,880 rows), then checkpoint
    deleted = retention.delete_before("spans", 2 * 122_880 * NS, ROWS)
    reclaimed = retention.reclaim()

    # Assert: the checkpoint vacuumed the deleted rows (DuckDB's count of the table's rows,
    # deleted ones included until vacuumed, is down to the rows left), and space came back
    assert deleted == 2 * 122_880
    assert reclaimed
    stored = store.cursor().execute(
        "SELECT estimated_size FROM duckdb_tables() WHERE table_name = 'spans'"
    )
    assert stored.fetchone() == (ROWS - deleted,), name
    assert retention.used_bytes() < full, name
    del reader
    store.close()
