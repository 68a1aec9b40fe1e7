"""The cloud sync's MongoDB sides: the cloud target, and a local MongoDB store as a source.

The target turns the sync's records into the documents the MongoDB store writes (the same
fields and idempotent ``_id``s: ``documents.document_from_record``) and inserts them
unordered. It tells a refusal *for good* (a document too large, or a per-document write error
such as a validation failure) from the cloud being unavailable (network errors, timeouts,
elections, write-concern errors, any failure of the whole command): refusals are
dead-lettered, unavailability is retried. The dead letters keep records as exact typed JSON.

A local MongoDB source reads documents by ``ingest_id`` (an ObjectId per document, increasing in
the order this process writes them) up to the watermark the store publishes after each complete
write, so a write still in progress is never half-read and skipped, and turns them into the
sync's records. The cursor and the dead letters are kept in the local database itself.
"""

from __future__ import annotations

import time
from typing import Any

import bson
from bson import ObjectId
from pymongo import ASCENDING, MongoClient
from pymongo.database import Database
from pymongo.errors import BulkWriteError, PyMongoError

from obsvty.adapters.encoding.sync_records import legacy_record, record_from_text, record_text
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.store import (
    DUPLICATE_KEY,
    INGEST_ID,
    SYNC_STATE,
    WATERMARK_ID,
    MongoSettings,
    connect,
    ensure_indexes,
    write_concern,
)
from obsvty.ports.sync import (
    DeadLetter,
    Pending,
    Refusal,
    SyncRecord,
    TargetUnavailableError,
)

Document = docs.Document

DEAD_LETTERS = "sync_dead_letters"
MAX_BSON_SIZE = 16 * 1024 * 1024

# Server errors that say "not now" rather than "never" for this document.
TRANSIENT_CODES = frozenset(
    {6, 7, 50, 89, 91, 112, 189, 251, 262, 9001, 10107, 11600, 11602, 13435, 13436}
)


class MongoSyncTarget:
    """The cloud MongoDB."""

    def __init__(
        self,
        settings: MongoSettings,
        *,
        client: MongoClient[dict[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.client = client or connect(settings, app_name="obsvty-cloud-sync")
        # journaled: the sync saves its cursor once the cloud acknowledged, so the
        # acknowledgement must mean "survives a crash of the cloud server"
        self.db: Database[Document] = self.client.get_database(
            settings.database, write_concern=write_concern(settings.write_concern)
        )
        self._indexed = False

    def send(self, collection: str, records: list[SyncRecord]) -> list[Refusal]:
        refusals: list[Refusal] = []
        sendable: list[Document] = []
        sent: list[SyncRecord] = []
        for record in records:
            document = (
                dict(record.cloud_document)
                if record.cloud_document is not None
                else docs.document_from_record(collection, record)
            )
            size = len(bson.encode(document))
            if size > MAX_BSON_SIZE:
                refusals.append(
                    Refusal(record, f"document too large: {size} bytes > {MAX_BSON_SIZE}")
                )
            else:
                document[INGEST_ID] = ObjectId()
                sendable.append(document)
                sent.append(record)
        try:
            if not self._indexed:
                ensure_indexes(self.db, self.settings.retention_days)
                self._indexed = True
            if sendable:
                self.db[collection].insert_many(sendable, ordered=False)
        except BulkWriteError as exc:
            refusals.extend(self._classify(exc, sent))
        except PyMongoError as exc:
            raise TargetUnavailableError(f"cloud MongoDB unavailable: {exc}") from exc
        return refusals

    @staticmethod
    def _classify(exc: BulkWriteError, sent: list[SyncRecord]) -> list[Refusal]:
        details = exc.details
        if details.get("writeConcernErrors"):
            # written, but not acknowledged as durable: send again (idempotent) later
            error = details["writeConcernErrors"][0].get("errmsg", "write concern error")
            raise TargetUnavailableError(f"cloud write concern not satisfied: {error}") from exc
        refusals = []
        for error in details.get("writeErrors", []):
            code = error.get("code")
            if code == DUPLICATE_KEY:
                continue
            if code in TRANSIENT_CODES:
                raise TargetUnavailableError(f"cloud write failed: {error.get('errmsg')}") from exc
            refusals.append(
                Refusal(sent[error["index"]], f"code {code}: {error.get('errmsg', 'refused')}")
            )
        return refusals

    def close(self) -> None:
        self.client.close()


def _oid(cursor: int) -> ObjectId:
    return ObjectId(cursor.to_bytes(12, "big"))


def _int(oid: ObjectId) -> int:
    return int.from_bytes(oid.binary, "big")


def _dead_record(letter: Document) -> SyncRecord:
    """The record a dead letter keeps; one kept by a version before sync records holds the cloud
    document itself (``document``), which is sent again as it is."""
    if "record" in letter:
        return record_from_text(letter["record"])
    return legacy_record(letter["_id"], letter["document"])


class MongoDeadLetters:
    """Dead letters in a collection of the local MongoDB database."""

    def __init__(self, db: Database[Document]) -> None:
        self._dead = db[DEAD_LETTERS]

    def add_dead_letters(self, collection: str, refusals: list[Refusal]) -> None:
        now = time.time_ns()
        for refusal in refusals:
            key = f"{collection}:{refusal.record.key}"
            legacy = refusal.record.cloud_document
            kept = (
                {"document": legacy}
                if legacy is not None
                else {"record": record_text(refusal.record)}
            )
            self._dead.update_one(
                {"_id": key},
                {
                    "$set": {
                        "collection": collection,
                        **kept,
                        "error": refusal.error,
                        "last_failed_unix_nano": now,
                    },
                    "$inc": {"attempts": 1},
                    "$setOnInsert": {"first_failed_unix_nano": now},
                },
                upsert=True,
            )

    def dead_letters(self, limit: int = 100, offset: int = 0) -> list[DeadLetter]:
        found = self._dead.find().sort("first_failed_unix_nano", ASCENDING).skip(offset)
        return [
            DeadLetter(
                id=d["_id"],
                collection=d["collection"],
                error=d["error"],
                attempts=d["attempts"],
                first_failed_unix_nano=d["first_failed_unix_nano"],
                last_failed_unix_nano=d["last_failed_unix_nano"],
                record=_dead_record(d),
            )
            for d in found.limit(limit)
        ]

    def dead_letter_count(self) -> int:
        return self._dead.count_documents({})

    def remove_dead_letters(self, ids: list[str] | None = None) -> int:
        query: dict[str, Any] = {} if ids is None else {"_id": {"$in": ids}}
        return self._dead.delete_many(query).deleted_count


class MongoSyncSource(MongoDeadLetters):
    """A local MongoDB store, read in ``ingest_id`` order up to the published watermark."""

    collections: tuple[str, ...] = docs.COLLECTIONS

    def __init__(self, db: Database[Document]) -> None:
        super().__init__(db)
        self._db = db
        self._state = db[SYNC_STATE]

    def _watermark(self) -> ObjectId | None:
        state = self._state.find_one({"_id": WATERMARK_ID})
        return None if state is None else state["value"]

    def _cursor(self, collection: str) -> int:
        state = self._state.find_one({"_id": f"cursor:{collection}"})
        return 0 if state is None else _int(state["value"])

    def _range(self, collection: str) -> dict[str, Any] | None:
        watermark = self._watermark()
        if watermark is None:
            return None
        return {INGEST_ID: {"$gt": _oid(self._cursor(collection)), "$lte": watermark}}

    def pending(self, collection: str, limit: int) -> Pending:
        query = self._range(collection)
        if query is None:
            return Pending(collection, [], self._cursor(collection))
        found = list(self._db[collection].find(query).sort(INGEST_ID, ASCENDING).limit(limit))
        cursor = _int(found[-1][INGEST_ID]) if found else self._cursor(collection)
        records = [docs.record_from_document(collection, d) for d in found]
        return Pending(collection, records, cursor)

    def save_cursor(self, collection: str, cursor: int) -> None:
        self._state.update_one(
            {"_id": f"cursor:{collection}"}, {"$set": {"value": _oid(cursor)}}, upsert=True
        )

    def backlog(self) -> int:
        total = 0
        for collection in self.collections:
            query = self._range(collection)
            if query is not None:
                total += self._db[collection].count_documents(query)
        return total
