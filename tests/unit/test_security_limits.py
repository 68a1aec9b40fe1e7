from __future__ import annotations

from typing import Any

import pytest
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

from obsvty.adapters.otlp.codec import LOGS, METRICS, TRACES, PayloadError
from obsvty.adapters.security.limits import ItemLimits, LimitCounters, limited_codec
from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Signal

pytestmark = pytest.mark.unit


def any_value(value: Any) -> AnyValue:
    out = AnyValue()
    if isinstance(value, str):
        out.string_value = value
    elif isinstance(value, bytes):
        out.bytes_value = value
    elif isinstance(value, int):
        out.int_value = value
    elif isinstance(value, list):
        out.array_value.values.extend(any_value(v) for v in value)
    elif isinstance(value, dict):
        out.kvlist_value.values.extend(kvs(value))
    return out


def kvs(attrs: dict[str, Any]) -> list[KeyValue]:
    return [KeyValue(key=k, value=any_value(v)) for k, v in attrs.items()]


def trace_request(*spans: dict[str, Any], resource: dict[str, Any] | None = None) -> Any:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend(kvs(resource or {}))
    ss = rs.scope_spans.add()
    for n, spec in enumerate(spans, start=1):
        span = ss.spans.add(
            trace_id=bytes([1]) * 16,
            span_id=n.to_bytes(8, "big"),
            name=spec.get("name", f"span{n}"),
            start_time_unix_nano=10,
            end_time_unix_nano=20,
        )
        span.attributes.extend(kvs(spec.get("attributes", {})))
        for e in range(spec.get("events", 0)):
            event = span.events.add(time_unix_nano=15, name=f"e{e}")
            event.attributes.extend(kvs(spec.get("event_attributes", {})))
        for link_number in range(spec.get("links", 0)):
            span.links.add(trace_id=bytes([2]) * 16, span_id=(link_number + 1).to_bytes(8, "big"))
    return request


def decode(codec: Any, limits: ItemLimits, request: Any) -> tuple[Any, LimitCounters]:
    counters = LimitCounters()
    return limited_codec(codec, limits, counters).to_domain(request), counters


def test_limited_codec_without_limits_is_the_codec_itself() -> None:
    # Act / Assert
    assert limited_codec(TRACES, ItemLimits(), LimitCounters()) is TRACES


def test_max_items_over_the_limit_refuses_the_whole_request() -> None:
    # Arrange
    request = trace_request({}, {}, {})
    counters = LimitCounters()
    codec = limited_codec(TRACES, ItemLimits(max_items=2), counters)

    # Act
    with pytest.raises(PayloadError, match="3 spans, over the limit of 2"):
        codec.to_domain(request)
    at_limit = limited_codec(TRACES, ItemLimits(max_items=3), counters).to_domain(request)

    # Assert
    assert counters.refused_requests[Signal.TRACES] == 1
    assert len(at_limit.batch) == 3


def test_max_items_counts_log_records_and_metric_points() -> None:
    # Arrange
    logs = ExportLogsServiceRequest()
    records = logs.resource_logs.add().scope_logs.add().log_records
    for _ in range(3):
        records.add(time_unix_nano=1)
    metrics = ExportMetricsServiceRequest()
    scope_metrics = metrics.resource_metrics.add().scope_metrics.add()
    gauge = scope_metrics.metrics.add(name="g").gauge
    for _ in range(2):
        gauge.data_points.add(time_unix_nano=1, as_int=1)
    scope_metrics.metrics.add(name="no-data")

    # Act / Assert
    with pytest.raises(PayloadError, match="3 log records"):
        decode(LOGS, ItemLimits(max_items=2), logs)
    with pytest.raises(PayloadError, match="3 data points"):
        decode(METRICS, ItemLimits(max_items=2), metrics)


def test_max_attributes_keeps_the_first_and_counts_the_rest_as_dropped() -> None:
    # Arrange
    request = trace_request(
        {"attributes": {"a": 1, "b": 2, "c": 3, "d": 4}},
        resource={"service.name": "svc", "host": "h", "zone": "z"},
    )
    request.resource_spans[0].resource.dropped_attributes_count = 1
    request.resource_spans[0].scope_spans[0].spans[0].dropped_attributes_count = 5

    # Act
    decoded, _ = decode(TRACES, ItemLimits(max_attributes=2), request)

    # Assert
    batch: SpanBatch = decoded.batch
    assert batch.attributes[0] == {"a": 1, "b": 2}
    assert batch.dropped_attributes_count[0] == 5 + 2
    assert batch.resource[0].attributes == {"service.name": "svc", "host": "h"}
    assert batch.resource[0].dropped_attributes_count == 1 + 1


def test_max_value_length_truncates_strings_and_bytes_also_nested_and_counts_them() -> None:
    # Arrange
    attributes = {
        "short": "abc",
        "long": "abcdefgh",
        "raw": b"0123456789",
        "list": ["xxxxxx", "y"],
        "map": {"k": "zzzzzz", "n": 7},
        "n": 123456789,
    }
    request = trace_request({"attributes": attributes})

    # Act
    decoded, counters = decode(TRACES, ItemLimits(max_value_length=4), request)

    # Assert
    assert decoded.batch.attributes[0] == {
        "short": "abc",
        "long": "abcd",
        "raw": b"0123",
        "list": ["xxxx", "y"],
        "map": {"k": "zzzz", "n": 7},
        "n": 123456789,
    }
    assert decoded.batch.dropped_attributes_count[0] == 0  # truncation drops nothing (SDK spec)
    assert counters.truncated_values[Signal.TRACES] == 4


def test_max_depth_rejects_only_the_item_too_deep_and_stores_the_rest_whole() -> None:
    # Arrange
    request = trace_request(
        {"name": "flat", "attributes": {"list": [1, 2], "map": {"k": "v"}}},
        {"name": "deep", "attributes": {"x": [[["too", "deep"]]]}},
        {"name": "deep-event", "events": 1, "event_attributes": {"m": {"a": {"b": 1}}}},
    )

    # Act
    decoded, counters = decode(TRACES, ItemLimits(max_depth=1), request)

    # Assert
    assert decoded.batch.name == ["flat"]
    assert len(decoded.batch.trace_id) == len(decoded.batch.events) == 1
    assert decoded.rejected == 2
    assert "deeper than 1" in decoded.error_message
    assert counters.rejected_items[Signal.TRACES] == 2


def test_max_depth_in_a_resource_rejects_every_item_of_that_resource() -> None:
    # Arrange
    request = trace_request({}, {}, resource={"deep": {"a": {"b": "c"}}})

    # Act
    decoded, _ = decode(TRACES, ItemLimits(max_depth=1), request)

    # Assert
    assert len(decoded.batch) == 0
    assert decoded.rejected == 2


def test_max_events_and_links_keep_the_first_and_count_the_rest_as_dropped() -> None:
    # Arrange
    request = trace_request({"events": 5, "links": 4, "event_attributes": {"a": 1, "b": 2, "c": 3}})
    span = request.resource_spans[0].scope_spans[0].spans[0]
    span.dropped_events_count = 1

    # Act
    decoded, _ = decode(TRACES, ItemLimits(max_events=2, max_links=3, max_attributes=1), request)

    # Assert
    batch: SpanBatch = decoded.batch
    assert [e.name for e in batch.events[0]] == ["e0", "e1"]
    assert batch.dropped_events_count[0] == 1 + 3
    assert [e.attributes for e in batch.events[0]] == [{"a": 1}, {"a": 1}]
    assert [e.dropped_attributes_count for e in batch.events[0]] == [2, 2]
    assert len(batch.links[0]) == 3
    assert batch.dropped_links_count[0] == 1


def test_limits_on_log_records_truncate_attributes_and_reject_deep_bodies() -> None:
    # Arrange
    request = ExportLogsServiceRequest()
    records = request.resource_logs.add().scope_logs.add().log_records
    ok = records.add(time_unix_nano=1)
    ok.body.string_value = "a body longer than the limit is not an attribute"
    ok.attributes.extend(kvs({"k": "valuevalue"}))
    deep = records.add(time_unix_nano=2)
    deep.body.CopyFrom(any_value({"a": {"b": ["c"]}}))

    # Act
    decoded, counters = decode(LOGS, ItemLimits(max_value_length=5, max_depth=2), request)

    # Assert
    batch: LogBatch = decoded.batch
    assert batch.time_unix_nano == [1]
    assert batch.attributes == [{"k": "value"}]
    assert batch.body == ["a body longer than the limit is not an attribute"]
    assert decoded.rejected == 1
    assert "log body" in decoded.error_message
    assert counters.truncated_values[Signal.LOGS] == 1


def test_limits_on_metric_points_drop_attributes_into_the_counter() -> None:
    # Arrange
    request = ExportMetricsServiceRequest()
    gauge = request.resource_metrics.add().scope_metrics.add().metrics.add(name="g").gauge
    point = gauge.data_points.add(time_unix_nano=1, as_int=3)
    point.attributes.extend(kvs({"a": 1, "b": 2, "c": 3}))

    # Act
    decoded, counters = decode(METRICS, ItemLimits(max_attributes=1), request)

    # Assert
    batch: MetricBatch = decoded.batch
    assert batch.attributes == [{"a": 1}]
    assert batch.value_int == [3]
    assert counters.dropped_point_attributes == 2
