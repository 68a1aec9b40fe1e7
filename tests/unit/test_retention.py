from __future__ import annotations

import itertools
import threading
import time
from pathlib import Path

import pytest

from obsvty.adapters.storage.duckdb.retention import DuckDBRetention
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.application import retention as retention_module
from obsvty.application.retention import RetentionService
from tests.support.duckdb_rows import fill_spans
from tests.support.mongodb_data import log_batch, metric_batch, span_batch

pytestmark = pytest.mark.unit

NS = 1_000_000_000
NOW = 1_800_000_000.0
DAY_NS = 86_400 * NS


def _spans(count: int, start_ns: int, step_ns: int, trace: int = 1):  # type: ignore[no-untyped-def]
    b = span_batch(count, trace=trace)
    b.start_time_unix_nano = [start_ns + i * step_ns for i in range(count)]
    b.end_time_unix_nano = [t + 1 for t in b.start_time_unix_nano]
    return b


def _count(store: DuckDBStore, table: str) -> int:
    row = store.cursor().execute(f"SELECT count(*) FROM {table}").fetchone()  # noqa: S608
    assert row is not None
    return int(row[0])


def test_retention_age_deletes_old_rows_in_chunks_of_every_table(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "r.duckdb")
    now_ns = int(NOW * NS)
    old, new = now_ns - 10 * DAY_NS, now_ns - 3600 * NS
    logs = log_batch(3)  # the second record has no time: it is aged by its observed time
    logs.time_unix_nano = [old, 0, new]
    logs.observed_time_unix_nano = [old, old, new]
    metrics = metric_batch()
    metrics.time_unix_nano = [old, old, new, new]
    store.write([_spans(5, old, 1, trace=1), _spans(3, new, 1, trace=2), logs, metrics])
    service = RetentionService(
        DuckDBRetention(store, reclaim_wait=0),
        max_age_seconds=86_400,
        max_bytes=None,
        chunk_rows=2,
        pause=0,
        clock=lambda: NOW,
    )

    # Act
    deleted = service.run_once()

    # Assert
    assert deleted == {"spans": 5, "logs": 2, "metric_points": 2}
    assert (_count(store, "spans"), _count(store, "logs"), _count(store, "metric_points")) == (
        3,
        1,
        2,
    )
    snapshot = service.snapshot()
    assert snapshot["deleted_rows"] == deleted
    assert snapshot["runs"] == 1
    assert snapshot["last_error"] is None
    assert service.health().ready
    store.close()


def test_duckdb_retention_age_keeps_late_rows_until_rows_stored_before_them_go(
    tmp_path: Path,
) -> None:
    # Arrange, in the order stored: old rows with 500 from a clock running ahead among them,
    # young rows, then rows that started before the cutoff but arrived late
    store = DuckDBStore(tmp_path / "r.duckdb")
    con = store.cursor()
    fill_spans(con, 2_500)
    fill_spans(con, 500, first=50_000)
    fill_spans(con, 2_500, first=2_500)
    fill_spans(con, 3_000, first=10_000)
    fill_spans(con, 2_000, first=6_000)
    retention = DuckDBRetention(store, reclaim_wait=0)

    # Act
    first = retention.delete_before("spans", 8_000 * NS, limit=100_000)
    late_kept = _count(store, "spans")
    second = retention.delete_before("spans", 15_000 * NS, limit=100_000)

    # Assert: the old rows went around the few ahead; the late ones waited for the young ones
    assert first == 5_000
    assert late_kept == 5_500
    assert second == 5_000
    left = con.execute("SELECT min(start_time_unix_nano), count(*) FROM spans").fetchone()
    assert left == (50_000 * NS, 500)
    store.close()


def test_retention_size_deletes_oldest_first_until_under_limit(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 300_000)
    retention = DuckDBRetention(store, reclaim_wait=0)
    retention.reclaim()
    full = retention.used_bytes()
    service = RetentionService(
        retention, max_age_seconds=None, max_bytes=full * 2 // 3, pause=0, clock=lambda: NOW
    )

    # Act
    deleted = service.run_once()

    # Assert
    assert retention.used_bytes() <= full * 2 // 3
    assert 0 < deleted["spans"] < 300_000
    oldest = store.cursor().execute("SELECT min(start_time_unix_nano) FROM spans").fetchone()
    assert oldest is not None
    assert oldest[0] == deleted["spans"] * NS  # exactly the oldest rows went
    store.close()


def test_retention_size_deletes_stored_first_whatever_their_start_time(tmp_path: Path) -> None:
    # Arrange: spans that started 1,000,000 s ago stored first, then spans that started earlier
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 200_000, first=1_000_000)
    fill_spans(store.cursor(), 200_000)
    retention = DuckDBRetention(store, reclaim_wait=0)
    retention.reclaim()
    full = retention.used_bytes()
    service = RetentionService(retention, max_age_seconds=None, max_bytes=full * 3 // 4, pause=0)

    # Act
    deleted = service.run_once()

    # Assert: the spans stored first went, and only they; the late ones all stayed
    assert retention.used_bytes() <= full * 3 // 4
    assert 0 < deleted["spans"] < 200_000
    kept = (
        store.cursor()
        .execute(
            "SELECT min(start_time_unix_nano) FILTER (WHERE start_time_unix_nano >= 1e15), "
            "count(*) FILTER (WHERE start_time_unix_nano < 1e15) FROM spans"
        )
        .fetchone()
    )
    assert kept == ((1_000_000 + deleted["spans"]) * NS, 200_000)
    store.close()


def test_retention_size_stops_when_deletes_free_nothing(tmp_path: Path) -> None:
    # Arrange: one small row group, which DuckDB does not give back until it is all deleted
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 20_000)
    retention = DuckDBRetention(store, reclaim_wait=0)
    retention.reclaim()
    service = RetentionService(
        retention, max_age_seconds=None, max_bytes=retention.used_bytes() - 1, pause=0
    )

    # Act
    deleted = service.run_once()

    # Assert: one step deleted the share over the low-water mark, saw no space come back, and
    # kept the rest rather than deleting step after step
    assert 0 < deleted["spans"] < 20_000 * 0.2
    assert _count(store, "spans") == 20_000 - deleted["spans"]
    store.close()


def _delete_stored_share(retention: DuckDBRetention, share: float, limit: int) -> int:
    """Delete the ``share`` of spans stored first, chunk by chunk, as the service does."""
    bound = retention.stored_bound("spans", share)
    assert bound is not None
    deleted = 0
    while chunk := retention.delete_stored_through("spans", bound, limit=limit):
        deleted += chunk
    return deleted


def test_duckdb_retention_stored_share_takes_its_traces_time_ranges(tmp_path: Path) -> None:
    # Arrange: three writes of two traces each; the first third of the spans is the first write
    store = DuckDBStore(tmp_path / "r.duckdb")
    for trace in (1, 3, 5):
        store.write([_spans(4, 0, 1, trace=trace), _spans(4, 0, 1, trace=trace + 1)])
    retention = DuckDBRetention(store, reclaim_wait=0)

    # Act
    deleted = _delete_stored_share(retention, 1 / 3, limit=100)

    # Assert
    con = store.cursor()
    assert deleted == 8
    spans = con.execute("SELECT DISTINCT trace_id FROM spans ORDER BY 1").fetchall()
    ranges = con.execute("SELECT DISTINCT trace_id FROM trace_times ORDER BY 1").fetchall()
    assert spans == ranges
    assert len(spans) == 4
    assert retention.stored_bound("logs", 0.5) is None  # nothing stored: no bound
    store.close()


def test_retention_disabled_and_empty_store_do_nothing(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "r.duckdb")
    retention = DuckDBRetention(store, reclaim_wait=0)
    off = RetentionService(retention, max_age_seconds=None, max_bytes=None)
    tiny = RetentionService(retention, max_age_seconds=None, max_bytes=1, pause=0)

    # Act
    off.start()  # not enabled: no thread
    result = tiny.run_once()

    # Assert
    assert not off.enabled
    assert result == {"spans": 0, "logs": 0, "metric_points": 0}
    assert retention.time_range("spans") is None
    store.close()


def test_retention_thread_runs_and_stops(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "r.duckdb")
    store.write([_spans(3, 0, 1)])  # 1970: older than any age limit
    service = RetentionService(
        DuckDBRetention(store, reclaim_wait=0), max_age_seconds=60, max_bytes=None, interval=0.01
    )

    # Act
    service.start()
    deadline = time.monotonic() + 30
    while service.deleted_totals()["spans"] < 3 and time.monotonic() < deadline:
        time.sleep(0.01)
    service.stop(5)

    # Assert
    assert service.deleted_totals()["spans"] == 3
    assert _count(store, "spans") == 0
    store.close()


def test_retention_thread_checks_size_between_age_passes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: an age pass once an hour, the size checked far more often; the test reads the
    # store through a retention cursor of its own (one cursor serves one thread at a time)
    monkeypatch.setattr(retention_module, "SIZE_CHECK_SECONDS", 0.01)
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 300_000)
    mine = DuckDBRetention(store, reclaim_wait=0)
    mine.reclaim()
    limit = mine.used_bytes() * 2 // 3
    service = RetentionService(
        DuckDBRetention(store, reclaim_wait=0),
        max_age_seconds=86_400,
        max_bytes=10**12,
        interval=3600,
        pause=0,
    )
    service.start()
    deadline = time.monotonic() + 30
    while service.snapshot()["runs"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)  # the first pass, age and size, found nothing to delete

    # Act
    service.max_bytes = limit
    while service.deleted_totals()["spans"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    service.stop(30)

    # Assert
    assert service.deleted_totals()["spans"] > 0
    assert mine.used_bytes() <= limit
    store.close()


class _Busy(DuckDBRetention):
    """The store as it answers while the flusher's write is under way, a few times over."""

    def __init__(self, store: DuckDBStore, busy: int) -> None:
        super().__init__(store, reclaim_wait=0)
        self.busy = busy

    def reclaim(self) -> bool:
        if self.busy:
            self.busy -= 1
            return False
        return super().reclaim()


def test_retention_reclaim_busy_store_is_tried_again(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 300_000)
    retention = _Busy(store, busy=0)
    retention.reclaim()
    full = retention.used_bytes()
    retention.busy = 3
    service = RetentionService(retention, max_age_seconds=None, max_bytes=full * 2 // 3, pause=0)

    # Act
    service.run_once()

    # Assert: the space came back in the same pass, not one pass later
    assert retention.busy == 0
    assert retention.used_bytes() <= full * 2 // 3
    store.close()


class _SlowChunks(DuckDBRetention):
    """The real store, each delete of spans made to take ``seconds`` longer; each such chunk's
    start, end and rows deleted are kept."""

    def __init__(self, store: DuckDBStore, seconds: float) -> None:
        super().__init__(store, reclaim_wait=0)
        self.seconds = seconds
        self.chunks: list[tuple[float, float, int]] = []

    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        if table != "spans":
            return super().delete_before(table, cutoff_unix_nano, limit)
        began = time.monotonic()
        time.sleep(self.seconds)
        deleted = super().delete_before(table, cutoff_unix_nano, limit)
        self.chunks.append((began, time.monotonic(), deleted))
        return deleted


def test_retention_chunked_deletes_rest_as_long_as_each_chunk_took(tmp_path: Path) -> None:
    # Arrange: old spans, each delete slowed to 50 ms; no pause of its own
    store = DuckDBStore(tmp_path / "r.duckdb")
    store.write([_spans(300, 0, NS)])
    retention = _SlowChunks(store, seconds=0.05)
    service = RetentionService(
        retention, max_age_seconds=60, max_bytes=None, chunk_rows=100, pause=0, clock=lambda: NOW
    )

    # Act
    service.run_once()

    # Assert: after each chunk that deleted rows, the next began at least as long after it
    # ended as it took (DELETE_DUTY: half the time deleting); the last found none
    chunks = retention.chunks
    assert service.deleted_totals()["spans"] == 300
    assert len(chunks) >= 2
    assert [deleted > 0 for *_, deleted in chunks] == [True] * (len(chunks) - 1) + [False]
    for (began, ended, _), (next_began, *_) in itertools.pairwise(chunks):
        assert next_began - ended >= ended - began
    store.close()


class _Exploding(DuckDBRetention):
    def delete_before(self, table: str, cutoff_unix_nano: int, limit: int) -> int:
        raise RuntimeError("disk gone")


def test_retention_failed_pass_is_reported_not_fatal(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "r.duckdb")
    service = RetentionService(_Exploding(store), max_age_seconds=60, max_bytes=None)

    # Act
    with pytest.raises(RuntimeError):
        service.run_once()
    health = service.health()

    # Assert
    assert health.ready  # retention never makes obsvty unready
    assert health.reason == "last retention pass failed: disk gone"
    store.close()


def _row_groups(store: DuckDBStore) -> list[int]:
    rows = store.cursor().execute(
        "SELECT max(start + count) FROM pragma_storage_info('spans') WHERE column_id = 0 "
        "GROUP BY row_group_id ORDER BY row_group_id"
    )
    return [int(n) for (n,) in rows.fetchall()]


def test_duckdb_retention_reclaim_while_writing_waits_for_the_writes_checkpoint(
    tmp_path: Path,
) -> None:
    # Arrange: the store checkpoints every 1,000 rows; 600 are written, more are coming
    store = DuckDBStore(tmp_path / "r.duckdb", checkpoint_rows=1_000)
    store.write([_spans(600, 0, 1)])
    retention = DuckDBRetention(store, reclaim_wait=30)
    writer = threading.Timer(0.2, lambda: store.write([_spans(600, 0, 1, trace=2)]))

    # Act
    writer.start()
    reclaimed = retention.reclaim()
    stored_by_then = _count(store, "spans")
    writer.join()

    # Assert: the reclaim came with the checkpoint of the write that followed, not before it
    assert reclaimed
    assert stored_by_then == 1_200
    assert _row_groups(store) == [1_200]
    store.close()


def test_duckdb_retention_reclaim_without_writes_checkpoints_itself(tmp_path: Path) -> None:
    # Arrange: a row group of 300 old rows (checkpointed), 200 young rows after it, then no
    # more writes; the old rows are deleted
    store = DuckDBStore(tmp_path / "r.duckdb", checkpoint_rows=300)
    store.write([_spans(300, 0, NS)])
    store.write([_spans(200, 1_000 * NS, NS, trace=2)])
    retention = DuckDBRetention(store, reclaim_wait=0.05)
    while retention.delete_before("spans", 300 * NS, 1_000):
        pass
    observed: list[float] = []
    store.observe_checkpoints(observed.append)

    # Act
    reclaimed = retention.reclaim()

    # Assert: a checkpoint ran all the same: the emptied row group is gone, and the store's
    # observers heard of it (it is a pause of the write path like the writes' own)
    assert reclaimed
    assert _row_groups(store) == [200]
    assert len(observed) == 1
    store.close()


def test_duckdb_retention_size_share_ends_where_a_row_group_ends(tmp_path: Path) -> None:
    # Arrange: three row groups of 122,880 rows and a last of 31,360
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 400_000)
    retention = DuckDBRetention(store, reclaim_wait=0)

    # Act: a third of the rows is 133,333: the first row group ends closest below it
    deleted = _delete_stored_share(retention, 1 / 3, limit=50_000)
    retention.reclaim()

    # Assert: a whole row group went, and no row group was left part empty to be rewritten
    assert deleted == 122_880
    assert _row_groups(store) == [122_880, 122_880, 31_360]
    store.close()


def test_duckdb_retention_age_in_a_small_table_deletes_exactly(tmp_path: Path) -> None:
    # Arrange: 300,000 rows, 1 s apart; 100,000 of them are older than the cutoff, less than
    # half of the first row group (122,880): rounding to it would keep most of them
    store = DuckDBStore(tmp_path / "r.duckdb")
    fill_spans(store.cursor(), 300_000)
    retention = DuckDBRetention(store, reclaim_wait=0)

    # Act
    deleted = 0
    while chunk := retention.delete_before("spans", 100_000 * NS, limit=40_000):
        deleted += chunk

    # Assert
    assert deleted == 100_000
    assert _count(store, "spans") == 200_000
    store.close()
