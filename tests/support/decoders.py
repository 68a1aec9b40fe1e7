"""The compiled decoder next to the reference one, as the differential tests compare them.

Both are reduced to what obsvty would store: the rows of the store's Arrow table (the reference
batch through ``duckdb_store.span_table`` or ``metric_table``), the rejection count and the first
reason; or ``INVALID`` when the request as a whole is refused."""

from __future__ import annotations

from typing import Any

from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS, PayloadError
from obsvty.adapters.storage.duckdb_store import metric_table, span_table
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import MetricBatch, SpanBatch
from obsvty.domain.model import Signal

INVALID = "invalid request"

Outcome = tuple[list[dict[str, Any]], int, str] | str


def reference_outcome(signal: Signal, payload: bytes, *, json: bool = False) -> Outcome:
    codec = CODECS[signal].reference()
    try:
        decoded = codec.decode_json(payload) if json else codec.decode_protobuf(payload)
    except PayloadError:
        return INVALID
    batch = decoded.batch
    if isinstance(batch, MetricBatch):
        return metric_table(batch).to_pylist(), decoded.rejected, decoded.error_message
    assert isinstance(batch, SpanBatch)
    return span_table(batch).to_pylist(), decoded.rejected, decoded.error_message


def native_outcome(signal: Signal, payload: bytes, *, json: bool = False) -> Outcome | None:
    """``None`` when the compiled decoder leaves the request to the reference one."""
    decode = native.json_decoder(signal) if json else native.protobuf_decoder(signal)
    assert decode is not None, "the compiled decoder is not built"
    decoded = decode(payload)
    if decoded is None:
        return None
    assert isinstance(decoded.batch, ArrowBatch)
    decoded.batch.table.validate(full=True)  # offsets, dictionary indices, UTF-8 all sound
    return decoded.batch.table.to_pylist(), decoded.rejected, decoded.error_message
