"""The MongoDB store's insert path against scripted server replies (mockupdb), with the real
pymongo driver: what it sends, and what it makes of duplicate keys, refused documents, a
NotWritablePrimary step-down, a dropped connection and a server that never answers.

mockupdb answers the driver's handshakes itself (``auto_ismaster``, as a replica-set primary so
that writes are retryable) and the index set-up of ``MongoDBStore.__init__`` (``createIndexes``,
``listIndexes``) through auto-responders; each test scripts only the commands it is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from mockupdb import MockupDB, OpMsg, go, going
from pymongo import MongoClient

from obsvty.adapters.storage.mongodb.documents import (
    COLLECTIONS,
    log_documents,
    record_from_document,
)
from obsvty.adapters.storage.mongodb.store import INGEST_ID, MongoDBStore, MongoSettings
from obsvty.adapters.storage.mongodb.sync import MongoSyncTarget
from obsvty.ports.store import StoreError
from tests.support.mongodb_data import log_batch

pytestmark = pytest.mark.unit

NOT_WRITABLE_PRIMARY = 10107
PRIMARY = {
    "isWritablePrimary": True,
    "ismaster": True,
    "setName": "rs0",
    "hosts": [],
    "minWireVersion": 0,
    "maxWireVersion": 17,
    "logicalSessionTimeoutMinutes": 30,
}


def _mock(*, answer_index_setup: bool = True) -> MockupDB:
    mock = MockupDB(auto_ismaster=PRIMARY)
    for name in COLLECTIONS:
        if answer_index_setup:
            mock.autoresponds(OpMsg("createIndexes", name))
        mock.autoresponds(
            OpMsg("listIndexes", name),
            cursor={"id": 0, "ns": f"telemetry.{name}", "firstBatch": []},
        )
    # close() ends the pooled sessions; OpMsg("endSessions") would only match {"endSessions": 1}
    mock.autoresponds(lambda request: request.command_name == "endSessions" and request.ok())
    mock.run()
    return mock


def _settings(mock: MockupDB, *, timeout_ms: int = 5_000) -> MongoSettings:
    # A retry after a dropped connection or a step-down first waits for the server to be
    # selected again, and pymongo re-checks a server at most every 500 ms: a selection budget of
    # 500 ms raced that re-check (a retry never sent on a loaded machine). Only the test of a
    # server that never answers needs a short socket timeout, and builds its own store.
    return MongoSettings(
        f"mongodb://{mock.address_string}/?directConnection=true",
        "telemetry",
        write_concern="1",
        timeout_ms=timeout_ms,
    )


@pytest.fixture
def server() -> Iterator[MockupDB]:
    mock = _mock()
    yield mock
    mock.stop()


@pytest.fixture
def store(server: MockupDB) -> Iterator[MongoDBStore]:
    opened = MongoDBStore(_settings(server))
    yield opened
    opened.close()


def _insert(server: MockupDB) -> Any:
    return server.receives(OpMsg({"insert": "logs"}), timeout=10)


def test_store_open_creates_the_query_indexes_of_every_collection() -> None:
    # Arrange: a server that leaves createIndexes to the test
    server = _mock(answer_index_setup=False)
    created: dict[str, list[str]] = {}

    # Act
    with going(MongoDBStore, _settings(server)) as opened:
        for name in COLLECTIONS:
            request = server.receives(OpMsg("createIndexes", name), timeout=10)
            created[request["createIndexes"]] = [i["name"] for i in request["indexes"]]
            request.ok()

    # Assert
    assert set(created) == {"spans", "logs", "metric_points"}
    assert {"trace_id", "service_start", "attributes", INGEST_ID} <= set(created["spans"])
    assert {"service_time", "trace_id", INGEST_ID} <= set(created["logs"])
    opened().close()
    server.stop()


def test_store_write_sends_unordered_inserts_with_ids(
    server: MockupDB, store: MongoDBStore
) -> None:
    # Act
    with going(store.write, [log_batch(3)]) as done:
        request = _insert(server)
        request.ok(n=3)
    done()

    # Assert
    documents = request["documents"]
    assert request["ordered"] is False
    assert len(documents) == 3
    assert all("_id" in d and INGEST_ID in d for d in documents)


def test_store_write_asks_for_journaled_acknowledgement(
    server: MockupDB, store: MongoDBStore
) -> None:
    # Act
    with going(store.write, [log_batch(1)]) as done:
        request = _insert(server)
        request.ok(n=1)
    done()

    # Assert: the configured w, and j (an acknowledged write survives a crash of the server)
    assert request["writeConcern"] == {"w": 1, "j": True}


def test_sync_target_send_asks_for_journaled_acknowledgement_on_any_client(
    server: MockupDB,
) -> None:
    # Arrange: a client built without journaling (the cloud URI could say journal=false)
    settings = _settings(server)
    client: MongoClient[dict[str, Any]] = MongoClient(
        f"{settings.uri}&journal=false&w=1", socketTimeoutMS=settings.timeout_ms
    )
    target = MongoSyncTarget(settings, client=client)
    target._indexed = True  # the index set-up is the store's test above
    record = record_from_document("logs", next(log_documents(log_batch(1))))

    # Act
    with going(target.send, "logs", [record]) as sent:
        request = _insert(server)
        request.ok(n=1)

    # Assert
    assert sent() == []
    assert request["writeConcern"] == {"w": 1, "j": True}
    target.close()


def test_store_write_duplicate_keys_only_is_stored(server: MockupDB, store: MongoDBStore) -> None:
    # Act: the server already holds the first record (a re-sent export)
    with going(store.write, [log_batch(2)]) as done:
        _insert(server).ok(
            n=1, writeErrors=[{"index": 0, "code": 11000, "errmsg": "E11000 duplicate key"}]
        )

    # Assert: no error, nothing else sent
    done()


def test_store_write_refused_document_raises_and_removes_the_rest(
    server: MockupDB, store: MongoDBStore
) -> None:
    # Act
    done = go(store.write, [log_batch(2)])
    insert = _insert(server)
    insert.ok(n=1, writeErrors=[{"index": 1, "code": 121, "errmsg": "failed validation"}])
    delete = server.receives(OpMsg({"delete": "logs"}), timeout=10)
    delete.ok(n=1)

    # Assert: the error names the cause, and the one document inserted is deleted again
    with pytest.raises(StoreError, match="failed validation"):
        done()
    sent = insert["documents"]
    assert delete["deletes"][0]["q"] == {"_id": {"$in": [sent[0]["_id"]]}}


def test_store_write_not_writable_primary_is_retried_once(
    server: MockupDB, store: MongoDBStore
) -> None:
    # Act: a step-down on the first attempt, success on the driver's retry
    with going(store.write, [log_batch(1)]) as done:
        first = _insert(server)
        first.replies(
            {
                "ok": 0,
                "code": NOT_WRITABLE_PRIMARY,
                "errmsg": "not primary",
                "errorLabels": ["RetryableWriteError"],  # as MongoDB >= 4.4 labels it
            }
        )
        retry = _insert(server)
        retry.ok(n=1)

    # Assert: the same documents, in the same retryable-write transaction number
    done()
    assert retry["documents"] == first["documents"]
    assert retry["txnNumber"] == first["txnNumber"]


def test_store_write_connection_dropped_twice_raises_store_error(
    server: MockupDB, store: MongoDBStore
) -> None:
    # Act: the server hangs up on the write and on its retry
    done = go(store.write, [log_batch(1)])
    _insert(server).hangup()
    _insert(server).hangup()

    # Assert
    with pytest.raises(StoreError, match="MongoDB write failed"):
        done()


def test_store_write_connection_dropped_once_is_retried(
    server: MockupDB, store: MongoDBStore
) -> None:
    # Act
    with going(store.write, [log_batch(1)]) as done:
        _insert(server).hangup()
        _insert(server).ok(n=1)

    # Assert
    done()


def test_store_write_server_never_answers_raises_store_error(server: MockupDB) -> None:
    # Arrange: socketTimeoutMS 500 ms
    store = MongoDBStore(_settings(server, timeout_ms=500))

    # Act: the write and its retry are received and never answered
    done = go(store.write, [log_batch(1)])
    _insert(server)
    _insert(server)

    # Assert
    with pytest.raises(StoreError, match="timed out"):
        done()
    store.close()
