"""The contract of the store port (``TelemetryStorePort.write``), run against every store.

A store factory opens a fresh store in ``tmp_path`` (with the test's request, to reach session
fixtures such as ``mongodb_uri``) and yields a :class:`StoreUnderTest`:

- ``store``: the store, written through the port only;
- ``read_back(signal)``: every item the store holds for that signal, as a columnar batch of the
  domain types (how it reads is the store's business: DuckDB reads its tables);
- ``unstorable()``: a batch this store must refuse with ``StoreError`` (to check atomicity), or
  ``None`` when the store can store any valid batch.

Items are compared with ``batch_rows`` (every field, in any order). To add a store, write a
factory and append it to ``STORE_FACTORIES``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from obsvty.adapters.otlp import native
from obsvty.adapters.storage.duckdb.store import DuckDBStore
from obsvty.adapters.storage.mongodb.query_documents import (
    log_from_document,
    metric_point_from_document,
    span_from_document,
)
from obsvty.adapters.storage.mongodb.store import MongoDBStore, MongoSettings
from obsvty.domain.batches import Batch, LogBatch, MetricBatch, MetricDescriptor, SpanBatch
from obsvty.domain.model import (
    Exemplar,
    InstrumentationScope,
    Resource,
    Signal,
    SpanEvent,
    SpanLink,
)
from obsvty.ports.store import StoreError, TelemetryStorePort
from tests.support.duckdb_rows import rows
from tests.support.mongodb import scratch_database
from tests.support.native_batches import NativePathStore, native_batch
from tests.support.records import batch_rows, log_batch, metric_batch, span_batch
from tests.support.telemetry_dataset import LOGS, POINTS, SPANS

pytestmark = pytest.mark.integration


@dataclass
class StoreUnderTest:
    store: TelemetryStorePort
    read_back: Callable[[Signal], Batch]
    unstorable: Callable[[], Batch | None]


StoreFactory = Callable[[Path, pytest.FixtureRequest], AbstractContextManager[StoreUnderTest]]


# --- DuckDB: read the tables back into batches


def _resource(row: dict[str, Any]) -> Resource:
    return Resource(
        row["resource_attributes"],
        row["resource_dropped_attributes_count"],
        row["resource_schema_url"],
    )


def _scope(row: dict[str, Any]) -> InstrumentationScope:
    return InstrumentationScope(
        row["scope_name"],
        row["scope_version"],
        row["scope_attributes"],
        row["scope_dropped_attributes_count"],
        row["scope_schema_url"],
    )


def _id(hex_id: str) -> bytes:
    return bytes.fromhex(hex_id)


def _duckdb_spans(table: list[dict[str, Any]]) -> SpanBatch:
    b = SpanBatch()
    for r in table:
        for name in ("trace_state", "flags", "name", "kind", "start_time_unix_nano"):
            getattr(b, name).append(r[name])
        for name in ("end_time_unix_nano", "attributes", "dropped_attributes_count"):
            getattr(b, name).append(r[name])
        for name in (
            "dropped_events_count",
            "dropped_links_count",
            "status_code",
            "status_message",
        ):
            getattr(b, name).append(r[name])
        b.trace_id.append(_id(r["trace_id"]))
        b.span_id.append(_id(r["span_id"]))
        b.parent_span_id.append(_id(r["parent_span_id"]))
        b.events.append([SpanEvent(**e) for e in r["events"]])
        b.links.append(
            [
                SpanLink(
                    **{**link, "trace_id": _id(link["trace_id"]), "span_id": _id(link["span_id"])}
                )
                for link in r["links"]
            ]
        )
        b.resource.append(_resource(r))
        b.scope.append(_scope(r))
    return b


def _duckdb_logs(table: list[dict[str, Any]]) -> LogBatch:
    b = LogBatch()
    for r in table:
        for name in (
            "time_unix_nano",
            "observed_time_unix_nano",
            "severity_number",
            "severity_text",
        ):
            getattr(b, name).append(r[name])
        for name in ("body", "attributes", "dropped_attributes_count", "flags", "event_name"):
            getattr(b, name).append(r[name])
        b.trace_id.append(_id(r["trace_id"]))
        b.span_id.append(_id(r["span_id"]))
        b.resource.append(_resource(r))
        b.scope.append(_scope(r))
    return b


_POINT_COLUMNS = (
    "start_time_unix_nano",
    "time_unix_nano",
    "attributes",
    "flags",
    "value_int",
    "value_double",
    "count",
    "sum",
    "min",
    "max",
    "bucket_counts",
    "explicit_bounds",
    "scale",
    "zero_count",
    "zero_threshold",
    "positive_offset",
    "positive_bucket_counts",
    "negative_offset",
    "negative_bucket_counts",
)


def _duckdb_points(table: list[dict[str, Any]]) -> MetricBatch:
    b = MetricBatch()
    for r in table:
        b.metric.append(
            MetricDescriptor(
                r["metric_name"],
                r["metric_description"],
                r["metric_unit"],
                r["metric_type"],
                r["aggregation_temporality"],
                r["is_monotonic"],
                r["metric_metadata"],
            )
        )
        for name in _POINT_COLUMNS:
            getattr(b, name).append(r[name])
        b.exemplars.append(
            [
                Exemplar(**{**e, "trace_id": _id(e["trace_id"]), "span_id": _id(e["span_id"])})
                for e in r["exemplars"]
            ]
        )
        b.quantile_values.append([(q["quantile"], q["value"]) for q in r["quantile_values"]])
        b.resource.append(_resource(r))
        b.scope.append(_scope(r))
    return b


_DUCKDB_TABLES: dict[Signal, tuple[str, Callable[[list[dict[str, Any]]], Batch]]] = {
    Signal.TRACES: ("spans", _duckdb_spans),
    Signal.LOGS: ("logs", _duckdb_logs),
    Signal.METRICS: ("metric_points", _duckdb_points),
}


@contextmanager
def duckdb_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreUnderTest]:
    with _duckdb_store_under_test(DuckDBStore(tmp_path / "contract.duckdb", threads=1)) as sut:
        yield sut


@contextmanager
def _duckdb_store_under_test(
    store: DuckDBStore,
) -> Iterator[StoreUnderTest]:
    def read_back(signal: Signal) -> Batch:
        table, to_batch = _DUCKDB_TABLES[signal]
        return to_batch(rows(store.cursor(), table))

    def unstorable() -> Batch:
        batch = span_batch(SPANS[:1])
        batch.kind[0] = 300  # beyond the UTINYINT column: the conversion must fail
        return batch

    try:
        yield StoreUnderTest(store, read_back, unstorable)
    finally:
        store.close()


# --- MongoDB: read the documents back through the query adapter's decoders

_MONGODB_COLLECTIONS: dict[Signal, tuple[str, Callable[[list[Any]], Batch]]] = {
    Signal.TRACES: ("spans", lambda d: span_batch([span_from_document(x) for x in d])),
    Signal.LOGS: ("logs", lambda d: log_batch([log_from_document(x) for x in d])),
    Signal.METRICS: (
        "metric_points",
        lambda d: metric_batch([metric_point_from_document(x) for x in d]),
    ),
}


@contextmanager
def mongodb_store(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[StoreUnderTest]:
    """A database of its own on the session's MongoDB (secantusdb, or OBSVTY_TEST_MONGODB_URI)."""
    uri = request.getfixturevalue("mongodb_uri")
    with scratch_database(uri) as name:
        store = MongoDBStore(MongoSettings(uri, name, timeout_ms=5000, insert_batch_size=2))

        def read_back(signal: Signal) -> Batch:
            collection, to_batch = _MONGODB_COLLECTIONS[signal]
            return to_batch(list(store.db[collection].find()))

        def unstorable() -> Batch:
            batch = span_batch(SPANS)
            batch.trace_state[-1] = "\ud800"  # a lone surrogate: no BSON string can hold it
            return batch

        try:
            yield StoreUnderTest(store, read_back, unstorable)
        finally:
            store.close()


@contextmanager
def mongodb_native_store(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[StoreUnderTest]:
    """The MongoDB store fed as the receivers feed it: each batch through the compiled decoder's
    document form (tests.support.native_batches)."""
    if not native.AVAILABLE:
        pytest.skip("OBSVTY_NO_EXTENSIONS: no compiled decoder")
    with mongodb_store(tmp_path, request) as under_test:
        assert isinstance(under_test.store, MongoDBStore)

        def unstorable() -> Batch:
            # a nested map key holding NUL: valid OTLP, but no BSON key can hold it
            poison = replace(SPANS[-1], attributes={"map": {"nul\x00key": 1}})
            return native_batch(span_batch([*SPANS[:-1], poison]))

        yield StoreUnderTest(NativePathStore(under_test.store), under_test.read_back, unstorable)


STORE_FACTORIES: list[StoreFactory] = [
    duckdb_store,
    mongodb_store,
    mongodb_native_store,
]


@pytest.fixture(params=STORE_FACTORIES, ids=lambda factory: factory.__name__)
def under_test(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StoreUnderTest]:
    with request.param(tmp_path, request) as store_under_test:
        yield store_under_test


# --- the contract


def test_store_write_every_signal_reads_back_field_by_field(under_test: StoreUnderTest) -> None:
    # Arrange
    written = {
        Signal.TRACES: span_batch(SPANS),
        Signal.LOGS: log_batch(LOGS),
        Signal.METRICS: metric_batch(POINTS),
    }

    # Act
    under_test.store.write(list(written.values()))

    # Assert
    for signal, batch in written.items():
        assert batch_rows(under_test.read_back(signal)) == batch_rows(batch)


def test_store_write_several_batches_of_one_signal_keeps_them_all(
    under_test: StoreUnderTest,
) -> None:
    # Arrange
    first, second = log_batch(LOGS[:2]), log_batch(LOGS[2:])

    # Act
    under_test.store.write([first])
    under_test.store.write([second, LogBatch()])

    # Assert
    assert batch_rows(under_test.read_back(Signal.LOGS)) == batch_rows(log_batch(LOGS))


def test_store_write_a_span_sent_again_keeps_one_per_trace_and_span_id(
    under_test: StoreUnderTest,
) -> None:
    # Arrange: a span twice in one write and once more later (a re-sent request), and another
    # trace's span that happens to carry the same span id
    span = SPANS[0]
    namesake = replace(span, trace_id=bytes(reversed(span.trace_id)))

    # Act
    under_test.store.write([span_batch([span, namesake, span])])
    under_test.store.write([span_batch([span])])

    # Assert
    assert batch_rows(under_test.read_back(Signal.TRACES)) == batch_rows(
        span_batch([span, namesake])
    )


def test_store_write_nothing_or_empty_batches_stores_nothing(under_test: StoreUnderTest) -> None:
    # Act
    under_test.store.write([])
    under_test.store.write([SpanBatch(), LogBatch(), MetricBatch()])

    # Assert
    for signal in Signal:
        assert len(under_test.read_back(signal)) == 0


def test_store_write_failing_part_stores_nothing_of_that_write(under_test: StoreUnderTest) -> None:
    # Arrange
    poison = under_test.unstorable()
    if poison is None:
        pytest.skip("this store can store any valid batch")
    under_test.store.write([log_batch(LOGS[:1])])

    # Act
    with pytest.raises(StoreError):
        under_test.store.write([log_batch(LOGS[1:]), metric_batch(POINTS), poison])

    # Assert: the earlier write is intact, nothing of the failed one is there
    assert batch_rows(under_test.read_back(Signal.LOGS)) == batch_rows(log_batch(LOGS[:1]))
    assert len(under_test.read_back(Signal.METRICS)) == 0
    assert len(under_test.read_back(Signal.TRACES)) == 0


def test_store_write_after_a_failed_write_succeeds(under_test: StoreUnderTest) -> None:
    # Arrange
    poison = under_test.unstorable()
    if poison is None:
        pytest.skip("this store can store any valid batch")
    with pytest.raises(StoreError):
        under_test.store.write([poison])

    # Act
    under_test.store.write([span_batch(SPANS)])

    # Assert
    assert batch_rows(under_test.read_back(Signal.TRACES)) == batch_rows(span_batch(SPANS))


def test_store_write_uint64_counts_beyond_int64_read_back_exactly(
    under_test: StoreUnderTest,
) -> None:
    # Arrange: OTLP counts are uint64; the largest, the first beyond int64, and the last inside it
    biggest, first_beyond, last_inside = 2**64 - 1, 2**63, 2**63 - 1
    histogram, exponential, summary = POINTS[5], POINTS[6], POINTS[7]
    points = [
        replace(histogram, count=biggest, bucket_counts=(last_inside, first_beyond, 0)),
        replace(
            exponential,
            count=biggest,
            zero_count=biggest,
            positive_bucket_counts=(biggest, 1),
            negative_bucket_counts=(first_beyond,),
        ),
        replace(summary, count=first_beyond),
    ]

    # Act
    under_test.store.write([metric_batch(points)])

    # Assert: every field, the counts as the very same integers
    read = under_test.read_back(Signal.METRICS)
    assert batch_rows(read) == batch_rows(metric_batch(points))
    assert sorted(c for c in read.count if c is not None) == [first_beyond, biggest, biggest]
