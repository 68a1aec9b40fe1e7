"""Arrow batches in the stored row form (:mod:`obsvty.domain.arrow_batch`) back to the list-based
batches of :mod:`obsvty.domain.batches`, for a store that builds its own documents from Python
values (MongoDB). The inverse of ``duckdb.store.span_table``, ``log_table`` and
``metric_table``: hex ids to bytes, typed JSON to values, each distinct resource, scope and metric
descriptor to one shared object. Typed JSON has no NaN or infinity (they are null, as DuckDB
stores them), so an exemplar value or a quantile that was one comes back as ``None`` or NaN."""

from __future__ import annotations

import math
from typing import Any

import orjson

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


def _shared(rows: list[tuple[Any, ...]], make: Any) -> list[Any]:
    """One object per distinct row of shared values, referenced by every row holding it."""
    made: dict[tuple[Any, ...], Any] = {}
    out = []
    for row in rows:
        obj = made.get(row)
        if obj is None:
            obj = made[row] = make(*row)
        out.append(obj)
    return out


def _resource(attributes: str, dropped: int, schema_url: str) -> Resource:
    return Resource(loads_attributes(attributes), dropped, schema_url)


def _scope(
    name: str, version: str, attributes: str, dropped: int, schema_url: str
) -> InstrumentationScope:
    return InstrumentationScope(name, version, loads_attributes(attributes), dropped, schema_url)


def _events(text: str) -> list[SpanEvent]:
    return [
        SpanEvent(
            e["time_unix_nano"],
            e["name"],
            loads_attributes(orjson.dumps(e["attributes"])),
            e["dropped_attributes_count"],
        )
        for e in orjson.loads(text)
    ]


def _links(text: str) -> list[SpanLink]:
    return [
        SpanLink(
            bytes.fromhex(k["trace_id"]),
            bytes.fromhex(k["span_id"]),
            k["trace_state"],
            loads_attributes(orjson.dumps(k["attributes"])),
            k["dropped_attributes_count"],
            k["flags"],
        )
        for k in orjson.loads(text)
    ]


def _resources_and_scopes(
    c: dict[str, list[Any]],
) -> tuple[list[Resource], list[InstrumentationScope]]:
    resources = _shared(
        list(
            zip(
                c["resource_attributes"],
                c["resource_dropped_attributes_count"],
                c["resource_schema_url"],
                strict=True,
            )
        ),
        _resource,
    )
    scopes = _shared(
        list(
            zip(
                c["scope_name"],
                c["scope_version"],
                c["scope_attributes"],
                c["scope_dropped_attributes_count"],
                c["scope_schema_url"],
                strict=True,
            )
        ),
        _scope,
    )
    return resources, scopes


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
        events=[_events(e) if e != "[]" else [] for e in c["events"]],
        dropped_events_count=c["dropped_events_count"],
        links=[_links(k) if k != "[]" else [] for k in c["links"]],
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


def _descriptor(
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


def _exemplars(text: str) -> list[Exemplar]:
    return [
        Exemplar(
            e["time_unix_nano"],
            e["value"],
            loads_attributes(orjson.dumps(e["filtered_attributes"])),
            bytes.fromhex(e["trace_id"]),
            bytes.fromhex(e["span_id"]),
        )
        for e in orjson.loads(text)
    ]


def _quantiles(text: str) -> list[tuple[float, float]]:
    return [
        (
            math.nan if q["quantile"] is None else q["quantile"],
            math.nan if q["value"] is None else q["value"],
        )
        for q in orjson.loads(text)
    ]


def _columns(names: tuple[str, ...], c: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
    return list(zip(*(c[name] for name in names), strict=True))


_DESCRIPTOR_COLUMNS = (
    "metric_name",
    "metric_description",
    "metric_unit",
    "metric_type",
    "aggregation_temporality",
    "is_monotonic",
    "metric_metadata",
)
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
        metric=_shared(_columns(_DESCRIPTOR_COLUMNS, c), _descriptor),
        attributes=[loads_attributes(a) for a in c["attributes"]],
        exemplars=[_exemplars(e) if e != "[]" else [] for e in c["exemplars"]],
        quantile_values=[_quantiles(q) if q != "[]" else [] for q in c["quantile_values"]],
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
