"""The Jaeger-compatible query API, both generations, for Grafana's Jaeger data source.

Mounted under ``/jaeger`` on the query API's listener (see :func:`create_jaeger_router`), so a
Grafana Jaeger data source with the URL ``http://host:8000/jaeger`` works whichever client it runs:

Classic JSON API (Grafana's frontend, and its backend without the ``jaegerEnableGrpcEndpoint``
feature toggle; the Jaeger UI):

- ``GET api/services`` and ``GET api/services/{service}/operations``: ``{"data": [names]}``;
- ``GET api/operations?service=&spanKind=``: ``{"data": [{"name", "spanKind"}]}``;
- ``GET api/traces``: search by ``service``, ``operation``, ``tags`` (a JSON object) or
  ``tag=key:value`` (repeatable), ``minDuration``/``maxDuration`` (``100ms``), ``start``/``end``
  (unix microseconds), ``lookback`` (``1h``, ``2d``; ``custom`` means start/end say it), ``limit``
  (traces, default 20); also ``traceID`` (repeatable) to fetch several traces at once;
- ``GET api/traces/{traceID}``: one trace, 404 with ``errors`` when unknown;
- ``GET api/dependencies?endTs=&lookback=&service=``: the service map (what Grafana's node graph
  reads), ``{"data": [{"parent", "child", "callCount"}]}`` for the calls whose called span started
  within ``lookback`` (ms, default 24 hours) up to ``endTs`` (unix ms, default now), only the links
  to or from ``service`` if given.
  Answers are Jaeger's JSON model (see ``jaeger_json``); errors ``{"errors": [{"code", "msg"}]}``.

API v3 (Grafana's backend with the gRPC-endpoint toggle; Jaeger v2's HTTP gateway):

- ``GET api/v3/services``: ``{"services": [names]}``;
- ``GET api/v3/operations?service=&span_kind=``: ``{"operations": [{"name", "spanKind"}]}``;
- ``GET api/v3/traces``: search by ``query.service_name``, ``query.operation_name``,
  ``query.attributes`` (a JSON object, as Grafana sends, or ``query.attributes[key]=value``),
  ``query.start_time_min``/``query.start_time_max`` (RFC 3339), ``query.duration_min``/
  ``query.duration_max``, ``query.search_depth`` (or ``query.num_traces``: traces, default 20);
- ``GET api/v3/traces/{trace_id}``: one trace.
  Answers are OTLP/JSON, ``{"result": {"resourceSpans": [...]}}`` (hex ids, as OTLP/JSON asks);
  errors ``{"error": {"grpcCode", "httpCode", "httpStatus", "message"}}`` with the same HTTP status.

Searching matches one span per trace against every filter and returns the whole of each trace
found, newest first. Fetching one trace ignores ``start``/``end`` (classic) and ``start_time``/
``end_time`` (v3): a trace id is unique here, and Grafana sends the classic ones in milliseconds
where Jaeger documents microseconds, so honouring them would hide traces.

Every route calls the same use cases as the native API (:class:`QueryService`). Every route is a
plain ``def``: FastAPI runs it in its thread pool, off the event loop, and the use cases are safe
to call from several threads.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from obsvty.adapters.api import jaeger_json
from obsvty.adapters.api import jaeger_params as params
from obsvty.adapters.api.jaeger_params import ParameterError
from obsvty.adapters.otlp.export import traces_to_otlp_dict
from obsvty.application.query import NotFoundError, QueryError, QueryService
from obsvty.domain.model import Span
from obsvty.ports.query import TraceQuery

DEFAULT_LIMIT = 20
DEFAULT_DEPENDENCY_LOOKBACK_NS = 24 * 3600 * 1_000_000_000  # Jaeger's default
MAX_LIMIT = 1500
_GRPC_CODE = {400: 3, 404: 5, 500: 13}

OptionalText = Annotated[str | None, Query()]


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _classic_error(status: int, message: str) -> Response:
    return _json(jaeger_json.error_envelope(status, message), status)


def _v3_error(status: int, message: str) -> Response:
    error = {
        "grpcCode": _GRPC_CODE.get(status, 2),
        "httpCode": status,
        "httpStatus": HTTPStatus(status).phrase,
        "message": message,
    }
    return _json({"error": error}, status)


def _answer(build: Callable[[], Response], error: Callable[[int, str], Response]) -> Response:
    try:
        return build()
    except (ParameterError, QueryError) as exc:
        return error(400, str(exc))
    except NotFoundError:
        return error(404, "trace not found")


def _classic_search(
    queries: QueryService,
    service: str | None,
    operation: str | None,
    tags: str | None,
    tag: Sequence[str],
    min_duration: str | None,
    max_duration: str | None,
    start: str | None,
    end: str | None,
    lookback: str | None,
    limit: str | None,
    trace_ids: Sequence[str],
) -> Response:
    if trace_ids:
        ids = [params.trace_id("traceID", t) for t in trace_ids]
        found = queries.get_traces(ids)
        return _json(jaeger_json.envelope(jaeger_json.encode_trace(s) for s in found))
    tag_map = params.json_tags("tags", tags) if tags else {}
    tag_map.update(params.colon_tags("tag", list(tag)))
    filters = params.SpanTagFilters("tags", tag_map)
    end_ns = params.micros_ns("end", end) + 1000 if end else None
    start_ns = params.micros_ns("start", start) if start else None
    if start_ns is None and lookback and lookback != "custom":
        reference = end_ns if end_ns is not None else time.time_ns()
        start_ns = max(0, reference - params.duration_ns("lookback", lookback))
    query = TraceQuery(
        service=service or None,
        operation=operation or None,
        span_kind=filters.span_kind,
        start_unix_nano=start_ns,
        end_unix_nano=end_ns,
        min_duration_ns=params.duration_ns("minDuration", min_duration) if min_duration else None,
        max_duration_ns=params.duration_ns("maxDuration", max_duration) if max_duration else None,
        errors_only=filters.errors_only,
        attributes=filters.attributes,
        limit=params.positive_int("limit", limit, MAX_LIMIT) if limit else DEFAULT_LIMIT,
    )
    traces = queries.find_trace_spans(query)
    return _json(jaeger_json.envelope(jaeger_json.encode_trace(spans) for spans in traces))


def _dependencies(
    queries: QueryService, end_ts: str | None, lookback: str | None, service: str | None
) -> Response:
    end_ns = params.millis_ns("endTs", end_ts) if end_ts else time.time_ns()
    span = params.millis_ns("lookback", lookback) if lookback else DEFAULT_DEPENDENCY_LOOKBACK_NS
    # endTs inclusive, as Jaeger
    links = queries.dependencies(max(0, end_ns - span), end_ns + 1, service or None)
    data = [{"parent": x.parent, "child": x.child, "callCount": x.call_count} for x in links]
    return _json(jaeger_json.envelope(data))


def _v3_attributes(request: Request) -> dict[str, str]:
    tags: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        if key == "query.attributes":
            tags.update(params.json_tags(key, value))
        elif key.startswith("query.attributes[") and key.endswith("]"):
            tags[key[len("query.attributes[") : -1]] = value
    return tags


def _v3_search(queries: QueryService, request: Request) -> Response:
    q = request.query_params
    filters = params.SpanTagFilters("query.attributes", _v3_attributes(request))
    start = q.get("query.start_time_min")
    end = q.get("query.start_time_max")
    min_duration = q.get("query.duration_min")
    max_duration = q.get("query.duration_max")
    depth = q.get("query.search_depth") or q.get("query.num_traces")
    query = TraceQuery(
        service=q.get("query.service_name") or None,
        operation=q.get("query.operation_name") or None,
        span_kind=filters.span_kind,
        start_unix_nano=params.rfc3339_ns("query.start_time_min", start) if start else None,
        end_unix_nano=params.rfc3339_ns("query.start_time_max", end) + 1 if end else None,
        min_duration_ns=(
            params.duration_ns("query.duration_min", min_duration) if min_duration else None
        ),
        max_duration_ns=(
            params.duration_ns("query.duration_max", max_duration) if max_duration else None
        ),
        errors_only=filters.errors_only,
        attributes=filters.attributes,
        limit=params.positive_int("query.search_depth", depth, MAX_LIMIT)
        if depth
        else DEFAULT_LIMIT,
    )
    spans = [span for trace in queries.find_trace_spans(query) for span in trace]
    return _otlp_result(spans)


def _otlp_result(spans: list[Span]) -> Response:
    document = traces_to_otlp_dict(spans)
    document.setdefault("resourceSpans", [])
    return _json({"result": document})


def create_jaeger_router(queries: QueryService) -> APIRouter:
    """The Jaeger API routes, relative: include them with ``prefix="/jaeger"``."""
    router = APIRouter(tags=["jaeger"])

    # ----------------------------------------------------------------- classic JSON API
    @router.get("/api/services", summary="Service names (Jaeger classic)")
    def services() -> Response:
        return _json(jaeger_json.envelope(queries.services()))

    @router.get("/api/services/{service}/operations", summary="Operation names (Jaeger classic)")
    def service_operations(service: str) -> Response:
        return _json(jaeger_json.envelope(queries.operation_names(service)))

    @router.get("/api/operations", summary="Operations with span kind (Jaeger classic)")
    def operations(service: str = "", spanKind: OptionalText = None) -> Response:
        def build() -> Response:
            if not service:
                raise ParameterError("service", "required")
            kind = params.span_kind("spanKind", spanKind) if spanKind else None
            ops = queries.operations(service, kind)
            data = [{"name": o.name, "spanKind": params.span_kind_text(o.span_kind)} for o in ops]
            return _json(jaeger_json.envelope(data))

        return _answer(build, _classic_error)

    @router.get("/api/traces", summary="Search traces (Jaeger classic)")
    def search(
        service: OptionalText = None,
        operation: OptionalText = None,
        tags: OptionalText = None,
        tag: Annotated[list[str], Query()] = [],  # noqa: B006 - FastAPI copies defaults
        minDuration: OptionalText = None,
        maxDuration: OptionalText = None,
        start: OptionalText = None,
        end: OptionalText = None,
        lookback: OptionalText = None,
        limit: OptionalText = None,
        traceID: Annotated[list[str], Query()] = [],  # noqa: B006
    ) -> Response:
        return _answer(
            lambda: _classic_search(
                queries,
                service,
                operation,
                tags,
                tag,
                minDuration,
                maxDuration,
                start,
                end,
                lookback,
                limit,
                traceID,
            ),
            _classic_error,
        )

    @router.get("/api/traces/{trace_id}", summary="One trace (Jaeger classic)")
    def trace(trace_id: str) -> Response:
        def build() -> Response:
            spans = queries.get_trace(params.trace_id("traceID", trace_id))
            return _json(jaeger_json.envelope([jaeger_json.encode_trace(spans)]))

        return _answer(build, _classic_error)

    @router.get("/api/dependencies", summary="Calls between services (Jaeger classic)")
    def dependencies(
        endTs: OptionalText = None, lookback: OptionalText = None, service: OptionalText = None
    ) -> Response:
        return _answer(lambda: _dependencies(queries, endTs, lookback, service), _classic_error)

    # ------------------------------------------------------------------------- API v3
    @router.get("/api/v3/services", summary="Service names (Jaeger API v3)")
    def v3_services() -> Response:
        return _json({"services": queries.services()})

    @router.get("/api/v3/operations", summary="Operations (Jaeger API v3)")
    def v3_operations(service: str = "", span_kind: OptionalText = None) -> Response:
        def build() -> Response:
            if not service:
                raise ParameterError("service", "required")
            kind = params.span_kind("span_kind", span_kind) if span_kind else None
            ops = [
                {"name": o.name, "spanKind": params.span_kind_text(o.span_kind)}
                for o in queries.operations(service, kind)
            ]
            return _json({"operations": ops})

        return _answer(build, _v3_error)

    @router.get("/api/v3/traces", summary="Search traces (Jaeger API v3, OTLP/JSON)")
    def v3_search(request: Request) -> Response:
        return _answer(lambda: _v3_search(queries, request), _v3_error)

    @router.get("/api/v3/traces/{trace_id}", summary="One trace (Jaeger API v3, OTLP/JSON)")
    def v3_trace(trace_id: str) -> Response:
        def build() -> Response:
            return _otlp_result(queries.get_trace(params.trace_id("trace_id", trace_id)))

        return _answer(build, _v3_error)

    return router
