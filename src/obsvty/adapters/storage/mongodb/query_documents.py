"""MongoDB documents back into domain records, for the query port (and the store's tests).

A document holds the model as the store wrote it (``mongodb.documents``): ids as hex, attributes as
``[{k, v}]`` pairs decoded by ``documents.decode_attributes``, integers that may have come back as
``Int64`` or a string (``documents.decode_int``), events, links and exemplars as embedded
documents. Every field is read by name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.documents import decode_attributes
from obsvty.domain.model import (
    AttributeValue,
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    MetricPoint,
    Resource,
    Span,
    SpanEvent,
    SpanLink,
)

_int = docs.decode_int


def _optional_int(value: Any) -> int | None:
    return None if value is None else docs.decode_int(value)


def _resource(d: Mapping[str, Any]) -> Resource:
    return Resource(
        decode_attributes(d.get("resource_attributes")),
        _int(d["resource_dropped_attributes_count"]),
        d["resource_schema_url"],
    )


def _scope(d: Mapping[str, Any]) -> InstrumentationScope:
    return InstrumentationScope(
        d["scope_name"],
        d["scope_version"],
        decode_attributes(d.get("scope_attributes")),
        _int(d["scope_dropped_attributes_count"]),
        d["scope_schema_url"],
    )


def _native_value(value: Any) -> AttributeValue:
    return decode_attributes([{"k": "", "v": value}])[""]


def span_from_document(d: Mapping[str, Any]) -> Span:
    return Span(
        trace_id=bytes.fromhex(d["trace_id"]),
        span_id=bytes.fromhex(d["span_id"]),
        parent_span_id=bytes.fromhex(d["parent_span_id"]),
        trace_state=d["trace_state"],
        flags=_int(d["flags"]),
        name=d["name"],
        kind=_int(d["kind"]),
        start_time_unix_nano=_int(d["start_time_unix_nano"]),
        end_time_unix_nano=_int(d["end_time_unix_nano"]),
        attributes=decode_attributes(d.get("attributes")),
        dropped_attributes_count=_int(d["dropped_attributes_count"]),
        events=tuple(
            SpanEvent(
                _int(e["time_unix_nano"]),
                e["name"],
                decode_attributes(e.get("attributes")),
                _int(e["dropped_attributes_count"]),
            )
            for e in d.get("events") or ()
        ),
        dropped_events_count=_int(d["dropped_events_count"]),
        links=tuple(
            SpanLink(
                bytes.fromhex(link["trace_id"]),
                bytes.fromhex(link["span_id"]),
                link["trace_state"],
                decode_attributes(link.get("attributes")),
                _int(link["dropped_attributes_count"]),
                _int(link["flags"]),
            )
            for link in d.get("links") or ()
        ),
        dropped_links_count=_int(d["dropped_links_count"]),
        status_code=_int(d["status_code"]),
        status_message=d["status_message"],
        resource=_resource(d),
        scope=_scope(d),
    )


def log_from_document(d: Mapping[str, Any]) -> LogRecord:
    return LogRecord(
        time_unix_nano=_int(d["time_unix_nano"]),
        observed_time_unix_nano=_int(d["observed_time_unix_nano"]),
        severity_number=_int(d["severity_number"]),
        severity_text=d["severity_text"],
        body=_native_value(d.get("body")),
        attributes=decode_attributes(d.get("attributes")),
        dropped_attributes_count=_int(d["dropped_attributes_count"]),
        flags=_int(d["flags"]),
        trace_id=bytes.fromhex(d["trace_id"]),
        span_id=bytes.fromhex(d["span_id"]),
        event_name=d["event_name"],
        resource=_resource(d),
        scope=_scope(d),
    )


def _ints(values: Any) -> tuple[int, ...]:
    return tuple(docs.decode_int(v) for v in values or ())


def metric_point_from_document(d: Mapping[str, Any]) -> MetricPoint:
    return MetricPoint(
        metric=MetricDescriptor(
            name=d["metric_name"],
            description=d["metric_description"],
            unit=d["metric_unit"],
            type=d["metric_type"],
            aggregation_temporality=_int(d["aggregation_temporality"]),
            is_monotonic=d["is_monotonic"],
            metadata=decode_attributes(d.get("metric_metadata")),
        ),
        start_time_unix_nano=_int(d["start_time_unix_nano"]),
        time_unix_nano=_int(d["time_unix_nano"]),
        attributes=decode_attributes(d.get("attributes")),
        flags=_int(d["flags"]),
        exemplars=tuple(
            Exemplar(
                _int(e["time_unix_nano"]),
                e["value"] if isinstance(e["value"], float) else int(e["value"]),
                decode_attributes(e.get("filtered_attributes")),
                bytes.fromhex(e["trace_id"]),
                bytes.fromhex(e["span_id"]),
            )
            for e in d.get("exemplars") or ()
        ),
        value_int=_optional_int(d.get("value_int")),
        value_double=d.get("value_double"),
        count=_optional_int(d.get("count")),
        sum=d.get("sum"),
        min=d.get("min"),
        max=d.get("max"),
        bucket_counts=_ints(d.get("bucket_counts")),
        explicit_bounds=tuple(d.get("explicit_bounds") or ()),
        scale=_optional_int(d.get("scale")),
        zero_count=_optional_int(d.get("zero_count")),
        zero_threshold=d.get("zero_threshold"),
        positive_offset=_optional_int(d.get("positive_offset")),
        positive_bucket_counts=_ints(d.get("positive_bucket_counts")),
        negative_offset=_optional_int(d.get("negative_offset")),
        negative_bucket_counts=_ints(d.get("negative_bucket_counts")),
        quantile_values=tuple((q["quantile"], q["value"]) for q in d.get("quantile_values") or ()),
        resource=_resource(d),
        scope=_scope(d),
    )
