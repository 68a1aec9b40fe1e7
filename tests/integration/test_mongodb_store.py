"""The MongoDB store against a real MongoDB-wire server (secantusdb, or MONGODB_URI)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import pytest
from pymongo import MongoClient

from obsvty.adapters.otlp import native
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.store import (
    INGEST_ID,
    SYNC_STATE,
    WATERMARK_ID,
    MongoDBStore,
    MongoSettings,
    connect,
)
from obsvty.ports.store import StoreError
from tests.support.mongodb_data import TYPED, log_batch, metric_batch, span_batch
from tests.support.native_batches import NativePathStore

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(mongodb_uri: str, mongodb_database: str) -> MongoSettings:
    return MongoSettings(uri=mongodb_uri, database=mongodb_database, timeout_ms=5000)


@pytest.fixture(params=["reference", "native"])
def store(settings: MongoSettings, request: pytest.FixtureRequest) -> Iterator[MongoDBStore]:
    """The store given the list batches as they are (the reference decoder's), or their native
    form (the compiled decoder's document form, as the receivers hand it over)."""
    if request.param == "native" and not native.AVAILABLE:
        pytest.skip("OBSVTY_NO_EXTENSIONS: no compiled decoder")
    s = MongoDBStore(settings, publish_watermark=True)
    yield cast(MongoDBStore, NativePathStore(s)) if request.param == "native" else s
    s.close()


def _all(store: MongoDBStore, name: str) -> list[dict[str, Any]]:
    return list(store.collection(name).find({}, {"_id": 0}).sort(INGEST_ID, 1))


def test_write_typed_attributes_read_back_as_the_same_python_values(store: MongoDBStore) -> None:
    # Arrange
    spans = span_batch(2)
    # Act
    store.write([spans])
    # Assert
    stored = _all(store, docs.SPANS)
    assert [docs.decode_attributes(d["attributes"]) for d in stored] == [
        {**TYPED, "i": 0},
        {**TYPED, "i": 1},
    ]
    first = docs.decode_attributes(stored[0]["attributes"])
    assert type(first["http.status_code"]) is int
    assert type(first["ratio"]) is float
    assert type(first["raw"]) is bytes
    assert stored[0]["trace_id"] == spans.trace_id[0].hex()
    assert stored[0]["parent_span_id"] == ""
    assert stored[0]["duration_ns"] == 500
    assert stored[0]["service_name"] == "checkout"
    assert docs.decode_attributes(stored[0]["events"][0]["attributes"]) == {"e": 1, "f": 2.0}
    assert docs.decode_attributes(stored[0]["links"][0]["attributes"]) == {"l": b"\x01"}


def test_write_logs_and_metrics_keep_bodies_and_point_values(store: MongoDBStore) -> None:
    # Act
    store.write([log_batch(3), metric_batch()])
    # Assert
    logs = _all(store, docs.LOGS)
    assert [d["body"] for d in logs] == ["hello world", {"structured": [1, 2.0, b"\x01"]}, None]
    points = _all(store, docs.METRIC_POINTS)
    assert [(p["metric_name"], p["value_int"], p["value_double"]) for p in points[:2]] == [
        ("queue.depth", 5, None),
        ("queue.depth", None, 5.0),
    ]
    assert type(points[1]["value_double"]) is float
    assert points[2]["bucket_counts"] == [1, 1, 1]
    assert points[3]["quantile_values"] == [
        {"quantile": 0.5, "value": 1.0},
        {"quantile": 1.0, "value": 2.0},
    ]


def test_write_same_spans_twice_stores_each_span_once(store: MongoDBStore) -> None:
    # Arrange
    store.write([span_batch(3)])
    # Act: an exporter retry re-sends the same spans, along with a new one
    store.write([span_batch(3), span_batch(1, trace=2)])
    # Assert
    assert store.collection(docs.SPANS).count_documents({}) == 4
    assert store.collection(docs.SPANS).count_documents({"trace_id": (1).to_bytes(16).hex()}) == 3


def test_write_same_log_records_twice_stores_them_once(store: MongoDBStore) -> None:
    # Act
    store.write([log_batch(3), metric_batch()])
    store.write([log_batch(3), metric_batch()])
    # Assert
    assert store.collection(docs.LOGS).count_documents({}) == 3
    assert store.collection(docs.METRIC_POINTS).count_documents({}) == 4


def test_write_publishes_the_ingest_watermark_of_the_last_document(store: MongoDBStore) -> None:
    # Act
    store.write([span_batch(2), log_batch(2)])
    # Assert
    newest = store.collection(docs.LOGS).find_one(sort=[(INGEST_ID, -1)])
    state = store.db[SYNC_STATE].find_one({"_id": WATERMARK_ID})
    assert newest is not None
    assert state is not None
    assert state["value"] == newest[INGEST_ID]


def test_open_creates_query_indexes_and_ttl_index(settings: MongoSettings) -> None:
    # Arrange
    with_retention = MongoSettings(settings.uri, settings.database, retention_days=2)
    # Act
    store = MongoDBStore(with_retention)
    try:
        # Assert
        spans = store.collection(docs.SPANS).index_information()
        assert spans["trace_id"]["key"] == [("trace_id", 1)]
        assert spans["service_start"]["key"] == [("service_name", 1), ("start_time_unix_nano", -1)]
        assert spans["ttl"]["expireAfterSeconds"] == 2 * 86400
        metrics = store.collection(docs.METRIC_POINTS).index_information()
        assert metrics["name_time"]["key"] == [("metric_name", 1), ("time_unix_nano", -1)]
    finally:
        store.close()


def test_open_with_changed_retention_updates_or_drops_the_ttl_index(
    settings: MongoSettings,
) -> None:
    # Arrange
    MongoDBStore(MongoSettings(settings.uri, settings.database, retention_days=2)).close()
    # Act
    changed = MongoDBStore(MongoSettings(settings.uri, settings.database, retention_days=1))
    ttl_after_change = changed.collection(docs.LOGS).index_information()["ttl"]
    changed.close()
    dropped = MongoDBStore(MongoSettings(settings.uri, settings.database, retention_days=None))
    indexes_after_drop = dropped.collection(docs.LOGS).index_information()
    dropped.close()
    # Assert
    assert ttl_after_change["expireAfterSeconds"] == 86400
    assert "ttl" not in indexes_after_drop


def test_write_rejected_by_the_server_raises_store_error_and_the_retry_completes(
    store: MongoDBStore, mongodb_uri: str
) -> None:
    # Arrange: the server fails the next insert (a failCommand fail point)
    admin: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    admin.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": 2},
            "data": {"failCommands": ["insert"], "errorCode": 2, "errmsg": "injected"},
        }
    )
    try:
        # Act
        with pytest.raises(StoreError, match="MongoDB write failed"):
            store.write([span_batch(3)])
        with pytest.raises(StoreError):
            store.write([span_batch(3)])
        store.write([span_batch(3)])
    finally:
        admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        admin.close()
    # Assert
    assert store.collection(docs.SPANS).count_documents({}) == 3


def test_write_after_a_retryable_error_is_retried_by_the_driver(
    settings: MongoSettings, mongodb_uri: str
) -> None:
    # Arrange: NotWritablePrimary once; the driver rediscovers the primary and retries the write
    store = MongoDBStore(settings, client=connect(settings, heartbeatFrequencyMS=500))
    admin: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    admin.admin.command(
        {
            "configureFailPoint": "failCommand",
            "mode": {"times": 1},
            "data": {"failCommands": ["insert"], "errorCode": 10107},
        }
    )
    try:
        # Act
        store.write([log_batch(2)])
    finally:
        admin.admin.command({"configureFailPoint": "failCommand", "mode": "off"})
        admin.close()
    # Assert
    assert store.collection(docs.LOGS).count_documents({}) == 2
    store.close()


def test_open_unreachable_server_raises_store_error() -> None:
    # Arrange
    settings = MongoSettings("mongodb://127.0.0.1:1/?directConnection=true", "x", timeout_ms=300)
    # Act / Assert
    with pytest.raises(StoreError, match="cannot prepare the MongoDB database"):
        MongoDBStore(settings)
