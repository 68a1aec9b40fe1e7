"""The compiled decoder next to the reference one, as the differential tests and the native fuzz
targets (fuzz/native.py) compare them.

Both are reduced to what obsvty would store: the rows of the store's Arrow table (the reference
batch through ``duckdb.tables.span_table``, ``log_table`` or ``metric_table``), the rejection
count and the first reason; or ``INVALID`` when the request as a whole is refused. The compiled
decoder's document form (the MongoDB store's) is held to the same: the BSON of the documents
built from its batch against those built from the reference batch."""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterator
from typing import Any

import bson
import orjson
import pyarrow as pa
from bson.errors import BSONError
from google.protobuf import json_format

from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS, PayloadError
from obsvty.adapters.storage.duckdb.tables import log_table, metric_table, span_table
from obsvty.adapters.storage.mongodb.documents import (
    Document,
    arrow_documents,
    log_documents,
    metric_documents,
    span_documents,
)
from obsvty.domain.arrow_batch import ArrowBatch, in_document_form
from obsvty.domain.batches import ListBatch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Signal

INVALID = "invalid request"

Outcome = tuple[list[dict[str, Any]], int, str] | str


_TABLES: dict[Signal, tuple[type[ListBatch], Callable[[Any], pa.Table]]] = {
    Signal.TRACES: (SpanBatch, span_table),
    Signal.LOGS: (LogBatch, log_table),
    Signal.METRICS: (MetricBatch, metric_table),
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


def native_outcome(
    signal: Signal, payload: bytes | memoryview, *, json: bool = False
) -> Outcome | None:
    """``None`` when the compiled decoder leaves the request to the reference one.

    ``payload`` may be any buffer: the sanitized fuzz run passes one of exactly the payload's size
    (a ``bytes`` object has a NUL after its end, which would hide a one-byte over-read)."""
    decode = native.json_decoder(signal) if json else native.protobuf_decoder(signal)
    assert decode is not None, "the compiled decoder is not built"
    decoded = decode(payload)
    if decoded is None:
        return None
    assert isinstance(decoded.batch, ArrowBatch)
    decoded.batch.table.validate(full=True)  # offsets, dictionary indices, UTF-8 all sound
    return decoded.batch.table.to_pylist(), decoded.rejected, decoded.error_message


_DOCUMENTS: dict[Signal, Callable[[Any], Iterator[Document]]] = {
    Signal.TRACES: span_documents,
    Signal.LOGS: log_documents,
    Signal.METRICS: metric_documents,
}

Documents = tuple[list[bytes] | str, int, str]
"""The BSON bytes of the MongoDB documents a request makes (or the name of the error building or
encoding them raises, which the store turns into a StoreError), rejections and reason."""


def _encoded(documents: Callable[[], Iterator[Document]]) -> list[bytes] | str:
    try:
        return [bson.encode(d) for d in documents()]
    except (BSONError, OverflowError, ValueError) as exc:
        return type(exc).__name__


def reference_documents(signal: Signal, payload: bytes, *, json: bool = False) -> Documents | str:
    """The documents the MongoDB store builds from the reference decoder's batch."""
    codec = CODECS[signal].reference()
    try:
        decoded = codec.decode_json(payload) if json else codec.decode_protobuf(payload)
    except PayloadError:
        return INVALID
    build = _DOCUMENTS[signal]
    return _encoded(lambda: build(decoded.batch)), decoded.rejected, decoded.error_message


def native_documents(
    signal: Signal, payload: bytes | memoryview, *, json: bool = False
) -> Documents | None:
    """The documents the MongoDB store builds from the compiled decoder's document-form batch;
    ``None`` when that decoder leaves the request to the reference one."""
    decoder = native.json_decoder if json else native.protobuf_decoder
    decode = decoder(signal, document_form=True)
    assert decode is not None, "the compiled decoder is not built"
    decoded = decode(payload)
    if decoded is None:
        return None
    batch = decoded.batch
    assert isinstance(batch, ArrowBatch)
    assert in_document_form(batch)
    batch.table.validate(full=True)
    return _encoded(lambda: arrow_documents(batch)), decoded.rejected, decoded.error_message


def same_documents_as_reference(
    signal: Signal,
    payload: bytes,
    native_input: bytes | memoryview | None = None,
    *,
    json: bool = False,
) -> Documents | None:
    """The differential property of the MongoDB store: the compiled decoder (document form)
    leaves ``payload`` to the reference one (``None``), or its batch makes exactly the documents,
    byte for byte in BSON, that the reference batch makes (returned); else :class:`Divergence`."""
    got = native_documents(signal, payload if native_input is None else native_input, json=json)
    if got is None:
        return None
    expected = reference_documents(signal, payload, json=json)
    if expected == INVALID:
        raise Divergence(f"document form decoded a request the reference refuses: {got!r}")
    if got != expected:
        raise Divergence(f"not the reference's documents:\n{got!r}\nreference:\n{expected!r}")
    return got


def comparable(value: Any) -> Any:
    """``value`` with its floats compared bit for bit: NaN equal to NaN (a metric value or an
    exemplar may well be NaN), -0.0 not equal to 0.0."""
    if isinstance(value, float):
        return "nan" if math.isnan(value) else value.hex()
    if isinstance(value, list | tuple):
        return [comparable(v) for v in value]
    if isinstance(value, dict):
        return {k: comparable(v) for k, v in value.items()}
    return value


class Divergence(AssertionError):
    """The compiled decoder stored something the reference decoder would not."""


def same_as_reference(
    signal: Signal,
    payload: bytes,
    native_input: bytes | memoryview | None = None,
    *,
    json: bool = False,
) -> Outcome | None:
    """The differential property: the compiled decoder leaves ``payload`` to the reference one
    (``None``), or gives exactly what the reference gives (returned); anything else raises
    :class:`Divergence`. ``native_input`` is ``payload`` in another buffer, given to the compiled
    decoder only."""
    got = native_outcome(signal, payload if native_input is None else native_input, json=json)
    same_documents_as_reference(signal, payload, native_input, json=json)
    if got is None:
        return None
    expected = reference_outcome(signal, payload, json=json)
    if expected == INVALID:
        raise Divergence(f"decoded a request the reference refuses: {got!r}")
    if comparable(got) != comparable(expected):
        raise Divergence(f"not what the reference gives:\n{got!r}\nreference:\n{expected!r}")
    return got


def assert_same(
    signal: Signal, payload: bytes, *, json: bool = False, must_decode: bool = False
) -> Outcome | None:
    """:func:`same_as_reference` as a test assertion; ``must_decode``: the request is of an
    ordinary shape, which the compiled decoder must not leave to the reference (else the test
    would prove nothing)."""
    got = same_as_reference(signal, payload, json=json)
    if must_decode:
        assert got is not None, "left to the reference decoder"
    return got


_ID_KEYS = {"traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id"}


def _hex_ids(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: base64.b64decode(v).hex() if k in _ID_KEYS and isinstance(v, str) else _hex_ids(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_hex_ids(v) for v in node]
    return node


def as_otlp_json(signal: Signal, payload: bytes, **options: Any) -> bytes:
    """A protobuf request of ``signal`` as OTLP/JSON: protobuf's JSON (``options`` for
    ``MessageToDict``) with the ids in hex."""
    message = CODECS[signal].request_type.FromString(payload)
    return orjson.dumps(_hex_ids(json_format.MessageToDict(message, **options)))
