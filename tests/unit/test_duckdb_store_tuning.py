from __future__ import annotations

import os
from pathlib import Path

import pytest
from bench.payloads import PayloadFactory

from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb_store import DuckDBStore, default_threads, open_duckdb

pytestmark = pytest.mark.unit


def test_duckdb_store_checkpoint_threshold_is_raised_and_close_still_checkpoints(
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
    assert setting == ("122.0 MiB",)
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
