"""The MongoDB store: the same write port as DuckDB, on a MongoDB replica set or sharded cluster.

It runs in the flusher thread, so it uses pymongo's synchronous client (connection pooling,
timeouts and retryable writes come from the settings). Each write turns the columnar batches into
documents (see ``mongodb.documents``) and inserts them with ``insert_many(ordered=False)`` in
chunks. Every document has a deterministic ``_id``, so the write is idempotent: duplicate-key
errors mean "already stored" and are not failures, and a write that failed half-way is retried by
the flusher without storing anything twice. Any other failure raises :class:`StoreError`.

No state lives in the obsvty process: several instances can write to one cluster and any of them
can answer any query.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

from bson import ObjectId
from bson.errors import BSONError
from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient, WriteConcern
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, PyMongoError

from obsvty.adapters.encoding.stored_rows import list_batch
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.domain.arrow_batch import ArrowBatch, in_document_form
from obsvty.domain.batches import Batch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Signal
from obsvty.ports.store import StoreError

log = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
INGEST_ID = docs.INGEST_ID
"""An ObjectId per document, increasing in the order one process writes them: the insertion
order (metric ties, log page tie breaker) and the cloud sync's cursor."""
SYNC_STATE = "obsvty_sync_state"
WATERMARK_ID = "ingest_watermark"

_DOCUMENTS: dict[type[Any], tuple[str, Callable[[Any], Iterator[docs.Document]]]] = {
    SpanBatch: (docs.SPANS, docs.span_documents),
    LogBatch: (docs.LOGS, docs.log_documents),
    MetricBatch: (docs.METRIC_POINTS, docs.metric_documents),
}
_COLLECTIONS = {
    Signal.TRACES: docs.SPANS,
    Signal.LOGS: docs.LOGS,
    Signal.METRICS: docs.METRIC_POINTS,
}


def documents(batch: Batch) -> tuple[str, Iterator[docs.Document]]:
    """The collection of a batch's items and their documents."""
    if isinstance(batch, ArrowBatch):
        if in_document_form(batch):
            return _COLLECTIONS[batch.signal], docs.arrow_documents(batch)
        batch = list_batch(batch)  # typed JSON (NaN and infinities as null): read as it is
    name, to_documents = _DOCUMENTS[type(batch)]
    return name, to_documents(batch)


INDEXES: dict[str, list[IndexModel]] = {
    docs.SPANS: [
        IndexModel([("trace_id", ASCENDING)], name="trace_id"),
        IndexModel(
            [("service_name", ASCENDING), ("start_time_unix_nano", DESCENDING)],
            name="service_start",
        ),
        IndexModel([("start_time_unix_nano", DESCENDING)], name="start"),
        IndexModel([("attributes.k", ASCENDING), ("attributes.v", ASCENDING)], name="attributes"),
    ],
    docs.LOGS: [
        IndexModel(
            [("service_name", ASCENDING), ("time_unix_nano", DESCENDING)], name="service_time"
        ),
        IndexModel([("time_unix_nano", DESCENDING)], name="time"),
        IndexModel([("trace_id", ASCENDING)], name="trace_id"),
    ],
    docs.METRIC_POINTS: [
        IndexModel([("metric_name", ASCENDING), ("time_unix_nano", DESCENDING)], name="name_time"),
        IndexModel(
            [("service_name", ASCENDING), ("time_unix_nano", DESCENDING)], name="service_time"
        ),
    ],
}


@dataclass(frozen=True, slots=True)
class MongoSettings:
    """How to reach one MongoDB deployment."""

    uri: str
    database: str
    write_concern: str = "majority"
    timeout_ms: int = 10_000
    max_pool_size: int = 20
    retry_writes: bool = True
    insert_batch_size: int = 5000
    retention_days: float | None = None


def write_concern(w: str) -> WriteConcern:
    """The write concern of every obsvty write: ``w`` as configured, and ``j`` (journaled).

    An acknowledged write must survive a crash of the server that acknowledged it: the flusher
    answers the OTLP exporter after ``store.write`` (durable ack mode), and the cloud sync saves
    its cursor after the cloud's acknowledgement. ``w: "majority"`` on a replica set already
    waits for the journal (``writeConcernMajorityJournalDefault``), so ``j`` costs nothing there;
    on a standalone, with ``w: 1`` or a number of nodes, an acknowledgement without ``j`` only
    means "in memory" (measured on a killed server: acknowledged inserts lost). ``w: 0``
    (unacknowledged) cannot be journaled and is refused (pymongo ``ConfigurationError``).
    """
    return WriteConcern(w=int(w) if w.isdigit() else w, j=True)


def connect(
    settings: MongoSettings, *, app_name: str = "obsvty", **options: Any
) -> MongoClient[dict[str, Any]]:
    """A pooled client with the timeouts, retry and write-concern policy of ``settings``
    (``options``: further MongoClient options, e.g. ``heartbeatFrequencyMS``). Every write of
    the client uses :func:`write_concern` (journaled)."""
    concern = write_concern(settings.write_concern)
    return MongoClient(
        settings.uri,
        appname=app_name,
        maxPoolSize=settings.max_pool_size,
        serverSelectionTimeoutMS=settings.timeout_ms,
        connectTimeoutMS=settings.timeout_ms,
        socketTimeoutMS=settings.timeout_ms,
        retryWrites=settings.retry_writes,
        w=concern.document["w"],
        journal=concern.document["j"],
        tz_aware=True,
        connect=False,
        **options,
    )


def chunks(items: Iterable[docs.Document], size: int) -> Iterator[list[docs.Document]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_idempotent(
    collection: Collection[docs.Document],
    documents: list[docs.Document],
    inserted: list[Any] | None = None,
) -> int:
    """Insert ``documents`` unordered; ids already present are not errors. Returns how many were
    new, and adds their ids to ``inserted`` (also when it raises). Raises
    :class:`BulkWriteError` only for real write errors (everything else was tried)."""
    if not documents:
        return 0
    new: list[Any] = []
    try:
        collection.insert_many(documents, ordered=False)
        new = [d["_id"] for d in documents]
    except BulkWriteError as exc:
        details = exc.details
        errors = details.get("writeErrors", [])
        failed = {e.get("index") for e in errors}
        new = [d["_id"] for i, d in enumerate(documents) if i not in failed]
        real = [e for e in errors if e.get("code") != DUPLICATE_KEY]
        if real or details.get("writeConcernErrors"):
            raise
    finally:
        if inserted is not None:
            inserted.extend(new)
    return len(new)


def ensure_indexes(db: Database[docs.Document], retention_days: float | None) -> None:
    """Create the query indexes and the TTL (retention) index; adjust or drop the TTL index when
    the retention changes."""
    for name in docs.COLLECTIONS:
        collection = db[name]
        collection.create_indexes(
            [*INDEXES[name], IndexModel([(INGEST_ID, ASCENDING)], name=INGEST_ID)]
        )
        _ensure_ttl(db, collection, retention_days)


def _ensure_ttl(
    db: Database[docs.Document], collection: Collection[docs.Document], days: float | None
) -> None:
    existing = collection.index_information().get("ttl")
    if days is None:
        if existing is not None:
            collection.drop_index("ttl")
        return
    seconds = int(days * 86400)
    if existing is None:
        collection.create_index([("ts", ASCENDING)], name="ttl", expireAfterSeconds=seconds)
    elif existing.get("expireAfterSeconds") != seconds:
        db.command(
            "collMod",
            collection.name,
            index={"name": "ttl", "expireAfterSeconds": seconds},
        )


class MongoDBStore:
    """Telemetry in one MongoDB database (collections ``spans``, ``logs``, ``metric_points``)."""

    def __init__(
        self,
        settings: MongoSettings,
        *,
        publish_watermark: bool = False,
        client: MongoClient[dict[str, Any]] | None = None,
    ) -> None:
        self.settings = settings
        self.client = client if client is not None else connect(settings)
        self.db: Database[docs.Document] = self.client.get_database(
            settings.database, write_concern=write_concern(settings.write_concern)
        )
        self._publish_watermark = publish_watermark
        try:
            ensure_indexes(self.db, settings.retention_days)
        except PyMongoError as exc:
            self.client.close()
            raise StoreError(
                f"cannot prepare the MongoDB database {settings.database}: {exc}"
            ) from exc

    def collection(self, name: str) -> Collection[docs.Document]:
        return self.db[name]

    def write(self, batches: Sequence[Batch]) -> None:
        """Insert every item; on a failure, remove what this write inserted (best effort: when
        the server is gone, the flusher's retry completes the write without doubles) and raise
        :class:`StoreError`."""
        watermark: ObjectId | None = None
        inserted: dict[str, list[Any]] = {}
        try:
            for given in batches:
                if not len(given):
                    continue
                name, items = documents(given)
                collection = self.db[name]
                for chunk in chunks(items, self.settings.insert_batch_size):
                    for document in chunk:
                        document[INGEST_ID] = watermark = ObjectId()
                    insert_idempotent(collection, chunk, inserted.setdefault(name, []))
            if watermark is not None and self._publish_watermark:
                self.db[SYNC_STATE].update_one(
                    {"_id": WATERMARK_ID}, {"$max": {"value": watermark}}, upsert=True
                )
        except BulkWriteError as exc:
            self._roll_back(inserted)
            first = (
                exc.details.get("writeErrors") or exc.details.get("writeConcernErrors") or [{}]
            )[0]
            raise StoreError(f"MongoDB write failed: {first.get('errmsg', exc)}") from exc
        except (PyMongoError, BSONError, OverflowError, ValueError) as exc:
            self._roll_back(inserted)
            raise StoreError(f"MongoDB write failed: {exc}") from exc

    def _roll_back(self, inserted: dict[str, list[Any]]) -> None:
        """Delete the documents a failed write inserted, so that it stores nothing."""
        try:
            for name, ids in inserted.items():
                for part in chunks(({"_id": i} for i in ids), self.settings.insert_batch_size):
                    self.db[name].delete_many({"_id": {"$in": [d["_id"] for d in part]}})
        except PyMongoError as exc:
            log.warning(
                "could not remove the part of a failed write (a retry completes it): %s", exc
            )

    def ping(self) -> None:
        """Raise :class:`StoreError` when the primary cannot be reached."""
        try:
            self.client.admin.command("ping")
        except PyMongoError as exc:
            raise StoreError(f"MongoDB unreachable: {exc}") from exc

    def close(self) -> None:
        self.client.close()
