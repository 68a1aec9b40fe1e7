"""The cloud sync through a faulty network: a TCP proxy between the sync and the cloud (the
session's secantusdb) delays, hangs and drops connections while the sync's own thread runs. The
sync keeps going through delays, its breaker opens on hangs and drops and closes again once the
network heals, and in the end the cloud holds exactly the local records."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.duckdb.sync import DuckDBSyncSource, record_from_row
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.store import INGEST_ID, MongoSettings, connect
from obsvty.adapters.storage.mongodb.sync import MongoSyncTarget
from obsvty.application.sync import BreakerState, CircuitBreaker, SyncService
from tests.support.mongodb import real_mongodb_uri, scratch_database
from tests.support.mongodb_data import log_batch, span_batch
from tests.support.tcp_proxy import tcp_fault_proxy

pytestmark = pytest.mark.integration


def _wait_for(condition: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    """Wait for a state (not a time): the deadline only stops a test that would hang."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def _local_documents(source: DuckDBSyncSource, table: str) -> dict[Any, dict[str, Any]]:
    con = source._con
    rows = con.execute(f"SELECT * EXCLUDE (sync_seq) FROM {table}").fetchall()  # noqa: S608
    names = [d[0] for d in con.description or ()]
    out = {}
    for r in rows:
        d = docs.document_from_record(
            table, record_from_row(table, dict(zip(names, r, strict=True)))
        )
        d["ts"] = d["ts"].replace(microsecond=d["ts"].microsecond // 1000 * 1000)  # BSON: ms
        out[d["_id"]] = d
    return out


def test_sync_through_delays_hangs_and_drops_ends_with_identical_records(
    tmp_path: Path, mongodb_uri: str
) -> None:
    if real_mongodb_uri("cloud") or real_mongodb_uri():
        pytest.skip("proxies one loopback secantusdb server")
    # Arrange: local DuckDB -> sync -> proxy -> cloud
    address = urlsplit(mongodb_uri)
    store = DuckDBStore(tmp_path / "local.duckdb")
    source = DuckDBSyncSource(store.cursor())
    with (
        scratch_database(mongodb_uri) as cloud_db,
        tcp_fault_proxy(address.hostname or "127.0.0.1", address.port or 27017) as proxy,
    ):
        settings = MongoSettings(
            f"mongodb://127.0.0.1:{proxy.port}/?directConnection=true", cloud_db, timeout_ms=400
        )
        target = MongoSyncTarget(settings, client=connect(settings, heartbeatFrequencyMS=500))
        service = SyncService(
            source,
            target,
            batch_size=20,
            interval=0.02,
            base_backoff=0.01,
            max_backoff=0.05,
            breaker=CircuitBreaker(3, 0.2),
        )
        phases = iter(range(100))

        def write() -> None:
            n = next(phases)
            store.write([log_batch(15, service=f"phase{n}"), span_batch(5, trace=n + 1)])
            service.wake()

        try:
            service.start()

            # Act 1: a slow network (every chunk held 20 ms): slower, but nothing fails
            proxy.delay(0.02)
            write()
            _wait_for(lambda: source.backlog() == 0, "the backlog to drain through delays")
            assert service.status().breaker_opened == 0

            # Act 2: a cloud that stops answering: rounds time out, the breaker opens
            proxy.hang()
            write()
            _wait_for(lambda: service.breaker.opened_count >= 1, "the breaker to open on a hang")
            assert source.backlog() > 0

            # Act 3: the network heals: the backlog drains, the breaker closes
            proxy.heal()
            _wait_for(lambda: source.backlog() == 0, "the backlog to drain after the hang")
            _wait_for(lambda: service.breaker.state is BreakerState.CLOSED, "a closed breaker")

            # Act 4: connections dropped (open ones cut, new ones refused), then healed
            opened = service.breaker.opened_count
            write()
            proxy.drop()
            write()
            _wait_for(lambda: service.breaker.opened_count > opened, "the breaker to reopen")
            proxy.heal()
            _wait_for(lambda: source.backlog() == 0, "the backlog to drain after the drops")
        finally:
            service.stop(10)

        # Assert: local and cloud hold exactly the same records, field by field
        check = MongoSyncTarget(MongoSettings(mongodb_uri, cloud_db, timeout_ms=5000))
        for table in (docs.LOGS, docs.SPANS):
            local = _local_documents(source, table)
            cloud = {d["_id"]: d for d in check.db[table].find({}, {INGEST_ID: 0})}
            assert len(local) > 0
            assert cloud == local, table
        check.close()
        assert proxy.connections > 1  # the sync reconnected after the faults
    store.close()
