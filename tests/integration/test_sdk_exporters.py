"""The OpenTelemetry Python SDK's own OTLP exporters (gRPC and HTTP/protobuf) send traces, logs and
metrics to a real obsvty; what lands in DuckDB is compared field by field with what the SDK made."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetricExporter,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetricExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ExponentialHistogramDataPoint,
    InMemoryMetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.metrics.view import (
    ExplicitBucketHistogramAggregation,
    ExponentialBucketHistogramAggregation,
    View,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from tests.support.duckdb_rows import by, rows
from tests.support.server import RunningObsvty

pytestmark = pytest.mark.integration

# One attribute of every OTLP type, nested ones included.
TYPED_ATTRIBUTES: dict[str, Any] = {
    "a.str": "text",
    "a.bool": True,
    "a.int": 42,
    "a.double": 1.0,
    "a.bytes": b"\x00\xffraw",
    "a.str_array": ["x", "y"],
    "a.int_array": [1, 2, 3],
    "a.double_array": [0.5, 2.0],
    "a.map": {"inner": "v", "n": 7, "deep": {"flag": False, "list": [1.5, "s"]}},
}
RESOURCE_ATTRIBUTES: dict[str, Any] = {
    "service.name": "checkout",
    "deployment.environment": "test",
    "host.cpu.count": 8,
}
REMOTE_TRACE_ID = 0x0AF7651916CD43DD8448EB211C80319C
REMOTE_SPAN_ID = 0xB7AD6B7169203331
LINKED_TRACE_ID = 0x11111111111111112222222222222222
LINKED_SPAN_ID = 0x3333333333333333


@pytest.fixture(params=["grpc", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def _span_exporter(obsvty: RunningObsvty, transport: str) -> Any:
    if transport == "grpc":
        return GrpcSpanExporter(endpoint=obsvty.grpc_endpoint, insecure=True)
    return HttpSpanExporter(endpoint=f"{obsvty.http_url}/v1/traces")


def _log_exporter(obsvty: RunningObsvty, transport: str) -> Any:
    if transport == "grpc":
        return GrpcLogExporter(endpoint=obsvty.grpc_endpoint, insecure=True)
    return HttpLogExporter(endpoint=f"{obsvty.http_url}/v1/logs")


def _metric_exporter(obsvty: RunningObsvty, transport: str) -> Any:
    if transport == "grpc":
        return GrpcMetricExporter(endpoint=obsvty.grpc_endpoint, insecure=True)
    return HttpMetricExporter(endpoint=f"{obsvty.http_url}/v1/metrics")


def _hex(value: int, width: int) -> str:
    return format(value, f"0{width}x")


def _plain(value: Any) -> Any:
    """The SDK keeps sequences as tuples and maps as its own mappings; stores give lists, dicts."""
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _produce_spans(exporter: Any) -> list[ReadableSpan]:
    """A server span continuing a remote trace, with an event, and a failing client child with a
    link; returns the spans as the SDK saw them."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create(RESOURCE_ATTRIBUTES))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("shop.tracer", "2.1.0", attributes={"scope.attr": 3})
    remote = SpanContext(
        REMOTE_TRACE_ID,
        REMOTE_SPAN_ID,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.SAMPLED),
        trace_state=TraceState([("vendor", "abc"), ("other", "x1")]),
    )
    linked = SpanContext(
        LINKED_TRACE_ID,
        LINKED_SPAN_ID,
        is_remote=True,
        trace_state=TraceState([("linked", "yes")]),
    )
    with tracer.start_as_current_span(
        "GET /cart",
        context=set_span_in_context(NonRecordingSpan(remote)),
        kind=SpanKind.SERVER,
        attributes=TYPED_ATTRIBUTES,
    ) as server:
        server.add_event("cache.miss", {"key": "cart:7", "size": 3, "ratio": 0.25}, 1_700_000_000)
        with tracer.start_as_current_span(
            "SELECT cart",
            kind=SpanKind.CLIENT,
            links=[Link(linked, {"link.kind": "follows", "link.n": 2})],
        ) as client:
            client.set_status(Status(StatusCode.ERROR, "connection reset"))
    provider.shutdown()
    spans = list(memory.get_finished_spans())
    assert len(spans) == 2
    return spans


def _expected_span_row(span: ReadableSpan) -> dict[str, Any]:
    ctx = span.get_span_context()
    parent = span.parent
    assert ctx is not None
    assert span.start_time is not None
    assert span.end_time is not None
    return {
        "trace_id": _hex(ctx.trace_id, 32),
        "span_id": _hex(ctx.span_id, 16),
        "parent_span_id": _hex(parent.span_id, 16) if parent else "",
        "trace_state": ",".join(f"{k}={v}" for k, v in ctx.trace_state.items()),
        # the SDK always sets HAS_IS_REMOTE (0x100), and IS_REMOTE (0x200) for a remote parent
        "flags": 0x100 | (0x200 if parent is not None and parent.is_remote else 0),
        "name": span.name,
        "kind": span.kind.value + 1,  # the API's enum starts at INTERNAL=0, OTLP's at 1
        "start_time_unix_nano": span.start_time,
        "end_time_unix_nano": span.end_time,
        "duration_ns": span.end_time - span.start_time,
        "attributes": _plain(span.attributes or {}),
        "dropped_attributes_count": 0,
        "events": [
            {
                "time_unix_nano": e.timestamp,
                "name": e.name,
                "attributes": _plain(e.attributes or {}),
                "dropped_attributes_count": 0,
            }
            for e in span.events
        ],
        "dropped_events_count": 0,
        "links": [
            {
                "trace_id": _hex(link.context.trace_id, 32),
                "span_id": _hex(link.context.span_id, 16),
                "trace_state": "",  # the SDK's encoder does not send a link's trace state
                "attributes": _plain(link.attributes or {}),
                "dropped_attributes_count": 0,
                "flags": 0x100 | 0x200,
            }
            for link in span.links
        ],
        "dropped_links_count": 0,
        "status_code": {StatusCode.UNSET: 0, StatusCode.OK: 1, StatusCode.ERROR: 2}[
            span.status.status_code
        ],
        "status_message": span.status.description or "",
        "service_name": "checkout",
        "resource_attributes": _plain(span.resource.attributes),
        "resource_dropped_attributes_count": 0,
        "resource_schema_url": "",
        "scope_name": "shop.tracer",
        "scope_version": "2.1.0",
        "scope_attributes": {"scope.attr": 3},
        "scope_dropped_attributes_count": 0,
        "scope_schema_url": "",
    }


def test_sdk_span_exporter_spans_are_stored_field_by_field(
    obsvty: RunningObsvty, transport: str
) -> None:
    # Arrange
    exporter = _span_exporter(obsvty, transport)

    # Act
    spans = _produce_spans(exporter)
    obsvty.flush()
    stored = by(rows(obsvty.app.store.cursor(), "spans"), "span_id")

    # Assert
    expected = {e["span_id"]: e for e in map(_expected_span_row, spans)}
    assert stored.keys() == expected.keys()
    for span_id, row in stored.items():
        assert row == expected[span_id]
    server = next(r for r in stored.values() if r["name"] == "GET /cart")
    # typed attributes survived: bytes stay bytes, 1.0 stays a double, maps stay nested
    assert server["attributes"]["a.bytes"] == b"\x00\xffraw"
    assert isinstance(server["attributes"]["a.double"], float)
    assert isinstance(server["attributes"]["a.int"], int)
    assert server["attributes"]["a.map"]["deep"] == {"flag": False, "list": [1.5, "s"]}
    assert server["trace_id"] == _hex(REMOTE_TRACE_ID, 32)
    assert server["parent_span_id"] == _hex(REMOTE_SPAN_ID, 16)
    assert server["trace_state"] == "vendor=abc,other=x1"
    assert server["kind"] == 2
    client = next(r for r in stored.values() if r["name"] == "SELECT cart")
    assert (client["kind"], client["status_code"]) == (3, 2)
    assert client["links"][0]["trace_id"] == _hex(LINKED_TRACE_ID, 32)


LOG_BODIES: list[Any] = [
    "plain text",
    17,
    2.5,
    True,
    b"\x01\x02",
    ["a", 1, 2.0, False],
    {"event": "login", "user": {"id": 7, "roles": ["admin"]}},
    None,
]


def test_sdk_log_exporter_records_are_stored_field_by_field(
    obsvty: RunningObsvty, transport: str
) -> None:
    # Arrange
    provider = LoggerProvider(resource=Resource.create(RESOURCE_ATTRIBUTES))
    provider.add_log_record_processor(SimpleLogRecordProcessor(_log_exporter(obsvty, transport)))
    logger = provider.get_logger("shop.logger", "0.3.0", attributes={"scope.kind": "logs"})
    span_context = SpanContext(
        REMOTE_TRACE_ID, REMOTE_SPAN_ID, is_remote=False, trace_flags=TraceFlags(1)
    )
    context = set_span_in_context(NonRecordingSpan(span_context))
    base = 1_700_000_000_000_000_000

    # Act
    for i, body in enumerate(LOG_BODIES):
        logger.emit(
            timestamp=base + i,
            observed_timestamp=base + i + 1000,
            context=context if i == 0 else None,
            severity_number=SeverityNumber.WARN,
            severity_text="WARN",
            body=body,
            attributes={**TYPED_ATTRIBUTES, "index": i},
            event_name="shop.event" if i == 1 else None,
        )
    provider.shutdown()
    obsvty.flush()
    stored = rows(obsvty.app.store.cursor(), "logs")

    # Assert
    assert len(stored) == len(LOG_BODIES)
    for i, (row, body) in enumerate(zip(stored, LOG_BODIES, strict=True)):
        assert row == {
            "time_unix_nano": base + i,
            "observed_time_unix_nano": base + i + 1000,
            "severity_number": SeverityNumber.WARN.value,
            "severity_text": "WARN",
            "body": body,
            "attributes": {**TYPED_ATTRIBUTES, "index": i},
            "dropped_attributes_count": 0,
            "flags": 1 if i == 0 else 0,
            "trace_id": _hex(REMOTE_TRACE_ID, 32) if i == 0 else "",
            "span_id": _hex(REMOTE_SPAN_ID, 16) if i == 0 else "",
            "event_name": "shop.event" if i == 1 else "",
            "service_name": "checkout",
            "resource_attributes": {**Resource.create(RESOURCE_ATTRIBUTES).attributes},
            "resource_dropped_attributes_count": 0,
            "resource_schema_url": "",
            "scope_name": "shop.logger",
            "scope_version": "0.3.0",
            "scope_attributes": {"scope.kind": "logs"},
            "scope_dropped_attributes_count": 0,
            "scope_schema_url": "",
        }
        assert type(row["body"]) is type(body)


@pytest.fixture
def sdk_metrics(
    obsvty: RunningObsvty, transport: str
) -> Iterator[tuple[MeterProvider, InMemoryMetricReader]]:
    """A meter provider exporting to obsvty (cumulative temporality, the SDK's default) next to
    an in-memory reader that sees the same instruments."""
    memory = InMemoryMetricReader()
    exporting = PeriodicExportingMetricReader(
        _metric_exporter(obsvty, transport), export_interval_millis=3_600_000
    )
    provider = MeterProvider(
        metric_readers=[exporting, memory],
        resource=Resource.create(RESOURCE_ATTRIBUTES),
        views=[
            View(
                instrument_name="http.duration",
                aggregation=ExplicitBucketHistogramAggregation([10.0, 100.0]),
            ),
            View(
                instrument_name="payload.size",
                aggregation=ExponentialBucketHistogramAggregation(),
            ),
        ],
    )
    yield provider, memory
    provider.shutdown()


def test_sdk_metric_exporter_every_sdk_metric_type_is_stored(
    obsvty: RunningObsvty, sdk_metrics: tuple[MeterProvider, InMemoryMetricReader]
) -> None:
    # Arrange
    provider, memory = sdk_metrics
    meter = provider.get_meter("shop.meter", "1.0.0")
    tracer_provider = TracerProvider()
    tracer = tracer_provider.get_tracer("exemplars")
    attrs = {"route": "/cart", "code": 200}

    # Act
    orders = meter.create_counter("orders", unit="1", description="orders placed")
    orders.add(5, attrs)
    orders.add(7, attrs)
    meter.create_up_down_counter("queue.depth").add(-3.5, attrs)
    meter.create_gauge("temperature", unit="Cel").set(21.5, attrs)
    duration = meter.create_histogram("http.duration", unit="ms")
    with tracer.start_as_current_span("request") as span:  # sampled: values get exemplars
        for value in (1, 5, 50, 500):
            duration.record(value, attrs)
        span_ctx = span.get_span_context()
    size = meter.create_histogram("payload.size", unit="By")
    for value in (1, 2, 4, 1024, 0):
        size.record(value, attrs)
    sdk_points = {
        m.name: m.data.data_points[0]
        for rm in memory.get_metrics_data().resource_metrics  # type: ignore[union-attr]
        for sm in rm.scope_metrics
        for m in sm.metrics
    }
    provider.force_flush()
    obsvty.flush()
    stored = by(rows(obsvty.app.store.cursor(), "metric_points"), "metric_name")

    # Assert
    assert set(stored) == {"orders", "queue.depth", "temperature", "http.duration", "payload.size"}
    for row in stored.values():
        assert row["attributes"] == attrs
        assert row["service_name"] == "checkout"
        assert (row["scope_name"], row["scope_version"]) == ("shop.meter", "1.0.0")
        assert row["time_unix_nano"] > 0
    total = stored["orders"]
    assert (total["metric_type"], total["metric_unit"], total["metric_description"]) == (
        "sum",
        "1",
        "orders placed",
    )
    assert (total["aggregation_temporality"], total["is_monotonic"]) == (2, True)
    assert (total["value_int"], total["value_double"]) == (12, None)
    assert total["start_time_unix_nano"] <= total["time_unix_nano"]
    depth = stored["queue.depth"]
    assert (depth["metric_type"], depth["is_monotonic"], depth["value_double"]) == (
        "sum",
        False,
        -3.5,
    )
    temperature = stored["temperature"]
    assert (temperature["metric_type"], temperature["value_double"]) == ("gauge", 21.5)
    assert temperature["metric_unit"] == "Cel"
    hist = stored["http.duration"]
    assert hist["metric_type"] == "histogram"
    assert (hist["count"], hist["sum"], hist["min"], hist["max"]) == (4, 556.0, 1.0, 500.0)
    assert (hist["bucket_counts"], hist["explicit_bounds"]) == ([2, 1, 1], [10.0, 100.0])
    assert hist["exemplars"], "values recorded in a sampled span carry exemplars"
    for exemplar in hist["exemplars"]:
        assert exemplar["trace_id"] == _hex(span_ctx.trace_id, 32)
        assert exemplar["span_id"] == _hex(span_ctx.span_id, 16)
        assert exemplar["value"] in (1, 5, 50, 500)
    exp = stored["payload.size"]
    sdk_exp = sdk_points["payload.size"]
    assert isinstance(sdk_exp, ExponentialHistogramDataPoint)
    assert exp["metric_type"] == "exponential_histogram"
    assert (exp["count"], exp["sum"], exp["min"], exp["max"]) == (5, 1031.0, 0.0, 1024.0)
    assert (exp["scale"], exp["zero_count"]) == (sdk_exp.scale, sdk_exp.zero_count)
    assert exp["zero_count"] == 1
    assert exp["positive_offset"] == sdk_exp.positive.offset
    assert exp["positive_bucket_counts"] == list(sdk_exp.positive.bucket_counts)
    assert sum(exp["positive_bucket_counts"]) == 4
