"""Seed payloads and the one property every decoder must keep, shared by the hypothesis tests and
the atheris fuzz targets: a payload is either refused with a clear error, or decoded into items
that each pass the OTLP rules (never a half-decoded item, never another exception)."""

from __future__ import annotations

import base64
import dataclasses
import zlib
from typing import Any

import orjson
from hypothesis import strategies as st
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceRequest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from obsvty.adapters.otlp.codec import PayloadError, SignalCodec, message_to_json
from obsvty.adapters.otlp.http_receiver import RequestError, _inflate
from obsvty.domain.batches import LogBatch, MetricBatch, SpanBatch
from obsvty.domain.model import Signal
from obsvty.domain.validation import (
    MAX_TIMESTAMP,
    optional_ids_problem,
    span_problem,
)

INFLATE_LIMIT = 256 * 1024


def seed_requests() -> dict[Signal, Any]:
    traces = ExportTraceServiceRequest()
    rs = traces.resource_spans.add()
    rs.resource.attributes.add(key="service.name").value.string_value = "svc"
    span = rs.scope_spans.add().spans.add(
        trace_id=b"\x01" * 16,
        span_id=b"\x02" * 8,
        parent_span_id=b"\x03" * 8,
        name="seed",
        start_time_unix_nano=1,
        end_time_unix_nano=2,
    )
    span.attributes.add(key="k").value.array_value.values.add().kvlist_value.values.add(key="x")
    span.events.add(time_unix_nano=1, name="e")
    span.links.add(trace_id=b"\x04" * 16, span_id=b"\x05" * 8)
    logs = ExportLogsServiceRequest()
    record = (
        logs.resource_logs.add()
        .scope_logs.add()
        .log_records.add(
            time_unix_nano=1, severity_number=9, trace_id=b"\x01" * 16, span_id=b"\x02" * 8
        )
    )
    record.body.string_value = "hello"
    metrics = ExportMetricsServiceRequest()
    sm = metrics.resource_metrics.add().scope_metrics.add()
    sm.metrics.add(name="g").gauge.data_points.add(time_unix_nano=1, as_double=1.5)
    histogram = sm.metrics.add(name="h").histogram
    histogram.data_points.add(
        time_unix_nano=1, count=2, bucket_counts=[1, 1], explicit_bounds=[1.0]
    )
    return {Signal.TRACES: traces, Signal.LOGS: logs, Signal.METRICS: metrics}


SEEDS = seed_requests()
SEED_PROTOBUF = {s: m.SerializeToString() for s, m in SEEDS.items()}
_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> Any:
    """OTLP/JSON carries ids as hex, where protobuf's JSON has base64."""
    if isinstance(node, list):
        return [_hex_ids(n) for n in node]
    if isinstance(node, dict):
        return {
            k: base64.b64decode(v).hex() if k in _ID_KEYS else _hex_ids(v) for k, v in node.items()
        }
    return node


SEED_JSON = {s: orjson.dumps(_hex_ids(orjson.loads(message_to_json(m)))) for s, m in SEEDS.items()}
SEED_GZIP = zlib.compress(SEED_PROTOBUF[Signal.TRACES], wbits=16 + zlib.MAX_WBITS)


def assert_items_valid(batch: Any) -> None:
    """Every decoded item obeys the OTLP rules the validator enforces."""
    columns = [getattr(batch, f.name) for f in dataclasses.fields(batch)]
    assert len({len(c) for c in columns}) <= 1, "columns of unequal length: a half-added item"
    if isinstance(batch, SpanBatch):
        for i in range(len(batch)):
            problem = span_problem(
                batch.trace_id[i],
                batch.span_id[i],
                batch.parent_span_id[i],
                batch.start_time_unix_nano[i],
                batch.end_time_unix_nano[i],
            )
            assert problem is None, problem
    elif isinstance(batch, LogBatch):
        for i in range(len(batch)):
            assert optional_ids_problem(batch.trace_id[i], batch.span_id[i]) is None
            assert batch.time_unix_nano[i] <= MAX_TIMESTAMP
    else:
        assert isinstance(batch, MetricBatch)
        assert all(0 < t <= MAX_TIMESTAMP for t in batch.time_unix_nano)


def decode_protobuf(codec: SignalCodec[Any], payload: bytes) -> None:
    try:
        # span attributes are decoded while converting (to_domain.TRACE_REQUEST_VIEW), so a
        # malformed one is a PayloadError from to_domain rather than from parse_protobuf
        decoded = codec.to_domain(codec.parse_protobuf(payload))
    except PayloadError:
        return
    assert_items_valid(decoded.batch)


def decode_json(codec: SignalCodec[Any], payload: bytes) -> None:
    try:
        message = codec.parse_json(payload)
    except PayloadError:
        return
    assert_items_valid(codec.to_domain(message).batch)


def inflate(payload: bytes, encoding: str = "gzip") -> None:
    try:
        out = _inflate(payload, encoding, INFLATE_LIMIT)
    except RequestError as exc:
        status = exc.http_status
    else:
        assert len(out) <= INFLATE_LIMIT
        return
    assert 400 <= status < 500


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes flipped, dropped, inserted, or cut short."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["flip", "drop", "insert", "cut"]))
        at = draw(st.integers(0, max(0, len(data) - 1)))
        if op == "flip" and data:
            data[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "drop" and data:
            del data[at]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "cut":
            del data[at:]
    return bytes(data)
