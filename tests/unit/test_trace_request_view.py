"""Binary trace requests are parsed into a view whose span/event/link attributes stay as
undecoded ``KeyValue`` bytes: it must decode exactly what the official message decodes, and a
malformed attribute must still make the whole request invalid."""

from __future__ import annotations

from typing import Any

import pytest
from bench.payloads import PayloadFactory
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from obsvty.adapters.otlp import codec, to_domain

pytestmark = pytest.mark.unit


def _request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id = bytes(range(1, 17))
    span.span_id = bytes(range(1, 9))
    span.start_time_unix_nano = 1
    span.end_time_unix_nano = 2
    span.attributes.add(key="http.method", value=AnyValue(string_value="GET"))
    span.attributes.add(
        key="tags", value=AnyValue(array_value=ArrayValue(values=[AnyValue(int_value=1)]))
    )
    event = span.events.add(time_unix_nano=1, name="e")
    event.attributes.add(key="n", value=AnyValue(double_value=0.5))
    link = span.links.add(trace_id=bytes(range(2, 18)), span_id=bytes(range(2, 10)))
    link.attributes.add(key="b", value=AnyValue(bool_value=True))
    return request


def _columns(batch: Any) -> dict[str, Any]:
    return {name: getattr(batch, name) for name in batch.__dataclass_fields__}


def test_parse_protobuf_traces_gives_the_attribute_bytes_view() -> None:
    # Act
    parsed = codec.TRACES.parse_protobuf(_request().SerializeToString())

    # Assert
    assert isinstance(parsed, to_domain.TRACE_REQUEST_VIEW)
    span = parsed.resource_spans[0].scope_spans[0].spans[0]
    assert [KeyValue.FromString(b).key for b in span.attributes] == ["http.method", "tags"]


def test_traces_view_and_official_message_decode_the_same() -> None:
    # Arrange
    request = _request()

    # Act
    from_view = codec.TRACES.to_domain(codec.TRACES.parse_protobuf(request.SerializeToString()))
    from_official = to_domain.traces(request)

    # Assert
    assert _columns(from_view.batch) == _columns(from_official.batch)
    assert from_view.batch.attributes == [{"http.method": "GET", "tags": [1]}]
    assert from_view.batch.events[0][0].attributes == {"n": 0.5}
    assert from_view.batch.links[0][0].attributes == {"b": True}


def test_traces_realistic_request_view_matches_uncached_official_decoding() -> None:
    # Arrange: the benchmark's request, decoded once the slow, obvious way
    body = PayloadFactory(spans_per_request=40).payload(7)
    official = ExportTraceServiceRequest.FromString(body)
    expected = [
        {kv.key: to_domain.any_value(kv.value) for kv in span.attributes}
        for rs in official.resource_spans
        for ss in rs.scope_spans
        for span in ss.spans
    ]

    # Act
    decoded = codec.TRACES.to_domain(codec.TRACES.parse_protobuf(body))

    # Assert
    assert decoded.batch.attributes == expected
    assert decoded.rejected == 0


@pytest.mark.parametrize(
    "bad",
    [b"\x0a\x05ab", b"\x0a\x02\xff\xfe", b"\xff"],
    ids=["truncated", "key-not-utf8", "garbage"],
)
def test_traces_malformed_attribute_makes_the_request_invalid(bad: bytes) -> None:
    # Arrange: a request the official parser refuses, but whose framing the view accepts
    view = to_domain.TRACE_REQUEST_VIEW.FromString(_request().SerializeToString())
    view.resource_spans[0].scope_spans[0].spans[0].attributes.append(bad)  # type: ignore[attr-defined]
    payload = view.SerializeToString()
    with pytest.raises(DecodeError):
        ExportTraceServiceRequest.FromString(payload)

    # Act / Assert
    parsed = codec.TRACES.parse_protobuf(payload)
    with pytest.raises(codec.PayloadError, match="invalid protobuf ExportTraceServiceRequest"):
        codec.TRACES.to_domain(parsed)


def test_traces_malformed_attribute_on_an_invalid_span_only_rejects_that_span() -> None:
    # Arrange: the span is refused for its ids before its attributes are read
    view = to_domain.TRACE_REQUEST_VIEW.FromString(_request().SerializeToString())
    span: Span = view.resource_spans[0].scope_spans[0].spans[0]  # type: ignore[attr-defined]
    span.span_id = b"\x01"
    span.attributes.append(b"\xff")  # type: ignore[arg-type]

    # Act
    decoded = codec.TRACES.to_domain(codec.TRACES.parse_protobuf(view.SerializeToString()))

    # Assert
    assert len(decoded.batch) == 0
    assert decoded.rejected == 1
