"""The native query API on a real obsvty: telemetry goes in over OTLP/HTTP, answers come out of
the API listener over HTTP, and OTLP/JSON exports re-ingested elsewhere recreate every field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from obsvty.adapters.otlp import export
from obsvty.ports.query import LogQuery, MetricQuery
from tests.support.server import RunningObsvty, running_obsvty
from tests.support.telemetry_dataset import A1, A2, LOGS, POINTS, SPANS, TRACE_A, TRACE_B, T

pytestmark = pytest.mark.integration


def _post(server: RunningObsvty, path: str, body: bytes) -> None:
    response = httpx.post(
        f"{server.http_url}{path}", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 200, response.text


def _load(server: RunningObsvty) -> None:
    _post(server, "/v1/traces", export.traces_to_otlp_json(SPANS))
    _post(server, "/v1/logs", export.logs_to_otlp_json(LOGS))
    _post(server, "/v1/metrics", export.metrics_to_otlp_json(POINTS))
    server.flush()


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningObsvty]:
    with running_obsvty(tmp_path_factory.mktemp("api")) as server:
        _load(server)
        yield server


@pytest.fixture
def api(loaded: RunningObsvty) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{loaded.api_url}/api/v1") as client:
        yield client


def test_services_and_operations(api: httpx.Client) -> None:
    # Act
    services = api.get("/services").json()
    log_services = api.get("/services", params={"signal": "logs"}).json()
    operations = api.get("/services/frontend/operations", params={"span_kind": "server"}).json()

    # Assert
    assert services == {"services": ["backend", "frontend"]}
    assert log_services == {"services": ["backend", "frontend"]}
    assert operations == {
        "operations": [
            {"name": "GET /cart", "span_kind": "server"},
            {"name": "GET /checkout", "span_kind": "server"},
        ]
    }


def test_dependencies_calls_and_errors_per_service_pair_within_range(api: httpx.Client) -> None:
    # Act
    everything = api.get("/dependencies").json()
    before = api.get("/dependencies", params={"end": str(T + 200)}).json()

    # Assert: trace A's frontend span calls backend's failing span; nothing else crosses
    assert everything == {
        "dependencies": [
            {"parent": "frontend", "child": "backend", "call_count": 1, "error_count": 1}
        ]
    }
    assert before == {"dependencies": []}


def test_traces_search_filters_and_summaries(api: httpx.Client) -> None:
    # Act
    found = api.get(
        "/traces",
        params=[
            ("service", "frontend"),
            ("attr", "http.status_code=200"),
            ("attr", "deployment.environment=prod"),
            ("min_duration", "1us"),
            ("start", str(T)),
            ("end", "now"),
        ],
    ).json()["traces"]
    errors = api.get("/traces", params={"status": "error"}).json()["traces"]
    everything = api.get("/traces", params={"limit": "2"}).json()["traces"]

    # Assert
    assert found == [
        {
            "trace_id": TRACE_A.hex(),
            "root_service": "frontend",
            "root_name": "GET /checkout",
            "start_time_unix_nano": T + 100,
            "duration_ns": 1000,
            "span_count": 2,
            "error_count": 1,
            "services": ["backend", "frontend"],
        }
    ]
    assert [t["trace_id"] for t in errors] == [TRACE_A.hex()]
    assert len(everything) == 2


def test_trace_by_id_typed_attributes_events_links(api: httpx.Client) -> None:
    # Act
    response = api.get(f"/traces/{TRACE_A.hex()}")

    # Assert
    assert response.status_code == 200
    doc = response.json()
    root, child = doc["spans"]
    assert root["span_id"] == A1.span_id.hex()
    assert root["parent_span_id"] == ""
    assert root["kind"] == "server"
    assert root["attributes"] == {"http.status_code": 200, "http.method": "GET", "a/b~c": "odd key"}
    assert root["events"][0]["attributes"]["raw"] == {"$bytes": "AP8="}
    assert root["events"][0]["attributes"]["map"] == {"k": 1.5, "b": {"$bytes": "AQ=="}}
    assert root["links"][0]["trace_id"] == TRACE_B.hex()
    assert root["resource"]["service_name"] == "frontend"
    assert root["scope"]["name"] == "lib"
    assert child["status"] == {"code": "error", "message": "boom"}
    assert child["kind"] == "client"
    assert child["span_id"] == A2.span_id.hex()
    # a double stays a double in the JSON text, an int an int
    assert b'"ratio":0.5' in response.content
    assert b'"db.rows":3' in response.content


def test_logs_pages_cover_everything_once(api: httpx.Client) -> None:
    # Arrange
    seen: list[str] = []
    cursor = None

    # Act
    for _ in range(len(LOGS)):
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = api.get("/logs", params=params).json()
        seen.extend(repr(r["body"]) for r in page["records"])
        cursor = page["next_cursor"]
        if cursor is None:
            break

    # Assert
    assert sorted(seen) == sorted(
        repr(r.body if not isinstance(r.body, bytes) else None) for r in LOGS
    )


def test_logs_filters(api: httpx.Client) -> None:
    # Act
    errors = api.get("/logs", params={"min_severity": "error"}).json()["records"]
    text = api.get("/logs", params={"body": "DISK"}).json()["records"]
    by_trace = api.get("/logs", params={"trace_id": TRACE_A.hex()}).json()["records"]
    typed = api.get("/logs", params={"attr": 'user.id="42"'}).json()["records"]

    # Assert
    assert [r["severity_text"] for r in errors] == ["ERROR"]
    assert [r["body"] for r in text] == ["An ERROR happened: disk full"]
    assert [r["attributes"]["user.id"] for r in by_trace] == [42]
    assert [r["attributes"]["user.id"] for r in typed] == ["42"]


def test_metrics_list_and_series(api: httpx.Client) -> None:
    # Act
    metrics = api.get("/metrics").json()["metrics"]
    values = api.get("/metrics/http.requests/series", params={"service": "frontend"}).json()
    rates = api.get("/metrics/http.requests/series", params={"mode": "rate"}).json()
    histogram = api.get(
        "/metrics/latency/series", params={"step": "1s", "percentiles": "50,100"}
    ).json()

    # Assert
    assert [(m["name"], m["type"]) for m in metrics][:3] == [
        ("cpu.usage", "gauge"),
        ("exp.latency", "exponential_histogram"),
        ("http.requests", "sum"),
    ]
    assert values["type"] == "sum"
    assert [[s["value"] for s in series["samples"]] for series in values["series"]] == [[5, 9]]
    frontend = next(s for s in rates["series"] if s["service"] == "frontend")
    # cumulative from T: 5 in the first 10ns, then 4 more in the next 10ns
    assert [s["value"] for s in frontend["samples"]] == [5 / 10e-9, 4 / 10e-9]
    # which process and library the series is from: series of one service stay apart by them
    assert frontend["resource"] == {"service.name": "frontend", "deployment.environment": "prod"}
    assert frontend["scope"] == {"name": "lib", "version": "1.0"}
    [sample] = histogram["series"][0]["samples"]
    assert (sample["count"], sample["sum"]) == (6, 61.5)
    # buckets (<=5: 1, <=10: 2, >10: 3), min 1, max 40: the median falls in (5, 10]
    assert sample["percentiles"]["p50"] == pytest.approx(5 + 5 * (3 - 1) / 2)
    assert sample["percentiles"]["p100"] == 40.0


def test_stats_counts_named_spans_log_records_and_data_points(api: httpx.Client) -> None:
    # Act
    stats = api.get("/stats").json()

    # Assert: the traces signal holds 5 spans (of fewer traces), and says it counts spans
    assert stats["signals"]["traces"] == {
        "items": "spans",
        "count": 5,
        "oldest_unix_nano": T + 100,
        "newest_unix_nano": T + 3100,
    }
    assert stats["signals"]["logs"]["items"] == "log_records"
    assert stats["signals"]["logs"]["count"] == len(LOGS)
    assert stats["signals"]["metrics"]["items"] == "data_points"
    assert stats["signals"]["metrics"]["count"] == len(POINTS)
    assert stats["size_bytes"] > 0


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("/traces", {"min_duration": "fast"}, "min_duration"),
        ("/traces", {"limit": "0"}, "limit"),
        ("/traces", {"start": "yesterday"}, "start"),
        ("/traces", {"start": "now", "end": "now-1h"}, "start"),
        ("/traces", {"attr": "novalue"}, "attr"),
        ("/traces", {"status": "ok"}, "status"),
        ("/traces/xyz", {}, "trace_id"),
        ("/logs", {"cursor": "!!"}, "cursor"),
        ("/logs", {"min_severity": "LOUD"}, "min_severity"),
        ("/metrics/latency/series", {"step": "-1s"}, "step"),
        ("/metrics/latency/series", {"mode": "sideways"}, "mode"),
        ("/metrics/cpu.usage/series", {"mode": "rate"}, "mode"),
        ("/services/frontend/operations", {"span_kind": "sideways"}, "span_kind"),
        ("/dependencies", {"start": "now", "end": "now-1h"}, "start"),
    ],
)
def test_bad_parameter_400_names_it(
    api: httpx.Client, path: str, params: dict[str, str], parameter: str
) -> None:
    # Act
    response = api.get(path, params=params)

    # Assert
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == "bad_request"
    assert body["parameter"] == parameter
    assert parameter in body["message"]


def test_unknown_trace_and_metric_404(api: httpx.Client) -> None:
    # Act
    trace = api.get("/traces/" + "ab" * 16)
    metric = api.get("/metrics/nothing/series")

    # Assert
    assert trace.status_code == 404
    assert trace.json()["error"] == "not_found"
    assert metric.status_code == 404


def test_openapi_docs_served(loaded: RunningObsvty) -> None:
    # Act
    docs = httpx.get(f"{loaded.api_url}/docs")
    schema = httpx.get(f"{loaded.api_url}/openapi.json").json()

    # Assert: the page and Swagger UI's files come from obsvty, no CDN, no inline script
    assert docs.status_code == 200
    assert "script-src 'self'" in docs.headers["content-security-policy"]
    assert "http" not in docs.text
    assert "<script>" not in docs.text
    for asset in ("init.js", "swagger-ui-bundle.js", "swagger-ui.css"):
        assert httpx.get(f"{loaded.api_url}/docs/{asset}").status_code == 200
    assert "/api/v1/traces" in schema["paths"]
    assert "/api/v1/metrics/{name}/series" in schema["paths"]


def test_otlp_json_export_reingested_elsewhere_identical(
    loaded: RunningObsvty, api: httpx.Client, tmp_path: Path
) -> None:
    # Arrange: everything out of the first obsvty as OTLP/JSON, through its API
    traces = [
        api.get(f"/traces/{t['trace_id']}", params={"format": "otlp-json"}).content
        for t in api.get("/traces", params={"limit": "1000"}).json()["traces"]
    ]
    logs = api.get("/logs", params={"format": "otlp-json", "limit": "1000"}).content
    metrics = [
        api.get(f"/metrics/{m['name']}/series", params={"format": "otlp-json"}).content
        for m in api.get("/metrics").json()["metrics"]
    ]

    # Act: into a second obsvty
    with running_obsvty(tmp_path) as second:
        for body in traces:
            _post(second, "/v1/traces", body)
        _post(second, "/v1/logs", logs)
        for body in metrics:
            _post(second, "/v1/metrics", body)
        second.flush()

        # Assert: both stores answer the same, field by field
        first_q, second_q = loaded.app.query_port, second.app.query_port
        assert first_q is not None
        assert second_q is not None
        for trace_id in {s.trace_id for s in SPANS}:
            assert second_q.get_trace(trace_id) == first_q.get_trace(trace_id)
        assert _log_set(second_q.find_logs(LogQuery(limit=1000)).records) == _log_set(
            first_q.find_logs(LogQuery(limit=1000)).records
        )
        for point in {p.metric.name for p in POINTS}:
            assert second_q.metric_points(MetricQuery(point)) == first_q.metric_points(
                MetricQuery(point)
            )


def _log_set(records: list[object]) -> list[str]:
    return sorted(repr(r) for r in records)


def test_sdk_spans_round_trip_through_export(tmp_path: Path) -> None:
    # Arrange: spans from the real OpenTelemetry SDK exporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.trace import SpanKind

    with running_obsvty(tmp_path / "a") as first, running_obsvty(tmp_path / "b") as second:
        provider = TracerProvider(resource=Resource.create({"service.name": "sdk-svc"}))
        provider.add_span_processor(
            SimpleSpanProcessor(OTLPSpanExporter(endpoint=f"{first.http_url}/v1/traces"))
        )
        tracer = provider.get_tracer("sdk-test", "1.2.3")
        with tracer.start_as_current_span("parent", kind=SpanKind.SERVER) as parent:
            parent.set_attribute("count", 3)
            parent.set_attribute("ratio", 0.25)
            parent.set_attribute("tags", ["a", "b"])
            with tracer.start_as_current_span("child") as child:
                child.add_event("step", {"ok": True})
        provider.shutdown()
        first.flush()
        trace_id = parent.get_span_context().trace_id.to_bytes(16, "big")

        # Act
        body = httpx.get(
            f"{first.api_url}/api/v1/traces/{trace_id.hex()}", params={"format": "otlp-json"}
        ).content
        _post(second, "/v1/traces", body)
        second.flush()

        # Assert
        assert first.app.query_port is not None
        assert second.app.query_port is not None
        original = first.app.query_port.get_trace(trace_id)
        assert len(original) == 2
        assert second.app.query_port.get_trace(trace_id) == original
