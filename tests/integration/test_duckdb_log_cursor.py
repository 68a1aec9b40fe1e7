"""Log cursors on DuckDB stay valid across retention: deleting old rows and checkpointing
renumbers DuckDB's row ids, so a cursor's tie breaker must be a number stored with the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.domain.model import InstrumentationScope, LogRecord, Resource
from obsvty.ports.query import LogQuery
from tests.support.records import log_batch

pytestmark = pytest.mark.integration

T_OLD = 1_700_000_000_000_000_000
T_MID = T_OLD + 1800 * 1_000_000_000
T_NEW = T_OLD + 3600 * 1_000_000_000
RESOURCE = Resource({"service.name": "cursor-test"})
SCOPE = InstrumentationScope("cursor-test")


_BULK = """
INSERT INTO logs BY NAME
SELECT CASE WHEN range < 200000 THEN $1 ELSE $2 END + range AS time_unix_nano,
       time_unix_nano AS observed_time_unix_nano,
       9 AS severity_number, 'INFO' AS severity_text, '"bulk"' AS body, '{}' AS attributes,
       0 AS dropped_attributes_count, 0 AS flags, '' AS trace_id, '' AS span_id,
       '' AS event_name, 'bulk' AS service_name, '{}' AS resource_attributes,
       0 AS resource_dropped_attributes_count, '' AS resource_schema_url, 'bulk' AS scope_name,
       '' AS scope_version, '{}' AS scope_attributes, 0 AS scope_dropped_attributes_count,
       '' AS scope_schema_url
FROM range(299700)
"""


def _logs(time_unix_nano: int, numbers: range) -> list[LogRecord]:
    return [
        LogRecord(
            time_unix_nano=time_unix_nano,
            observed_time_unix_nano=time_unix_nano,
            severity_number=9,
            severity_text="INFO",
            body=f"record {n}",
            attributes={"n": n},
            resource=RESOURCE,
            scope=SCOPE,
        )
        for n in numbers
    ]


def test_find_logs_paging_across_retention_delete_and_checkpoint_each_record_once(
    tmp_path: Path,
) -> None:
    # Arrange: 200,000 old records, ~100,000 newer ones, then 300 at one time (a tie
    # throughout). DuckDB keeps rows in groups of 122,880: a first retention pass deletes the
    # first group whole; the second pass, the rest of the old records, part of the second group,
    # which a checkpoint merges with the third (the one holding the ties), numbering the
    # remaining rows anew (their row ids drop by 77,120).
    store = DuckDBStore(tmp_path / "cursor.duckdb", threads=1)
    con = store.cursor()
    con.execute(_BULK, [T_OLD, T_MID])
    store.write([log_batch(_logs(T_NEW, range(2000, 2300)))])
    con.execute("CHECKPOINT")
    con.close()
    query = DuckDBQuery(store)
    retention = DuckDBRetention(store, reclaim_wait=0)
    seen: list[object] = []

    try:
        # Act: one page, then retention deletes every old record and checkpoints, then the rest
        page = query.find_logs(LogQuery(start_unix_nano=T_NEW, limit=50))
        seen += [r.attributes["n"] for r in page.records]
        deleted = 0
        for _ in range(2):
            while chunk := retention.delete_before("logs", T_MID, 1_000_000):
                deleted += chunk
            assert retention.reclaim()
        assert deleted == 200_000
        cursor = page.next_cursor
        while cursor is not None:
            page = query.find_logs(LogQuery(start_unix_nano=T_NEW, limit=50, cursor=cursor))
            seen += [r.attributes["n"] for r in page.records]
            cursor = page.next_cursor
    finally:
        retention.close()
        store.close()

    # Assert: every record once, newest first (ties: the later written first)
    assert seen == list(range(2299, 1999, -1))


def test_find_logs_cursor_from_before_reopen_continues(tmp_path: Path) -> None:
    # Arrange: a cursor handed out, then obsvty restarts (the file is closed and reopened)
    path = tmp_path / "reopen.duckdb"
    store = DuckDBStore(path, threads=1)
    store.write([log_batch(_logs(T_NEW, range(100)))])
    first = DuckDBQuery(store).find_logs(LogQuery(limit=30))
    store.close()

    # Act
    reopened = DuckDBStore(path, threads=1)
    try:
        rest = []
        cursor = first.next_cursor
        while cursor is not None:
            page = DuckDBQuery(reopened).find_logs(LogQuery(limit=30, cursor=cursor))
            rest += [r.attributes["n"] for r in page.records]
            cursor = page.next_cursor
    finally:
        reopened.close()

    # Assert
    assert [r.attributes["n"] for r in first.records] + rest == list(range(99, -1, -1))
