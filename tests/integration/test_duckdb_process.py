"""The DuckDB store in a process of its own: start-up errors, failures crossing the pipe, a child
that dies, a parent that dies, signals, closing. (What it stores and answers is the store and
query contract suites' job: both run against it.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import httpx
import psutil
import pytest

from obsvty.adapters.storage.duckdb_process import (
    DuckDBProcessConfig,
    DuckDBProcessStore,
    ProcessMemory,
    ProcessQuery,
    ProcessRetention,
    _portable,
)
from obsvty.adapters.storage.duckdb_store import DuckDBStore
from obsvty.ports.store import StoreError, StoreLockedError
from tests.support.records import span_batch
from tests.support.reliability import SPANS_PER_REQUEST, otlp_span_request, wait_until
from tests.support.server import running_obsvty
from tests.support.telemetry_dataset import SPANS

pytestmark = pytest.mark.integration


@pytest.fixture
def store(tmp_path: Path) -> Iterator[DuckDBProcessStore]:
    process_store = DuckDBProcessStore(DuckDBProcessConfig(str(tmp_path / "p.duckdb"), threads=1))
    try:
        yield process_store
    finally:
        process_store.close()


def _count(store: DuckDBProcessStore) -> int:
    row = store.cursor().execute("SELECT count(*) FROM spans").fetchone()
    assert row is not None
    return int(row[0])


def _gone(pid: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                return True
        except psutil.NoSuchProcess:
            return True
        time.sleep(0.05)
    return False


def test_duckdb_process_file_open_elsewhere_raises_store_locked_error(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "locked.duckdb"
    holder = DuckDBStore(path)

    # Act / Assert
    try:
        with pytest.raises(StoreLockedError, match="already open by another process"):
            DuckDBProcessStore(DuckDBProcessConfig(str(path)))
    finally:
        holder.close()


def test_duckdb_process_write_then_close_file_holds_rows_and_is_released(tmp_path: Path) -> None:
    # Arrange
    path = tmp_path / "w.duckdb"
    store = DuckDBProcessStore(DuckDBProcessConfig(str(path)))
    store.write([span_batch(SPANS)])

    # Act
    store.close()

    # Assert: the child checkpointed and let go of the file
    con = duckdb.connect(str(path), read_only=True)
    assert con.execute("SELECT count(*) FROM spans").fetchone() == (len(SPANS),)
    con.close()
    assert not store.alive
    with pytest.raises(StoreError, match="closed"):
        store.write([span_batch(SPANS)])


def test_duckdb_process_sql_error_raises_in_the_caller(store: DuckDBProcessStore) -> None:
    # Act / Assert
    with pytest.raises(duckdb.CatalogException, match="no_such_table"):
        store.cursor().execute("SELECT * FROM no_such_table")
    assert _count(store) == 0  # and the child keeps answering


def test_duckdb_process_method_not_offered_is_refused(store: DuckDBProcessStore) -> None:
    # Act / Assert
    with pytest.raises(StoreError, match=r"no store\.cursor"):
        store.call("store", "cursor")
    with pytest.raises(StoreError, match=r"no sync\.backlog"):
        store.call("sync", "backlog")  # not opened without DuckDBProcessConfig(sync=True)


def test_duckdb_process_child_killed_next_call_starts_a_new_one_committed_data_kept(
    store: DuckDBProcessStore,
) -> None:
    # Arrange
    store.RESTART_INTERVAL_S = 0.0
    store.write([span_batch(SPANS)])
    first_pid = store.pid

    # Act: the child dies (the OOM killer's choice would be this process)
    os.kill(first_pid, signal.SIGKILL)
    assert wait_until(lambda: not store.alive)  # (a write in flight now would fail: retried)
    later = span_batch(SPANS)
    later.span_id[:] = [bytes([9]) * 7 + bytes([i + 1]) for i in range(len(SPANS))]
    store.write([later])

    # Assert
    assert store.pid != first_pid
    assert store.restarts == 1
    assert store.alive
    assert _count(store) == 2 * len(SPANS)
    assert ProcessMemory(store)() is not None


def test_duckdb_process_child_killed_within_restart_interval_calls_raise_store_error(
    store: DuckDBProcessStore,
) -> None:
    # Arrange
    store.RESTART_INTERVAL_S = 3600.0
    memory = ProcessMemory(store)
    assert memory() is not None

    # Act
    os.kill(store.pid, signal.SIGKILL)
    assert _gone(store.pid)

    # Assert
    assert wait_until(lambda: not store.alive)
    with pytest.raises(StoreError, match="DuckDB process exited"):
        store.write([span_batch(SPANS)])
    with pytest.raises(StoreError, match="DuckDB process exited"):
        ProcessQuery(store).stats()
    assert memory() is None
    assert store.restarts == 0


def test_duckdb_process_sigint_and_sigterm_ignored_parent_still_in_charge(
    store: DuckDBProcessStore,
) -> None:
    # Act: what a terminal's Ctrl-C or a process-group SIGTERM sends to every process
    os.kill(store.pid, signal.SIGINT)
    os.kill(store.pid, signal.SIGTERM)
    time.sleep(0.2)
    store.write([span_batch(SPANS)])

    # Assert
    assert store.alive
    assert _count(store) == len(SPANS)


def test_duckdb_process_parent_killed_child_exits_and_file_reopens(tmp_path: Path) -> None:
    # Arrange: a parent process that owns a DuckDB process, then dies by SIGKILL
    path = tmp_path / "orphan.duckdb"
    script = (
        "import sys, time\n"
        "from obsvty.adapters.storage.duckdb_process import DuckDBProcessConfig, "
        "DuckDBProcessStore\n"
        f"store = DuckDBProcessStore(DuckDBProcessConfig({str(path)!r}))\n"
        "print(store.pid, flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())

    # Act
    parent.kill()
    parent.wait(10)

    # Assert: the child died with it, and a new obsvty can open the file
    assert _gone(child_pid)
    reopened = DuckDBProcessStore(DuckDBProcessConfig(str(path)))
    assert _count(reopened) == 0
    reopened.close()


def test_duckdb_process_queries_during_writes_all_answered(store: DuckDBProcessStore) -> None:
    # Arrange
    errors: list[BaseException] = []
    counts: list[int] = []

    def read() -> None:
        try:
            for _ in range(20):
                counts.append(_count(store))
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]

    # Act
    for reader in readers:
        reader.start()
    for n in range(20):
        batch = span_batch(SPANS)
        batch.span_id[:] = [bytes([n + 1]) * 7 + bytes([i + 1]) for i in range(len(SPANS))]
        store.write([batch])
    for reader in readers:
        reader.join()

    # Assert: every read saw whole commits only
    assert errors == []
    assert len(counts) == 80
    assert all(c % len(SPANS) == 0 for c in counts)
    assert _count(store) == 20 * len(SPANS)


def test_duckdb_process_retention_runs_in_the_child(store: DuckDBProcessStore) -> None:
    # Arrange
    store.write([span_batch(SPANS)])
    retention = ProcessRetention(store)
    oldest, newest = retention.time_range("spans") or (0, 0)

    # Act
    deleted = retention.delete_before("spans", newest, limit=1000)

    # Assert
    assert oldest <= newest
    assert deleted == len(SPANS) - sum(s.start_time_unix_nano == newest for s in SPANS)
    assert retention.reclaim() is True  # nothing else writing: the checkpoint runs
    assert retention.used_bytes() > 0


class _Unpicklable(Exception):
    def __init__(self, a: int, b: int) -> None:  # pickling calls __init__ with args=(text,)
        super().__init__(f"{a}/{b}")


@pytest.mark.unit
def test_portable_exception_that_cannot_cross_becomes_store_error() -> None:
    # Act
    kept = _portable(ValueError("bad query"))
    replaced = _portable(_Unpicklable(1, 2))

    # Assert
    assert isinstance(kept, ValueError)
    assert isinstance(replaced, StoreError)
    assert str(replaced) == "_Unpicklable: 1/2"


def test_obsvty_with_duckdb_process_stores_and_answers_queries(tmp_path: Path) -> None:
    # Arrange
    with running_obsvty(tmp_path, duckdb_process=True) as server:
        assert isinstance(server.app.store, DuckDBProcessStore)

        # Act
        posted = httpx.post(
            f"{server.http_url}/v1/traces",
            content=otlp_span_request(0),
            headers={"Content-Type": "application/x-protobuf"},
        )
        server.flush()
        services = httpx.get(f"{server.api_url}/api/v1/services").json()
        stored = _count(server.app.store)

    # Assert
    assert posted.status_code == 200
    assert services["services"] == ["reliability"]
    assert stored == SPANS_PER_REQUEST
