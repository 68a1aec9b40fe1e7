"""Domain records back out as OTLP export requests (protobuf messages), the inverse of
``to_domain``.

Spans, log records and metric points are grouped by resource, then by scope (and, for metrics,
by metric), into an ``Export*ServiceRequest`` built with the official stubs. Posting the result
to any OTLP receiver recreates the records exactly. ``export`` turns them into OTLP/JSON.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from operator import attrgetter
from typing import Any, TypeVar

from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.trace.v1 import trace_pb2

from obsvty.adapters.encoding.typed_json import dumps
from obsvty.domain.model import (
    Attributes,
    AttributeValue,
    Exemplar,
    InstrumentationScope,
    LogRecord,
    MetricDescriptor,
    MetricPoint,
    MetricType,
    Resource,
    Span,
)

T = TypeVar("T")

# ----------------------------------------------------------------------------- values


def set_any_value(target: common_pb2.AnyValue, value: AttributeValue) -> None:
    """Write one native attribute value into an ``AnyValue`` (``None`` leaves it empty)."""
    if isinstance(value, str):
        target.string_value = value
    elif isinstance(value, bool):  # before int: a bool is an int in Python
        target.bool_value = value
    elif isinstance(value, int):
        target.int_value = value
    elif isinstance(value, float):
        target.double_value = value
    elif isinstance(value, bytes):
        target.bytes_value = value
    elif isinstance(value, list):
        array = target.array_value
        array.SetInParent()  # an empty array is still an array, not an empty value
        for item in value:
            set_any_value(array.values.add(), item)
    elif isinstance(value, dict):
        kvlist = target.kvlist_value
        kvlist.SetInParent()
        _set_attributes(kvlist.values, value)


def _set_attributes(target: Any, attributes: Attributes) -> None:
    for key, value in attributes.items():
        kv = target.add()
        kv.key = key
        set_any_value(kv.value, value)


def _resource(target: resource_pb2.Resource, resource: Resource) -> None:
    _set_attributes(target.attributes, resource.attributes)
    target.dropped_attributes_count = resource.dropped_attributes_count


def _scope(target: common_pb2.InstrumentationScope, scope: InstrumentationScope) -> None:
    target.name = scope.name
    target.version = scope.version
    _set_attributes(target.attributes, scope.attributes)
    target.dropped_attributes_count = scope.dropped_attributes_count


def _resource_key(r: Resource) -> Hashable:
    return (dumps(r.attributes), r.dropped_attributes_count, r.schema_url)


def _scope_key(s: InstrumentationScope) -> Hashable:
    return (s.name, s.version, dumps(s.attributes), s.dropped_attributes_count, s.schema_url)


def by_resource_and_scope(
    items: Iterable[T],
    resource_of: Callable[[T], Resource],
    scope_of: Callable[[T], InstrumentationScope],
) -> list[tuple[Resource, list[tuple[InstrumentationScope, list[T]]]]]:
    """Items grouped by resource, then by scope, each group in first-seen order."""
    resources: dict[Hashable, tuple[Resource, dict[Hashable, tuple[InstrumentationScope, list[T]]]]]
    resources = {}
    # identical objects (the common case) skip the key computation
    resource_keys: dict[int, Hashable] = {}
    scope_keys: dict[int, Hashable] = {}
    for item in items:
        res, sc = resource_of(item), scope_of(item)
        rkey = resource_keys.get(id(res))
        if rkey is None:
            rkey = resource_keys[id(res)] = _resource_key(res)
        skey = scope_keys.get(id(sc))
        if skey is None:
            skey = scope_keys[id(sc)] = _scope_key(sc)
        scopes = resources.setdefault(rkey, (res, {}))[1]
        scopes.setdefault(skey, (sc, []))[1].append(item)
    return [(res, list(scopes.values())) for res, scopes in resources.values()]


def _groups(
    items: Iterable[Span] | Iterable[LogRecord] | Iterable[MetricPoint],
) -> list[tuple[Resource, list[tuple[InstrumentationScope, list[Any]]]]]:
    return by_resource_and_scope(items, attrgetter("resource"), attrgetter("scope"))


def _each(field: str, build: Callable[[Any, T], None]) -> Callable[[Any, list[T]], None]:
    """Fill a scope message's repeated ``field`` with one message per item, built by ``build``."""

    def fill(out: Any, items: list[T]) -> None:
        repeated = getattr(out, field)
        for item in items:
            build(repeated.add(), item)

    return fill


def _fill(
    resource_messages: Any,
    scope_list: str,
    groups: list[tuple[Resource, list[tuple[InstrumentationScope, list[T]]]]],
    fill_scope: Callable[[Any, list[T]], None],
) -> None:
    """One ``Resource*`` message per resource group and, in its ``scope_list``, one ``Scope*``
    message per scope group, filled by ``fill_scope`` with the group's items."""
    for res, scopes in groups:
        rm = resource_messages.add()
        _resource(rm.resource, res)
        rm.schema_url = res.schema_url
        for sc, items in scopes:
            sm = getattr(rm, scope_list).add()
            _scope(sm.scope, sc)
            sm.schema_url = sc.schema_url
            fill_scope(sm, items)


# ----------------------------------------------------------------------------- traces


def traces_request(spans: Iterable[Span]) -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    _fill(request.resource_spans, "scope_spans", _groups(spans), _each("spans", _span))
    return request


def _span(out: trace_pb2.Span, s: Span) -> None:
    out.trace_id = s.trace_id
    out.span_id = s.span_id
    out.parent_span_id = s.parent_span_id
    out.trace_state = s.trace_state
    out.flags = s.flags
    out.name = s.name
    out.kind = s.kind  # type: ignore[assignment]
    out.start_time_unix_nano = s.start_time_unix_nano
    out.end_time_unix_nano = s.end_time_unix_nano
    _set_attributes(out.attributes, s.attributes)
    out.dropped_attributes_count = s.dropped_attributes_count
    for e in s.events:
        event = out.events.add()
        event.time_unix_nano = e.time_unix_nano
        event.name = e.name
        _set_attributes(event.attributes, e.attributes)
        event.dropped_attributes_count = e.dropped_attributes_count
    out.dropped_events_count = s.dropped_events_count
    for link in s.links:
        lk = out.links.add()
        lk.trace_id = link.trace_id
        lk.span_id = link.span_id
        lk.trace_state = link.trace_state
        _set_attributes(lk.attributes, link.attributes)
        lk.dropped_attributes_count = link.dropped_attributes_count
        lk.flags = link.flags
    out.dropped_links_count = s.dropped_links_count
    out.status.code = s.status_code  # type: ignore[assignment]
    out.status.message = s.status_message


# ------------------------------------------------------------------------------- logs


def logs_request(records: Iterable[LogRecord]) -> ExportLogsServiceRequest:
    request = ExportLogsServiceRequest()
    _fill(request.resource_logs, "scope_logs", _groups(records), _each("log_records", _log))
    return request


def _log(out: logs_pb2.LogRecord, r: LogRecord) -> None:
    out.time_unix_nano = r.time_unix_nano
    out.observed_time_unix_nano = r.observed_time_unix_nano
    out.severity_number = r.severity_number  # type: ignore[assignment]
    out.severity_text = r.severity_text
    if r.body is not None:
        set_any_value(out.body, r.body)
    _set_attributes(out.attributes, r.attributes)
    out.dropped_attributes_count = r.dropped_attributes_count
    out.flags = r.flags
    out.trace_id = r.trace_id
    out.span_id = r.span_id
    out.event_name = r.event_name


# ---------------------------------------------------------------------------- metrics


def _descriptor_key(m: MetricDescriptor) -> Hashable:
    return (
        m.name,
        m.description,
        m.unit,
        m.type,
        m.aggregation_temporality,
        m.is_monotonic,
        dumps(m.metadata),
    )


def metrics_request(points: Iterable[MetricPoint]) -> ExportMetricsServiceRequest:
    request = ExportMetricsServiceRequest()
    _fill(request.resource_metrics, "scope_metrics", _groups(points), _scope_metrics)
    return request


def _scope_metrics(out: Any, points: list[MetricPoint]) -> None:
    """One ``Metric`` per descriptor, holding its points."""
    by_metric: dict[Hashable, list[MetricPoint]] = {}
    for point in points:
        by_metric.setdefault(_descriptor_key(point.metric), []).append(point)
    for group in by_metric.values():
        _metric(out.metrics.add(), group)


def _metric(out: metrics_pb2.Metric, points: list[MetricPoint]) -> None:
    m = points[0].metric
    out.name = m.name
    out.description = m.description
    out.unit = m.unit
    _set_attributes(out.metadata, m.metadata)
    kind = MetricType(m.type)
    data = getattr(out, kind.value)
    data.SetInParent()
    if kind in (MetricType.SUM, MetricType.HISTOGRAM, MetricType.EXPONENTIAL_HISTOGRAM):
        data.aggregation_temporality = m.aggregation_temporality
    if kind is MetricType.SUM:
        data.is_monotonic = m.is_monotonic
    for p in points:
        point = data.data_points.add()
        point.start_time_unix_nano = p.start_time_unix_nano
        point.time_unix_nano = p.time_unix_nano
        _set_attributes(point.attributes, p.attributes)
        point.flags = p.flags
        if kind in (MetricType.GAUGE, MetricType.SUM):
            if p.value_int is not None:
                point.as_int = p.value_int
            elif p.value_double is not None:
                point.as_double = p.value_double
        else:
            _distribution(point, kind, p)
        if kind is not MetricType.SUMMARY:
            for e in p.exemplars:
                _exemplar(point.exemplars.add(), e)


def _distribution(point: Any, kind: MetricType, p: MetricPoint) -> None:
    point.count = p.count or 0
    if p.sum is not None:
        point.sum = p.sum
    if kind is MetricType.SUMMARY:
        for q, v in p.quantile_values:
            qv = point.quantile_values.add()
            qv.quantile = q
            qv.value = v
        return
    if p.min is not None:
        point.min = p.min
    if p.max is not None:
        point.max = p.max
    if kind is MetricType.HISTOGRAM:
        point.bucket_counts.extend(p.bucket_counts)
        point.explicit_bounds.extend(p.explicit_bounds)
        return
    point.scale = p.scale or 0
    point.zero_count = p.zero_count or 0
    point.zero_threshold = p.zero_threshold or 0.0
    point.positive.offset = p.positive_offset or 0
    point.positive.bucket_counts.extend(p.positive_bucket_counts)
    point.negative.offset = p.negative_offset or 0
    point.negative.bucket_counts.extend(p.negative_bucket_counts)


def _exemplar(out: metrics_pb2.Exemplar, e: Exemplar) -> None:
    out.time_unix_nano = e.time_unix_nano
    if isinstance(e.value, int) and not isinstance(e.value, bool):
        out.as_int = e.value
    elif isinstance(e.value, float):
        out.as_double = e.value
    _set_attributes(out.filtered_attributes, e.filtered_attributes)
    out.trace_id = e.trace_id
    out.span_id = e.span_id
