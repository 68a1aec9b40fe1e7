"""MongoDB documents built column-wise from the compiled decoder's document-form Arrow batches
(``mongodb_documents.arrow_documents``) against those built from the reference decoder's batch.

Every differential test of the compiled decoder already compares the two (``same_as_reference``
in tests/support/decoders.py checks the documents too); here are the cases the document form adds:
the shipped OTLP examples on both encodings, non-finite doubles in every place a double goes
(attributes, bodies, point values, sums, bounds, exemplars, quantiles) down to their bits,
uint64 counts beyond int64, a map shaped like a tag, and batches sliced or concatenated."""

from __future__ import annotations

import math
import struct
from typing import Any

import bson
import pytest
from bench.payloads import factory_for
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue, KeyValueList
from opentelemetry.proto.logs.v1.logs_pb2 import LogRecord
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    SummaryDataPoint,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from obsvty.adapters.encoding.stored_rows import list_batch
from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.adapters.storage.mongodb.documents import arrow_documents, timestamp, timestamps
from obsvty.adapters.storage.mongodb.store import documents
from obsvty.domain.arrow_batch import ArrowBatch, in_document_form
from obsvty.domain.model import Signal
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import (
    native_documents,
    native_outcome,
    reference_documents,
    same_documents_as_reference,
)

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

_T = 1_700_000_000_000_000_000
_TRACE = b"\x01" * 16
_SPAN = b"\x02" * 8


def _bits(bits: int) -> float:
    return float(struct.unpack(">d", bits.to_bytes(8, "big"))[0])


NEGATIVE_NAN = _bits(0xFFF8000000000000)  # what x86 computes for 0/0
PAYLOAD_NAN = _bits(0x7FF0000000000001)  # a signalling NaN with a payload
NON_FINITE = [math.nan, NEGATIVE_NAN, PAYLOAD_NAN, math.inf, -math.inf]


def _assert_same(signal: Signal, payload: bytes, *, json: bool = False) -> list[bytes]:
    got = same_documents_as_reference(signal, payload, json=json)
    assert got is not None, "left to the reference decoder"
    encoded, _, _ = got
    assert isinstance(encoded, list), encoded
    assert encoded, "no documents"
    return encoded


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _doubles() -> list[KeyValue]:
    nested = KeyValueList(values=[_kv(f"d{i}", double_value=d) for i, d in enumerate(NON_FINITE)])
    return [
        *(_kv(f"double{i}", double_value=d) for i, d in enumerate(NON_FINITE)),
        _kv("array", array_value=ArrayValue(values=[AnyValue(double_value=d) for d in NON_FINITE])),
        _kv("map", kvlist_value=nested),
        _kv("bytes", bytes_value=b"\x00\xff"),
        _kv("empty bytes", bytes_value=b""),
        _kv("empty"),
        KeyValue(key="no value"),
        _kv("empty map", kvlist_value=KeyValueList()),
        _kv("empty array", array_value=ArrayValue()),
        _kv("dollar map", kvlist_value=KeyValueList(values=[_kv("$x", int_value=1)])),
    ]


def _trace_request() -> bytes:
    request = ExportTraceServiceRequest()
    rs = request.resource_spans.add()
    rs.resource.attributes.extend([_kv("service.name", string_value="svc"), *_doubles()])
    ss = rs.scope_spans.add()
    ss.scope.attributes.extend(_doubles())
    span = Span(
        trace_id=_TRACE,
        span_id=_SPAN,
        name="s",
        kind=2,
        start_time_unix_nano=_T,
        end_time_unix_nano=_T + 5,
        attributes=_doubles(),
    )
    span.events.add(time_unix_nano=_T + 1, name="e", attributes=_doubles())
    span.links.add(trace_id=_TRACE, span_id=b"\x03" * 8, attributes=_doubles())
    ss.spans.append(span)
    # rejected (no end time): the rejection count and reason are compared too
    ss.spans.append(Span(trace_id=_TRACE, span_id=b"\x04" * 8, name="bare", start_time_unix_nano=1))
    return request.SerializeToString()


def _logs_request() -> bytes:
    request = ExportLogsServiceRequest()
    sl = request.resource_logs.add().scope_logs.add()
    bodies = [
        *(AnyValue(double_value=d) for d in NON_FINITE),
        AnyValue(bytes_value=b"\x01"),
        AnyValue(kvlist_value=KeyValueList(values=_doubles())),
        AnyValue(array_value=ArrayValue(values=[AnyValue(double_value=math.nan)])),
        AnyValue(),
        None,
    ]
    for i, body in enumerate(bodies):
        record = LogRecord(time_unix_nano=_T + i if i % 2 else 0, observed_time_unix_nano=_T)
        if body is not None:
            record.body.CopyFrom(body)
        record.attributes.extend(_doubles())
        sl.log_records.append(record)
    return request.SerializeToString()


def _exemplars() -> list[Exemplar]:
    return [
        *(
            Exemplar(time_unix_nano=_T, as_double=d, trace_id=_TRACE, span_id=_SPAN)
            for d in NON_FINITE
        ),
        Exemplar(time_unix_nano=_T, as_int=-7, filtered_attributes=_doubles()),
        Exemplar(time_unix_nano=_T),
    ]


def _metrics_request() -> bytes:
    """Every point type, non-finite doubles wherever a double goes, counts beyond int64."""
    times = {"start_time_unix_nano": _T - 10, "time_unix_nano": _T}
    gauge = Metric(name="gauge", metadata=_doubles())
    gauge.gauge.data_points.extend(
        [
            *(NumberDataPoint(as_double=d, exemplars=_exemplars(), **times) for d in NON_FINITE),
            NumberDataPoint(as_int=-(2**63), attributes=_doubles(), **times),
            NumberDataPoint(**times),
        ]
    )
    total = Metric(name="sum")
    total.sum.aggregation_temporality = 1
    total.sum.is_monotonic = True
    total.sum.data_points.append(NumberDataPoint(as_int=3, **times))
    histogram = Metric(name="histogram")
    histogram.histogram.aggregation_temporality = 2
    histogram.histogram.data_points.extend(
        [
            HistogramDataPoint(
                count=2**64 - 1,
                sum=math.nan,
                min=-math.inf,
                max=math.inf,
                bucket_counts=[2**63, 1, 2**64 - 1],
                explicit_bounds=[-math.inf, 1.0],
                exemplars=_exemplars(),
                **times,
            ),
            HistogramDataPoint(count=1, bucket_counts=[1], **times),
        ]
    )
    exponential = Metric(name="exponential")
    exponential.exponential_histogram.aggregation_temporality = 1
    point = ExponentialHistogramDataPoint(
        count=2**63,
        sum=NEGATIVE_NAN,
        scale=-3,
        zero_count=2**64 - 1,
        zero_threshold=math.inf,
        min=math.nan,
        max=1.0,
        **times,
    )
    point.positive.offset = -2
    point.positive.bucket_counts.extend([2**64 - 1, 0])
    point.negative.offset = 5
    point.negative.bucket_counts.extend([1])
    exponential.exponential_histogram.data_points.append(point)
    summary = Metric(name="summary")
    summary_point = SummaryDataPoint(count=3, sum=math.inf, **times)
    for q, v in [(0.5, math.nan), (math.nan, -math.inf), (1.0, PAYLOAD_NAN)]:
        summary_point.quantile_values.add(quantile=q, value=v)
    summary.summary.data_points.append(summary_point)
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add()
    rm.resource.attributes.extend(_doubles())
    rm.scope_metrics.add().metrics.extend([gauge, total, histogram, exponential, summary])
    return request.SerializeToString()


EDGE_REQUESTS = {
    Signal.TRACES: _trace_request,
    Signal.LOGS: _logs_request,
    Signal.METRICS: _metrics_request,
}


@pytest.mark.parametrize("signal", list(Signal))
def test_arrow_documents_non_finite_doubles_bytes_and_empty_values_same_as_reference(
    signal: Signal,
) -> None:
    # Arrange
    payload = EDGE_REQUESTS[signal]()

    # Act
    encoded = _assert_same(signal, payload)

    # Assert: the NaN payloads and signs are in the documents, not only NaN
    raw = b"".join(encoded)
    for value in NON_FINITE:
        assert struct.pack("<d", value) in raw


def test_arrow_documents_metrics_counts_beyond_int64_are_decimal128() -> None:
    # Arrange
    payload = EDGE_REQUESTS[Signal.METRICS]()

    # Act
    encoded = _assert_same(Signal.METRICS, payload)

    # Assert
    histogram = next(
        bson.decode(e) for e in encoded if bson.decode(e)["metric_name"] == "histogram"
    )
    assert str(histogram["count"]) == str(2**64 - 1)
    assert [str(c) for c in histogram["bucket_counts"]] == [str(2**63), "1", str(2**64 - 1)]


_EXAMPLES = {Signal.TRACES: "trace.json", Signal.LOGS: "logs.json", Signal.METRICS: "metrics.json"}


@pytest.mark.parametrize("json", [False, True], ids=["protobuf", "json"])
@pytest.mark.parametrize("signal", list(Signal))
def test_arrow_documents_shipped_examples_same_as_reference(signal: Signal, json: bool) -> None:
    # Arrange
    path = OTLP_EXAMPLES / _EXAMPLES[signal]
    if not path.exists():
        pytest.skip(f"OTLP examples not found at {OTLP_EXAMPLES}")
    document = path.read_bytes()
    codec = CODECS[signal]
    payload = document if json else codec.parse_json(document).SerializeToString()

    # Act / Assert
    _assert_same(signal, payload, json=json)


@pytest.mark.parametrize("signal", list(Signal))
@pytest.mark.parametrize("number", [0, 3])
def test_arrow_documents_benchmark_requests_same_as_reference(signal: Signal, number: int) -> None:
    _assert_same(signal, factory_for(signal, 50).payload(number))


def _tagged_map_request(*entries: KeyValue) -> bytes:
    request = ExportTraceServiceRequest()
    ss = request.resource_spans.add().scope_spans.add()
    value = AnyValue(kvlist_value=KeyValueList(values=list(entries)))
    ss.spans.append(
        Span(
            trace_id=_TRACE,
            span_id=_SPAN,
            name="s",
            start_time_unix_nano=_T,
            end_time_unix_nano=_T + 1,
            attributes=[KeyValue(key="m", value=value)],
        )
    )
    return request.SerializeToString()


@pytest.mark.parametrize(
    "entry",
    [_kv("$bytes", string_value="AAE="), _kv("$double", string_value="7ff8000000000000")],
    ids=["bytes", "double"],
)
def test_document_form_map_shaped_like_a_tag_left_to_reference(entry: KeyValue) -> None:
    # Arrange: a user's map that would read back as a tagged value
    payload = _tagged_map_request(entry)

    # Act
    in_document_form_ = native_documents(Signal.TRACES, payload)
    typed_json = native_outcome(Signal.TRACES, payload)

    # Assert: the DuckDB form decodes it; the document form leaves it to the reference decoder
    assert in_document_form_ is None
    assert typed_json is not None
    reference = reference_documents(Signal.TRACES, payload)
    assert not isinstance(reference, str)
    stored = bson.decode(reference[0][0])  # type: ignore[index]
    assert stored["attributes"] == [{"k": "m", "v": {entry.key: entry.value.string_value}}]


def test_document_form_map_with_a_tag_key_among_others_decoded_natively() -> None:
    payload = _tagged_map_request(
        _kv("$bytes", string_value="AAE="), _kv("$double", double_value=math.nan)
    )

    _assert_same(Signal.TRACES, payload)


def _native_batch(signal: Signal, payload: bytes) -> ArrowBatch:
    decode = native.protobuf_decoder(signal, document_form=True)
    assert decode is not None
    decoded = decode(payload)
    assert decoded is not None
    assert isinstance(decoded.batch, ArrowBatch)
    return decoded.batch


def _reference_bson(signal: Signal, payload: bytes) -> list[bytes]:
    reference = reference_documents(signal, payload)
    assert not isinstance(reference, str)
    assert isinstance(reference[0], list)
    return reference[0]


@pytest.mark.parametrize("signal", list(Signal))
def test_arrow_documents_of_sliced_and_concatenated_batches_same_as_reference(
    signal: Signal,
) -> None:
    # Arrange: two requests (two resources each), one batch sliced, then both concatenated
    first, second = factory_for(signal, 30).payload(1), factory_for(signal, 30).payload(2)
    batch = ArrowBatch.concat(
        [_native_batch(signal, first).slice(5, 25), _native_batch(signal, second)]
    )

    # Act
    got = [bson.encode(d) for d in arrow_documents(batch)]

    # Assert
    assert in_document_form(batch)
    assert got == _reference_bson(signal, first)[5:25] + _reference_bson(signal, second)


def test_in_document_form_only_for_the_document_form_option() -> None:
    payload = factory_for(Signal.LOGS, 3).payload(0)
    decode = native.protobuf_decoder(Signal.LOGS)
    assert decode is not None

    decoded = decode(payload)

    assert decoded is not None
    assert isinstance(decoded.batch, ArrowBatch)
    assert not in_document_form(decoded.batch)
    assert in_document_form(_native_batch(Signal.LOGS, payload).slice(1))


def test_codec_document_form_decodes_in_document_form_and_leaves_reference_codecs_alone() -> None:
    payload = factory_for(Signal.TRACES, 3).payload(0)
    codec = CODECS[Signal.TRACES]

    native_batch = codec.document_form().decode_protobuf(payload).batch
    reference = codec.reference().document_form()

    assert isinstance(native_batch, ArrowBatch)
    assert in_document_form(native_batch)
    assert (reference.native, reference.native_json) == (None, None)


def test_store_documents_of_a_typed_json_batch_read_through_the_list_form() -> None:
    # Arrange: a batch of the DuckDB form (no document-form metadata) still makes documents
    payload = factory_for(Signal.METRICS, 10).payload(0)
    decode = native.protobuf_decoder(Signal.METRICS)
    assert decode is not None
    decoded = decode(payload)
    assert decoded is not None
    assert isinstance(decoded.batch, ArrowBatch)

    # Act
    name, items = documents(decoded.batch)

    # Assert
    assert name == "metric_points"
    assert [bson.encode(d) for d in items] == [
        bson.encode(d) for d in documents(list_batch(decoded.batch))[1]
    ]


def test_timestamps_of_int64_times_same_as_timestamp_of_each() -> None:
    times = [-(2**63), -1, 0, 999, 1_700_000_000_123_456_789, 2**63 - 1]

    got = timestamps(times)

    assert got == [timestamp(t) for t in times]
    assert timestamps(times[2:]) == [timestamp(t) for t in times[2:]]
