"""Traces of any shape sent through the real OpenTelemetry SDK over OTLP/HTTP, for UI tests: a
trace is a list of :class:`Node`, each naming its service, its parent (an earlier node) and its
times in milliseconds from the trace's start."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from opentelemetry import trace as trace_api
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Span, Status, StatusCode

MS = 1_000_000


@dataclass(frozen=True)
class Node:
    service: str
    name: str
    parent: int | None  # index of an earlier node, None for the root
    start_ms: float
    duration_ms: float
    error: bool = False
    attributes: dict[str, str | int | float | bool] = field(default_factory=dict)
    events: tuple[tuple[str, float], ...] = ()  # (name, ms from the trace's start)


class SpanSender:
    """One tracer provider per service (as one process each), exported in batches."""

    def __init__(self, http_url: str) -> None:
        self.http_url = http_url
        self.providers: dict[str, TracerProvider] = {}

    def _tracer(self, service: str) -> trace_api.Tracer:
        if service not in self.providers:
            provider = TracerProvider(resource=Resource.create({"service.name": service}))
            exporter = OTLPSpanExporter(endpoint=f"{self.http_url}/v1/traces", timeout=10)
            provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=512))
            self.providers[service] = provider
        return self.providers[service].get_tracer("ui.test")

    def send(self, nodes: Sequence[Node], base_ns: int) -> str:
        """Record one trace starting at ``base_ns``; returns its trace id (hex)."""
        spans: list[Span] = []
        for node in nodes:
            context = None
            if node.parent is not None:
                context = trace_api.set_span_in_context(spans[node.parent])
            span = self._tracer(node.service).start_span(
                node.name,
                context=context,
                start_time=base_ns + int(node.start_ms * MS),
                attributes=node.attributes,
            )
            for name, at_ms in node.events:
                span.add_event(name, {"at": at_ms}, timestamp=base_ns + int(at_ms * MS))
            if node.error:
                span.set_status(Status(StatusCode.ERROR, f"{node.name} failed"))
            spans.append(span)
        for node, span in zip(nodes, spans, strict=True):
            span.end(end_time=base_ns + int((node.start_ms + node.duration_ms) * MS))
        return f"{spans[0].get_span_context().trace_id:032x}"

    def close(self) -> None:
        """Export everything recorded (the caller flushes the server afterwards)."""
        for provider in self.providers.values():
            provider.shutdown()
