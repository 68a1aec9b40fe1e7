"""Spans as the Jaeger query service's JSON model (the classic ``/api/traces`` answers).

This is the shape Grafana's Jaeger data source and the Jaeger UI read: per trace, ``spans`` with
``references`` (``CHILD_OF`` for the parent, ``FOLLOWS_FROM`` for each link), times in
microseconds, typed ``tags``, ``logs`` for span events, and a ``processes`` table that spans point
into by ``processID``. The OTLP-to-Jaeger mapping follows the OpenTelemetry Collector's Jaeger
translator, which is what a real Jaeger shows for OTLP data:

- span kind becomes the ``span.kind`` tag (``server``, ``client``, ...; none when unspecified);
- status becomes ``otel.status_code`` (``OK``/``ERROR``), ``otel.status_description`` and, for an
  error, the ``error=true`` tag that Jaeger and Grafana colour red;
- the instrumentation scope becomes ``otel.scope.name`` / ``otel.scope.version``, the trace state
  ``w3c.tracestate``; a synthetic tag never hides an attribute of the same name;
- an event becomes a log whose ``event`` field is the event's name;
- the resource becomes the process: ``service.name`` is its ``serviceName``, the other resource
  attributes its tags;
- arrays and maps, which Jaeger's tags cannot hold, are JSON text in a ``string`` tag, bytes a
  base64 ``binary`` tag.

Ids are lower-case hex: 32 digits for a trace, 16 for a span. A span whose parent is not in the
trace (an orphan) keeps its ``CHILD_OF`` reference and gets a warning, as Jaeger does.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from typing import Any

import orjson

from obsvty.domain.model import (
    SERVICE_NAME_KEY,
    Attributes,
    AttributeValue,
    Resource,
    Span,
    SpanKind,
    StatusCode,
)

JSONDict = dict[str, Any]

_KIND_TAG = {
    SpanKind.INTERNAL: "internal",
    SpanKind.SERVER: "server",
    SpanKind.CLIENT: "client",
    SpanKind.PRODUCER: "producer",
    SpanKind.CONSUMER: "consumer",
}
_STATUS_TAG = {StatusCode.OK: "OK", StatusCode.ERROR: "ERROR"}


def _json_default(value: Any) -> Any:
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(f"not an attribute value: {type(value).__name__}")


_SCALAR_TYPES: tuple[tuple[type, str], ...] = (
    (bool, "bool"),  # before int: a bool is an int in Python
    (int, "int64"),
    (float, "float64"),
    (str, "string"),
)


_EXACT_TYPES = {bool: "bool", int: "int64", float: "float64", str: "string"}


def _typed(value: AttributeValue) -> tuple[str, Any]:
    exact = _EXACT_TYPES.get(type(value))
    if exact is not None:  # the common case, one lookup
        return exact, value
    for python_type, jaeger_type in _SCALAR_TYPES:
        if isinstance(value, python_type):
            return jaeger_type, value
    if isinstance(value, bytes):
        return "binary", base64.b64encode(value).decode()
    if value is None:
        return "string", ""
    return "string", orjson.dumps(value, default=_json_default).decode()


def tag(key: str, value: AttributeValue) -> JSONDict:
    """One Jaeger key-value with its type: string, bool, int64, float64 or binary."""
    kind, encoded = _typed(value)
    return {"key": key, "type": kind, "value": encoded}


def tags(attributes: Attributes) -> list[JSONDict]:
    return [tag(key, value) for key, value in attributes.items()]


def _span_tags(span: Span) -> list[JSONDict]:
    extra: list[tuple[str, AttributeValue]] = []
    if span.scope.name:
        extra.append(("otel.scope.name", span.scope.name))
    if span.scope.version:
        extra.append(("otel.scope.version", span.scope.version))
    kind = _KIND_TAG.get(span.kind)  # type: ignore[call-overload]
    if kind:
        extra.append(("span.kind", kind))
    status = _STATUS_TAG.get(span.status_code)  # type: ignore[call-overload]
    if status:
        extra.append(("otel.status_code", status))
    if span.status_code == StatusCode.ERROR:
        extra.append(("error", True))
    if span.status_message:
        extra.append(("otel.status_description", span.status_message))
    if span.trace_state:
        extra.append(("w3c.tracestate", span.trace_state))
    result = tags(span.attributes)
    result.extend(tag(key, value) for key, value in extra if key not in span.attributes)
    return result


def _logs(span: Span) -> list[JSONDict]:
    logs = []
    for event in span.events:
        fields = []
        if event.name and "event" not in event.attributes:
            fields.append(tag("event", event.name))
        fields.extend(tags(event.attributes))
        logs.append({"timestamp": event.time_unix_nano // 1000, "fields": fields})
    return logs


def _references(span: Span) -> list[JSONDict]:
    refs = []
    if span.parent_span_id:
        refs.append(
            {
                "refType": "CHILD_OF",
                "traceID": span.trace_id.hex(),
                "spanID": span.parent_span_id.hex(),
            }
        )
    refs.extend(
        {"refType": "FOLLOWS_FROM", "traceID": link.trace_id.hex(), "spanID": link.span_id.hex()}
        for link in span.links
    )
    return refs


def _warnings(span: Span, span_ids: set[bytes]) -> list[str] | None:
    warnings = []
    if span.parent_span_id and span.parent_span_id not in span_ids:
        warnings.append(
            f"invalid parent span IDs={span.parent_span_id.hex()}; parent span not received"
        )
    for count, what in (
        (span.dropped_attributes_count, "attributes"),
        (span.dropped_events_count, "events"),
        (span.dropped_links_count, "links"),
    ):
        if count:
            warnings.append(f"{count} {what} dropped by the sender")
    return warnings or None


class _Processes:
    """The trace's ``processes`` table: one entry per distinct resource, ids ``p1``, ``p2``..."""

    def __init__(self) -> None:
        self.table: dict[str, JSONDict] = {}
        self._ids: dict[bytes, str] = {}
        self._seen: dict[int, tuple[object, str]] = {}

    def id_for(self, span: Span) -> str:
        resource = span.resource
        seen = self._seen.get(id(resource))  # spans read back share their resource objects
        if seen is not None and seen[0] is resource:
            return seen[1]
        process_id = self._id_for(resource)
        self._seen[id(resource)] = (resource, process_id)
        return process_id

    def _id_for(self, resource: Resource) -> str:
        key = orjson.dumps(resource.attributes, default=_json_default)
        process_id = self._ids.get(key)
        if process_id is None:
            process_id = f"p{len(self._ids) + 1}"
            self._ids[key] = process_id
            self.table[process_id] = {
                "serviceName": resource.service_name,
                "tags": [
                    tag(k, v) for k, v in resource.attributes.items() if k != SERVICE_NAME_KEY
                ],
            }
        return process_id


def encode_trace(spans: Sequence[Span]) -> JSONDict:
    """One trace (all its spans, any order) as a Jaeger trace object, spans by start time."""
    if not spans:
        raise ValueError("a trace has at least one span")
    ordered = sorted(spans, key=lambda s: (s.start_time_unix_nano, s.span_id))
    span_ids = {s.span_id for s in ordered}
    processes = _Processes()
    encoded = [
        {
            "traceID": span.trace_id.hex(),
            "spanID": span.span_id.hex(),
            "flags": span.flags & 0xFF,
            "operationName": span.name,
            "references": _references(span),
            "startTime": span.start_time_unix_nano // 1000,
            "duration": max(0, span.end_time_unix_nano - span.start_time_unix_nano) // 1000,
            "tags": _span_tags(span),
            "logs": _logs(span),
            "processID": processes.id_for(span),
            "warnings": _warnings(span, span_ids),
        }
        for span in ordered
    ]
    return {
        "traceID": ordered[0].trace_id.hex(),
        "spans": encoded,
        "processes": processes.table,
        "warnings": None,
    }


def envelope(data: Iterable[Any] | None, errors: list[JSONDict] | None = None) -> JSONDict:
    """The classic API's answer around ``data`` (``total``/``limit``/``offset`` as Jaeger sends)."""
    items = None if data is None else list(data)
    return {
        "data": items,
        "total": len(items) if items is not None else 0,
        "limit": 0,
        "offset": 0,
        "errors": errors,
    }


def error_envelope(code: int, message: str) -> JSONDict:
    return envelope(None, [{"code": code, "msg": message}])
