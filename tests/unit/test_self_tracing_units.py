"""Self-tracing spans around observed requests, recorded by the SDK's in-memory exporter."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode, get_current_span

from obsvty.adapters.telemetry.metrics import ObsvtyMetrics
from obsvty.adapters.telemetry.self_tracing import SelfTracing
from obsvty.domain.model import Signal

pytestmark = pytest.mark.unit


def _traced_metrics() -> tuple[ObsvtyMetrics, SelfTracing, InMemorySpanExporter]:
    memory = InMemorySpanExporter()
    tracing = SelfTracing("unused:4317", exporter=memory)
    metrics = ObsvtyMetrics()
    metrics.request_spans = tracing.start_request
    return metrics, tracing, memory


def test_traced_request_failing_with_an_exception_is_an_error_span() -> None:
    # Arrange
    metrics, tracing, memory = _traced_metrics()
    receiver = metrics.receiver(Signal.LOGS, "grpc")

    # Act
    with pytest.raises(RuntimeError), receiver.request("req-1"):
        raise RuntimeError("boom")
    tracing.shutdown()

    # Assert
    (span,) = memory.get_finished_spans()
    assert span.name == "obsvty.receive"
    assert span.status.status_code is StatusCode.ERROR
    assert dict(span.attributes or {}) == {
        "obsvty.signal": "logs",
        "obsvty.protocol": "grpc",
        "obsvty.outcome": "error",
        "obsvty.items.accepted": 0,
        "obsvty.items.rejected": 0,
    }
    assert span.resource.attributes["service.name"] == "obsvty"


def test_traced_request_is_current_inside_and_not_after() -> None:
    # Arrange
    metrics, tracing, memory = _traced_metrics()
    receiver = metrics.receiver(Signal.TRACES, "http")

    # Act
    with receiver.request() as observed:
        inside = get_current_span().get_span_context().span_id
        observed.fail("invalid", rejected=3)
    after = get_current_span().get_span_context().is_valid
    tracing.shutdown()

    # Assert
    (span,) = memory.get_finished_spans()
    assert span.context is not None
    assert inside == span.context.span_id
    assert after is False
    assert span.attributes is not None
    assert span.attributes["obsvty.outcome"] == "invalid"
    assert span.attributes["obsvty.items.rejected"] == 3
    assert span.status.status_code is StatusCode.UNSET  # a client's bad request: not our error
