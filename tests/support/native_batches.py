"""List batches as the receivers hand them to a MongoDB store: written out as an OTLP request
(``obsvty.adapters.otlp.export``) and decoded by the compiled decoder in the document form, so
that store tests written with domain records run on the native ingest path."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import fields
from typing import Any

from obsvty.adapters.otlp import export, native
from obsvty.adapters.storage.mongodb.store import MongoDBStore
from obsvty.domain.arrow_batch import ArrowBatch, in_document_form
from obsvty.domain.batches import Batch, ListBatch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import LogRecord, MetricPoint, Span

_ITEMS: dict[type[Any], tuple[type[Any], Callable[[Iterable[Any]], Any]]] = {
    SpanBatch: (Span, export.traces_request),
    LogBatch: (LogRecord, export.logs_request),
    MetricBatch: (MetricPoint, export.metrics_request),
}


def native_batch(batch: ListBatch) -> ArrowBatch:
    """``batch``'s items decoded the native way (document form); the compiled decoder must take
    the request (else the test would not be on the native path) and reject nothing."""
    item_type, to_request = _ITEMS[type(batch)]
    names = [f.name for f in fields(batch)]
    columns = [getattr(batch, name) for name in names]
    items = [item_type(**dict(zip(names, row, strict=True))) for row in zip(*columns, strict=True)]
    decode = native.protobuf_decoder(batch.signal, document_form=True)
    assert decode is not None, "the compiled decoder is not built"
    decoded = decode(to_request(items).SerializeToString())
    assert decoded is not None, "left to the reference decoder"
    assert decoded.rejected == 0, decoded.error_message
    assert isinstance(decoded.batch, ArrowBatch)
    assert in_document_form(decoded.batch)
    return decoded.batch


class NativePathStore:
    """A MongoDB store whose ``write`` gets every non-empty list batch in its native form."""

    def __init__(self, store: MongoDBStore) -> None:
        self.store = store

    def write(self, batches: Sequence[Batch]) -> None:
        self.store.write(
            [native_batch(b) if isinstance(b, ListBatch) and len(b) else b for b in batches]
        )

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)
