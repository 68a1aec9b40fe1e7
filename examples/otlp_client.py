"""A small app instrumented with the OpenTelemetry SDK that sends traces, logs and metrics to
obsvty over OTLP/gRPC.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4317 python examples/otlp_client.py

The endpoint defaults to http://127.0.0.1:4317 (obsvty's default gRPC port). It "handles" a few
checkout requests: one span per request with a child span for the database call, a log record
per request (an error for the failing one) and a request counter and latency histogram.
"""

from __future__ import annotations

import argparse
import logging
import os
import time

from opentelemetry._logs import SeverityNumber
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import BatchLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import SpanKind, Status, StatusCode

DEFAULT_ENDPOINT = "http://127.0.0.1:4317"
SERVICE_NAME = "example-shop"


def run(endpoint: str, requests: int) -> None:
    resource = Resource.create({"service.name": SERVICE_NAME, "service.version": "1.0.0"})
    insecure = endpoint.startswith("http://")

    tracer_provider = TracerProvider(resource=resource)
    tracer_provider.add_span_processor(
        BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint, insecure=insecure))
    )
    logger_provider = LoggerProvider(resource=resource)
    logger_provider.add_log_record_processor(
        BatchLogRecordProcessor(OTLPLogExporter(endpoint=endpoint, insecure=insecure))
    )
    meter_provider = MeterProvider(
        resource=resource,
        metric_readers=[
            PeriodicExportingMetricReader(
                OTLPMetricExporter(endpoint=endpoint, insecure=insecure),
                export_interval_millis=60_000,
            )
        ],
    )

    tracer = tracer_provider.get_tracer("example.checkout", "1.0.0")
    logger = logger_provider.get_logger("example.checkout", "1.0.0")
    meter = meter_provider.get_meter("example.checkout", "1.0.0")
    handled = meter.create_counter("checkout.requests", unit="1", description="requests handled")
    latency = meter.create_histogram("checkout.duration", unit="ms", description="request time")

    for number in range(requests):
        failing = number == requests - 1
        started = time.perf_counter()
        with tracer.start_as_current_span(
            "POST /checkout", kind=SpanKind.SERVER, attributes={"order.id": number}
        ) as span:
            with tracer.start_as_current_span(
                "INSERT orders", kind=SpanKind.CLIENT, attributes={"db.system": "sqlite"}
            ):
                time.sleep(0.001)
            if failing:
                span.set_status(Status(StatusCode.ERROR, "payment declined"))
            logger.emit(
                severity_number=SeverityNumber.ERROR if failing else SeverityNumber.INFO,
                severity_text="ERROR" if failing else "INFO",
                body=f"order {number} {'failed' if failing else 'placed'}",
                attributes={"order.id": number},
            )
        outcome = {"outcome": "error" if failing else "ok"}
        handled.add(1, outcome)
        latency.record((time.perf_counter() - started) * 1000, outcome)

    # flush and stop: everything is sent before the process ends
    tracer_provider.shutdown()
    logger_provider.shutdown()
    meter_provider.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5, help="requests to simulate")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    endpoint = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT", DEFAULT_ENDPOINT)
    run(endpoint, args.requests)
    print(f"sent {args.requests} requests' telemetry to {endpoint}")


if __name__ == "__main__":
    main()
