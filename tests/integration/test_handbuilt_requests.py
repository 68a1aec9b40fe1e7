"""Requests built by hand with the official proto classes, for what the SDK cannot produce
(summaries, exponential histograms with negative buckets, exemplars with int and double values,
link trace state, dropped counts, schema urls), sent over gRPC and HTTP/protobuf and read back
from DuckDB field by field. Also: partial success, and an empty request.

Longer than the project's ~450-line bound: one table of hand-built requests and what each must
store.
"""

from __future__ import annotations

from typing import Any

import grpc
import httpx
import pytest
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.logs.v1 import logs_pb2
from opentelemetry.proto.metrics.v1 import metrics_pb2
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1 import trace_pb2

from tests.support.duckdb_rows import by, rows
from tests.support.server import RunningObsvty

pytestmark = pytest.mark.integration

TRACE_ID = bytes.fromhex("0102030405060708090a0b0c0d0e0f10")
SPAN_ID = bytes.fromhex("a1a2a3a4a5a6a7a8")
T0 = 1_700_000_000_000_000_000

ATTRS = [
    KeyValue(key="s", value=AnyValue(string_value="v")),
    KeyValue(key="b", value=AnyValue(bool_value=False)),
    KeyValue(key="i", value=AnyValue(int_value=-(2**63))),
    KeyValue(key="d", value=AnyValue(double_value=2.0)),
    KeyValue(key="raw", value=AnyValue(bytes_value=b"\x00\x01")),
    KeyValue(
        key="arr",
        value=AnyValue(
            array_value=ArrayValue(values=[AnyValue(int_value=1), AnyValue(string_value="x")])
        ),
    ),
    KeyValue(
        key="map",
        value=AnyValue(
            kvlist_value=KeyValueList(
                values=[KeyValue(key="k", value=AnyValue(double_value=0.5)), KeyValue(key="e")]
            )
        ),
    ),
]
ATTRS_PY: dict[str, Any] = {
    "s": "v",
    "b": False,
    "i": -(2**63),
    "d": 2.0,
    "raw": b"\x00\x01",
    "arr": [1, "x"],
    "map": {"k": 0.5, "e": None},
}
RESOURCE = Resource(
    attributes=[KeyValue(key="service.name", value=AnyValue(string_value="billing"))],
    dropped_attributes_count=2,
)
SCOPE = InstrumentationScope(
    name="hand", version="9", attributes=ATTRS[:1], dropped_attributes_count=1
)


@pytest.fixture(params=["grpc", "http"])
def send(request: pytest.FixtureRequest, obsvty: RunningObsvty) -> Any:
    """A function that sends one export request over the chosen transport and returns the
    decoded response message."""
    stubs = {
        "traces": (
            trace_service_pb2_grpc.TraceServiceStub,
            trace_service_pb2.ExportTraceServiceResponse,
        ),
        "logs": (logs_service_pb2_grpc.LogsServiceStub, logs_service_pb2.ExportLogsServiceResponse),
        "metrics": (
            metrics_service_pb2_grpc.MetricsServiceStub,
            metrics_service_pb2.ExportMetricsServiceResponse,
        ),
    }
    channel = grpc.insecure_channel(obsvty.grpc_endpoint)

    def _send(signal: str, message: Any) -> Any:
        stub_type, response_type = stubs[signal]
        if request.param == "grpc":
            return stub_type(channel).Export(message, timeout=10)
        response = httpx.post(
            f"{obsvty.http_url}/v1/{signal}",
            content=message.SerializeToString(),
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert response.status_code == 200, response.content
        assert response.headers["content-type"] == "application/x-protobuf"
        return response_type.FromString(response.content)

    yield _send
    channel.close()


def test_export_handbuilt_span_every_field_is_stored(obsvty: RunningObsvty, send: Any) -> None:
    # Arrange
    span = trace_pb2.Span(
        trace_id=TRACE_ID,
        span_id=SPAN_ID,
        parent_span_id=bytes(8),  # all-zero parent: a root span
        trace_state="k=v",
        flags=0x301,
        name="hand span",
        kind=trace_pb2.Span.SPAN_KIND_PRODUCER,
        start_time_unix_nano=T0,
        end_time_unix_nano=T0 + 1500,
        attributes=ATTRS,
        dropped_attributes_count=3,
        events=[trace_pb2.Span.Event(time_unix_nano=T0 + 1, name="e", dropped_attributes_count=4)],
        dropped_events_count=5,
        links=[
            trace_pb2.Span.Link(
                trace_id=TRACE_ID[::-1],
                span_id=SPAN_ID[::-1],
                trace_state="lk=lv",
                attributes=ATTRS[3:4],
                dropped_attributes_count=6,
                flags=0x100,
            )
        ],
        dropped_links_count=7,
        status=trace_pb2.Status(code=trace_pb2.Status.STATUS_CODE_OK, message="fine"),
    )
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[
            trace_pb2.ResourceSpans(
                resource=RESOURCE,
                schema_url="https://opentelemetry.io/schemas/1.21.0",
                scope_spans=[
                    trace_pb2.ScopeSpans(scope=SCOPE, schema_url="scope-schema", spans=[span])
                ],
            )
        ]
    )

    # Act
    response = send("traces", request)
    obsvty.flush()
    stored = rows(obsvty.app.store.cursor(), "spans")

    # Assert
    assert not response.HasField("partial_success")
    assert stored == [
        {
            "trace_id": TRACE_ID.hex(),
            "span_id": SPAN_ID.hex(),
            "parent_span_id": "",
            "trace_state": "k=v",
            "flags": 0x301,
            "name": "hand span",
            "kind": 4,
            "start_time_unix_nano": T0,
            "end_time_unix_nano": T0 + 1500,
            "duration_ns": 1500,
            "attributes": ATTRS_PY,
            "dropped_attributes_count": 3,
            "events": [
                {
                    "time_unix_nano": T0 + 1,
                    "name": "e",
                    "attributes": {},
                    "dropped_attributes_count": 4,
                }
            ],
            "dropped_events_count": 5,
            "links": [
                {
                    "trace_id": TRACE_ID[::-1].hex(),
                    "span_id": SPAN_ID[::-1].hex(),
                    "trace_state": "lk=lv",
                    "attributes": {"d": 2.0},
                    "dropped_attributes_count": 6,
                    "flags": 0x100,
                }
            ],
            "dropped_links_count": 7,
            "status_code": 1,
            "status_message": "fine",
            "service_name": "billing",
            "resource_attributes": {"service.name": "billing"},
            "resource_dropped_attributes_count": 2,
            "resource_schema_url": "https://opentelemetry.io/schemas/1.21.0",
            "scope_name": "hand",
            "scope_version": "9",
            "scope_attributes": {"s": "v"},
            "scope_dropped_attributes_count": 1,
            "scope_schema_url": "scope-schema",
        }
    ]


def test_export_handbuilt_log_without_body_or_context_is_stored(
    obsvty: RunningObsvty, send: Any
) -> None:
    # Arrange
    record = logs_pb2.LogRecord(
        observed_time_unix_nano=T0,  # time_unix_nano absent: allowed for logs
        severity_number=logs_pb2.SEVERITY_NUMBER_FATAL4,
        trace_id=bytes(16),  # all zero: no context
        flags=1,
        dropped_attributes_count=9,
        event_name="evt",
    )
    request = logs_service_pb2.ExportLogsServiceRequest(
        resource_logs=[
            logs_pb2.ResourceLogs(
                resource=RESOURCE,
                scope_logs=[logs_pb2.ScopeLogs(scope=SCOPE, log_records=[record])],
            )
        ]
    )

    # Act
    send("logs", request)
    obsvty.flush()
    (row,) = rows(obsvty.app.store.cursor(), "logs")

    # Assert
    assert (row["time_unix_nano"], row["observed_time_unix_nano"]) == (0, T0)
    assert (row["severity_number"], row["severity_text"], row["body"]) == (24, "", None)
    assert (row["trace_id"], row["span_id"], row["flags"]) == ("", "", 1)
    assert (row["dropped_attributes_count"], row["event_name"]) == (9, "evt")


def _metrics_request() -> metrics_service_pb2.ExportMetricsServiceRequest:
    exemplars = [
        metrics_pb2.Exemplar(
            time_unix_nano=T0 + 5,
            as_int=7,
            filtered_attributes=ATTRS[:2],
            trace_id=TRACE_ID,
            span_id=SPAN_ID,
        ),
        metrics_pb2.Exemplar(time_unix_nano=T0 + 6, as_double=7.0),
    ]
    point_attrs = [KeyValue(key="host", value=AnyValue(string_value="h1"))]
    metrics = [
        metrics_pb2.Metric(
            name="summary.latency",
            description="a summary",
            unit="s",
            metadata=[KeyValue(key="meta", value=AnyValue(int_value=1))],
            summary=metrics_pb2.Summary(
                data_points=[
                    metrics_pb2.SummaryDataPoint(
                        start_time_unix_nano=T0 - 10,
                        time_unix_nano=T0,
                        count=10,
                        sum=12.5,
                        attributes=point_attrs,
                        quantile_values=[
                            metrics_pb2.SummaryDataPoint.ValueAtQuantile(quantile=0.0, value=0.1),
                            metrics_pb2.SummaryDataPoint.ValueAtQuantile(quantile=0.5, value=1.0),
                            metrics_pb2.SummaryDataPoint.ValueAtQuantile(quantile=1.0, value=4.0),
                        ],
                        flags=1,
                    )
                ]
            ),
        ),
        metrics_pb2.Metric(
            name="exp.sizes",
            unit="By",
            exponential_histogram=metrics_pb2.ExponentialHistogram(
                aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_DELTA,
                data_points=[
                    metrics_pb2.ExponentialHistogramDataPoint(
                        start_time_unix_nano=T0 - 10,
                        time_unix_nano=T0,
                        attributes=point_attrs,
                        count=9,
                        sum=-3.0,
                        scale=-2,
                        zero_count=1,
                        zero_threshold=0.001,
                        positive=metrics_pb2.ExponentialHistogramDataPoint.Buckets(
                            offset=-1, bucket_counts=[1, 2]
                        ),
                        negative=metrics_pb2.ExponentialHistogramDataPoint.Buckets(
                            offset=3, bucket_counts=[4, 0, 1]
                        ),
                        min=-40.0,
                        max=3.0,
                        exemplars=exemplars,
                    )
                ],
            ),
        ),
        metrics_pb2.Metric(
            name="hist.no_buckets",
            histogram=metrics_pb2.Histogram(
                aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_CUMULATIVE,
                data_points=[
                    metrics_pb2.HistogramDataPoint(
                        time_unix_nano=T0, count=2, attributes=point_attrs, exemplars=exemplars
                    )
                ],
            ),
        ),
        metrics_pb2.Metric(
            name="gauge.int",
            gauge=metrics_pb2.Gauge(
                data_points=[
                    metrics_pb2.NumberDataPoint(
                        time_unix_nano=T0, as_int=-5, attributes=point_attrs, exemplars=exemplars
                    )
                ]
            ),
        ),
        metrics_pb2.Metric(
            name="sum.double",
            sum=metrics_pb2.Sum(
                aggregation_temporality=metrics_pb2.AGGREGATION_TEMPORALITY_DELTA,
                is_monotonic=True,
                data_points=[
                    metrics_pb2.NumberDataPoint(
                        start_time_unix_nano=T0 - 1,
                        time_unix_nano=T0,
                        as_double=3.0,
                        attributes=point_attrs,
                    )
                ],
            ),
        ),
    ]
    return metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                resource=RESOURCE,
                scope_metrics=[metrics_pb2.ScopeMetrics(scope=SCOPE, metrics=metrics)],
            )
        ]
    )


EXEMPLARS_PY = [
    {
        "time_unix_nano": T0 + 5,
        "value": 7,
        "filtered_attributes": {"s": "v", "b": False},
        "trace_id": TRACE_ID.hex(),
        "span_id": SPAN_ID.hex(),
    },
    {
        "time_unix_nano": T0 + 6,
        "value": 7.0,
        "filtered_attributes": {},
        "trace_id": "",
        "span_id": "",
    },
]


def test_export_handbuilt_metrics_every_point_type_is_stored(
    obsvty: RunningObsvty, send: Any
) -> None:
    # Arrange
    request = _metrics_request()

    # Act
    response = send("metrics", request)
    obsvty.flush()
    stored = by(rows(obsvty.app.store.cursor(), "metric_points"), "metric_name")

    # Assert
    assert not response.HasField("partial_success")
    common = {
        "attributes": {"host": "h1"},
        "service_name": "billing",
        "resource_attributes": {"service.name": "billing"},
        "resource_dropped_attributes_count": 2,
        "resource_schema_url": "",
        "scope_name": "hand",
        "scope_version": "9",
        "scope_attributes": {"s": "v"},
        "scope_dropped_attributes_count": 1,
        "scope_schema_url": "",
        "time_unix_nano": T0,
    }
    absent: dict[str, Any] = {
        "value_int": None,
        "value_double": None,
        "count": None,
        "sum": None,
        "min": None,
        "max": None,
        "bucket_counts": [],
        "explicit_bounds": [],
        "scale": None,
        "zero_count": None,
        "zero_threshold": None,
        "positive_offset": None,
        "positive_bucket_counts": [],
        "negative_offset": None,
        "negative_bucket_counts": [],
        "quantile_values": [],
        "exemplars": [],
        "flags": 0,
        "metric_description": "",
        "metric_unit": "",
        "metric_metadata": {},
        "aggregation_temporality": 0,
        "is_monotonic": False,
        "start_time_unix_nano": 0,
    }
    assert stored["summary.latency"] == {
        **common,
        **absent,
        "metric_name": "summary.latency",
        "metric_type": "summary",
        "metric_description": "a summary",
        "metric_unit": "s",
        "metric_metadata": {"meta": 1},
        "start_time_unix_nano": T0 - 10,
        "count": 10,
        "sum": 12.5,
        "flags": 1,
        "quantile_values": [
            {"quantile": 0.0, "value": 0.1},
            {"quantile": 0.5, "value": 1.0},
            {"quantile": 1.0, "value": 4.0},
        ],
    }
    assert stored["exp.sizes"] == {
        **common,
        **absent,
        "metric_name": "exp.sizes",
        "metric_type": "exponential_histogram",
        "metric_unit": "By",
        "aggregation_temporality": 1,
        "start_time_unix_nano": T0 - 10,
        "count": 9,
        "sum": -3.0,
        "min": -40.0,
        "max": 3.0,
        "scale": -2,
        "zero_count": 1,
        "zero_threshold": 0.001,
        "positive_offset": -1,
        "positive_bucket_counts": [1, 2],
        "negative_offset": 3,
        "negative_bucket_counts": [4, 0, 1],
        "exemplars": EXEMPLARS_PY,
    }
    assert stored["hist.no_buckets"] == {
        **common,
        **absent,
        "metric_name": "hist.no_buckets",
        "metric_type": "histogram",
        "aggregation_temporality": 2,
        "count": 2,
        "exemplars": EXEMPLARS_PY,
    }
    assert stored["gauge.int"] == {
        **common,
        **absent,
        "metric_name": "gauge.int",
        "metric_type": "gauge",
        "value_int": -5,
        "exemplars": EXEMPLARS_PY,
    }
    assert stored["sum.double"] == {
        **common,
        **absent,
        "metric_name": "sum.double",
        "metric_type": "sum",
        "aggregation_temporality": 1,
        "is_monotonic": True,
        "start_time_unix_nano": T0 - 1,
        "value_double": 3.0,
    }
    assert isinstance(stored["exp.sizes"]["exemplars"][1]["value"], float)
    assert isinstance(stored["exp.sizes"]["exemplars"][0]["value"], int)


def test_export_mixed_valid_and_invalid_spans_rejects_only_the_invalid(
    obsvty: RunningObsvty, send: Any
) -> None:
    # Arrange
    def span(span_id: bytes, trace_id: bytes = TRACE_ID, end: int = T0 + 1) -> trace_pb2.Span:
        return trace_pb2.Span(
            trace_id=trace_id,
            span_id=span_id,
            name="s",
            start_time_unix_nano=T0,
            end_time_unix_nano=end,
        )

    spans = [
        span(b"\x00\x00\x00\x00\x00\x00\x00\x01"),
        span(bytes(8)),  # all-zero span id
        span(b"\x00\x00\x00\x00\x00\x00\x00\x02", trace_id=bytes(16)),  # all-zero trace id
        span(b"\x00\x00\x00\x00\x00\x00\x00\x03", end=T0 - 1),  # ends before it starts
        span(b"\x00\x00\x00\x00\x00\x00\x00\x04", trace_id=b"short"),
        span(b"\x00\x00\x00\x00\x00\x00\x00\x05"),
    ]
    request = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )

    # Act
    response = send("traces", request)
    obsvty.flush()
    stored = rows(obsvty.app.store.cursor(), "spans")

    # Assert
    assert response.partial_success.rejected_spans == 4
    assert "span_id must not be all zero" in response.partial_success.error_message
    assert [r["span_id"] for r in stored] == ["0000000000000001", "0000000000000005"]
    assert stored[0]["service_name"] == "unknown_service"


def test_export_official_bad_histogram_rejects_that_point_only(
    obsvty: RunningObsvty, send: Any
) -> None:
    # Arrange: 3 bucket counts for 1 bound next to a valid point, as in the official example
    good = metrics_pb2.HistogramDataPoint(
        time_unix_nano=T0, count=2, bucket_counts=[1, 1], explicit_bounds=[1.0]
    )
    bad = metrics_pb2.HistogramDataPoint(
        time_unix_nano=T0 + 1, count=3, bucket_counts=[1, 1, 1], explicit_bounds=[1.0]
    )
    request = metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                scope_metrics=[
                    metrics_pb2.ScopeMetrics(
                        metrics=[
                            metrics_pb2.Metric(
                                name="h", histogram=metrics_pb2.Histogram(data_points=[good, bad])
                            )
                        ]
                    )
                ]
            )
        ]
    )

    # Act
    response = send("metrics", request)
    obsvty.flush()
    stored = rows(obsvty.app.store.cursor(), "metric_points")

    # Assert
    assert response.partial_success.rejected_data_points == 1
    assert "bounds + 1" in response.partial_success.error_message
    assert [(r["time_unix_nano"], r["bucket_counts"]) for r in stored] == [(T0, [1, 1])]


@pytest.mark.parametrize(
    ("signal", "request_type"),
    [
        ("traces", trace_service_pb2.ExportTraceServiceRequest),
        ("logs", logs_service_pb2.ExportLogsServiceRequest),
        ("metrics", metrics_service_pb2.ExportMetricsServiceRequest),
    ],
)
def test_export_empty_request_succeeds_and_stores_nothing(
    obsvty: RunningObsvty, send: Any, signal: str, request_type: Any
) -> None:
    # Act
    response = send(signal, request_type())
    obsvty.flush()

    # Assert
    assert not response.HasField("partial_success")
    con = obsvty.app.store.cursor()
    counts = [len(rows(con, table)) for table in ("spans", "logs", "metric_points")]
    assert counts == [0, 0, 0]


def test_export_unknown_enum_values_are_rejected_not_acknowledged_and_lost(
    obsvty: RunningObsvty, send: Any
) -> None:
    # Arrange: protobuf keeps enum numbers it does not know; stores cannot give them a meaning
    spans = [
        trace_pb2.Span(
            trace_id=TRACE_ID,
            span_id=(i + 1).to_bytes(8, "big"),
            start_time_unix_nano=T0,
            end_time_unix_nano=T0,
        )
        for i in range(3)
    ]
    spans[0].kind = 300  # type: ignore[assignment]
    spans[1].status.code = 999  # type: ignore[assignment]
    traces = trace_service_pb2.ExportTraceServiceRequest(
        resource_spans=[trace_pb2.ResourceSpans(scope_spans=[trace_pb2.ScopeSpans(spans=spans)])]
    )
    point = metrics_pb2.NumberDataPoint(time_unix_nano=T0, as_int=1)
    metrics = metrics_service_pb2.ExportMetricsServiceRequest(
        resource_metrics=[
            metrics_pb2.ResourceMetrics(
                scope_metrics=[
                    metrics_pb2.ScopeMetrics(
                        metrics=[
                            metrics_pb2.Metric(
                                name="odd",
                                sum=metrics_pb2.Sum(
                                    aggregation_temporality=7,  # type: ignore[arg-type]
                                    data_points=[point, point],
                                ),
                            ),
                            metrics_pb2.Metric(
                                name="fine", gauge=metrics_pb2.Gauge(data_points=[point])
                            ),
                        ]
                    )
                ]
            )
        ]
    )

    # Act
    traces_response = send("traces", traces)
    metrics_response = send("metrics", metrics)
    obsvty.flush()
    con = obsvty.app.store.cursor()

    # Assert
    assert traces_response.partial_success.rejected_spans == 2
    assert "span kind must be 0..5, got 300" in traces_response.partial_success.error_message
    assert [r["span_id"] for r in rows(con, "spans")] == ["0000000000000003"]
    assert metrics_response.partial_success.rejected_data_points == 2
    assert "aggregation_temporality" in metrics_response.partial_success.error_message
    assert [r["metric_name"] for r in rows(con, "metric_points")] == ["fine"]
