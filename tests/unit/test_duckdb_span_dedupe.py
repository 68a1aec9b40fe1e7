"""The DuckDB store keeps each span once per (trace_id, span_id): a re-sent request adds nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb_store import DuckDBStore
from obsvty.domain.batches import LogBatch
from tests.support.reliability import BASE_TIME, RESOURCE, SCOPE, span_batch

pytestmark = pytest.mark.unit


def _span_rows(store: DuckDBStore) -> list[tuple[str, str, int]]:
    return (
        store.cursor()
        .execute("SELECT trace_id, span_id, count(*) FROM spans GROUP BY ALL ORDER BY span_id")
        .fetchall()
    )


def test_duckdb_store_span_written_twice_is_stored_once(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.write([span_batch(0, 10)])

    # Act
    store.write([span_batch(5, 10)])  # spans 5..9 again, 10..14 new

    # Assert
    rows = _span_rows(store)
    assert len(rows) == 15
    assert {count for _, _, count in rows} == {1}
    store.close()


def test_duckdb_store_duplicates_within_one_write_are_stored_once(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "t.duckdb")

    # Act
    store.write([span_batch(0, 4), span_batch(2, 4), span_batch(0, 1)])

    # Assert
    assert [count for _, _, count in _span_rows(store)] == [1] * 6
    store.close()


def test_duckdb_store_same_span_id_in_another_trace_is_another_span(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.write([span_batch(0, 3, trace=1)])

    # Act
    store.write([span_batch(0, 3, trace=2)])

    # Assert
    assert len(_span_rows(store)) == 6
    store.close()


def test_duckdb_store_spans_survive_reopen_and_resend(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "t.duckdb"
    first = DuckDBStore(path)
    first.write([span_batch(0, 20)])
    first.close()

    # Act
    reopened = DuckDBStore(path)
    reopened.write([span_batch(10, 20)])

    # Assert
    rows = _span_rows(reopened)
    assert len(rows) == 30
    assert {count for _, _, count in rows} == {1}
    reopened.close()


def _log_batch(count: int) -> LogBatch:
    b = LogBatch()
    for i in range(count):
        b.time_unix_nano.append(BASE_TIME + i)
        b.observed_time_unix_nano.append(BASE_TIME + i)
        b.severity_number.append(9)
        b.severity_text.append("INFO")
        b.body.append(f"line {i}")
        b.attributes.append({})
        b.dropped_attributes_count.append(0)
        b.flags.append(0)
        b.trace_id.append(b"")
        b.span_id.append(b"")
        b.event_name.append("")
        b.resource.append(RESOURCE)
        b.scope.append(SCOPE)
    return b


def test_duckdb_store_logs_have_no_identity_and_a_resend_is_stored_again(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.write([_log_batch(3)])

    # Act
    store.write([_log_batch(3)])

    # Assert: at-least-once for logs (documented in docs/RELIABILITY.md)
    assert store.cursor().execute("SELECT count(*) FROM logs").fetchone() == (6,)
    store.close()
