"""The MongoDB document model: one document per span, log record and metric data point.

Field names are the DuckDB column names (see ``duckdb.schema``), so both stores answer the same
queries with the same names and a DuckDB row becomes a document without a mapping table. Values
are native BSON, never JSON text: int64, double, string, bool, binary (bytes), arrays and
subdocuments, so an attribute read back is the same Python value (``1`` stays an int, ``1.0`` a
float, ``b".."`` bytes).

* Attribute maps are arrays of ``{"k": key, "v": value}``: keys such as ``http.method`` would
  otherwise be read as paths; as pairs they are matched with ``$elemMatch`` and indexed with one
  multikey index. Nested maps (kvlist values) are subdocuments.
* ``_id`` makes every write idempotent: a span is ``<trace_id hex><span_id hex>`` (a re-sent span
  never becomes a second span), a log record or data point is a 12-byte digest of its content (an
  exporter's retry of the same record is stored once). A write retried after a partial failure
  therefore inserts only what is missing.
* ``ts`` is the record's time as a BSON date, the field of the TTL (retention) index.
* OTLP's uint64 counts (histogram and summary ``count``, ``zero_count``, bucket counts) above
  BSON's int64 range are stored as Decimal128, exact (34 digits) and still a number to MongoDB
  (comparisons, ``$sum``); every value that fits stays an int64. :func:`decode_int` reads both.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import operator
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import Any

import bson
import orjson
import pyarrow as pa
import pyarrow.compute as pc
from bson.decimal128 import Decimal128

from obsvty.adapters.encoding.model_fields import (
    descriptor_fields,
    event_fields,
    exemplar_fields,
    link_fields,
    quantile_fields,
    resource_fields,
    scope_fields,
)
from obsvty.adapters.encoding.sync_records import sync_record
from obsvty.domain.arrow_batch import JSON_COLUMNS, ArrowBatch
from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import (
    Attributes,
    AttributeValue,
    InstrumentationScope,
    MetricDescriptor,
    Resource,
    Signal,
)
from obsvty.ports import sync as sync_port
from obsvty.ports.sync import SyncRecord

Document = dict[str, Any]

# the collections are the sync port's (and the DuckDB tables') names
SPANS, LOGS, METRIC_POINTS = sync_port.SPANS, sync_port.LOGS, sync_port.METRIC_POINTS
COLLECTIONS = sync_port.COLLECTIONS

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MAX_DATE_NS = 253402300799 * 10**9  # 9999-12-31T23:59:59Z, the last date BSON/Python can hold
INT64_MAX = 2**63 - 1


def uint64(value: int | None) -> int | Decimal128 | None:
    """An OTLP uint64 as a BSON value: an int64 when it fits, else an exact Decimal128."""
    if value is None or value <= INT64_MAX:
        return value
    return Decimal128(Decimal(value))


def uint64s(values: Sequence[int]) -> Sequence[int | Decimal128]:
    """Bucket counts as BSON values (the sequence itself when every count fits in an int64)."""
    if not values or max(values) <= INT64_MAX:
        return values
    return [Decimal128(Decimal(v)) if v > INT64_MAX else v for v in values]


def decode_int(value: Any) -> int:
    """An integer field read back: int32/int64, or a Decimal128 written by :func:`uint64`."""
    if isinstance(value, Decimal128):
        return int(value.to_decimal())
    return int(value)


def encode_attributes(attributes: Attributes) -> list[dict[str, AttributeValue]]:
    return [{"k": k, "v": v} for k, v in attributes.items()]


def decode_attributes(pairs: list[Mapping[str, Any]] | None) -> Attributes:
    return {p["k"]: _native(p.get("v")) for p in pairs or ()}


def _native(value: Any) -> AttributeValue:
    """BSON values as the domain's: ``Binary`` subtype 0 is already ``bytes``; nested
    subdocuments and arrays are rebuilt so that no driver type leaks out."""
    if isinstance(value, Mapping):
        return {str(k): _native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_native(v) for v in value]
    if isinstance(value, bson.Int64):
        return int(value)
    return value  # type: ignore[no-any-return]


def timestamp(unix_nano: int) -> dt.datetime:
    """The BSON date of a nanosecond time (clamped to what a date can hold)."""
    clamped = min(max(unix_nano, 0), _MAX_DATE_NS)
    return _EPOCH + dt.timedelta(microseconds=clamped // 1000)


def content_id(document: Document) -> bytes:
    """A 12-byte digest of a document's content (without ``_id``): the same record, the same id."""
    return hashlib.blake2b(bson.encode(document), digest_size=12).digest()


def span_id_key(trace_id_hex: str, span_id_hex: str) -> str:
    return trace_id_hex + span_id_hex


def _shared(objects: list[Any], encode: Callable[[Any], Any]) -> list[Any]:
    """Encode objects shared by many items (resources, scopes, descriptors) once each."""
    cache: dict[int, Any] = {}
    out = []
    for obj in objects:
        encoded = cache.get(id(obj))
        if encoded is None:
            encoded = cache[id(obj)] = encode(obj)
        out.append(encoded)
    return out


def _resource_fields(resource: Resource) -> Document:
    return resource_fields(resource, encode_attributes)


def _scope_fields(scope: InstrumentationScope) -> Document:
    return scope_fields(scope, encode_attributes)


def span_documents(b: SpanBatch) -> Iterator[Document]:
    resources = _shared(b.resource, _resource_fields)
    scopes = _shared(b.scope, _scope_fields)
    for i in range(len(b.span_id)):
        trace_id = b.trace_id[i].hex()
        span_id = b.span_id[i].hex()
        start = b.start_time_unix_nano[i]
        end = b.end_time_unix_nano[i]
        doc: Document = {
            "_id": span_id_key(trace_id, span_id),
            "trace_id": trace_id,
            "span_id": span_id,
            "parent_span_id": b.parent_span_id[i].hex(),
            "trace_state": b.trace_state[i],
            "flags": b.flags[i],
            "name": b.name[i],
            "kind": b.kind[i],
            "start_time_unix_nano": start,
            "end_time_unix_nano": end,
            "duration_ns": end - start,
            "attributes": encode_attributes(b.attributes[i]),
            "dropped_attributes_count": b.dropped_attributes_count[i],
            "events": [event_fields(e, encode_attributes) for e in b.events[i]],
            "dropped_events_count": b.dropped_events_count[i],
            "links": [link_fields(link, encode_attributes) for link in b.links[i]],
            "dropped_links_count": b.dropped_links_count[i],
            "status_code": b.status_code[i],
            "status_message": b.status_message[i],
            **resources[i],
            **scopes[i],
            "ts": timestamp(start),
        }
        yield doc


def log_documents(b: LogBatch) -> Iterator[Document]:
    resources = _shared(b.resource, _resource_fields)
    scopes = _shared(b.scope, _scope_fields)
    for i in range(len(b.time_unix_nano)):
        time_ns = b.time_unix_nano[i] or b.observed_time_unix_nano[i]
        doc: Document = {
            "time_unix_nano": b.time_unix_nano[i],
            "observed_time_unix_nano": b.observed_time_unix_nano[i],
            "severity_number": b.severity_number[i],
            "severity_text": b.severity_text[i],
            "body": b.body[i],
            "attributes": encode_attributes(b.attributes[i]),
            "dropped_attributes_count": b.dropped_attributes_count[i],
            "flags": b.flags[i],
            "trace_id": b.trace_id[i].hex(),
            "span_id": b.span_id[i].hex(),
            "event_name": b.event_name[i],
            **resources[i],
            **scopes[i],
            "ts": timestamp(time_ns),
        }
        yield with_content_id(doc)


def _descriptor_fields(m: MetricDescriptor) -> Document:
    return descriptor_fields(m, encode_attributes)


def metric_documents(b: MetricBatch) -> Iterator[Document]:
    descriptors = _shared(b.metric, _descriptor_fields)
    resources = _shared(b.resource, _resource_fields)
    scopes = _shared(b.scope, _scope_fields)
    for i in range(len(b.time_unix_nano)):
        doc: Document = {
            **descriptors[i],
            "start_time_unix_nano": b.start_time_unix_nano[i],
            "time_unix_nano": b.time_unix_nano[i],
            "attributes": encode_attributes(b.attributes[i]),
            "flags": b.flags[i],
            "exemplars": [exemplar_fields(e, encode_attributes) for e in b.exemplars[i]],
            "value_int": b.value_int[i],
            "value_double": b.value_double[i],
            "count": uint64(b.count[i]),
            "sum": b.sum[i],
            "min": b.min[i],
            "max": b.max[i],
            "bucket_counts": uint64s(b.bucket_counts[i]),
            "explicit_bounds": b.explicit_bounds[i],
            "scale": b.scale[i],
            "zero_count": uint64(b.zero_count[i]),
            "zero_threshold": b.zero_threshold[i],
            "positive_offset": b.positive_offset[i],
            "positive_bucket_counts": uint64s(b.positive_bucket_counts[i]),
            "negative_offset": b.negative_offset[i],
            "negative_bucket_counts": uint64s(b.negative_bucket_counts[i]),
            "quantile_values": quantile_fields(b.quantile_values[i]),
            **resources[i],
            **scopes[i],
            "ts": timestamp(b.time_unix_nano[i]),
        }
        yield with_content_id(doc)


def with_content_id(doc: Document) -> Document:
    """``doc`` with ``_id`` (its content digest) as the first field."""
    return {"_id": content_id(doc), **doc}


# --- the compiled decoder's Arrow batches (document form) to the same documents, column-wise
#
# The batch's columns are in the documents' field order (the stores' table layout), and its
# JSON columns are in the document form (arrow_batch.DOCUMENT_FORM): parsed, they already are
# the documents' values (attribute maps as {"k", "v"} pairs), but for tagged NaN, infinities
# and bytes, which only a text holding '{"$' can contain (outside a JSON string a '{' opens an
# object, inside one a '"' is escaped).

_TAG = '{"$'
_DOUBLE_TAG = "$double"
_BYTES_TAG = "$bytes"
_BIG_ENDIAN_DOUBLE = struct.Struct(">d")
_DELTA = dt.timedelta


def _untag(value: Any) -> Any:
    """A parsed document-form value with its tags replaced by the values they stand for."""
    if isinstance(value, dict):
        if len(value) == 1:
            tagged = value.get(_DOUBLE_TAG)
            if isinstance(tagged, str):
                return _BIG_ENDIAN_DOUBLE.unpack(bytes.fromhex(tagged))[0]
            tagged = value.get(_BYTES_TAG)
            if isinstance(tagged, str):
                return base64.b64decode(tagged)
        return {k: _untag(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_untag(v) for v in value]
    return value


def _parse(texts: Any) -> list[Any]:
    """A string array of document-form JSON texts (null: ``None``) as values, in one parse."""
    if texts.null_count:
        texts = pc.fill_null(texts, "null")
    joined = f"[{','.join(texts.to_pylist())}]"
    values: list[Any] = orjson.loads(joined)
    return _untag(values) if _TAG in joined else values


def _chunk_values(chunk: Any, json: bool) -> list[Any]:
    """One chunk's values, a row each; a dictionary's entries are built once each."""
    if pa.types.is_dictionary(chunk.type):
        entries = _parse(chunk.dictionary) if json else chunk.dictionary.to_pylist()
        return list(map(entries.__getitem__, chunk.indices.to_pylist()))
    return _parse(chunk) if json else chunk.to_pylist()


def _values(column: Any, json: bool) -> list[Any]:
    """One column's values, a row each."""
    if column.num_chunks == 1:
        return _chunk_values(column.chunk(0), json)
    out: list[Any] = []
    for chunk in column.chunks:
        out.extend(_chunk_values(chunk, json))
    return out


def _big(values: Any) -> bool:
    """Whether an integer column (or list column) holds a count above BSON's int64."""
    if pa.types.is_list(values.type):
        values = pc.list_flatten(values)
    top = pc.max(values).as_py()
    return top is not None and top > INT64_MAX


def timestamps(times: list[int]) -> list[dt.datetime]:
    """:func:`timestamp` of each time; int64s are never past the last date, so only a negative
    one needs the clamping."""
    if times and min(times) < 0:
        return list(map(timestamp, times))
    return [_EPOCH + _DELTA(0, 0, t // 1000) for t in times]


def _arrow_columns(batch: ArrowBatch) -> dict[str, list[Any]]:
    table = batch.table
    return {name: _values(table.column(name), name in JSON_COLUMNS) for name in table.column_names}


def _rows(names: list[str], columns: dict[str, list[Any]]) -> Iterator[Document]:
    for row in zip(*columns.values(), strict=True):
        yield dict(zip(names, row, strict=True))


def arrow_documents(batch: ArrowBatch) -> Iterator[Document]:
    """The documents of a document-form batch (:func:`arrow_batch.in_document_form`): the same
    as :func:`span_documents`, :func:`log_documents` or :func:`metric_documents` write for the
    list-based batch of the same items."""
    columns = _arrow_columns(batch)
    names = list(columns)
    signal = batch.signal
    if signal is Signal.TRACES:
        starts = columns["start_time_unix_nano"]
        ids = list(map(operator.add, columns["trace_id"], columns["span_id"]))
        columns = {"_id": ids, **columns, "ts": timestamps(starts)}
        for doc in _rows(["_id", *names, "ts"], columns):
            yield doc
        return
    if signal is Signal.LOGS:
        times = zip(columns["time_unix_nano"], columns["observed_time_unix_nano"], strict=True)
        columns["ts"] = timestamps([t or observed for t, observed in times])
    else:
        table = batch.table
        for name in ("count", "zero_count"):
            if _big(table.column(name)):
                columns[name] = list(map(uint64, columns[name]))
        for name in ("bucket_counts", "positive_bucket_counts", "negative_bucket_counts"):
            if _big(table.column(name)):
                columns[name] = list(map(uint64s, columns[name]))
        columns["ts"] = timestamps(columns["time_unix_nano"])
    for doc in _rows([*names, "ts"], columns):
        yield with_content_id(doc)


# --- the cloud sync's records (fields in the shared encoding) to the same documents, and back

INGEST_ID = "ingest_id"
"""The store's write order (an ObjectId per document), not part of a record."""
_NOT_FIELDS = frozenset(("_id", "ts", INGEST_ID))
_ATTRIBUTE_FIELDS = ("attributes", "resource_attributes", "scope_attributes")
_NESTED_ATTRIBUTES = {
    SPANS: (("events", "attributes"), ("links", "attributes")),
    METRIC_POINTS: (("exemplars", "filtered_attributes"),),
}
_COUNTS = ("count", "zero_count")
_BUCKET_COUNTS = ("bucket_counts", "positive_bucket_counts", "negative_bucket_counts")


def _recode(collection: str, fields: Document, attributes: Callable[[Any], Any]) -> Document:
    """A copy of ``fields`` with every attribute map (nested ones too) through ``attributes``."""
    doc = dict(fields)
    for name in _ATTRIBUTE_FIELDS:
        doc[name] = attributes(doc[name])
    if collection == METRIC_POINTS:
        doc["metric_metadata"] = attributes(doc["metric_metadata"])
    for name, key in _NESTED_ATTRIBUTES.get(collection, ()):
        doc[name] = [{**item, key: attributes(item.get(key) or {})} for item in doc[name] or ()]
    return doc


def document_from_record(collection: str, record: SyncRecord) -> Document:
    """The document the MongoDB store would have written for the item ``record`` holds."""
    doc = _recode(collection, record.fields, encode_attributes)
    if collection == SPANS:
        doc["ts"] = timestamp(doc["start_time_unix_nano"])
        return {"_id": span_id_key(doc["trace_id"], doc["span_id"]), **doc}
    if collection == LOGS:
        doc["ts"] = timestamp(doc["time_unix_nano"] or doc["observed_time_unix_nano"])
        return with_content_id(doc)
    for name in _COUNTS:
        doc[name] = uint64(doc[name])
    for name in _BUCKET_COUNTS:
        doc[name] = uint64s(doc[name])
    doc["ts"] = timestamp(doc["time_unix_nano"])
    return with_content_id(doc)


def record_from_document(collection: str, document: Document) -> SyncRecord:
    """The record of a stored document: the inverse of :func:`document_from_record` (but for
    ``ingest_id``, which is this database's write order, not the record's)."""
    fields = {k: v for k, v in document.items() if k not in _NOT_FIELDS}
    fields = _recode(collection, fields, decode_attributes)
    if collection == LOGS:
        fields["body"] = _native(fields["body"])
    elif collection == METRIC_POINTS:
        for name in _COUNTS:
            if fields[name] is not None:
                fields[name] = decode_int(fields[name])
        for name in _BUCKET_COUNTS:
            fields[name] = [decode_int(v) for v in fields[name] or ()]
    return sync_record(collection, fields)
