"""Differential tests: the compiled decoder (obsvty._native) against the reference decoder.

For every request of the corpus (official examples, the OpenTelemetry SDK's own encoding, the
benchmark's requests, hand-built edge cases) and for generated and mutated ones, the compiled
decoder either leaves the request to the reference decoder or gives exactly what the reference
gives: the same stored rows, the same rejection count and the same first reason. Requests of
ordinary shape must not be left to the reference (else these tests would prove nothing)."""

from __future__ import annotations

import math
import struct
from typing import Any

import orjson
import pytest
from bench.payloads import PayloadFactory
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.domain.model import Signal
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import INVALID, Outcome, assert_same, native_outcome, reference_outcome
from tests.support.fuzzing import SEED_PROTOBUF, mutated

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _same(payload: bytes, *, must_decode: bool = False) -> Outcome | None:
    return assert_same(Signal.TRACES, payload, must_decode=must_decode)


# ---- the corpus


def _official_trace() -> bytes:
    path = OTLP_EXAMPLES / "trace.json"
    if not path.is_file():
        pytest.skip(f"official OTLP examples not found at {OTLP_EXAMPLES}")
    message = CODECS[Signal.TRACES].parse_json(path.read_bytes())
    return message.SerializeToString()


def test_native_traces_official_example_same_as_reference() -> None:
    _same(_official_trace(), must_decode=True)


def _sdk_spans() -> Any:
    """Spans as the OpenTelemetry SDK records them: typed attributes, events, links, status."""
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
    from opentelemetry.trace import Link, Status, StatusCode

    exporter = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("tests.native", "1.0", attributes={"scope.attr": 1})
    with tracer.start_as_current_span("GET /cart", attributes={"http.status_code": 200}) as root:
        root.add_event("cache miss", {"key": "cart:1", "ratio": 0.25, "tags": ["a", "b"]})
        with tracer.start_as_current_span(
            "SELECT", links=[Link(root.get_span_context(), {"why": "retry"})]
        ) as child:
            child.set_attribute("db.rows", 3)
            child.set_attribute("db.ok", False)
            child.set_status(Status(StatusCode.ERROR, "timeout"))
    provider.shutdown()
    return exporter.get_finished_spans()


def test_native_traces_sdk_export_same_as_reference() -> None:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    payload = encode_spans(_sdk_spans()).SerializeToString()

    _same(payload, must_decode=True)


@pytest.mark.parametrize("number", [0, 1, 7])
def test_native_traces_benchmark_requests_same_as_reference(number: int) -> None:
    payload = PayloadFactory(spans_per_request=50, seed=number).payload(number)

    _same(payload, must_decode=True)


def test_native_traces_fuzz_seed_same_as_reference() -> None:
    _same(SEED_PROTOBUF[Signal.TRACES], must_decode=True)


def test_native_traces_empty_request_decodes_to_nothing() -> None:
    got = native_outcome(Signal.TRACES, b"")

    assert got == ([], 0, "")


# ---- hand-built edge cases

_TRACE = b"\x01" * 16
_SPAN = b"\x02" * 8


def _request(*spans: Span, resource: list[KeyValue] | None = None) -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add(schema_url="https://schema/r")
    if resource is not None:
        rs.resource.attributes.extend(resource)
    rs.scope_spans.add(schema_url="s").scope.name = "scope"
    rs.scope_spans[0].spans.extend(spans)
    return request.SerializeToString()


def _span(**fields: Any) -> Span:
    base: dict[str, Any] = {
        "trace_id": _TRACE,
        "span_id": _SPAN,
        "name": "op",
        "start_time_unix_nano": 10,
        "end_time_unix_nano": 20,
    }
    base.update(fields)
    return Span(**base)


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


INVALID_SPANS = {
    "short trace id": _span(trace_id=b"\x01" * 3),
    "zero trace id": _span(trace_id=bytes(16)),
    "short span id": _span(span_id=b"\x01"),
    "zero span id": _span(span_id=bytes(8)),
    "bad parent": _span(parent_span_id=b"\x01" * 3),
    "no start": _span(start_time_unix_nano=0),
    "end before start": _span(start_time_unix_nano=30),
    "end out of range": _span(end_time_unix_nano=2**63),
    "kind": _span(kind=9),
    "negative kind": _span(kind=-1),
    "status code": _span(status={"code": 7}),
    "link trace id": _span(links=[{"trace_id": b"\x01", "span_id": _SPAN}]),
    "link zero span": _span(links=[{"trace_id": _TRACE, "span_id": bytes(8)}]),
}


@pytest.mark.parametrize("case", sorted(INVALID_SPANS))
def test_native_traces_invalid_span_rejected_like_reference(case: str) -> None:
    payload = _request(_span(span_id=b"\x09" * 8), INVALID_SPANS[case], _span())

    _same(payload, must_decode=True)
    got = native_outcome(Signal.TRACES, payload)
    assert got is not None
    assert got != INVALID
    assert got[1] == 1


VALUES = {
    "escapes": _kv("s", string_value='q"\\/\n\r\t\b\f\x00\x1f\x7f\u2028é😀'),
    "ints": _kv("i", int_value=-(2**63)),
    "big int": _kv("i", int_value=2**63 - 1),
    "bool": _kv("b", bool_value=True),
    "bytes": _kv("y", bytes_value=b"\x00\xff\x10ab"),
    "empty": KeyValue(key="none"),
    "strindex": _kv("x", string_value_strindex=3),
    "nested": KeyValue(
        key="n",
        value=AnyValue(
            array_value={
                "values": [
                    AnyValue(kvlist_value={"values": [_kv("a", double_value=1.0)]}),
                    AnyValue(array_value={"values": [AnyValue(bytes_value=b"z")]}),
                    AnyValue(),
                ]
            }
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(VALUES))
def test_native_traces_attribute_value_stored_like_reference(case: str) -> None:
    span = _span(attributes=[VALUES[case]])
    span.events.add(time_unix_nano=15, name="ev", attributes=[VALUES[case]])
    span.links.add(trace_id=_TRACE, span_id=_SPAN, attributes=[VALUES[case]], flags=3)

    _same(_request(span, resource=[VALUES[case]]), must_decode=True)


DOUBLES = [
    0.0,
    -0.0,
    1.0,
    0.1,
    1e-5,
    1.5e-5,
    1e-6,
    1e15,
    1e16,
    123456789012345680.0,
    5e-324,
    1.7976931348623157e308,
    math.nan,
    math.inf,
    -math.inf,
    2.5e-7,
    0.3,
    1 / 3,
]


@pytest.mark.parametrize("value", DOUBLES, ids=repr)
def test_native_traces_double_formatted_like_reference(value: float) -> None:
    _same(_request(_span(attributes=[_kv("d", double_value=value)])), must_decode=True)


def test_native_traces_service_name_missing_or_empty_is_unknown_service() -> None:
    for resource in (
        [],
        [_kv("service.name", string_value="")],
        [_kv("service.name", int_value=1)],
    ):
        _same(_request(_span(), resource=resource), must_decode=True)


def test_native_traces_repeated_key_left_to_reference() -> None:
    payload = _request(_span(attributes=[_kv("k", int_value=1), _kv("k", int_value=2)]))

    assert native_outcome(Signal.TRACES, payload) is None
    _same(payload)


def test_native_traces_malformed_attribute_left_to_reference_which_refuses() -> None:
    span = _span()
    payload = bytearray(_request(span))
    # an attributes field (9) holding bytes that are no KeyValue: appended to the span
    payload += b""  # (built below through the view class, where attributes are bytes)
    from obsvty.adapters.otlp.to_domain import TRACE_REQUEST_VIEW

    view = TRACE_REQUEST_VIEW.FromString(bytes(payload))
    view.resource_spans[0].scope_spans[0].spans[0].attributes.append(b"\x0a\x05ab")
    bad = view.SerializeToString()

    assert native_outcome(Signal.TRACES, bad) is None
    assert reference_outcome(Signal.TRACES, bad) == INVALID


# ---- generated requests

_text = st.text(max_size=12)
_any_value = st.recursive(
    st.builds(lambda v: AnyValue(string_value=v), _text)
    | st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1))
    | st.builds(lambda v: AnyValue(double_value=v), st.floats())
    | st.builds(lambda v: AnyValue(bool_value=v), st.booleans())
    | st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=8))
    | st.just(AnyValue()),
    lambda children: (
        st.builds(lambda vs: AnyValue(array_value={"values": vs}), st.lists(children, max_size=3))
        | st.builds(
            lambda kv: AnyValue(
                kvlist_value={"values": [KeyValue(key=k, value=v) for k, v in kv.items()]}
            ),
            st.dictionaries(st.text(max_size=4), children, max_size=3),
        )
    ),
    max_leaves=8,
)
_attributes = st.lists(
    st.builds(lambda k, v: KeyValue(key=k, value=v), st.text(max_size=6), _any_value), max_size=5
)
_ids = st.sampled_from([b"", bytes(8), bytes(16), b"\x01" * 8, b"\x07" * 16, b"\x03" * 5])
_times = st.sampled_from([0, 1, 10**18, 2**63 - 1, 2**63, 2**64 - 1])


@st.composite
def _spans(draw: st.DrawFn) -> Span:
    span = Span(
        trace_id=draw(st.sampled_from([_TRACE, bytes(16), b"\x01" * 15]) | _ids),
        span_id=draw(st.sampled_from([_SPAN, bytes(8)]) | _ids),
        parent_span_id=draw(_ids),
        trace_state=draw(_text),
        name=draw(_text),
        kind=draw(st.integers(-2, 7)),
        start_time_unix_nano=draw(_times),
        end_time_unix_nano=draw(_times),
        attributes=draw(_attributes),
        dropped_attributes_count=draw(st.integers(0, 2**32 - 1)),
        dropped_events_count=draw(st.integers(0, 3)),
        dropped_links_count=draw(st.integers(0, 3)),
        flags=draw(st.integers(0, 2**32 - 1)),
    )
    span.status.code = draw(st.integers(-1, 3))
    span.status.message = draw(_text)
    for _ in range(draw(st.integers(0, 2))):
        span.events.add(time_unix_nano=draw(_times), name=draw(_text), attributes=draw(_attributes))
    for _ in range(draw(st.integers(0, 2))):
        span.links.add(
            trace_id=draw(st.sampled_from([_TRACE, b"\x01"])),
            span_id=draw(st.sampled_from([_SPAN, bytes(8)])),
            trace_state=draw(_text),
            attributes=draw(_attributes),
            flags=draw(st.integers(0, 2**32 - 1)),
        )
    return span


@st.composite
def _trace_requests(draw: st.DrawFn) -> bytes:
    request = ExportTraceServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rs = request.resource_spans.add(schema_url=draw(_text))
        rs.resource.attributes.extend(draw(_attributes))
        rs.resource.dropped_attributes_count = draw(st.integers(0, 5))
        for _ in range(draw(st.integers(0, 2))):
            ss = rs.scope_spans.add(schema_url=draw(_text))
            ss.scope.name = draw(_text)
            ss.scope.version = draw(_text)
            ss.scope.attributes.extend(draw(_attributes))
            ss.spans.extend(draw(st.lists(_spans(), max_size=3)))
    return request.SerializeToString()


@SETTINGS
@given(_trace_requests())
def test_native_traces_generated_request_same_as_reference(payload: bytes) -> None:
    _same(payload)


@SETTINGS
@given(st.floats())
@example(2.0**-1074)
@example(9007199254740993.0)
def test_native_traces_any_double_same_as_reference(value: float) -> None:
    _same(_request(_span(attributes=[_kv("d", double_value=value)])), must_decode=True)


@SETTINGS
@given(st.data())
def test_native_traces_mutated_request_decoded_like_reference_or_left(data: st.DataObject) -> None:
    seeds = [SEED_PROTOBUF[Signal.TRACES], PayloadFactory(spans_per_request=3).payload(1)]
    seed = data.draw(st.sampled_from(seeds))

    _same(data.draw(mutated(seed)))


@SETTINGS
@given(st.binary(max_size=64))
def test_native_traces_random_bytes_decoded_like_reference_or_left(payload: bytes) -> None:
    _same(payload)


def test_native_traces_double_text_is_orjson() -> None:
    # the fixed/scientific boundaries orjson uses, checked against orjson itself
    for value in (1e-5, 1e-6, 1e15, 1e16, 12345.678):
        payload = _request(_span(attributes=[_kv("d", double_value=value)]))
        got = native_outcome(Signal.TRACES, payload)
        assert got is not None
        assert got != INVALID
        assert orjson.loads(got[0][0]["attributes"]) == {"d": value}
        assert got[0][0]["attributes"] == '{"d":' + orjson.dumps(value).decode() + "}"


def test_native_traces_fixed64_times_little_endian() -> None:
    got = native_outcome(
        Signal.TRACES,
        _request(
            _span(start_time_unix_nano=0x0102030405060708, end_time_unix_nano=0x0102030405060709)
        ),
    )
    assert got is not None
    assert got != INVALID
    assert (
        got[0][0]["start_time_unix_nano"]
        == struct.unpack("<q", bytes.fromhex("0807060504030201"))[0]
    )
