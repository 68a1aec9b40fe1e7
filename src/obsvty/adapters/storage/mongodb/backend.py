"""The MongoDB backend: the store in a MongoDB database, with its query side and cloud-sync
source, built from the MongoDB settings group. Retention is MongoDB's own (TTL indexes)."""

from __future__ import annotations

from dataclasses import dataclass

from obsvty.adapters.storage.mongodb.query import MongoDBQuery
from obsvty.adapters.storage.mongodb.store import MongoDBStore, MongoSettings
from obsvty.ports.storage_backend import BatchForm, StorageBackend
from obsvty.ports.sync import SyncSourcePort


@dataclass(frozen=True, slots=True)
class MongoDBStorage:
    connection: MongoSettings
    publish_watermark: bool = False
    """Keep the write watermark the cloud sync reads (on when a cloud sync is configured)."""


def mongodb_backend(settings: MongoDBStorage) -> StorageBackend:
    """Connect (lazily: the first write or query reaches the server) and bundle what MongoDB
    offers."""
    store = MongoDBStore(settings.connection, publish_watermark=settings.publish_watermark)

    def sync_source() -> SyncSourcePort:
        from obsvty.adapters.storage.mongodb.sync import MongoSyncSource

        return MongoSyncSource(store.db)

    return StorageBackend(
        store=store,
        sync_source=sync_source,
        query=MongoDBQuery(store.db),
        batch_form=BatchForm.DOCUMENTS,
    )
