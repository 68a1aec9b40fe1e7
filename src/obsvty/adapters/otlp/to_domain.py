"""OTLP protobuf messages → columnar domain batches, validating every item on the way.

This is the ingest hot path: it walks each request once, appends valid items straight into the
batch columns and counts the invalid ones, so that a request is never half stored and the client
learns, through ``partial_success``, what was rejected and why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, InstrumentationScope, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import Metric
from opentelemetry.proto.resource.v1 import resource_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1 import trace_pb2

from obsvty.application.ingest import DecodedRequest
from obsvty.domain import model
from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Attributes, AttributeValue, MetricDescriptor, MetricType
from obsvty.domain.validation import (
    histogram_problem,
    link_problem,
    log_problem,
    normalize_optional_id,
    normalize_parent,
    optional_ids_problem,
    point_time_problem,
    span_record_problem,
    temporality_problem,
)

_SCALAR_KINDS = frozenset(
    {"string_value", "bool_value", "int_value", "double_value", "bytes_value"}
)


def any_value(value: AnyValue) -> AttributeValue:
    kind = value.WhichOneof("value")
    if kind in _SCALAR_KINDS:
        scalar: AttributeValue = getattr(value, kind)
        return scalar
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return None


# Most attributes repeat from span to span (http.method=GET, server.port=8080, ...). Reading a
# key and a value out of protobuf costs several Python-level accesses; serialising the KeyValue
# back to its wire bytes is one C call. So key/values are remembered by their wire bytes (equal
# bytes are an equal key and value): scalars as themselves, flat arrays as a tuple that each hit
# copies into a fresh list (no two spans share a mutable value). The cache is bounded in entries
# and in entry size, and emptied when full, so high-cardinality values cost one miss each.
_KV_CACHE_ENTRIES = 8192
_KV_CACHE_MAX_BYTES = 256
_kv_cache: dict[bytes, tuple[str, AttributeValue | tuple[AttributeValue, ...]]] = {}


def attributes(kvs: Iterable[KeyValue]) -> Attributes:
    out: Attributes = {}
    cache = _kv_cache
    for kv in kvs:
        wire = kv.SerializeToString()
        hit = cache.get(wire)
        if hit is not None:
            key, cached = hit
            out[key] = list(cached) if type(cached) is tuple else cached  # type: ignore[assignment]
            continue
        out[kv.key] = _convert_and_remember(kv, wire)
    return out


def wire_attributes(wires: Iterable[bytes]) -> Attributes:
    """Attributes from undecoded ``KeyValue`` wire bytes (see :data:`TRACE_REQUEST_VIEW`).
    Raises :class:`UndecodableAttributeError` for bytes that are not a ``KeyValue``."""
    out: Attributes = {}
    cache = _kv_cache
    for wire in wires:
        hit = cache.get(wire)
        if hit is not None:
            key, cached = hit
            out[key] = list(cached) if type(cached) is tuple else cached  # type: ignore[assignment]
            continue
        try:
            kv = KeyValue.FromString(wire)
        except (DecodeError, RuntimeError, ValueError) as exc:
            raise UndecodableAttributeError(f"undecodable attribute: {exc}") from None
        out[kv.key] = _convert_and_remember(kv, wire)
    return out


def _convert_and_remember(kv: KeyValue, wire: bytes) -> AttributeValue:
    v = kv.value
    kind = v.WhichOneof("value")
    value: AttributeValue
    remembered: AttributeValue | tuple[AttributeValue, ...] = None
    if kind in _SCALAR_KINDS:
        value = remembered = getattr(v, kind)
    else:
        value = any_value(v)
        if type(value) is list and not any(type(x) in (list, dict) for x in value):
            remembered = tuple(value)
    if remembered is not None and len(wire) <= _KV_CACHE_MAX_BYTES:
        cache = _kv_cache
        if len(cache) >= _KV_CACHE_ENTRIES:
            cache.clear()
        cache[wire] = (kv.key, remembered)
    return value


class UndecodableAttributeError(ValueError):
    """A span, event or link attribute is not a decodable ``KeyValue``: the request is invalid."""


def _attributes_as_bytes() -> type[Message]:
    """``ExportTraceServiceRequest`` as the official descriptors define it, except that span,
    event and link ``attributes`` are ``repeated bytes``: the same wire format (a length-delimited
    field), left undecoded by the parser. Each ``KeyValue`` then costs one dictionary lookup of its
    bytes in the attribute cache instead of several protobuf accesses, which is most of the work
    of converting a span. Built at run time, in a private descriptor pool, from the descriptors
    the official opentelemetry-proto modules carry; nothing is generated or vendored."""
    pool = descriptor_pool.DescriptorPool()
    for module in (common_pb2, resource_pb2, trace_pb2, trace_service_pb2):
        file_proto = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(file_proto)
        if module is trace_pb2:
            (span,) = [m for m in file_proto.message_type if m.name == "Span"]
            for message in (span, *span.nested_type):  # Span, Span.Event, Span.Link
                for fd in message.field:
                    if fd.name == "attributes":
                        fd.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
                        fd.ClearField("type_name")
        pool.Add(file_proto)
    name = ExportTraceServiceRequest.DESCRIPTOR.full_name
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(name))


TRACE_REQUEST_VIEW = _attributes_as_bytes()
"""The class binary trace requests are parsed into (see :func:`_attributes_as_bytes`)."""


def resource(res: Resource, schema_url: str) -> model.Resource:
    return model.Resource(attributes(res.attributes), res.dropped_attributes_count, schema_url)


def scope(sc: InstrumentationScope, schema_url: str) -> model.InstrumentationScope:
    return model.InstrumentationScope(
        sc.name, sc.version, attributes(sc.attributes), sc.dropped_attributes_count, schema_url
    )


_SPAN_COLUMNS = tuple(f.name for f in dataclasses.fields(SpanBatch))


def traces(request: Message) -> DecodedRequest:
    """Spans of a :data:`TRACE_REQUEST_VIEW` (or of an official ``ExportTraceServiceRequest``,
    re-read as one). Raises :class:`UndecodableAttributeError` for a malformed attribute.

    Each valid span becomes one tuple of its fields in :class:`SpanBatch` column order, and the
    rows are turned into columns at the end by one ``zip``: cheaper than an append per column
    per span, and this loop runs for every span received."""
    if not isinstance(request, TRACE_REQUEST_VIEW):
        request = TRACE_REQUEST_VIEW.FromString(request.SerializeToString())
    rejects: list[str] = []
    rows: list[tuple[Any, ...]] = []
    add_row = rows.append
    span_attributes = wire_attributes
    problem_of = span_record_problem
    for rs in request.resource_spans:  # type: ignore[attr-defined]
        res = resource(rs.resource, rs.schema_url)
        for ss in rs.scope_spans:
            sc = scope(ss.scope, ss.schema_url)
            for span in ss.spans:
                trace_id = span.trace_id
                span_id = span.span_id
                parent = span.parent_span_id
                start = span.start_time_unix_nano
                end = span.end_time_unix_nano
                kind = span.kind
                status = span.status
                code = status.code
                problem = problem_of(trace_id, span_id, parent, start, end, kind, code)
                links: list[model.SpanLink] = []
                if problem is None and span.links:
                    links, problem = _links(span.links)
                if problem is not None:
                    rejects.append(problem)
                    continue
                events = span.events
                add_row(
                    (
                        trace_id,
                        span_id,
                        normalize_parent(parent),
                        span.trace_state,
                        span.flags,
                        span.name,
                        kind,
                        start,
                        end,
                        span_attributes(span.attributes),
                        span.dropped_attributes_count,
                        [
                            model.SpanEvent(
                                e.time_unix_nano,
                                e.name,
                                span_attributes(e.attributes),
                                e.dropped_attributes_count,
                            )
                            for e in events
                        ]
                        if events
                        else [],
                        span.dropped_events_count,
                        links,
                        span.dropped_links_count,
                        code,
                        status.message,
                        res,
                        sc,
                    )
                )
    columns = map(list, zip(*rows, strict=True))
    batch = SpanBatch(**dict(zip(_SPAN_COLUMNS, columns, strict=True))) if rows else SpanBatch()
    return DecodedRequest(batch, len(rejects), rejects[0] if rejects else "")


def _links(links: Iterable[Any]) -> tuple[list[model.SpanLink], str | None]:
    out = []
    for link in links:
        problem = link_problem(link.trace_id, link.span_id)
        if problem:
            return [], problem
        out.append(
            model.SpanLink(
                link.trace_id,
                link.span_id,
                link.trace_state,
                wire_attributes(link.attributes),
                link.dropped_attributes_count,
                link.flags,
            )
        )
    return out, None


def logs(request: ExportLogsServiceRequest) -> DecodedRequest:
    batch = LogBatch()
    decoded = DecodedRequest(batch)
    for rl in request.resource_logs:
        res = resource(rl.resource, rl.schema_url)
        for sl in rl.scope_logs:
            sc = scope(sl.scope, sl.schema_url)
            for rec in sl.log_records:
                trace_id = normalize_optional_id(rec.trace_id)
                span_id = normalize_optional_id(rec.span_id)
                problem = log_problem(
                    rec.time_unix_nano,
                    rec.observed_time_unix_nano,
                    rec.severity_number,
                    trace_id,
                    span_id,
                )
                if problem is not None:
                    decoded.reject(problem)
                    continue
                batch.time_unix_nano.append(rec.time_unix_nano)
                batch.observed_time_unix_nano.append(rec.observed_time_unix_nano)
                batch.severity_number.append(rec.severity_number)
                batch.severity_text.append(rec.severity_text)
                batch.body.append(any_value(rec.body) if rec.HasField("body") else None)
                batch.attributes.append(attributes(rec.attributes))
                batch.dropped_attributes_count.append(rec.dropped_attributes_count)
                batch.flags.append(rec.flags)
                batch.trace_id.append(trace_id)
                batch.span_id.append(span_id)
                batch.event_name.append(rec.event_name)
                batch.resource.append(res)
                batch.scope.append(sc)
    return decoded


def metrics(request: ExportMetricsServiceRequest) -> DecodedRequest:
    batch = MetricBatch()
    decoded = DecodedRequest(batch)
    for rm in request.resource_metrics:
        res = resource(rm.resource, rm.schema_url)
        for sm in rm.scope_metrics:
            sc = scope(sm.scope, sm.schema_url)
            for metric in sm.metrics:
                _metric_points(metric, res, sc, batch, decoded)
    return decoded


def _descriptor(metric: Metric, kind: str, temporality: int, monotonic: bool) -> MetricDescriptor:
    return MetricDescriptor(
        name=metric.name,
        description=metric.description,
        unit=metric.unit,
        type=kind,
        aggregation_temporality=temporality,
        is_monotonic=monotonic,
        metadata=attributes(metric.metadata),
    )


def _metric_points(
    metric: Metric,
    res: model.Resource,
    sc: model.InstrumentationScope,
    batch: MetricBatch,
    decoded: DecodedRequest,
) -> None:
    kind = metric.WhichOneof("data")
    if kind is None:
        decoded.reject(f"metric {metric.name!r} has no data")
        return
    if not metric.name:
        decoded.reject("metric name is required")
        return
    data = getattr(metric, kind)
    problem = temporality_problem(getattr(data, "aggregation_temporality", 0))
    if problem is not None:
        for _point in data.data_points:
            decoded.reject(f"metric {metric.name!r}: {problem}")
        return
    descriptor = _descriptor(
        metric,
        MetricType(kind).value,
        getattr(data, "aggregation_temporality", 0),
        getattr(data, "is_monotonic", False),
    )
    for point in data.data_points:
        problem = point_time_problem(point.start_time_unix_nano, point.time_unix_nano)
        exemplars: list[model.Exemplar] = []
        if problem is None and kind != "summary" and point.exemplars:
            exemplars, problem = _exemplars(point.exemplars)
        if problem is None and kind == "histogram":
            problem = histogram_problem(point.bucket_counts, point.explicit_bounds)
        if problem is not None:
            decoded.reject(f"metric {metric.name!r}: {problem}")
            continue
        _append_point(batch, descriptor, kind, point, exemplars, res, sc)


def _append_point(
    batch: MetricBatch,
    descriptor: MetricDescriptor,
    kind: str,
    point: Any,
    exemplars: list[model.Exemplar],
    res: model.Resource,
    sc: model.InstrumentationScope,
) -> None:
    batch.metric.append(descriptor)
    batch.start_time_unix_nano.append(point.start_time_unix_nano)
    batch.time_unix_nano.append(point.time_unix_nano)
    batch.attributes.append(attributes(point.attributes))
    batch.flags.append(point.flags)
    batch.exemplars.append(exemplars)
    batch.resource.append(res)
    batch.scope.append(sc)
    number = kind in ("gauge", "sum")
    value = point.WhichOneof("value") if number else None
    batch.value_int.append(point.as_int if value == "as_int" else None)
    batch.value_double.append(point.as_double if value == "as_double" else None)
    batch.count.append(None if number else point.count)
    has = point.HasField
    batch.sum.append(None if number else (point.sum if kind == "summary" or has("sum") else None))
    histogram = kind in ("histogram", "exponential_histogram")
    batch.min.append(point.min if histogram and has("min") else None)
    batch.max.append(point.max if histogram and has("max") else None)
    batch.bucket_counts.append(list(point.bucket_counts) if kind == "histogram" else [])
    batch.explicit_bounds.append(list(point.explicit_bounds) if kind == "histogram" else [])
    exponential = kind == "exponential_histogram"
    batch.scale.append(point.scale if exponential else None)
    batch.zero_count.append(point.zero_count if exponential else None)
    batch.zero_threshold.append(point.zero_threshold if exponential else None)
    batch.positive_offset.append(point.positive.offset if exponential else None)
    batch.positive_bucket_counts.append(list(point.positive.bucket_counts) if exponential else [])
    batch.negative_offset.append(point.negative.offset if exponential else None)
    batch.negative_bucket_counts.append(list(point.negative.bucket_counts) if exponential else [])
    batch.quantile_values.append(
        [(q.quantile, q.value) for q in point.quantile_values] if kind == "summary" else []
    )


def _exemplars(exemplars: Iterable[Any]) -> tuple[list[model.Exemplar], str | None]:
    out = []
    for ex in exemplars:
        trace_id = normalize_optional_id(ex.trace_id)
        span_id = normalize_optional_id(ex.span_id)
        problem = optional_ids_problem(trace_id, span_id)
        if problem:
            return [], f"exemplar: {problem}"
        which = ex.WhichOneof("value")
        value: int | float | None = getattr(ex, which) if which else None
        out.append(
            model.Exemplar(
                ex.time_unix_nano, value, attributes(ex.filtered_attributes), trace_id, span_id
            )
        )
    return out, None
