"""Test data and test doubles for the reliability tests (buffer, flusher, durable acks, faults)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1 import common_pb2 as pb_common
from opentelemetry.proto.resource.v1 import resource_pb2 as pb_resource
from opentelemetry.proto.trace.v1 import trace_pb2 as pb_trace

from obsvty.domain.batches import Batch, SpanBatch
from obsvty.domain.model import InstrumentationScope, Resource
from obsvty.ports.store import StoreError, TelemetryStorePort

PROTOBUF = {"Content-Type": "application/x-protobuf"}
SPANS_PER_REQUEST = 50
RESOURCE = Resource({"service.name": "reliability"})
SCOPE = InstrumentationScope("tests.reliability", "1.0")
BASE_TIME = 1_700_000_000_000_000_000


def span_id_of(number: int) -> bytes:
    """A valid (non-zero) 8-byte span id unique to ``number``."""
    return (number + 1).to_bytes(8, "big")


def span_batch(first: int, count: int, *, trace: int = 1) -> SpanBatch:
    """``count`` spans numbered ``first`` .. ``first + count - 1``: the number is the span id and
    sets the start time, so a span re-sent with the same number is a true duplicate."""
    b = SpanBatch()
    trace_id = trace.to_bytes(16, "big")
    for number in range(first, first + count):
        start = BASE_TIME + number * 1000
        b.trace_id.append(trace_id)
        b.span_id.append(span_id_of(number))
        b.parent_span_id.append(b"")
        b.trace_state.append("")
        b.flags.append(0)
        b.name.append(f"span-{number}")
        b.kind.append(1)
        b.start_time_unix_nano.append(start)
        b.end_time_unix_nano.append(start + 500)
        b.attributes.append({"n": number})
        b.dropped_attributes_count.append(0)
        b.events.append([])
        b.dropped_events_count.append(0)
        b.links.append([])
        b.dropped_links_count.append(0)
        b.status_code.append(0)
        b.status_message.append("")
        b.resource.append(RESOURCE)
        b.scope.append(SCOPE)
    return b


def span_numbers(batches: Sequence[Batch]) -> list[int]:
    """The numbers (see :func:`span_batch`) of every span in ``batches``, in order."""
    return [
        int.from_bytes(span_id, "big") - 1
        for b in batches
        if isinstance(b, SpanBatch)
        for span_id in b.span_id
    ]


class FailingStore:
    """Test double at the storage boundary: a real store that can be told to fail every write
    (as a full disk or a read-only file would) until it is healed."""

    def __init__(self, inner: TelemetryStorePort) -> None:
        self.inner = inner
        self._failing = threading.Event()
        self.failed_writes = 0
        self.writes = 0

    def fail(self) -> None:
        self._failing.set()

    def heal(self) -> None:
        self._failing.clear()

    def write(self, batches: Sequence[Batch]) -> None:
        if self._failing.is_set():
            self.failed_writes += 1
            raise StoreError("injected fault: no space left on device")
        self.inner.write(batches)
        self.writes += 1

    def close(self) -> None:
        self.inner.close()


class RecordingStore:
    """Test double: keeps what it is given in memory, in commit order."""

    def __init__(self) -> None:
        self.committed: list[Batch] = []
        self._lock = threading.Lock()

    def write(self, batches: Sequence[Batch]) -> None:
        with self._lock:
            self.committed.extend(batches)

    def close(self) -> None:
        pass


def wait_until(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    """Poll ``predicate`` until it holds (a synchronisation aid, not a timing assertion: the
    timeout only keeps a broken test from hanging)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def otlp_span_request(first: int, count: int = SPANS_PER_REQUEST) -> bytes:
    """A protobuf ``ExportTraceServiceRequest`` of spans numbered ``first`` .. (as
    :func:`span_batch` numbers them: the number is the span id)."""
    spans = [
        pb_trace.Span(
            trace_id=(42).to_bytes(16, "big"),
            span_id=span_id_of(n),
            name=f"op-{n}",
            start_time_unix_nano=BASE_TIME + n,
            end_time_unix_nano=BASE_TIME + n + 10,
        )
        for n in range(first, first + count)
    ]
    service = pb_common.KeyValue(
        key="service.name", value=pb_common.AnyValue(string_value="reliability")
    )
    return ExportTraceServiceRequest(
        resource_spans=[
            pb_trace.ResourceSpans(
                resource=pb_resource.Resource(attributes=[service]),
                scope_spans=[pb_trace.ScopeSpans(spans=spans)],
            )
        ]
    ).SerializeToString()
