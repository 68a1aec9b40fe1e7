"""Differential tests of the compiled metrics decoder (obsvty._native.decode_metrics) against the
reference (the official message classes, to_domain.metrics, duckdb.tables.metric_table).

For every request of the corpus (the official example, the OpenTelemetry SDK's own encoding, the
benchmark's requests, hand-built edge cases of every point type and every rejection reason) and
for generated and mutated ones, the compiled decoder either leaves the request to the reference
or gives exactly what the reference gives: the same stored rows, the same rejection count and the
same first reason. Requests of ordinary shape must not be left to the reference.

Longer than the project's ~450-line bound: one differential suite per signal, sharing its request
builders.
"""

from __future__ import annotations

import math
import struct
from typing import Any

import pytest
from bench.payloads import MetricsPayloadFactory
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.metrics.v1.metrics_pb2 import (
    Exemplar,
    ExponentialHistogramDataPoint,
    HistogramDataPoint,
    Metric,
    NumberDataPoint,
    SummaryDataPoint,
)

from obsvty.adapters.otlp import native
from obsvty.adapters.otlp.codec import CODECS
from obsvty.domain.arrow_batch import METRIC_SCHEMA
from obsvty.domain.model import Signal
from tests.conftest import OTLP_EXAMPLES
from tests.support.decoders import (
    INVALID,
    Outcome,
    assert_same,
    comparable,
    native_outcome,
    reference_outcome,
)
from tests.support.fuzzing import SEED_PROTOBUF, mutated

pytestmark = [
    pytest.mark.unit,
    pytest.mark.skipif(not native.AVAILABLE, reason="OBSVTY_NO_EXTENSIONS: no compiled decoder"),
]

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))


def _same(payload: bytes, *, must_decode: bool = False) -> Outcome | None:
    return assert_same(Signal.METRICS, payload, must_decode=must_decode)


# ---- the corpus


def _official_metrics() -> bytes:
    path = OTLP_EXAMPLES / "metrics.json"
    if not path.is_file():
        pytest.skip(f"official OTLP examples not found at {OTLP_EXAMPLES}")
    return CODECS[Signal.METRICS].parse_json(path.read_bytes()).SerializeToString()


def test_native_metrics_official_example_same_as_reference() -> None:
    got = _same(_official_metrics(), must_decode=True)

    assert got is not None
    assert got != INVALID
    assert {row["metric_type"] for row in got[0]} >= {"sum", "gauge"}
    # its histogram has 3 bucket counts for 1 bound: rejected by the data model's rule
    assert got[1:] == (1, "metric 'my.histogram': " + got[2].split(": ", 1)[1])


def sdk_metrics_request() -> ExportMetricsServiceRequest:
    """What the OpenTelemetry SDK exports from a counter, a gauge, an up-down counter, an
    explicit-bucket and an exponential histogram (with exemplars from a sampled span)."""
    from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader
    from opentelemetry.sdk.metrics.view import ExponentialBucketHistogramAggregation, View
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider

    reader = InMemoryMetricReader()
    provider = MeterProvider(
        metric_readers=[reader],
        resource=Resource.create({"service.name": "checkout"}),
        views=[
            View(instrument_name="latency.exp", aggregation=ExponentialBucketHistogramAggregation())
        ],
    )
    meter = provider.get_meter("tests.native", "1.0", attributes={"scope.attr": 1})
    counter = meter.create_counter("requests", unit="1", description="requests served")
    gauge = meter.create_gauge("temperature", unit="Cel")
    updown = meter.create_up_down_counter("queue.depth")
    histogram = meter.create_histogram("latency", unit="ms")
    exponential = meter.create_histogram("latency.exp", unit="ms")
    tracer = TracerProvider().get_tracer("tests.native")
    with tracer.start_as_current_span("request"):
        for i in range(5):
            attributes = {"route": f"/r{i % 2}", "ok": i % 3 != 0}
            counter.add(i + 1, attributes)
            gauge.set(20.5 + i, {"room": "a"})
            updown.add(1 - i, attributes)
            histogram.record(3.5 * i, attributes)
            exponential.record(0.25 * (i + 1), attributes)
            exponential.record(-2.0 * i, attributes)
    data = reader.get_metrics_data()
    assert data is not None
    provider.shutdown()
    return encode_metrics(data)


def test_native_metrics_sdk_export_same_as_reference() -> None:
    request = sdk_metrics_request()
    kinds = {m.WhichOneof("data") for m in request.resource_metrics[0].scope_metrics[0].metrics}
    assert kinds == {"sum", "gauge", "histogram", "exponential_histogram"}

    _same(request.SerializeToString(), must_decode=True)


@pytest.mark.parametrize("number", [0, 1, 7])
def test_native_metrics_benchmark_requests_same_as_reference(number: int) -> None:
    payload = MetricsPayloadFactory(50, seed=number).payload(number)

    _same(payload, must_decode=True)


def test_native_metrics_fuzz_seed_same_as_reference() -> None:
    _same(SEED_PROTOBUF[Signal.METRICS], must_decode=True)


def test_native_metrics_empty_request_decodes_to_nothing() -> None:
    assert native_outcome(Signal.METRICS, b"") == ([], 0, "")


def test_native_metrics_batch_has_the_store_schema() -> None:
    decode = native.protobuf_decoder(Signal.METRICS)
    assert decode is not None

    decoded = decode(MetricsPayloadFactory(20).payload(1))

    assert decoded is not None
    assert decoded.batch.table.schema == METRIC_SCHEMA  # type: ignore[union-attr]


@pytest.mark.parametrize("source", ["sdk", "benchmark"])
def test_native_metrics_list_batch_makes_the_reference_documents(source: str) -> None:
    """MongoDB builds its documents from the list form of a native batch (stored_rows): the same
    documents, content ids included, as from the reference batch."""
    from obsvty.adapters.encoding.stored_rows import list_batch
    from obsvty.adapters.storage.mongodb.documents import metric_documents
    from obsvty.domain.arrow_batch import ArrowBatch
    from obsvty.domain.batches import MetricBatch

    payload = (
        sdk_metrics_request().SerializeToString()
        if source == "sdk"
        else MetricsPayloadFactory(30).payload(2)
    )
    codec = CODECS[Signal.METRICS]
    native_batch = codec.decode_protobuf(payload).batch
    reference_batch = codec.reference().decode_protobuf(payload).batch
    assert isinstance(native_batch, ArrowBatch)
    assert isinstance(reference_batch, MetricBatch)

    converted = list_batch(native_batch)

    assert isinstance(converted, MetricBatch)
    assert list(metric_documents(converted)) == list(metric_documents(reference_batch))


# ---- hand-built edge cases

_TRACE = b"\x01" * 16
_SPAN = b"\x02" * 8
_T = 1_700_000_000_000_000_000


def _request(*metrics: Metric, resource: list[KeyValue] | None = None) -> bytes:
    request = ExportMetricsServiceRequest()
    rm = request.resource_metrics.add(schema_url="https://schema/r")
    if resource is not None:
        rm.resource.attributes.extend(resource)
    sm = rm.scope_metrics.add(schema_url="s")
    sm.scope.name = "scope"
    sm.metrics.extend(metrics)
    return request.SerializeToString()


def _kv(key: str, **value: Any) -> KeyValue:
    return KeyValue(key=key, value=AnyValue(**value))


def _number(**fields: Any) -> NumberDataPoint:
    base: dict[str, Any] = {"start_time_unix_nano": _T - 10, "time_unix_nano": _T}
    base.update(fields)
    return NumberDataPoint(**base)


def _histogram(**fields: Any) -> HistogramDataPoint:
    base: dict[str, Any] = {
        "start_time_unix_nano": _T - 10,
        "time_unix_nano": _T,
        "count": 6,
        "bucket_counts": [1, 2, 3],
        "explicit_bounds": [0.5, 10.0],
    }
    base.update(fields)
    return HistogramDataPoint(**base)


def _gauge(name: str, *points: NumberDataPoint) -> Metric:
    metric = Metric(name=name)
    metric.gauge.data_points.extend(points)
    return metric


def _histogram_metric(name: str, *points: HistogramDataPoint, temporality: int = 2) -> Metric:
    metric = Metric(name=name)
    metric.histogram.aggregation_temporality = temporality
    metric.histogram.data_points.extend(points)
    return metric


_EXEMPLAR = {"time_unix_nano": _T - 5, "as_double": 0.5, "trace_id": _TRACE, "span_id": _SPAN}

INVALID_POINTS: dict[str, Metric] = {
    "no time": _gauge("g", _number(time_unix_nano=0, as_int=1)),
    "time out of range": _gauge("g", _number(time_unix_nano=2**63, as_int=1)),
    "start out of range": _gauge("g", _number(start_time_unix_nano=2**64 - 1, as_int=1)),
    "exemplar trace id": _gauge(
        "g", _number(as_int=1, exemplars=[Exemplar(**{**_EXEMPLAR, "trace_id": b"\x01" * 3})])
    ),
    "exemplar span id": _gauge(
        "g.x",
        _number(
            as_int=1,
            exemplars=[Exemplar(**_EXEMPLAR), Exemplar(**{**_EXEMPLAR, "span_id": b"\x05" * 9})],
        ),
    ),
    "bucket count": _histogram_metric("h", _histogram(bucket_counts=[1, 2])),
    "bounds order": _histogram_metric("h", _histogram(explicit_bounds=[10.0, 10.0])),
    "bounds decrease": _histogram_metric(
        "h", _histogram(bucket_counts=[1, 1, 1, 1], explicit_bounds=[1.0, 3.0, 2.0])
    ),
    "time before exemplar": _histogram_metric(
        "h",
        _histogram(
            time_unix_nano=0,
            bucket_counts=[1],
            exemplars=[Exemplar(**{**_EXEMPLAR, "span_id": b"\x05"})],
        ),
    ),
    "exemplar before buckets": _histogram_metric(
        "h", _histogram(bucket_counts=[1], exemplars=[Exemplar(**{**_EXEMPLAR, "span_id": b"5"})])
    ),
}


@pytest.mark.parametrize("case", sorted(INVALID_POINTS))
def test_native_metrics_invalid_point_rejected_like_reference(case: str) -> None:
    valid = _gauge("ok", _number(as_double=1.5))
    payload = _request(valid, INVALID_POINTS[case], valid)

    got = _same(payload, must_decode=True)

    assert got is not None
    assert got != INVALID
    assert got[1] == 1
    assert got[2].startswith("metric '")


def _sum(name: str, temporality: int, points: int) -> Metric:
    metric = Metric(name=name)
    metric.sum.aggregation_temporality = temporality
    metric.sum.is_monotonic = True
    metric.sum.data_points.extend(_number(as_int=i) for i in range(points))
    return metric


INVALID_METRICS: dict[str, tuple[Metric, int]] = {
    "no data": (Metric(name="m", unit="1"), 1),
    "no data, no name": (Metric(), 1),
    "no name": (_gauge("", _number(as_int=1), _number(as_int=2)), 1),
    "no name, no points": (_gauge(""), 1),
    "temporality": (_sum("s", 7, 3), 3),
    "negative temporality": (_sum("s", -1, 2), 2),
    "temporality, no points": (_sum("s", 3, 0), 0),
    "histogram temporality": (_histogram_metric("h", _histogram(), temporality=9), 1),
}


@pytest.mark.parametrize("case", sorted(INVALID_METRICS))
def test_native_metrics_invalid_metric_rejected_like_reference(case: str) -> None:
    metric, rejected = INVALID_METRICS[case]
    payload = _request(_gauge("ok", _number(as_double=1.5)), metric)

    got = _same(payload, must_decode=True)

    assert got is not None
    assert got != INVALID
    assert got[1] == rejected


def _exponential(**fields: Any) -> ExponentialHistogramDataPoint:
    base: dict[str, Any] = {
        "start_time_unix_nano": _T - 10,
        "time_unix_nano": _T,
        "count": 9,
        "scale": -3,
        "zero_count": 2,
        "zero_threshold": 1e-9,
    }
    base.update(fields)
    return ExponentialHistogramDataPoint(**base)


def _every_point_type() -> list[Metric]:
    gauge = _gauge(
        "g",
        _number(as_double=-0.0, attributes=[_kv("a", string_value="x")]),
        _number(as_int=-(2**63), flags=1),
        _number(),  # no value
        _number(as_double=math.nan),
        _number(
            as_double=1e300,
            exemplars=[
                Exemplar(time_unix_nano=1, as_int=-3, filtered_attributes=[_kv("k", bool_value=1)]),
                Exemplar(time_unix_nano=2, as_double=math.inf, trace_id=bytes(16)),
                Exemplar(time_unix_nano=3, trace_id=bytes(3), span_id=bytes(1)),  # zero: none
                Exemplar(**_EXEMPLAR),
            ],
        ),
    )
    gauge.description = "a gauge"
    gauge.unit = "Cel"
    gauge.metadata.extend([_kv("m", int_value=1), _kv("n", bytes_value=b"\x00")])
    counter = _sum("c", 1, 3)
    counter.sum.is_monotonic = False
    histogram = _histogram_metric(
        "h",
        _histogram(sum=12.5, min=0.1, max=9.0, flags=2),
        _histogram(bucket_counts=[], explicit_bounds=[1.0, 2.0]),
        _histogram(bucket_counts=[2**64 - 1], explicit_bounds=[]),
        _histogram(explicit_bounds=[math.nan, 1.0]),  # NaN compares as Python does
        _histogram(sum=math.nan, exemplars=[Exemplar(**_EXEMPLAR)]),
    )
    exponential = Metric(name="e")
    exponential.exponential_histogram.aggregation_temporality = 1
    exponential.exponential_histogram.data_points.extend(
        [
            _exponential(
                sum=3.5,
                min=-1.0,
                max=2.0,
                positive={"offset": -40, "bucket_counts": [1, 2**64 - 1, 0]},
                negative={"offset": 7, "bucket_counts": [4]},
                exemplars=[Exemplar(**_EXEMPLAR)],
            ),
            _exponential(scale=2**31 - 1, positive={"offset": -(2**31)}),
            _exponential(),
        ]
    )
    summary = Metric(name="s")
    summary.summary.data_points.extend(
        [
            SummaryDataPoint(
                start_time_unix_nano=_T - 10,
                time_unix_nano=_T,
                count=4,
                sum=10.25,
                quantile_values=[
                    {"quantile": 0.0, "value": 1.0},
                    {"quantile": 0.5, "value": math.nan},
                    {"quantile": 1.0, "value": 1e-7},
                ],
                attributes=[_kv("q", double_value=0.1)],
            ),
            SummaryDataPoint(time_unix_nano=_T),
        ]
    )
    return [gauge, counter, histogram, exponential, summary]


def test_native_metrics_batch_stored_in_duckdb_next_to_a_reference_batch(tmp_path: Any) -> None:
    """One write of a native batch and the reference one of the same request: both tables have
    METRIC_SCHEMA (so they concatenate), and DuckDB stores the same rows from each."""
    from obsvty.adapters.storage.duckdb.store import DuckDBStore
    from obsvty.domain.arrow_batch import ArrowBatch

    payload = _request(*_every_point_type())
    codec = CODECS[Signal.METRICS]
    native_batch = codec.decode_protobuf(payload).batch
    assert isinstance(native_batch, ArrowBatch)
    native_batch.table.validate(full=True)
    store = DuckDBStore(tmp_path / "metrics.duckdb")
    try:
        store.write([native_batch, codec.reference().decode_protobuf(payload).batch])
        rows = store.cursor().execute("SELECT * FROM metric_points").fetchall()
    finally:
        store.close()

    assert len(rows) == 2 * len(native_batch) > 0
    assert comparable(rows[: len(native_batch)]) == comparable(rows[len(native_batch) :])


def test_native_metrics_every_point_type_stored_like_reference() -> None:
    got = _same(
        _request(*_every_point_type(), resource=[_kv("service.name", string_value="svc")]),
        must_decode=True,
    )

    assert got is not None
    assert got != INVALID
    assert got[1] == 0
    assert [row["metric_type"] for row in got[0]] == [
        *["gauge"] * 5,
        *["sum"] * 3,
        *["histogram"] * 5,
        *["exponential_histogram"] * 3,
        *["summary"] * 2,
    ]


# metric names whose Python repr the decoder does not write: left to the reference when the
# first reason names them, decoded when no reason does (or only a later one)
ODD_NAMES = ["it's", 'say "hi"', "back\\slash", "tab\there", "é", "😀", "x" * 250]


@pytest.mark.parametrize("name", ODD_NAMES, ids=range(len(ODD_NAMES)))
def test_native_metrics_odd_name_in_first_reason_left_to_reference(name: str) -> None:
    rejected = _request(_gauge(name, _number(time_unix_nano=0)))
    stored = _request(_gauge(name, _number(as_int=1)))
    later = _request(_gauge("first", _number(time_unix_nano=0)), _sum(name, 5, 2))

    assert native_outcome(Signal.METRICS, rejected) is None
    _same(rejected)
    _same(stored, must_decode=True)
    got = _same(later, must_decode=True)
    assert got is not None
    assert got != INVALID
    assert got[1:] == (3, "metric 'first': time_unix_nano is required")


def test_native_metrics_printable_name_in_reason() -> None:
    name = "".join(chr(c) for c in range(0x20, 0x7F) if chr(c) not in "'\"\\")

    _same(_request(_gauge(name, _number(time_unix_nano=0))), must_decode=True)


# hand-written wire bytes: what the message classes never write, but protobuf reads
def _field(number: int, wire_type: int, payload: bytes) -> bytes:
    tag = _varint(number << 3 | wire_type)
    if wire_type == 2:
        return tag + _varint(len(payload)) + payload
    return tag + payload


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        out.append(value & 0x7F | (0x80 if value > 0x7F else 0))
        value >>= 7
        if not value:
            return bytes(out)


def _metric_bytes(name: str, kind: int, data: bytes) -> bytes:
    return _field(1, 2, name.encode()) + _field(kind, 2, data)


def _request_bytes(*metrics: bytes) -> bytes:
    scope_metrics = b"".join(_field(2, 2, m) for m in metrics)
    return _field(1, 2, _field(2, 2, scope_metrics))


def _fixed64(*values: int) -> bytes:
    return b"".join(struct.pack("<Q", v) for v in values)


def _doubles(*values: float) -> bytes:
    return b"".join(struct.pack("<d", v) for v in values)


_TIME = _field(3, 1, _fixed64(_T))


def test_native_metrics_unpacked_and_split_repeated_fields_read_as_protobuf_does() -> None:
    histogram_point = (
        _TIME
        + _field(6, 1, _fixed64(1))  # bucket_counts, unpacked
        + _field(6, 2, _fixed64(2, 3))  # then packed
        + _field(7, 1, _doubles(0.5))  # explicit_bounds, unpacked
        + _field(7, 2, _doubles(2.5))
        + _field(7, 2, b"")  # an empty packed run
    )
    buckets = _field(1, 0, _varint(5)) + _field(2, 0, _varint(300)) + _field(2, 2, b"\x01\x02")
    exponential_point = _TIME + _field(8, 2, buckets) + _field(9, 2, _field(2, 0, _varint(7)))
    payload = _request_bytes(
        _metric_bytes("h", 9, _field(1, 2, histogram_point) + _field(2, 0, b"\x02")),
        _metric_bytes("e", 10, _field(2, 0, b"\x01") + _field(1, 2, exponential_point)),
    )

    got = _same(payload, must_decode=True)

    assert got is not None
    assert got != INVALID
    assert got[0][0]["bucket_counts"] == [1, 2, 3]
    assert got[0][0]["explicit_bounds"] == [0.5, 2.5]
    assert got[0][1]["positive_bucket_counts"] == [300, 1, 2]
    assert got[0][1]["positive_offset"] == -3
    assert got[0][1]["negative_bucket_counts"] == [7]


def test_native_metrics_last_value_of_a_oneof_or_a_repeated_scalar_wins() -> None:
    point = (
        _TIME
        + _field(4, 1, _doubles(1.5))  # as_double
        + _field(6, 1, _fixed64(2**64 - 7))  # then as_int: -7
        + _field(8, 0, _varint(2**40 + 3))  # flags: a uint32 keeps the low 32 bits
        + _field(8, 0, _varint(5))
    )
    sum_data = (
        _field(1, 2, point)
        + _field(2, 0, _varint(1))
        + _field(2, 0, _varint(2))
        + _field(3, 0, _varint(300))  # any non-zero varint is true
    )
    payload = _request_bytes(_metric_bytes("s", 7, sum_data) + _field(1, 2, b"renamed"))

    got = _same(payload, must_decode=True)

    assert got is not None
    assert got != INVALID
    row = got[0][0]
    assert (row["value_int"], row["value_double"], row["flags"]) == (-7, None, 5)
    assert (row["metric_name"], row["aggregation_temporality"], row["is_monotonic"]) == (
        "renamed",
        2,
        True,
    )


LEFT = {
    "two data members": _metric_bytes("m", 5, b"") + _field(7, 2, b""),
    "data given twice (merged)": _metric_bytes("m", 5, _field(1, 2, _TIME))
    + _field(5, 2, _field(1, 2, _TIME)),
    "buckets given twice (merged)": _metric_bytes(
        "e", 10, _field(1, 2, _TIME + _field(8, 2, b"") + _field(8, 2, b""))
    ),
    "packed fixed64 of odd length": _metric_bytes(
        "h", 9, _field(1, 2, _TIME + _field(6, 2, b"\x01\x02\x03"))
    ),
    "wrong wire type": _metric_bytes("h", 9, _field(1, 2, _TIME + _field(4, 0, b"\x01"))),
    "repeated attribute key": _metric_bytes(
        "g",
        5,
        _field(
            1,
            2,
            _TIME
            + _field(7, 2, _kv("k", int_value=1).SerializeToString())
            + _field(7, 2, _kv("k", int_value=2).SerializeToString()),
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(LEFT))
def test_native_metrics_unusual_shape_left_to_reference(case: str) -> None:
    payload = _request_bytes(LEFT[case])

    assert native_outcome(Signal.METRICS, payload) is None
    _same(payload)


# malformed bytes where the reference stores nothing of them still fail the whole request there
MALFORMED = {
    "in a rejected point": _metric_bytes(
        "g", 5, _field(1, 2, _field(7, 2, _field(1, 2, b"\xff")))
    ),  # time 0: rejected, but its attribute key is not UTF-8
    "in a metric without name": _metric_bytes(
        "", 5, _field(1, 2, _TIME + _field(5, 2, _field(7, 2, b"\x0a")))
    ),
    "in a bad temporality's point": _metric_bytes(
        "s", 7, _field(2, 0, _varint(5)) + _field(1, 2, _TIME + _field(7, 2, b"\x12\x01"))
    ),
    "in the metadata of a metric without data": _field(1, 2, b"m") + _field(12, 2, b"\x0a\x01"),
    "in an exemplar after a bad one": _metric_bytes(
        "g",
        5,
        _field(
            1,
            2,
            _TIME
            + _field(5, 2, _field(5, 2, b"\x01"))
            + _field(5, 2, _field(7, 2, _field(1, 2, b"\xc0\x80"))),
        ),
    ),
    "a name not UTF-8": _field(1, 2, b"\xff") + _field(5, 2, b""),
    "a quantile cut short": _metric_bytes("q", 11, _field(1, 2, _TIME + _field(6, 2, b"\x09\x00"))),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_native_metrics_malformed_anywhere_left_to_reference_which_refuses(case: str) -> None:
    payload = _request_bytes(MALFORMED[case])

    assert reference_outcome(Signal.METRICS, payload) == INVALID
    assert native_outcome(Signal.METRICS, payload) is None


# ---- generated requests

_text = st.text(max_size=8)
_plain_names = st.sampled_from(["", "m", "http.server.duration", "a/b_c-d 1"])
_names = st.one_of(_plain_names, _plain_names, _plain_names, st.sampled_from(["it's", "é"]), _text)
_times = st.sampled_from([0, 1, _T, 2**63 - 1, 2**63, 2**64 - 1])
_doubles_st = st.floats() | st.sampled_from([0.0, -0.0, 1.0, 0.5])
_any_value = st.one_of(
    st.builds(lambda v: AnyValue(string_value=v), _text),
    st.builds(lambda v: AnyValue(int_value=v), st.integers(-(2**63), 2**63 - 1)),
    st.builds(lambda v: AnyValue(double_value=v), st.floats()),
    st.builds(lambda v: AnyValue(bytes_value=v), st.binary(max_size=4)),
    st.builds(
        lambda vs: AnyValue(array_value={"values": vs}),
        st.lists(st.builds(lambda v: AnyValue(bool_value=v), st.booleans()), max_size=2),
    ),
    st.just(AnyValue()),
)
_attributes = st.builds(
    lambda kvs: [KeyValue(key=k, value=v) for k, v in kvs.items()],
    st.dictionaries(st.text(max_size=4), _any_value, max_size=3),
)
_ids = st.sampled_from([b"", bytes(8), bytes(16), _TRACE, _SPAN, b"\x03" * 5, bytes(3)])


@st.composite
def _exemplars(draw: st.DrawFn) -> list[Exemplar]:
    out = []
    for _ in range(draw(st.integers(0, 2))):
        ex = Exemplar(
            time_unix_nano=draw(_times),
            trace_id=draw(st.sampled_from([_TRACE, b""]) | _ids),
            span_id=draw(st.sampled_from([_SPAN, b""]) | _ids),
            filtered_attributes=draw(_attributes),
        )
        value = draw(st.sampled_from(["int", "double", None]))
        if value == "int":
            ex.as_int = draw(st.integers(-(2**63), 2**63 - 1))
        elif value == "double":
            ex.as_double = draw(_doubles_st)
        out.append(ex)
    return out


def _common(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "start_time_unix_nano": draw(st.sampled_from([0, _T - 5]) | _times),
        "time_unix_nano": draw(st.sampled_from([_T, _T]) | _times),
        "attributes": draw(_attributes),
        "flags": draw(st.integers(0, 2**32 - 1)),
    }


@st.composite
def _metrics(draw: st.DrawFn) -> Metric:
    metric = Metric(name=draw(_names), description=draw(_text), unit=draw(_text))
    metric.metadata.extend(draw(_attributes))
    kind = draw(st.sampled_from(["gauge", "sum", "histogram", "exponential", "summary", None]))
    temporality = draw(st.sampled_from([0, 1, 2]) | st.integers(-3, 5))
    points = draw(st.integers(0, 3))
    if kind in ("gauge", "sum"):
        data = metric.gauge if kind == "gauge" else metric.sum
        if kind == "sum":
            metric.sum.aggregation_temporality = temporality
            metric.sum.is_monotonic = draw(st.booleans())
        for _ in range(points):
            point = data.data_points.add(**_common(draw), exemplars=draw(_exemplars()))
            value = draw(st.sampled_from(["int", "double", None]))
            if value == "int":
                point.as_int = draw(st.integers(-(2**63), 2**63 - 1))
            elif value == "double":
                point.as_double = draw(_doubles_st)
        if not points:
            data.SetInParent()
    elif kind == "histogram":
        metric.histogram.aggregation_temporality = temporality
        metric.histogram.SetInParent()
        for _ in range(points):
            bounds = draw(st.lists(_doubles_st, max_size=3))
            point = metric.histogram.data_points.add(
                **_common(draw),
                count=draw(st.integers(0, 2**64 - 1)),
                explicit_bounds=sorted(bounds) if draw(st.booleans()) else bounds,
                bucket_counts=draw(st.lists(st.integers(0, 2**64 - 1), max_size=4)),
                exemplars=draw(_exemplars()),
            )
            for field in ("sum", "min", "max"):
                if draw(st.booleans()):
                    setattr(point, field, draw(_doubles_st))
    elif kind == "exponential":
        metric.exponential_histogram.aggregation_temporality = temporality
        metric.exponential_histogram.SetInParent()
        for _ in range(points):
            point = metric.exponential_histogram.data_points.add(
                **_common(draw),
                count=draw(st.integers(0, 2**64 - 1)),
                scale=draw(st.integers(-(2**31), 2**31 - 1)),
                zero_count=draw(st.integers(0, 2**64 - 1)),
                zero_threshold=draw(_doubles_st),
                exemplars=draw(_exemplars()),
            )
            for side in ("positive", "negative"):
                if draw(st.booleans()):
                    buckets = getattr(point, side)
                    buckets.offset = draw(st.integers(-(2**31), 2**31 - 1))
                    buckets.bucket_counts.extend(
                        draw(st.lists(st.integers(0, 2**64 - 1), max_size=3))
                    )
            for field in ("sum", "min", "max"):
                if draw(st.booleans()):
                    setattr(point, field, draw(_doubles_st))
    elif kind == "summary":
        metric.summary.SetInParent()
        for _ in range(points):
            metric.summary.data_points.add(
                **_common(draw),
                count=draw(st.integers(0, 2**64 - 1)),
                sum=draw(_doubles_st),
                quantile_values=[
                    {"quantile": q, "value": v}
                    for q, v in draw(st.lists(st.tuples(_doubles_st, _doubles_st), max_size=3))
                ],
            )
    return metric


@st.composite
def metrics_requests(draw: st.DrawFn) -> bytes:
    request = ExportMetricsServiceRequest()
    for _ in range(draw(st.integers(0, 2))):
        rm = request.resource_metrics.add(schema_url=draw(_text))
        rm.resource.attributes.extend(draw(_attributes))
        for _ in range(draw(st.integers(0, 2))):
            sm = rm.scope_metrics.add(schema_url=draw(_text))
            sm.scope.name = draw(_text)
            sm.scope.version = draw(_text)
            sm.metrics.extend(draw(st.lists(_metrics(), max_size=3)))
    return request.SerializeToString()


@SETTINGS
@given(metrics_requests())
def test_native_metrics_generated_request_same_as_reference(payload: bytes) -> None:
    _same(payload)


@SETTINGS
@given(st.data())
def test_native_metrics_mutated_request_decoded_like_reference_or_left(
    data: st.DataObject,
) -> None:
    seeds = [
        SEED_PROTOBUF[Signal.METRICS],
        MetricsPayloadFactory(6).payload(1),
        _request(*_every_point_type()),
    ]
    seed = data.draw(st.sampled_from(seeds))

    _same(data.draw(mutated(seed)))


@SETTINGS
@given(st.binary(max_size=64))
def test_native_metrics_random_bytes_decoded_like_reference_or_left(payload: bytes) -> None:
    _same(payload)
