"""Batches as Arrow tables: the columnar form the compiled decoder produces and stores insert.

An :class:`ArrowBatch` holds one signal's items as an Arrow table in the stored row form: ids as
lower-case hex (``''`` when absent), attributes, events, links and log bodies as typed JSON text
(see ``obsvty.adapters.encoding.typed_json``), resources and scopes as dictionary columns. It flows
through the buffer and the flusher like the list-based batches of :mod:`obsvty.domain.batches`
(length, slices, concatenation), with no Python object per item.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Self

import pyarrow as pa

from obsvty.domain.model import Signal

_STR = pa.string()
_U32 = pa.uint32()


def _shared(kind: pa.DataType) -> pa.DataType:
    """A column of values shared by many rows (a resource's or a scope's)."""
    return pa.dictionary(pa.int32(), kind)


RESOURCE_SCOPE_FIELDS = (
    ("service_name", _shared(_STR)),
    ("resource_attributes", _shared(_STR)),
    ("resource_dropped_attributes_count", _shared(_U32)),
    ("resource_schema_url", _shared(_STR)),
    ("scope_name", _shared(_STR)),
    ("scope_version", _shared(_STR)),
    ("scope_attributes", _shared(_STR)),
    ("scope_dropped_attributes_count", _shared(_U32)),
    ("scope_schema_url", _shared(_STR)),
)

SPAN_SCHEMA = pa.schema(
    [
        ("trace_id", _STR),
        ("span_id", _STR),
        ("parent_span_id", _STR),
        ("trace_state", _STR),
        ("flags", _U32),
        ("name", _STR),
        ("kind", pa.uint8()),
        ("start_time_unix_nano", pa.int64()),
        ("end_time_unix_nano", pa.int64()),
        ("duration_ns", pa.int64()),
        ("attributes", _STR),
        ("dropped_attributes_count", _U32),
        ("events", _STR),
        ("dropped_events_count", _U32),
        ("links", _STR),
        ("dropped_links_count", _U32),
        ("status_code", pa.uint8()),
        ("status_message", _STR),
        *RESOURCE_SCOPE_FIELDS,
    ]
)
"""The columns of a span, in the order of the ``spans`` table."""

LOG_SCHEMA = pa.schema(
    [
        ("time_unix_nano", pa.int64()),
        ("observed_time_unix_nano", pa.int64()),
        ("severity_number", pa.uint8()),
        ("severity_text", _STR),
        ("body", _STR),  # NULL for a record without a body (or with an empty one)
        ("attributes", _STR),
        ("dropped_attributes_count", _U32),
        ("flags", _U32),
        ("trace_id", _STR),
        ("span_id", _STR),
        ("event_name", _STR),
        *RESOURCE_SCOPE_FIELDS,
    ]
)
"""The columns of a log record, in the order of the ``logs`` table."""

SCHEMAS = {Signal.TRACES: SPAN_SCHEMA, Signal.LOGS: LOG_SCHEMA}


_U64 = pa.uint64()
_F64 = pa.float64()

METRIC_SCHEMA = pa.schema(
    [
        # what every point of one metric shares (duckdb.tables.metric_table's descriptor columns)
        ("metric_name", _shared(_STR)),
        ("metric_description", _shared(_STR)),
        ("metric_unit", _shared(_STR)),
        ("metric_type", _shared(_STR)),
        ("aggregation_temporality", _shared(pa.uint8())),
        ("is_monotonic", _shared(pa.bool_())),
        ("metric_metadata", _shared(_STR)),
        ("start_time_unix_nano", pa.int64()),
        ("time_unix_nano", pa.int64()),
        ("attributes", _STR),
        ("flags", _U32),
        ("exemplars", _STR),
        ("value_int", pa.int64()),
        ("value_double", _F64),
        ("count", _U64),
        ("sum", _F64),
        ("min", _F64),
        ("max", _F64),
        ("bucket_counts", pa.list_(_U64)),
        ("explicit_bounds", pa.list_(_F64)),
        ("scale", pa.int32()),
        ("zero_count", _U64),
        ("zero_threshold", _F64),
        ("positive_offset", pa.int32()),
        ("positive_bucket_counts", pa.list_(_U64)),
        ("negative_offset", pa.int32()),
        ("negative_bucket_counts", pa.list_(_U64)),
        ("quantile_values", _STR),
        *RESOURCE_SCOPE_FIELDS,
    ]
)
"""The columns of a metric data point, in the order of ``duckdb.tables.metric_table``; the fields a
point type does not have are null (or an empty list), as in ``MetricBatch``."""

SCHEMAS[Signal.METRICS] = METRIC_SCHEMA

JSON_COLUMNS = frozenset(
    {
        "resource_attributes",
        "scope_attributes",
        "attributes",
        "events",
        "links",
        "body",
        "exemplars",
        "quantile_values",
        "metric_metadata",
    }
)
"""The columns of these schemas whose strings are JSON (typed JSON values, or the document form)."""


DOCUMENT_FORM = {b"obsvty.json": b"documents"}
"""The schema metadata of a batch whose JSON columns are in the document form, the compiled
decoder's lossless option for the MongoDB store (see ``_native/typed_json.h`` and
``mongodb.documents``): attribute maps as ``[{"k": key, "v": value}, ...]``, NaN and infinities
as ``{"$double": "<hex bits>"}``. Without it they are the typed JSON DuckDB stores."""


def in_document_form(batch: ArrowBatch) -> bool:
    return bool(batch.table.schema.metadata == DOCUMENT_FORM)


@dataclass(slots=True)
class ArrowBatch:
    """One signal's items as an Arrow table whose schema is ``SCHEMAS[signal]``."""

    signal: Signal
    table: Any  # pa.Table

    def __len__(self) -> int:
        return int(self.table.num_rows)

    def slice(self, start: int, stop: int | None = None) -> Self:
        """Items ``start:stop`` (sharing the table's memory: Arrow data is immutable)."""
        n = len(self)
        stop = n if stop is None else min(stop, n)
        start = min(start, stop)
        return type(self)(self.signal, self.table.slice(start, stop - start))

    @classmethod
    def concat(cls, batches: list[Self]) -> Self:
        return cls(batches[0].signal, pa.concat_tables([b.table for b in batches]))
