"""The benchmark's own logic: request bodies with unique ids, and the store check."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from bench.payloads import PayloadFactory
from bench.verify import check_store
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from obsvty.adapters.otlp.codec import TRACES
from obsvty.adapters.storage.duckdb_store import DuckDBStore

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
