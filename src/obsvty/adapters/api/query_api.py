"""The query API: obsvty's native JSON API under ``/api/v1``, on its own listener.

``create_query_app(service)`` builds the FastAPI application (OpenAPI docs at ``/docs``). Other
parts of the read side attach to the same app, so that one listener serves them all:

* the Jaeger-compatible API: ``app.include_router(create_jaeger_router(store), prefix="/jaeger")``;
* the web UI, mounted last at ``/`` (``app.mount("/", ui_app)``), so it never shadows ``/api``,
  ``/jaeger`` or ``/docs``.

``create_query_app`` takes them as ``routers`` (prefix -> router) and ``ui`` arguments, so the
composition root wires everything with one call.

Conventions: times are unix nanoseconds in answers; in parameters they may also be RFC 3339 or
``now-1h`` (see ``query_params.py``). Ids are lower-case hex. Attribute values keep their
types: JSON numbers with a fraction are doubles, without one ints; bytes are ``{"$bytes": b64}``.
A bad parameter answers 400 ``{"error": "bad_request", "parameter": name, "message": why}``;
an unknown trace or metric 404 ``{"error": "not_found", "message": ...}``.
``format=otlp-json`` on a trace, a log search or a metric series answers an OTLP/JSON export
request instead (``application/json``), which any OTLP/HTTP receiver accepts as is.

The module holds the routes and the app; the parameters are parsed by ``query_params``, the
answers built by ``query_serialisers`` and described by ``query_models``, and every route calls a
use case of :class:`~obsvty.application.query.QueryService`.

Every route is a plain ``def``: FastAPI runs it in its thread pool, off the event loop; the
query port is safe to use from several threads.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import Response
from starlette.types import ASGIApp

from obsvty import __version__
from obsvty.adapters.api import query_serialisers as docs
from obsvty.adapters.api.api_docs import mount_api_docs
from obsvty.adapters.api.query_models import (
    DependenciesOut,
    ErrorOut,
    LogsOut,
    MetricSeriesOut,
    MetricsOut,
    OperationsOut,
    ServicesOut,
    StatsOut,
    TraceOut,
    TracesOut,
)
from obsvty.adapters.api.query_params import (
    decode_cursor,
    encode_cursor,
    parse_attribute_filters,
    parse_duration,
    parse_limit,
    parse_percentiles,
    parse_severity,
    parse_span_kind,
    parse_times,
    parse_trace_id,
)
from obsvty.adapters.encoding.typed_json import dumps
from obsvty.adapters.otlp import export
from obsvty.application.query import (
    NotFoundError,
    QueryError,
    QueryService,
    SeriesMode,
    SeriesRequest,
)
from obsvty.domain.model import Signal
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
ServiceName = Annotated[str | None, Query(alias="service")]
Extras = Callable[[], Mapping[str, Any]]

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorOut, "description": "A parameter is invalid (named in `parameter`)."},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    **_ERRORS,
    404: {"model": ErrorOut, "description": "Not stored."},
}


def _json(doc: Any, status_code: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    # typed_json.dumps: orjson, with bytes as {"$bytes": b64}; ints and doubles stay apart
    return Response(dumps(doc), status_code, headers, media_type="application/json")


def _otlp(body: bytes, headers: Mapping[str, str] | None = None) -> Response:
    return Response(body, headers=headers, media_type="application/json")


def _kind(text: str | None) -> int | None:
    return None if text is None else parse_span_kind("span_kind", text)


def _duration(parameter: str, text: str | None) -> int | None:
    return None if text is None else parse_duration(parameter, text)


# --------------------------------------------------------------------------------- routes


def _trace_routes(queries: QueryService) -> APIRouter:
    """Services, operations, trace search, one trace, and the service map."""
    router = APIRouter(tags=["query"])

    @router.get("/services", response_model=ServicesOut, summary="Service names")
    def services(
        signal: Annotated[Signal, Query(description="Which signal's services.")] = Signal.TRACES,
    ) -> Response:
        return _json({"services": queries.services(signal)})

    @router.get(
        "/services/{name}/operations",
        response_model=OperationsOut,
        responses=_ERRORS,
        summary="Span names of a service, with their span kinds",
    )
    def operations(name: str, span_kind: Text = None) -> Response:
        return _json(docs.operations_doc(queries.operations(name, _kind(span_kind))))

    @router.get(
        "/traces",
        response_model=TracesOut,
        responses=_ERRORS,
        summary="Search traces, newest first",
        description="A trace is a hit when ONE of its spans matches every filter. Each hit "
        "summarises the whole trace (root span, start, duration, span and error counts).",
    )
    def find_traces(
        service_name: ServiceName = None,
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
        since, until = parse_times(start, end)
        query = TraceQuery(
            service=service_name,
            operation=operation,
            span_kind=_kind(span_kind),
            start_unix_nano=since,
            end_unix_nano=until,
            min_duration_ns=_duration("min_duration", min_duration),
            max_duration_ns=_duration("max_duration", max_duration),
            errors_only=status == "error",
            attributes=parse_attribute_filters(attr),
            limit=parse_limit("limit", limit, 20),
        )
        return _json(docs.traces_doc(queries.find_traces(query)))

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
        return _json(docs.dependencies_doc(queries.dependencies(*parse_times(start, end))))

    @router.get(
        "/traces/{trace_id}",
        response_model=TraceOut,
        responses=_NOT_FOUND,
        summary="One trace: every span with events, links, resource, scope and attributes",
    )
    def get_trace(trace_id: str, format: Format = None) -> Response:
        spans = queries.get_trace(parse_trace_id("trace_id", trace_id))
        if format == OTLP_JSON:
            return _otlp(export.traces_to_otlp_json(spans))
        return _json(docs.trace_doc(spans))

    return router


def _log_routes(queries: QueryService) -> APIRouter:
    """Log search with cursor pagination."""
    router = APIRouter(tags=["query"])

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
        service_name: ServiceName = None,
        trace_id: Text = None,
        body: Annotated[str | None, Query(description="Text in the body (any case).")] = None,
        attr: Attrs = [],  # noqa: B006
        limit: Annotated[str | None, Query(description="Records, 1-1000 (default 100).")] = None,
        cursor: Text = None,
        format: Format = None,
    ) -> Response:
        since, until = parse_times(start, end)
        query = LogQuery(
            start_unix_nano=since,
            end_unix_nano=until,
            min_severity=None
            if min_severity is None
            else parse_severity("min_severity", min_severity),
            service=service_name,
            trace_id=None if trace_id is None else parse_trace_id("trace_id", trace_id),
            body_contains=body,
            attributes=parse_attribute_filters(attr),
            limit=parse_limit("limit", limit, 100),
            cursor=None if cursor is None else decode_cursor("cursor", cursor),
        )
        page = queries.find_logs(query)
        next_cursor = None if page.next_cursor is None else encode_cursor(page.next_cursor)
        if format == OTLP_JSON:
            headers = {NEXT_CURSOR_HEADER: next_cursor} if next_cursor else None
            return _otlp(export.logs_to_otlp_json(page.records), headers)
        return _json(docs.logs_doc(page.records, next_cursor))

    return router


def _metric_routes(queries: QueryService) -> APIRouter:
    """Metric names, and a metric as series."""
    router = APIRouter(tags=["query"])

    @router.get("/metrics", response_model=MetricsOut, summary="Metric names with their type")
    def metrics(service_name: ServiceName = None) -> Response:
        return _json(docs.metrics_doc(queries.metrics(service_name)))

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
        service_name: ServiceName = None,
        attr: Attrs = [],  # noqa: B006
        mode: Annotated[SeriesMode, Query()] = SeriesMode.VALUE,
        percentiles: Annotated[str | None, Query(examples=["50,90,99"])] = None,
        format: Format = None,
    ) -> Response:
        since, until = parse_times(start, end)
        filters = parse_attribute_filters(attr)
        if format == OTLP_JSON:
            query = MetricQuery(name, since, until, service_name, filters)
            return _otlp(export.metrics_to_otlp_json(queries.metric_points(query)))
        request = SeriesRequest(
            name,
            since,
            until,
            _duration("step", step),
            service_name,
            filters,
            mode,
            parse_percentiles(percentiles),
        )
        return _json(docs.series_doc(queries.metric_series(request)))

    return router


def _stats_routes(queries: QueryService, extras: Extras | None) -> APIRouter:
    router = APIRouter(tags=["query"])

    @router.get("/stats", response_model=StatsOut, summary="What is stored")
    def stats() -> Response:
        return _json(docs.stats_doc(queries.stats(), extras() if extras is not None else {}))

    return router


def create_native_router(queries: QueryService, stats_extras: Extras | None = None) -> APIRouter:
    """The native routes, relative: included under ``/api/v1``. ``stats_extras`` adds fields to
    ``/stats`` (e.g. the cloud sync's dead-letter count)."""
    router = APIRouter()
    router.include_router(_trace_routes(queries))
    router.include_router(_log_routes(queries))
    router.include_router(_metric_routes(queries))
    router.include_router(_stats_routes(queries, stats_extras))
    return router


def create_query_app(
    service: QueryService,
    *,
    routers: Mapping[str, APIRouter] | None = None,
    ui: ASGIApp | None = None,
    stats_extras: Extras | None = None,
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
