"""The benchmark's own logic: request bodies with unique ids (traces, logs, metrics; protobuf and
OTLP/JSON), the store checks, the null sink's HTTP application and the answers' parsing."""

from __future__ import annotations

import asyncio
from pathlib import Path

import duckdb
import httpx
import orjson
import pytest
from bench import null_sink
from bench.load import _response_outcome
from bench.payloads import (
    SIGNALS,
    LogsPayloadFactory,
    MetricsPayloadFactory,
    PayloadFactory,
    Signal,
    factory_for,
)
from bench.verify import check_count, check_requests, check_store
from opentelemetry.proto.collector.logs.v1.logs_service_pb2 import ExportLogsServiceResponse
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from obsvty.adapters.otlp.codec import CODECS, LOGS, METRICS, TRACES
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.domain.model import Signal as ObsvtySignal

pytestmark = pytest.mark.unit


def _spans(body: bytes) -> list:  # type: ignore[type-arg]
    request = ExportTraceServiceRequest.FromString(body)
    return [s for rs in request.resource_spans for ss in rs.scope_spans for s in ss.spans]


def test_payload_factory_request_body_carries_the_announced_span_ids() -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=100)

    # Act
    spans = _spans(factory.payload(41))

    # Assert
    assert [s.span_id.hex() for s in spans] == factory.span_ids(41)
    assert len(spans) == 100


def test_payload_factory_different_requests_have_disjoint_ids() -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=50)

    # Act
    bodies = [factory.payload(n) for n in range(10)]

    # Assert
    span_ids = [s.span_id for body in bodies for s in _spans(body)]
    trace_ids = {s.trace_id for body in bodies for s in _spans(body)}
    assert len(set(span_ids)) == 500
    assert len(trace_ids) == 10 * 5


def test_payload_factory_request_has_traces_with_parents_in_the_same_trace() -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=100)

    # Act
    spans = _spans(factory.payload(3))

    # Assert
    by_id = {s.span_id: s for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    children = [s for s in spans if s.parent_span_id]
    assert len(roots) == 10
    assert all(by_id[c.parent_span_id].trace_id == c.trace_id for c in children)
    assert all(len(s.attributes) >= 10 for s in spans)
    assert sum(1 for s in spans if s.events) == 25


def test_payload_factory_zero_spans_is_refused() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="positive"):
        PayloadFactory(spans_per_request=0)


def _store_with(path: Path, factory: PayloadFactory, requests: list[int]) -> Path:
    store = DuckDBStore(path)
    for number in requests:
        body = factory.payload(number)
        store.write([TRACES.to_domain(TRACES.parse_protobuf(body)).batch])
    store.close()
    return path


def test_check_store_missing_and_duplicate_spans_are_counted(tmp_path: Path) -> None:
    # Arrange: request 0 stored with one row twice, request 1 stored unacknowledged, 2 lost
    factory = PayloadFactory(spans_per_request=2)
    db = _store_with(tmp_path / "s.duckdb", factory, [0, 1])
    with duckdb.connect(str(db)) as con:
        twice = factory.span_ids(0)[0]
        con.execute("INSERT INTO spans SELECT * FROM spans WHERE span_id = ?", [twice])

    # Act
    check = check_store(db, {*factory.span_ids(0), *factory.span_ids(2)})

    # Assert
    assert (check.acknowledged, check.stored_rows) == (4, 5)
    assert (check.missing, check.duplicates, check.unacknowledged_stored) == (2, 1, 2)
    assert not check.ok


def test_check_store_every_span_once_is_ok(tmp_path: Path) -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=3)
    db = _store_with(tmp_path / "s.duckdb", factory, [0, 1])

    # Act
    check = check_store(db, {*factory.span_ids(0), *factory.span_ids(1)})

    # Assert
    assert check.ok
    assert check.stored_rows == 6
    assert check.missing == check.duplicates == check.unacknowledged_stored == 0


def test_check_requests_missing_duplicate_and_unacknowledged_spans_are_counted(
    tmp_path: Path,
) -> None:
    # Arrange: request 0 stored with one row twice, request 1 stored unacknowledged, 2 lost
    factory = PayloadFactory(spans_per_request=2)
    db = _store_with(tmp_path / "s.duckdb", factory, [0, 1])
    with duckdb.connect(str(db)) as con:
        twice = factory.span_ids(0)[0]
        con.execute("INSERT INTO spans SELECT * FROM spans WHERE span_id = ?", [twice])

    # Act
    check = check_requests(db, [0, 2], factory.spans_per_request)

    # Assert: the same counts as check_store of the requests' span ids
    assert check == check_store(db, {*factory.span_ids(0), *factory.span_ids(2)})
    assert (check.acknowledged, check.stored_rows) == (4, 5)
    assert (check.missing, check.duplicates, check.unacknowledged_stored) == (2, 1, 2)


def test_check_requests_every_span_of_high_numbered_requests_once_is_ok(tmp_path: Path) -> None:
    # Arrange: numbers past 16 bits, so the id's hex digits of both halves matter
    factory = PayloadFactory(spans_per_request=3)
    numbers = [70_000, 1_000_001]
    db = _store_with(tmp_path / "s.duckdb", factory, numbers)

    # Act
    check = check_requests(db, numbers, factory.spans_per_request)

    # Assert
    assert check.ok
    assert (check.acknowledged, check.stored_rows, check.unacknowledged_stored) == (6, 6, 0)


def test_payload_factory_span_times_follow_the_clock() -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=20)
    now = 1_800_000_000_000_000_000
    later = now + 3600 * 10**9

    # Act
    early_spans = _spans(factory.payload(0, now_ns=now))
    late_spans = _spans(factory.payload(1, now_ns=later))

    # Assert
    for spans, clock in ((early_spans, now), (late_spans, later)):
        assert all(
            clock - 10 * 10**9 < s.start_time_unix_nano <= s.end_time_unix_nano for s in spans
        )
        assert all(s.end_time_unix_nano <= clock for s in spans)
        assert all(e.time_unix_nano >= s.start_time_unix_nano for s in spans for e in s.events)


_NOW = 1_800_000_000_000_000_000


def _points(body: bytes) -> list:  # type: ignore[type-arg]
    request = METRICS.parse_protobuf(body)
    points = []
    for rm in request.resource_metrics:
        for sm in rm.scope_metrics:
            for metric in sm.metrics:
                data = getattr(metric, metric.WhichOneof("data"))
                points.extend((p, metric.WhichOneof("data")) for p in data.data_points)
    return points


@pytest.mark.parametrize("signal", SIGNALS)
@pytest.mark.parametrize("encoding", ["protobuf", "json"])
def test_factory_every_item_is_accepted_by_obsvty(signal: Signal, encoding: str) -> None:
    # Arrange
    factory = factory_for(signal, 100)
    codec = CODECS[ObsvtySignal(signal)]

    # Act
    body = factory.payload(5) if encoding == "protobuf" else factory.json_payload(5)
    message = codec.parse_protobuf(body) if encoding == "protobuf" else codec.parse_json(body)
    decoded = codec.to_domain(message)

    # Assert
    assert len(decoded.batch) == 100
    assert decoded.rejected == 0


@pytest.mark.parametrize("signal", SIGNALS)
def test_factory_json_body_is_the_protobuf_request(signal: Signal) -> None:
    # Arrange
    factory = factory_for(signal, 30)
    codec = CODECS[ObsvtySignal(signal)]

    # Act
    from_json = codec.parse_json(factory.json_payload(9, now_ns=_NOW))
    from_protobuf = factory.request_class.FromString(factory.payload(9, now_ns=_NOW))

    # Assert
    assert from_json == from_protobuf


def test_factory_json_body_is_otlp_json() -> None:
    # Arrange
    factory = PayloadFactory(spans_per_request=10)

    # Act
    doc = orjson.loads(factory.json_payload(3, now_ns=_NOW))

    # Assert: camelCase, hex ids, 64-bit integers as strings, enums as numbers
    span = doc["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    assert span["spanId"] == factory.span_ids(3)[0]
    assert len(span["traceId"]) == 32
    assert isinstance(span["startTimeUnixNano"], str)
    assert span["kind"] == 2


def test_logs_factory_records_have_times_ids_and_typed_attributes() -> None:
    # Arrange
    factory = LogsPayloadFactory(100)

    # Act
    bodies = [factory.payload(n, now_ns=_NOW) for n in range(3)]

    # Assert
    records = [
        r
        for body in bodies
        for rl in LOGS.parse_protobuf(body).resource_logs
        for sl in rl.scope_logs
        for r in sl.log_records
    ]
    assert len(records) == 300
    span_ids = [r.span_id for r in records if r.span_id]
    assert len(span_ids) == len(set(span_ids)) == 3 * 67
    assert all(_NOW - 10 * 10**9 < r.time_unix_nano <= r.observed_time_unix_nano for r in records)
    assert all(r.observed_time_unix_nano <= _NOW for r in records)
    assert sum(1 for r in records if r.body.HasField("kvlist_value")) == 30
    kinds = {r.attributes[i].value.WhichOneof("value") for r in records for i in range(7)}
    assert kinds == {"string_value", "int_value", "double_value", "bool_value"}


def test_metrics_factory_points_of_every_kind_in_the_clock_window() -> None:
    # Arrange
    factory = MetricsPayloadFactory(100)

    # Act
    points = _points(factory.payload(2, now_ns=_NOW))

    # Assert
    assert len(points) == 100
    assert {kind for _, kind in points} == {"histogram", "exponential_histogram", "sum", "gauge"}
    assert all(_NOW - 10 * 10**9 < p.time_unix_nano <= _NOW for p, _ in points)
    assert all(p.start_time_unix_nano <= p.time_unix_nano for p, _ in points)
    assert all(len(p.attributes) >= 2 for p, _ in points)
    histograms = [p for p, kind in points if kind == "histogram"]
    assert all(len(p.exemplars) == 1 and len(p.exemplars[0].span_id) == 8 for p in histograms)


def test_factory_zero_items_is_refused() -> None:
    # Act / Assert
    with pytest.raises(ValueError, match="positive"):
        LogsPayloadFactory(0)


def _store_logs(path: Path, factory: LogsPayloadFactory, requests: int) -> Path:
    store = DuckDBStore(path)
    for number in range(requests):
        store.write([LOGS.to_domain(LOGS.parse_protobuf(factory.payload(number))).batch])
    store.close()
    return path


def test_check_count_equal_rows_are_ok(tmp_path: Path) -> None:
    # Arrange
    db = _store_logs(tmp_path / "l.duckdb", LogsPayloadFactory(5), 3)

    # Act
    check = check_count(db, "logs", acknowledged=15)

    # Assert
    assert check.ok
    assert (check.stored_rows, check.missing, check.duplicates) == (15, 0, 0)


@pytest.mark.parametrize(
    ("acknowledged", "unsure", "expected"),
    [
        (20, 0, (5, 0, 0)),  # (missing, duplicates, unacknowledged stored)
        (10, 0, (0, 5, 0)),
        (10, 5, (0, 0, 5)),
        (5, 5, (0, 5, 5)),
    ],
)
def test_check_count_missing_surplus_and_unsure_rows(
    tmp_path: Path, acknowledged: int, unsure: int, expected: tuple[int, int, int]
) -> None:
    # Arrange: 15 rows stored
    db = _store_logs(tmp_path / "l.duckdb", LogsPayloadFactory(5), 3)

    # Act
    check = check_count(db, "logs", acknowledged, unsure)

    # Assert
    assert (check.missing, check.duplicates, check.unacknowledged_stored) == expected
    assert check.ok is (expected[:2] == (0, 0))


def test_response_outcome_reads_partial_success_in_either_encoding() -> None:
    # Arrange
    protobuf = ExportLogsServiceResponse()
    protobuf.partial_success.rejected_log_records = 3

    # Act
    from_protobuf = _response_outcome(protobuf.SerializeToString(), "logs", "protobuf")
    from_json = _response_outcome(
        b'{"partialSuccess":{"rejectedDataPoints":"4"}}', "metrics", "json"
    )
    empty = _response_outcome(b"{}", "traces", "json")

    # Assert
    assert (from_protobuf.rejected_items, from_json.rejected_items) == (3, 4)
    assert empty.rejected_items == 0
    assert empty.error is None


def _post(path: str, *bodies: tuple[str, bytes]) -> list[httpx.Response]:
    """POST each (content type, body) to the null sink's HTTP application, in process."""

    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=null_sink.create_app())
        async with httpx.AsyncClient(transport=transport, base_url="http://sink") as client:
            return [
                await client.post(path, content=body, headers={"Content-Type": content_type})
                for content_type, body in bodies
            ]

    return asyncio.run(run())


@pytest.mark.parametrize("signal", SIGNALS)
def test_null_sink_http_answers_success_after_parsing(signal: Signal) -> None:
    # Arrange
    factory = factory_for(signal, 10)

    # Act
    protobuf, json = _post(
        f"/v1/{signal}",
        ("application/x-protobuf", factory.payload(0)),
        ("application/json", factory.json_payload(1)),
    )

    # Assert
    assert (protobuf.status_code, protobuf.content) == (200, b"")
    assert protobuf.headers["content-type"] == "application/x-protobuf"
    assert (json.status_code, json.json()) == (200, {})


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/x-protobuf", b"\xff\xff\xff", 400),
        ("application/json", b"{not json", 400),
        ("text/plain", b"hello", 415),
    ],
)
def test_null_sink_http_refuses_what_it_cannot_parse(
    content_type: str, body: bytes, status: int
) -> None:
    # Act
    (response,) = _post("/v1/traces", (content_type, body))

    # Assert
    assert response.status_code == status
