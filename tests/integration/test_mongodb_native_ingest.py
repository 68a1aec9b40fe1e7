"""The OpenTelemetry SDK's OTLP exporters (gRPC and HTTP/protobuf) send traces, logs and metrics
to a real obsvty with OBSVTY_STORAGE=mongodb: the compiled decoder's document-form batches reach
the store, and every stored document is, byte for byte in BSON, the one the reference decoder's
batch of the same request makes (NaN, infinities, bytes and a map that looks like a tag
included)."""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import bson
import pytest
from bson.codec_options import CodecOptions
from opentelemetry.exporter.otlp.proto.common._log_encoder import encode_logs
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc._log_exporter import OTLPLogExporter as GrpcLogs
from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
    OTLPMetricExporter as GrpcMetrics,
)
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpans
from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter as HttpLogs
from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
    OTLPMetricExporter as HttpMetrics,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpans
from opentelemetry.sdk._logs import LoggerProvider
from opentelemetry.sdk._logs.export import InMemoryLogRecordExporter, SimpleLogRecordProcessor
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from obsvty.adapters.otlp import native
from obsvty.adapters.storage.mongodb import documents as docs
from obsvty.adapters.storage.mongodb.store import INGEST_ID
from obsvty.domain.arrow_batch import ArrowBatch, in_document_form
from obsvty.domain.batches import Batch
from obsvty.domain.model import Signal
from tests.support.decoders import native_documents, reference_documents
from tests.support.server import RunningObsvty, running_obsvty

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

ATTRIBUTES: dict[str, Any] = {
    "a.str": "text",
    "a.int": 42,
    "a.double": 1.0,
    "a.nan": math.nan,
    "a.inf": math.inf,
    "a.neg_inf": -math.inf,
    "a.bytes": b"\x00\xffraw",
    "a.double_array": [0.5, math.nan, -math.inf],
    "a.map": {"inner": "v", "deep": {"flag": False, "list": [1.5, "s"]}, "$bytes": "AA=="},
}
_READ = CodecOptions(tz_aware=True)


@pytest.fixture(params=["grpc", "http"])
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def obsvty(
    tmp_path: Path,
    mongodb_uri: str,
    mongodb_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[RunningObsvty, list[Batch]]]:
    """obsvty on MongoDB, and every batch its flusher hands the store (a spy: the store still
    writes them)."""
    with running_obsvty(
        tmp_path,
        obsvty_storage="mongodb",
        mongodb_uri=mongodb_uri,
        mongodb_database=mongodb_database,
    ) as server:
        written: list[Batch] = []
        store = server.app.store
        write = store.write

        def spy(batches: Sequence[Batch]) -> None:
            written.extend(batches)
            write(batches)

        monkeypatch.setattr(store, "write", spy)
        yield server, written


def _stored(server: RunningObsvty, collection: str) -> dict[Any, bytes]:
    """Every stored document without its ingest id, as BSON, by ``_id``."""
    found = server.app.store.db[collection].with_options(codec_options=_READ).find()  # type: ignore[attr-defined]
    out = {}
    for document in found:
        del document[INGEST_ID]
        out[document["_id"]] = bson.encode(document)
    return out


def _expected(signal: Signal, payload: bytes) -> dict[Any, bytes]:
    """The documents the reference decoder's batch of ``payload`` makes, as BSON, by ``_id``."""
    reference = reference_documents(signal, payload)
    assert not isinstance(reference, str)
    encoded, rejected, _ = reference
    assert isinstance(encoded, list)
    assert rejected == 0
    return {bson.decode(e)["_id"]: e for e in encoded}


def _assert_native_same_as_reference(
    server: RunningObsvty,
    written: list[Batch],
    signal: Signal,
    collection: str,
    payload: bytes,
) -> None:
    server.flush()
    assert native_documents(signal, payload) is not None, "the compiled decoder takes it"
    assert written, "the store was written"
    assert all(isinstance(b, ArrowBatch) and in_document_form(b) for b in written)
    assert _stored(server, collection) == _expected(signal, payload)


def test_sdk_spans_stored_from_the_native_batch_as_from_the_reference(
    obsvty: tuple[RunningObsvty, list[Batch]], transport: str
) -> None:
    # Arrange
    server, written = obsvty
    exporter = (
        GrpcSpans(endpoint=server.grpc_endpoint, insecure=True)
        if transport == "grpc"
        else HttpSpans(endpoint=f"{server.http_url}/v1/traces")
    )
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("shop.tracer", "2.1.0", attributes={"scope.nan": math.nan})

    # Act
    with tracer.start_as_current_span("GET /cart", attributes=ATTRIBUTES) as span:
        span.add_event("cache.miss", {"ratio": math.inf, "raw": b"\x01"})
    provider.shutdown()

    # Assert
    payload = encode_spans(memory.get_finished_spans()).SerializeToString()
    _assert_native_same_as_reference(server, written, Signal.TRACES, docs.SPANS, payload)


def test_sdk_logs_stored_from_the_native_batch_as_from_the_reference(
    obsvty: tuple[RunningObsvty, list[Batch]], transport: str
) -> None:
    # Arrange
    server, written = obsvty
    exporter = (
        GrpcLogs(endpoint=server.grpc_endpoint, insecure=True)
        if transport == "grpc"
        else HttpLogs(endpoint=f"{server.http_url}/v1/logs")
    )
    memory = InMemoryLogRecordExporter()
    provider = LoggerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_log_record_processor(SimpleLogRecordProcessor(memory))
    provider.add_log_record_processor(SimpleLogRecordProcessor(exporter))
    logger = provider.get_logger("shop.logger", "0.3.0")
    bodies: list[Any] = ["text", math.nan, b"\x01\x02", {"m": [math.inf, 1]}, None]

    # Act
    for i, body in enumerate(bodies):
        logger.emit(
            timestamp=1_700_000_000_000_000_000 + i if i else None,
            observed_timestamp=1_700_000_000_000_001_000 + i,
            body=body,
            attributes={**ATTRIBUTES, "index": i},
        )
    provider.shutdown()

    # Assert
    payload = encode_logs(memory.get_finished_logs()).SerializeToString()
    _assert_native_same_as_reference(server, written, Signal.LOGS, docs.LOGS, payload)


def test_sdk_metrics_stored_from_the_native_batch_as_from_the_reference(
    obsvty: tuple[RunningObsvty, list[Batch]], transport: str
) -> None:
    # Arrange
    server, written = obsvty
    exporter = (
        GrpcMetrics(endpoint=server.grpc_endpoint, insecure=True)
        if transport == "grpc"
        else HttpMetrics(endpoint=f"{server.http_url}/v1/metrics")
    )
    memory = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[memory],
        resource=Resource.create({"service.name": "checkout"}),
        views=[View(instrument_name="size", aggregation=ExponentialBucketHistogramAggregation())],
    )
    meter = provider.get_meter("shop.meter", "1.0.0")
    attrs = {"route": "/cart", "ratio": math.nan}
    meter.create_counter("orders", unit="1").add(5, attrs)
    meter.create_up_down_counter("depth").add(-3.5, attrs)
    meter.create_gauge("temperature").set(math.inf, attrs)
    meter.create_histogram("duration").record(50, attrs)
    for value in (1, 2, 1024, 0):
        meter.create_histogram("size").record(value, attrs)
    data = memory.get_metrics_data()
    assert data is not None

    # Act
    exporter.export(data)
    provider.shutdown()

    # Assert
    payload = encode_metrics(data).SerializeToString()
    _assert_native_same_as_reference(server, written, Signal.METRICS, docs.METRIC_POINTS, payload)
