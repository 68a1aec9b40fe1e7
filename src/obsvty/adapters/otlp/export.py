"""Domain records back out as OTLP/JSON export requests; the protobuf requests are built in
``export_protobuf`` (re-exported here, the module the API and the dead-letter files use).

OTLP/JSON (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding) is the proto3 JSON
mapping with two differences that matter: trace and span ids are *hex* strings (not base64), and
enums are integers. Field names are lowerCamelCase; 64-bit integers are decimal strings, as
proto3 JSON writes them (every OTLP/JSON receiver accepts them).
"""

from __future__ import annotations

import base64
import math
from collections.abc import Callable, Iterable
from typing import Any

import orjson
from google.protobuf import json_format

from obsvty.adapters.encoding.model_fields import (
    Fields,
    resource_fields,
    scope_fields,
)
from obsvty.adapters.otlp.export_protobuf import (
    by_resource_and_scope,
    logs_request,
    metrics_request,
    set_any_value,
    traces_request,
)
from obsvty.domain.model import Attributes, AttributeValue, LogRecord, MetricPoint, Span

__all__ = [
    "logs_request",
    "logs_to_otlp_json",
    "metrics_request",
    "metrics_to_otlp_json",
    "set_any_value",
    "to_otlp_dict",
    "traces_request",
    "traces_to_otlp_dict",
    "traces_to_otlp_json",
]

# ------------------------------------------------------------------------------ OTLP/JSON

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _ids_to_hex(obj: dict[str, Any]) -> None:
    for key in _ID_KEYS:
        value = obj.get(key)
        if isinstance(value, str):
            obj[key] = base64.b64decode(value).hex()


def to_otlp_dict(request: Any) -> dict[str, Any]:
    """An export request as an OTLP/JSON document (a dict, ready for any JSON encoder)."""
    doc: dict[str, Any] = json_format.MessageToDict(request, use_integers_for_enums=True)
    for rs in doc.get("resourceSpans", ()):
        for ss in rs.get("scopeSpans", ()):
            for span in ss.get("spans", ()):
                _ids_to_hex(span)
                for link in span.get("links", ()):
                    _ids_to_hex(link)
    for rl in doc.get("resourceLogs", ()):
        for sl in rl.get("scopeLogs", ()):
            for record in sl.get("logRecords", ()):
                _ids_to_hex(record)
    for rm in doc.get("resourceMetrics", ()):
        for sm in rm.get("scopeMetrics", ()):
            for metric in sm.get("metrics", ()):
                for kind in ("gauge", "sum", "histogram", "exponentialHistogram"):
                    for point in metric.get(kind, {}).get("dataPoints", ()):
                        for exemplar in point.get("exemplars", ()):
                            _ids_to_hex(exemplar)
    return doc


# Spans straight to the OTLP/JSON document: the same dict as ``to_otlp_dict(traces_request(...))``
# (a unit test holds them equal), without building protobuf messages and walking them again with
# ``json_format``: several times faster, and a trace view is read far more often than written.


def _double_json(value: float) -> float | str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


_ANY_JSON: dict[type, Callable[[Any], dict[str, Any]]] = {
    str: lambda v: {"stringValue": v},
    bool: lambda v: {"boolValue": v},
    int: lambda v: {"intValue": str(v)},
    float: lambda v: {"doubleValue": _double_json(v)},
    bytes: lambda v: {"bytesValue": base64.b64encode(v).decode()},
    list: lambda v: {"arrayValue": {"values": [_any_json(x) for x in v]} if v else {}},
    dict: lambda v: {"kvlistValue": {"values": _attributes_json(v)} if v else {}},
}


def _any_json(value: AttributeValue) -> dict[str, Any]:
    encode = _ANY_JSON.get(type(value))
    if encode is None:  # None (an empty AnyValue), or a subclass of a native type
        encode = next((f for t, f in _ANY_JSON.items() if isinstance(value, t)), lambda _: {})
    return encode(value)


def _attributes_json(attributes: Attributes) -> list[dict[str, Any]]:
    out = []
    for key, value in attributes.items():
        kv: dict[str, Any] = {"key": key} if key else {}
        if value is not None:  # None: an empty AnyValue, which proto3 JSON leaves out
            kv["value"] = _any_json(value)
        out.append(kv)
    return out


def _put(doc: dict[str, Any], key: str, value: Any) -> None:
    if value:  # proto3 JSON leaves out fields with default values
        doc[key] = value


# Resource and scope from the shared encoding (``model_fields``): each field's name there and
# its JSON name. Fields the message lacks are not listed, so left out: a resource's service name
# is one of its attributes, and the schema URLs sit on the enclosing ``Resource*``/``Scope*``.
_SCOPE = (
    ("name", "name"),
    ("version", "version"),
    ("attributes", "attributes"),
    ("dropped_attributes_count", "droppedAttributesCount"),
)
_RESOURCE = (("attributes", "attributes"), ("dropped_attributes_count", "droppedAttributesCount"))


def _message_json(fields: Fields, names: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    """The proto3 JSON of a message from its shared-encoding fields: lowerCamelCase names,
    defaults left out."""
    return {json_name: fields[name] for name, json_name in names if fields[name]}


def _span_json(s: Span) -> dict[str, Any]:
    doc: dict[str, Any] = {}
    _put(doc, "traceId", s.trace_id.hex())
    _put(doc, "spanId", s.span_id.hex())
    _put(doc, "traceState", s.trace_state)
    _put(doc, "parentSpanId", s.parent_span_id.hex())
    _put(doc, "name", s.name)
    _put(doc, "kind", s.kind)
    _put(doc, "startTimeUnixNano", s.start_time_unix_nano and str(s.start_time_unix_nano))
    _put(doc, "endTimeUnixNano", s.end_time_unix_nano and str(s.end_time_unix_nano))
    _put(doc, "attributes", _attributes_json(s.attributes))
    _put(doc, "droppedAttributesCount", s.dropped_attributes_count)
    # events and links written out directly: through the shared fields and _message_json the
    # trace view was ~9 % slower with one event and one link per span
    events = []
    for e in s.events:
        event: dict[str, Any] = {}
        _put(event, "timeUnixNano", e.time_unix_nano and str(e.time_unix_nano))
        _put(event, "name", e.name)
        _put(event, "attributes", _attributes_json(e.attributes))
        _put(event, "droppedAttributesCount", e.dropped_attributes_count)
        events.append(event)
    _put(doc, "events", events)
    _put(doc, "droppedEventsCount", s.dropped_events_count)
    links = []
    for link in s.links:
        lk: dict[str, Any] = {}
        _put(lk, "traceId", link.trace_id.hex())
        _put(lk, "spanId", link.span_id.hex())
        _put(lk, "traceState", link.trace_state)
        _put(lk, "attributes", _attributes_json(link.attributes))
        _put(lk, "droppedAttributesCount", link.dropped_attributes_count)
        _put(lk, "flags", link.flags)
        links.append(lk)
    _put(doc, "links", links)
    _put(doc, "droppedLinksCount", s.dropped_links_count)
    status: dict[str, Any] = {}
    _put(status, "message", s.status_message)
    _put(status, "code", s.status_code)
    doc["status"] = status
    _put(doc, "flags", s.flags)
    return doc


def traces_to_otlp_dict(spans: Iterable[Span]) -> dict[str, Any]:
    """``spans`` as an OTLP/JSON ``ExportTraceServiceRequest`` document (a dict)."""
    resource_spans = []
    for res, scopes in by_resource_and_scope(spans, lambda s: s.resource, lambda s: s.scope):
        resource = _message_json(resource_fields(res, _attributes_json, ""), _RESOURCE)
        scope_spans = []
        for sc, items in scopes:
            ss: dict[str, Any] = {
                "scope": _message_json(scope_fields(sc, _attributes_json, ""), _SCOPE)
            }
            _put(ss, "spans", [_span_json(span) for span in items])
            _put(ss, "schemaUrl", sc.schema_url)
            scope_spans.append(ss)
        rs: dict[str, Any] = {"resource": resource, "scopeSpans": scope_spans}
        _put(rs, "schemaUrl", res.schema_url)
        resource_spans.append(rs)
    return {"resourceSpans": resource_spans} if resource_spans else {}


def traces_to_otlp_json(spans: Iterable[Span]) -> bytes:
    """An ``ExportTraceServiceRequest`` holding ``spans``, as OTLP/JSON bytes."""
    return orjson.dumps(traces_to_otlp_dict(spans))


def logs_to_otlp_json(records: Iterable[LogRecord]) -> bytes:
    """An ``ExportLogsServiceRequest`` holding ``records``, as OTLP/JSON bytes."""
    return orjson.dumps(to_otlp_dict(logs_request(records)))


def metrics_to_otlp_json(points: Iterable[MetricPoint]) -> bytes:
    """An ``ExportMetricsServiceRequest`` holding ``points``, as OTLP/JSON bytes."""
    return orjson.dumps(to_otlp_dict(metrics_request(points)))
