"""The dead letters of the cloud sync, on both local stores (DuckDB tables, MongoDB collection):
one contract, run against each; and the whole path from a local MongoDB store through a cloud
that refuses a record to the admin's retry."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import bson
import pytest
from pymongo import MongoClient

from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.duckdb.sync import DuckDBSyncSource
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.store import MongoDBStore, MongoSettings
from obsvty.adapters.storage.mongodb.sync import MongoDeadLetters, MongoSyncSource, MongoSyncTarget
from obsvty.application.sync import SyncService
from obsvty.ports.sync import Refusal, SyncRecord, SyncSourcePort
from tests.support.mongodb import scratch_database
from tests.support.mongodb_data import log_batch

pytestmark = pytest.mark.integration

SourceFactory = Callable[[Path, pytest.FixtureRequest], AbstractContextManager[SyncSourcePort]]


@contextmanager
def duckdb_source(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SyncSourcePort]:
    store = DuckDBStore(tmp_path / "local.duckdb")
    try:
        yield DuckDBSyncSource(store.cursor())
    finally:
        store.close()


@contextmanager
def mongodb_source(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[SyncSourcePort]:
    uri = request.getfixturevalue("mongodb_uri")
    with scratch_database(uri) as name:
        client: MongoClient[dict[str, Any]] = MongoClient(uri, tz_aware=True)
        try:
            yield MongoSyncSource(client[name])
        finally:
            client.close()


@pytest.fixture(params=[duckdb_source, mongodb_source], ids=["duckdb", "mongodb"])
def source(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyncSourcePort]:
    with request.param(tmp_path, request) as opened:
        yield opened


def _record(n: int) -> SyncRecord:
    fields = {
        "body": "x" * n,
        "raw": b"\x00\xff",
        "nested": {"k": [1, 2.5, None, math.inf]},
        "count": 2**64 - 1,
        "time_unix_nano": 1_700_000_000_000_000_000,
    }
    return SyncRecord(f"record-{n}", fields)


def test_dead_letters_added_listed_counted_in_order(source: SyncSourcePort) -> None:
    # Act
    source.add_dead_letters("logs", [Refusal(_record(1), "too large")])
    source.add_dead_letters("spans", [Refusal(_record(2), "invalid")])

    # Assert: oldest first, every field and the record back as it was
    letters = source.dead_letters()
    assert source.dead_letter_count() == 2
    assert [(d.collection, d.error, d.attempts) for d in letters] == [
        ("logs", "too large", 1),
        ("spans", "invalid", 1),
    ]
    assert letters[0].record == _record(1)
    assert letters[0].id == "logs:record-1"
    assert letters[0].first_failed_unix_nano == letters[0].last_failed_unix_nano > 0
    assert [d.collection for d in source.dead_letters(limit=1, offset=1)] == ["spans"]


def test_dead_letter_refused_again_counts_one_more_attempt(source: SyncSourcePort) -> None:
    # Arrange
    source.add_dead_letters("logs", [Refusal(_record(1), "first error")])
    (first,) = source.dead_letters()

    # Act
    source.add_dead_letters("logs", [Refusal(_record(1), "second error")])

    # Assert: still one letter, the latest error, the first failure time kept
    (again,) = source.dead_letters()
    assert source.dead_letter_count() == 1
    assert (again.id, again.attempts, again.error) == (first.id, 2, "second error")
    assert again.first_failed_unix_nano == first.first_failed_unix_nano
    assert again.last_failed_unix_nano >= first.last_failed_unix_nano


def test_dead_letters_removed_by_id_or_all(source: SyncSourcePort) -> None:
    # Arrange
    source.add_dead_letters("logs", [Refusal(_record(n), "refused") for n in range(1, 4)])
    ids = [d.id for d in source.dead_letters()]

    # Act
    removed_one = source.remove_dead_letters([ids[0], "unknown"])
    remaining = [d.id for d in source.dead_letters()]
    removed_rest = source.remove_dead_letters()

    # Assert
    assert (removed_one, remaining) == (1, ids[1:])
    assert removed_rest == 2
    assert source.dead_letter_count() == 0
    assert source.remove_dead_letters([]) == 0


def test_sync_from_mongodb_store_dead_letters_a_refused_record_then_retries_it(
    mongodb_uri: str, mongodb_database: str
) -> None:
    # Arrange: a local MongoDB store; a cloud whose logs refuse the service "refused"
    local = MongoDBStore(MongoSettings(mongodb_uri, mongodb_database), publish_watermark=True)
    local.write([log_batch(2, service="refused"), log_batch(3, service="fine")])
    with scratch_database(mongodb_uri) as cloud_db:
        client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
        client[cloud_db].create_collection("logs", validator={"service_name": {"$ne": "refused"}})
        target = MongoSyncTarget(MongoSettings(mongodb_uri, cloud_db))
        source = MongoSyncSource(local.db)
        service = SyncService(source, target)

        # Act 1: sync; the refused records are parked, the rest goes through
        service.sync_until_idle()
        parked = service.dead_letters()

        # Act 2: the cloud accepts them now; an admin retries
        client[cloud_db].command("collMod", "logs", validator={})
        retried = service.retry_dead_letters()

        # Assert
        assert len(parked) == 2
        assert all(d.collection == "logs" and "121" in d.error for d in parked)
        assert all(d.document["service_name"] == "refused" for d in parked)
        assert (retried.resent, retried.still_failing) == (2, 0)
        assert MongoDeadLetters(local.db).dead_letter_count() == 0
        cloud_ids = {d["_id"] for d in client[cloud_db]["logs"].find({}, {"_id": 1})}
        assert cloud_ids == {d["_id"] for d in local.db["logs"].find({}, {"_id": 1})}
        assert service.status().backlog == 0
        target.close()
        client.close()
    local.close()


@pytest.mark.parametrize("kind", ["duckdb", "mongodb"])
def test_dead_letter_kept_before_sync_records_is_listed_and_retried_as_it_was(
    tmp_path: Path, mongodb_uri: str, kind: str
) -> None:
    # Arrange: a dead letter as a version before sync records kept it: the cloud document itself
    # (BSON in a DuckDB table, a sub-document in MongoDB), keyed by its content id
    document = docs.with_content_id(next(docs.log_documents(log_batch(1, service="old"))))
    letter_id = f"logs:{document['_id'].hex()}"
    old = {"error": "E121 refused", "attempts": 1, "first": 1, "last": 2}
    with contextlib.ExitStack() as stack:
        if kind == "duckdb":
            store = DuckDBStore(tmp_path / "local.duckdb")
            stack.callback(store.close)
            source: SyncSourcePort = DuckDBSyncSource(store.cursor())
            store.cursor().execute(
                "INSERT INTO sync_dead_letters VALUES (?, 'logs', ?, ?, ?, ?, ?)",
                [letter_id, bson.encode(document), *old.values()],
            )
        else:
            local = stack.enter_context(scratch_database(mongodb_uri))
            client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri, tz_aware=True)
            stack.callback(client.close)
            source = MongoSyncSource(client[local])
            client[local]["sync_dead_letters"].insert_one(
                {
                    "_id": letter_id,
                    "collection": "logs",
                    "document": document,
                    "error": old["error"],
                    "attempts": old["attempts"],
                    "first_failed_unix_nano": old["first"],
                    "last_failed_unix_nano": old["last"],
                }
            )
        cloud_db = stack.enter_context(scratch_database(mongodb_uri))
        target = MongoSyncTarget(MongoSettings(mongodb_uri, cloud_db))
        stack.callback(target.close)
        service = SyncService(source, target)

        # Act
        listed = service.dead_letters()
        retried = service.retry_dead_letters()

        # Assert: shown as it was kept, then stored in the cloud under the same _id, once
        assert [(d.id, d.attempts, d.document["service_name"]) for d in listed] == [
            (letter_id, 1, "old")
        ]
        assert (retried.resent, retried.still_failing) == (1, 0)
        stored = list(target.db["logs"].find({}, {"_id": 1, "body": 1}))
        assert stored == [{"_id": document["_id"], "body": document["body"]}]
        assert source.dead_letter_count() == 0
