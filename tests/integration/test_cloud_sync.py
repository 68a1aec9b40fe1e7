"""The cloud sync from a local DuckDB store to a MongoDB-wire cloud (secantusdb or
MONGODB_CLOUD_URI): parity with the MongoDB store, resumable cursor, dead letters, crashes."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.duckdb.sync import DuckDBSyncSource, record_from_row
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.store import INGEST_ID, MongoDBStore, MongoSettings, connect
from obsvty.adapters.storage.mongodb.sync import MongoSyncSource, MongoSyncTarget
from obsvty.application.sync import CircuitBreaker, SyncService
from obsvty.domain.batches import LogBatch
from obsvty.ports.sync import TargetUnavailableError
from tests.support.mongodb import SecantusServer, real_mongodb_uri, scratch_database
from tests.support.mongodb_data import log_batch, metric_batch, span_batch

pytestmark = pytest.mark.integration


@pytest.fixture
def cloud(mongodb_uri: str) -> Iterator[MongoSettings]:
    uri = real_mongodb_uri("cloud") or mongodb_uri
    with scratch_database(uri) as name:
        yield MongoSettings(uri=uri, database=name, timeout_ms=3000)


@pytest.fixture
def local(tmp_path: Path) -> Iterator[tuple[DuckDBStore, DuckDBSyncSource]]:
    store = DuckDBStore(tmp_path / "local.duckdb")
    source = DuckDBSyncSource(store.cursor())
    yield store, source
    store.close()


def _cloud_docs(target: MongoSyncTarget, name: str) -> dict[Any, dict[str, Any]]:
    return {d["_id"]: d for d in target.db[name].find({}, {INGEST_ID: 0})}


def test_sync_from_duckdb_stores_the_documents_the_mongodb_store_would(
    local: tuple[DuckDBStore, DuckDBSyncSource], cloud: MongoSettings, mongodb_database: str
) -> None:
    # Arrange: the same batches into DuckDB (to be synced) and straight into a MongoDB store,
    # with uint64 counts beyond int64 (Decimal128 in MongoDB, UBIGINT in DuckDB)
    store, source = local
    metrics = metric_batch()
    metrics.bucket_counts[2] = [1, 2**63, 1]
    metrics.count[3] = 2**64 - 1
    batches = [span_batch(3), log_batch(3), metrics]
    store.write(batches)
    direct = MongoDBStore(MongoSettings(cloud.uri, mongodb_database))
    direct.write(batches)
    target = MongoSyncTarget(cloud)
    service = SyncService(source, target, batch_size=2)
    # Act
    moved = service.sync_until_idle()
    # Assert
    assert moved == 10
    for name in docs.COLLECTIONS:
        expected = {d["_id"]: d for d in direct.collection(name).find({}, {INGEST_ID: 0})}
        assert _cloud_docs(target, name) == expected
    assert service.status().backlog == 0
    direct.close()
    target.close()


def test_sync_restarted_resumes_after_its_cursor_without_resending(
    tmp_path: Path, cloud: MongoSettings
) -> None:
    # Arrange: 5 logs, one round of 2 synced, then the process stops
    path = tmp_path / "local.duckdb"
    store = DuckDBStore(path)
    source = DuckDBSyncSource(store.cursor())
    store.write([log_batch(3), log_batch(2, service="other")])
    SyncService(source, MongoSyncTarget(cloud), batch_size=2).run_once()
    store.close()
    # Act: a new process on the same file
    store = DuckDBStore(path)
    source = DuckDBSyncSource(store.cursor())
    target = MongoSyncTarget(cloud)
    backlog_after_restart = source.backlog()
    moved = SyncService(source, target, batch_size=2).sync_until_idle()
    # Assert
    assert backlog_after_restart == 3
    assert moved == 3
    assert target.db[docs.LOGS].count_documents({}) == 5
    store.close()
    target.close()


def test_sync_record_refused_for_good_is_dead_lettered_and_does_not_block_the_rest(
    local: tuple[DuckDBStore, DuckDBSyncSource], cloud: MongoSettings
) -> None:
    # Arrange: one log record larger than a BSON document can be, between two normal ones
    store, source = local
    huge = log_batch(1)
    huge.body[0] = "x" * (17 * 1024 * 1024)
    store.write([log_batch(1)])
    store.write([huge])
    store.write([log_batch(2, service="after")])
    target = MongoSyncTarget(cloud)
    service = SyncService(source, target)
    # Act
    service.sync_until_idle()
    retried = service.retry_dead_letters()
    letters = source.dead_letters()
    # Assert
    assert target.db[docs.LOGS].count_documents({}) == 3
    assert retried.resent == 0
    assert retried.still_failing == 1
    assert len(letters) == 1
    assert letters[0].collection == docs.LOGS
    assert "too large" in letters[0].error
    assert letters[0].attempts == 2
    assert service.status().dead_letters == 1
    assert service.purge_dead_letters() == 1
    assert source.dead_letter_count() == 0
    target.close()


def test_sync_to_unreachable_cloud_raises_unavailable_and_keeps_the_cursor(
    local: tuple[DuckDBStore, DuckDBSyncSource],
) -> None:
    # Arrange
    store, source = local
    store.write([log_batch(2)])
    unreachable = MongoSettings("mongodb://127.0.0.1:1/?directConnection=true", "x", timeout_ms=200)
    service = SyncService(source, MongoSyncTarget(unreachable))
    # Act / Assert
    with pytest.raises(TargetUnavailableError):
        service.run_once()
    assert source.backlog() == 2


def test_sync_from_local_mongodb_reads_up_to_the_watermark(
    cloud: MongoSettings, mongodb_uri: str, mongodb_database: str
) -> None:
    # Arrange
    local_store = MongoDBStore(MongoSettings(mongodb_uri, mongodb_database), publish_watermark=True)
    source = MongoSyncSource(local_store.db)
    local_store.write([span_batch(3), log_batch(2), metric_batch()])
    target = MongoSyncTarget(cloud)
    # Act
    moved = SyncService(source, target, batch_size=2).sync_until_idle()
    local_store.write([log_batch(1, service="later")])
    moved_later = SyncService(source, target).sync_until_idle()
    # Assert
    assert (moved, moved_later) == (9, 1)
    for name in docs.COLLECTIONS:
        local_ids = {d["_id"] for d in local_store.collection(name).find({}, {"_id": 1})}
        assert set(_cloud_docs(target, name)) == local_ids
    local_store.close()
    target.close()


def _wait_for(condition: Any, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.05)


def test_sync_cloud_killed_and_restarted_mid_sync_ends_with_identical_records(
    local: tuple[DuckDBStore, DuckDBSyncSource], tmp_path: Path
) -> None:
    if real_mongodb_uri("cloud"):
        pytest.skip("kills the cloud server: only against secantusdb")
    # Arrange: a cloud server of its own, a local store with 600 records
    server = SecantusServer(tmp_path / "cloud-data")
    server.start()
    store, source = local
    for i in range(6):
        batch = LogBatch.concat([log_batch(50, service=f"s{i}"), log_batch(50, service=f"t{i}")])
        batch.body = [f"record {i}-{j}" for j in range(len(batch))]
        store.write([batch])
    settings = MongoSettings(server.uri, "cloud", timeout_ms=1000)
    target = MongoSyncTarget(settings, client=connect(settings, heartbeatFrequencyMS=500))
    service = SyncService(
        source,
        target,
        batch_size=40,
        interval=0.05,
        base_backoff=0.05,
        max_backoff=0.2,
        breaker=CircuitBreaker(3, 0.2),
    )
    try:
        service.start()
        _wait_for(lambda: service.status().synced > 0, "the first synced records")
        # Act: crash the cloud mid-sync, then bring it back on the same data
        server.kill()
        _wait_for(lambda: service.status().consecutive_failures > 0, "a failed round")
        server.start()
        _wait_for(lambda: source.backlog() == 0, "the backlog to drain")
        service.stop(10)
        # Assert: local and cloud hold exactly the same records
        local_ids = {d["_id"] for d in _local_documents(source)}
        check = MongoSyncTarget(settings)
        cloud_ids = set(_cloud_docs(check, docs.LOGS))
        check.close()
        assert len(local_ids) == 600
        assert cloud_ids == local_ids
    finally:
        service.stop(10)
        server.stop()


def _local_documents(source: DuckDBSyncSource) -> list[dict[str, Any]]:
    con = source._con
    rows = con.execute("SELECT * EXCLUDE (sync_seq) FROM logs").fetchall()
    names = [d[0] for d in con.description or ()]
    return [
        docs.document_from_record(
            docs.LOGS, record_from_row(docs.LOGS, dict(zip(names, r, strict=True)))
        )
        for r in rows
    ]
