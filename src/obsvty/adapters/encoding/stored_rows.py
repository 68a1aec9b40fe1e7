"""Arrow batches in the stored row form (:mod:`obsvty.domain.arrow_batch`) back to the list-based
batches of :mod:`obsvty.domain.batches`, for a store that builds its own documents from Python
values (MongoDB). The inverse of ``duckdb.tables.span_table``, ``log_table`` and
``metric_table``: hex ids to bytes, typed JSON to values, each distinct resource, scope and metric
descriptor to one shared object. Typed JSON has no NaN or infinity (they are null, as DuckDB
stores them), so an exemplar value or a quantile that was one comes back as ``None`` or NaN.

The decoders of the stored parts (events, links, exemplars, quantiles, resources, scopes,
descriptors: :class:`Shared`, :func:`span_events`, ...) also serve the DuckDB query port, which
reads the same columns back row by row: one decoder per stored form."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar, cast

from obsvty.adapters.encoding.typed_json import loads_attributes, loads_value
from obsvty.domain.arrow_batch import ArrowBatch
from obsvty.domain.batches import ListBatch, LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import (
    Exemplar,
    InstrumentationScope,
    MetricDescriptor,
    Resource,
    Signal,
    SpanEvent,
    SpanLink,
)

T = TypeVar("T")


class Shared(Generic[T]):
    """One object per distinct tuple of stored values (a resource's, a scope's, a metric
    descriptor's), made once and referenced by every row holding it, as on ingest."""

    def __init__(self, make: Callable[..., T]) -> None:
        self._make = make
        self._made: dict[tuple[Any, ...], T] = {}

    def get(self, values: tuple[Any, ...]) -> T:
        found = self._made.get(values)
        if found is None:
            found = self._made[values] = self._make(*values)
        return found


def _shared(rows: Iterable[tuple[Any, ...]], make: Callable[..., T]) -> list[T]:
    shared = Shared(make)
    return [shared.get(row) for row in rows]


def resource(attributes: str, dropped: int, schema_url: str) -> Resource:
    """A resource from its stored columns, in ``RESOURCE_SCOPE_FIELDS`` order."""
    return Resource(loads_attributes(attributes), dropped, schema_url)


def scope(
    name: str, version: str, attributes: str, dropped: int, schema_url: str
) -> InstrumentationScope:
    """A scope from its stored columns, in ``RESOURCE_SCOPE_FIELDS`` order."""
    return InstrumentationScope(name, version, loads_attributes(attributes), dropped, schema_url)


def _json_list(document: str) -> list[dict[str, Any]]:
    """A typed-JSON array of objects (events, links, exemplars, quantiles), bytes revived in one
    pass over the whole document (most hold none and are not walked at all)."""
    if document == "[]":
        return []
    return cast("list[dict[str, Any]]", loads_value(document))


def span_events(document: str) -> list[SpanEvent]:
    """A span's ``events`` column."""
    return [
        SpanEvent(e["time_unix_nano"], e["name"], e["attributes"], e["dropped_attributes_count"])
        for e in _json_list(document)
    ]


def span_links(document: str) -> list[SpanLink]:
    """A span's ``links`` column."""
    return [
        SpanLink(
            bytes.fromhex(k["trace_id"]),
            bytes.fromhex(k["span_id"]),
            k["trace_state"],
            k["attributes"],
            k["dropped_attributes_count"],
            k["flags"],
        )
        for k in _json_list(document)
    ]


RESOURCE_COLUMNS = (
    "resource_attributes",
    "resource_dropped_attributes_count",
    "resource_schema_url",
)
"""The stored columns of a resource, in :func:`resource`'s order."""
SCOPE_COLUMNS = (
    "scope_name",
    "scope_version",
    "scope_attributes",
    "scope_dropped_attributes_count",
    "scope_schema_url",
)
"""The stored columns of a scope, in :func:`scope`'s order."""


def _resources_and_scopes(
    c: dict[str, list[Any]],
) -> tuple[list[Resource], list[InstrumentationScope]]:
    return (
        _shared(_columns(RESOURCE_COLUMNS, c), resource),
        _shared(_columns(SCOPE_COLUMNS, c), scope),
    )


def _ids(hex_ids: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hex_ids]


def _spans(c: dict[str, list[Any]]) -> SpanBatch:
    resources, scopes = _resources_and_scopes(c)
    return SpanBatch(
        trace_id=_ids(c["trace_id"]),
        span_id=_ids(c["span_id"]),
        parent_span_id=_ids(c["parent_span_id"]),
        trace_state=c["trace_state"],
        flags=c["flags"],
        name=c["name"],
        kind=c["kind"],
        start_time_unix_nano=c["start_time_unix_nano"],
        end_time_unix_nano=c["end_time_unix_nano"],
        attributes=[loads_attributes(a) for a in c["attributes"]],
        dropped_attributes_count=c["dropped_attributes_count"],
        events=[span_events(e) for e in c["events"]],
        dropped_events_count=c["dropped_events_count"],
        links=[span_links(k) for k in c["links"]],
        dropped_links_count=c["dropped_links_count"],
        status_code=c["status_code"],
        status_message=c["status_message"],
        resource=resources,
        scope=scopes,
    )


def _logs(c: dict[str, list[Any]]) -> LogBatch:
    resources, scopes = _resources_and_scopes(c)
    return LogBatch(
        time_unix_nano=c["time_unix_nano"],
        observed_time_unix_nano=c["observed_time_unix_nano"],
        severity_number=c["severity_number"],
        severity_text=c["severity_text"],
        body=[loads_value(b) for b in c["body"]],  # a NULL body (None) stays None
        attributes=[loads_attributes(a) for a in c["attributes"]],
        dropped_attributes_count=c["dropped_attributes_count"],
        flags=c["flags"],
        trace_id=_ids(c["trace_id"]),
        span_id=_ids(c["span_id"]),
        event_name=c["event_name"],
        resource=resources,
        scope=scopes,
    )


def metric_descriptor(
    name: str,
    description: str,
    unit: str,
    kind: str,
    temporality: int,
    monotonic: bool,
    metadata: str,
) -> MetricDescriptor:
    return MetricDescriptor(
        name, description, unit, kind, temporality, monotonic, loads_attributes(metadata)
    )


def exemplars(document: str) -> list[Exemplar]:
    """A metric point's ``exemplars`` column (a value that was NaN or infinite is ``None``)."""
    return [
        Exemplar(
            e["time_unix_nano"],
            e["value"],
            e["filtered_attributes"],
            bytes.fromhex(e["trace_id"]),
            bytes.fromhex(e["span_id"]),
        )
        for e in _json_list(document)
    ]


def quantile_values(document: str) -> list[tuple[Any, Any]]:
    """A summary point's ``quantile_values`` column as stored: ``None`` where a quantile or its
    value was NaN (the query port answers so; a batch for another store gets NaN back)."""
    return [(q["quantile"], q["value"]) for q in _json_list(document)]


def _nan_quantiles(document: str) -> list[tuple[float, float]]:
    return [
        (math.nan if q is None else q, math.nan if v is None else v)
        for q, v in quantile_values(document)
    ]


def _columns(names: tuple[str, ...], c: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    return list(zip(*(c[name] for name in names), strict=True))


DESCRIPTOR_COLUMNS = (
    "metric_name",
    "metric_description",
    "metric_unit",
    "metric_type",
    "aggregation_temporality",
    "is_monotonic",
    "metric_metadata",
)
"""The stored columns of a metric descriptor, in :func:`metric_descriptor`'s order."""
_POINT_COLUMNS = (
    "start_time_unix_nano",
    "time_unix_nano",
    "flags",
    "value_int",
    "value_double",
    "count",
    "sum",
    "min",
    "max",
    "bucket_counts",
    "explicit_bounds",
    "scale",
    "zero_count",
    "zero_threshold",
    "positive_offset",
    "positive_bucket_counts",
    "negative_offset",
    "negative_bucket_counts",
)


def _metrics(c: dict[str, list[Any]]) -> MetricBatch:
    resources, scopes = _resources_and_scopes(c)
    return MetricBatch(
        metric=_shared(_columns(DESCRIPTOR_COLUMNS, c), metric_descriptor),
        attributes=[loads_attributes(a) for a in c["attributes"]],
        exemplars=[exemplars(e) for e in c["exemplars"]],
        quantile_values=[_nan_quantiles(q) for q in c["quantile_values"]],
        resource=resources,
        scope=scopes,
        **{name: c[name] for name in _POINT_COLUMNS},
    )


def list_batch(batch: ArrowBatch) -> ListBatch:
    """The same items as a list-based batch."""
    columns = batch.table.to_pydict()
    if batch.signal is Signal.TRACES:
        return _spans(columns)
    if batch.signal is Signal.LOGS:
        return _logs(columns)
    return _metrics(columns)
