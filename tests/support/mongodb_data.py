"""Small, richly typed batches for the MongoDB tests: every attribute type OTLP has, dotted keys,
nested maps, bytes, ints next to doubles of the same numeric value."""

from __future__ import annotations

from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import (
    Attributes,
    Exemplar,
    InstrumentationScope,
    MetricDescriptor,
    Resource,
    SpanEvent,
    SpanLink,
)

TYPED: Attributes = {
    "http.method": "GET",
    "http.status_code": 200,
    "ratio": 1.0,
    "ok": True,
    "raw": b"\x00\xffid",
    "tags": ["a", 1, 2.5, False],
    "nested": {"k.with.dots": {"deep": 7}, "$dollar": "x"},
    "empty": None,
}
BASE_NS = 1_700_000_000_000_000_000


def resource(service: str = "checkout") -> Resource:
    return Resource({"service.name": service, "host.name": "h1", "pid": 42})


SCOPE = InstrumentationScope("io.obsvty.test", "1.2.3", {"scope.attr": 1.5})


def span_batch(count: int = 3, *, service: str = "checkout", trace: int = 1) -> SpanBatch:
    b = SpanBatch()
    res = resource(service)
    for i in range(count):
        b.trace_id.append(trace.to_bytes(16, "big"))
        b.span_id.append((trace * 1000 + i + 1).to_bytes(8, "big"))
        b.parent_span_id.append(b"" if i == 0 else (trace * 1000 + 1).to_bytes(8, "big"))
        b.trace_state.append("k=v")
        b.flags.append(1)
        b.name.append(f"op-{i}")
        b.kind.append(2)
        b.start_time_unix_nano.append(BASE_NS + i * 1000)
        b.end_time_unix_nano.append(BASE_NS + i * 1000 + 500)
        b.attributes.append({**TYPED, "i": i})
        b.dropped_attributes_count.append(0)
        b.events.append([SpanEvent(BASE_NS + 1, "evt", {"e": 1, "f": 2.0}, 1)])
        b.dropped_events_count.append(0)
        b.links.append([SpanLink(b"\x02" * 16, b"\x03" * 8, "s", {"l": b"\x01"}, 0, 1)])
        b.dropped_links_count.append(0)
        b.status_code.append(2 if i == count - 1 else 0)
        b.status_message.append("boom" if i == count - 1 else "")
        b.resource.append(res)
        b.scope.append(SCOPE)
    return b


def log_batch(count: int = 3, *, service: str = "checkout") -> LogBatch:
    b = LogBatch()
    res = resource(service)
    bodies: list[object] = ["hello world", {"structured": [1, 2.0, b"\x01"]}, None]
    for i in range(count):
        b.time_unix_nano.append(BASE_NS + i if i != 1 else 0)
        b.observed_time_unix_nano.append(BASE_NS + 10 + i)
        b.severity_number.append(9 + i)
        b.severity_text.append("INFO")
        b.body.append(bodies[i % len(bodies)])  # type: ignore[arg-type]
        b.attributes.append({**TYPED, "i": i})
        b.dropped_attributes_count.append(0)
        b.flags.append(0)
        b.trace_id.append((1).to_bytes(16, "big"))
        b.span_id.append((1001).to_bytes(8, "big"))
        b.event_name.append("")
        b.resource.append(res)
        b.scope.append(SCOPE)
    return b


def metric_batch(*, service: str = "checkout") -> MetricBatch:
    b = MetricBatch()
    res = resource(service)
    gauge = MetricDescriptor("queue.depth", "items waiting", "1", "gauge")
    hist = MetricDescriptor("http.duration", "latency", "ms", "histogram", 2, False)
    summary = MetricDescriptor("rpc.summary", "", "s", "summary")
    rows = [
        (gauge, {"value_int": 5}),
        (gauge, {"value_double": 5.0}),
        (
            hist,
            {
                "count": 3,
                "sum": 12.5,
                "min": 1.0,
                "max": 9.0,
                "bucket_counts": [1, 1, 1],
                "explicit_bounds": [2.0, 5.0],
            },
        ),
        (summary, {"count": 2, "sum": 3.0, "quantile_values": [(0.5, 1.0), (1.0, 2.0)]}),
    ]
    for i, (descriptor, values) in enumerate(rows):
        b.metric.append(descriptor)
        b.start_time_unix_nano.append(BASE_NS)
        b.time_unix_nano.append(BASE_NS + 100 + i)
        b.attributes.append({"route": "/cart", "i": i})
        b.flags.append(0)
        b.exemplars.append(
            [Exemplar(BASE_NS + 50, 1.5, {"x": 1}, b"\x01" * 16, b"\x02" * 8)] if i == 2 else []
        )
        b.value_int.append(values.get("value_int"))  # type: ignore[arg-type]
        b.value_double.append(values.get("value_double"))  # type: ignore[arg-type]
        b.count.append(values.get("count"))  # type: ignore[arg-type]
        b.sum.append(values.get("sum"))  # type: ignore[arg-type]
        b.min.append(values.get("min"))  # type: ignore[arg-type]
        b.max.append(values.get("max"))  # type: ignore[arg-type]
        b.bucket_counts.append(values.get("bucket_counts", []))  # type: ignore[arg-type]
        b.explicit_bounds.append(values.get("explicit_bounds", []))  # type: ignore[arg-type]
        b.scale.append(None)
        b.zero_count.append(None)
        b.zero_threshold.append(None)
        b.positive_offset.append(None)
        b.positive_bucket_counts.append([])
        b.negative_offset.append(None)
        b.negative_bucket_counts.append([])
        b.quantile_values.append(values.get("quantile_values", []))  # type: ignore[arg-type]
        b.resource.append(res)
        b.scope.append(SCOPE)
    return b
