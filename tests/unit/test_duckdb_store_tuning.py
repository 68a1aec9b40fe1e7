"""DuckDB store tuning: threads, checkpoints by rows (DuckDB's log-size trigger as a bound)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bench.payloads import PayloadFactory

from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb import store as store_module
from obsvty.adapters.storage.duckdb.store import DuckDBStore, default_threads, open_duckdb
from obsvty.domain.batches import SpanBatch

pytestmark = pytest.mark.unit


def test_duckdb_store_checkpoint_threshold_is_a_bound_and_close_still_checkpoints(
    tmp_path: Path,
) -> None:
    # Arrange
    path = tmp_path / "t.duckdb"
    store = DuckDBStore(path)
    body = PayloadFactory(spans_per_request=50).payload(0)

    # Act
    setting = store.cursor().execute("SELECT current_setting('checkpoint_threshold')").fetchone()
    store.write([TRACES.to_domain(TRACES.parse_protobuf(body)).batch])
    wal_before_close = path.with_name(path.name + ".wal").exists()
    store.close()

    # Assert
    assert setting == ("244.1 MiB",)
    assert wal_before_close
    assert not path.with_name(path.name + ".wal").exists()
    con = open_duckdb(path, read_only=True)
    assert con.execute("SELECT count(*) FROM spans").fetchone() == (50,)
    con.close()


def test_duckdb_store_threads_default_leaves_a_core_to_the_receivers(tmp_path: Path) -> None:
    # Arrange
    cores = len(os.sched_getaffinity(0))

    # Act
    default = DuckDBStore(tmp_path / "a.duckdb")
    configured = DuckDBStore(tmp_path / "b.duckdb", threads=3)

    # Assert
    assert default_threads() == max(1, cores - 1)
    assert default.cursor().execute("SELECT current_setting('threads')").fetchone() == (
        max(1, cores - 1),
    )
    assert configured.cursor().execute("SELECT current_setting('threads')").fetchone() == (3,)
    default.close()
    configured.close()


def _spans(count: int, number: int) -> SpanBatch:
    body = PayloadFactory(spans_per_request=count).payload(number)
    batch = TRACES.to_domain(TRACES.parse_protobuf(body)).batch
    assert isinstance(batch, SpanBatch)
    return batch


def test_duckdb_store_rows_reach_checkpoint_rows_checkpointed_after_the_write(
    tmp_path: Path,
) -> None:
    # Arrange
    path = tmp_path / "rows.duckdb"
    wal = path.with_name(path.name + ".wal")
    store = DuckDBStore(path, checkpoint_rows=100)

    # Act
    store.write([_spans(60, 0)])
    wal_after_60 = wal.exists() and wal.stat().st_size > 0
    store.write([_spans(60, 1)])
    wal_after_120 = wal.exists() and wal.stat().st_size > 0
    store.write([_spans(60, 2)])
    wal_after_180 = wal.exists() and wal.stat().st_size > 0

    # Assert: the count starts again after each checkpoint
    assert (wal_after_60, wal_after_120, wal_after_180) == (True, False, True)
    assert store.cursor().execute("SELECT count(*) FROM spans").fetchone() == (180,)
    store.close()


class _CheckpointFails:
    """The store's real connection, except that CHECKPOINT raises as DuckDB would."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.checkpoints = 0

    def execute(self, sql: str, *args: Any) -> Any:
        if sql == "CHECKPOINT":
            self.checkpoints += 1
            raise duckdb.IOException("could not write the checkpoint")
        return self.real.execute(sql, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_duckdb_store_checkpoint_fails_write_kept_and_next_write_retries(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "fails.duckdb", checkpoint_rows=50)
    failing = _CheckpointFails(store._con)
    store._con = failing  # type: ignore[assignment]

    # Act
    with caplog.at_level(logging.WARNING):
        store.write([_spans(50, 0)])
        store.write([_spans(10, 1)])

    # Assert: both writes stored (no error raised), the checkpoint tried after each
    assert failing.checkpoints == 2
    assert "checkpoint failed" in caplog.text
    assert failing.real.execute("SELECT count(*) FROM spans").fetchone() == (60,)
    store._con = failing.real
    store.close()


def test_duckdb_store_checkpoint_over_slow_threshold_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Arrange: every checkpoint counts as slow
    monkeypatch.setattr(store_module, "SLOW_CHECKPOINT_SECONDS", 0.0)
    store = DuckDBStore(tmp_path / "slow.duckdb", checkpoint_rows=50)

    # Act
    with caplog.at_level(logging.WARNING):
        store.write([_spans(10, 0)])
        quiet = caplog.text
        store.write([_spans(50, 1)])

    # Assert
    assert "held up writes" not in quiet
    assert "DuckDB checkpoint held up writes for" in caplog.text
    store.close()


def test_duckdb_store_checkpoint_observers_get_each_checkpoints_seconds(tmp_path: Path) -> None:
    # Arrange
    store = DuckDBStore(tmp_path / "observed.duckdb", checkpoint_rows=50)
    seen: list[float] = []
    store.observe_checkpoints(seen.append)

    # Act: the first write stays under the rows of a checkpoint, the second crosses them
    store.write([_spans(10, 0)])
    after_first = list(seen)
    store.write([_spans(50, 1)])
    store.close()  # the checkpoint on close is not a pause of the write path

    # Assert
    assert after_first == []
    assert len(seen) == 1
    assert 0.0 < seen[0] < 60.0
