"""The Jaeger-compatible API answers the requests Grafana's Jaeger data source really makes.

A real obsvty receives a known two-service trace through the OpenTelemetry SDK (see
``tests/support/sample_trace.py``); then the tests replay Grafana's requests against
``/jaeger`` and check the answers field by field, as Grafana's decoders read them.

The requests replayed, and where they come from (grafana/grafana, read in 2025):

Classic JSON API
- ``public/app/plugins/datasource/jaeger/datasource.ts`` (frontend): ``GET {url}/api/services``
  (also the "test data source" button), ``GET {url}/api/services/{encodeURIComponent(service)}/
  operations``, ``GET {url}/api/traces?service=&operation=&tags={json}&minDuration=&maxDuration=
  &limit=&start={µs}&end={µs}&lookback=custom`` (tags turned from logfmt into a JSON object), and
  ``GET {url}/api/traces/{encodeURIComponent(traceID)}``.
- ``pkg/tsdb/jaeger/client.go`` (backend): the same paths built with ``url.JoinPath``; search sends
  ``service, operation, tags (JSON), minDuration, maxDuration, limit, start, end`` (µs, from
  ``TimeRange.UnixMicro()``); trace by id appends ``start``/``end`` from ``TimeRange.UnixMilli()``
  (milliseconds!) when the data source's ``traceIdTimeParams`` is enabled. It reads ``data``
  (``types.TracesResponse``: ``traceID``, ``spans[].{traceID, spanID, operationName, references
  [{refType, spanID, traceID}], startTime, duration, tags[{key, type, value}], logs[{timestamp,
  fields}], processID, warnings, flags}``, ``processes{id: {serviceName, tags}}``).
API v3 (``pkg/tsdb/jaeger/grpc_client.go``, feature toggle ``jaegerEnableGrpcEndpoint``)
- ``GET {url}/api/v3/services`` -> reads ``services``;
- ``GET {url}/api/v3/operations?service=`` -> reads ``operations[].name`` (and ``spanKind``);
- ``GET {url}/api/v3/traces?query.service_name=&query.operation_name=&query.attributes={json}
  &query.duration_min=&query.duration_max=`` followed by ``&query.start_time_min=..&query.
  start_time_max=..`` appended *unencoded* in RFC 3339 nano form; reads ``result.resourceSpans``
  and ``error.{httpCode, message}``;
- ``GET {url}/api/v3/traces/{traceID}`` (+ unencoded ``start_time=&end_time=`` when
  ``traceIdTimeParams`` is enabled) -> reads ``result.resourceSpans``.

Longer than the project's ~450-line bound: one request per Grafana call, against one shared trace.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI

from obsvty.adapters.api.jaeger import create_jaeger_router
from obsvty.adapters.storage.duckdb.query import DuckDBQuery
from obsvty.application.query import QueryService
from tests.support.asgi_server import serving
from tests.support.sample_trace import (
    BASE_NS,
    MISSING_PARENT_ID,
    OTHER_SPAN_ID,
    OTHER_TRACE_ID,
    SampleTrace,
    send_sample_trace,
)
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = pytest.mark.integration

BASE_US = BASE_NS // 1000
RANGE_US = f"start={BASE_US - 60_000_000}&end={BASE_US + 60_000_000}"
RANGE_RFC3339 = (
    "query.start_time_min=2024-01-10T09:59:00.000000000Z"
    "&query.start_time_max=2024-01-10T12:01:00.5+02:00"  # unencoded "+", as Grafana sends it
)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningObsvty, SampleTrace]]:
    with running_obsvty(Path(tmp_path_factory.mktemp("jaeger"))) as server:
        sample = send_sample_trace(server.http_url)
        send_sample_trace(server.http_url, root_name="GET /home")  # a second trace
        server.flush()
        yield server, sample


@pytest.fixture(scope="module")
def jaeger(served: tuple[RunningObsvty, SampleTrace]) -> Iterator[httpx.Client]:
    server, _ = served
    app = FastAPI()
    app.include_router(
        create_jaeger_router(QueryService(DuckDBQuery(server.app.store))), prefix="/jaeger"
    )
    with serving(app) as url, httpx.Client(base_url=f"{url}/jaeger", timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def sample(served: tuple[RunningObsvty, SampleTrace]) -> SampleTrace:
    return served[1]


def _tags(span: dict[str, Any]) -> dict[str, tuple[str, Any]]:
    return {t["key"]: (t["type"], t["value"]) for t in span["tags"]}


def _by_name(trace: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["operationName"]: s for s in trace["spans"]}


# ---------------------------------------------------------------------------- classic API


def test_classic_services_lists_both_services(jaeger: httpx.Client) -> None:
    # Act
    response = jaeger.get("/api/services")

    # Assert
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == ["backend", "frontend"]
    assert body["errors"] is None
    assert body["total"] == 2


def test_classic_operations_of_a_service_are_its_span_names(jaeger: httpx.Client) -> None:
    # Act
    response = jaeger.get(f"/api/services/{quote('frontend', safe='')}/operations")

    # Assert
    assert response.status_code == 200
    assert response.json()["data"] == ["GET /checkout", "GET /home", "late job"]


def test_classic_operations_with_span_kind_endpoint(jaeger: httpx.Client) -> None:
    # Act
    response = jaeger.get("/api/operations", params={"service": "backend", "spanKind": "client"})

    # Assert
    assert response.status_code == 200
    assert response.json()["data"] == [{"name": "SELECT orders", "spanKind": "client"}]


def test_classic_search_as_grafana_frontend_sends_it_finds_the_trace(
    jaeger: httpx.Client, sample: SampleTrace
) -> None:
    # Arrange: Grafana's frontend search for service+operation+tags+durations over a time range
    tags = quote(json.dumps({"http.method": "GET", "http.status_code": "200"}))
    url = (
        f"/api/traces?service=frontend&operation={quote('GET /checkout')}&tags={tags}"
        f"&minDuration=900ms&maxDuration=1.1s&limit=20&{RANGE_US}&lookback=custom"
    )

    # Act
    response = jaeger.get(url)

    # Assert
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] is None
    assert [t["traceID"] for t in body["data"]] == [sample.trace_id]
    assert len(body["data"][0]["spans"]) == 3


def test_classic_search_filters_exclude_what_does_not_match(jaeger: httpx.Client) -> None:
    # Arrange
    cases = [
        "service=frontend&minDuration=2s",
        "service=frontend&maxDuration=1ms&operation=GET%20%2Fcheckout",
        "service=backend&tags=" + quote('{"db.system":"postgres"}'),
        f"service=frontend&start={BASE_US + 3_600_000_000}",
        "service=nobody",
    ]

    # Act
    answers = [jaeger.get(f"/api/traces?{case}").json() for case in cases]

    # Assert
    assert [a["data"] for a in answers] == [[]] * len(cases)


def test_classic_search_error_tag_finds_traces_with_error_spans(jaeger: httpx.Client) -> None:
    # Act
    errors = jaeger.get("/api/traces", params={"service": "backend", "tags": '{"error":"true"}'})
    typed = jaeger.get("/api/traces", params={"service": "backend", "tag": "db.rows:3"})

    # Assert
    assert len(errors.json()["data"]) == 2
    assert len(typed.json()["data"]) == 2


def test_classic_search_limit_and_newest_first(jaeger: httpx.Client) -> None:
    # Act
    both = jaeger.get("/api/traces", params={"service": "frontend"}).json()["data"]
    one = jaeger.get("/api/traces", params={"service": "frontend", "limit": "1"}).json()["data"]

    # Assert
    assert len(both) == 2
    assert len(one) == 1


def test_classic_search_lookback_without_start_reaches_back(jaeger: httpx.Client) -> None:
    # Arrange: the sample is from 2024, so "1h" before an end in 2024 covers it, "1h" from now not
    end = BASE_US + 1_000_000

    # Act
    near = jaeger.get("/api/traces", params={"service": "frontend", "end": end, "lookback": "1h"})
    now = jaeger.get("/api/traces", params={"service": "frontend", "lookback": "1h"})

    # Assert
    assert len(near.json()["data"]) == 2
    assert now.json()["data"] == []


def test_classic_trace_by_id_field_by_field(jaeger: httpx.Client, sample: SampleTrace) -> None:
    # Act: as Grafana's backend does with traceIdTimeParams (start/end in milliseconds)
    response = jaeger.get(f"/api/traces/{sample.trace_id}?start=1704880700000&end=1704880900000")

    # Assert
    assert response.status_code == 200
    body = response.json()
    assert body["errors"] is None
    (trace,) = body["data"]
    assert trace["traceID"] == sample.trace_id
    spans = _by_name(trace)
    root, child, orphan = spans["GET /checkout"], spans["SELECT orders"], spans["late job"]
    assert [s["operationName"] for s in trace["spans"]] == [
        "GET /checkout",
        "SELECT orders",
        "late job",
    ]

    assert root["spanID"] == sample.root_span_id
    assert root["traceID"] == sample.trace_id
    assert root["references"] == []
    assert root["startTime"] == BASE_US
    assert root["duration"] == 1_000_000
    assert root["warnings"] is None
    root_tags = _tags(root)
    assert root_tags["http.method"] == ("string", "GET")
    assert root_tags["http.status_code"] == ("int64", 200)
    assert root_tags["retry"] == ("bool", False)
    assert root_tags["span.kind"] == ("string", "server")
    assert root_tags["otel.scope.name"] == ("string", "shop.web")
    assert root_tags["otel.scope.version"] == ("string", "1.0.0")
    assert "error" not in root_tags

    assert child["references"] == [
        {"refType": "CHILD_OF", "traceID": sample.trace_id, "spanID": sample.root_span_id},
        {
            "refType": "FOLLOWS_FROM",
            "traceID": f"{OTHER_TRACE_ID:032x}",
            "spanID": f"{OTHER_SPAN_ID:016x}",
        },
    ]
    assert child["startTime"] == BASE_US + 100_000
    assert child["duration"] == 300_123
    child_tags = _tags(child)
    assert child_tags["db.rows"] == ("int64", 3)
    assert child_tags["ratio"] == ("float64", 0.5)
    assert child_tags["span.kind"] == ("string", "client")
    assert child_tags["error"] == ("bool", True)
    assert child_tags["otel.status_code"] == ("string", "ERROR")
    assert child_tags["otel.status_description"] == ("string", "query timed out")
    assert child["logs"] == [
        {
            "timestamp": BASE_US + 350_000,
            "fields": [
                {"key": "event", "type": "string", "value": "exception"},
                {"key": "exception.type", "type": "string", "value": "TimeoutError"},
                {"key": "exception.message", "type": "string", "value": "too slow"},
            ],
        }
    ]

    assert orphan["references"] == [
        {"refType": "CHILD_OF", "traceID": sample.trace_id, "spanID": f"{MISSING_PARENT_ID:016x}"}
    ]
    assert orphan["warnings"]
    assert "parent span not received" in orphan["warnings"][0]

    processes = trace["processes"]
    assert processes[root["processID"]]["serviceName"] == "frontend"
    assert processes[child["processID"]]["serviceName"] == "backend"
    assert orphan["processID"] == root["processID"]
    frontend_tags = {t["key"]: t["value"] for t in processes[root["processID"]]["tags"]}
    assert frontend_tags["host.name"] == "h1"
    assert frontend_tags["telemetry.sdk.language"] == "python"
    assert "service.name" not in frontend_tags


def test_classic_trace_by_short_and_upper_case_id(jaeger: httpx.Client) -> None:
    # Act: an unknown 64-bit id in Jaeger's short form is a clean 404, never a 500
    response = jaeger.get("/api/traces/00000000DEADBEEF")

    # Assert
    assert response.status_code == 404
    assert response.json() == {
        "data": None,
        "total": 0,
        "limit": 0,
        "offset": 0,
        "errors": [{"code": 404, "msg": "trace not found"}],
    }


def test_classic_search_by_trace_ids_returns_each_known_trace(
    jaeger: httpx.Client, sample: SampleTrace
) -> None:
    # Act
    response = jaeger.get(f"/api/traces?traceID={sample.trace_id}&traceID=ff")

    # Assert
    assert [t["traceID"] for t in response.json()["data"]] == [sample.trace_id]


@pytest.mark.parametrize(
    ("query", "names"),
    [
        ("minDuration=fast", "minDuration"),
        ("start=yesterday", "start"),
        ("limit=0", "limit"),
        ("tags=%7Bbroken", "tags"),
        ("tag=nocolon", "tag"),
        ("traceID=xyz", "traceID"),
        ("lookback=soon", "lookback"),
    ],
)
def test_classic_search_bad_parameter_is_400_naming_it(
    jaeger: httpx.Client, query: str, names: str
) -> None:
    # Act
    response = jaeger.get(f"/api/traces?service=frontend&{query}")

    # Assert
    assert response.status_code == 400
    body = response.json()
    assert body["data"] is None
    assert body["errors"][0]["code"] == 400
    assert f"invalid parameter {names}" in body["errors"][0]["msg"]


def test_classic_bad_trace_id_and_missing_service_are_400(jaeger: httpx.Client) -> None:
    # Act
    bad_id = jaeger.get("/api/traces/not-hex")
    no_service = jaeger.get("/api/operations")

    # Assert
    assert bad_id.status_code == 400
    assert "traceID" in bad_id.json()["errors"][0]["msg"]
    assert no_service.status_code == 400


BASE_MS = BASE_NS // 1_000_000


def test_classic_dependencies_as_grafana_node_graph_asks_calls_per_service_pair(
    jaeger: httpx.Client,
) -> None:
    # Act: endTs and lookback in milliseconds, as Jaeger's UI and Grafana send them
    response = jaeger.get(f"/api/dependencies?endTs={BASE_MS + 60_000}&lookback=120000")

    # Assert: two traces, each with one frontend -> backend call (the orphan is no call)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == [{"parent": "frontend", "child": "backend", "callCount": 2}]
    assert body["errors"] is None


def test_classic_dependencies_range_and_service_filter_exclude(jaeger: httpx.Client) -> None:
    # Act
    before = jaeger.get(f"/api/dependencies?endTs={BASE_MS}&lookback=60000")
    default_now = jaeger.get("/api/dependencies")  # the last 24 hours: 2024's data is older
    other = jaeger.get(f"/api/dependencies?endTs={BASE_MS + 60_000}&lookback=120000&service=db")
    same = jaeger.get(f"/api/dependencies?endTs={BASE_MS + 60_000}&lookback=120000&service=backend")

    # Assert: the call started 100 ms after BASE_NS, outside the first range
    assert before.json()["data"] == []
    assert default_now.json()["data"] == []
    assert other.json()["data"] == []
    assert [link["callCount"] for link in same.json()["data"]] == [2]


@pytest.mark.parametrize("query", ["endTs=soon", "lookback=-5", "endTs=1.5"])
def test_classic_dependencies_bad_parameter_is_400_naming_it(
    jaeger: httpx.Client, query: str
) -> None:
    # Arrange
    name = query.partition("=")[0]

    # Act
    response = jaeger.get(f"/api/dependencies?{query}")

    # Assert
    assert response.status_code == 400
    assert f"invalid parameter {name}" in response.json()["errors"][0]["msg"]


# --------------------------------------------------------------------------------- API v3


def test_v3_services_and_operations(jaeger: httpx.Client) -> None:
    # Act
    services = jaeger.get("/api/v3/services")
    operations = jaeger.get("/api/v3/operations?service=frontend")
    servers = jaeger.get("/api/v3/operations?service=frontend&span_kind=server")

    # Assert
    assert services.json() == {"services": ["backend", "frontend"]}
    assert operations.json() == {
        "operations": [
            {"name": "GET /checkout", "spanKind": "server"},
            {"name": "GET /home", "spanKind": "server"},
            {"name": "late job", "spanKind": "internal"},
        ]
    }
    assert [o["name"] for o in servers.json()["operations"]] == ["GET /checkout", "GET /home"]


def _otlp_spans(body: dict[str, Any]) -> dict[str, tuple[dict[str, Any], dict[str, Any]]]:
    """span name -> (span, its resource), from an OTLP/JSON ``resourceSpans`` list."""
    found = {}
    for resource_spans in body["result"]["resourceSpans"]:
        for scope_spans in resource_spans["scopeSpans"]:
            for span in scope_spans["spans"]:
                found[span["name"]] = (span, resource_spans["resource"])
    return found


def test_v3_search_as_grafana_backend_sends_it(jaeger: httpx.Client, sample: SampleTrace) -> None:
    # Arrange: Grafana encodes the other parameters but appends the times raw
    attributes = quote(json.dumps({"http.method": "GET"}))
    url = (
        f"/api/v3/traces?query.attributes={attributes}&query.duration_max=2s"
        f"&query.duration_min=100ms&query.operation_name={quote('GET /checkout')}"
        f"&query.service_name=frontend&{RANGE_RFC3339}"
    )

    # Act
    response = jaeger.get(url)

    # Assert
    assert response.status_code == 200
    spans = _otlp_spans(response.json())
    assert set(spans) == {"GET /checkout", "SELECT orders", "late job"}
    root, resource = spans["GET /checkout"]
    assert root["traceId"] == sample.trace_id
    assert root["spanId"] == sample.root_span_id
    assert root["startTimeUnixNano"] == str(BASE_NS)
    assert root["endTimeUnixNano"] == str(BASE_NS + 1_000_000_000)
    service = next(a for a in resource["attributes"] if a["key"] == "service.name")
    assert service["value"] == {"stringValue": "frontend"}


def test_v3_search_attribute_map_form_and_depth(jaeger: httpx.Client) -> None:
    # Act
    hit = jaeger.get("/api/v3/traces?query.service_name=backend&query.attributes[db.rows]=3")
    miss = jaeger.get("/api/v3/traces?query.service_name=backend&query.attributes[db.rows]=4")
    one = jaeger.get("/api/v3/traces?query.service_name=frontend&query.search_depth=1")

    # Assert
    assert len({s["traceId"] for s, _ in _otlp_spans(hit.json()).values()}) >= 1
    assert miss.json() == {"result": {"resourceSpans": []}}
    assert len({s["traceId"] for s, _ in _otlp_spans(one.json()).values()}) == 1


def test_v3_trace_by_id_with_grafana_time_params(jaeger: httpx.Client, sample: SampleTrace) -> None:
    # Act
    response = jaeger.get(
        f"/api/v3/traces/{sample.trace_id}?start_time=2024-01-10T09:00:00Z&end_time=2024-01-10T11:00:00Z"
    )

    # Assert
    assert response.status_code == 200
    spans = _otlp_spans(response.json())
    child, _resource = spans["SELECT orders"]
    assert child["parentSpanId"] == sample.root_span_id
    assert child["kind"] in (3, "SPAN_KIND_CLIENT")
    assert child["status"]["code"] in (2, "STATUS_CODE_ERROR")
    assert child["status"]["message"] == "query timed out"
    assert child["events"][0]["name"] == "exception"
    assert child["events"][0]["timeUnixNano"] == str(BASE_NS + 350_000_000)
    assert child["links"][0]["traceId"] == f"{OTHER_TRACE_ID:032x}"
    rows = next(a for a in child["attributes"] if a["key"] == "db.rows")
    assert rows["value"] == {"intValue": "3"}
    assert spans["late job"][0]["parentSpanId"] == f"{MISSING_PARENT_ID:016x}"


def test_v3_unknown_trace_is_404_in_gateway_error_shape(jaeger: httpx.Client) -> None:
    # Act
    response = jaeger.get("/api/v3/traces/0123456789abcdef0123456789abcdef")

    # Assert
    assert response.status_code == 404
    assert response.json() == {
        "error": {
            "grpcCode": 5,
            "httpCode": 404,
            "httpStatus": "Not Found",
            "message": "trace not found",
        }
    }


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("query.start_time_min=yesterday", "query.start_time_min"),
        ("query.duration_min=quick", "query.duration_min"),
        ("query.search_depth=-1", "query.search_depth"),
        ("query.attributes=%5B1%5D", "query.attributes"),
    ],
)
def test_v3_bad_parameter_is_400_naming_it(jaeger: httpx.Client, query: str, name: str) -> None:
    # Act
    response = jaeger.get(f"/api/v3/traces?{query}")

    # Assert
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["httpCode"] == 400
    assert error["grpcCode"] == 3
    assert f"invalid parameter {name}" in error["message"]
