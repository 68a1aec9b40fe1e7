"""What a storage backend offers the composition root, as one bundle of ports.

Each backend's factory (``adapters/storage/<backend>/backend.py``) fills in what it supports and
leaves the rest ``None``; the composition root asks the bundle, never the store's class.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from obsvty.ports.query import TelemetryQueryPort
from obsvty.ports.retention import RetentionStorePort
from obsvty.ports.store import TelemetryStorePort
from obsvty.ports.sync import SyncSourcePort


class BatchForm(enum.Enum):
    """The form the receivers' compiled decoder should hand the store its batches in."""

    ARROW = "arrow"
    """Arrow batches of typed JSON (DuckDB stores them as they are; redaction works on them)."""
    DOCUMENTS = "documents"
    """The lossless document form the store builds its documents from (MongoDB). Redaction does
    not read it, so with redaction the receivers decode the reference way instead."""


@dataclass(frozen=True, slots=True)
class StorageBackend:
    store: TelemetryStorePort
    """Where the flusher writes."""
    sync_source: Callable[[], SyncSourcePort]
    """Makes the cloud sync's source on this store; call it before the flusher writes (a
    DuckDB source adds its ``sync_seq`` columns)."""
    query: TelemetryQueryPort | None = None
    """The read side, for the query API; ``None``: no query API."""
    retention: RetentionStorePort | None = None
    """Age and size limits by obsvty's retention service; ``None``: the backend has none."""
    store_size: Callable[[], int] | None = None
    """Bytes the store occupies on disk, for ``/metrics`` and the store's health."""
    memory: Callable[[], tuple[int, int] | None] | None = None
    """Bytes the store's engine holds in memory and has spilled, for ``/metrics``."""
    observe_checkpoints: Callable[[Callable[[float], None]], None] | None = None
    """Registers a function called with the seconds of each checkpoint the store makes (its
    writes wait meanwhile), for ``/metrics``; ``None``: the store makes none."""
    batch_form: BatchForm = BatchForm.ARROW

    def close(self) -> None:
        """Flush and release the store."""
        self.store.close()
