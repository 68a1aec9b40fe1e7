"""The compiled decoder next to the reference one, as the differential tests compare them.

Both are reduced to what obsvty would store: the rows of the store's Arrow table (the reference
batch through ``duckdb_store.span_table`` or ``log_table``), the rejection count and the first
reason; or ``INVALID`` when the request as a whole is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS, PayloadError
from obsvty.adapters.storage.duckdb_store import log_table, span_table
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import ListBatch, LogBatch, SpanBatch
from obsvty.domain.model import Signal

INVALID = "invalid request"

Outcome = tuple[list[dict[str, Any]], int, str] | str


_TABLES: dict[Signal, tuple[type[ListBatch], Callable[[Any], pa.Table]]] = {
    Signal.TRACES: (SpanBatch, span_table),
    Signal.LOGS: (LogBatch, log_table),
}


def reference_table(
    signal: Signal, payload: bytes, *, json: bool = False
) -> tuple[pa.Table, int, str] | str:
    """The reference decoder's Arrow table (as the store builds it), rejections and reason."""
    codec = CODECS[signal].reference()
    try:
        decoded = codec.decode_json(payload) if json else codec.decode_protobuf(payload)
    except PayloadError:
        return INVALID
    batch_type, to_table = _TABLES[signal]
    assert isinstance(decoded.batch, batch_type)
    return to_table(decoded.batch), decoded.rejected, decoded.error_message


def reference_outcome(signal: Signal, payload: bytes, *, json: bool = False) -> Outcome:
    got = reference_table(signal, payload, json=json)
    if isinstance(got, str):
        return got
    table, rejected, error_message = got
    return table.to_pylist(), rejected, error_message


def native_outcome(signal: Signal, payload: bytes, *, json: bool = False) -> Outcome | None:
    """``None`` when the compiled decoder leaves the request to the reference one."""
    decode = native.json_decoder(signal) if json else native.protobuf_decoder(signal)
    assert decode is not None, "the compiled decoder is not built"
    decoded = decode(payload)
    if decoded is None:
        return None
    assert isinstance(decoded.batch, ArrowBatch)
    return decoded.batch.table.to_pylist(), decoded.rejected, decoded.error_message
