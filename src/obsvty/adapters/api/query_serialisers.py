"""The native query API's answers: domain records and use-case results as JSON documents.

Each function builds the document one route answers, in the shape its model in
``query_models`` describes. Ids are lower-case hex; attribute values keep their types (the typed
JSON encoder writes bytes as ``{"$bytes": b64}`` and keeps ints and doubles apart).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from obsvty.adapters.encoding.model_fields import (
    event_fields,
    link_fields,
    log_fields,
    resource_fields,
    scope_fields,
)
from obsvty.application.query import MetricSeries
from obsvty.domain.model import InstrumentationScope, LogRecord, Resource, Signal, Span, SpanKind
from obsvty.ports.query import (
    DependencyLink,
    MetricInfo,
    Operation,
    StoreStats,
    TraceSummary,
)

STAT_ITEMS = {Signal.TRACES: "spans", Signal.LOGS: "log_records", Signal.METRICS: "data_points"}
"""What ``count`` counts for each signal in ``/stats`` (traces are counted in spans)."""

_STATUS = {0: "unset", 1: "ok", 2: "error"}


def kind_name(kind: int) -> str:
    """A span kind's name in lower case (``server``), or its number when unknown."""
    return SpanKind(kind).name.lower() if kind in SpanKind._value2member_map_ else str(kind)


def _resource(r: Resource) -> dict[str, Any]:
    return resource_fields(r, prefix="")


def _scope(s: InstrumentationScope) -> dict[str, Any]:
    return scope_fields(s, prefix="")


def span_doc(s: Span) -> dict[str, Any]:
    """One span with its events, links, resource and scope."""
    return {
        "trace_id": s.trace_id.hex(),
        "span_id": s.span_id.hex(),
        "parent_span_id": s.parent_span_id.hex(),
        "name": s.name,
        "kind": kind_name(s.kind),
        "start_time_unix_nano": s.start_time_unix_nano,
        "end_time_unix_nano": s.end_time_unix_nano,
        "duration_ns": s.duration_ns,
        "trace_state": s.trace_state,
        "flags": s.flags,
        "status": {"code": _STATUS.get(s.status_code, "unset"), "message": s.status_message},
        "attributes": s.attributes,
        "dropped_attributes_count": s.dropped_attributes_count,
        "events": [event_fields(e) for e in s.events],
        "dropped_events_count": s.dropped_events_count,
        "links": [link_fields(link) for link in s.links],
        "dropped_links_count": s.dropped_links_count,
        "resource": _resource(s.resource),
        "scope": _scope(s.scope),
    }


def log_doc(r: LogRecord) -> dict[str, Any]:
    """One log record with its resource and scope."""
    return {**log_fields(r), "resource": _resource(r.resource), "scope": _scope(r.scope)}


def operations_doc(ops: Iterable[Operation]) -> dict[str, Any]:
    return {"operations": [{"name": o.name, "span_kind": kind_name(o.span_kind)} for o in ops]}


def traces_doc(found: Iterable[TraceSummary]) -> dict[str, Any]:
    return {
        "traces": [
            {
                "trace_id": t.trace_id.hex(),
                "root_service": t.root_service,
                "root_name": t.root_name,
                "start_time_unix_nano": t.start_time_unix_nano,
                "duration_ns": t.duration_ns,
                "span_count": t.span_count,
                "error_count": t.error_count,
                "services": list(t.services),
            }
            for t in found
        ]
    }


def trace_doc(spans: list[Span]) -> dict[str, Any]:
    """One trace (``spans`` not empty)."""
    return {"trace_id": spans[0].trace_id.hex(), "spans": [span_doc(s) for s in spans]}


def logs_doc(records: Iterable[LogRecord], next_cursor: str | None) -> dict[str, Any]:
    return {"records": [log_doc(r) for r in records], "next_cursor": next_cursor}


def dependencies_doc(links: Iterable[DependencyLink]) -> dict[str, Any]:
    return {
        "dependencies": [
            {
                "parent": link.parent,
                "child": link.child,
                "call_count": link.call_count,
                "error_count": link.error_count,
            }
            for link in links
        ]
    }


def metrics_doc(infos: Iterable[MetricInfo]) -> dict[str, Any]:
    return {
        "metrics": [
            {
                "name": m.name,
                "type": m.type,
                "unit": m.unit,
                "description": m.description,
                "services": list(m.services),
            }
            for m in infos
        ]
    }


def series_doc(result: MetricSeries) -> dict[str, Any]:
    return {
        "name": result.name,
        "type": result.type,
        "unit": result.unit,
        "description": result.description,
        "mode": result.mode.value,
        "step_ns": result.step_ns,
        "truncated": result.truncated,
        "series": [
            {
                "service": s.service,
                "attributes": s.attributes,
                "resource": s.resource,
                "scope": {"name": s.scope.name, "version": s.scope.version},
                "start_time_unix_nano": s.start_time_unix_nano,
                "samples": [
                    {
                        "time_unix_nano": p.time_unix_nano,
                        "value": p.value,
                        "count": p.count,
                        "sum": p.sum,
                        "percentiles": p.percentiles,
                    }
                    for p in s.samples
                ],
            }
            for s in result.series
        ],
    }


def stats_doc(st: StoreStats, extras: Mapping[str, Any]) -> dict[str, Any]:
    """What is stored, per signal, with ``extras`` (retention, cloud sync) beside it."""
    return {
        "signals": {
            signal.value: {
                "items": STAT_ITEMS[signal],
                "count": s.count,
                "oldest_unix_nano": s.oldest_unix_nano,
                "newest_unix_nano": s.newest_unix_nano,
            }
            for signal, s in st.signals.items()
        },
        "size_bytes": st.size_bytes,
        **extras,
    }
