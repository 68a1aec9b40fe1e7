"""The query API: obsvty's native JSON API under ``/api/v1``, on its own listener.

``create_query_app(service)`` builds the FastAPI application (OpenAPI docs at ``/docs``). Other
parts of the read side attach to the same app, so that one listener serves them all:

* the Jaeger-compatible API: ``app.include_router(create_jaeger_router(store), prefix="/jaeger")``;
* the web UI, mounted last at ``/`` (``app.mount("/", ui_app)``), so it never shadows ``/api``,
  ``/jaeger`` or ``/docs``.

``create_query_app`` takes them as ``routers`` (prefix -> router) and ``ui`` arguments, so the
composition root wires everything with one call.

Conventions: times are unix nanoseconds in answers; in parameters they may also be RFC 3339 or
``now-1h`` (see ``application/query.py``). Ids are lower-case hex. Attribute values keep their
types: JSON numbers with a fraction are doubles, without one ints; bytes are ``{"$bytes": b64}``.
A bad parameter answers 400 ``{"error": "bad_request", "parameter": name, "message": why}``;
an unknown trace or metric 404 ``{"error": "not_found", "message": ...}``.
``format=otlp-json`` on a trace, a log search or a metric series answers an OTLP/JSON export
request instead (``application/json``), which any OTLP/HTTP receiver accepts as is.

Every route is a plain ``def``: FastAPI runs it in its thread pool, off the event loop; the
query port is safe to use from several threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.responses import Response
from starlette.types import ASGIApp

from obsvty import __version__
from obsvty.adapters.api.api_docs import mount_api_docs
from obsvty.adapters.encoding.typed_json import dumps
from obsvty.adapters.otlp import export
from obsvty.application.query import (
    DEFAULT_PERCENTILES,
    NotFoundError,
    QueryError,
    QueryService,
    SeriesMode,
    SeriesRequest,
    decode_cursor,
    encode_cursor,
    parse_attribute_filter,
    parse_duration,
    parse_limit,
    parse_severity,
    parse_span_kind,
    parse_time,
    parse_trace_id,
)
from obsvty.domain.model import (
    InstrumentationScope,
    LogRecord,
    Resource,
    Signal,
    Span,
    SpanKind,
)
from obsvty.ports.query import LogQuery, MetricQuery, TraceQuery

OTLP_JSON = "otlp-json"
NEXT_CURSOR_HEADER = "X-Obsvty-Next-Cursor"

Text = Annotated[str | None, Query()]
Attrs = Annotated[
    list[str],
    Query(
        description="Attribute filter `key=value`, repeatable (all must match). The value is "
        'typed as a JSON literal: `200` int, `1.5` double, `true` bool, `"200"` string; '
        "otherwise text. Numbers also match string attributes with the same text.",
        examples=["http.status_code=200"],
    ),
]
Start = Annotated[
    str | None,
    Query(description="From (inclusive): RFC 3339, `now-1h`, or unix ns.", examples=["now-1h"]),
]
End = Annotated[str | None, Query(description="Until (exclusive): RFC 3339, `now`, or unix ns.")]
Format = Annotated[
    Literal["json", "otlp-json"] | None,
    Query(description="`otlp-json`: answer an OTLP/JSON export request instead."),
]


# -------------------------------------------------------------------------- response models


class ErrorOut(BaseModel):
    error: str = Field(examples=["bad_request"])
    parameter: str | None = Field(None, examples=["min_duration"])
    message: str


class ServicesOut(BaseModel):
    services: list[str] = Field(examples=[["checkout", "frontend"]])


class OperationOut(BaseModel):
    name: str = Field(examples=["GET /cart"])
    span_kind: str = Field(examples=["server"])


class OperationsOut(BaseModel):
    operations: list[OperationOut]


class TraceSummaryOut(BaseModel):
    trace_id: str = Field(examples=["0af7651916cd43dd8448eb211c80319c"])
    root_service: str = Field(examples=["frontend"])
    root_name: str = Field(examples=["GET /cart"])
    start_time_unix_nano: int = Field(examples=[1704880800000000000])
    duration_ns: int = Field(examples=[12500000])
    span_count: int = Field(examples=[7])
    error_count: int = Field(examples=[1])
    services: list[str] = Field(examples=[["checkout", "frontend"]])


class TracesOut(BaseModel):
    traces: list[TraceSummaryOut]


class DependencyOut(BaseModel):
    parent: str = Field(examples=["frontend"])
    child: str = Field(examples=["checkout"])
    call_count: int = Field(examples=[120])
    error_count: int = Field(examples=[3])


class DependenciesOut(BaseModel):
    dependencies: list[DependencyOut]


class ResourceOut(BaseModel):
    service_name: str
    attributes: dict[str, Any]
    dropped_attributes_count: int
    schema_url: str


class ScopeOut(BaseModel):
    name: str
    version: str
    attributes: dict[str, Any]
    dropped_attributes_count: int
    schema_url: str


class EventOut(BaseModel):
    time_unix_nano: int
    name: str
    attributes: dict[str, Any]
    dropped_attributes_count: int


class LinkOut(BaseModel):
    trace_id: str
    span_id: str
    trace_state: str
    attributes: dict[str, Any]
    dropped_attributes_count: int
    flags: int


class StatusOut(BaseModel):
    code: str = Field(examples=["error"])
    message: str


class SpanOut(BaseModel):
    trace_id: str
    span_id: str
    parent_span_id: str = Field(description="'' for a root span")
    name: str
    kind: str = Field(examples=["server"])
    start_time_unix_nano: int
    end_time_unix_nano: int
    duration_ns: int
    trace_state: str
    flags: int
    status: StatusOut
    attributes: dict[str, Any] = Field(examples=[{"http.status_code": 200, "ratio": 0.5}])
    dropped_attributes_count: int
    events: list[EventOut]
    dropped_events_count: int
    links: list[LinkOut]
    dropped_links_count: int
    resource: ResourceOut
    scope: ScopeOut


class TraceOut(BaseModel):
    trace_id: str
    spans: list[SpanOut]


class LogOut(BaseModel):
    time_unix_nano: int
    observed_time_unix_nano: int
    severity_number: int = Field(examples=[17])
    severity_text: str = Field(examples=["ERROR"])
    body: Any = Field(examples=["payment failed"])
    attributes: dict[str, Any]
    dropped_attributes_count: int
    flags: int
    trace_id: str
    span_id: str
    event_name: str
    resource: ResourceOut
    scope: ScopeOut


class LogsOut(BaseModel):
    records: list[LogOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class MetricOut(BaseModel):
    name: str = Field(examples=["http.server.duration"])
    type: str = Field(examples=["histogram"])
    unit: str = Field(examples=["ms"])
    description: str
    services: list[str]


class MetricsOut(BaseModel):
    metrics: list[MetricOut]


class SampleOut(BaseModel):
    time_unix_nano: int
    value: float | None = None
    count: int | None = None
    sum: float | None = None
    percentiles: dict[str, float | None] = Field(default_factory=dict, examples=[{"p99": 41.5}])


class SeriesScopeOut(BaseModel):
    name: str
    version: str


class SeriesOut(BaseModel):
    service: str
    attributes: dict[str, Any]
    resource: dict[str, Any] = Field(
        description="The resource's attributes: series of two processes of one service differ here"
    )
    scope: SeriesScopeOut
    start_time_unix_nano: int | None = Field(
        description="When the series' first point started counting (null: unknown, or a "
        "gauge): tells apart processes alike in resource and attributes"
    )
    samples: list[SampleOut] = Field(
        description="Time-ordered. A sample with value, count and sum all null is a break: no "
        "data between its neighbours (a restart, a reset, a pause), a chart does not join them."
    )


class MetricSeriesOut(BaseModel):
    name: str
    type: str
    unit: str
    description: str
    mode: str
    step_ns: int | None
    truncated: bool = Field(description="true when more points matched than one answer holds")
    series: list[SeriesOut]


STAT_ITEMS = {Signal.TRACES: "spans", Signal.LOGS: "log_records", Signal.METRICS: "data_points"}
"""What ``count`` counts for each signal in ``/stats`` (traces are counted in spans)."""


class SignalStatsOut(BaseModel):
    items: Literal["spans", "log_records", "data_points"] = Field(
        description="What count counts: spans (for traces), log records or metric data points."
    )
    count: int = Field(description="Items stored: for traces, spans (not traces).")
    oldest_unix_nano: int | None
    newest_unix_nano: int | None


class RetentionOut(BaseModel):
    enabled: bool
    max_age_seconds: float | None = Field(description="OBSVTY_RETENTION; null: no age limit.")
    max_bytes: int | None = Field(description="OBSVTY_MAX_DB_SIZE; null: no size limit.")
    used_bytes: int | None = Field(description="Bytes in use at the last pass.")
    runs: int = Field(description="Passes since start.")
    last_run_unix: float | None
    last_duration_seconds: float | None
    last_error: str | None = Field(description="Why the last pass failed; null when it did not.")
    deleted_rows: dict[str, int] = Field(description="Rows deleted since start, by table.")


class StatsOut(BaseModel):
    signals: dict[str, SignalStatsOut]
    size_bytes: int | None
    retention: RetentionOut | None = Field(
        None, description="The retention policy and its passes; null when retention is off."
    )
    cloud_sync: dict[str, Any] | None = Field(
        None, description="With a cloud sync: its breaker, backlog and dead-letter count."
    )


# ------------------------------------------------------------------------------- encoding


def _json(doc: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # typed_json.dumps: orjson, with bytes as {"$bytes": b64}; ints and doubles stay apart
    return Response(dumps(doc), status_code, headers, media_type="application/json")


def _otlp(body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, headers=headers, media_type="application/json")


def _kind(kind: int) -> str:
    return SpanKind(kind).name.lower() if kind in SpanKind._value2member_map_ else str(kind)


def _resource(r: Resource) -> dict[str, Any]:
    return {
        "service_name": r.service_name,
        "attributes": r.attributes,
        "dropped_attributes_count": r.dropped_attributes_count,
        "schema_url": r.schema_url,
    }


def _scope(s: InstrumentationScope) -> dict[str, Any]:
    return {
        "name": s.name,
        "version": s.version,
        "attributes": s.attributes,
        "dropped_attributes_count": s.dropped_attributes_count,
        "schema_url": s.schema_url,
    }


_STATUS = {0: "unset", 1: "ok", 2: "error"}


def span_doc(s: Span) -> dict[str, Any]:
    return {
        "trace_id": s.trace_id.hex(),
        "span_id": s.span_id.hex(),
        "parent_span_id": s.parent_span_id.hex(),
        "name": s.name,
        "kind": _kind(s.kind),
        "start_time_unix_nano": s.start_time_unix_nano,
        "end_time_unix_nano": s.end_time_unix_nano,
        "duration_ns": s.duration_ns,
        "trace_state": s.trace_state,
        "flags": s.flags,
        "status": {"code": _STATUS.get(s.status_code, "unset"), "message": s.status_message},
        "attributes": s.attributes,
        "dropped_attributes_count": s.dropped_attributes_count,
        "events": [
            {
                "time_unix_nano": e.time_unix_nano,
                "name": e.name,
                "attributes": e.attributes,
                "dropped_attributes_count": e.dropped_attributes_count,
            }
            for e in s.events
        ],
        "dropped_events_count": s.dropped_events_count,
        "links": [
            {
                "trace_id": link.trace_id.hex(),
                "span_id": link.span_id.hex(),
                "trace_state": link.trace_state,
                "attributes": link.attributes,
                "dropped_attributes_count": link.dropped_attributes_count,
                "flags": link.flags,
            }
            for link in s.links
        ],
        "dropped_links_count": s.dropped_links_count,
        "resource": _resource(s.resource),
        "scope": _scope(s.scope),
    }


def log_doc(r: LogRecord) -> dict[str, Any]:
    return {
        "time_unix_nano": r.time_unix_nano,
        "observed_time_unix_nano": r.observed_time_unix_nano,
        "severity_number": r.severity_number,
        "severity_text": r.severity_text,
        "body": r.body,
        "attributes": r.attributes,
        "dropped_attributes_count": r.dropped_attributes_count,
        "flags": r.flags,
        "trace_id": r.trace_id.hex(),
        "span_id": r.span_id.hex(),
        "event_name": r.event_name,
        "resource": _resource(r.resource),
        "scope": _scope(r.scope),
    }


# --------------------------------------------------------------------------------- routes


def _times(start: str | None, end: str | None) -> tuple[int | None, int | None]:
    return (
        None if start is None else parse_time("start", start),
        None if end is None else parse_time("end", end),
    )


def _filters(attr: list[str]) -> tuple[Any, ...]:
    return tuple(parse_attribute_filter("attr", a) for a in attr)


def _percentiles(text: str | None) -> tuple[float, ...]:
    if text is None:
        return DEFAULT_PERCENTILES
    try:
        return tuple(float(p) for p in text.split(",") if p.strip())
    except ValueError:
        raise QueryError("percentiles", f"{text!r} is not a list of numbers") from None


_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A parameter is invalid (named in `parameter`)."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorOut, "description": "Not stored."},
}


def create_native_router(
    service: QueryService, stats_extras: Callable[[], Mapping[str, Any]] | None = None
) -> APIRouter:
    """The native routes, relative: included under ``/api/v1``. ``stats_extras`` adds fields to
    ``/stats`` (e.g. the cloud sync's dead-letter count)."""
    router = APIRouter(tags=["query"])

    @router.get("/services", response_model=ServicesOut, summary="Service names")
    def services(
        signal: Annotated[Signal, Query(description="Which signal's services.")] = Signal.TRACES,
    ) -> Response:
        return _json({"services": service.services(signal)})

    @router.get(
        "/services/{name}/operations",
        response_model=OperationsOut,
        responses=_ERRORS,
        summary="Span names of a service, with their span kinds",
    )
    def operations(name: str, span_kind: Text = None) -> Response:
        kind = None if span_kind is None else parse_span_kind("span_kind", span_kind)
        ops = service.operations(name, kind)
        return _json(
            {"operations": [{"name": o.name, "span_kind": _kind(o.span_kind)} for o in ops]}
        )

    @router.get(
        "/traces",
        response_model=TracesOut,
        responses=_ERRORS,
        summary="Search traces, newest first",
        description="A trace is a hit when ONE of its spans matches every filter. Each hit "
        "summarises the whole trace (root span, start, duration, span and error counts).",
    )
    def find_traces(
        service_name: Annotated[str | None, Query(alias="service")] = None,
        operation: Annotated[str | None, Query(description="Span name.")] = None,
        span_kind: Text = None,
        start: Start = None,
        end: End = None,
        min_duration: Annotated[str | None, Query(examples=["100ms"])] = None,
        max_duration: Annotated[str | None, Query(examples=["2s"])] = None,
        status: Annotated[
            Literal["error"] | None, Query(description="`error`: only errors.")
        ] = None,
        attr: Attrs = [],  # noqa: B006 - FastAPI copies defaults per request
        limit: Annotated[str | None, Query(description="Traces, 1-1000 (default 20).")] = None,
    ) -> Response:
        since, until = _times(start, end)
        query = TraceQuery(
            service=service_name,
            operation=operation,
            span_kind=None if span_kind is None else parse_span_kind("span_kind", span_kind),
            start_unix_nano=since,
            end_unix_nano=until,
            min_duration_ns=None
            if min_duration is None
            else parse_duration("min_duration", min_duration),
            max_duration_ns=None
            if max_duration is None
            else parse_duration("max_duration", max_duration),
            errors_only=status == "error",
            attributes=_filters(attr),
            limit=parse_limit("limit", limit, 20),
        )
        found = service.find_traces(query)
        return _json(
            {
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
        )

    @router.get(
        "/dependencies",
        response_model=DependenciesOut,
        responses=_ERRORS,
        summary="Calls between services (the service map), with error counts",
        description="A call is a span whose parent span, in the same trace, is of another "
        "service; the range applies to the called span's start. One entry per (parent, child) "
        "pair of services, sorted.",
    )
    def dependencies(start: Start = None, end: End = None) -> Response:
        since, until = _times(start, end)
        links = service.dependencies(since, until)
        return _json(
            {
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
        )

    @router.get(
        "/traces/{trace_id}",
        response_model=TraceOut,
        responses=_NOT_FOUND,
        summary="One trace: every span with events, links, resource, scope and attributes",
    )
    def get_trace(trace_id: str, format: Format = None) -> Response:
        spans = service.get_trace(parse_trace_id("trace_id", trace_id))
        if format == OTLP_JSON:
            return _otlp(export.traces_to_otlp_json(spans))
        return _json({"trace_id": spans[0].trace_id.hex(), "spans": [span_doc(s) for s in spans]})

    @router.get(
        "/logs",
        response_model=LogsOut,
        responses=_ERRORS,
        summary="Search logs, newest first, with cursor pagination",
        description="Pass `next_cursor` back as `cursor` for the next page: paging never skips "
        "or repeats a record. With `format=otlp-json` the next cursor is in the "
        f"`{NEXT_CURSOR_HEADER}` header.",
    )
    def find_logs(
        start: Start = None,
        end: End = None,
        min_severity: Annotated[str | None, Query(examples=["ERROR", "17"])] = None,
        service_name: Annotated[str | None, Query(alias="service")] = None,
        trace_id: Text = None,
        body: Annotated[str | None, Query(description="Text in the body (any case).")] = None,
        attr: Attrs = [],  # noqa: B006
        limit: Annotated[str | None, Query(description="Records, 1-1000 (default 100).")] = None,
        cursor: Text = None,
        format: Format = None,
    ) -> Response:
        since, until = _times(start, end)
        query = LogQuery(
            start_unix_nano=since,
            end_unix_nano=until,
            min_severity=None
            if min_severity is None
            else parse_severity("min_severity", min_severity),
            service=service_name,
            trace_id=None if trace_id is None else parse_trace_id("trace_id", trace_id),
            body_contains=body,
            attributes=_filters(attr),
            limit=parse_limit("limit", limit, 100),
            cursor=None if cursor is None else decode_cursor("cursor", cursor),
        )
        page = service.find_logs(query)
        next_cursor = None if page.next_cursor is None else encode_cursor(page.next_cursor)
        if format == OTLP_JSON:
            headers = {NEXT_CURSOR_HEADER: next_cursor} if next_cursor else None
            return _otlp(export.logs_to_otlp_json(page.records), headers)
        return _json({"records": [log_doc(r) for r in page.records], "next_cursor": next_cursor})

    @router.get("/metrics", response_model=MetricsOut, summary="Metric names with their type")
    def metrics(service_name: Annotated[str | None, Query(alias="service")] = None) -> Response:
        return _json(
            {
                "metrics": [
                    {
                        "name": m.name,
                        "type": m.type,
                        "unit": m.unit,
                        "description": m.description,
                        "services": list(m.services),
                    }
                    for m in service.metrics(service_name)
                ]
            }
        )

    @router.get(
        "/metrics/{name}/series",
        response_model=MetricSeriesOut,
        responses=_NOT_FOUND,
        summary="A metric as series, one per process (resource, start time) and attribute set",
        description="Gauges: the value (the last in each step). Sums: the value, or with "
        "`mode=rate` the per-second increase between consecutive points of one stream, over the "
        "time between them (a new start time or a drop of a counter starts anew; a delta point "
        "is its own increase). Histograms: count and sum observed in each step (increases of "
        "cumulative buckets) and `percentiles` estimated from those buckets (`mode=rate`: "
        "observations per second in `value`). Summaries: the last point's quantiles. Without "
        "`step`, one sample per point. A sample whose value, count and sum are all null breaks "
        "the line. `format=otlp-json` answers the raw points instead.",
    )
    def metric_series(
        name: str,
        start: Start = None,
        end: End = None,
        step: Annotated[str | None, Query(examples=["1m"])] = None,
        service_name: Annotated[str | None, Query(alias="service")] = None,
        attr: Attrs = [],  # noqa: B006
        mode: Annotated[SeriesMode, Query()] = SeriesMode.VALUE,
        percentiles: Annotated[str | None, Query(examples=["50,90,99"])] = None,
        format: Format = None,
    ) -> Response:
        since, until = _times(start, end)
        if format == OTLP_JSON:
            points = service.metric_points(
                MetricQuery(name, since, until, service_name, _filters(attr))
            )
            return _otlp(export.metrics_to_otlp_json(points))
        result = service.metric_series(
            SeriesRequest(
                name,
                since,
                until,
                None if step is None else parse_duration("step", step),
                service_name,
                _filters(attr),
                mode,
                _percentiles(percentiles),
            )
        )
        return _json(
            {
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
        )

    @router.get("/stats", response_model=StatsOut, summary="What is stored")
    def stats() -> Response:
        st = service.stats()
        return _json(
            {
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
                **(stats_extras() if stats_extras is not None else {}),
            }
        )

    return router


def create_query_app(
    service: QueryService,
    *,
    routers: Mapping[str, APIRouter] | None = None,
    ui: ASGIApp | None = None,
    stats_extras: Callable[[], Mapping[str, Any]] | None = None,
) -> FastAPI:
    """The query API app: native routes under ``/api/v1``, then each of ``routers`` under its
    prefix (e.g. ``{"/jaeger": jaeger_router}``), then ``ui`` mounted at ``/``."""
    app = FastAPI(
        title="obsvty query API",
        version=__version__,
        description="Read traces, logs and metrics stored by obsvty. See also `/jaeger` "
        "(Jaeger-compatible API for Grafana) when enabled.",
        docs_url=None,  # FastAPI's page loads Swagger UI from a CDN: obsvty serves its own
        redoc_url=None,
    )
    mount_api_docs(app)

    @app.exception_handler(QueryError)
    async def _bad_parameter(_: Request, exc: QueryError) -> Response:
        return _json({"error": "bad_request", "parameter": exc.parameter, "message": str(exc)}, 400)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body")]
        parameter = loc[0] if loc else None
        message = f"invalid parameter {parameter!r}: {first.get('msg', 'invalid')}"
        return _json({"error": "bad_request", "parameter": parameter, "message": message}, 400)

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> Response:
        return _json({"error": "not_found", "message": str(exc.args[0])}, 404)

    app.include_router(create_native_router(service, stats_extras), prefix="/api/v1")
    for prefix, router in (routers or {}).items():
        app.include_router(router, prefix=prefix)
    if ui is not None:
        app.mount("/", ui)
    return app
