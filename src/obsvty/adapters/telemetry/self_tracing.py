"""obsvty tracing its own pipeline with the OpenTelemetry SDK (``OBSVTY_SELF_TRACING``, off).

Three spans per traced export request: ``obsvty.receive`` (a SERVER span from the first byte
decoded to the answer, with the outcome and item counts), ``obsvty.ingest`` inside it (redaction
and buffering), and, on the flusher's thread, one ``obsvty.store.write`` per flush. They are
exported over OTLP/gRPC by a batch processor to ``OBSVTY_SELF_TRACING_ENDPOINT``.

Loop-proof by construction: the settings refuse an endpoint that reaches this obsvty's own
receivers (see :func:`obsvty.config.own_receiver`); the provider is obsvty's own, never the
global one, so no instrumentation of the exporter's own calls can make spans; and spans are made
per request and per flush, never per item, so even a collector that forwards them back (a loop
the settings cannot see) adds a handful of spans per export interval, not a cascade.

This module is imported only when self-tracing is on: with it off no SDK code is loaded.
"""

from __future__ import annotations

from collections.abc import Sequence

from opentelemetry import context, trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode

from obsvty import __version__
from obsvty.application.commit_watermark import CommitWatermark
from obsvty.application.ingest import DecodedRequest, IngestResult, IngestService
from obsvty.application.redaction import Redactor
from obsvty.domain.batches import Batch
from obsvty.ports.buffer import BufferPort
from obsvty.ports.store import TelemetryStorePort

SERVICE_NAME = "obsvty"
EXPORT_TIMEOUT_S = 5.0
"""Longest wait for the collector per export, so a dead collector cannot hold up a shutdown."""


class SelfTracing:
    """obsvty's own tracer provider and exporter."""

    def __init__(
        self,
        endpoint: str,
        *,
        sample_ratio: float = 1.0,
        exporter: SpanExporter | None = None,
    ) -> None:
        self._provider = TracerProvider(
            resource=Resource.create(
                {"service.name": SERVICE_NAME, "service.version": __version__}
            ),
            sampler=ParentBased(TraceIdRatioBased(sample_ratio)),
        )
        if exporter is None:
            exporter = OTLPSpanExporter(endpoint=endpoint, timeout=EXPORT_TIMEOUT_S)
        self._provider.add_span_processor(BatchSpanProcessor(exporter))
        self.tracer = self._provider.get_tracer("obsvty.self_tracing", __version__)

    def start_request(self, signal: str, protocol: str) -> RequestSpan:
        """The ``obsvty.receive`` span of one export request, current until it ends."""
        return RequestSpan(self.tracer, signal, protocol)

    def shutdown(self) -> None:
        """Export what is left and stop (bounded by the exporter's timeout)."""
        self._provider.shutdown()


class RequestSpan:
    """One export request's span; :meth:`end` must be called on the task that started it."""

    __slots__ = ("_span", "_token")

    def __init__(self, tracer: trace.Tracer, signal: str, protocol: str) -> None:
        self._span = tracer.start_span(
            "obsvty.receive",
            kind=SpanKind.SERVER,
            attributes={"obsvty.signal": signal, "obsvty.protocol": protocol},
        )
        self._token = context.attach(trace.set_span_in_context(self._span))

    def end(self, outcome: str, accepted: int, rejected: int) -> None:
        span = self._span
        try:
            span.set_attributes(
                {
                    "obsvty.outcome": outcome,
                    "obsvty.items.accepted": accepted,
                    "obsvty.items.rejected": rejected,
                }
            )
            if outcome == "error":
                span.set_status(Status(StatusCode.ERROR, "export request failed"))
            span.end()
        finally:
            context.detach(self._token)


class TracedIngestService(IngestService):
    """:class:`IngestService` with an ``obsvty.ingest`` span around each request's buffering."""

    def __init__(
        self,
        tracing: SelfTracing,
        buffer: BufferPort,
        *,
        watermark: CommitWatermark | None = None,
        commit_timeout: float = 5.0,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(
            buffer, watermark=watermark, commit_timeout=commit_timeout, redactor=redactor
        )
        self._tracer = tracing.tracer

    def ingest(self, decoded: DecodedRequest, nbytes: int = 0) -> IngestResult:
        with self._tracer.start_as_current_span(
            "obsvty.ingest",
            attributes={"obsvty.signal": decoded.batch.signal.value, "obsvty.bytes": nbytes},
        ) as span:
            result = super().ingest(decoded, nbytes)
            span.set_attribute("obsvty.items.accepted", result.accepted)
            return result


class TracedStore:
    """A store with an ``obsvty.store.write`` span around each write (one per flush)."""

    def __init__(self, store: TelemetryStorePort, tracing: SelfTracing) -> None:
        self._store = store
        self._tracer = tracing.tracer

    def write(self, batches: Sequence[Batch]) -> None:
        with self._tracer.start_as_current_span(
            "obsvty.store.write",
            attributes={
                "obsvty.batches": len(batches),
                "obsvty.items": sum(len(b) for b in batches),
            },
        ):
            self._store.write(batches)

    def close(self) -> None:
        self._store.close()
