"""The DuckDB store keeps each span once per (trace_id, span_id): a request re-sent within the
de-duplication window adds nothing, whatever its spans' start times, across a restart too."""

from __future__ import annotations

from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb.backend import duckdb_backend
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.config import load_settings
from obsvty.domain.batches import LogBatch, SpanBatch
from obsvty.ports.store import StoreError
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


def _spread(batch: SpanBatch, step_ns: int) -> SpanBatch:
    """``batch`` with its spans starting ``step_ns`` apart, the newest now-ish, the oldest first."""
    count = len(batch.start_time_unix_nano)
    for i in range(count):
        start = BASE_TIME - (count - 1 - i) * step_ns
        batch.start_time_unix_nano[i] = start
        batch.end_time_unix_nano[i] = start + 500
    return batch


TEN_MINUTES_NS = 600 * 10**9


def test_duckdb_store_spread_batch_sent_again_is_stored_once(tmp_path: Path) -> None:
    # Arrange: spans starting 10 minutes apart, among many stored spans of other times
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.write([span_batch(1000, 3000, trace=7)])
    store.write([_spread(span_batch(0, 6), TEN_MINUTES_NS)])

    # Act
    store.write([_spread(span_batch(0, 6), TEN_MINUTES_NS)])
    store.write([span_batch(1000, 10, trace=7), _spread(span_batch(3, 5), TEN_MINUTES_NS)])

    # Assert
    rows = _span_rows(store)
    assert len(rows) == 3008
    assert {count for _, _, count in rows} == {1}
    store.close()


def test_duckdb_store_reopened_refills_the_newest_keys_in_stored_order(tmp_path: Path) -> None:
    # Arrange: 20 spans stored, reopened with a window of 5: spans 15..19 are its members
    path = tmp_path / "t.duckdb"
    first = DuckDBStore(path, threads=2)
    first.write([span_batch(0, 10)])
    first.write([span_batch(10, 10)])
    first.close()
    reopened = DuckDBStore(path, threads=2, dedupe_window=5)

    # Act
    reopened.write([span_batch(14, 1)])  # before the window: stored again, and 15 (oldest) leaves
    reopened.write([span_batch(15, 5)])  # the refilled five again

    # Assert
    counts = {number: count for number, (_, _, count) in enumerate(_span_rows(reopened))}
    assert len(counts) == 20
    assert [n for n, count in counts.items() if count == 2] == [14, 15]
    reopened.close()


def test_duckdb_store_reopened_after_deletes_refills_the_newest_keys(tmp_path: Path) -> None:
    # Arrange: the oldest rows deleted (as retention does) and the file checkpointed
    path = tmp_path / "t.duckdb"
    first = DuckDBStore(path)
    for number in range(0, 40, 10):
        first.write([span_batch(number, 10)])
    first.cursor().execute(
        "DELETE FROM spans WHERE start_time_unix_nano < ?", [BASE_TIME + 15 * 1000]
    )
    first.close()

    # Act
    reopened = DuckDBStore(path, dedupe_window=5)
    reopened.write([span_batch(35, 5)])

    # Assert
    rows = _span_rows(reopened)
    assert len(rows) == 25
    assert {count for _, _, count in rows} == {1}
    reopened.close()


def test_duckdb_store_failed_write_registers_no_keys(tmp_path: Path) -> None:
    # Arrange: a real DuckDB error inside the write's transaction (its trace_times insert)
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.write([span_batch(0, 5)])
    store.cursor().execute("ALTER TABLE trace_times RENAME TO trace_times_away")
    with pytest.raises(StoreError):
        store.write([span_batch(5, 5)])
    store.cursor().execute("ALTER TABLE trace_times_away RENAME TO trace_times")

    # Act: the retry of the failed write
    store.write([span_batch(5, 5)])

    # Assert: stored by the retry, once
    rows = _span_rows(store)
    assert len(rows) == 10
    assert {count for _, _, count in rows} == {1}
    store.close()


def test_duckdb_store_past_the_window_a_resent_span_is_stored_again(tmp_path: Path) -> None:
    # Arrange: a window of 3 spans, 5 written one by one
    store = DuckDBStore(tmp_path / "t.duckdb", dedupe_window=3)
    for number in range(5):
        store.write([span_batch(number, 1)])

    # Act
    store.write([span_batch(0, 5)])

    # Assert: spans 0 and 1 had left the window (the documented bound), 2..4 had not
    assert [count for _, _, count in _span_rows(store)] == [2, 2, 1, 1, 1]
    store.close()


def test_duckdb_backend_applies_the_dedupe_window_setting(tmp_path: Path) -> None:
    # Arrange
    settings = load_settings(obsvty_db_path=tmp_path / "w.duckdb", duckdb_dedupe_window=2)
    store = duckdb_backend(settings.duckdb()).store
    try:
        for number in range(3):
            store.write([span_batch(number, 1)])

        # Act
        store.write([span_batch(0, 3)])

        # Assert: span 0 had left a window of 2
        counts = store.cursor().execute(
            "SELECT count(*) FROM spans GROUP BY span_id ORDER BY span_id"
        )
        assert counts.fetchall() == [(2,), (1,), (1,)]
    finally:
        store.close()


def _odd_batch(first: int, count: int) -> SpanBatch:
    """Spans with 4-byte span ids (no decoder produces them): the key set cannot hold them."""
    batch = span_batch(first, count)
    batch.span_id[:] = [span_id[4:] for span_id in batch.span_id]
    return batch


def test_duckdb_store_odd_ids_are_still_stored_once(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "t.duckdb")
    store.write([_odd_batch(0, 3), span_batch(0, 3)])

    # Act
    store.write([_odd_batch(0, 4), _odd_batch(3, 1), span_batch(0, 3)])

    # Assert
    rows = _span_rows(store)
    assert len(rows) == 7
    assert {count for _, _, count in rows} == {1}
    # where the trace lies in time: the keyed and the odd rows of the first write, the odd rows
    # of the second (its keyed rows were all dropped)
    assert store.cursor().execute("SELECT count(*) FROM trace_times").fetchone() == (3,)
    store.close()


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
