"""A small, known, two-service trace sent through the real OpenTelemetry SDK over OTLP/HTTP.

``frontend`` serves ``GET /checkout`` (SERVER, root); under it ``backend`` runs ``SELECT orders``
(CLIENT, status ERROR with an exception event, a link to another trace); and ``frontend`` also
sends a ``late job`` span whose parent was never received (an orphan). Times are fixed, so tests
can check microseconds and nanoseconds exactly. Logs and a metric are sent too, for the UI.
"""

from __future__ import annotations

from dataclasses import dataclass

from opentelemetry import trace as trace_api
from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader, MetricExportResult
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)

BASE_NS = 1_704_880_800_000_000_000  # 2024-01-10T10:00:00Z
OTHER_TRACE_ID = 0x0123456789ABCDEF0123456789ABCDEF
OTHER_SPAN_ID = 0x00000000000000BB
MISSING_PARENT_ID = 0x00000000000000AA


@dataclass(frozen=True)
class SampleTrace:
    trace_id: str
    root_span_id: str
    child_span_id: str
    orphan_span_id: str

    @property
    def services(self) -> list[str]:
        return ["backend", "frontend"]


def _provider(http_url: str, service: str) -> TracerProvider:
    provider = TracerProvider(
        resource=Resource.create({"service.name": service, "host.name": "h1"})
    )
    exporter = OTLPSpanExporter(endpoint=f"{http_url}/v1/traces", timeout=10)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def send_sample_trace(http_url: str, root_name: str = "GET /checkout") -> SampleTrace:
    """Send the trace (and return its ids as hex); the caller flushes the server afterwards."""
    frontend = _provider(http_url, "frontend")
    backend = _provider(http_url, "backend")
    try:
        front = frontend.get_tracer("shop.web", "1.0.0")
        back = backend.get_tracer("shop.db", "2.1.0")
        root = front.start_span(
            root_name,
            kind=SpanKind.SERVER,
            start_time=BASE_NS,
            attributes={"http.method": "GET", "http.status_code": 200, "retry": False},
        )
        root_ctx = trace_api.set_span_in_context(root)
        other = SpanContext(OTHER_TRACE_ID, OTHER_SPAN_ID, is_remote=True)
        child = back.start_span(
            "SELECT orders",
            context=root_ctx,
            kind=SpanKind.CLIENT,
            start_time=BASE_NS + 100_000_000,
            attributes={"db.system": "duckdb", "db.rows": 3, "ratio": 0.5},
            links=[Link(other, {"link.reason": "batch"})],
        )
        child.add_event(
            "exception",
            {"exception.type": "TimeoutError", "exception.message": "too slow"},
            timestamp=BASE_NS + 350_000_000,
        )
        child.set_status(Status(StatusCode.ERROR, "query timed out"))
        child.end(end_time=BASE_NS + 400_123_456)
        root_context = root.get_span_context()
        missing = NonRecordingSpan(
            SpanContext(
                root_context.trace_id,
                MISSING_PARENT_ID,
                is_remote=True,
                trace_flags=TraceFlags(TraceFlags.SAMPLED),
            )
        )
        orphan = front.start_span(
            "late job",
            context=trace_api.set_span_in_context(missing),
            kind=SpanKind.INTERNAL,
            start_time=BASE_NS + 500_000_000,
        )
        orphan.end(end_time=BASE_NS + 600_000_000)
        root.end(end_time=BASE_NS + 1_000_000_000)
        return SampleTrace(
            trace_id=f"{root_context.trace_id:032x}",
            root_span_id=f"{root_context.span_id:016x}",
            child_span_id=f"{child.get_span_context().span_id:016x}",
            orphan_span_id=f"{orphan.get_span_context().span_id:016x}",
        )
    finally:
        frontend.shutdown()
        backend.shutdown()


def send_sample_logs(http_url: str, trace_id: str, now_ns: int) -> None:
    """Three logs from ``frontend`` (INFO, WARN, ERROR); the ERROR one carries ``trace_id``."""
    provider = LoggerProvider(resource=Resource.create({"service.name": "frontend"}))
    provider.add_log_record_processor(
        SimpleLogRecordProcessor(OTLPLogExporter(endpoint=f"{http_url}/v1/logs", timeout=10))
    )
    try:
        logger = provider.get_logger("shop.web")
        context = trace_api.set_span_in_context(
            NonRecordingSpan(SpanContext(int(trace_id, 16), 1, is_remote=True))
        )
        for offset, (severity, text, body) in enumerate(
            [
                (SeverityNumber.INFO, "INFO", "cart loaded"),
                (SeverityNumber.WARN, "WARN", "slow query"),
                (SeverityNumber.ERROR, "ERROR", "checkout failed"),
            ]
        ):
            logger.emit(
                timestamp=now_ns + offset * 1_000_000,
                severity_number=severity,
                severity_text=text,
                body=body,
                context=context if severity == SeverityNumber.ERROR else None,
                attributes={"cart.items": offset + 1},
            )
    finally:
        provider.shutdown()


def send_sample_metric(http_url: str, points: int = 5) -> None:
    """A counter ``orders.placed`` (+1, +2, ... per collection, ``region=eu``) and a histogram
    ``checkout.duration`` (ms; 10, 20, ... 100 per collection), collected ``points`` times and
    exported over OTLP/HTTP."""
    reader = InMemoryMetricReader()
    provider = MeterProvider(
        resource=Resource.create({"service.name": "frontend"}), metric_readers=[reader]
    )
    exporter = OTLPMetricExporter(endpoint=f"{http_url}/v1/metrics", timeout=10)
    try:
        meter = provider.get_meter("shop.web")
        counter = meter.create_counter("orders.placed", unit="1")
        histogram = meter.create_histogram("checkout.duration", unit="ms")
        for i in range(points):
            counter.add(i + 1, {"region": "eu"})
            for value in range(10, 101, 10):
                histogram.record(value)
            data = reader.get_metrics_data()
            assert data is not None
            assert exporter.export(data) == MetricExportResult.SUCCESS
    finally:
        exporter.shutdown()
        provider.shutdown()
